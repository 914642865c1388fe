/**
 * Dev mode (`vmcp serve --watch`): the serve process compiles each good edit to a new bundle and sends
 * its path over IPC; this process imports it, which hands its gateway data and plugins here instead
 * of starting a second gateway, and swaps it in behind the same listener. Sessions, streams and
 * unchanged backends carry over (GatewayCore's handover); clients are sent list_changed. A bundle
 * run without `--dev-reload` under an IPC parent never listens for this.
 */
import { pathToFileURL } from 'node:url';
import type { CompiledGateway } from './compiled-gateway.ts';
import { StartupError } from './env.ts';
import { GatewayCore } from './gateway.ts';
import type { Logger } from './log.ts';
import type { RuntimePlugins } from './plugins.ts';
import { resolveBackends } from './resolve-backends.ts';

/** Where a bundle imported for a reload finds the running gateway (one symbol across bundle copies). */
export const RELOAD_HOOK = Symbol.for('vmcp.dev.reload');

/** The serve process asks for a reload. */
export interface ReloadRequest {
  type: 'vmcp:reload';
  /** The new bundle, written by the serve process. */
  path: string;
}

/** What the reload did, as the serve process prints it. */
export type ReloadReply =
  | { type: 'vmcp:reloaded'; kept: string[]; started: string[]; stopped: string[]; changed: string[] }
  | { type: 'vmcp:reload-failed'; message: string };

/** How long a replaced backend's calls in flight may still finish before it is stopped. */
const RETIRE_GRACE_MS = 5000;

/** The running gateway, as the reload host sees and replaces it. */
export interface ReloadTarget {
  current(): GatewayCore;
  /** Routes requests to `next` from now on. */
  swap(next: GatewayCore): void;
  log: Logger;
}

/** Listens for reload requests from the serve process (one at a time, in order). */
export function installReloadHost(target: ReloadTarget, send: (reply: ReloadReply) => void): void {
  let chain = Promise.resolve();
  process.on('message', (m: unknown) => {
    const req = m as Partial<ReloadRequest> | null;
    if (req?.type !== 'vmcp:reload' || typeof req.path !== 'string') return;
    const path = req.path;
    chain = chain.then(() =>
      reload(target, path).then(send, (err: unknown) =>
        send({ type: 'vmcp:reload-failed', message: err instanceof Error ? err.message : String(err) }),
      ),
    );
  });
}

async function reload(target: ReloadTarget, path: string): Promise<ReloadReply> {
  const build = await importBuild(path);
  const prev = target.current();
  const { log } = target;
  const next = new GatewayCore(
    build.gateway,
    resolveBackends(build.gateway, build.plugins, process.env, log),
    build.plugins,
    log,
    prev.sessionKeys,
    build.gateway.sharedStore && build.plugins.sharedStore
      ? build.plugins.sharedStore(build.gateway.sharedStore, { gateway: build.gateway.name, log, env: process.env })
      : undefined,
    prev,
  );
  // A backend of the new build that fails `drift: fail` is reported; the dev server keeps running.
  next.onFatal = (message) => log.error({}, message);
  target.swap(next);
  next.start();
  const changed = prev.announceChanges(next);
  const before = new Set(prev.backends);
  const after = new Set(next.backends);
  void prev
    .retire(next, RETIRE_GRACE_MS)
    .catch((err: Error) => log.warn({ error: err.message }, 'the replaced build did not stop cleanly'));
  return {
    type: 'vmcp:reloaded',
    kept: next.backends.filter((b) => before.has(b)).map((b) => b.name),
    started: next.backends.filter((b) => !before.has(b)).map((b) => b.name),
    stopped: prev.backends.filter((b) => !after.has(b)).map((b) => b.name),
    changed,
  };
}

/** Imports a bundle with the hook set, so its `startGateway` call hands over its data and plugins. */
async function importBuild(path: string): Promise<{ gateway: CompiledGateway; plugins: RuntimePlugins }> {
  let build: { gateway: CompiledGateway; plugins: RuntimePlugins } | undefined;
  const slot = globalThis as Record<symbol, unknown>;
  slot[RELOAD_HOOK] = (gateway: CompiledGateway, plugins: RuntimePlugins) => {
    build = { gateway, plugins };
    return { url: undefined, port: undefined, status: () => ({}), close: async () => {} };
  };
  try {
    await import(pathToFileURL(path).href);
  } finally {
    delete slot[RELOAD_HOOK];
  }
  if (!build) throw new StartupError(`${path} is not a vmcp bundle (it did not call startGateway)`);
  return build;
}
