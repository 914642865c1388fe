/**
 * The Cedar engine on the compiler's side: the same @cedar-policy/cedar-wasm module the runtime uses,
 * for compile-time policy checks, and the module that embeds its .wasm into bundles that use Cedar.
 */
import * as cedar from '@cedar-policy/cedar-wasm/web';
import { brotliCompressSync, constants } from 'node:zlib';
import { cedarWasmBytes } from '../../runtime/auth/authz/cedar-wasm-bytes.ts';

let ready = false;

/** The Cedar engine, instantiated on first use (about 15 ms), so configs without Cedar never pay for it. */
export function cedarEngine(): typeof cedar {
  if (!ready) {
    cedar.initSync({ module: cedarWasmBytes() });
    ready = true;
  }
  return cedar;
}

let embedded: string | undefined;

/**
 * The source of the module that replaces runtime/auth/authz/cedar-wasm-bytes.ts in a bundle: the
 * .wasm (4.3 MB) brotli-compressed (quality 9: ~0.6 s once per process, 1.1 MB; quality 11 saves
 * another 0.15 MB for 9 s) and base64-encoded, inflated with node:zlib when the authorizer starts.
 * Deterministic for a given Node (zlib) version, like the rest of the bundle.
 */
export function embeddedCedarWasmModule(): string {
  if (embedded === undefined) {
    const bytes = cedarWasmBytes();
    const packed = brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    });
    embedded = [
      '/*! @cedar-policy/cedar-wasm (https://github.com/cedar-policy/cedar), Apache-2.0: cedar_wasm_bg.wasm, embedded brotli + base64 */',
      'import { brotliDecompressSync } from "node:zlib";',
      `const PACKED = ${JSON.stringify(packed.toString('base64'))};`,
      `export function cedarWasmBytes() { return brotliDecompressSync(Buffer.from(PACKED, "base64")); }`,
    ].join('\n');
  }
  return embedded;
}
