import { build, type Metafile, type Plugin } from 'esbuild';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { embeddedCedarWasmModule } from './auth/cedar-wasm.ts';

/**
 * The package root: the generated module resolves `./runtime/...` from here. Found by walking up
 * from this module, which is `compiler/bundle.ts` from source and a chunk under `build/cli/` in the
 * built CLI.
 */
export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'runtime', 'index.ts')) && existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`vmcp: cannot find the package root (runtime/index.ts) above ${from}`);
  }
}
/** The Node target every bundle is built for; recorded in the manifest. */
export const NODE_TARGET = 'node20';

// The runtime module that reads the Cedar .wasm from node_modules (runtime/auth/authz/cedar.ts imports it).
const CEDAR_WASM_BYTES = /[\\/]runtime[\\/]auth[\\/]authz[\\/]cedar-wasm-bytes\.ts$/;

/**
 * Embeds the Cedar .wasm in bundles whose config uses Cedar: esbuild loads the runtime's
 * cedar-wasm-bytes module only when the generated module imports the Cedar authorizer, and this
 * replaces it with the compressed bytes. Other bundles never reach it, so their bytes do not change.
 */
const embedCedarWasm: Plugin = {
  name: 'vmcp-embed-cedar-wasm',
  setup(b) {
    b.onLoad({ filter: CEDAR_WASM_BYTES }, () => ({ contents: embeddedCedarWasmModule(), loader: 'js' }));
  },
};

/** The bundled output: the program, its legal comments, and esbuild's metafile (for size tests). */
export interface BundleOutput {
  code: string;
  legal: string;
  metafile: Metafile;
}

/**
 * Bundles the generated routing module with runtime/ into one ESM file that runs with plain node.
 * Deterministic: no timestamps, paths are relative to the package root, minified.
 */
export async function bundleRouter(routerSource: string, name: string): Promise<BundleOutput> {
  const result = await build({
    stdin: { contents: routerSource, resolveDir: PACKAGE_ROOT, sourcefile: `${name}.router.ts`, loader: 'ts' },
    absWorkingDir: PACKAGE_ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: NODE_TARGET,
    minify: true,
    legalComments: 'external',
    outfile: join(PACKAGE_ROOT, 'dist-virtual', `${name}.vmcp.mjs`),
    write: false,
    metafile: true,
    logLevel: 'silent',
    banner: {
      js: '#!/usr/bin/env node\n// vmcp bundle: run with `node <file> [--host H] [--port P] [--stdio]`.\nimport{createRequire as __vmcpCreateRequire}from"node:module";const require=__vmcpCreateRequire(import.meta.url);',
    },
    // Bundled CommonJS dependencies may call require() for node built-ins; the banner provides it.
    mainFields: ['module', 'main'],
    // `module` as esbuild has it by default: packages that map it to an ESM build (the OpenTelemetry
    // API) are bundled from it rather than from their CommonJS build, which is larger and slower.
    conditions: ['node', 'import', 'module'],
    plugins: [embedCedarWasm],
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.mjs'))?.text ?? '';
  const legal = result.outputFiles.find((f) => f.path.endsWith('.LEGAL.txt'))?.text ?? '';
  return { code, legal, metafile: result.metafile };
}
