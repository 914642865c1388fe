// Builds the `vmcp` CLI to plain JavaScript in build/cli/ (esbuild, code-split per command, heavy
// packages left as imports), so a CLI call costs node's start-up plus the modules that command
// needs instead of compiling TypeScript with tsx on every run. Runs after `npm install`/`npm ci`
// and before `npm pack`; bin/vmcp.mjs rebuilds on its own when a source is newer than the build.
import { build } from 'esbuild';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Builds the CLI into a fresh folder, then swaps it in; returns the source files it was built from. */
export async function buildCli() {
  const final = join(root, 'build', 'cli');
  const outdir = join(root, 'build', `cli.tmp-${process.pid}`);
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    entryPoints: { main: join(root, 'compiler', 'cli', 'main.ts') },
    absWorkingDir: root,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // yaml and zod are bundled (one parsed file instead of dozens of module loads on every call);
    // heavy or native packages stay imports, loaded only by the commands that need them.
    external: [
      'esbuild',
      'ts-morph',
      'typescript',
      'tsx',
      '@cedar-policy/*',
      '@modelcontextprotocol/*',
      'pino',
      'jose',
      // Read only by `vmcp compile` when a groupRef is resolved from Kubernetes.
      '@kubernetes/*',
    ],
    chunkNames: 'chunks/[name]-[hash]',
    mainFields: ['module', 'main'],
    // Bundled CommonJS (yaml's node build) may require node built-ins; ESM has no `require` of its own.
    banner: {
      js: 'import{createRequire as __vmcpCreateRequire}from"node:module";const require=__vmcpCreateRequire(import.meta.url);',
    },
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => !p.startsWith('node_modules/'))
    .sort();
  writeFileSync(join(outdir, 'inputs.json'), `${JSON.stringify(inputs, null, 1)}\n`);
  rmSync(final, { recursive: true, force: true });
  renameSync(outdir, final);
  return inputs;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildCli();
