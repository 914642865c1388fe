/**
 * The lean client's response parser (runtime/transports/http-response-parser.ts), fed bytes without a
 * socket: a given/want table for the framing rules that matter for smuggling, and a differential
 * test against llhttp (undici's wasm build, driven directly) on a fixed set of generated responses.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ResponseParser } from '../../runtime/transports/http-response-parser.ts';

/** What a parser made of one response on a connection that then closed. */
interface Outcome {
  ok: boolean;
  status?: number;
  body?: string;
  keepAlive?: boolean;
}

function lean(pieces: Buffer[]): Outcome {
  let status: number | undefined;
  const body: Buffer[] = [];
  const p = new ResponseParser({ onHead: (s) => (status = s), onBody: (b) => body.push(Buffer.from(b)) });
  for (const piece of pieces) {
    if (p.execute(piece) < 0) return { ok: false };
    if (p.framing === 'done') break;
  }
  if (p.framing !== 'done' && !p.finish()) return { ok: false };
  return { ok: true, status, body: Buffer.concat(body).toString('latin1'), keepAlive: p.keepAlive };
}

// llhttp from undici (a dev dependency's dependency): the wasm build and its exports, no JS wrapper.
const require = createRequire(import.meta.url);
const undiciLlhttp = require.resolve('undici/package.json').replace(/package\.json$/, 'lib/llhttp/');
const RESPONSE = 2;
let cur: { status?: number; body: Buffer[]; done: boolean; keepAlive?: boolean };
const { WebAssembly: Wasm } = globalThis as any; // lib typings here (ES2023, no DOM) lack the constructors
const wasm = new Wasm.Instance(new Wasm.Module(require(`${undiciLlhttp}llhttp-wasm.js`)), {
  env: {
    wasm_on_url: () => 0,
    wasm_on_status: () => 0,
    wasm_on_message_begin: () => 0,
    wasm_on_header_field: () => 0,
    wasm_on_header_value: () => 0,
    wasm_on_headers_complete: (_p: number, status: number) => {
      if (status >= 200 || status < 100) cur.status = status;
      return 0;
    },
    wasm_on_body: (_p: number, at: number, len: number) => {
      cur.body.push(Buffer.from(new Uint8Array(llhttp.memory.buffer, at, len)));
      return 0;
    },
    wasm_on_message_complete: (p: number) => {
      // A 1xx is a message of its own for llhttp; only the final one counts.
      if (cur.status !== undefined && !cur.done) {
        cur.done = true;
        cur.keepAlive = llhttp.llhttp_should_keep_alive(p) === 1;
      }
      return 0;
    },
  },
});
const llhttp = wasm.exports as any;
llhttp._initialize?.();

function reference(pieces: Buffer[]): Outcome {
  const p = llhttp.llhttp_alloc(RESPONSE);
  cur = { body: [], done: false };
  try {
    for (const piece of pieces) {
      const ptr = llhttp.malloc(Math.max(1, piece.length));
      new Uint8Array(llhttp.memory.buffer, ptr, piece.length).set(piece);
      const rc = llhttp.llhttp_execute(p, ptr, piece.length);
      llhttp.free(ptr);
      if (rc !== 0) return { ok: false };
      if (cur.done) break;
    }
    if (!cur.done && llhttp.llhttp_finish(p) !== 0) return { ok: false };
    if (!cur.done) return { ok: false };
    return { ok: true, status: cur.status, body: Buffer.concat(cur.body).toString('latin1'), keepAlive: cur.keepAlive };
  } finally {
    llhttp.llhttp_free(p);
  }
}

