/**
 * ToolHive operator manifests as input (issue 20): `vmcp compile` reads a `VirtualMCPServer`
 * (among other objects) as a config, end to end: its group is read from a fixture Kubernetes API
 * whose member is a real echo server (standing in for the examples' container images), and
 * diagnostics point into the manifest.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.ts';
import { introspectAll } from '../../compiler/resolve/introspect.ts';
import { type Fixture, startFixture, workspace } from './group/group-helpers.ts';

describe('a VirtualMCPServer manifest compiles end to end', () => {
  const MANIFEST = `# A manifest as ToolHive's operator takes it
---
apiVersion: toolhive.stacklok.dev/v1alpha1
kind: MCPGroup
metadata:
  name: tools
  namespace: team
---
apiVersion: toolhive.stacklok.dev/v1alpha1
kind: VirtualMCPServer
metadata:
  name: team-gateway
  namespace: team
spec:
  groupRef:
    name: tools
  config:
    aggregation:
      conflictResolution: prefix
  incomingAuth:
    type: oidc
    oidcConfig:
      type: inline
      resourceUrl: https://gw.example.com/mcp
      inline:
        issuer: https://idp.example.com
        audience: team-gateway
    authzConfig:
      type: inline
      inline:
        policies:
          - 'permit(principal, action == Action::"call_tool", resource == Tool::"alpha_echo");'
  outgoingAuth:
    source: discovered
  serviceType: ClusterIP
`;
  let k8s: Fixture;
  const tmp = workspace('');
  let kubeconfig: string;
  beforeAll(async () => {
    k8s = await startFixture(
      'kubernetes-api.mjs',
      {
        namespace: 'team',
        groups: ['tools'],
        objects: [
          {
            kind: 'MCPServer',
            name: 'alpha',
            spec: { transport: 'streamable-http', groupRef: { name: 'tools' } },
            status: { phase: 'Running' },
            serve: 'streamable-http',
            env: { ECHO_NO_RESOURCES: '1' },
          },
        ],
      },
      tmp.dir,
    );
    kubeconfig = join(tmp.dir, 'kubeconfig.yaml');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n  - name: f\n    cluster:\n      server: ${k8s.url}\n      insecure-skip-tls-verify: true\nusers:\n  - name: t\n    user:\n      token: x\ncontexts:\n  - name: f\n    context:\n      cluster: f\n      user: t\ncurrent-context: f\n`,
    );
  }, 30_000);
  afterAll(() => {
    k8s?.stop();
    tmp.cleanup();
  });

  it('name, group (from Kubernetes, the manifest namespace), inline OIDC and Cedar become the gateway', async () => {
    const r = await compile({
      file: 'gateway.yaml',
      text: MANIFEST,
      env: { KUBECONFIG: kubeconfig },
      readFile: () => undefined,
      frozen: false,
      allowMissing: false,
      introspect: (targets) => introspectAll(targets),
    });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const gw = r.value!.gateway;
    expect(gw.name).toBe('team-gateway');
    expect(Object.keys(gw.tools)).toContain('alpha_echo');
    expect(gw.incomingAuth).toMatchObject({
      type: 'oidc',
      oidc: { issuer: 'https://idp.example.com', audience: 'team-gateway', resource: 'https://gw.example.com/mcp' },
    });
    expect(gw.incomingAuth?.authz).toBeDefined();
    expect(r.value!.lock.group).toMatchObject({ name: 'tools', source: { kind: 'kubernetes', namespace: 'team' } });
    // The deployment field is reported at its line in the manifest, not dropped.
    const svc = r.diagnostics.find((d) => d.code === 'UNSUPPORTED' && d.message.includes('serviceType'));
    expect(svc).toMatchObject({
      severity: 'warning',
      line: MANIFEST.split('\n').findIndex((l) => l.startsWith('  serviceType:')) + 1,
    });
  }, 60_000);

  it('a schema error inside spec.config points into the manifest', async () => {
    const bad = MANIFEST.replace('conflictResolution: prefix', 'conflictResolution: prefx');
    const { loadConfig } = await import('../../compiler/config/validate.ts');
    const out = loadConfig('gateway.yaml', bad, { env: {}, readFile: () => undefined });
    const d = out.diagnostics.find((x) => x.code === 'BAD_ENUM');
    expect(d).toMatchObject({ line: bad.split('\n').findIndex((l) => l.includes('prefx')) + 1 });
    expect(d?.hint).toContain('"prefix"');
  });
});
