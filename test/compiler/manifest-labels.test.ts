import { describe, expect, it } from 'vitest';
import { buildManifest } from '../../compiler/emit/manifest.ts';
import type { BundleOutput } from '../../compiler/bundle.ts';
import type { Lockfile } from '../../compiler/lock.ts';
import type { Catalog } from '../../compiler/resolve/catalog.ts';
import type { CompiledGateway } from '../../runtime/compiled-gateway.ts';
import { load } from './config/helpers.ts';

/** The manifest of a config, with everything but the config stubbed (no lock, no catalog, no bundle). */
function manifestOf(yaml: string) {
  const valid = load(yaml).value!;
  const gateway = {
    name: valid.config.name,
    backends: valid.backends.map((b) => ({ name: b.name, transport: b.transport, auth: { type: 'unauthenticated' } })),
  } as unknown as CompiledGateway;
  const catalog = { tools: [], prompts: [], resources: [], resourceTemplates: [] } as unknown as Catalog;
  const lock: Lockfile = { lockfileVersion: 1, backends: {} } as unknown as Lockfile;
  const bundle = { code: '', legal: '', metafile: { inputs: {}, outputs: {} } } as unknown as BundleOutput;
  return buildManifest(valid, lock, '', gateway, catalog, bundle, yaml);
}

describe('metadata and backend labels are carried into the manifest', () => {
  it('top-level metadata, and a backend’s description and metadata, with keys in one order', () => {
    const m = manifestOf(
      [
        'name: gw',
        'metadata: {team: search, cost-center: "42"}',
        'backends:',
        '  - name: a',
        '    transport: stdio',
        '    command: node',
        '    description: the search index',
        '    metadata: {owner: ana, tier: gold}',
        '  - name: b',
        '    transport: stdio',
        '    command: node',
      ].join('\n'),
    );
    expect(m.metadata).toEqual({ 'cost-center': '42', team: 'search' });
    expect(Object.keys(m.metadata!)).toEqual(['cost-center', 'team']);
    expect(m.backends.find((b) => b.name === 'a')).toMatchObject({
      description: 'the search index',
      metadata: { owner: 'ana', tier: 'gold' },
    });
    expect(m.backends.find((b) => b.name === 'b')).not.toHaveProperty('metadata');
  });

  it('no metadata, no key', () => {
    expect(
      manifestOf('name: gw\nbackends:\n  - name: a\n    transport: stdio\n    command: node\n'),
    ).not.toHaveProperty('metadata');
  });
});
