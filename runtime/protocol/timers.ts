/**
 * The protocol layer keeps no timers of its own: what must happen later is asked of a `Timers`
 * given by the I/O layer (the gateway passes node's, unref'd; tests pass a hand-driven clock).
 */

/** Schedules `fn` after `ms`; returns a function that cancels it. */
export interface Timers {
  after(ms: number, fn: () => void): () => void;
}
