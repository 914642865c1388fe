import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../compiler/config/validate.ts';
import { ROOT, runNode, tempDir } from './compile-helpers.ts';

const CLI = join(ROOT, 'bin/vmcp.mjs');
const tmp = tempDir('init');
afterAll(() => tmp.remove());

const CLAUDE_DESKTOP = `{
  "mcpServers": {
    "github": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github"],
      "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_claudeSecret0123456789" }
    },
    "memory": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"] },
    "remote": { "url": "https://mcp.example.com/mcp", "headers": { "Authorization": "Bearer sk-live-claudeSecret" } },
    "old": { "command": "old-server", "disabled": true }
  }
}
`;

// VS Code writes JSONC: comments, trailing commas, "type": "http", and "inputs" prompted at start.
const VSCODE = `{
  // Prompted once by VS Code, then passed as \${input:api-key}.
  "inputs": [
    { "type": "promptString", "id": "api-key", "description": "API key", "password": true }
  ],
  "servers": {
    "fetch": { "type": "stdio", "command": "uvx", "args": ["mcp-server-fetch"] }, // a local server
    "api": {
      "type": "http",
      "url": "https://api.example.com/mcp",
      "headers": { "X-Api-Key": "\${input:api-key}", "X-Team": "vscodeSecretTeam42" },
    },
    /* an old SSE server */
    "legacy": { "type": "sse", "url": "http://127.0.0.1:3001/sse", "env": {}, },
  },
}
`;

function init(name: string, source: string): { status: number | null; output: string; text: string } {
  const from = join(tmp.dir, `${name}.json`);
  const out = join(tmp.dir, `${name}.vmcp.yaml`);
  writeFileSync(from, source);
  const r = runNode([CLI, 'init', '--from', from, '-o', out, '--name', name], { cwd: tmp.dir });
  return { status: r.status, output: r.stdout + r.stderr, text: r.status === 0 ? readFileSync(out, 'utf8') : '' };
}

/** The generated config must pass the same checks as `vmcp validate`: no errors. */
function expectValid(text: string): void {
  const loaded = loadConfig('vmcp.yaml', text, { env: {}, readFile: () => undefined });
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  expect(loaded.value).toBeDefined();
}

describe('vmcp init --from', () => {
  it('turns a Claude Desktop file into a valid vmcp.yaml with env references for secrets', () => {
    const r = init('claude', CLAUDE_DESKTOP);
    expect(r.status, r.output).toBe(0);
    expectValid(r.text);
    const doc = parse(r.text);
    expect(doc.name).toBe('claude');
    expect(doc.backends).toEqual([
      {
        name: 'github',
        transport: 'stdio',
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-github'],
        env: { GITHUB_PERSONAL_ACCESS_TOKEN: '${env:GITHUB_PERSONAL_ACCESS_TOKEN}' },
      },
      { name: 'memory', transport: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'] },
      {
        name: 'remote',
        transport: 'streamable-http',
        url: 'https://mcp.example.com/mcp',
        headers: { Authorization: 'Bearer ${env:AUTHORIZATION}' },
      },
    ]);
    expect(r.text).not.toContain('claudeSecret');
  });

  it('reads a VS Code file with comments, type http, and inputs', () => {
    const r = init('vscode', VSCODE);
    expect(r.status, r.output).toBe(0);
    expectValid(r.text);
    const doc = parse(r.text);
    expect(doc.backends.map((b: { name: string; transport: string }) => [b.name, b.transport]).sort()).toEqual([
      ['api', 'streamable-http'],
      ['fetch', 'stdio'],
      ['legacy', 'sse'],
    ]);
    const api = doc.backends.find((b: { name: string }) => b.name === 'api');
    expect(api.headers).toEqual({ 'X-Api-Key': '${env:X_API_KEY}', 'X-Team': '${env:X_TEAM}' });
    expect(r.text).not.toContain('vscodeSecretTeam42');
    expect(r.text).not.toContain('${input:');
  });

  it('writes a file that vmcp validate accepts', () => {
    const r = runNode([CLI, 'validate', '-c', join(tmp.dir, 'vscode.vmcp.yaml')], { cwd: tmp.dir });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('refuses to overwrite without --force, and reports a file that is not a client config', () => {
    const again = init('claude', CLAUDE_DESKTOP);
    expect(again.status).toBe(1);
    expect(again.output).toContain('already exists');
    const bad = init('bad', '{ "servers": 3 }');
    expect(bad.status).toBe(1);
    expect(bad.output).toContain('error[GROUP_IMPORT]');
  });
});
