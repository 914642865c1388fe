/** Whether a tools/call result is an application error, read without decoding a large raw result. */
import type { Json } from './raw-json.ts';

/** Bytes at each end of a result searched for `isError` (MCP servers put it after the content, or first). */
const IS_ERROR_WINDOW = 512;
const IS_ERROR = /"isError"\s*:\s*true/;

/**
 * True when a tools/call result says `isError: true` (ToolHive's detectApplicationErrors looks at a
 * 512-byte prefix; servers write the flag after the content, so both ends are read). Only the two
 * ends of a large raw result are decoded.
 */
export function isToolError(result: Json): boolean {
  if (typeof result === 'string') {
    if (result.length <= 2 * IS_ERROR_WINDOW) return IS_ERROR.test(result);
    return IS_ERROR.test(result.slice(0, IS_ERROR_WINDOW)) || IS_ERROR.test(result.slice(-IS_ERROR_WINDOW));
  }
  if (result.bytes <= 2 * IS_ERROR_WINDOW) return IS_ERROR.test(result.text());
  const segs = result.segments.map((s) => (typeof s === 'string' ? Buffer.from(s) : s));
  const head: Buffer[] = [];
  for (let i = 0, n = 0; i < segs.length && n < IS_ERROR_WINDOW; i++, n += head[head.length - 1].length)
    head.push(segs[i].subarray(0, IS_ERROR_WINDOW - n));
  const tail: Buffer[] = [];
  for (let i = segs.length - 1, n = 0; i >= 0 && n < IS_ERROR_WINDOW; i--, n += tail[0].length)
    tail.unshift(segs[i].subarray(Math.max(0, segs[i].length - (IS_ERROR_WINDOW - n))));
  return IS_ERROR.test(Buffer.concat(head).toString('latin1')) || IS_ERROR.test(Buffer.concat(tail).toString('latin1'));
}
