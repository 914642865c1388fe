import { stableJson } from '../../runtime/canonical.ts';
import { CLASSES, type Change, type DiffReport } from './diff.ts';
import type { ChangeClass } from './schema.ts';

/** Output formats of `vmcp diff`. */
export type DiffFormat = 'text' | 'markdown' | 'json';
/** Exit-code gates of `vmcp diff`. */
export type FailOn = 'breaking' | 'risky' | 'none';

/** Counts of changes per class. */
export function countClasses(changes: readonly Change[]): Record<ChangeClass, number> {
  const counts: Record<ChangeClass, number> = { breaking: 0, risky: 0, safe: 0, info: 0 };
  for (const c of changes) counts[c.class] += 1;
  return counts;
}

/** 1 when a change at or above the gate is present (risky includes breaking), else 0. */
export function exitCodeFor(report: DiffReport, failOn: FailOn): number {
  if (failOn === 'none') return 0;
  const gated: ChangeClass[] = failOn === 'breaking' ? ['breaking'] : ['breaking', 'risky'];
  return report.changes.some((c) => gated.includes(c.class)) ? 1 : 0;
}

/** Renders a report. Deterministic: no timestamps, no absolute paths beyond the labels given. */
export function formatReport(report: DiffReport, format: DiffFormat, color = false): string {
  if (format === 'json')
    return stableJson({
      old: report.old,
      new: report.new,
      level: report.level,
      summary: countClasses(report.changes),
      changes: report.changes,
    });
  if (format === 'markdown') return formatMarkdown(report);
  return formatText(report, color);
}

const SGR: Record<ChangeClass, string> = {
  breaking: '\x1b[1;31m',
  risky: '\x1b[33m',
  safe: '\x1b[32m',
  info: '\x1b[2m',
};

function summaryLine(changes: readonly Change[]): string {
  const c = countClasses(changes);
  return `${changes.length} change${changes.length === 1 ? '' : 's'}: ${CLASSES.map((k) => `${c[k]} ${k}`).join(', ')}`;
}

function formatText(report: DiffReport, color: boolean): string {
  const paint = (cls: ChangeClass, s: string) => (color ? `${SGR[cls]}${s}\x1b[0m` : s);
  const lines = [`vmcp diff ${report.old} → ${report.new} (${report.level} surface)`];
  if (report.changes.length === 0) return `${lines[0]}\nno changes\n`;
  lines.push(summaryLine(report.changes));
  for (const cls of CLASSES) {
    const group = report.changes.filter((c) => c.class === cls);
    if (!group.length) continue;
    lines.push('', paint(cls, `${cls.toUpperCase()} (${group.length})`));
    for (const c of group) {
      lines.push(`  ${c.subject}: ${c.detail}`);
      if (c.before !== undefined && c.kind !== 'policy.removed') lines.push(`    - ${oneLine(c.before)}`);
      if (c.after !== undefined && c.kind !== 'policy.added') lines.push(`    + ${oneLine(c.after)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat || '(empty)';
}

const ICON: Record<ChangeClass, string> = { breaking: '🔴', risky: '🟠', safe: '🟢', info: '⚪' };

/** Escapes text for a markdown table cell: pipes, newlines, and HTML that could hide content. */
function cell(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r?\n/g, ' ')
    .replace(/`/g, "'");
}

/** A fence longer than any backtick run in the text, so backend text cannot close it early. */
function fenced(lang: string, body: string): string {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${body}\n${fence}`;
}

function formatMarkdown(report: DiffReport): string {
  const counts = countClasses(report.changes);
  const out = [`### vmcp diff: \`${cell(report.old)}\` → \`${cell(report.new)}\``, ''];
  if (report.level !== 'full') out.push(`Compared at the **${report.level}** level.`, '');
  if (report.changes.length === 0) return `${out.join('\n')}No changes to the surface.\n`;
  out.push('| class | changes |', '|---|---:|', ...CLASSES.map((k) => `| ${ICON[k]} ${k} | ${counts[k]} |`), '');
  for (const cls of CLASSES) {
    const group = report.changes.filter((c) => c.class === cls);
    if (!group.length) continue;
    const open = cls === 'breaking' || cls === 'risky' ? ' open' : '';
    out.push(
      `<details${open}><summary><b>${ICON[cls]} ${cls} (${group.length})</b></summary>`,
      '',
      '| subject | change |',
      '|---|---|',
    );
    for (const c of group) out.push(`| \`${cell(c.subject)}\` | ${cell(c.detail)} |`);
    const texts = group.filter((c) => c.before !== undefined || c.after !== undefined);
    for (const c of texts) {
      const lines = [
        ...(c.before ?? '')
          .split('\n')
          .filter((l, i, a) => c.before !== undefined && (l || a.length > 1))
          .map((l) => `- ${l}`),
        ...(c.after ?? '')
          .split('\n')
          .filter((l, i, a) => c.after !== undefined && (l || a.length > 1))
          .map((l) => `+ ${l}`),
      ];
      out.push('', `**\`${cell(c.subject)}\`** ${cell(c.kind)}:`, '', fenced('diff', lines.join('\n')));
    }
    out.push('', '</details>', '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
