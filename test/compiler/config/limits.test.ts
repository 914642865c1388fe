/** operational.limits: defaults, byte sizes, and positioned errors for bad values. */
import { describe, expect, it } from 'vitest';
import { buildGateway } from '../../../compiler/emit/gateway.ts';
import { DEFAULT_LIMITS, parseByteSize } from '../../../runtime/limits.ts';
import { HEAD, actual, load } from './helpers.ts';

describe('operational.limits', () => {
  it.each([
    ['32MiB', 32 * 1024 * 1024],
    ['32MB', 32_000_000],
    ['512KiB', 512 * 1024],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['100', 100],
    [4096, 4096],
    ['12 MB', 12_000_000],
    ['32mb', undefined],
    ['-1', undefined],
    ['lots', undefined],
    [1.5, undefined],
  ])('parseByteSize(%j) = %j', (given, want) => expect(parseByteSize(given)).toBe(want));

  it('compiles the defaults when the block is absent, equal to the runtime defaults', () => {
    const r = load(HEAD);
    expect(r.diagnostics).toEqual([]);
    const gw = buildGateway(
      r.value!.config,
      [],
      { lockfileVersion: 1, backends: {} } as never,
      { tools: [], prompts: [], resources: [], resourceTemplates: [] } as never,
    );
    expect(gw.operational.limits).toEqual(DEFAULT_LIMITS);
  });

  it('compiles sizes and durations as written', () => {
    const r = load(
      HEAD +
        'operational:\n  limits:\n    maxMessageSize: 1MiB\n    maxSessions: 5\n    sessionIdleTimeout: 90s\n    maxStreamBuffer: 65536\n',
    );
    expect(r.diagnostics).toEqual([]);
    const gw = buildGateway(
      r.value!.config,
      [],
      { lockfileVersion: 1, backends: {} } as never,
      { tools: [], prompts: [], resources: [], resourceTemplates: [] } as never,
    );
    expect(gw.operational.limits).toMatchObject({
      maxMessageBytes: 1024 * 1024,
      maxSessions: 5,
      sessionIdleMs: 90_000,
      maxStreamBufferBytes: 65536,
    });
  });

  it.each([
    ['a size with an unknown unit', 'maxMessageSize: 32 megs', ['BAD_VALUE 8:21']],
    ['a zero size', 'maxStreamBuffer: 0', ['BAD_VALUE 8:22']],
    ['a session limit of zero', 'maxSessions: 0', ['BAD_VALUE 8:18']],
    ['an idle timeout without a unit', 'sessionIdleTimeout: 30', ['BAD_DURATION 8:25']],
    ['a misspelled key', 'maxSession: 10', ['UNKNOWN_KEY 8:5']],
  ])('%s is an error at its value', (_name, line, want) => {
    const r = load(HEAD + `operational:\n  limits:\n    ${line}\n`);
    expect(actual(r.diagnostics, want)).toEqual(want);
    expect(r.value).toBeUndefined();
  });
});
