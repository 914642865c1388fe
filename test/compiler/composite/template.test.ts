/**
 * Workflow templates: the Go text/template subset ToolHive workflows use, parsed once into data by
 * the compiler and evaluated by the runtime. Given/want tables for rendering, for values that keep
 * their JSON type, and for every construct outside the subset (an error at its offset).
 */
import { describe, expect, it } from 'vitest';
import { TemplateError, parseTemplate } from '../../../compiler/composite/template-parse.ts';
import { evaluateTemplate, TemplateRuntimeError } from '../../../runtime/composite/template-eval.ts';

const ctx = {
  params: { owner: 'acme', repo: 'api', limit: 5, draft: false, labels: ['bug', 'p1'], empty: '' },
  steps: {
    fetch: {
      status: 'completed',
      output: { count: 3, items: [{ id: 7, title: 'Crash' }], meta: { page: 1 } },
      content: { text: 'raw text' },
    },
    skipped: { status: 'skipped', output: null },
  },
  vars: { greeting: 'hi' },
  workflow: { id: 'wf-1', step_count: 2 },
};

const render = (text: string) => evaluateTemplate(parseTemplate(text), ctx);

describe('rendering to text', () => {
  it.each([
    ['plain text', 'no actions here', 'no actions here'],
    ['a field in text', 'repo {{.params.owner}}/{{.params.repo}}', 'repo acme/api'],
    ['a number in text', 'limit={{ .params.limit }}', 'limit=5'],
    ['a deep field', 'first: {{index .steps.fetch.output.items 0 | json}}', 'first: {"id":7,"title":"Crash"}'],
    ['index by key', '{{index .steps.fetch.output.meta "page"}} page', '1 page'],
    ['a field of a parenthesized value', 'title: {{(index .steps.fetch.output.items 0).title}}', 'title: Crash'],
    ['a missing field prints like Go', 'x={{.params.nope}}', 'x=<no value>'],
    ['if / else', '{{if .params.draft}}draft{{else}}ready{{end}}', 'ready'],
    ['else if', '{{if eq .params.limit 1}}one{{else if gt .params.limit 3}}many{{else}}few{{end}}', 'many'],
    ['eq against several values', '{{if eq .steps.fetch.status "failed" "completed"}}done{{end}}', 'done'],
    [
      'and / or return an operand',
      '{{or .params.empty "fallback"}} {{and .params.owner .params.repo}}',
      'fallback api',
    ],
    ['not and len', '{{if not (len .params.labels | eq 0)}}{{len .params.labels}} labels{{end}}', '2 labels'],
    ['a pipeline into a function', '{{.params.owner | printf "owner=%s"}}', 'owner=acme'],
    [
      'printf verbs',
      '{{printf "%s:%d:%.2f:%q:%t:%%" .params.repo .params.limit 1.5 "x" true}}',
      'api:5:1.50:"x":true:%',
    ],
    ['quote and json', '{{quote .params.owner}} {{json .params.labels}}', '"acme" ["bug","p1"]'],
    ['fromJson then index', 'v={{index (fromJson "{\\"a\\":{\\"b\\":2}}") "a" "b"}}', 'v=2'],
    ['trim markers', 'a  {{- .vars.greeting -}}  b', 'ahib'],
    ['a comment', 'x{{/* ignored */}}y', 'xy'],
    ['raw strings', '{{printf `%s-%s` .params.owner .params.repo}}', 'acme-api'],
    ['step content', '{{.steps.fetch.content.text}}', 'raw text'],
    ['workflow fields', '{{.workflow.id}}#{{.workflow.step_count}}', 'wf-1#2'],
    ['a map prints as JSON', 'meta={{.steps.fetch.output.meta}}', 'meta={"page":1}'],
  ])('%s', (_name, text, want) => expect(render(text)).toBe(want));
});

describe('one action alone keeps its JSON type', () => {
  it.each([
    ['{{.params.limit}}', 5],
    ['  {{ .params.draft }}  ', false],
    ['{{.params.labels}}', ['bug', 'p1']],
    ['{{.steps.fetch.output}}', ctx.steps.fetch.output],
    ['{{gt .steps.fetch.output.count 2}}', true],
    ['{{fromJson "[1,2]"}}', [1, 2]],
    ['{{.params.nope}}', undefined],
    ['{{.params.limit}} items', '5 items'],
  ])('%s', (text, want) => expect(render(text)).toEqual(want));
});

describe('outside the subset: an error at its offset, at compile time', () => {
  it.each([
    ['{{range .params.labels}}x{{end}}', 2, /"range" is not supported/],
    ['{{with .params}}x{{end}}', 2, /"with" is not supported/],
    ['{{$x := 1}}', 2, /variables/],
    ['{{upper .params.owner}}', 2, /function "upper" is not defined/],
    ['ab {{.params.owner', 3, /unclosed action/],
    ['{{if .params.draft}}x', 2, /without a matching "end"/],
    ['{{end}}', 2, /"end" without an "if"/],
    ['{{else}}', 2, /"else" outside an "if"/],
    ['{{if .a}}x{{else}}y{{else}}z{{end}}', 21, /a second "else"/],
    ['{{}}', 0, /empty action/],
    ['{{.params.owner .params.repo}}', 16, /cannot take arguments/],
    ['{{"unterminated}}', 2, /unterminated string/],
    ['{{printf "%s" (len .params.labels}}', 14, /unclosed "\("/],
    ['{{.params.owner |}}', 16, /missing command after "\|"/],
    ['{{params.owner}}', 2, /fields are read from "\."/],
    ['{{/* open }}', 2, /unclosed comment/],
  ])('%s', (text, at, message) => {
    let err: unknown;
    try {
      parseTemplate(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).message).toMatch(message);
    expect((err as TemplateError).at).toBe(at);
  });
});

describe('run-time errors name the function and the offset', () => {
  it.each([
    ['{{lt .params.owner 3}}', /lt: cannot compare string with number/],
    ['{{index .params.labels 9}}', /index out of range: 9/],
    ['{{fromJson "{"}}', /fromJson:/],
    ['{{len .params.limit}}', /len of number/],
    ['{{not}}', /not takes 1 argument/],
  ])('%s', (text, message) => {
    expect(() => render(text)).toThrow(TemplateRuntimeError);
    expect(() => render(text)).toThrow(message);
  });
});

describe('templates are data', () => {
  it('a parsed template survives JSON (what the generated module embeds) and evaluates the same', () => {
    const t = parseTemplate('{{if gt (len .params.labels) 1}}{{index .params.labels 1 | printf "%s!"}}{{end}}');
    const shipped = JSON.parse(JSON.stringify(t));
    expect(evaluateTemplate(shipped, ctx)).toBe('p1!');
    expect(JSON.stringify(shipped)).not.toMatch(/function|=>/);
  });
});
