/**
 * Reading JSON-RPC messages from a stdio backend's stdout without parsing them: where a large
 * response's result and id lie (read from the line's edges only, so a 50 MB answer is relayed as
 * bytes), and which call an oversized line answered.
 */
import type { JsonRpcMessage } from '../plugins.ts';
import { RawJson } from '../raw-json.ts';

/**
 * Answers longer than this (a stdio line, an HTTP body or an SSE event, in UTF-8 bytes) are relayed
 * as bytes (RawJson) instead of being parsed and re-serialized:
 * JSON.parse plus JSON.stringify cost about 14 µs for a 4 KB answer, 67 µs for 16 KB and 3.4 ms for
 * 256 KB (a third of a whole proxied call's CPU already at 16 KB), while the edges are read in under
 * a microsecond at any size. Smaller answers are parsed, which also checks them.
 */
export const RAW_ABOVE_BYTES = 8 * 1024;
const EDGE = 256;
/** `{"result":` at the start, with the id at the end (`,"jsonrpc":"2.0","id":7}` as the MCP SDK writes it). */
const RESULT_FIRST = /^\s*\{\s*"result"\s*:\s*/;
const ID_LAST =
  /\s*,\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*(\d+)|"id"\s*:\s*(\d+)\s*(?:,\s*"jsonrpc"\s*:\s*"2\.0")?)\s*\}\s*$/;
/** The id first (`{"jsonrpc":"2.0","id":7,"result":`), the result last. */
const ID_FIRST =
  /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*(\d+)|"id"\s*:\s*(\d+)\s*(?:,\s*"jsonrpc"\s*:\s*"2\.0")?)\s*,\s*"result"\s*:\s*/;
const RESULT_LAST = /\s*\}\s*$/;

/**
 * Where the result object of a response lies in its bytes, and the response's id, read from the
 * first and last bytes only. Undefined unless the message is shaped like a response whose
 * top-level keys are exactly result, id and jsonrpc, with an object result: then the caller parses.
 */
export function resultSpanOf(pieces: Buffer[], bytes: number): { id: number; start: number; end: number } | undefined {
  const head = pieces[0].toString('latin1', 0, Math.min(EDGE, pieces[0].length));
  const last = pieces[pieces.length - 1];
  const tailBuf =
    last.length >= EDGE || pieces.length === 1
      ? last.subarray(Math.max(0, last.length - EDGE))
      : Buffer.concat(pieces.slice(-2)).subarray(-EDGE);
  const tail = tailBuf.toString('latin1');
  let m = RESULT_FIRST.exec(head);
  let t = m && ID_LAST.exec(tail);
  let id: string | undefined;
  if (m && t) id = t[1] ?? t[2];
  else {
    m = ID_FIRST.exec(head);
    t = m && RESULT_LAST.exec(tail);
    if (m && t) id = m[1] ?? m[2];
  }
  if (!m || !t || id === undefined) return undefined;
  const start = m[0].length;
  const end = bytes - t[0].length;
  // The result must be one object: `{` first and `}` last (the edges are ASCII, so chars are bytes).
  if (head.charCodeAt(start) !== 0x7b || tail.charCodeAt(tail.length - t[0].length - 1) !== 0x7d || end <= start)
    return undefined;
  return { id: Number(id), start, end };
}

/**
 * A response as a message whose result stays the bytes it came in (RawJson), when its edges show
 * the shape resultSpanOf reads; undefined otherwise (the caller parses).
 */
export function rawResponse(pieces: Buffer[], bytes: number): JsonRpcMessage | undefined {
  const span = resultSpanOf(pieces, bytes);
  return span && { jsonrpc: '2.0', id: span.id, result: new RawJson(sliceParts(pieces, span.start, span.end)) };
}

/** Bytes [start, end) of the concatenation of `pieces`, without copying them. */
export function sliceParts(pieces: Buffer[], start: number, end: number): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  for (const p of pieces) {
    const from = Math.max(start - offset, 0);
    const to = Math.min(end - offset, p.length);
    if (to > from) out.push(from === 0 && to === p.length ? p : p.subarray(from, to));
    offset += p.length;
    if (offset >= end) break;
  }
  return out;
}

/** A message whose first key is `method` (or `jsonrpc` then `method`): not an answer to one of our calls. */
export const MESSAGE_WITH_METHOD = /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"method"/;
/**
 * The id of the upstream request an oversized response answers, read from its edges only: the
 * top-level id comes first (`{"jsonrpc":"2.0","id":7,…`, `{"id":7,…`) or last (`…,"id":7}`, as
 * the MCP SDK writes responses). Anything else (an id nested inside the result) is not trusted.
 */
export function upstreamIdOf(head: string, tail: string): number | undefined {
  const first = /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*(\d+)\s*,/.exec(head);
  const last = /[,{]\s*"id"\s*:\s*(\d+)\s*(?:,\s*"jsonrpc"\s*:\s*"2\.0"\s*)?\}\s*$/.exec(tail);
  const m = first ?? last;
  return m ? Number(m[1]) : undefined;
}
