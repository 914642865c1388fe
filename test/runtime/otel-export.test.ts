/** How the telemetry observer hands spans to its exporter: the SDK's batches of 512, every span once. */
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../runtime/log.ts';
import { OtelObserver } from '../../runtime/telemetry/otel.ts';

/** An exporter that records the size of each batch it is given. */
function recordingExporter() {
  const batches: number[] = [];
  const names = new Set<string>();
  const exporter: SpanExporter = {
    export(spans: ReadableSpan[], done) {
      batches.push(spans.length);
      for (const s of spans) names.add(s.name);
      done({ code: 0 });
    },
    shutdown: async () => {},
  };
  return { exporter, batches, names };
}

describe('span export', () => {
  it('exports every span of a burst once, in batches of at most 512, when it closes', async () => {
    const { exporter, batches, names } = recordingExporter();
    const observer = new OtelObserver(
      {
        endpoint: 'http://127.0.0.1:9',
        serviceName: 'export-test',
        tracingEnabled: true,
        metricsEnabled: false,
        samplingRate: 1,
      },
      createLogger({}, 'silent', () => {}),
      {},
      exporter,
    );
    const calls = 700;
    for (let i = 0; i < calls; i++) {
      const req = observer.request({ method: 'tools/call', target: `tool_${i}`, targetKind: 'tool', modern: false });
      req.upstream('b', 'stdio', 'tools/call', `tool_${i}`).end({ outcome: 'success' });
      req.end({ outcome: 'success' });
    }
    await observer.close(); // shutdown flushes what is queued
    expect(batches.reduce((a, b) => a + b, 0)).toBe(2 * calls);
    // Batches of 512 keep a remote collector's intake at 512 spans per round trip (one batch at a time).
    expect(Math.max(...batches)).toBe(512);
    expect(names.has('tools/call tool_699')).toBe(true);
  });
});
