import type { DiagnosticCode, Severity } from '../../compiler/diagnostics.ts';
import type { FakeBackend } from './compile-helpers.ts';

/** A diagnostic the case must produce; `at` is a needle in the config text, `|` marks the column. */
export interface WantDiagnostic {
  code: DiagnosticCode;
  severity: Severity;
  at: string;
  message?: string;
}

/** What the routing tables must hold. Maps are exact: anything extra is a failure. */
export interface WantRouting {
  /** exposed name → "backend/original" */
  tools?: Record<string, string>;
  /** Exact served definitions of some exposed tools. */
  toolDefs?: Record<string, Record<string, unknown>>;
  prompts?: Record<string, string>;
  /** URI → backend */
  resources?: Record<string, string>;
  /** URI template → backend, and sample URIs its pattern must match and reject. */
  templates?: Record<string, { backend: string; match: string[]; reject: string[] }>;
  /** Every diagnostic of the compile, in output order. An error means no tables. */
  diagnostics?: WantDiagnostic[];
}

/** One routing case: backends with pinned catalogs, the config text after them, and the want. */
export interface RoutingCase {
  name: string;
  backends: Record<string, FakeBackend>;
  /** Top-level YAML appended after `backends:` (see fakeConfig). */
  yaml?: string;
  want: WantRouting;
}

const tool = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  description: `${name} tool`,
  inputSchema: { type: 'object' },
  ...extra,
});

