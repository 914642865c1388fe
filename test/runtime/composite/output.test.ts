/** Output mapping: templates coerced to declared types, defaults, nested objects, required properties. */
import { describe, expect, it } from 'vitest';
import { parseTemplate } from '../../../compiler/composite/template-parse.ts';
import { runWorkflow } from '../../../runtime/composite/engine.ts';
import { buildOutput, coerce } from '../../../runtime/composite/output.ts';
import type { OutputPropertyPlan } from '../../../runtime/composite/plan.ts';
import { fakeHost, ok, parentContext, toolStep, workflow } from './fakes.ts';

const data = {
  params: { n: '42', f: '1.5', yes: 'TRUE', obj: '{"a":1}', list: '[1,2]', bad: 'abc', real: 7, struct: { k: 'v' } },
  steps: {},
};

const prop = (
  type: OutputPropertyPlan['type'],
  value?: string,
  extra: Partial<OutputPropertyPlan> = {},
): OutputPropertyPlan => ({
  type,
  value: value === undefined ? undefined : parseTemplate(value),
  ...extra,
});

describe('output coercion', () => {
  const cases: Array<{ name: string; given: OutputPropertyPlan; want: unknown }> = [
    { name: 'text to integer', given: prop('integer', '{{.params.n}}'), want: 42 },
    {
      name: 'text inside a larger template to integer',
      given: prop('integer', 'x{{.params.n}}', { default: -1 }),
      want: -1,
    },
    { name: 'text to number', given: prop('number', '{{.params.f}}'), want: 1.5 },
    { name: 'number stays a number', given: prop('number', '{{.params.real}}'), want: 7 },
    { name: 'TRUE to boolean', given: prop('boolean', '{{.params.yes}}'), want: true },
    { name: 'JSON text to object', given: prop('object', '{{.params.obj}}'), want: { a: 1 } },
    { name: 'JSON text to array', given: prop('array', '{{.params.list}}'), want: [1, 2] },
    { name: 'structure to string', given: prop('string', '{{.params.struct}}'), want: '{"k":"v"}' },
    { name: 'number to string', given: prop('string', '{{.params.real}}'), want: '7' },
    {
      name: 'missing field uses the default',
      given: prop('string', '{{.params.nope}}', { default: 'none' }),
      want: 'none',
    },
    { name: 'failed coercion uses the default', given: prop('integer', '{{.params.bad}}', { default: 0 }), want: 0 },
    { name: 'a default is coerced too', given: prop('integer', '{{.params.nope}}', { default: '9' }), want: 9 },
    {
      name: 'a failing template uses the default',
      given: prop('string', '{{index .params.list 9}}', { default: 'd' }),
      want: 'd',
    },
    {
      name: 'nested properties build an object',
      given: prop('object', undefined, {
        properties: { n: prop('integer', '{{.params.n}}'), s: prop('string', 'v{{.params.f}}') },
      }),
      want: { n: 42, s: 'v1.5' },
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      expect(buildOutput({ properties: { p: c.given }, required: [] }, data).p).toEqual(c.want);
    });

  it('leaves out a property that renders nothing and has no default', () => {
    expect(buildOutput({ properties: { p: prop('string', '{{.params.nope}}') }, required: [] }, data)).toEqual({});
  });

  it('fails on a value that cannot be coerced and has no default, naming the property', () => {
    expect(() => buildOutput({ properties: { p: prop('integer', '{{.params.bad}}') }, required: [] }, data)).toThrow(
      'output property "p" cannot be coerced to integer: "abc"',
    );
  });

  it('fails when a required property has no value', () => {
    expect(() => buildOutput({ properties: { p: prop('string', '{{.params.nope}}') }, required: ['p'] }, data)).toThrow(
      'required output property "p" has no value',
    );
  });

  it('coerces the boolean spellings ToolHive accepts and nothing else', () => {
    expect(['true', 'True', '1', 'false', 'FALSE', '0', 'yes'].map((v) => coerce(v, 'boolean'))).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      expect.any(Symbol),
    ]);
  });
});

describe('output in a run', () => {
  it('builds the result from the steps and .workflow, and fails the workflow on a missing required one', async () => {
    const host = fakeHost(() => ok({ count: '3', items: ['a'] }));
    const plan = workflow([toolStep('a', 'a')], {
      output: {
        properties: {
          count: prop('integer', '{{.steps.a.output.count}}'),
          items: prop('array', '{{.steps.a.output.items}}'),
          status: prop('string', '{{.workflow.status}}'),
          duration: prop('integer', '{{.workflow.duration_ms}}'),
        },
        required: ['count'],
      },
    });
    const parent = parentContext();
    const pending = runWorkflow(plan, {}, parent.ctx, host);
    const result = await pending;
    expect(result.structuredContent).toEqual({ count: 3, items: ['a'], status: 'completed', duration: 0 });

    const missing = workflow([toolStep('a', 'a')], {
      output: { properties: { x: prop('string', '{{.steps.a.output.nope}}') }, required: ['x'] },
    });
    const failed = await runWorkflow(missing, {}, parent.ctx, host);
    expect(failed).toEqual({
      content: [
        {
          type: 'text',
          text: 'workflow "wf" failed: its output cannot be built: required output property "x" has no value',
        },
      ],
      isError: true,
    });
  });
});
