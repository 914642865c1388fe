/** Router bounds: template matching refuses very long URIs, and the upstream log level relaxes when verbose sessions end. */
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../runtime/catalog.ts';
import { Metrics } from '../../runtime/ops/metrics.ts';
import { MAX_TEMPLATE_URI_LENGTH, Router } from '../../runtime/protocol/router.ts';
import type { CompiledGateway } from '../../runtime/compiled-gateway.ts';
import type { Backend } from '../../runtime/backend/supervisor.ts';
import { templatePattern } from '../../compiler/resolve/uri-template.ts';

function setup(templates: string[]) {
  const calls: Array<{ method: string; params: any }> = [];
  const backend = {
    state: 'ready',
    capabilities: { logging: {} },
    name: 'b',
    call: async (method: string, params: any) => {
      calls.push({ method, params });
      return { contents: [] };
    },
  } as unknown as Backend;
  const gw = {
    tools: {},
    prompts: {},
    resources: {},
    resourceTemplates: templates.map((t) => ({ uriTemplate: t, pattern: templatePattern(t), backend: 0 })),
    lists: { tools: '[]', prompts: '[]', resources: '[]', resourceTemplates: '[]' },
    backends: [],
    operational: { partialFailureMode: 'fail' },
  } as unknown as CompiledGateway;
  const router = new Router(gw, [backend], new Catalog(gw, [backend]), new Metrics(['b']));
  return { router, calls };
}

describe('resource templates on long URIs', () => {
  it('a template with adjacent greedy expressions still routes, and a long non-matching URI is refused by length', async () => {
    const { router, calls } = setup(['x://{+a}{+b}{+c}/end']);
    await router.dispatch('resources/read', { uri: 'x://one/two/end' }, { notify() {} }, false);
    expect(calls).toHaveLength(1);
    const long = `x://${'a'.repeat(MAX_TEMPLATE_URI_LENGTH)}`;
    await expect(router.dispatch('resources/read', { uri: long }, { notify() {} }, false)).rejects.toThrow(
      /at most 2048/,
    );
    // Just under the bound, a URI that does not match fails in one linear pass (no catastrophic backtracking).
    const near = `x://${'a'.repeat(MAX_TEMPLATE_URI_LENGTH - 10)}`;
    await expect(router.dispatch('resources/read', { uri: near }, { notify() {} }, false)).rejects.toThrow(/not found/);
    expect(calls).toHaveLength(1);
  });

  it.each([
    ['file:///{path}', '^file:///([^/?#]+)$'],
    ['search://{q}{?limit}', '^search://([^/?#]+)((?:[?&][^#]*)?)$'],
    ['x://{+a}{+b}', '^x://(.*)$'],
    ['x://{a}{b}/{c}', '^x://([^/?#]+)/([^/?#]+)$'],
  ])('%s compiles to %s', (template, pattern) => expect(templatePattern(template)).toBe(pattern));
});

describe('upstream log level', () => {
  it('follows the most verbose session, and relaxes to info once no session asks for a level', () => {
    const { router, calls } = setup([]);
    router.setUpstreamLogLevel([0, 3]); // debug and warning: debug wins
    router.setUpstreamLogLevel([3]); // the debug session ended
    router.setUpstreamLogLevel([]); // every session ended
    router.setUpstreamLogLevel([]); // nothing changes any more
    expect(calls.map((c) => c.params.level)).toEqual(['debug', 'warning', 'info']);
  });
});
