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
