/**
 * Rules a reviewer would otherwise have to remember, checked on the source:
 * - runtime/ holds no module-level mutable state: no top-level `let`/`var`, no top-level Map/Set
 *   that is not typed read-only, no mutable static class fields. State hangs off the gateway.
 * - runtime/protocol/ is pure: no sockets, processes or timers of its own (types from node:http only).
 * - no file in runtime/ or compiler/ is over 300 lines unless its header comment says why.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Node, Project, SyntaxKind, VariableDeclarationKind } from 'ts-morph';

const ROOT = join(import.meta.dirname, '..', '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Module-level mutable state in one source text, as `name (why)` strings. */
function moduleState(fileName: string, text: string): string[] {
  const project = new Project({ useInMemoryFileSystem: true });
  const file = project.createSourceFile(fileName, text);
  const found: string[] = [];
  for (const statement of file.getVariableStatements()) {
    const kind = statement.getDeclarationKind();
    for (const d of statement.getDeclarations()) {
      if (kind !== VariableDeclarationKind.Const) {
        found.push(`${d.getName()} (top-level ${kind})`);
        continue;
      }
      const init = d.getInitializer();
      if (!init || !Node.isNewExpression(init)) continue;
      const ctor = init.getExpression().getText();
      const type = d.getTypeNode()?.getText() ?? '';
      if (/^(Map|Set|WeakMap|WeakSet)$/.test(ctor) && !/^Readonly(Map|Set)</.test(type))
        found.push(
          `${d.getName()} (a module-level ${ctor}; type it Readonly${ctor.replace('Weak', '')} if it is a constant table)`,
        );
    }
  }
  for (const cls of file.getDescendantsOfKind(SyntaxKind.ClassDeclaration)) {
    for (const p of cls.getStaticProperties()) {
      if (Node.isPropertyDeclaration(p) && !p.isReadonly())
        found.push(`${cls.getName()}.${p.getName()} (a mutable static field)`);
    }
  }
  return found;
}

describe('house rules', () => {
  it('the module-state check finds what it should', () => {
    const text =
      'let a = 1;\nvar b;\nconst c = new Map();\nconst d: ReadonlySet<string> = new Set(["x"]);\nconst e = [1];\nclass K { static n = 0; static readonly m = 1; }\n';
    expect(moduleState('x.ts', text)).toEqual([
      'a (top-level let)',
      'b (top-level var)',
      'c (a module-level Map; type it ReadonlyMap if it is a constant table)',
      'K.n (a mutable static field)',
    ]);
  });

  it('runtime/ has no module-level mutable state', () => {
    const found = tsFiles(join(ROOT, 'runtime')).flatMap((f) =>
      moduleState(f, readFileSync(f, 'utf8')).map((s) => `${relative(ROOT, f)}: ${s}`),
    );
    expect(found).toEqual([]);
  });

  it('runtime/protocol/ opens no sockets, starts no processes and sets no timers', () => {
    const found = tsFiles(join(ROOT, 'runtime', 'protocol')).flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      const bad = [
        ...[
          ...text.matchAll(
            /^import (?!type )[^;]*from '(node:(?:http|https|net|tls|child_process|dgram|fs|fs\/promises))'/gm,
          ),
        ].map((m) => `imports ${m[1]}`),
        ...[...text.matchAll(/\b(setTimeout|setInterval|setImmediate)\(/g)].map((m) => `calls ${m[1]}`),
      ];
      return bad.map((b) => `${relative(ROOT, f)}: ${b}`);
    });
    expect(found).toEqual([]);
  });

  it('no file in runtime/ or compiler/ is over 300 lines without a reason in its header comment', () => {
    const long = [...tsFiles(join(ROOT, 'runtime')), ...tsFiles(join(ROOT, 'compiler'))].flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      const lines = text.split('\n').length;
      if (lines <= 300) return [];
      const header = /^\/\*\*[\s\S]*?\*\//.exec(text)?.[0] ?? '';
      return /Over 300 lines:/.test(header) ? [] : [`${relative(ROOT, f)} (${lines} lines)`];
    });
    expect(long).toEqual([]);
  });
});
