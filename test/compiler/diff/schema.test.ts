import { describe, expect, it } from 'vitest';
import { diffSchema, type SchemaRole } from '../../../compiler/diff/schema.ts';

const o = (properties: Record<string, unknown>, required?: string[], more: Record<string, unknown> = {}) => ({
  type: 'object',
  properties,
  ...(required ? { required } : {}),
  ...more,
});
const s = { type: 'string' };

/** given: before, after, role; want: "class: detail" lines. */
const CASES: Array<{ name: string; before: unknown; after: unknown; role: SchemaRole; want: string[] }> = [
  { name: 'unchanged', before: o({ a: s }), after: o({ a: s }), role: 'input', want: [] },
  {
    name: 'required added',
    before: o({ a: s }),
    after: o({ a: s }, ['a']),
    role: 'input',
    want: ['breaking: property a is now required'],
  },
  {
    name: 'required dropped',
    before: o({ a: s }, ['a']),
    after: o({ a: s }),
    role: 'input',
    want: ['safe: property a is now optional'],
  },
  {
    name: 'new required property',
    before: o({}),
    after: o({ b: s }, ['b']),
    role: 'input',
    want: ['breaking: new required property b'],
  },
  {
    name: 'optional property added',
    before: o({}),
    after: o({ b: s }),
    role: 'input',
    want: ['safe: optional property b added'],
  },
  {
    name: 'property removed',
    before: o({ a: s }),
    after: o({}),
    role: 'input',
    want: ['breaking: property a removed'],
  },
  {
    name: 'number → integer narrows',
    before: o({ n: { type: 'number' } }),
    after: o({ n: { type: 'integer' } }),
    role: 'input',
    want: ['breaking: type at n narrowed: "number" → "integer"'],
  },
  {
    name: 'string → boolean changes',
    before: o({ n: s }),
    after: o({ n: { type: 'boolean' } }),
    role: 'input',
    want: ['breaking: type at n changed: "string" → "boolean"'],
  },
  {
    name: 'const → enum widens',
    before: o({ m: { const: 'x' } }),
    after: o({ m: { enum: ['x', 'y'] } }),
    role: 'input',
    want: ['safe: allowed values at m widened: ["x"] → ["x","y"]'],
  },
  {
    name: 'enum added narrows',
    before: o({ m: s }),
    after: o({ m: { type: 'string', enum: ['x'] } }),
    role: 'input',
    want: ['breaking: allowed values at m narrowed: "any" → ["x"]'],
  },
  {
    name: 'nested array items',
    before: o({ l: { type: 'array', items: o({ id: s }) } }),
    after: o({ l: { type: 'array', items: o({ id: s }, ['id']) } }),
    role: 'input',
    want: ['breaking: property l[].id is now required'],
  },
  {
    name: 'closed object',
    before: o({}),
    after: o({}, undefined, { additionalProperties: false }),
    role: 'input',
    want: ['breaking: additional properties at the root no longer allowed'],
  },
  {
    name: 'constraint',
    before: o({ a: { type: 'string', maxLength: 10 } }),
    after: o({ a: { type: 'string', maxLength: 5 } }),
    role: 'input',
    want: ['risky: maxLength at a changed: 10 → 5'],
  },
  {
    name: 'property description',
    before: o({ a: { type: 'string', description: 'x' } }),
    after: o({ a: { type: 'string', description: 'y' } }),
    role: 'input',
    want: ['risky: description at a changed'],
  },
  {
    name: 'output: property may now be absent',
    before: o({ a: s }, ['a']),
    after: o({ a: s }),
    role: 'output',
    want: ['breaking: property a may now be absent'],
  },
  {
    name: 'output: new required property is safe',
    before: o({}),
    after: o({ b: s }, ['b']),
    role: 'output',
    want: ['safe: property b added'],
  },
  {
    name: 'output: enum narrowed is safe',
    before: o({ m: { enum: ['x', 'y'] } }),
    after: o({ m: { enum: ['x'] } }),
    role: 'output',
    want: ['safe: allowed values at m narrowed: ["x","y"] → ["x"]'],
  },
  {
    name: 'output: type widened breaks',
    before: o({ m: s }),
    after: o({ m: { type: ['string', 'null'] } }),
    role: 'output',
    want: ['breaking: type at m widened: "string" → ["string","null"]'],
  },
];

describe('diffSchema', () => {
  it.each(CASES)('$name', ({ before, after, role, want }) => {
    expect(diffSchema(before, after, role).map((c) => `${c.class}: ${c.detail}`)).toEqual(want);
  });
});
