/**
 * The response type both HTTP transports read, whichever client carried the request (the lean pool
 * or node:http), and the error a body or an SSE event over the backend's message size limit raises.
 */

/** An upstream response: status, headers, and the body read once as text, as SSE events, or dropped. */
export interface UpstreamResponse {
  readonly status: number;
  /** A header by lower-case name; repeated headers are joined with ", ". */
  header(name: string): string | undefined;
  /** The whole body; rejects with MessageTooLargeError (and resets the exchange) past the request's limit. */
  text(): Promise<string>;
  /**
   * Calls `onEvent` per event; resolves when the body ends (or breaks off). An event over the
   * request's limit resets the exchange and rejects with MessageTooLargeError.
   */
  sse(onEvent: (event: string, data: string) => void): Promise<void>;
  discard(): void;
}

/** One request in flight: its response, and an abort that tears the exchange down (no AbortController). */
export interface SentRequest {
  response: Promise<UpstreamResponse>;
  abort(): void;
}

/** An upstream message (a body, an SSE event) went past `limit` bytes; it was dropped unread. */
export class MessageTooLargeError extends Error {
  constructor(
    readonly limit: number,
    /** What was too large, for messageTooLargeText: "a response body", "an SSE event". */
    readonly what: string,
  ) {
    super(`${what} larger than ${limit} bytes`);
  }
}
