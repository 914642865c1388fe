/**
 * Readable log lines for a terminal: `12:03:04 INFO  [github] backend ready  restarts=0`, coloured
 * by level. The runtime logs JSON (pino); on a terminal (or with `--log-format pretty`) each JSON
 * line is rewritten into this form just before it is written. A few hundred bytes of bundle.
 */

const LEVEL: Record<number, [name: string, color: string]> = {
  10: ['TRACE', '90'],
  20: ['DEBUG', '36'],
  30: ['INFO ', '32'],
  40: ['WARN ', '33'],
  50: ['ERROR', '31'],
  60: ['FATAL', '35'],
};
/** Fields every line has, or that the line's layout shows already. */
const SKIP: ReadonlySet<string> = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'gateway', 'backend']);
const MAX_VALUE = 160;

/** One pino JSON line as a short human line (no trailing newline); the input itself when it is not JSON. */
export function prettyLine(json: string, color: boolean): string {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(json);
  } catch {
    return json.trimEnd();
  }
  const paint = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const t = new Date(typeof r.time === 'number' ? r.time : Date.now());
  const time = [t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  const [name, code] = LEVEL[Number(r.level)] ?? ['LOG  ', '0'];
  const parts = [paint('90', time), paint(code, name)];
  if (typeof r.backend === 'string') parts.push(paint('1', `[${r.backend}]`));
  parts.push(String(r.msg ?? ''));
  const extra: string[] = [];
  for (const [k, v] of Object.entries(r)) {
    if (SKIP.has(k) || v === undefined) continue;
    let s = typeof v === 'string' ? v : JSON.stringify(v);
    if (s.length > MAX_VALUE) s = `${s.slice(0, MAX_VALUE)}…`;
    extra.push(`${k}=${/[\s"=]/.test(s) && typeof v === 'string' ? JSON.stringify(s) : s}`);
  }
  const line = parts.join(' ');
  return extra.length ? `${line}  ${paint('90', extra.join(' '))}` : line;
}
