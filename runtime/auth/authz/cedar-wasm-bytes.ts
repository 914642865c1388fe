/**
 * The Cedar engine's WebAssembly bytes, for development and tests (run through tsx): read from
 * node_modules. `vmcp compile` replaces this module in the bundle with one that embeds the same
 * bytes (brotli, base64) and inflates them with node:zlib, so a bundle runs without node_modules.
 * compiler/bundle.ts keys the replacement on this file's name and the `cedarWasmBytes` export.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the web build of @cedar-policy/cedar-wasm keeps its module, below a node_modules folder. */
export const CEDAR_WASM_FILE = join('node_modules', '@cedar-policy', 'cedar-wasm', 'web', 'cedar_wasm_bg.wasm');

/** The path of the Cedar .wasm, found in the nearest node_modules above this file (hoisted or not). */
export function cedarWasmPath(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, CEDAR_WASM_FILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir)
      throw new Error(
        `cannot find ${CEDAR_WASM_FILE} in any folder above ${start}; is @cedar-policy/cedar-wasm installed?`,
      );
  }
}

/** The bytes of the Cedar WebAssembly module. */
export function cedarWasmBytes(): Uint8Array {
  return readFileSync(cedarWasmPath());
}
