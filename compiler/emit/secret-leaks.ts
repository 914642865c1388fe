/** The last check of every compile: no resolved secret value appears in an artifact. Pure. */
import type { Diagnostic } from '../diagnostics.ts';

/** One SECRET_LEAK error per (secret, artifact) where the secret's value occurs in the artifact's text. */
export function checkSecretLeaks(
  secrets: ReadonlyArray<{ name: string; value: string }>,
  artifacts: Record<string, string>,
  file: string,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const { name, value } of secrets) {
    for (const [what, text] of Object.entries(artifacts)) {
      if (!text.includes(value)) continue;
      out.push({
        code: 'SECRET_LEAK',
        severity: 'error',
        message: `the value of environment variable ${name} appears in the ${what}`,
        file,
        line: 1,
        column: 1,
        hint: `a backend may be echoing it in a tool description; the ${what} was not written`,
      });
    }
  }
  return out;
}
