/** The composite step graph: levels for parallel runs, and every graph mistake named at compile time. */
import { describe, expect, it } from 'vitest';
import { MAX_STEPS, ancestorsOf, checkDag, type StepNode } from '../../../compiler/composite/dag.ts';

const s = (id: string, ...dependsOn: string[]): StepNode => ({ id, dependsOn });

describe('checkDag', () => {
  it.each([
    ['one step', [s('a')], [['a']]],
    ['a chain', [s('a'), s('b', 'a'), s('c', 'b')], [['a'], ['b'], ['c']]],
    [
      'a fan-out and join',
      [s('fetch'), s('x', 'fetch'), s('y', 'fetch'), s('join', 'x', 'y')],
      [['fetch'], ['x', 'y'], ['join']],
    ],
    ['independent roots in step order', [s('b'), s('a'), s('c', 'a')], [['b', 'a'], ['c']]],
    ['a dependency declared later', [s('late', 'early'), s('early')], [['early'], ['late']]],
  ])('%s', (_name, steps, levels) => {
    const r = checkDag(steps);
    expect(r.problems).toEqual([]);
    expect(r.levels).toEqual(levels);
  });

  it.each([
    ['no steps', [], ['EMPTY_WORKFLOW'], /at least one step/],
    ['a duplicate id', [s('a'), s('a')], ['DUPLICATE_STEP'], /"a" is used twice \(first by step 1\)/],
    ['an unknown dependency', [s('a'), s('b', 'nope')], ['UNKNOWN_DEPENDENCY'], /"b" depends on "nope".*\(steps: a\)/],
    ['a self-dependency', [s('a', 'a')], ['CYCLE'], /a → a/],
    ['a three-step cycle', [s('a', 'c'), s('b', 'a'), s('c', 'b')], ['CYCLE'], /a → c → b → a/],
    [
      'too many steps',
      Array.from({ length: MAX_STEPS + 1 }, (_v, i) => s(`s${i}`)),
      ['TOO_MANY_STEPS'],
      /at most 100 steps/,
    ],
  ])('%s', (_name, steps, codes, message) => {
    const r = checkDag(steps as StepNode[]);
    expect(r.problems.map((p) => p.code)).toEqual(codes);
    expect(r.problems[0].message).toMatch(message);
    expect(r.levels).toBeUndefined();
  });

  it('points an unknown dependency at its place in dependsOn', () => {
    const r = checkDag([s('a'), s('b', 'a', 'ghost')]);
    expect(r.problems[0]).toMatchObject({ step: 1, dependency: 1 });
  });
});

describe('ancestorsOf', () => {
  const steps = [s('a'), s('b', 'a'), s('c'), s('d', 'b', 'c'), s('e')];
  it.each([
    ['a', []],
    ['b', ['a']],
    ['d', ['a', 'b', 'c']],
    ['e', []],
  ])('%s may read %j', (id, want) => expect([...ancestorsOf(steps, id as string)].sort()).toEqual(want));
});
