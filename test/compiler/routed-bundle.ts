import { writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { fakeCatalog, tempDir, type FakeBackend } from './compile-helpers.ts';

const ROUTING_BACKEND = pathToFileURL(join(import.meta.dirname, 'routing-backend.mjs')).href;

/** What a routing-backend.mjs instance reports about a call it received. */
export interface Received {
  backend: string;
  name?: string;
  uri?: string;
}

/** A compiled bundle serving over stdio to a real SDK client, with its fake backends running. */
export interface RoutedBundle {
  client: Client;
  /** The gateway's stderr so far (its logs), for failure messages. */
  stderr: () => string;
  close: () => Promise<void>;
}

/**
 * Runs `node <bundle> --stdio` from a fresh directory outside the repository and connects the v1
 * SDK client to it. The config's backends are `node <name>.mjs` (see fakeConfig); each gets an
 * entry file there that starts test/compiler/routing-backend.mjs with the backend's locked
 * catalog, so the gateway sees no drift. Absent backends get no entry file.
 */
export async function startRoutedBundle(code: string, backends: Record<string, FakeBackend>): Promise<RoutedBundle> {
  const tmp = tempDir('routed');
  const file = join(tmp.dir, 'gateway.vmcp.mjs');
  writeFileSync(file, code);
  for (const [name, fb] of Object.entries(backends)) {
    if (fb.absent) continue;
    const me = { name, ...fakeCatalog(fb) };
    writeFileSync(
      join(tmp.dir, `${name}.mjs`),
      `globalThis.ROUTING_BACKEND = ${JSON.stringify(me)};\nawait import(${JSON.stringify(ROUTING_BACKEND)});\n`,
    );
  }
  // The backends' command is a bare `node`: make it this test's node.
  const PATH = [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [file, '--stdio'],
    cwd: tmp.dir,
    env: { PATH },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const client = new Client({ name: 'routing-cases', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (err) {
    await transport.close().catch(() => {});
    tmp.remove();
    throw new Error(`the bundle did not start over --stdio (${(err as Error).message}):\n${stderr}`);
  }
  return {
    client,
    stderr: () => stderr,
    close: async () => {
      await client.close();
      tmp.remove();
    },
  };
}
