/** A step's arguments against its tool's pinned input schema, and a composite's annotations against its steps. */
import { describe, expect, it } from 'vitest';
import { checkArguments, deriveAnnotations, saferThanSteps } from '../../../compiler/composite/step-checks.ts';

const schema = {
  type: 'object',
  properties: {
    owner: { type: 'string' },
    limit: { type: 'integer' },
    ratio: { type: 'number' },
    labels: { type: 'array' },
    filter: {
      type: 'object',
      properties: { state: { type: 'string' } },
      required: ['state'],
      additionalProperties: false,
    },
  },
  required: ['owner'],
  additionalProperties: false,
};

describe('checkArguments', () => {
  it.each([
    ['literals that fit', { owner: { literal: 'acme' }, limit: { literal: 5 }, ratio: { literal: 2 } }, []],
    [
      'a template of a known, fitting type',
      { owner: { template: true, type: 'string' }, limit: { template: true, type: 'integer' } },
      [],
    ],
    ['a template of unknown type is not judged', { owner: { template: true } }, []],
    ['a missing required argument', { limit: { literal: 5 } }, ['STEP_MISSING_ARGUMENT owner']],
    [
      'an unknown argument (additionalProperties: false)',
      { owner: { literal: 'a' }, lmit: { literal: 5 } },
      ['STEP_UNKNOWN_ARGUMENT lmit'],
    ],
    [
      'a string literal for an integer',
      { owner: { literal: 'a' }, limit: { literal: '5' } },
      ['STEP_ARGUMENT_TYPE limit'],
    ],
    [
      'a template typed string for an integer',
      { owner: { literal: 'a' }, limit: { template: true, type: 'string' } },
      ['STEP_ARGUMENT_TYPE limit'],
    ],
    [
      'a nested object checked too',
      { owner: { literal: 'a' }, filter: { literal: { sate: 'open' } } },
      ['STEP_MISSING_ARGUMENT filter.state', 'STEP_UNKNOWN_ARGUMENT filter.sate'],
    ],
    [
      'a nested known key with a string value (wrapped as a literal, not read with `in`)',
      { owner: { literal: 'a' }, filter: { literal: { state: 'open' } } },
      [],
    ],
    [
      'a nested value of the wrong type',
      { owner: { literal: 'a' }, filter: { literal: { state: 1 } } },
      ['STEP_ARGUMENT_TYPE filter.state'],
    ],
    ['an array for an array', { owner: { literal: 'a' }, labels: { literal: ['x'] } }, []],
  ])('%s', (_name, args, want) => {
    const issues = checkArguments(args as never, schema, 'gh_list');
    expect(issues.map((i) => `${i.code} ${i.path.join('.')}`)).toEqual(want);
  });

  it('messages name the tool, the argument and the types', () => {
    const [issue] = checkArguments({ owner: { literal: 'a' }, limit: { literal: '5' } }, schema, 'gh_list');
    expect(issue.message).toBe('tool "gh_list" expects integer for "limit", this gives string');
  });
});

describe('annotations', () => {
  it.each([
    [
      'all read-only',
      [
        { readOnlyHint: true, openWorldHint: false },
        { readOnlyHint: true, openWorldHint: false },
      ],
      { readOnlyHint: true, destructiveHint: false, openWorldHint: false },
    ],
    [
      'one writes',
      [
        { readOnlyHint: true, openWorldHint: false },
        { readOnlyHint: false, destructiveHint: true, openWorldHint: false },
      ],
      { readOnlyHint: false, destructiveHint: true, openWorldHint: false },
    ],
    [
      'one says nothing (MCP defaults)',
      [{ readOnlyHint: true, openWorldHint: false }, undefined],
      { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
    ],
    [
      'non-destructive writes',
      [{ readOnlyHint: false, destructiveHint: false, openWorldHint: false }],
      { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
    ],
  ])('%s', (_name, steps, want) => expect(deriveAnnotations(steps)).toEqual(want));

  it('an explicit annotation safer than the steps is named; a more cautious one is fine', () => {
    const derived = deriveAnnotations([{ readOnlyHint: false, destructiveHint: true }]);
    expect(saferThanSteps({ readOnlyHint: true, destructiveHint: false }, derived)).toEqual([
      'readOnlyHint: true, but a step is not read-only',
      'destructiveHint: false, but a step may be destructive',
    ]);
    expect(saferThanSteps({ destructiveHint: true, openWorldHint: true }, derived)).toEqual([]);
  });
});
