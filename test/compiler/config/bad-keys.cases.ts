import { HEAD, y, type BadCase } from './helpers.ts';

/** Unknown, missing and wrong-typed keys, and keys vmcp accepts but does not support. */
export const BAD_KEYS: BadCase[] = [
  // UNKNOWN_KEY: at the key, with a "did you mean" hint.
  {
    name: 'unknown top-level key',
    given: y`
      name: gw
      backend:
        - name: a
    `,
    want: ['UNKNOWN_KEY 2:1 hint=did you mean "backends"?'],
    message: 'unknown key "backend" at the top level',
  },
  {
    name: 'top-level key in the wrong case',
    given: HEAD + 'groupref: g\n',
    want: ['UNKNOWN_KEY 6:1 hint=did you mean "groupRef"?'],
  },
  {
    name: "Claude Desktop's mcpServers at the top level",
    given: 'name: gw\nmcpServers: {}\n',
    want: ['UNKNOWN_KEY 2:1 hint=did you mean "backends"?'],
  },
  {
    name: 'unknown nested key',
    given:
      HEAD +
      y`
      aggregation:
        conflictResolutoin: prefix
    `,
    want: ['UNKNOWN_KEY 7:3 hint=did you mean "conflictResolution"?'],
    message: 'unknown key "conflictResolutoin" in aggregation',
  },
  {
    name: 'misspelt key in a backend (no second error for the missing command)',
    given: y`
      name: gw
      backends:
        - name: a
          transport: stdio
          comand: node
    `,
    want: ['UNKNOWN_KEY 5:5 hint=did you mean "command"?'],
  },
  {
    name: 'http-only key in a stdio backend',
    given: HEAD + '    url: https://x.example.com/mcp\n',
    want: ['UNKNOWN_KEY 6:5'],
    message: 'unknown key "url" in backends[0]',
  },
  {
    name: 'unknown key in a strategy block',
    given:
      HEAD +
      y`
      outgoingAuth:
        default:
          type: header_injection
          headerInjection:
            headerName: X-Api-Key
            headerValu: secret
    `,
    want: ['UNKNOWN_KEY 11:7 hint=did you mean "headerValue"?'],
  },
  {
    name: 'misspelt strategy block',
    given:
      HEAD +
      y`
      outgoingAuth:
        default:
          type: header_injection
          headerInjetion:
            headerName: X-Api-Key
    `,
    want: ['UNKNOWN_KEY 9:5 hint=did you mean "headerInjection"?'],
  },
  {
    name: 'tools[].backend instead of workload',
    given:
      HEAD +
      y`
      aggregation:
        tools:
          - backend: a
    `,
    want: ['UNKNOWN_KEY 8:7 hint=did you mean "workload"?'],
    message: 'unknown key "backend" in aggregation.tools[0]',
  },
  {
    name: 'unknown key in failureHandling',
    given:
      HEAD +
      y`
      operational:
        failureHandling:
          unhealthyTreshold: 3
    `,
    want: ['UNKNOWN_KEY 8:5 hint=did you mean "unhealthyThreshold"?'],
  },
  {
    name: 'misspelt oidc audience',
    given:
      HEAD +
      y`
      incomingAuth:
        type: oidc
        oidc:
          issuer: https://auth.example.com
          audiance: vmcp
    `,
    want: ['UNKNOWN_KEY 10:5 hint=did you mean "audience"?'],
  },

  // MISSING_KEY: at the mapping that lacks the key.
  {
    name: 'missing name',
    given: y`
      backends:
        - name: a
          transport: stdio
          command: node
    `,
    want: ['MISSING_KEY 1:1 hint=add `name:` (a string)'],
    message: 'missing required key "name" in (root)',
  },
  {
    name: 'missing command',
    given: 'name: gw\nbackends:\n  - name: a\n    transport: stdio\n',
    want: ['MISSING_KEY 3:5'],
  },
  {
    name: 'missing url',
    given: 'name: gw\nbackends:\n  - name: a\n    transport: sse\n',
    want: ['MISSING_KEY 3:5 hint=add `url:` (a string)'],
    message: 'missing required key "url" in backends[0]',
  },
  {
    name: 'missing transport',
    given: 'name: gw\nbackends:\n  - name: a\n    command: node\n',
    want: ['MISSING_KEY 3:5 hint=add `transport:` with one of: stdio, sse, streamable-http'],
    message: 'missing required key "transport" in backends[0]',
  },
  {
    name: 'misspelt transport',
    given: 'name: gw\nbackends:\n  - name: a\n    transprt: stdio\n    command: node\n',
    want: ['MISSING_KEY 3:5 hint=did you mean "transport" instead of "transprt"?'],
  },
  {
    name: 'missing key next to an unrelated unknown key',
    given: 'name: gw\nbackends:\n  - name: a\n    transport: stdio\n    cmd: node\n',
    want: ['MISSING_KEY 3:5', 'UNKNOWN_KEY 5:5'],
  },
  {
    name: 'missing workload',
    given: HEAD + 'aggregation:\n  tools:\n    - filter: [echo]\n',
    want: ['MISSING_KEY 8:7'],
  },
  {
    name: 'missing headerName',
    given:
      HEAD +
      y`
      outgoingAuth:
        default:
          type: header_injection
          headerInjection:
            headerValueEnv: TOKEN
    `,
    want: ['MISSING_KEY 9:5'],
  },

  // WRONG_TYPE: at the value.
  { name: 'number as name', given: 'name: 42\nbackends: []\n', want: ['WRONG_TYPE 1:7 hint=quote it: "42"'] },
  {
    name: 'backends as a mapping',
    given: 'name: gw\nbackends:\n  a:\n    transport: stdio\n',
    want: ['WRONG_TYPE 3:3 hint=write a list, one `- item` per line'],
    message: 'backends must be a list, not a mapping',
  },
  { name: 'args as a string', given: HEAD + '    args: --verbose\n', want: ['WRONG_TYPE 6:11'] },
  { name: 'required as a string', given: HEAD + '    required: "no"\n', want: ['WRONG_TYPE 6:15'] },
  {
    name: 'env as a list',
    given: HEAD + '    env: [A=1]\n',
    want: ['WRONG_TYPE 6:10 hint=write a mapping of `key: value` lines'],
  },
  {
    name: 'unhealthyThreshold as a string',
    given: HEAD + 'operational:\n  failureHandling:\n    unhealthyThreshold: three\n',
    want: ['WRONG_TYPE 8:25'],
  },
  { name: 'tools as a mapping', given: HEAD + 'aggregation:\n  tools:\n    a: {}\n', want: ['WRONG_TYPE 8:5'] },

  // UNSUPPORTED: accepted for ToolHive compatibility, reported clearly.
  {
    name: 'optimizer with a misspelt key',
    given: HEAD + 'optimizer:\n  maxToolsToReturns: 5\n',
    want: ['UNKNOWN_KEY 7:3 hint=did you mean "maxToolsToReturn"?'],
  },
  {
    name: 'optimizer embedding provider outside the set',
    given: HEAD + 'optimizer:\n  embeddingService: http://embed\n  embeddingProvider: ollama\n',
    want: ['BAD_ENUM 8:22'],
  },
  {
    name: 'a misspelt composite tool key',
    given: HEAD + 'compositeTools:\n  - name: t\n    description: d\n    stepz: []\n',
    want: ['UNKNOWN_KEY 9:5 hint=did you mean "steps"?'],
  },
  {
    name: 'aws_sts strategy',
    given: HEAD + 'outgoingAuth:\n  default:\n    type: aws_sts\n',
    want: ['UNSUPPORTED 8:11'],
    message: 'outgoing auth strategy "aws_sts" is not supported by vmcp yet',
  },
  {
    name: 'outgoingAuth source discovered',
    given: HEAD + 'outgoingAuth:\n  source: discovered\n',
    want: ['UNSUPPORTED 7:11'],
  },
  {
    name: 'telemetry: tracing on without a collector endpoint',
    given: HEAD + 'telemetry:\n  tracingEnabled: true\n',
    want: ['MISSING_KEY 7:3'],
  },
  {
    name: 'telemetry: a ToolHive switch vmcp does not have is a warning at its key',
    given: HEAD + 'telemetry:\n  endpoint: otel:4318\n  tracingEnabled: true\n  prometheusPort: 9090\n',
    want: ['warning UNSUPPORTED 9:3'],
  },
  {
    name: 'audit: an event type ToolHive does not write',
    given: HEAD + 'audit:\n  enabled: true\n  eventTypes: [mcp_tool_call, mcp_list_everything]\n',
    want: ['BAD_ENUM 8:31'],
  },
  {
    name: 'backend type (ToolHive entry backends)',
    given:
      'name: gw\nbackends:\n  - name: a\n    transport: sse\n    url: https://a.example.com/sse\n    type: entry\n',
    want: ['UNSUPPORTED 6:5'],
  },
];
