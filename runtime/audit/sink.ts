/**
 * Where audit lines go: stderr or a file opened once, in append mode, at start-up. A write never
 * blocks or fails a call. Lines are gathered for up to `flushMs` (or 64 KiB) and written together:
 * one write per batch instead of one per event (for a file, each write is a thread-pool job and two
 * thread wake-ups). Shutdown and process exit write what is gathered. While the stream holds more
 * than a bound of unwritten bytes (a slow disk, a stalled pipe), lines are dropped and counted, and
 * the count is logged when the stream drains and at shutdown. A write error is logged once; the
 * lines after it are counted as dropped.
 */
import { createWriteStream, openSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { StartupError } from '../env.ts';
import type { Logger } from '../log.ts';

/** Unwritten bytes a stream may hold before lines are dropped. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
/** How long the gateway's sinks gather lines before writing them (the event times are exact). */
export const FLUSH_MS = 5;
/** A batch this large is written at once. */
const MAX_BATCH_BYTES = 64 * 1024;

/** One audit destination: takes whole lines, drops them rather than wait. */
export class AuditSink {
  /** Lines dropped since the last report. */
  private dropped = 0;
  private broken = false;
  private waitingForDrain = false;
  /** Lines gathered and not yet handed to the stream. */
  private batch: string[] = [];
  private batchBytes = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** At process exit (a fatal error, a second signal), gathered lines are written synchronously. */
  private readonly onExit = () => {
    const lines = this.take();
    // Only when nothing older is still on its way: written now, these lines would land before it.
    if (lines === undefined || this.closed() || this.out.writableLength > 0) return;
    try {
      if (this.fd !== undefined) writeSync(this.fd, lines);
      else this.out.write(lines);
    } catch {
      // Exiting: nowhere left to report it.
    }
  };

  constructor(
    private readonly out: Writable,
    private readonly log: Logger,
    /** True when the sink opened the stream and must end it at shutdown (a file; not stderr). */
    private readonly owned: boolean,
    private readonly maxBufferedBytes = MAX_BUFFERED_BYTES,
    /** Gathering window; 0 hands every line to the stream at once. */
    private readonly flushMs = 0,
    /** The file's descriptor, for the synchronous write at exit. */
    private readonly fd?: number,
  ) {
    out.on('error', this.onError);
  }

  private readonly onError = (err: Error) => {
    if (this.broken) return;
    this.broken = true;
    this.log.error(
      { error: err.message },
      'audit: writing the audit log failed; later audit events are dropped and counted',
    );
  };

  /** True once the stream cannot take lines: failed, destroyed, or ended by close(). */
  private closed(): boolean {
    return this.broken || this.out.destroyed || this.out.writableEnded;
  }

  /** Appends one line (newline included), or drops and counts it. */
  write(line: string): void {
    if (this.flushMs <= 0) return this.send(line, 1);
    if (this.closed()) {
      this.dropped++;
      return;
    }
    this.batch.push(line);
    this.batchBytes += line.length;
    if (this.batchBytes >= MAX_BATCH_BYTES) this.flush();
    else if (this.timer === undefined) {
      if (this.batch.length === 1) process.once('exit', this.onExit);
      this.timer = setTimeout(() => this.flush(), this.flushMs);
    }
  }

  /** Hands the gathered lines to the stream now. */
  flush(): void {
    const n = this.batch.length;
    const lines = this.take();
    if (lines !== undefined) this.send(lines, n);
  }

  private take(): string | undefined {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch.length === 0) return undefined;
    const lines = this.batch.length === 1 ? this.batch[0] : this.batch.join('');
    this.batch = [];
    this.batchBytes = 0;
    process.off('exit', this.onExit);
    return lines;
  }

  /** Writes `lines` (`count` of them), or drops and counts them. */
  private send(lines: string, count: number): void {
    const out = this.out;
    if (this.closed()) {
      this.dropped += count;
      return;
    }
    if (out.writableLength > this.maxBufferedBytes) {
      this.dropped += count;
      if (!this.waitingForDrain) {
        this.waitingForDrain = true;
        out.once('drain', () => {
          this.waitingForDrain = false;
          this.reportDrops();
        });
      }
      return;
    }
    out.write(lines);
  }

  /** Lines dropped and not yet reported (for tests and /status). */
  get droppedCount(): number {
    return this.dropped;
  }

  private reportDrops(): void {
    if (this.dropped === 0) return;
    this.log.warn(
      { dropped: this.dropped },
      `audit: ${this.dropped} audit events were dropped (the audit log could not keep up or could not be written)`,
    );
    this.dropped = 0;
  }

  /** Reports drops and, for a file, flushes and closes it; never throws. */
  async close(): Promise<void> {
    this.flush();
    this.reportDrops();
    // stderr outlives this sink (a dev-mode reload makes a new one): leave no listener on it.
    if (!this.owned) this.out.off('error', this.onError);
    if (!this.owned || this.broken || this.out.destroyed) return;
    await new Promise<void>((resolve) => {
      this.out.once('error', () => resolve());
      this.out.end(() => resolve());
    });
  }
}

/** Opens `path` for appending at start-up (a path that cannot be opened stops start-up, as in ToolHive). */
export function openAuditFile(path: string, log: Logger, maxBufferedBytes?: number): AuditSink {
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o600);
  } catch (err) {
    throw new StartupError(`audit.logFile: cannot open ${path} for appending: ${(err as Error).message}`);
  }
  return new AuditSink(createWriteStream(path, { fd, flags: 'a' }), log, true, maxBufferedBytes, FLUSH_MS, fd);
}
