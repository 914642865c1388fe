/**
 * The optimizer at compile time: its two tools must not shadow an exposed tool, and a catalog with
 * nothing to search is worth a warning. Pure; called from compile.ts with the final catalog.
 */
import { CALL_TOOL, FIND_TOOL } from '../../runtime/optimizer/names.ts';
import type { VmcpConfig } from '../../schemas/vmcp.ts';
import type { Diagnostic } from '../diagnostics.ts';
import type { Add } from './checks.ts';
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

/** Older ToolHive optimizer keys: read as their current names, each with a DEPRECATED_KEY warning. */
export function checkOptimizerKeys(config: VmcpConfig, add: Add): void {
  const o = config.optimizer;
  if (!o) return;
  const placeholder = o.embeddingBackend === 'placeholder';
  const older: Array<[key: string, what: string, fix: string]> = [
    ['embeddingURL', 'read as embeddingService', 'write embeddingService instead'],
    [
      'embeddingBackend',
      placeholder
        ? 'read as no embedding service (lexical search only)'
        : 'read as embeddingProvider: openai (the /v1/embeddings API, which Ollama and vLLM serve too)',
      'write embeddingProvider (tei or openai) instead',
    ],
    ['hybridSearchRatio', 'read as hybridSearchSemanticRatio', 'write hybridSearchSemanticRatio (0 to 1) instead'],
    ['embeddingDimension', 'not needed: vmcp takes the dimension from the vectors the service returns', 'remove it'],
    ['persistPath', 'not needed: vmcp compiles the index into the bundle', 'remove it'],
    ['ftsDBPath', 'not needed: vmcp compiles the index into the bundle', 'remove it'],
  ];
  const raw = o as Record<string, unknown>;
  for (const [key, what, fix] of older)
    if (raw[key] !== undefined)
      add(
        'DEPRECATED_KEY',
        `optimizer.${key} is an older ToolHive setting, ${what}`,
        ['optimizer', key],
        fix,
        'warning',
        'key',
      );
}
