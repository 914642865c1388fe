#!/usr/bin/env node
// Entry point for `vmcp`: runs the CLI built to JavaScript in build/cli/ (scripts/build-cli.mjs, run
// at install). When the build is missing or a source is newer than it (a checkout after `git pull`),
// it is rebuilt first, by one process at a time; any other case runs the sources through tsx.
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const built = new URL('build/cli/main.js', root);

function fresh() {
  try {
    const builtAt = statSync(built).mtimeMs;
    const inputs = JSON.parse(readFileSync(new URL('build/cli/inputs.json', root), 'utf8'));
    return inputs.every((p) => !existsSync(new URL(p, root)) || statSync(new URL(p, root)).mtimeMs <= builtAt);
  } catch {
    return false;
  }
}

async function rebuild() {
  const lock = new URL('build/cli.lock', root);
  let fd;
  try {
    // A lock older than a minute was left by a build that died: take it over.
    if (Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { force: true });
  } catch {
    // no lock
  }
  try {
    fd = openSync(lock, 'wx');
  } catch {
    return false; // another process is building: use the sources this time
  }
  try {
    const { buildCli } = await import('../scripts/build-cli.mjs');
    await buildCli();
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}

let main;
if (fresh() || (await rebuild())) ({ main } = await import(built.href));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../compiler/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
