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
    name: 'priority: a conflict between unranked backends is an error',
    backends: { a: { tools: ['t'] }, b: { tools: ['search'] }, c: { tools: ['search'] } },
    yaml: 'aggregation:\n  conflictResolution: priority\n  conflictResolutionConfig:\n    priorityOrder: [a]\n',
    want: {
      diagnostics: [
        { code: 'BAD_VALUE', severity: 'warning', at: 'priorityOrder: |[a]', message: 'does not rank "b", "c"' },
        {
          code: 'NAME_CONFLICT',
          severity: 'error',
          at: 'priorityOrder: |[a]',
          message: 'claimed by b/search, c/search, and none of them is in priorityOrder',
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
          at: 'conflictResolution: |manual',
          message: 'tool name "fetch" is claimed by 3 backends: a/fetch, b/fetch, c/fetch',
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
          message: 'claimed by 2 backends: a/x, b/search',
        },
      ],
    },
  },
  {
    name: 'manual: same-named prompts conflict (prompts cannot be renamed)',
    backends: { a: { tools: ['x'], prompts: ['greet'] }, b: { prompts: ['greet'] } },
    yaml: 'aggregation:\n  conflictResolution: manual\n  tools:\n    - workload: a\n      overrides:\n        x:\n          name: a_x\n',
    want: {
      diagnostics: [
        {
          code: 'NAME_CONFLICT',
          severity: 'error',
          at: 'conflictResolution: |manual',
          message: 'prompt name "greet" is claimed by 2 backends: a/greet, b/greet',
        },
      ],
    },
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
    name: 'a duplicate resource URI is an error under prefix',
    backends: { a: { resources: ['mem://x', 'mem://a'] }, b: { resources: ['mem://x'] } },
    want: {
      diagnostics: [
        {
          code: 'DUPLICATE_URI',
          severity: 'error',
          at: '- |name: b',
          message: 'resource "mem://x" is served by both "a" and "b"',
        },
      ],
    },
  },
  {
    name: 'a duplicate resource URI under priority is a warning; the winner serves it',
    backends: {
      a: { resources: ['mem://x', 'mem://a'], templates: ['t://{id}'] },
      b: { resources: ['mem://x'], templates: ['t://{id}'] },
    },
    yaml: 'aggregation:\n  conflictResolution: priority\n  conflictResolutionConfig:\n    priorityOrder: [b, a]\n',
    want: {
      resources: { 'mem://x': 'b', 'mem://a': 'a' },
      templates: { 't://{id}': { backend: 'b', match: ['t://1'], reject: ['t://1/2'] } },
      diagnostics: [
        {
          code: 'DUPLICATE_URI',
          severity: 'warning',
          at: 'priorityOrder: |[b, a]',
          message: 'resource "mem://x" of backend "a" is hidden: "b" has priority',
        },
        {
          code: 'DUPLICATE_URI',
          severity: 'warning',
          at: 'priorityOrder: |[b, a]',
          message: 'resource template "t://{id}" of backend "a" is hidden',
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
