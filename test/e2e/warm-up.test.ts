/**
 * The start-up warm-up (runtime/warm-up.ts): before the gateway says it listens, one throwaway
 * session runs initialize, the lists and DELETE through a throwaway core. The real bundle, with
 * OIDC, Cedar, traces, the audit log and /metrics all on: the warm-up ran (its debug line), and none
 * of the real gateway's outputs saw it, while the same outputs do record the first real client.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startIssuer, type Issuer } from '../fixtures/oauth/issuer.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { waitFor } from '../runtime/harness.ts';
import { compileConfig, REPO, startBundle, type RunningBundle } from './gateway.ts';

const ECHO = join(REPO, 'test', 'fixtures', 'servers', 'echo-server.mjs');
const AUDIENCE = 'vmcp-warm-up';

let receiver: OtlpReceiver;
let issuer: Issuer;
let gw: RunningBundle;
let dir: string;
let starts: string;

const auditLines = () =>
  existsSync(join(dir, 'audit.log'))
    ? readFileSync(join(dir, 'audit.log'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
const metrics = async () => (await fetch(gw.url.replace(/\/mcp$/, '/metrics'))).text();
const requestSamples = (text: string) => text.split('\n').filter((l) => l.startsWith('vmcp_requests_total{'));

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  issuer = await startIssuer();
  const node = JSON.stringify(process.execPath);
  starts = join(mkdtempSync(join(tmpdir(), 'vmcp-warm-up-')), 'starts.txt');
  // The backend records each start, so a test can tell whether anything but the real core started it.
  const launcher = `require('fs').appendFileSync(process.env.WARM_STARTS, process.pid + '\\n'); import(${JSON.stringify(ECHO)})`;
  const compiled = await compileConfig(
    'warm-up',
    `
name: warmed
backends:
  - name: echo
    transport: stdio
    command: ${node}
    args: ['-e', ${JSON.stringify(launcher)}]
    env:
      WARM_STARTS: ${JSON.stringify(starts)}
aggregation:
  conflictResolution: prefix
incomingAuth:
  type: oidc
  oidc:
    issuer: ${issuer.issuer}
    audience: ${AUDIENCE}
  authz:
    type: cedar
    policies:
      - 'permit(principal, action, resource);'
telemetry:
  endpoint: ${receiver.hostPort}
  insecure: true
  tracingEnabled: true
  samplingRate: 1
audit:
  enabled: true
  logFile: audit.log
`,
  );
  dir = compiled.dir;
  writeFileSync(starts, ''); // the compile's introspection started it once; count from here
  gw = await startBundle(
    compiled.bundle,
    [],
    { ...process.env, VMCP_LOG_LEVEL: 'debug', VMCP_LOG_FORMAT: 'json' },
    dir,
  );
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await Promise.all([receiver?.close(), issuer?.close()]);
  if (starts) rmSync(join(starts, '..'), { recursive: true, force: true });
});

describe('start-up warm-up', () => {
  it('ran its whole sequence before the listening line, and the real gateway saw none of it', async () => {
    const lines = gw
      .logs()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    const warm = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('warm-up:'));
    // initialize, notifications/initialized, tools/list, prompts/list, resources/list, DELETE.
    expect(warm, gw.logs()).toMatchObject({ answered: 6 });
    expect(warm.skipped).toBeUndefined();
    expect(lines.indexOf(warm)).toBeLessThan(lines.findIndex((l) => /vmcp listening on/.test(l.msg)));

    // Longer than the span exporter's batch delay (1 s): a warm-up span would have been sent by now.
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.spans).toEqual([]);
    expect(auditLines()).toEqual([]);
    expect(requestSamples(await metrics())).toEqual([]);
    // Only the real core started the backend, once (in its first quiet moment).
    await waitFor(() => readFileSync(starts, 'utf8').trim() !== '', 15_000, 'the backend start');
    expect(readFileSync(starts, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('the same outputs record the first real client (so their silence above means something)', async () => {
    const token = await issuer.mint({ sub: 'alice', aud: AUDIENCE });
    const client = new Client({ name: 'warm-up-test', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(gw.url), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('echo_echo');
    await client.close();
    // The audit sink gathers lines for a few milliseconds before it writes them.
    await waitFor(() => auditLines().some((e) => e.type === 'mcp_initialize'), 5000, 'the initialize audit event');
    expect(auditLines().filter((e) => e.type === 'mcp_initialize')).toHaveLength(1);
    expect(requestSamples(await metrics()).length).toBeGreaterThan(0);
    await waitFor(() => receiver.spans.find((s) => s.name === 'initialize'), 15_000, 'the initialize span');
    // Exported after anything the warm-up could have produced: still the client's alone.
    expect(receiver.spans.filter((s) => s.name === 'initialize')).toHaveLength(1);
  });
});
