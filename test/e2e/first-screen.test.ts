/**
 * The first hour (issue 20): `npm start` on a real terminal (tmux), read off the screen. The first
 * screen shows short log lines and how to connect, with no JSON line and no warning; with
 * `--log-format json` the same start logs JSON lines. The quickstart's servers come from npm.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/lb.ts';
import { requireTool } from '../support/system-tools.ts';
import { waitFor } from '../runtime/harness.ts';
import { REPO } from './gateway.ts';

const tmux = requireTool('tmux');
const suite = tmux ? describe : describe.skip;
const sessions: string[] = [];

function startOnTerminal(name: string, command: string): void {
  sessions.push(name);
  execFileSync(tmux!, ['new-session', '-d', '-s', name, '-x', '160', '-y', '50', '-c', REPO, command]);
}
const screen = (name: string) => execFileSync(tmux!, ['capture-pane', '-p', '-t', name], { encoding: 'utf8' });

afterAll(() => {
  for (const s of sessions) {
    try {
      // Ctrl-C reaches the gateway as on a real terminal, then the session goes.
      execFileSync(tmux!, ['send-keys', '-t', s, 'C-c']);
      execFileSync(tmux!, ['kill-session', '-t', s]);
    } catch {
      // already gone
    }
  }
});

suite('npm start on a terminal', () => {
  it('the first screen: readable lines and how to connect, no JSON and no warning', async () => {
    const port = await freePort();
    const name = `vmcp-first-${process.pid}`;
    startOnTerminal(name, `npm start -- --port ${port}; sleep 30`);
    await waitFor(
      async () => /backend ready/.test(screen(name)) && /Connect a client/.test(screen(name)),
      120_000,
      `npm start to be ready:\n${screen(name)}`,
    );
    // Both backends up (server-everything asks for roots at start: answered quietly).
    await waitFor(async () => (screen(name).match(/backend ready/g) ?? []).length >= 2, 30_000, 'both backends');
    const text = screen(name);
    expect(text).toContain(`http://127.0.0.1:${port}/mcp`);
    expect(text).toMatch(/^\d\d:\d\d:\d\d INFO +vmcp listening on http:\/\/127\.0\.0\.1:\d+\/mcp/m);
    expect(text).toMatch(/^\d\d:\d\d:\d\d INFO +\[memory\] backend ready/m);
    expect(text).not.toMatch(/^\s*\{"level"/m);
    expect(text).not.toMatch(/WARN|warning\[|cannot route/);
  }, 180_000);

  it('--log-format json: JSON lines on the same terminal', async () => {
    const port = await freePort();
    const name = `vmcp-json-${process.pid}`;
    startOnTerminal(name, `npm start -- --port ${port} --log-format json; sleep 30`);
    await waitFor(
      async () => /"msg":"backend ready"/.test(screen(name).replace(/\n/g, '')),
      120_000,
      `JSON logs:\n${screen(name)}`,
    );
    // tmux wraps long lines: read the log records back by joining the screen.
    const joined = screen(name).replace(/\n/g, '');
    expect(joined).toContain('"msg":"vmcp listening on');
    expect(screen(name)).not.toMatch(/^\d\d:\d\d:\d\d INFO/m);
  }, 180_000);
});
