import { describe, expect, it } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';
import { checkPolicies, type PolicyCatalog } from '../../compiler/auth/cedar-check.ts';
import { createLocator } from '../../compiler/config/locate.ts';
import type { Diagnostic } from '../../compiler/diagnostics.ts';

const CATALOG: PolicyCatalog = {
  tools: ['gh_list_issues', 'gh_create_issue', 'fetch'],
  prompts: ['greeting'],
  resources: ['file:///data/config.json'],
  resourceTemplates: ['file:///logs/{date}'],
};

// Lines 1-6; the policy entries start on line 7, indented by 6 spaces.
const HEAD = 'name: gw\nincomingAuth:\n  type: oidc\n  authz:\n    type: cedar\n    policies:\n';

/** One diagnostic as wanted: code, start and end (1-based), and the text found at the start. */
interface Want {
  code: Diagnostic['code'];
  at: [line: number, column: number, endLine: number, endColumn: number];
  /** The config text at `at`, a cross-check that the numbers point where they should. */
  text: string;
  message?: RegExp;
  hint?: RegExp;
}

interface Case {
  name: string;
  /** YAML lines of the `policies:` list (and anything after it, such as `entitiesJson:`). */
  given: string;
  want: Want[];
}

function run(yaml: string, withSource: boolean): { diagnostics: Diagnostic[]; text: string } {
  const text = HEAD + yaml;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  expect(doc.errors).toEqual([]);
  const authz = (doc.toJS() as { incomingAuth: { authz: { policies: string[]; entitiesJson?: string } } }).incomingAuth
    .authz;
  const diagnostics = checkPolicies({
    file: 'vmcp.yaml',
    locator: createLocator(doc, lineCounter),
    policies: authz.policies,
    entitiesJson: authz.entitiesJson ?? '[]',
    catalog: CATALOG,
    ...(withSource ? { source: text } : {}),
  });
  return { diagnostics, text };
}

const textAt = (text: string, line: number, column: number, length: number) =>
  text.split('\n')[line - 1].slice(column - 1, column - 1 + length);

