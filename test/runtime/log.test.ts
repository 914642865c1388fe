import { describe, expect, it } from 'vitest';
import { createLogger } from '../../runtime/log.ts';

describe('runtime logger (pino)', () => {
  const capture = (level: Parameters<typeof createLogger>[1] = 'debug') => {
    const lines: string[] = [];
    const log = createLogger({ gateway: 'gw' }, level, (l) => void lines.push(l));
    return { log, records: () => lines.map((l) => JSON.parse(l)) };
  };

  it("writes one JSON record per line in pino's shape, with child bindings", () => {
    const { log, records } = capture();
    log.child({ backend: 'b1' }).warn({ restarts: 2 }, 'backend unhealthy');
    const [r] = records();
    expect(r).toMatchObject({ level: 40, gateway: 'gw', backend: 'b1', restarts: 2, msg: 'backend unhealthy' });
    expect(typeof r.time).toBe('number');
  });

  it('filters below its level', () => {
    const { log, records } = capture('warn');
    log.info({}, 'quiet');
    log.debug({}, 'quieter');
    log.error({}, 'loud');
    expect(records().map((r) => r.msg)).toEqual(['loud']);
    expect(log.level).toBe(40);
  });

  it('redacts credential-shaped fields wherever a caller puts them', () => {
    const { log, records } = capture();
    const secret = 'sk-live-0123456789';
    log.info(
      {
        token: secret,
        headers: { authorization: `Bearer ${secret}` },
        req: { authorization: secret, clientSecret: secret },
        env: { API_KEY: secret },
      },
      'oops',
    );
    const line = JSON.stringify(records()[0]);
    expect(line).not.toContain(secret);
    expect(records()[0]).toMatchObject({
      token: '[redacted]',
      headers: '[redacted]',
      req: { authorization: '[redacted]', clientSecret: '[redacted]' },
      env: '[redacted]',
    });
  });
});

describe('pretty logs for a terminal', () => {
  it('one short line per record: time, level, backend, message, then the other fields; secrets stay redacted', async () => {
    const { prettyLine } = await import('../../runtime/log-pretty.ts');
    const lines: string[] = [];
    const log = createLogger({ gateway: 'gw' }, 'info', (l) => void lines.push(l), 'pretty');
    log
      .child({ backend: 'github' })
      .warn({ error: 'connect ECONNREFUSED', authorization: 'Bearer s3cret' }, 'backend connect failed');
    log.info({}, 'vmcp listening on http://127.0.0.1:4483/mcp');
    const plain = lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
    expect(plain[0]).toMatch(
      /^\d\d:\d\d:\d\d WARN {2}\[github\] backend connect failed {2}error="connect ECONNREFUSED" authorization=\[redacted\]\n$/,
    );
    expect(plain[1]).toMatch(/^\d\d:\d\d:\d\d INFO {2}vmcp listening on http:\/\/127\.0\.0\.1:4483\/mcp\n$/);
    expect(lines.join('')).not.toContain('s3cret');
    // Colour unless NO_COLOR; not JSON; a non-JSON line passes through.
    expect(prettyLine('{"level":50,"time":0,"msg":"x"}', true)).toContain('\x1b[31mERROR');
    expect(prettyLine('{"level":50,"time":0,"msg":"x"}', false)).not.toContain('\x1b[');
    expect(prettyLine('not json\n', false)).toBe('not json');
  });

  it('the format: --log-format, else VMCP_LOG_FORMAT, else pretty on a terminal and JSON elsewhere', async () => {
    const { resolveLogFormat } = await import('../../runtime/log.ts');
    const { parseArgs } = await import('../../runtime/args.ts');
    expect(resolveLogFormat(undefined, {}, true)).toBe('pretty');
    expect(resolveLogFormat(undefined, {}, false)).toBe('json');
    expect(resolveLogFormat(undefined, { VMCP_LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(resolveLogFormat('json', { VMCP_LOG_FORMAT: 'pretty' }, true)).toBe('json');
    expect(parseArgs(['--log-format', 'json']).logFormat).toBe('json');
    expect(() => parseArgs(['--log-format', 'yaml'])).toThrow(/--log-format must be json or pretty/);
  });
});
