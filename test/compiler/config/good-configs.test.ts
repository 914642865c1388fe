import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VmcpConfigSchema } from '../../../schemas/vmcp.ts';
import { loadConfig } from '../../../compiler/config/validate.ts';
import { load, y } from './helpers.ts';

const ROOT = join(import.meta.dirname, '../../..');
const EXAMPLES = readdirSync(join(ROOT, 'examples'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(join(ROOT, 'examples', d.name))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => `examples/${d.name}/${f}`),
  )
  .sort();

/** ToolHive's minimal CLI config (`thv vmcp` format), plus inline backends since we do not discover them. */
const TOOLHIVE_MINIMAL = y`
  name: my-vmcp
  groupRef: my-group
  incomingAuth:
    type: anonymous
  outgoingAuth:
    source: inline
    default:
      type: unauthenticated
  aggregation:
    conflictResolution: prefix
    conflictResolutionConfig:
      prefixFormat: "{workload}_"
  backends:
    - name: fetch
      transport: streamable-http
      url: http://127.0.0.1:8080/mcp
`;

/** ToolHive's fuller example: OIDC in, header injection out, tool filters and overrides, failure handling. */
const TOOLHIVE_FULL = y`
  name: engineering-vmcp
  groupRef: engineering-team
  incomingAuth:
    type: oidc
    oidc:
      issuer: https://keycloak.example.com/realms/myrealm
      clientId: vmcp-client
      clientSecretEnv: VMCP_CLIENT_SECRET
      audience: vmcp
      scopes: ["openid", "profile", "email"]
  outgoingAuth:
    source: inline
    default:
      type: unauthenticated
    backends:
      github:
        type: header_injection
        headerInjection:
          headerName: "Authorization"
          headerValueEnv: "GITHUB_TOKEN"
  aggregation:
    conflictResolution: prefix
    conflictResolutionConfig:
      prefixFormat: "{workload}_"
    tools:
      - workload: github
        filter: ["create_pr", "merge_pr", "list_issues"]
        overrides:
          create_pr:
            name: gh_create_pr
            description: Create a GitHub pull request
            annotations:
              title: Create PR
              destructiveHint: false
  operational:
    timeouts:
      default: 30s
      perWorkload:
        github: 45s
    failureHandling:
      healthCheckInterval: 30s
      unhealthyThreshold: 3
      partialFailureMode: fail
      circuitBreaker:
        enabled: true
        failureThreshold: 5
        timeout: 60s
  backends:
    - name: github
      transport: streamable-http
      url: https://api.githubcopilot.com/mcp/
    - name: jira
      transport: sse
      url: https://jira.example.com/sse
`;

