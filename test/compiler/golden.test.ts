import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../compiler/diagnostics.ts';
import { formatDiagnostics, summarize } from '../../compiler/format-diagnostics.ts';
import { compileFrozen, ROOT } from './compile-helpers.ts';

/**
 * Golden tests. Each folder under test/fixtures/compile/golden/ holds a vmcp.lock.json, a
 * vmcp.yaml (or, when absent, examples/<folder>/vmcp.yaml is used), and its expectation:
 * `router.golden` (the generated module) or `diagnostics.golden` (the printed diagnostics). A folder
 * that compiles may also hold `warnings.golden`: then the printed warnings are compared too.
 * A missing golden fails the run (outside CI it is also written, for review); UPDATE_GOLDENS=1
 * rewrites them, never under CI.
 */
const GOLDEN = join(ROOT, 'test/fixtures/compile/golden');
const FOLDERS = readdirSync(GOLDEN).sort();

function configOf(folder: string): string {
  const own = join(GOLDEN, folder, 'vmcp.yaml');
  return readFileSync(existsSync(own) ? own : join(ROOT, 'examples', folder, 'vmcp.yaml'), 'utf8');
}

function expectGolden(file: string, actual: string): void {
  if (process.env.UPDATE_GOLDENS && !process.env.CI) writeFileSync(file, actual);
  if (!existsSync(file)) {
    // Written for review, but the run still fails: a fixture with no expectation never passes.
    if (!process.env.CI) writeFileSync(file, actual);
    throw new Error(`missing golden ${file}${process.env.CI ? '' : ' (written now: review it, commit it, and rerun)'}`);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

/**
 * Type-checks a generated router where it would really live: beside runtime/ in the package
 * root (in a private temporary folder, imports re-pointed one level up).
 */
function typeCheck(name: string, source: string): string[] {
  const dir = join(ROOT, `.golden-typecheck-${process.pid}-${name}`);
  mkdirSync(dir, { recursive: true });
  try {
    const file = join(dir, `${name}.router.ts`);
    writeFileSync(file, source.replaceAll("from './runtime/", "from '../runtime/"));
    const program = ts.createProgram([file], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      allowImportingTsExtensions: true,
      types: ['node'],
      lib: ['lib.es2023.d.ts'],
    });
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Diagnostics as `vmcp validate` prints them, with the summary line. */
function printed(diagnostics: readonly Diagnostic[], text: string): string {
  return `${formatDiagnostics(diagnostics, new Map([['vmcp.yaml', text]]), { color: false })}\n\n${summarize(diagnostics)}\n`;
}

describe('golden outputs', () => {
  it('has fixture folders', () => expect(FOLDERS.length).toBeGreaterThanOrEqual(4));

  // A folder whose compile succeeds expects router.golden; one whose compile fails, diagnostics.golden.
  it.each(FOLDERS)('%s', async (folder) => {
    const text = configOf(folder);
    const out = await compileFrozen(text, readFileSync(join(GOLDEN, folder, 'vmcp.lock.json'), 'utf8'));
    if (out.value) {
      expect(
        existsSync(join(GOLDEN, folder, 'diagnostics.golden')),
        'compiled, but diagnostics.golden expects errors',
      ).toBe(false);
      expectGolden(join(GOLDEN, folder, 'router.golden'), out.value.routerSource);
      if (existsSync(join(GOLDEN, folder, 'warnings.golden')))
        expectGolden(join(GOLDEN, folder, 'warnings.golden'), printed(out.diagnostics, text));
      expect(typeCheck(folder, out.value.routerSource)).toEqual([]);
    } else {
      expect(existsSync(join(GOLDEN, folder, 'router.golden')), 'failed, but router.golden expects a router').toBe(
        false,
      );
      expectGolden(join(GOLDEN, folder, 'diagnostics.golden'), printed(out.diagnostics, text));
    }
  });

  it('the type check catches a broken router', () => {
    expect(
      typeCheck('broken', "import { startGateway } from './runtime/index.ts';\nawait startGateway({ name: 1 }, {});\n")
        .length,
    ).toBeGreaterThan(0);
  });
});
