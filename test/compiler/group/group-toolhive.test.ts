/**
 * groupRef resolved from ToolHive's REST API, end to end through the CLI: a fixture API
 * (test/fixtures/servers/toolhive-api.mjs) serves the groups of test/fixtures/toolhive/groups.json,
 * each running member a REAL echo MCP server over Streamable HTTP or SSE. ToolHive's own configs
 * (its example and the valid cases of its config loader tests) validate and compile unchanged.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lockfile } from '../../../compiler/lock.ts';
import { ROOT } from '../compile-helpers.ts';
import { closedUrl, type Fixture, startFixture, workspace } from './group-helpers.ts';

const DIR = join(ROOT, 'test/fixtures/toolhive');
const TOOLHIVE_CONFIGS = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const GITHUB_TOKEN = 'secret-token-123-from-toolhive-test';

let api: Fixture;
const tmp = workspace('');
beforeAll(async () => {
  api = await startFixture('toolhive-api.mjs', JSON.parse(readFileSync(join(DIR, 'groups.json'), 'utf8')), tmp.dir);
});
afterAll(() => {
  api?.stop();
  tmp.cleanup();
});

describe("ToolHive's configs, unchanged, against the fixture ToolHive API", () => {
  it('lists them: the example and the 9 valid loader cases', () => {
    expect(TOOLHIVE_CONFIGS).toEqual([
      'loader-audit.yaml',
      'loader-composite-tools.yaml',
      'loader-header-injection-env.yaml',
      'loader-header-injection-literal.yaml',
      'loader-minimal.yaml',
      'loader-oidc-env.yaml',
      'loader-oidc-jwks-introspection.yaml',
      'loader-oidc-unset-env.yaml',
      'loader-partial-operational.yaml',
      'vmcp-config.yaml',
    ]);
  });

  it.each(TOOLHIVE_CONFIGS)(
    '%s: validate, compile, validate with the lock, compile --frozen with ToolHive gone',
    async (file) => {
      const ws = workspace(readFileSync(join(DIR, file), 'utf8'));
      try {
        const env = { TOOLHIVE_API_URL: api.url, GITHUB_TOKEN };
        const before = await ws.run(['validate'], env);
        expect(before.text).not.toMatch(/NO_BACKENDS|UNKNOWN_BACKEND/);
        expect(before.text).toMatch(
          /GROUP_NOT_LOOKED_UP\] the members of group "[a-z-]+" are resolved at compile time/,
        );
        expect(before.code, before.text).toBe(0);

        let compiled = await ws.run(['compile'], env);
        if (file === 'vmcp-config.yaml') {
          // The one deliberate difference: the example's Cedar policy names Action::"tools/call",
          // which ToolHive's authorizer never matches (its actions are call_tool, get_prompt,
          // read_resource); vmcp refuses it at compile time. Everything else compiles as written.
          expect(compiled.code).toBe(1);
          expect(compiled.text.match(/error\[[A-Z_]+\]/g)).toEqual(['error[POLICY_UNKNOWN_ENTITY]']);
          writeFileSync(
            join(ws.dir, 'vmcp.yaml'),
            ws.read('vmcp.yaml').replace('Action::"tools/call"', 'Action::"call_tool"'),
          );
          compiled = await ws.run(['compile'], env);
        }
        expect(compiled.code, compiled.text).toBe(0);
        const lock = JSON.parse(ws.read('vmcp.lock.json')) as Lockfile;
        const group = lock.group!;
        expect(group.source).toEqual({ kind: 'toolhive', url: api.url });
        const members = group.members.map((m) => `${m.name} ${m.transport} ${m.from}`);
        if (file === 'vmcp-config.yaml') {
          expect(members).toEqual(['github streamable-http workload', 'jira sse workload']);
        } else {
          expect(members).toEqual([
            'api-service streamable-http workload',
            'github streamable-http workload',
            'slack sse workload',
          ]);
          expect(group.skipped.map((s) => `${s.name}: ${s.reason}`)).toEqual([
            'old-fetch: its status is "stopped"',
            'starting: its status is "starting"',
          ]);
        }
        expect(Object.keys(lock.backends).sort()).toEqual(group.members.map((m) => m.name));
        const bundleName = readdirSync(join(ws.dir, 'dist')).find((f) => f.endsWith('.vmcp.mjs'))!;
        const bundle = ws.read(`dist/${bundleName}`);
        // A secret read through an env reference never reaches an artifact.
        for (const text of [ws.read('vmcp.lock.json'), bundle]) expect(text).not.toContain(GITHUB_TOKEN);

        const after = await ws.run(['validate'], { GITHUB_TOKEN });
        expect(after.code, after.text).toBe(0);
        expect(after.text).not.toContain('GROUP_NOT_LOOKED_UP');
        expect(after.text).toContain(`${group.members.length} backends`);

        // --frozen needs neither ToolHive nor the backends: the lock reproduces the same bundle.
        const frozen = await ws.run(['compile', '--frozen', '--check'], { TOOLHIVE_API_URL: 'http://127.0.0.1:1' });
        expect(frozen.code, frozen.text).toBe(0);
        expect(frozen.text).toContain('pinned in the lock, read from ToolHive');
      } finally {
        ws.cleanup();
      }
    },
    60_000,
  );
});

const CONFIG = (group: string, extra = '') => `name: gw\ngroupRef: ${group}\n${extra}`;

describe('groupRef from ToolHive: what the compile says', () => {
  it('lists each skipped member by name with the reason', async () => {
    const ws = workspace(CONFIG('test-group'));
    try {
      const r = await ws.run(['compile'], { TOOLHIVE_API_URL: api.url });
      expect(r.code, r.text).toBe(0);
      expect(r.text).toContain(
        'warning[GROUP_MEMBER_SKIPPED] group "test-group": workload "old-fetch" is skipped: its status is "stopped"',
      );
      expect(r.text).toContain(
        'warning[GROUP_MEMBER_SKIPPED] group "test-group": workload "starting" is skipped: its status is "starting"',
      );
      expect(r.text).toContain(
        `info[GROUP_RESOLVED] group "test-group" looked up in ToolHive at ${api.url}: 3 members (api-service, github, slack), 2 skipped`,
      );
    } finally {
      ws.cleanup();
    }
  }, 60_000);

  it('a group that does not exist: an error naming the source, the group and the fix', async () => {
    const ws = workspace(CONFIG('no-such-group'));
    try {
      const r = await ws.run(['compile'], { TOOLHIVE_API_URL: api.url });
      expect(r.code).toBe(1);
      expect(r.text).toContain(`error[GROUP_LOOKUP] group "no-such-group" does not exist in ToolHive at ${api.url}`);
      expect(r.text).toContain('thv group create no-such-group');
      expect(r.text).toMatch(/vmcp\.yaml:2:\d+/);
    } finally {
      ws.cleanup();
    }
  });

  it('an unreachable source: an error naming it, the group and the fix', async () => {
    const ws = workspace(CONFIG('test-group'));
    try {
      const url = await closedUrl();
      const r = await ws.run(['compile', '--toolhive-url', url]);
      expect(r.code).toBe(1);
      expect(r.text).toContain(
        `error[GROUP_LOOKUP] cannot reach ToolHive at ${url} to look up group "test-group" (ECONNREFUSED)`,
      );
      expect(r.text).toContain('thv serve');
      expect(r.text).toContain('TOOLHIVE_API_URL');
    } finally {
      ws.cleanup();
    }
  });

  it("ToolHive's default address is the fallback", async () => {
    const ws = workspace(CONFIG('test-group'));
    try {
      const r = await ws.run(['validate']);
      expect(r.text).toContain('from ToolHive at http://127.0.0.1:8080');
    } finally {
      ws.cleanup();
    }
  });

  it('a group whose members are all skipped: NO_BACKENDS at groupRef, saying how it was looked up', async () => {
    const ws = workspace(CONFIG('empty-group'));
    try {
      const r = await ws.run(['compile'], { TOOLHIVE_API_URL: api.url });
      expect(r.code).toBe(1);
      expect(r.text).toContain(
        `vmcp.yaml:2:11 error[NO_BACKENDS] group "empty-group" has no backends: ToolHive at ${api.url} lists 0 usable member(s); skipped: sleepy (its status is "stopped")`,
      );
    } finally {
      ws.cleanup();
    }
  });

  it('inline backends combine with the group; a clash keeps the inline definition, with a warning naming both', async () => {
    const echo = join(ROOT, 'test/fixtures/servers/echo-server.mjs');
    const ws = workspace(
      CONFIG(
        'test-group',
        `backends:\n  - name: github\n    transport: stdio\n    command: node\n    args: [${JSON.stringify(echo)}]\n    env: { ECHO_NO_RESOURCES: "1" }\n  - name: local\n    transport: stdio\n    command: node\n    args: [${JSON.stringify(echo)}]\n    env: { ECHO_NO_RESOURCES: "1" }\n`,
      ),
    );
    try {
      const r = await ws.run(['compile', '--group-source', 'toolhive'], { TOOLHIVE_API_URL: api.url });
      expect(r.code, r.text).toBe(0);
      expect(r.text).toMatch(
        /vmcp\.yaml:4:\d+ warning\[GROUP_MEMBER_SHADOWED\] backend "github" is declared here and is also a member of group "test-group" \(workload at streamable-http http:\/\/127\.0\.0\.1:\d+\/mcp in ToolHive at http:\/\/127\.0\.0\.1:\d+\); this declaration is used/,
      );
      const lock = JSON.parse(ws.read('vmcp.lock.json')) as Lockfile;
      expect(Object.keys(lock.backends).sort()).toEqual(['api-service', 'github', 'local', 'slack']);
      expect(lock.backends.github.identity.transport).toBe('stdio');
    } finally {
      ws.cleanup();
    }
  }, 60_000);

  it('with inline backends and no source chosen, groupRef stays a label (said once, as info)', async () => {
    const echo = join(ROOT, 'test/fixtures/servers/echo-server.mjs');
    const ws = workspace(
      CONFIG(
        'test-group',
        `backends:\n  - name: local\n    transport: stdio\n    command: node\n    args: [${JSON.stringify(echo)}]\n`,
      ),
    );
    try {
      const r = await ws.run(['compile'], { TOOLHIVE_API_URL: 'http://127.0.0.1:1' });
      expect(r.code, r.text).toBe(0);
      expect(r.text.match(/GROUP_NOT_LOOKED_UP/g)).toHaveLength(1);
      expect(r.text).toContain(
        'groupRef "test-group" is used as a label: the config lists its backends inline and no group source was chosen',
      );
      expect(JSON.parse(ws.read('vmcp.lock.json')).group).toBeUndefined();
    } finally {
      ws.cleanup();
    }
  }, 60_000);

  it('--frozen: a lock that pins another group, or none, is stale', async () => {
    const ws = workspace(CONFIG('test-group'));
    try {
      expect((await ws.run(['compile'], { TOOLHIVE_API_URL: api.url })).code).toBe(0);
      const renamed = workspace(CONFIG('engineering-team'));
      try {
        writeFileSync(join(renamed.dir, 'vmcp.lock.json'), ws.read('vmcp.lock.json'));
        const r = await renamed.run(['compile', '--frozen']);
        expect(r.code).toBe(1);
        expect(r.text).toContain(
          'error[LOCK_STALE] the lock pins group "test-group", but groupRef is now "engineering-team"',
        );
        writeFileSync(join(renamed.dir, 'vmcp.lock.json'), '{"lockfileVersion":1,"backends":{}}\n');
        const none = await renamed.run(['compile', '--frozen']);
        expect(none.text).toContain('error[LOCK_STALE] the lock pins no members for group "engineering-team"');
      } finally {
        renamed.cleanup();
      }
    } finally {
      ws.cleanup();
    }
  }, 60_000);

  it('validate without a lock and with --group-source none: one NO_BACKENDS at groupRef, no cascade of UNKNOWN_BACKEND', async () => {
    const ws = workspace(readFileSync(join(DIR, 'vmcp-config.yaml'), 'utf8'));
    try {
      const r = await ws.run(['validate', '--group-source', 'none']);
      expect(r.code).toBe(1);
      expect(r.text.match(/error\[/g)).toHaveLength(1);
      expect(r.text).toContain(
        'error[NO_BACKENDS] group "engineering-team" has no backends: groupRef is only a label here',
      );
      expect(r.text).not.toContain('UNKNOWN_BACKEND');
    } finally {
      ws.cleanup();
    }
  });

  it('rejects a bad --group-source', async () => {
    const ws = workspace(CONFIG('g'));
    try {
      const r = await ws.run(['compile', '--group-source', 'docker']);
      expect(r.code).toBe(2);
      expect(r.text).toContain('--group-source must be one of toolhive, kubernetes, none (got "docker")');
    } finally {
      ws.cleanup();
    }
  });
});