const CASES: Case[] = [
  {
    name: 'a valid set in every scalar style gives no diagnostics',
    given: [
      '      - |',
      '        permit(principal in THVGroup::"eng", action == Action::"call_tool", resource == Tool::"gh_list_issues");',
      `      - 'permit(principal, action in [Action::"call_tool", Action::"get_prompt"], resource) when { resource in [Tool::"fetch", Prompt::"greeting"] };'`,
      '      - "forbid(principal, action, resource is Tool) unless { principal.claim_role == \\"admin\\" };"',
      '      - permit(principal, action == Action::"read_resource", resource) when { resource == Resource::"file:///logs/2024-01-01" || resource == Resource::"file:///data/config.json" };',
      '      - >-',
      '        permit(principal == Client::"alice", action,',
      '        resource);',
    ].join('\n'),
    want: [],
  },
  {
    name: 'block scalar: an unknown tool, pointed at inside the policy, with a did-you-mean hint',
    given: [
      '      - |',
      '        permit(principal, action == Action::"call_tool",',
      '          resource == Tool::"gh_list_isues");',
    ].join('\n'),
    want: [
      {
        code: 'POLICY_UNKNOWN_ENTITY',
        at: [9, 23, 9, 44],
        text: 'Tool::"gh_list_isues"',
        message: /^policy 0 names Tool::"gh_list_isues", which the gateway does not expose$/,
        hint: /did you mean "gh_list_issues"\?/,
      },
    ],
  },
  {
    name: 'single-quoted: an unknown prompt',
    given: `      - 'permit(principal, action == Action::"get_prompt", resource == Prompt::"greting");'`,
    want: [
      {
        code: 'POLICY_UNKNOWN_ENTITY',
        at: [7, 72, 7, 89],
        text: 'Prompt::"greting"',
        hint: /did you mean "greeting"\?/,
      },
    ],
  },
  {
    name: 'double-quoted with escaped quotes: an unknown action inside `in [...]`',
    given: '      - "permit(principal, action in [Action::\\"call_tool\\", Action::\\"list_tools\\"], resource);"',
    want: [
      {
        code: 'POLICY_UNKNOWN_ENTITY',
        at: [7, 62, 7, 84],
        text: 'Action::\\"list_tools\\"',
        message: /not an action vmcp authorizes \(call_tool, get_prompt, read_resource\)/,
        hint: /no list action.*ToolHive would load this policy and it would never match/,
      },
    ],
  },
  {
    name: 'plain scalar: `resource is` with a type no resource has',
    given: '      - permit(principal, action, resource is Tol);',
    want: [
      {
        code: 'POLICY_UNKNOWN_ENTITY',
        at: [7, 47, 7, 50],
        text: 'Tol',
        message: /tests resource is Tol/,
        hint: /did you mean Tool\?/,
      },
    ],
  },
  {
    name: 'entity literals in when/unless conditions and `in [...]` sets, each at its own place',
    given: [
      '      - |',
      '        permit(principal, action, resource)',
      '        when { resource in [Tool::"fetch", Tool::"fetchh", Prompt::"greeting"] }',
      '        unless { resource == Resource::"file:///etc/passwd" };',
    ].join('\n'),
    want: [
      { code: 'POLICY_UNKNOWN_ENTITY', at: [9, 44, 9, 58], text: 'Tool::"fetchh"', hint: /did you mean "fetch"\?/ },
      {
        code: 'POLICY_UNKNOWN_ENTITY',
        at: [10, 30, 10, 60],
        text: 'Resource::"file:///etc/passwd"',
        message: /matches no resource or resource template/,
      },
    ],
  },
  {
    name: 'a ToolHive-style sanitized resource id gets the URI vmcp expects as the hint',
    given: '      - permit(principal, action, resource == Resource::"file____data_config_json");',
    want: [
      {
        code: 'POLICY_UNKNOWN_ENTITY',
        at: [7, 47, 7, 83],
        text: 'Resource::"file____data_config_json"',
        hint: /Resource::"file:\/\/\/data\/config.json"/,
      },
    ],
  },
  {
    name: 'the same unknown literal twice: two diagnostics, one per place',
    given: '      - permit(principal, action, resource) when { resource == Tool::"nope" || resource == Tool::"nope" };',
    want: [
      { code: 'POLICY_UNKNOWN_ENTITY', at: [7, 64, 7, 76], text: 'Tool::"nope"' },
      { code: 'POLICY_UNKNOWN_ENTITY', at: [7, 92, 7, 104], text: 'Tool::"nope"' },
    ],
  },
  {
    name: "a syntax error, at Cedar's location (after a non-ASCII comment: Cedar counts bytes)",
    given: [
      '      - |',
      '        // café ☕',
      '        permit(principal, action, resource) when { principal.x == "é" && foo };',
    ].join('\n'),
    want: [
      {
        code: 'POLICY_SYNTAX',
        at: [9, 74, 9, 77],
        text: 'foo',
        message: /^policy 0 does not parse: invalid variable: foo$/,
        hint: /valid Cedar variables/,
      },
    ],
  },
  {
    name: 'a misspelled effect in a double-quoted policy',
    given: '      - "permt(principal, action, resource == Tool::\\"fetch\\");"',
    want: [
      {
        code: 'POLICY_SYNTAX',
        at: [7, 10, 7, 15],
        text: 'permt',
        message: /invalid policy effect: permt/,
        hint: /permit` or `forbid/,
      },
    ],
  },
  {
    name: 'two policies in one string are a syntax error at the second',
    given: `      - 'permit(principal, action, resource == Tool::"fetch"); forbid(principal, action, resource);'`,
    want: [{ code: 'POLICY_SYNTAX', at: [7, 64, 7, 70], text: 'forbid', message: /unexpected token/ }],
  },
  {
    name: 'a block indented deeper than its `|` (4-space style)',
    given: ['      - |', '            permit(principal, action, resource == Tool::"zz");'].join('\n'),
    want: [{ code: 'POLICY_UNKNOWN_ENTITY', at: [8, 51, 8, 61], text: 'Tool::"zz"' }],
  },
  {
    name: 'an action group declared in entitiesJson may be named; a tool entity the gateway lacks may not',
    given: [
      '      - permit(principal, action in Action::"readonly", resource);',
      `    entitiesJson: '[{"uid": {"type": "Action", "id": "readonly"}, "attrs": {}, "parents": []}, {"uid": {"type": "Tool", "id": "wether"}, "attrs": {}, "parents": []}]'`,
    ].join('\n'),
    want: [
      {
        code: 'POLICY_UNKNOWN_ENTITY',
        at: [8, 127, 8, 135],
        text: '"wether"',
        message: /^entitiesJson\[1\] names Tool::"wether"/,
      },
    ],
  },
  {
    name: 'entitiesJson that is not JSON, at the offending character',
    given: [
      '      - permit(principal, action, resource);',
      `    entitiesJson: '[{"uid": {"type": "Tool" "id": "fetch"}}]'`,
    ].join('\n'),
    want: [{ code: 'POLICY_SYNTAX', at: [8, 45, 8, 46], text: '"', message: /^entitiesJson is not valid JSON/ }],
  },
];

describe('checkPolicies: Cedar policies against the compiled catalog', () => {
  it.each(CASES)('$name', (c) => {
    const { diagnostics, text } = run(c.given, true);
    const got = diagnostics.map((d) => ({
      code: d.code,
      at: [d.line, d.column, d.endLine, d.endColumn],
      text: textAt(text, d.line, d.column, (d.endColumn ?? d.column) - d.column),
    }));
    expect(got).toEqual(c.want.map((w) => ({ code: w.code, at: w.at, text: w.text })));
    c.want.forEach((w, i) => {
      expect(diagnostics[i]).toMatchObject({ severity: 'error', file: 'vmcp.yaml' });
      if (w.message) expect(diagnostics[i].message).toMatch(w.message);
      if (w.hint) expect(diagnostics[i].hint).toMatch(w.hint);
    });
  });

  it('without the YAML text, guesses exactly for the usual layouts: `- |` blocks and one-line quoted or plain values', () => {
    const usual = CASES.filter((c) => !c.name.includes('4-space') && !c.name.includes('not JSON'));
    for (const c of usual) expect(run(c.given, false).diagnostics, c.name).toEqual(run(c.given, true).diagnostics);
    // A block indented deeper than its `|` is where the guess is off (by the extra indentation).
    const deep = CASES.find((c) => c.name.includes('4-space'))!;
    expect(run(deep.given, false).diagnostics[0]).toMatchObject({ line: 8, column: 47 });
  });

  it('reports nothing when there are no policies and no entities', () => {
    expect(run('      []\n', true).diagnostics).toEqual([]);
  });
});
