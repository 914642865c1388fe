/** Unit tests of the stdio framing: lines split in one pass, bounded memory, oversized lines reported by their edges. */
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../runtime/transports/line-splitter.ts';
import { upstreamIdOf } from '../../runtime/transports/stdio-framing.ts';

function split(
  max: number,
  pieces: string[],
): { lines: string[]; over: Array<{ head: string; tail: string; bytes: number }> } {
  const lines: string[] = [];
  const over: Array<{ head: string; tail: string; bytes: number }> = [];
  const s = new LineSplitter(max, {
    line: (t) => lines.push(t),
    oversize: (head, tail, bytes) => over.push({ head, tail, bytes }),
  });
  for (const p of pieces) s.push(Buffer.from(p));
  return { lines, over };
}

describe('LineSplitter', () => {
  const cases: Array<{ name: string; max: number; pieces: string[]; lines: string[]; over?: number[] }> = [
    { name: 'one piece, several lines', max: 100, pieces: ['a\nbb\nccc\n'], lines: ['a', 'bb', 'ccc'] },
    { name: 'a line across pieces', max: 100, pieces: ['{"a"', ':1', '}\n'], lines: ['{"a":1}'] },
    { name: 'CRLF, and CR split from its LF', max: 100, pieces: ['x\r\n', 'y\r', '\n'], lines: ['x', 'y'] },
    { name: 'empty lines are skipped', max: 100, pieces: ['\n\r\n\nz\n'], lines: ['z'] },
    { name: 'an incomplete last line waits', max: 100, pieces: ['done\npart'], lines: ['done'] },
    { name: 'exactly the limit passes', max: 4, pieces: ['ab', 'cd\n'], lines: ['abcd'] },
    { name: 'one byte over in one piece', max: 4, pieces: ['abcde\nok\n'], lines: ['ok'], over: [5] },
    {
      name: 'over across pieces, then back in step',
      max: 4,
      pieces: ['ab', 'cd', 'ef', 'gh\nnext\n'],
      lines: ['next'],
      over: [8],
    },
    { name: 'two oversized lines in a row', max: 2, pieces: ['xxx\nyyyy\n'], lines: [], over: [3, 4] },
    {
      name: 'multi-byte characters split between pieces',
      max: 100,
      pieces: ['"\xe2'.slice(0, 1), 'é€"\n'],
      lines: ['"é€"'],
    },
  ];
  it.each(cases)('$name', ({ max, pieces, lines, over = [] }) => {
    const got = split(max, pieces);
    expect(got.lines).toEqual(lines);
    expect(got.over.map((o) => o.bytes)).toEqual(over);
  });

  it('decodes a character split across two pieces byte-wise', () => {
    const bytes = Buffer.from('"€"\n');
    const lines: string[] = [];
    const s = new LineSplitter(100, { line: (t) => lines.push(t), oversize: () => {} });
    s.push(bytes.subarray(0, 2));
    s.push(bytes.subarray(2));
    expect(lines).toEqual(['"€"']);
  });

  it('holds at most the limit while an oversized line streams in, and keeps its edges', () => {
    const over: Array<{ head: string; tail: string; bytes: number }> = [];
    const s = new LineSplitter(1000, {
      line: () => {},
      oversize: (head, tail, bytes) => over.push({ head, tail, bytes }),
    });
    s.push(Buffer.from('{"result":{"text":"'));
    let maxHeld = 0;
    for (let i = 0; i < 200; i++) {
      s.push(Buffer.alloc(4096, 'x'));
      maxHeld = Math.max(
        maxHeld,
        (s as unknown as { pieces: Buffer[] }).pieces.reduce((n, b) => n + b.length, 0),
      );
    }
    s.push(Buffer.from('"}},"jsonrpc":"2.0","id":42}\n'));
    expect(maxHeld).toBeLessThanOrEqual(1000);
    expect(over).toHaveLength(1);
    expect(over[0].head.startsWith('{"result":{"text":"xxx')).toBe(true);
    expect(over[0].tail.endsWith('"jsonrpc":"2.0","id":42}')).toBe(true);
    expect(over[0].bytes).toBe(19 + 200 * 4096 + 28);
  });
});

describe('upstreamIdOf', () => {
  const cases: Array<{ head: string; tail: string; want: number | undefined }> = [
    { head: '{"result":{"content":[{"id":3', tail: '...]},"jsonrpc":"2.0","id":7}', want: 7 },
    { head: '{"jsonrpc":"2.0","id":12,"result":{', tail: '...}}', want: 12 },
    { head: '{"id":5,"result":', tail: '"}}', want: 5 },
    { head: '{"result":{"id":9,', tail: '"x"}}', want: undefined },
    { head: '{"result":', tail: '{"nested":{"id":4}}}', want: undefined },
    { head: '{"result":', tail: '"id":"abc"}', want: undefined },
  ];
  it.each(cases)('$head … $tail → $want', ({ head, tail, want }) => expect(upstreamIdOf(head, tail)).toBe(want));

  it('a line over rawAbove goes to big() whether it came in one read or several; shorter ones are text', () => {
    const got: string[] = [];
    const s = new LineSplitter(
      1000,
      {
        line: (t) => got.push(`line ${t}`),
        oversize: () => got.push('oversize'),
        big: (pieces, bytes) => {
          got.push(`big ${bytes} ${Buffer.concat(pieces).toString()}`);
          return true;
        },
      },
      10,
    );
    s.push(Buffer.from('short\n0123456789abc\r\n'));
    s.push(Buffer.from('0123456'));
    s.push(Buffer.from('789xyz\n'));
    expect(got).toEqual(['line short', 'big 13 0123456789abc', 'big 13 0123456789xyz']);
  });

  it('a line big() declines is decoded and parsed as usual', () => {
    const got: string[] = [];
    const s = new LineSplitter(1000, { line: (t) => got.push(t), oversize: () => {}, big: () => false }, 4);
    s.push(Buffer.from('{"method":"x"}\n'));
    expect(got).toEqual(['{"method":"x"}']);
  });
});
