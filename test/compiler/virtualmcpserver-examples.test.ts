/**
 * ToolHive's own VirtualMCPServer examples (`examples/operator/virtual-mcps`, copied verbatim into
 * test/fixtures/compile/virtualmcpserver/) validate as vmcp configs (issue 20). Each file's
 * diagnostics are golden and point into the manifest; each spec field vmcp does not map is named by
 * an UNSUPPORTED at its line. UPDATE_GOLDENS=1 rewrites the goldens (never under CI).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vmcp } from '../e2e/gateway.ts';
import { ROOT } from './compile-helpers.ts';

const DIR = join(ROOT, 'test', 'fixtures', 'compile', 'virtualmcpserver');
const EXAMPLES = existsSync(DIR)
  ? readdirSync(DIR)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
  : [];

function expectGolden(file: string, actual: string): void {
  if (process.env.UPDATE_GOLDENS && !process.env.CI) writeFileSync(file, actual);
  if (!existsSync(file)) {
    if (!process.env.CI) writeFileSync(file, actual);
    throw new Error(`missing golden ${file}${process.env.CI ? '' : ' (written now: review it, commit it, and rerun)'}`);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

describe("ToolHive's VirtualMCPServer examples", () => {
  it('there are the examples to read', () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(13);
  });

  it.each(EXAMPLES)('%s: validate reads it as a config; every diagnostic is golden', async (name) => {
    const r = await vmcp(['validate', '-c', join(DIR, name), '--json'], ROOT, { PATH: process.env.PATH });
    const diagnostics = JSON.parse(r.out) as Array<{
      code: string;
      severity: string;
      line: number;
      column: number;
      message: string;
    }>;
    const text = diagnostics.map((d) => `${d.line}:${d.column} ${d.severity}[${d.code}] ${d.message}`).join('\n');
    expectGolden(join(DIR, name.replace(/\.yaml$/, '.diagnostics.txt')), `${text}\n`);
    // Every diagnostic points into the file at a real line (never the file's start by default).
    for (const d of diagnostics) expect(d.line, `${d.code}: ${d.message}`).toBeGreaterThan(0);
    // Nothing is dropped silently: each spec key vmcp does not map is named by an UNSUPPORTED.
    const src = readFileSync(join(DIR, name), 'utf8');
    for (const key of [
      'podTemplateSpec',
      'serviceType',
      'compositeToolRefs',
      'telemetryConfigRef',
      'embeddingServerRef',
    ])
      if (new RegExp(`^  ${key}:`, 'm').test(src))
        expect(
          diagnostics.some((d) => d.code === 'UNSUPPORTED' && d.message.includes(key)),
          key,
        ).toBe(true);
  });
});
