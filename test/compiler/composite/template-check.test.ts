/** What a workflow template reads, checked against the parameters, the graph and the pinned output schemas. */
import { describe, expect, it } from 'vitest';
import { checkTemplate, type TemplateScope } from '../../../compiler/composite/template-check.ts';
import { parseTemplate } from '../../../compiler/composite/template-parse.ts';

const scope: TemplateScope = {
  params: {
    owner: { type: 'string' },
    limit: { type: 'integer' },
    filter: { type: 'object', properties: { label: { type: 'string' } }, additionalProperties: false },
  },
  steps: {
    all: new Set(['fetch', 'summarize', 'later', 'raw']),
    ancestors: new Map<string, any>([
      [
        'fetch',
        {
          type: 'object',
          properties: {
            count: { type: 'integer' },
            items: { type: 'array' },
            meta: { type: 'object', properties: { page: { type: 'integer' } } },
          },
          additionalProperties: false,
        },
      ],
      ['summarize', { type: 'object', properties: { text: { type: 'string' } } }],
      ['raw', null],
    ]),
  },
};
const check = (text: string, s: TemplateScope = scope) => checkTemplate(parseTemplate(text), s);

describe('checkTemplate: fields', () => {
  it.each([
    ['{{.params.owner}}/{{.params.limit}}', []],
    ['{{.steps.fetch.output.count}} {{.steps.fetch.status}} {{.steps.fetch.error}}', []],
    ['{{.steps.fetch.output.meta.page}}', []],
    ['{{.workflow.id}} {{.vars.anything}}', []],
    ['{{.params.nope}}', ['error TEMPLATE_UNKNOWN_PARAM 2']],
    ['x {{.params.filter.colour}}', ['error TEMPLATE_UNKNOWN_FIELD 4']],
    ['{{.steps.ghost.output}}', ['error TEMPLATE_UNKNOWN_STEP 2']],
    ['{{.steps.later.output.x}}', ['error TEMPLATE_NOT_ANCESTOR 2']],
    ['{{.steps.fetch.output.cnt}}', ['error TEMPLATE_UNKNOWN_FIELD 2']],
    ['{{.steps.summarize.output.txt}}', ['warning TEMPLATE_UNKNOWN_FIELD 2']],
    ['{{.steps.raw.output.anything}}', ['warning TEMPLATE_UNCHECKED_OUTPUT 2']],
    ['{{.steps.fetch.result}}', ['error TEMPLATE_UNKNOWN_FIELD 2']],
    ['{{.workflow.name}}', ['error TEMPLATE_UNKNOWN_FIELD 2']],
    ['{{.forEach.item}}', ['error TEMPLATE_UNKNOWN_ROOT 2']],
    ['{{.input.x}}', ['error TEMPLATE_UNKNOWN_ROOT 2']],
    [
      '{{if eq .steps.later.status "completed"}}{{.params.nope}}{{end}}',
      ['error TEMPLATE_NOT_ANCESTOR 8', 'error TEMPLATE_UNKNOWN_PARAM 43'],
    ],
    ['{{printf "%s" (index .steps.ghost.output "k")}}', ['error TEMPLATE_UNKNOWN_STEP 21']],
  ])('%s', (text, want) => expect(check(text).issues.map((i) => `${i.severity} ${i.code} ${i.at}`)).toEqual(want));

  it('messages say what to do', () => {
    expect(check('{{.steps.later.output.x}}').issues[0].message).toMatch(/add "later" to dependsOn/);
    expect(check('{{.params.nope}}').issues[0].message).toMatch(/parameters: owner, limit, filter/);
  });

  it('inside a forEach, the item and index are defined', () => {
    expect(check('{{.forEach.repo}} #{{.forEach.index}}', { ...scope, forEachItem: 'repo' }).issues).toEqual([]);
    expect(check('{{.forEach.item}}', { ...scope, forEachItem: 'repo' }).issues.map((i) => i.code)).toEqual([
      'TEMPLATE_UNKNOWN_FIELD',
    ]);
  });
});

describe('checkTemplate: the JSON type of a whole-value template', () => {
  it.each([
    ['{{.params.limit}}', 'integer'],
    ['{{.params.owner}}', 'string'],
    ['{{.steps.fetch.output.count}}', 'integer'],
    ['{{.steps.fetch.output.items}}', 'array'],
    ['{{gt .params.limit 3}}', 'boolean'],
    ['{{len .steps.fetch.output.items}}', 'integer'],
    ['{{json .params}}', 'string'],
    ['{{ 42 }}', 'integer'],
    ['{{ true }}', 'boolean'],
    ['{{.params.limit | printf "%d"}}', 'string'],
    ['{{.steps.raw.output}}', undefined],
    ['{{index .steps.fetch.output "count"}}', undefined],
    ['n={{.params.limit}}', 'string'],
  ])('%s → %s', (text, type) => expect(check(text).type).toBe(type));
});
