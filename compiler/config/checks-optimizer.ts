/**
 * The optimizer at compile time: its two tools must not shadow an exposed tool, and a catalog with
 * nothing to search is worth a warning. Pure; called from compile.ts with the final catalog.
 */
import { CALL_TOOL, FIND_TOOL } from '../../runtime/optimizer/names.ts';
import type { VmcpConfig } from '../../schemas/vmcp.ts';
import type { Diagnostic } from '../diagnostics.ts';
import type { Locator } from './locate.ts';

export function checkOptimizer(
  config: VmcpConfig,
  exposed: readonly string[],
  file: string,
  locator: Locator,
): Diagnostic[] {
  const o = config.optimizer;
  if (!o?.enabled) return [];
  const out: Diagnostic[] = [];
  const at = locator.at(['optimizer'], 'key');
  const place = { file, line: at.line, column: at.column, endLine: at.endLine, endColumn: at.endColumn };
  for (const meta of [FIND_TOOL, CALL_TOOL])
    if (exposed.includes(meta))
      out.push({
        code: 'OPTIMIZER_NAME_CONFLICT',
        severity: 'error',
        message: `the optimizer advertises ${meta}, but a backend or composite tool is also exposed as "${meta}"`,
        ...place,
        hint: `rename that tool (aggregation.tools[].overrides, or a prefix) so ${meta} stays the optimizer's`,
      });
  if (exposed.length === 0)
    out.push({
      code: 'OPTIMIZER_NAME_CONFLICT',
      severity: 'warning',
      message: 'the optimizer is on but the gateway exposes no tools: find_tool will never find one',
      ...place,
      hint: 'remove the optimizer block, or add backends with tools',
    });
  return out;
}
