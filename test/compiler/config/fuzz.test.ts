import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../compiler/config/validate.ts';
import { formatDiagnostics } from '../../../compiler/format-diagnostics.ts';

const ROOT = join(import.meta.dirname, '../../..');
// A fixed number of runs from a fixed seed: the same inputs every time, however fast the machine.
const RUNS = 2000;
const SEED = 0x5eed_c0de;

/** mulberry32: a tiny seeded PRNG, so a failure names an input that can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const exampleFiles = readdirSync(join(ROOT, 'examples'), { recursive: true, encoding: 'utf8' }).filter((f) =>
  f.endsWith('.yaml'),
);
const SEEDS = [
  ...exampleFiles.map((f) => readFileSync(join(ROOT, 'examples', f), 'utf8')),
  ...['schema-errors.yaml', 'semantic-errors.yaml'].map((f) =>
    readFileSync(join(ROOT, 'test/fixtures/configs/golden', f), 'utf8'),
  ),
  'name: gw\nbackendsFrom: [mcp.json]\nbackends:\n  - name: a\n    transport: sse\n    url: https://a.example.com/sse\n    headers: {Authorization: "${env:TOKEN}"}\n',
];
const MCP_JSON =
  '{\n  "mcpServers": {\n    "m": { "command": "npx", "args": ["-y", "x"] },\n    "r": { "type": "http", "url": "https://r.example.com" }\n  }\n}\n';
const VALUES = [
  '42',
  'true',
  'null',
  '~',
  '[]',
  '{}',
  '"x"',
  '-1s',
  '0s',
  '1.5',
  'http://',
  '[a, b]',
  '{a: 1}',
  '&a x',
  '*a',
  '!!binary x',
  "'",
  '"',
  '|',
  '>-',
  '@x',
  '`x`',
  '%x',
  '${env:}',
  '${env:A',
];
const GARBAGE = [
  '\t',
  ':',
  ': ',
  '{',
  '}',
  '[',
  ']',
  ',',
  '&',
  '*',
  '!',
  '%',
  '@',
  '`',
  '\0',
  '\u0007',
  '\uFFFD',
  '\u2028',
  '"',
  "'",
  '|',
  '>',
  '#',
  '- ',
  '? ',
  '---\n',
  '...\n',
  '\r',
  '\n',
  '😀',
  '\\',
];

type Mutation = (text: string, r: () => number) => string;
const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)];
const onLine = (text: string, r: () => number, f: (line: string, lines: string[], i: number) => string[]) => {
  const lines = text.split('\n');
  const i = Math.floor(r() * lines.length);
  lines.splice(i, 1, ...f(lines[i], lines, i));
  return lines.join('\n');
};

/** Each mutation is named for the failure message. */
const MUTATIONS: Record<string, Mutation> = {
  deleteLine: (t, r) => onLine(t, r, () => []),
  duplicateLine: (t, r) => onLine(t, r, (l) => [l, l]),
  retypeValue: (t, r) =>
    onLine(t, r, (l) => [
      l.includes(': ') ? `${l.slice(0, l.indexOf(': ') + 2)}${pick(VALUES, r)}` : `${l} ${pick(VALUES, r)}`,
    ]),
  renameKey: (t, r) =>
    onLine(t, r, (l) => [l.replace(/([A-Za-z])([A-Za-z]*):/, (_, a: string, b: string) => `${b}${a}x:`)]),
  truncate: (t, r) => t.slice(0, Math.floor(r() * t.length)),
  injectGarbage: (t, r) => {
    const at = Math.floor(r() * (t.length + 1));
    return t.slice(0, at) + pick(GARBAGE, r) + t.slice(at);
  },
  swapIndent: (t, r) => onLine(t, r, (l) => [pick(['', ' ', '  ', '\t', '      '], r) + l.trimStart()]),
  moveLine: (t, r) => {
    const lines = t.split('\n');
    const [line] = lines.splice(Math.floor(r() * lines.length), 1);
    lines.splice(Math.floor(r() * (lines.length + 1)), 0, line);
    return lines.join('\n');
  },
};
const NAMES = Object.keys(MUTATIONS);

describe('fuzz: mutated configs never crash the loader and always point at a line', () => {
  // 7-15 s on a busy 2-core machine; the generous timeout only guards against a hang.
  it(`loads ${RUNS} mutated configs (seed 0x${SEED.toString(16)})`, { timeout: 180_000 }, () => {
    // Nothing may reach stderr behind the diagnostics' back (yaml's process warnings, for one).
    const emitWarning = vi.spyOn(process, 'emitWarning');
    const r = prng(SEED);
    const started = performance.now();
    const outcomes = { valid: 0, invalid: 0 };
    let runs = 0;
    for (; runs < RUNS; runs++) {
      let text = pick(SEEDS, r);
      const applied: string[] = [];
      for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
        const name = pick(NAMES, r);
        applied.push(name);
        text = MUTATIONS[name](text, r);
      }
      const context = `run ${runs} (seed ${SEED}), mutations ${applied.join(', ')}:\n${text}`;
      let result: ReturnType<typeof loadConfig>;
      try {
        result = loadConfig('vmcp.yaml', text, {
          env: { TOKEN: 't' },
          readFile: (p) => (p === 'mcp.json' ? MCP_JSON : undefined),
        });
        formatDiagnostics(
          result.diagnostics,
          new Map([
            ['vmcp.yaml', text],
            ['mcp.json', MCP_JSON],
          ]),
        );
      } catch (err) {
        throw new Error(`loader threw ${(err as Error).stack} on ${context}`);
      }
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      if (result.value) outcomes.valid++;
      else {
        outcomes.invalid++;
        expect(errors.length, context).toBeGreaterThan(0);
      }
      if (result.value) expect(errors, context).toEqual([]);
      for (const d of result.diagnostics) {
        expect(d.line, `${d.code} ${d.message} in ${context}`).toBeGreaterThanOrEqual(1);
        expect(d.column, `${d.code} ${d.message} in ${context}`).toBeGreaterThanOrEqual(1);
        expect(d.message.length, context).toBeGreaterThan(0);
      }
    }
    expect(emitWarning).not.toHaveBeenCalled();
    emitWarning.mockRestore();
    // Printed for whoever watches the suite's speed; timing is never asserted here (see bench/).
    console.log(
      `fuzz: ${runs} runs in ${Math.round(performance.now() - started)} ms (${outcomes.valid} valid, ${outcomes.invalid} invalid)`,
    );
    expect(runs).toBe(RUNS);
    // Both outcomes occur: the mutations neither always break nor never break a config.
    expect(outcomes.valid).toBeGreaterThan(0);
    expect(outcomes.invalid).toBeGreaterThan(0);
  });
});
