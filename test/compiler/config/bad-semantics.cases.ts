import { HEAD, HEAD2, type BadCase } from './helpers.ts';

const CLAUDE = '{\n  "mcpServers": {\n    "a": { "command": "npx", "args": ["x"] }\n  }\n}\n';

/** Cross-field checks: the schema accepts these, the semantic checks do not. */
export const BAD_SEMANTICS: BadCase[] = [
  {
    name: 'duplicate backend name',
    given: HEAD + '  - name: a\n    transport: stdio\n    command: python\n',
    want: ['DUPLICATE_BACKEND 6:11 hint=the first is at vmcp.yaml:3:5; rename one of them'],
    message: 'backend "a" is declared twice',
  },
  {
    name: 'imported server duplicates an inline backend',
    given: HEAD + 'backendsFrom: mcp.json\n',
    files: { 'mcp.json': CLAUDE },
    want: ['DUPLICATE_BACKEND mcp.json:3:5'],
  },
  {
    name: 'workload configured twice',
    given: HEAD + 'aggregation:\n  tools:\n    - workload: a\n    - workload: a\n',
    want: ['DUPLICATE_BACKEND 9:17'],
  },
  {
    name: 'tools[].workload names no backend',
    given: HEAD + 'aggregation:\n  tools:\n    - workload: aa\n',
    want: ['UNKNOWN_BACKEND 8:17 hint=did you mean "a"?'],
    message: 'aggregation.tools workload "aa" names no backend',
  },
  {
    name: 'priorityOrder names no backend',
    given:
      HEAD2 +
      'aggregation:\n  conflictResolution: priority\n  conflictResolutionConfig:\n    priorityOrder: [a, b, c]\n',
    want: ['UNKNOWN_BACKEND 12:27'],
  },
  {
    name: 'outgoingAuth.backends key names no backend',
    given: HEAD + 'outgoingAuth:\n  backends:\n    github:\n      type: unauthenticated\n',
    want: ['UNKNOWN_BACKEND 8:5 hint=known backends: a'],
  },
  {
    name: 'perWorkload key names no backend',
    given: HEAD + 'operational:\n  timeouts:\n    perWorkload:\n      b: 5s\n',
    want: ['UNKNOWN_BACKEND 9:7'],
  },
  {
    name: 'priority without priorityOrder',
    given: HEAD + 'aggregation:\n  conflictResolution: priority\n',
    want: ['MISSING_KEY 7:23'],
  },
  {
    name: 'prefixFormat without {workload}',
    given: HEAD2 + 'aggregation:\n  conflictResolutionConfig:\n    prefixFormat: "x_"\n',
    want: ['PREFIX_COLLISION 11:19 hint=use "{workload}_" or "{workload}."'],
  },
  {
    name: 'prefixFormat with an unknown placeholder',
    given: HEAD + 'aggregation:\n  conflictResolutionConfig:\n    prefixFormat: "{server}_"\n',
    want: ['BAD_VALUE 8:19'],
  },
  {
    name: 'header_injection without its block',
    given: HEAD + 'outgoingAuth:\n  default:\n    type: header_injection\n',
    want: ['MISSING_STRATEGY_FIELD 8:11 hint=add headerInjection: { ... } next to type'],
    message: 'strategy header_injection needs a headerInjection block',
  },
  {
    name: 'header_injection without a value',
    given:
      HEAD +
      'outgoingAuth:\n  default:\n    type: header_injection\n    headerInjection:\n      headerName: X-Api-Key\n',
    want: ['MISSING_STRATEGY_FIELD 9:5'],
  },
  {
    name: 'token_exchange without its block (per backend)',
    given: HEAD + 'outgoingAuth:\n  backends:\n    a:\n      type: token_exchange\n',
    want: ['MISSING_STRATEGY_FIELD 9:13'],
  },
  {
    name: 'token_exchange on a stdio backend, without incoming oidc',
    given:
      HEAD +
      'outgoingAuth:\n  backends:\n    a:\n      type: token_exchange\n      tokenExchange: { tokenUrl: https://idp.example.com/token }\n',
    want: ['BAD_VALUE 9:13', 'BAD_VALUE 9:13'],
    message: 'outgoing auth token_exchange needs an HTTP backend, but "a" is stdio',
  },
  {
    name: 'client_credentials as the default strategy of a stdio backend',
    given:
      HEAD +
      'outgoingAuth:\n  default:\n    type: client_credentials\n    clientCredentials: { tokenUrl: https://idp.example.com/token, clientId: c, clientSecretEnv: S }\n',
    env: { S: 'x' },
    want: ['BAD_VALUE 8:11'],
    message: 'outgoing auth client_credentials needs an HTTP backend, but "a" is stdio',
  },
  {
    name: 'headerValue and headerValueEnv together',
    given:
      HEAD +
      'outgoingAuth:\n  default:\n    type: header_injection\n    headerInjection:\n      headerName: X\n      headerValue: ${env:T}\n      headerValueEnv: T\n',
    env: { T: 'x' },
    want: ['BAD_VALUE 11:7'],
  },
  {
    name: 'unset headerValueEnv is a warning',
    given:
      HEAD +
      'outgoingAuth:\n  default:\n    type: header_injection\n    headerInjection:\n      headerName: Authorization\n      headerValueEnv: GITHUB_TOKEN\n',
    want: ['warning ENV_UNSET 11:23'],
    message: 'environment variable GITHUB_TOKEN (outgoingAuth.default.headerInjection.headerValueEnv) is not set',
  },
  {
    name: 'unset env is an error when serving',
    given: HEAD + '    env:\n      TOKEN: ${env:API_TOKEN}\n',
    envSeverity: 'error',
    want: ['ENV_UNSET 7:14'],
  },
  { name: 'bad ${env:} name', given: HEAD + '    args: ["${env:1BAD}"]\n', want: ['BAD_ENV_REF 6:12'] },
  { name: 'unterminated ${env:', given: HEAD + '    env:\n      T: "${env:T"\n', want: ['BAD_ENV_REF 7:10'] },
  {
    name: 'timeouts.default 0s',
    given: HEAD + 'operational:\n  timeouts:\n    default: 0s\n',
    want: ['NON_POSITIVE_DURATION 8:14'],
  },
  {
    name: 'perWorkload 0ms',
    given: HEAD + 'operational:\n  timeouts:\n    perWorkload:\n      a: 0ms\n',
    want: ['NON_POSITIVE_DURATION 9:10'],
    message: 'operational.timeouts.perWorkload.a must be positive, not "0ms"',
  },
  {
    name: 'circuit breaker open for under 1s',
    given: HEAD + 'operational:\n  failureHandling:\n    circuitBreaker:\n      enabled: true\n      timeout: 500ms\n',
    want: ['NON_POSITIVE_DURATION 10:16'],
  },
  {
    name: 'healthCheckTimeout not below the interval',
    given: HEAD + 'operational:\n  failureHandling:\n    healthCheckInterval: 10s\n    healthCheckTimeout: 10s\n',
    want: ['BAD_VALUE 9:25'],
    message: 'healthCheckTimeout (10s) must be shorter than healthCheckInterval (10s)',
  },
  {
    name: 'unhealthyThreshold 0',
    given: HEAD + 'operational:\n  failureHandling:\n    unhealthyThreshold: 0\n',
    want: ['BAD_VALUE 8:25'],
  },
  {
    name: 'plain-http issuer',
    given: HEAD + 'incomingAuth:\n  type: oidc\n  oidc:\n    issuer: http://auth.example.com\n    audience: vmcp\n',
    want: ['INSECURE_ISSUER 9:13'],
  },
  { name: 'oidc without its block', given: HEAD + 'incomingAuth:\n  type: oidc\n', want: ['MISSING_KEY 7:9'] },
  {
    name: 'cedar without policies',
    given: HEAD + 'incomingAuth:\n  type: anonymous\n  authz:\n    type: cedar\n',
    want: ['MISSING_KEY 9:11'],
  },
  { name: 'no backends at all', given: 'name: gw\n', want: ['NO_BACKENDS 1:1'] },
  { name: 'an empty backends list', given: 'name: gw\nbackends: []\n', want: ['NO_BACKENDS 1:1'] },
  {
    name: 'backendsFrom file missing',
    given: 'name: gw\nbackendsFrom: ./mcp.json\n',
    want: ['GROUP_IMPORT 2:15 hint=the path is relative to the vmcp.yaml that names it', 'NO_BACKENDS 2:15'],
  },
  {
    name: 'backendsFrom file is not JSON',
    given: 'name: gw\nbackendsFrom: mcp.json\n',
    files: { 'mcp.json': '{\n  "mcpServers": {\n    "a": { "command": "x" ]\n}\n' },
    want: ['GROUP_IMPORT mcp.json:3:27', 'NO_BACKENDS 2:15'],
  },
  {
    name: 'backendsFrom file without mcpServers',
    given: 'name: gw\nbackendsFrom: [mcp.json]\n',
    files: { 'mcp.json': '{ "inputs": [] }\n' },
    want: ['GROUP_IMPORT mcp.json:1:1', 'NO_BACKENDS 2:15'],
  },
  {
    name: 'imported server of unknown type',
    given: HEAD + 'backendsFrom: mcp.json\n',
    files: { 'mcp.json': '{\n  "servers": {\n    "x": { "type": "websocket", "url": "wss://x" }\n  }\n}\n' },
    want: ['GROUP_IMPORT mcp.json:3:20'],
  },
];
