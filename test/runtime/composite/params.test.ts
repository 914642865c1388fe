/** Parameters: JSON Schema defaults applied before the run, required and top-level types checked. */
import { describe, expect, it } from 'vitest';
import { prepareParams } from '../../../runtime/composite/params.ts';
import { runWorkflow } from '../../../runtime/composite/engine.ts';
import { ERR, RpcError } from '../../../runtime/jsonrpc.ts';
import { fakeHost, ok, parentContext, toolStep, workflow } from './fakes.ts';

const schema = {
  type: 'object',
  properties: {
    repo: { type: 'string' },
    limit: { type: 'integer', default: 10 },
    tags: { type: 'array', default: ['a'] },
    opts: {
      type: 'object',
      default: { verbose: false },
      properties: { verbose: { type: 'boolean' }, depth: { type: 'integer', default: 2 } },
    },
    mode: { type: ['string', 'null'] },
  },
  required: ['repo'],
};

describe('prepareParams', () => {
  const good: Array<{ name: string; given: unknown; want: unknown }> = [
    {
      name: 'fills defaults, nested ones included',
      given: { repo: 'r' },
      want: { repo: 'r', limit: 10, tags: ['a'], opts: { verbose: false, depth: 2 } },
    },
    {
      name: 'keeps what the caller gave, and fills nested defaults into its object',
      given: { repo: 'r', limit: 3, opts: { verbose: true } },
      want: { repo: 'r', limit: 3, tags: ['a'], opts: { verbose: true, depth: 2 } },
    },
    { name: 'a union type', given: { repo: 'r', mode: null }, want: expect.objectContaining({ mode: null }) },
  ];
  for (const c of good)
    it(c.name, () => {
      expect(prepareParams('wf', schema, c.given)).toEqual(c.want);
    });

  const bad: Array<{ name: string; given: unknown; want: string }> = [
    {
      name: 'a missing required parameter',
      given: { limit: 1 },
      want: 'workflow "wf": missing required parameter "repo"',
    },
    { name: 'no arguments at all', given: undefined, want: 'workflow "wf": missing required parameter "repo"' },
    {
      name: 'a wrong type',
      given: { repo: 'r', limit: 'ten' },
      want: 'workflow "wf": parameter "limit" must be integer, got string',
    },
    {
      name: 'a fraction for an integer',
      given: { repo: 'r', limit: 1.5 },
      want: 'workflow "wf": parameter "limit" must be integer, got number',
    },
    {
      name: 'a union mismatch',
      given: { repo: 'r', mode: 3 },
      want: 'workflow "wf": parameter "mode" must be string or null, got integer',
    },
    {
      name: 'arguments that are not an object',
      given: [1],
      want: 'workflow "wf": arguments must be an object, got array',
    },
  ];
  for (const c of bad)
    it(`rejects ${c.name}`, () => {
      let err: unknown;
      try {
        prepareParams('wf', schema, c.given);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RpcError);
      expect(err).toMatchObject({ code: ERR.INVALID_PARAMS, message: c.want });
    });

  it('never changes the caller’s object, and gives each run its own copy of a default', () => {
    const given = { repo: 'r', opts: { verbose: true } };
    const a = prepareParams('wf', schema, given);
    const b = prepareParams('wf', schema, given);
    expect(given).toEqual({ repo: 'r', opts: { verbose: true } });
    expect(a.tags).not.toBe(b.tags);
  });
});

describe('parameters in a run', () => {
  it('templates read defaults; invalid params reject before any call', async () => {
    const host = fakeHost((tool, args) => ok({ args }));
    const plan = workflow([toolStep('a', 'a', { limit: '{{.params.limit}}', depth: '{{.params.opts.depth}}' })], {
      parameters: schema,
    });
    const result = await runWorkflow(plan, { repo: 'r' }, parentContext().ctx, host);
    expect(result.structuredContent).toEqual({ args: { limit: 10, depth: 2 } });
    await expect(runWorkflow(plan, {}, parentContext().ctx, host)).rejects.toMatchObject({ code: ERR.INVALID_PARAMS });
    expect(host.calls).toHaveLength(1);
  });
});