/** The one table of routing cases, run against the resolver and the bundled router. */
export const ROUTING_CASES: RoutingCase[] = [
  {
    name: 'prefix (default {workload}_) renames every tool and prompt',
    backends: { a: { tools: ['search', 'x'], prompts: ['greet'] }, b: { tools: ['search'], prompts: ['greet'] } },
    want: {
      tools: { a_search: 'a/search', a_x: 'a/x', b_search: 'b/search' },
      prompts: { a_greet: 'a/greet', b_greet: 'b/greet' },
    },
  },
  {
    name: 'prefix with a custom prefixFormat',
    backends: { a: { tools: ['search'] }, b: { tools: ['search'] } },
    yaml: 'aggregation:\n  conflictResolutionConfig:\n    prefixFormat: "{workload}."\n',
    want: {
      tools: { 'a.search': 'a/search', 'b.search': 'b/search' },
      toolDefs: { 'a.search': tool('a.search', { description: 'search tool' }) },
    },
  },
  {
    name: 'priority: the first in priorityOrder wins, losers dropped with a warning, unique names kept',
    backends: {
      a: { tools: ['search', 'only_a'], prompts: ['greet'] },
      b: { tools: ['search', 'only_b'], prompts: ['greet'] },
    },
    yaml: 'aggregation:\n  conflictResolution: priority\n  conflictResolutionConfig:\n    priorityOrder: [b, a]\n',
    want: {
      tools: { search: 'b/search', only_a: 'a/only_a', only_b: 'b/only_b' },
      prompts: { greet: 'b/greet' },
      diagnostics: [
        {
          code: 'PRIORITY_DROPPED',
          severity: 'warning',
          at: 'priorityOrder: |[b, a]',
          message: 'prompt "greet" of backend "a" is hidden',
        },
        {
          code: 'PRIORITY_DROPPED',
          severity: 'warning',
          at: 'priorityOrder: |[b, a]',
          message: 'tool "search" of backend "a" is hidden: "b" has priority',
        },
      ],
    },
  },
  {
    name: 'priority: a conflict between unranked backends keeps all, with the default {workload}_ prefix',
    backends: { a: { tools: ['t'] }, b: { tools: ['search', 'only_b'] }, c: { tools: ['search'] } },
    yaml: 'aggregation:\n  conflictResolution: priority\n  conflictResolutionConfig:\n    prefixFormat: "{workload}."\n    priorityOrder: [a]\n',
    want: {
      tools: { t: 'a/t', b_search: 'b/search', c_search: 'c/search', only_b: 'b/only_b' },
      toolDefs: { b_search: tool('b_search', { description: 'search tool' }) },
      diagnostics: [
        { code: 'BAD_VALUE', severity: 'warning', at: 'priorityOrder: |[a]', message: 'does not rank "b", "c"' },
        {
          code: 'PRIORITY_UNRANKED',
          severity: 'warning',
          at: 'priorityOrder: |[a]',
          message:
            'tool "search" is offered by "b" and "c", none of them in priorityOrder, so each is kept with the default {workload}_ prefix: b_search and c_search',
        },
      ],
    },
  },
  {
    name: 'priority: a ranked backend beats unranked ones; prompts of unranked backends are prefixed with prefixFormat',
    backends: {
      a: { tools: ['search'], prompts: ['greet'] },
      b: { tools: ['search', 'only_b'], prompts: ['greet', 'solo'] },
    },
    yaml: 'aggregation:\n  conflictResolution: priority\n  conflictResolutionConfig:\n    prefixFormat: "{workload}."\n    priorityOrder: [a]\n',
    want: {
      tools: { search: 'a/search', only_b: 'b/only_b' },
      prompts: { greet: 'a/greet', 'b.greet': 'b/greet', 'b.solo': 'b/solo' },
      diagnostics: [
        { code: 'BAD_VALUE', severity: 'warning', at: 'priorityOrder: |[a]', message: 'does not rank "b"' },
        {
          code: 'PRIORITY_DROPPED',
          severity: 'warning',
          at: 'priorityOrder: |[a]',
          message: 'tool "search" of backend "b" is hidden: "a" has priority',
        },
      ],
    },
  },
  {
    name: "priority: an unranked backend's prefixed prompt equal to a ranked bare name is dropped with it",
    backends: { a: { prompts: ['b_greet', 'hello'] }, b: { prompts: ['greet'] } },
    yaml: 'aggregation:\n  conflictResolution: priority\n  conflictResolutionConfig:\n    priorityOrder: [a]\n',
    want: {
      prompts: { hello: 'a/hello' },
      diagnostics: [
        {
          code: 'PROMPT_DROPPED',
          severity: 'warning',
          at: '- |name: b',
          message: 'prompt name "b_greet" is claimed by a/b_greet, b/greet, so none of them is advertised',
        },
        { code: 'BAD_VALUE', severity: 'warning', at: 'priorityOrder: |[a]', message: 'does not rank "b"' },
      ],
    },
  },
  {
    name: 'priority: unranked backends with the same tool, where the fallback name collides, is an error',
    backends: { a: { tools: ['t'] }, b: { tools: ['x'] }, c: { tools: ['x', 'b_x'] } },
    yaml: 'aggregation:\n  conflictResolution: priority\n  conflictResolutionConfig:\n    priorityOrder: [a]\n',
    want: {
      diagnostics: [
        {
          code: 'NAME_CONFLICT',
          severity: 'error',
          at: '- |name: c',
          message: `tool name "b_x" is claimed after priority's {workload}_ fallback by 2 tools: b/x and c/b_x`,
        },
        { code: 'BAD_VALUE', severity: 'warning', at: 'priorityOrder: |[a]', message: 'does not rank "b", "c"' },
        {
          code: 'PRIORITY_UNRANKED',
          severity: 'warning',
          at: 'priorityOrder: |[a]',
          message: 'tool "x" is offered by "b" and "c"',
        },
      ],
    },
  },
  {
    name: 'manual: overrides resolve the conflict',
    backends: { a: { tools: ['search', 'x'] }, b: { tools: ['search'] } },
    yaml: 'aggregation:\n  conflictResolution: manual\n  tools:\n    - workload: a\n      overrides:\n        search:\n          name: a_search\n',
    want: {
      tools: { a_search: 'a/search', x: 'a/x', search: 'b/search' },
      toolDefs: { a_search: tool('a_search', { description: 'search tool' }) },
    },
  },
  {
    name: 'manual: an unresolved conflict lists each claimant',
    backends: { a: { tools: ['search', 'fetch'] }, b: { tools: ['search', 'fetch'] }, c: { tools: ['fetch'] } },
    yaml: 'aggregation:\n  conflictResolution: manual\n  tools:\n    - workload: a\n      overrides:\n        search:\n          name: a_search\n',
    want: {
      diagnostics: [
        {
          code: 'NAME_CONFLICT',
          severity: 'error',
          at: '- |name: b',
          message: 'unresolved tool name conflict under the manual strategy: fetch: [a, b, c]',
        },
      ],
    },
  },
  {
    name: 'manual: an override that renames onto another tool is a conflict at the override',
    backends: { a: { tools: ['x'] }, b: { tools: ['search'] } },
    yaml: 'aggregation:\n  conflictResolution: manual\n  tools:\n    - workload: a\n      overrides:\n        x:\n          name: search\n',
    want: {
      diagnostics: [
        {
          code: 'NAME_CONFLICT',
          severity: 'error',
          at: 'name: |search',
          message: 'the override of a/x creates a tool name conflict: search: [a, b]',
        },
      ],
    },
  },
  {
    name: 'manual: prompts are prefixed with prefixFormat, so same-named prompts do not clash',
    backends: { a: { tools: ['x'], prompts: ['greet'] }, b: { prompts: ['greet'] } },
    yaml: 'aggregation:\n  conflictResolution: manual\n  conflictResolutionConfig:\n    prefixFormat: "{workload}-"\n',
    want: { tools: { x: 'a/x' }, prompts: { 'a-greet': 'a/greet', 'b-greet': 'b/greet' } },
  },
  {
    name: 'manual: an unresolved conflict points at the aggregation.tools entry where the override goes',
    backends: { a: { tools: ['search'] }, b: { tools: ['search', 'y'] } },
    yaml: 'aggregation:\n  conflictResolution: manual\n  tools:\n    - workload: b\n      filter: [search]\n',
    want: {
      diagnostics: [
        {
          code: 'NAME_CONFLICT',
          severity: 'error',
          at: '    - |workload: b',
          message: 'unresolved tool name conflict under the manual strategy: search: [a, b]',
        },
      ],
    },
  },
  {
    name: 'prefix: two tools that compose to the same prefixed name are an error',
    backends: { a: { tools: ['b_x', 'ok'] }, a_b: { tools: ['x'] } },
    want: {
      tools: {},
      diagnostics: [
        {
          code: 'NAME_CONFLICT',
          severity: 'error',
          at: '- |name: a_b',
          message: 'tool name "a_b_x" is claimed after prefixing by 2 tools: a/b_x and a_b/x',
        },
      ],
    },
  },
  {
    name: 'prefix: prompts that compose to the same name are dropped, both, with a warning',
    backends: { a: { prompts: ['x_y', 'z'] }, a_x: { prompts: ['y'] } },
    want: {
      prompts: { a_z: 'a/z' },
      diagnostics: [
        {
          code: 'PROMPT_DROPPED',
          severity: 'warning',
          at: '- |name: a',
          message: 'prompt name "a_x_y" is claimed by a/x_y, a_x/y, so none of them is advertised',
        },
      ],
    },
  },
  {
    name: 'manual without overrides compiles while no names clash (ToolHive accepts it too)',
    backends: { a: { tools: ['x'], prompts: ['p'] }, b: { tools: ['y'] } },
    yaml: 'aggregation:\n  conflictResolution: manual\n',
    want: { tools: { x: 'a/x', y: 'b/y' }, prompts: { a_p: 'a/p' } },
  },
  {
    name: 'filter by original name',
    backends: { a: { tools: ['search', 'fetch', 'delete'] }, b: { tools: ['search'] } },
    yaml: 'aggregation:\n  tools:\n    - workload: a\n      filter: [search]\n',
    want: { tools: { a_search: 'a/search', b_search: 'b/search' } },
  },
  {
    name: 'filter by overridden name',
    backends: { a: { tools: ['search', 'fetch'] } },
    yaml: 'aggregation:\n  tools:\n    - workload: a\n      filter: [get]\n      overrides:\n        fetch:\n          name: get\n',
    want: { tools: { a_get: 'a/fetch' } },
  },
  {
    name: "excludeAll hides one backend's tools, not its prompts",
    backends: { a: { tools: ['search'], prompts: ['greet'] }, b: { tools: ['search'] } },
    yaml: 'aggregation:\n  tools:\n    - workload: a\n      excludeAll: true\n',
    want: { tools: { b_search: 'b/search' }, prompts: { a_greet: 'a/greet' } },
  },
  {
    name: 'excludeAllTools hides every tool; prompts and resources stay',
    backends: { a: { tools: ['search'], prompts: ['greet'], resources: ['mem://a'] }, b: { tools: ['search'] } },
    yaml: 'aggregation:\n  excludeAllTools: true\n',
    want: { tools: {}, prompts: { a_greet: 'a/greet' }, resources: { 'mem://a': 'a' } },
  },
  {
    name: 'defaultToolVisibility deny: only filtered or overridden tools',
    backends: { a: { tools: ['search', 'fetch'] }, b: { tools: ['fetch', 'delete'] }, c: { tools: ['anything'] } },
    yaml: 'aggregation:\n  defaultToolVisibility: deny\n  tools:\n    - workload: a\n      filter: [search]\n    - workload: b\n      overrides:\n        fetch:\n          description: Fetch a page\n',
    want: {
      tools: { a_search: 'a/search', b_fetch: 'b/fetch' },
      toolDefs: { b_fetch: tool('b_fetch', { description: 'Fetch a page' }) },
    },
  },
  {
    name: "override of description and annotations (merged over the backend's annotations)",
    backends: { a: { tools: [tool('search', { annotations: { destructiveHint: false, title: 'Old' } })] } },
    yaml: 'aggregation:\n  tools:\n    - workload: a\n      overrides:\n        search:\n          description: Find things\n          annotations:\n            title: Search\n            readOnlyHint: true\n',
    want: {
      tools: { a_search: 'a/search' },
      toolDefs: {
        a_search: {
          name: 'a_search',
          description: 'Find things',
          inputSchema: { type: 'object' },
          annotations: { destructiveHint: false, readOnlyHint: true, title: 'Search' },
        },
      },
    },
  },
  {
    name: 'NAME_TOO_LONG for a prefixed name points at the backend',
    backends: { alpha: { tools: ['search_everything', 'ok'] } },
    yaml: 'aggregation:\n  nameLimit: 12\n',
    want: {
      diagnostics: [
        {
          code: 'NAME_TOO_LONG',
          severity: 'error',
          at: '- |name: alpha',
          message: 'tool name "alpha_search_everything" is 23 characters, over aggregation.nameLimit (12)',
        },
      ],
    },
  },
  {
    name: 'NAME_TOO_LONG and INVALID_NAME for overridden names point at the override',
    backends: { a: { tools: ['x', 'y'] } },
    yaml: 'aggregation:\n  nameLimit: 8\n  tools:\n    - workload: a\n      overrides:\n        x:\n          name: much_too_long\n        y:\n          name: has space\n',
    want: {
      diagnostics: [
        {
          code: 'NAME_TOO_LONG',
          severity: 'error',
          at: 'name: |much_too_long',
          message: '"a_much_too_long" is 15 characters',
        },
        {
          code: 'INVALID_NAME',
          severity: 'error',
          at: 'name: |has space',
          message: 'tool name "a_has space" (backend "a") breaks the MCP name rule',
        },
      ],
    },
  },
  {
    name: 'INVALID_NAME for a listed tool points at the backend',
    backends: { a: { tools: ['fine', 'dollar$sign'] } },
    want: { diagnostics: [{ code: 'INVALID_NAME', severity: 'error', at: '- |name: a', message: '"a_dollar$sign"' }] },
  },
  {
    name: 'UNKNOWN_TOOL for a filter or override naming a missing tool',
    backends: { a: { tools: ['search', 'fetch'] } },
    yaml: 'aggregation:\n  tools:\n    - workload: a\n      filter: [search, serach_all]\n      overrides:\n        fecth:\n          description: x\n',
    want: {
      diagnostics: [
        {
          code: 'UNKNOWN_TOOL',
          severity: 'error',
          at: 'filter: [search, |serach_all]',
          message: 'filter names tool "serach_all", which backend "a" does not have',
        },
        {
          code: 'UNKNOWN_TOOL',
          severity: 'error',
          at: '      overrides:\n        |fecth:',
          message: 'override names tool "fecth"',
        },
      ],
    },
  },
  {
    name: 'a backend the lock records as absent exposes nothing (and its overrides are not unknown)',
    backends: { a: { tools: ['search'] }, gone: { absent: true } },
    yaml: 'aggregation:\n  tools:\n    - workload: gone\n      overrides:\n        search:\n          name: gone_search2\n',
    want: {
      tools: { a_search: 'a/search' },
      diagnostics: [
        {
          code: 'BACKEND_ABSENT',
          severity: 'warning',
          at: '- |name: gone',
          message: 'backend "gone" is recorded as absent',
        },
      ],
    },
  },
  {
    name: 'a duplicate resource URI is advertised once, by the first backend by name, with a warning',
    backends: { a: { resources: ['mem://x', 'mem://a'] }, b: { resources: ['mem://x'] } },
    want: {
      resources: { 'mem://x': 'a', 'mem://a': 'a' },
      diagnostics: [
        {
          code: 'DUPLICATE_URI',
          severity: 'warning',
          at: '- |name: b',
          message: `resource "mem://x" is served by both "a" and "b"; only "a"'s is advertised`,
        },
      ],
    },
  },
  {
    name: 'a duplicate resource URI under priority goes to the first backend by name too (as in ToolHive)',
    backends: {
      a: { resources: ['mem://x', 'mem://a'], templates: ['t://{id}'] },
      b: { resources: ['mem://x'], templates: ['t://{id}'] },
    },
    yaml: 'aggregation:\n  conflictResolution: priority\n  conflictResolutionConfig:\n    priorityOrder: [b, a]\n',
    want: {
      resources: { 'mem://x': 'a', 'mem://a': 'a' },
      templates: { 't://{id}': { backend: 'a', match: ['t://1'], reject: ['t://1/2'] } },
      diagnostics: [
        {
          code: 'DUPLICATE_URI',
          severity: 'warning',
          at: '- |name: b',
          message: `resource "mem://x" is served by both "a" and "b"; only "a"'s is advertised`,
        },
        {
          code: 'DUPLICATE_URI',
          severity: 'warning',
          at: '- |name: b',
          message: `resource template "t://{id}" is served by both "a" and "b"`,
        },
      ],
    },
  },
  {
    name: 'templates compile to anchored patterns',
    backends: { a: { templates: ['file:///{path}', 'repo://{+path}', 'search://q{?limit,page}', 'users/{id}.json'] } },
    want: {
      templates: {
        'file:///{path}': {
          backend: 'a',
          match: ['file:///notes.txt'],
          reject: ['file:///a/b', 'file:///', 'xfile:///a'],
        },
        'repo://{+path}': { backend: 'a', match: ['repo://a/b/c.ts'], reject: ['repo://'] },
        'search://q{?limit,page}': {
          backend: 'a',
          match: ['search://q', 'search://q?limit=3&page=2'],
          reject: ['search://qq'],
        },
        'users/{id}.json': { backend: 'a', match: ['users/42.json'], reject: ['users/42xjson', 'users/42.json.bak'] },
      },
    },
  },
];
