/**
 * Newline-delimited JSON framing for stdio backends, in linear time and bounded memory.
 *
 * A pipe delivers a long line in 64 KB pieces. Appending each piece to a string and searching from
 * the start is O(N²) in the line's length (a 50 MB result held the event loop for over a minute),
 * so pieces are kept as Buffers, only the new piece is searched for a newline, and a line is
 * decoded once, when it is complete. A line over `maxBytes` is not kept: its bytes are dropped as
 * they arrive and only its first and last few hundred bytes are remembered, so the caller can tell
 * which request it answered (`{"result":…,"jsonrpc":"2.0","id":7}` ends with its id).
 */

/** How much of an oversized line is kept at each end, to find its JSON-RPC id. */
const EDGE_BYTES = 512;

/** What the splitter reports. */
export interface LineSink {
  /** One complete line (without its newline or a trailing CR); never empty. */
  line(text: string): void;
  /** A line longer than the limit was dropped; `head`/`tail` are its first and last bytes, `bytes` its length. */
  oversize(head: string, tail: string, bytes: number): void;
  /**
   * A complete line over the splitter's `rawAbove` size, still as the pieces it arrived in; true
   * when the sink took it as it is, false to have it decoded and handed to `line` as usual.
   */
  big?(pieces: Buffer[], bytes: number): boolean;
}

/** Splits a byte stream into lines; feed it with `push`, in order. */
export class LineSplitter {
  private pieces: Buffer[] = [];
  private size = 0;
  /** Set while dropping an oversized line: its head, and the rolling tail of what followed. */
  private dropHead: Buffer | undefined;
  private dropTail: Buffer = Buffer.alloc(0);

  constructor(
    private readonly maxBytes: number,
    private readonly sink: LineSink,
    /** Lines longer than this are offered to `sink.big` undecoded. */
    private readonly rawAbove = Infinity,
  ) {}

  /** Handles one piece of the stream. */
  push(buf: Buffer): void {
    let start = 0;
    for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
      this.complete(buf, start, nl);
      start = nl + 1;
    }
    if (start < buf.length) this.hold(start === 0 ? buf : buf.subarray(start));
  }

  /** Bytes of the incomplete line held right now (bounded by the limit). */
  get held(): number {
    return this.size;
  }

  private hold(piece: Buffer): void {
    this.size += piece.length;
    if (this.dropHead !== undefined) return this.keepTail(piece);
    if (this.size <= this.maxBytes) return void this.pieces.push(piece);
    // Over the limit: keep only the edges from now on.
    const all = Buffer.concat([...this.pieces, piece]);
    this.pieces = [];
    this.dropHead = Buffer.from(all.subarray(0, EDGE_BYTES));
    this.keepTail(all);
  }

  private keepTail(piece: Buffer): void {
    const joined =
      this.dropTail.length === 0
        ? piece
        : Buffer.concat([this.dropTail, piece.subarray(Math.max(0, piece.length - EDGE_BYTES))]);
    this.dropTail = Buffer.from(joined.subarray(Math.max(0, joined.length - EDGE_BYTES)));
  }

  private complete(buf: Buffer, start: number, nl: number): void {
    if (this.pieces.length === 0 && this.dropHead === undefined && nl - start <= this.maxBytes) {
      // The common case: the whole line is in this piece.
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      // A long line that came in one read is relayed as bytes too, when it is shaped for that.
      if (end - start > this.rawAbove && this.sink.big?.([buf.subarray(start, end)], end - start)) return;
      if (end > start) this.sink.line(buf.toString('utf8', start, end));
      return;
    }
    this.hold(buf.subarray(start, nl));
    if (this.dropHead !== undefined) {
      const [head, tail, bytes] = [this.dropHead.toString('utf8'), this.dropTail.toString('utf8'), this.size];
      this.reset();
      return this.sink.oversize(head, tail.endsWith('\r') ? tail.slice(0, -1) : tail, bytes);
    }
    if (this.size > this.rawAbove && this.sink.big) {
      const [pieces, bytes] = [this.pieces, this.size];
      this.reset();
      if (this.sink.big(pieces, bytes)) return;
      this.pieces = pieces;
      this.size = bytes;
    }
    let text = Buffer.concat(this.pieces, this.size).toString('utf8');
    this.reset();
    if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    if (text.length > 0) this.sink.line(text);
  }

  private reset(): void {
    this.pieces = [];
    this.size = 0;
    this.dropHead = undefined;
    this.dropTail = Buffer.alloc(0);
  }
}
