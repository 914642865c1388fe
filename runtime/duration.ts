/** Go-style durations as ToolHive writes them: "30s", "1m30s", "500ms", "1.5h". */
const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const PART_RE = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** True when `text` is a well-formed duration (zero included; positivity is checked separately). */
export function isDuration(text: string): boolean {
  return DURATION_RE.test(text);
}

/** Parses a duration to milliseconds, or undefined when malformed. "1m30s" → 90000. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(PART_RE)) ms += Number(m[1]) * UNIT_MS[m[2]];
  return ms;
}
