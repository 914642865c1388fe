/**
 * Operational settings that reach the runtime from vmcp.yaml: `failureHandling.healthCheckTimeout`
 * bounds each health probe, and `logLevel` sets the log level (VMCP_LOG_LEVEL overrides it).
 */
import { describe, expect, it } from 'vitest';
import { healthProbeTimeoutMs } from '../../runtime/backend/supervisor.ts';
import { resolveLogLevel } from '../../runtime/log.ts';
import { ECHO, backendStatus, pidAlive, startGatewayOver, waitFor } from './harness.ts';

const EMPTY = { tools: [], prompts: [], resources: [], resourceTemplates: [], capabilities: {} };

describe('healthProbeTimeoutMs', () => {
  it.each([
    { given: { healthCheckIntervalMs: 30_000, healthCheckTimeoutMs: 10_000 }, call: 60_000, want: 10_000 },
    { given: { healthCheckIntervalMs: 400, healthCheckTimeoutMs: 150 }, call: 5_000, want: 150 },
    // Without the compiled field (an older bundle): the call timeout, capped by the interval, at least 1 s.
    { given: { healthCheckIntervalMs: 30_000 }, call: 5_000, want: 5_000 },
    { given: { healthCheckIntervalMs: 200 }, call: 5_000, want: 1_000 },
  ])('$given with a call timeout of $call ms → $want ms', ({ given, call, want }) => {
    expect(healthProbeTimeoutMs(given, call)).toBe(want);
  });
});

describe('resolveLogLevel', () => {
  it.each([
    { configured: undefined, env: {}, want: 'info' },
    { configured: 'debug', env: {}, want: 'debug' },
    { configured: 'debug', env: { VMCP_LOG_LEVEL: 'warn' }, want: 'warn' },
    { configured: 'error', env: { VMCP_LOG_LEVEL: 'DEBUG' }, want: 'debug' },
    // An env value that names no level is ignored rather than silencing the log.
    { configured: 'warn', env: { VMCP_LOG_LEVEL: 'loud' }, want: 'warn' },
  ] as const)('config $configured, env $env → $want', ({ configured, env, want }) => {
    expect(resolveLogLevel(configured, env)).toBe(want);
  });
});

describe('a hung stdio backend is probed with healthCheckTimeout, not the call timeout', () => {
  it('the failed probe names the configured deadline', async () => {
    const g = await startGatewayOver([{ name: 'echo', args: [ECHO], timeoutMs: 5_000 }], {
      operational: { healthCheckIntervalMs: 400, healthCheckTimeoutMs: 150, unhealthyThreshold: 1 },
    });
    let frozen: number | undefined;
    try {
      const ready = await waitFor(
        async () => {
          const b = await backendStatus(g, 'echo');
          return b.state === 'ready' && b;
        },
        10_000,
        'ready',
      );
      frozen = ready.pid as number;
      process.kill(frozen, 'SIGSTOP');
      const down = await waitFor(
        async () => {
          const b = await backendStatus(g, 'echo');
          return b.state === 'unhealthy' && b;
        },
        10_000,
        'unhealthy',
      );
      // Without healthCheckTimeout the probe would wait min(5000, 400) = 400 ms.
      expect(down.lastError).toMatch(/did not answer ping within 150 ms/);
    } finally {
      if (frozen && pidAlive(frozen)) process.kill(frozen, 'SIGKILL');
      await g.stop();
    }
  });
});

describe('operational.logLevel reaches the bundle, and VMCP_LOG_LEVEL overrides it', () => {
  // A backend that writes one stderr line and exits: the line is logged at debug, the exit at warn.
  const noisy = [
    {
      name: 'noisy',
      args: ['-e', 'process.stderr.write("noisy-stderr-line\\n"); setTimeout(() => process.exit(3), 50);'],
      catalog: EMPTY,
    },
  ];
  const { VMCP_LOG_LEVEL: _, ...quietEnv } = process.env;
  const DEBUG_LINE = /"level":20,[^\n]*"stderr":"noisy-stderr-line"[^\n]*"msg":"backend stderr"/;

  it('logLevel debug: the backend stderr line is logged', async () => {
    const g = await startGatewayOver(noisy, { operational: { logLevel: 'debug' } }, [], quietEnv);
    try {
      await waitFor(() => DEBUG_LINE.test(g.logs()), 10_000, 'the debug line');
    } finally {
      await g.stop();
    }
  });

  it('VMCP_LOG_LEVEL=info overrides logLevel debug: warnings only, no debug line', async () => {
    const g = await startGatewayOver(noisy, { operational: { logLevel: 'debug' } }, [], {
      ...quietEnv,
      VMCP_LOG_LEVEL: 'info',
    });
    try {
      await waitFor(() => /backend (connect failed|connection lost)/.test(g.logs()), 10_000, 'the exit warning');
      // The warning quotes the stderr tail; the debug record of the line itself is what must be absent.
      expect(g.logs()).not.toMatch(DEBUG_LINE);
    } finally {
      await g.stop();
    }
  });
});
