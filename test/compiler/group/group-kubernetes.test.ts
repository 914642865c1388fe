/**
 * groupRef resolved from Kubernetes: a fixture API server (test/fixtures/servers/kubernetes-api.mjs)
 * answers @kubernetes/client-node's list calls for the ToolHive operator's objects, read through a
 * kubeconfig written here. Members are REAL echo MCP servers. The same group served by the fixture
 * ToolHive API compiles to the same catalog; discovered outgoing auth maps MCPExternalAuthConfigs to
 * env references, and a Secret's value never reaches the lock, bundle or manifest.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../../compiler/index.ts';
import type { Lockfile } from '../../../compiler/lock.ts';
import type { GroupOptions } from '../../../compiler/resolve/group-pin.ts';
import { introspectAll } from '../../../compiler/resolve/introspect.ts';
import { ROOT } from '../compile-helpers.ts';
import { type Fixture, startFixture, workspace } from './group-helpers.ts';

const GITHUB_TOOLS = { ECHO_EXTRA_TOOLS: 'create_pr,merge_pr,list_issues', ECHO_NO_RESOURCES: '1' };
const JIRA_TOOLS = { ECHO_EXTRA_TOOLS: 'create_issue', ECHO_NO_RESOURCES: '1' };
const SECRET = 'super-secret-header-value-from-a-k8s-secret';
const group = { name: 'engineering-team' };

const CLUSTER = {
  namespace: 'team',
  groups: ['engineering-team'],
  objects: [
    {
      kind: 'MCPServer',
      name: 'github',
      spec: {
        transport: 'stdio',
        proxyMode: 'streamable-http',
        groupRef: group,
        externalAuthConfigRef: { name: 'gh-header' },
      },
      status: { phase: 'Running' },
      serve: 'streamable-http',
      env: GITHUB_TOOLS,
    },
    {
      kind: 'MCPRemoteProxy',
      name: 'jira',
      spec: { transport: 'sse', groupRef: group, externalAuthConfigRef: { name: 'jira-bearer' } },
      status: { phase: 'Ready' },
      serve: 'sse',
      env: JIRA_TOOLS,
    },
    {
      kind: 'MCPServer',
      name: 'pending',
      spec: { transport: 'streamable-http', groupRef: group },
      status: { phase: 'Pending' },
    },
    {
      kind: 'MCPServerEntry',
      name: 'docs',
      spec: { transport: 'streamable-http', remoteUrl: 'https://docs.example.com/mcp', groupRef: group },
      status: { phase: 'Failed' },
    },
    { kind: 'MCPServer', name: 'elsewhere', spec: { transport: 'sse', groupRef: { name: 'other' } }, status: {} },
    {
      kind: 'MCPExternalAuthConfig',
      name: 'gh-header',
      spec: {
        type: 'headerInjection',
        headerInjection: { headerName: 'X-Api-Key', valueSecretRef: { name: 'github-token', key: 'token' } },
      },
    },
    {
      kind: 'MCPExternalAuthConfig',
      name: 'jira-bearer',
      spec: { type: 'bearerToken', bearerToken: { tokenSecretRef: { name: 'jira', key: 'pat' } } },
    },
  ],
};

const TOOLHIVE = {
  groups: {
    'engineering-team': [
      {
        name: 'github',
        status: 'running',
        transport_type: 'stdio',
        proxy_mode: 'streamable-http',
        serve: 'streamable-http',
        env: GITHUB_TOOLS,
      },
      { name: 'jira', status: 'running', transport_type: 'sse', proxy_mode: 'sse', serve: 'sse', env: JIRA_TOOLS },
    ],
  },
};

// ToolHive's example, with the one Cedar action vmcp refuses renamed (see group-toolhive.test.ts).
const EXAMPLE = readFileSync(join(ROOT, 'test/fixtures/toolhive/vmcp-config.yaml'), 'utf8').replace(
  'Action::"tools/call"',
  'Action::"call_tool"',
);

let k8s: Fixture;
let thv: Fixture;
const tmp = workspace('');
let kubeconfig: string;
beforeAll(async () => {
  [k8s, thv] = await Promise.all([
    startFixture('kubernetes-api.mjs', CLUSTER, tmp.dir),
    startFixture('toolhive-api.mjs', TOOLHIVE, tmp.dir),
  ]);
  kubeconfig = join(tmp.dir, 'kubeconfig.yaml');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `  - name: fixture\n    cluster:\n      server: ${k8s.url}\n      insecure-skip-tls-verify: true`,
      'users:',
      '  - name: tester\n    user:\n      token: fixture-token',
      'contexts:',
      '  - name: fixture\n    context:\n      cluster: fixture\n      user: tester',
      'current-context: fixture',
      '',
    ].join('\n'),
  );
}, 30_000);
afterAll(() => {
  k8s?.stop();
  thv?.stop();
  tmp.cleanup();
});

async function compileWith(text: string, groupOptions: GroupOptions, env: Record<string, string> = {}) {
  return compile({
    file: 'vmcp.yaml',
    text,
    env: { KUBECONFIG: kubeconfig, ...env },
    readFile: () => undefined,
    frozen: false,
    allowMissing: false,
    groupOptions,
    introspect: (targets) => introspectAll(targets),
  });
}

describe('groupRef from Kubernetes', () => {
  it('the same group compiles to the same catalog as from the ToolHive API', async () => {
    const fromK8s = await compileWith(EXAMPLE, { source: 'kubernetes', namespace: 'team', explicit: true });
    const fromThv = await compileWith(EXAMPLE, { source: 'toolhive', toolhiveUrl: thv.url, explicit: true });
    expect(fromK8s.value, JSON.stringify(fromK8s.diagnostics)).toBeDefined();
    expect(fromThv.value, JSON.stringify(fromThv.diagnostics)).toBeDefined();
    const catalog = (c: NonNullable<typeof fromK8s.value>['catalog']) =>
      c.tools.map((t) => `${t.exposed} ← ${t.backend}.${t.original}: ${String(t.def.description)}`);
    expect(catalog(fromK8s.value!.catalog)).toEqual(catalog(fromThv.value!.catalog));
    const exposed = fromK8s.value!.catalog.tools.map((t) => t.exposed);
    expect(exposed).toEqual(
      expect.arrayContaining(['github_gh_create_pr', 'github_merge_pr', 'jira_jira_create_issue', 'jira_echo']),
    );
    expect(exposed).not.toContain('github_echo'); // the example's filter keeps three github tools
    const g = fromK8s.value!.lock.group!;
    expect(g.source).toEqual({ kind: 'kubernetes', namespace: 'team' });
    expect(g.members.map((m) => `${m.name} ${m.from} ${m.transport}`)).toEqual([
      'github MCPServer streamable-http',
      'jira MCPRemoteProxy sse',
    ]);
    expect(g.skipped.map((s) => `${s.from} ${s.name}: ${s.reason}`)).toEqual([
      'MCPServerEntry docs: its phase is "Failed", not "Valid"',
      'MCPServer pending: it has no URL yet (status.url is empty; phase "Pending")',
    ]);
    const codes = fromK8s.diagnostics.map((d) => `${d.severity} ${d.code}`);
    expect(codes.filter((c) => c.includes('GROUP_MEMBER_SKIPPED'))).toHaveLength(2);
    // The cluster client is compile-time only: nothing of it (or of the compiler) reaches the bundle.
    const inputs = Object.keys(fromK8s.value!.bundle.metafile.inputs);
    expect(inputs.length).toBeGreaterThan(10);
    expect(inputs.filter((p) => /@kubernetes\/|^compiler\/|^schemas\//.test(p))).toEqual([]);
    expect(fromK8s.value!.bundle.code).not.toMatch(/KubeConfig|CustomObjectsApi|toolhive\.stacklok\.dev/);
  }, 60_000);

  it('outgoingAuth.source discovered: MCPExternalAuthConfigs become env references, and no secret reaches an artifact', async () => {
    const text = 'name: gw\ngroupRef: engineering-team\noutgoingAuth:\n  source: discovered\n';
    const env = { VMCP_SECRET_GITHUB_TOKEN_TOKEN: SECRET, VMCP_SECRET_JIRA_PAT: `${SECRET}-jira` };
    const out = await compileWith(text, { source: 'kubernetes', namespace: 'team', explicit: true }, env);
    expect(out.value, JSON.stringify(out.diagnostics)).toBeDefined();
    const members = Object.fromEntries(out.value!.lock.group!.members.map((m) => [m.name, m]));
    expect(members.github.auth).toEqual({
      type: 'header_injection',
      headerInjection: { headerName: 'X-Api-Key', headerValueEnv: 'VMCP_SECRET_GITHUB_TOKEN_TOKEN' },
    });
    expect(members.github.secretEnv).toEqual({ VMCP_SECRET_GITHUB_TOKEN_TOKEN: 'github-token/token' });
    expect(members.jira.auth).toEqual({
      type: 'header_injection',
      headerInjection: { headerName: 'Authorization', headerValue: 'Bearer ${env:VMCP_SECRET_JIRA_PAT}' },
    });
    expect(out.value!.valid.config.outgoingAuth.backends.github.type).toBe('header_injection');
    for (const artifact of [out.value!.lockText, out.value!.bundle.code, out.value!.manifestText]) {
      expect(artifact).not.toContain(SECRET);
    }
    expect(out.value!.lockText).toContain('VMCP_SECRET_GITHUB_TOKEN_TOKEN');
  }, 60_000);

  it('a discovered strategy vmcp does not have: an error naming the member and the type', async () => {
    const cluster = structuredClone(CLUSTER);
    const auth = cluster.objects.find((o) => o.name === 'gh-header')!;
    auth.spec = { type: 'awsSts', awsSts: { region: 'eu-west-1' } } as never;
    const dir = workspace('');
    const other = await startFixture('kubernetes-api.mjs', cluster, dir.dir);
    try {
      const cfg = join(dir.dir, 'kubeconfig.yaml');
      writeFileSync(cfg, readFileSync(kubeconfig, 'utf8').replace(k8s.url, other.url));
      const out = await compileWith(
        'name: gw\ngroupRef: engineering-team\noutgoingAuth:\n  source: discovered\n',
        { source: 'kubernetes', namespace: 'team', explicit: true },
        { KUBECONFIG: cfg },
      );
      expect(out.value).toBeUndefined();
      expect(
        out.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.line}: ${d.message}`),
      ).toEqual([
        'GROUP_AUTH_UNSUPPORTED 4: MCPServer "github": MCPExternalAuthConfig "gh-header" of type awsSts has no vmcp equivalent',
      ]);
    } finally {
      other.stop();
      dir.cleanup();
    }
  }, 30_000);

  it('through the CLI: a missing group names the namespace; a wrong namespace too', async () => {
    const ws = workspace('name: gw\ngroupRef: nope\n');
    try {
      const r = await ws.run(['compile', '--group-source', 'kubernetes', '--namespace', 'team'], {
        KUBECONFIG: kubeconfig,
      });
      expect(r.code).toBe(1);
      expect(r.text).toContain(
        'error[GROUP_LOOKUP] group "nope" does not exist in Kubernetes namespace "team" (no MCPGroup "nope")',
      );
      expect(r.text).toContain('kubectl get mcpgroups -n team');
      writeFileSync(join(ws.dir, 'vmcp.yaml'), 'name: gw\ngroupRef: engineering-team\n');
      const wrong = await ws.run(['compile', '--group-source', 'kubernetes'], { KUBECONFIG: kubeconfig });
      expect(wrong.text).toContain('group "engineering-team" does not exist in Kubernetes namespace "default"');
    } finally {
      ws.cleanup();
    }
  }, 30_000);

  it('compile writes the lock; --frozen and validate then need no cluster', async () => {
    const ws = workspace(EXAMPLE);
    try {
      const env = { KUBECONFIG: kubeconfig, VMCP_GROUP_SOURCE: 'kubernetes', VMCP_NAMESPACE: 'team' };
      const r = await ws.run(['compile'], env);
      expect(r.code, r.text).toBe(0);
      const lock = JSON.parse(ws.read('vmcp.lock.json')) as Lockfile;
      expect(lock.group?.source).toEqual({ kind: 'kubernetes', namespace: 'team' });
      const frozen = await ws.run(['compile', '--frozen', '--check'], { KUBECONFIG: join(ws.dir, 'missing') });
      expect(frozen.code, frozen.text).toBe(0);
      const v = await ws.run(['validate']);
      expect(v.code, v.text).toBe(0);
      expect(v.text).toContain('2 backends');
    } finally {
      ws.cleanup();
    }
  }, 60_000);
});
