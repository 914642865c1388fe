/** Outgoing-auth strategies the config language accepts (all of ToolHive's) but the runtime does not implement yet. Pure. */
import type { ValidConfig } from '../config/validate.ts';
import type { Diagnostic } from '../diagnostics.ts';
import { hasRuntimeAuth } from '../emit/router.ts';

/** One UNSUPPORTED error per strategy block whose type the runtime cannot run, at its `type:`. */
export function checkRuntimeStrategies(valid: ValidConfig, file: string): Diagnostic[] {
  const oa = valid.config.outgoingAuth;
  const blocks = [
    [['outgoingAuth', 'default'], oa.default],
    ...Object.entries(oa.backends).map(([n, s]) => [['outgoingAuth', 'backends', n], s] as const),
  ] as const;
  const out: Diagnostic[] = [];
  for (const [path, s] of blocks) {
    if (hasRuntimeAuth(s.type)) continue;
    const at = valid.parsed.locator.at([...path, 'type']);
    out.push({
      code: 'UNSUPPORTED',
      severity: 'error',
      message: `outgoing auth strategy "${s.type}" is validated but not yet implemented by the vmcp runtime`,
      file,
      line: at.line,
      column: at.column,
      hint: 'use header_injection with headerValueEnv for now',
    });
  }
  return out;
}
