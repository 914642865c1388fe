import { HEAD, y, type BadCase } from './helpers.ts';

/** Bad values (enums, durations, URLs) and files that are not a YAML mapping at all. */
export const BAD_VALUES: BadCase[] = [
  // BAD_ENUM: at the value, with a hint.
  {
    name: 'bad transport',
    given: 'name: gw\nbackends:\n  - name: a\n    transport: htp\n    url: https://a.example.com\n',
    want: ['BAD_ENUM 4:16 hint=use one of: stdio, sse, streamable-http'],
    message: 'backends[0].transport must be one of "stdio", "sse", "streamable-http", not "htp"',
  },
  {
    name: "VS Code's transport http",
    given: 'name: gw\nbackends:\n  - name: a\n    transport: http\n    url: https://a.example.com\n',
    want: ['BAD_ENUM 4:16 hint=did you mean "streamable-http"?'],
  },
  {
    name: 'bad conflictResolution',
    given: HEAD + 'aggregation:\n  conflictResolution: prefx\n',
    want: ['BAD_ENUM 7:23 hint=did you mean "prefix"?'],
  },
  {
    name: 'bad partialFailureMode',
    given: HEAD + 'operational:\n  failureHandling:\n    partialFailureMode: besteffort\n',
    want: ['BAD_ENUM 8:25 hint=did you mean "best_effort"?'],
  },
  {
    name: 'bad drift',
    given: HEAD + 'operational:\n  drift: blockchanged\n',
    want: ['BAD_ENUM 7:10 hint=did you mean "block-changed"?'],
  },
  {
    name: 'bad incomingAuth type',
    given: HEAD + 'incomingAuth:\n  type: oauth\n',
    want: ['BAD_ENUM 7:9 hint=use one of: anonymous, oidc, local'],
  },
  {
    name: 'bad strategy type',
    given: HEAD + 'outgoingAuth:\n  default:\n    type: header-injection\n',
    want: ['BAD_ENUM 8:11 hint=did you mean "header_injection"?'],
  },
  {
    name: 'bad defaultToolVisibility',
    given: HEAD + 'aggregation:\n  defaultToolVisibility: hide\n',
    want: ['BAD_ENUM 7:26'],
  },

  // BAD_DURATION: strings without a unit and bare numbers.
  {
    name: 'duration with a bad unit',
    given: HEAD + 'operational:\n  failureHandling:\n    healthCheckInterval: 10x\n',
    want: ['BAD_DURATION 8:26 hint=write a duration such as "30s", "1m30s" or "500ms"'],
  },
  {
    name: 'duration as a number',
    given: HEAD + 'operational:\n  timeouts:\n    default: 30\n',
    want: ['BAD_DURATION 8:14 hint=durations need a unit: write "10s", "1m30s" or "500ms"'],
    message: 'operational.timeouts.default must be a duration string, not the number 30',
  },
  {
    name: 'negative duration',
    given: HEAD + 'operational:\n  timeouts:\n    default: -5s\n',
    want: ['BAD_DURATION 8:14'],
  },
  {
    name: 'perWorkload duration as a number',
    given: HEAD + 'operational:\n  timeouts:\n    perWorkload:\n      a: 5\n',
    want: ['BAD_DURATION 9:10'],
  },

  // BAD_URL.
  {
    name: 'url that is not a URL',
    given: 'name: gw\nbackends:\n  - name: a\n    transport: sse\n    url: not a url\n',
    want: ['BAD_URL 5:10 hint=write an absolute URL such as "https://mcp.example.com/mcp"'],
  },
  {
    name: 'ftp url',
    given: 'name: gw\nbackends:\n  - name: a\n    transport: streamable-http\n    url: ftp://a.example.com\n',
    want: ['BAD_URL 5:10'],
  },
  {
    name: 'issuer without a scheme',
    given: HEAD + 'incomingAuth:\n  type: oidc\n  oidc:\n    issuer: auth.example.com\n    audience: vmcp\n',
    want: ['BAD_URL 9:13'],
  },

  // YAML_SYNTAX, DUPLICATE_KEY, EMPTY_FILE, NOT_A_MAPPING.
  { name: 'unclosed flow sequence', given: 'name: gw\nbackends: [\n', want: ['YAML_SYNTAX 2:12'] },
  { name: 'unclosed quote', given: 'name: "gw\n', want: ['YAML_SYNTAX 1:10'] },
  { name: 'tab indentation', given: 'name: gw\n\tbackends: []\n', want: ['YAML_SYNTAX 2:1'] },
  { name: 'bad indentation', given: HEAD + '   args: []\n', want: ['YAML_SYNTAX 6:1'] },
  {
    name: 'a mapping as a key',
    given: 'name: gw\n{a: 1}: x\n',
    want: ['YAML_SYNTAX 2:1'],
    message: 'a mapping key must be a plain name, not a list or mapping',
  },
  { name: 'unresolved alias', given: 'name: *gw\n', want: ['YAML_SYNTAX 1:1'] },
  {
    name: 'duplicate top-level key',
    given: 'name: gw\nname: other\n',
    want: ['DUPLICATE_KEY 2:1 hint=remove or rename one of the two keys'],
    message: 'duplicate key: a mapping key may appear only once',
  },
  { name: 'duplicate key in a backend', given: HEAD + '    command: python\n', want: ['DUPLICATE_KEY 6:5'] },
  { name: 'empty file', given: '', want: ['EMPTY_FILE 1:1'], message: 'the config file is empty' },
  { name: 'comment-only file', given: '# yaml-language-server: $schema=x\n# nothing yet\n', want: ['EMPTY_FILE 1:1'] },
  { name: 'document marker only', given: '---\n', want: ['EMPTY_FILE 1:1'] },
  { name: 'list at the top level', given: '- name: gw\n', want: ['NOT_A_MAPPING 1:1'] },
  { name: 'scalar at the top level', given: '\n\nhello\n', want: ['NOT_A_MAPPING 3:1'] },

  // Every independent schema error is reported in one run.
  {
    name: 'all errors in one run',
    given: y`
      name: gw
      backends:
        - name: a
          transport: stdio
          command: node
          timeout: 5s
      aggregation:
        conflictResolution: first
      operational:
        timeouts:
          default: 10
    `,
    want: ['UNKNOWN_KEY 6:5', 'BAD_ENUM 8:23', 'BAD_DURATION 11:14'],
  },
];
