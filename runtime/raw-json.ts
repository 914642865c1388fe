/**
 * JSON that is forwarded as the bytes it arrived in. A large upstream result (say 50 MB) costs a
 * decode, a parse, a re-serialization and an encode when it travels as an object: seconds of one
 * blocked event loop. When the gateway only relays it, it is kept as the pieces read from the
 * backend and written downstream between a short prefix and suffix, never decoded.
 */

/** A piece of serialized JSON: text the gateway wrote, or bytes a backend sent. */
type Segment = string | Buffer;

/** Serialized JSON held as segments; `parse()` gives the value when someone needs to look inside. */
export class RawJson {
  /** Total length in bytes. */
  readonly bytes: number;

  constructor(readonly segments: readonly Segment[]) {
    let n = 0;
    for (const s of segments) n += typeof s === 'string' ? Buffer.byteLength(s) : s.length;
    this.bytes = n;
  }

  /** The same JSON between `prefix` and `suffix` (both serialized text). */
  wrap(prefix: string, suffix: string): RawJson {
    return new RawJson([prefix, ...this.segments, suffix]);
  }

  /**
   * An object result with `fields` (serialized `"key":value` pairs) put first. JSON.parse keeps the
   * last of duplicate keys, so a field the backend sent itself still wins, as when the gateway sets
   * it only if it is absent. Assumes the JSON is an object (`{…}`), as every MCP result is.
   */
  withLeadingFields(fields: string): RawJson {
    const [first, ...rest] = this.segments;
    const head = typeof first === 'string' ? Buffer.from(first) : first;
    const open = head.indexOf(0x7b); // '{'
    let after = open + 1;
    while (
      after < head.length &&
      (head[after] === 0x20 || head[after] === 0x0a || head[after] === 0x0d || head[after] === 0x09)
    )
      after++;
    const empty = after < head.length ? head[after] === 0x7d : rest.length > 0 && firstByte(rest) === 0x7d;
    return new RawJson([`{${fields}${empty ? '' : ','}`, head.subarray(after), ...rest]);
  }

  /** The value, parsed (costs what forwarding as bytes saves; for callers that must look inside). */
  parse(): any {
    return JSON.parse(this.text());
  }

  /** The JSON as a string. */
  text(): string {
    return Buffer.concat(this.segments.map((s) => (typeof s === 'string' ? Buffer.from(s) : s))).toString('utf8');
  }
}

function firstByte(segments: readonly Segment[]): number | undefined {
  for (const s of segments) {
    const b = typeof s === 'string' ? Buffer.from(s.trimStart()) : s;
    for (let i = 0; i < b.length; i++)
      if (b[i] !== 0x20 && b[i] !== 0x0a && b[i] !== 0x0d && b[i] !== 0x09) return b[i];
  }
  return undefined;
}

/** Serialized JSON as it leaves the gateway: a string, or raw segments. */
export type Json = string | RawJson;