const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('lean response parser: framing rules', () => {
  const CASES: Array<{ name: string; given: string; want: Outcome }> = [
    {
      name: 'Content-Length',
      given: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi',
      want: { ok: true, status: 200, body: 'hi', keepAlive: true },
    },
    {
      name: 'both Content-Length and chunked: chunked wins, connection not reused',
      given: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
      want: { ok: true, status: 200, body: 'hi', keepAlive: false },
    },
    {
      name: 'duplicate Content-Length (same value)',
      given: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi',
      want: { ok: false },
    },
    {
      name: 'conflicting Content-Length',
      given: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 5\r\n\r\nhi',
      want: { ok: false },
    },
    { name: 'Content-Length list', given: 'HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nhi', want: { ok: false } },
    { name: 'signed Content-Length', given: 'HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nhi', want: { ok: false } },
    {
      name: 'Transfer-Encoding not ending in chunked',
      given: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nhi',
      want: { ok: false },
    },
    {
      name: 'Transfer-Encoding gzip alone',
      given: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhi',
      want: { ok: false },
    },
    {
      name: 'chunk size 0x-prefixed',
      given: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nhi\r\n0\r\n\r\n',
      want: { ok: false },
    },
    {
      name: 'chunk data not followed by CRLF',
      given: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiXX0\r\n\r\n',
      want: { ok: false },
    },
    { name: 'obs-fold', given: 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 2\r\n\r\nhi', want: { ok: false } },
    { name: 'space before colon', given: 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nhi', want: { ok: false } },
  ];
  for (const c of CASES) {
    it(c.name, () => {
      expect(lean([bytes(c.given)])).toEqual(c.want);
    });
  }
});

/** mulberry32: a small seeded PRNG, so the generated cases are the same on every run. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  return { next, int, pick, chance: (p: number) => next() < p };
}

/**
 * Where the lean parser deliberately differs from llhttp; each generated case that hits one is
 * checked against the lean rule instead of against llhttp.
 *  - `cl-te`: both Content-Length and Transfer-Encoding: chunked. llhttp refuses the response; lean
 *    reads it as chunked and closes the connection afterwards (RFC 9112 §6.3 allows either; both
 *    are safe because the connection is never reused). Want: accepted, keepAlive false.
 *  - `te-final`: a Transfer-Encoding whose last coding is not chunked. llhttp reads the body until
 *    the connection closes (RFC 9112 §6.3 for responses); lean refuses it: we never asked for a
 *    transfer coding, and an upstream that sends one is broken. Want: refused.
 *  - `version`: a status line that is not HTTP/1.0 or HTTP/1.1 (llhttp also takes HTTP/0.9 and
 *    HTTP/2.0 here) or a status below 100. Lean refuses: a broken server on an HTTP/1.1 socket.
 */
type Divergence = 'cl-te' | 'te-final' | 'version';

interface Case {
  wire: Buffer;
  divergence?: Divergence;
}

const REASONS = ['OK', '', 'Not Found', 'Some  Reason', 'r\x01x', 'caf\xe9'];
const FILLER = [
  'Content-Type: application/json',
  'Mcp-Session-Id: s-1',
  'X-Empty:',
  'X-Ows:   padded   ',
  'Date: Mon, 1 Jan 2024 00:00:00 GMT',
  'X-Tab:\tv\t',
  'X-High: \xff\xfe',
  'Keep-Alive: timeout=5',
];

/** One generated response (valid mostly, one mutation sometimes) and the divergence it hits, if any. */
function generate(r: ReturnType<typeof prng>): Case {
  let divergence: Divergence | undefined;
  const http10 = r.chance(0.15);
  let version = http10 ? 'HTTP/1.0' : 'HTTP/1.1';
  if (r.chance(0.02)) {
    version = r.pick(['HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'http/1.1']);
    if (version === 'HTTP/2.0' || version === 'HTTP/0.9') divergence = 'version';
  }
  const status = r.chance(0.1)
    ? r.pick([204, 304])
    : r.chance(0.02)
      ? r.pick([99, 20, 2000])
      : r.pick([200, 200, 200, 202, 400, 404, 500]) + r.int(3);
  if (status === 99) divergence = 'version';
  let statusLine = `${version} ${status}${r.chance(0.15) ? '' : ` ${r.pick(REASONS)}`}\r\n`;
  let interim = '';
  for (let i = r.chance(0.15) ? 1 + r.int(2) : 0; i > 0; i--)
    interim += `HTTP/1.1 ${r.pick([100, 102, 103])} ${r.pick(['Continue', ''])}\r\n${r.chance(0.5) ? 'Link: </a>; rel=preload\r\n' : ''}\r\n`;
  const headers: string[] = [];
  for (let i = r.int(4); i > 0; i--) headers.push(r.pick(FILLER));
  const conn = r.chance(0.3)
    ? r.pick(['close', 'keep-alive', 'Keep-Alive', 'foo, close', 'closed', 'Upgrade, keep-alive'])
    : undefined;
  if (conn) headers.push(`${r.pick(['Connection', 'connection'])}: ${conn}`);
  const body = Buffer.from(Array.from({ length: r.int(40) }, () => (r.chance(0.8) ? 32 + r.int(95) : r.int(256))));
  const framing =
    status === 204 || status === 304
      ? r.pick(['none', 'length'] as const)
      : r.pick(['length', 'length', 'chunked', 'chunked', 'close'] as const);
  let payload = '';
  if (framing === 'length') {
    const len = status === 204 || status === 304 ? r.int(5) : body.length;
    headers.push(r.pick([`Content-Length: ${len}`, `content-length:${len}`, `CONTENT-LENGTH:  ${len}  `]));
    if (status !== 204 && status !== 304) payload = body.toString('latin1');
  } else if (framing === 'chunked') {
    headers.push(`Transfer-Encoding: ${r.pick(['chunked', 'chunked', 'Chunked', 'gzip, chunked', ' chunked '])}`);
    let rest = body;
    while (rest.length) {
      const n = 1 + r.int(Math.min(rest.length, 16));
      const size = n.toString(16);
      const ext = r.chance(0.25) ? r.pick([';a', ';a=b', ';name="quoted value"', ';a=b;c', ';x=']) : '';
      payload += `${r.chance(0.1) ? '00' : ''}${r.chance(0.5) ? size : size.toUpperCase()}${ext}\r\n${rest.subarray(0, n).toString('latin1')}\r\n`;
      rest = rest.subarray(n);
    }
    payload += `0\r\n${r.chance(0.2) ? 'Trailer-One: x\r\n' : ''}\r\n`;
  } else if (framing === 'close') payload = body.toString('latin1');
  // One mutation sometimes: each one is invalid, or valid but unusual.
  let head = headers.map((h) => `${h}\r\n`).join('');
  if (r.chance(0.3)) {
    const m = r.int(16);
    if (m === 0) statusLine = statusLine.replace('\r\n', '\n');
    else if (m === 1) head = `X-Fold: a\r\n  folded\r\n${head}`;
    else if (m === 2) head = `X-Bad : v\r\n${head}`;
    else if (m === 3) head = `X\x01Bad: v\r\n${head}`;
    else if (m === 4) head = `X-Ctl: a\x01b\r\n${head}`;
    else if (m === 5 && framing === 'length')
      head += r.pick(['Content-Length: 7\r\n', `content-length: ${body.length}\r\n`]);
    else if (m === 6 && framing === 'length' && status !== 204 && status !== 304)
      head = head.replace(
        /(content-length:\s*)(\d+)/i,
        (_, k: string, n: string) => `${k}${r.pick([`+${n}`, `${n}, ${n}`, `0x${n}`, `-${n}`, `${n}a`])}`,
      );
    else if (m === 7 && framing === 'chunked' && status !== 204 && status !== 304) {
      head += `Content-Length: ${body.length}\r\n`;
      divergence = 'cl-te';
    } else if (m === 8 && framing === 'close') {
      head += `Transfer-Encoding: ${r.pick(['gzip', 'chunked, gzip'])}\r\n`;
      divergence = 'te-final';
    } else if (m === 9 && framing === 'chunked')
      payload = payload.replace(/^([0-9a-fA-F]+)/, (s) => r.pick([`${s} `, `0x${s}`, `${s}g`, ` ${s}`]));
    else if (m === 10 && framing === 'chunked' && body.length > 0)
      payload = payload.replace(/\r\n(?=[0-9a-fA-F]+\r\n|0\r\n)/, r.pick(['', '\n', 'XX']));
    else if (m === 11 && framing === 'chunked') payload = payload.replace('\r\n', '\n');
    else if (m === 12 && framing === 'chunked') payload = payload.replace(/^([0-9a-fA-F]+)/, '$1;');
    else if (m === 13)
      payload = payload.slice(0, Math.max(0, payload.length - 1 - r.int(3))); // cut short
    else if (m === 14) return { wire: bytes(interim + statusLine + head).subarray(0, r.int(20)) };
    else if (m === 15 && framing === 'chunked') payload = payload.replace('0\r\n', '0\r\nBad Trailer\r\n');
  }
  return { wire: bytes(interim + statusLine + head + '\r\n' + payload), divergence };
}

/** The outcome the lean parser must reach on a divergent case, given llhttp's. */
function leanWant(c: Case, wire: Buffer): Outcome {
  if (c.divergence === 'cl-te') {
    // llhttp refuses; read as llhttp would without the Content-Length line, then never reuse.
    const without = reference([
      bytes(wire.toString('latin1').replace(/Content-Length: \d+\r\n(?![\s\S]*Content-Length)/, '')),
    ]);
    return without.ok ? { ...without, keepAlive: false } : without;
  }
  return { ok: false }; // te-final, version: refused
}

const split = (wire: Buffer, at: number[]) => {
  const out: Buffer[] = [];
  let last = 0;
  for (const p of [...at].sort((a, b) => a - b)) {
    out.push(wire.subarray(last, p));
    last = p;
  }
  out.push(wire.subarray(last));
  return out;
};

describe('lean response parser vs llhttp (differential, seeded)', () => {
  const CASES = 3000;
  const r = prng(0x5eed);
  const cases = Array.from({ length: CASES }, () => generate(r));

  it(`agrees with llhttp on ${CASES} generated responses (accepted, status, body, keep-alive)`, () => {
    const mismatches: string[] = [];
    const tally = { accepted: 0, refused: 0, divergent: 0 };
    for (const c of cases) {
      const pieces = split(
        c.wire,
        Array.from({ length: r.int(4) }, () => r.int(c.wire.length + 1)),
      );
      const ref = reference([c.wire]);
      const want = c.divergence ? leanWant(c, c.wire) : ref;
      const got = lean(pieces);
      if (c.divergence) tally.divergent++;
      else if (ref.ok) tally.accepted++;
      else tally.refused++;
      if (JSON.stringify(got) !== JSON.stringify(want))
        mismatches.push(
          `${JSON.stringify(c.wire.toString('latin1'))}\n  llhttp ${JSON.stringify(ref)}\n  lean   ${JSON.stringify(got)}${c.divergence ? ` (divergence ${c.divergence})` : ''}`,
        );
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    // The generator covers both sides, and divergent cases stay few.
    expect(tally.accepted).toBeGreaterThan(CASES * 0.5);
    expect(tally.refused).toBeGreaterThan(CASES * 0.1);
    expect(tally.divergent).toBeLessThan(CASES * 0.05);
  });

  it('gives the same outcome for every split point of a sample (and byte by byte)', () => {
    const sample = cases.filter((c) => !c.divergence).slice(0, 80);
    let runs = 0;
    for (const c of sample) {
      const want = reference([c.wire]);
      for (let at = 0; at <= c.wire.length; at++) {
        const got = lean(split(c.wire, [at]));
        if (JSON.stringify(got) !== JSON.stringify(want))
          throw new Error(
            `split at ${at} of ${JSON.stringify(c.wire.toString('latin1'))}: lean ${JSON.stringify(got)}, llhttp ${JSON.stringify(want)}`,
          );
        runs++;
      }
      expect(lean(Array.from(c.wire, (b) => Buffer.from([b])))).toEqual(want);
      expect(reference(Array.from(c.wire, (b) => Buffer.from([b])))).toEqual(want);
    }
    expect(runs).toBeGreaterThan(sample.length * 20);
  });
});
