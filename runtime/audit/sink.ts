/**
 * Where audit lines go: stderr or a file opened once, in append mode, at start-up. A write never
 * blocks or fails a call. While the stream holds more than a bound of unwritten bytes (a slow disk,
 * a stalled pipe), lines are dropped and counted, and the count is logged when the stream drains
 * and at shutdown. A write error is logged once; the lines after it are counted as dropped.
 */
import { openSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { StartupError } from '../env.ts';
import type { Logger } from '../log.ts';

/** Unwritten bytes a stream may hold before lines are dropped. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

/** One audit destination: takes whole lines, drops them rather than wait. */
export class AuditSink {
  /** Lines dropped since the last report. */
  private dropped = 0;
  private broken = false;
  private waitingForDrain = false;

  constructor(
    private readonly out: Writable,
    private readonly log: Logger,
    /** True when the sink opened the stream and must end it at shutdown (a file; not stderr). */
    private readonly owned: boolean,
    private readonly maxBufferedBytes = MAX_BUFFERED_BYTES,
  ) {
    out.on('error', (err: Error) => {
      if (this.broken) return;
      this.broken = true;
      log.error(
        { error: err.message },
        'audit: writing the audit log failed; later audit events are dropped and counted',
      );
    });
  }

  /** Appends one line (newline included), or drops and counts it. */
  write(line: string): void {
    const out = this.out;
    if (this.broken || out.destroyed) {
      this.dropped++;
      return;
    }
    if (out.writableLength > this.maxBufferedBytes) {
      this.dropped++;
      if (!this.waitingForDrain) {
        this.waitingForDrain = true;
        out.once('drain', () => {
          this.waitingForDrain = false;
          this.reportDrops();
        });
      }
      return;
    }
    out.write(line);
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
    this.reportDrops();
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
  return new AuditSink(createWriteStream(path, { fd, flags: 'a' }), log, true, maxBufferedBytes);
}