describe('good configs load', () => {
  it('finds the three example folders', () => {
    expect(EXAMPLES).toEqual(
      expect.arrayContaining([
        'examples/quickstart/vmcp.yaml',
        'examples/conflicts/vmcp.yaml',
        'examples/toolhive/vmcp.yaml',
      ]),
    );
  });

  it.each(EXAMPLES)('%s has no errors and carries the schema comment', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../schemas/vmcp.schema.json');
    const result = load(text);
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    // Only unset secrets may warn: the examples never ask for anything else.
    expect(result.diagnostics.map((d) => d.code).filter((c) => c !== 'ENV_UNSET')).toEqual([]);
    expect(result.value).toBeDefined();
  });

  it('ToolHive minimal CLI config: no diagnostics, defaults applied', () => {
    const result = load(TOOLHIVE_MINIMAL);
    expect(result.diagnostics).toEqual([]);
    const c = result.value!.config;
    expect(c.aggregation.conflictResolutionConfig.prefixFormat).toBe('{workload}_');
    expect(c.operational.failureHandling).toMatchObject({
      healthCheckInterval: '30s',
      healthCheckTimeout: '10s',
      unhealthyThreshold: 3,
      partialFailureMode: 'fail',
    });
    expect(c.operational.timeouts).toEqual({ default: '30s', perWorkload: {} });
    expect(c.operational.drift).toBe('block-changed');
    expect(c.outgoingAuth).toEqual({ source: 'inline', default: { type: 'unauthenticated' }, backends: {} });
  });

  it('defaults appear when nothing is written, and applying them again changes nothing', () => {
    const result = load('name: gw\nbackends:\n  - name: a\n    transport: stdio\n    command: node\n');
    expect(result.diagnostics).toEqual([]);
    const c = result.value!.config;
    expect(c.aggregation).toMatchObject({
      conflictResolution: 'prefix',
      conflictResolutionConfig: { prefixFormat: '{workload}_', priorityOrder: [] },
    });
    expect(c.operational.failureHandling).toMatchObject({
      healthCheckInterval: '30s',
      unhealthyThreshold: 3,
      healthCheckTimeout: '10s',
    });
    expect(c.operational.timeouts.default).toBe('30s');
    expect(c.operational.drift).toBe('block-changed');
    expect(c.incomingAuth.type).toBe('anonymous');
    expect(c.backends[0]).toEqual({
      name: 'a',
      transport: 'stdio',
      command: 'node',
      args: [],
      required: true,
      sessionAffinity: 'shared',
    });
    expect(VmcpConfigSchema.parse(c)).toEqual(c);
  });

  it('ToolHive full example: OIDC in, header injection out, filter and overrides', () => {
    const result = load(TOOLHIVE_FULL, { env: { GITHUB_TOKEN: 't', VMCP_CLIENT_SECRET: 's' } });
    expect(result.diagnostics).toEqual([]);
    const c = result.value!.config;
    expect(c.incomingAuth.oidc).toMatchObject({
      issuer: 'https://keycloak.example.com/realms/myrealm',
      audience: 'vmcp',
      scopes: ['openid', 'profile', 'email'],
    });
    expect(c.outgoingAuth.backends.github.headerInjection).toEqual({
      headerName: 'Authorization',
      headerValueEnv: 'GITHUB_TOKEN',
    });
    expect(c.aggregation.tools[0].overrides.create_pr).toEqual({
      name: 'gh_create_pr',
      description: 'Create a GitHub pull request',
      annotations: { title: 'Create PR', destructiveHint: false },
    });
    expect(c.operational.failureHandling.circuitBreaker).toEqual({
      enabled: true,
      failureThreshold: 5,
      timeout: '60s',
    });
    expect(result.value!.backends.map((b) => [b.name, b.transport])).toEqual([
      ['github', 'streamable-http'],
      ['jira', 'sse'],
    ]);
  });

  it('the same ToolHive example only warns while its secrets are unset', () => {
    const result = load(TOOLHIVE_FULL);
    expect(result.diagnostics.map((d) => `${d.severity} ${d.code} ${d.line}:${d.column}`)).toEqual([
      'warning ENV_UNSET 8:22',
      'warning ENV_UNSET 20:25',
    ]);
    expect(result.value).toBeDefined();
  });
});

describe('group import (backendsFrom)', () => {
  const CLAUDE = JSON.stringify(
    {
      mcpServers: {
        memory: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'], env: { DEBUG: 1 } },
        remote: { url: 'https://remote.example.com/mcp' },
        old: { command: 'old-server', disabled: true },
      },
    },
    null,
    2,
  );
  const VSCODE = y`
    {
      // VS Code writes JSONC: comments and trailing commas.
      "servers": {
        "everything": { "type": "stdio", "command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"] },
        /* a remote one */
        "api": { "type": "http", "url": "https://api.example.com/mcp", "headers": { "X-Team": "core" } },
        "events": { "type": "sse", "url": "https://events.example.com/sse", },
      },
    }
  `;

  it('imports a Claude Desktop mcpServers file and a VS Code servers file, sorted by name', () => {
    const given =
      'name: gw\nbackendsFrom: [claude.json, .vscode/mcp.json]\nbackends:\n  - name: zeta\n    transport: stdio\n    command: node\n';
    const result = load(given, { files: { 'claude.json': CLAUDE, '.vscode/mcp.json': VSCODE } });
    expect(result.diagnostics).toEqual([]);
    const backends = result.value!.backends;
    expect(backends.map((b) => [b.name, b.transport, b.origin.file])).toEqual([
      ['api', 'streamable-http', '.vscode/mcp.json'],
      ['events', 'sse', '.vscode/mcp.json'],
      ['everything', 'stdio', '.vscode/mcp.json'],
      ['memory', 'stdio', 'claude.json'],
      ['remote', 'streamable-http', 'claude.json'],
      ['zeta', 'stdio', 'vmcp.yaml'],
    ]);
    const byName = Object.fromEntries(backends.map((b) => [b.name, b]));
    expect(byName.memory).toMatchObject({
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-memory'],
      env: { DEBUG: '1' },
    });
    expect(byName.api).toMatchObject({ url: 'https://api.example.com/mcp', headers: { 'X-Team': 'core' } });
    expect(byName.everything.identity).toEqual({
      transport: 'stdio',
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-everything'],
    });
  });

  it('resolves backendsFrom relative to the config file', () => {
    const files: Record<string, string> = { 'shared/mcp.json': CLAUDE };
    const result = loadConfig('conf/vmcp.yaml', 'name: gw\nbackendsFrom: ../shared/mcp.json\n', {
      env: {},
      readFile: (p) => files[p],
    });
    expect(result.diagnostics).toEqual([]);
    expect(result.value!.backends.map((b) => b.name)).toEqual(['memory', 'remote']);
  });
});
