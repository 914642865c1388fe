/**
 * The step graph of a composite tool, checked at compile time: duplicate ids, `dependsOn` naming a
 * step that does not exist, cycles (named step by step), ToolHive's step limit, and the levels the
 * runtime runs in parallel. Pure: steps in, levels and problems out.
 */

/** What the graph checks need of a step. */
export interface StepNode {
  id: string;
  dependsOn: readonly string[];
}

/** A problem in the graph; `step` is the index of the step it belongs to. */
export interface DagProblem {
  code: 'DUPLICATE_STEP' | 'UNKNOWN_DEPENDENCY' | 'CYCLE' | 'EMPTY_WORKFLOW' | 'TOO_MANY_STEPS';
  message: string;
  step: number;
  /** For UNKNOWN_DEPENDENCY: the index in `dependsOn`. */
  dependency?: number;
}

/** ToolHive's limit on the steps of one workflow. */
export const MAX_STEPS = 100;

/**
 * Checks the graph and, when it is sound, returns its levels: level 0 has the steps with no
 * dependency, level n the steps whose dependencies are all in earlier levels (ids, in step order).
 */
export function checkDag(steps: readonly StepNode[]): { levels?: string[][]; problems: DagProblem[] } {
  const problems: DagProblem[] = [];
  if (steps.length === 0)
    return { problems: [{ code: 'EMPTY_WORKFLOW', message: 'a workflow needs at least one step', step: -1 }] };
  if (steps.length > MAX_STEPS) {
    problems.push({
      code: 'TOO_MANY_STEPS',
      message: `a workflow may have at most ${MAX_STEPS} steps, this one has ${steps.length}`,
      step: MAX_STEPS,
    });
  }
  const index = new Map<string, number>();
  steps.forEach((s, i) => {
    const first = index.get(s.id);
    if (first !== undefined)
      problems.push({
        code: 'DUPLICATE_STEP',
        message: `step id "${s.id}" is used twice (first by step ${first + 1})`,
        step: i,
      });
    else index.set(s.id, i);
  });
  steps.forEach((s, i) =>
    s.dependsOn.forEach((d, j) => {
      if (!index.has(d)) {
        const known = [...index.keys()].filter((k) => k !== s.id);
        problems.push({
          code: 'UNKNOWN_DEPENDENCY',
          message: `step "${s.id}" depends on "${d}", which is not a step of this workflow${known.length ? ` (steps: ${known.join(', ')})` : ''}`,
          step: i,
          dependency: j,
        });
      }
    }),
  );
  if (problems.length) return { problems };
  // Cycles: depth-first search, reporting each cycle once, as the path around it.
  const state = new Array<0 | 1 | 2>(steps.length).fill(0);
  const stack: number[] = [];
  const visit = (i: number): void => {
    state[i] = 1;
    stack.push(i);
    for (const d of steps[i].dependsOn) {
      const j = index.get(d)!;
      if (state[j] === 1) {
        const cycle = stack.slice(stack.indexOf(j)).map((k) => steps[k].id);
        problems.push({
          code: 'CYCLE',
          message: `steps depend on each other in a cycle: ${[...cycle, steps[j].id].join(' → ')}`,
          step: j,
        });
      } else if (state[j] === 0) visit(j);
    }
    stack.pop();
    state[i] = 2;
  };
  steps.forEach((_s, i) => state[i] === 0 && visit(i));
  if (problems.length) return { problems };
  const level = new Map<string, number>();
  const levelOf = (i: number): number => {
    const s = steps[i];
    const known = level.get(s.id);
    if (known !== undefined) return known;
    const l = s.dependsOn.reduce((m, d) => Math.max(m, levelOf(index.get(d)!) + 1), 0);
    level.set(s.id, l);
    return l;
  };
  const levels: string[][] = [];
  steps.forEach((s, i) => (levels[levelOf(i)] ??= []).push(s.id));
  return { levels, problems };
}

/** The steps that certainly ran before `id` (its ancestors in the graph): the steps its templates may read. */
export function ancestorsOf(steps: readonly StepNode[], id: string): Set<string> {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const out = new Set<string>();
  const walk = (sid: string) => {
    for (const d of byId.get(sid)?.dependsOn ?? []) {
      if (out.has(d)) continue;
      out.add(d);
      walk(d);
    }
  };
  walk(id);
  return out;
}
