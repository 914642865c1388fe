/** Levenshtein distance between two strings (small inputs: config keys and names). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The closest candidate within a distance proportional to its length, for "did you mean" hints. */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  const lower = input.toLowerCase();
  for (const cand of candidates) {
    // Case-only differences (`groupref` for `groupRef`) count as the closest match.
    const score = cand.toLowerCase() === lower ? 0.5 : editDistance(lower, cand.toLowerCase());
    if (score < bestScore) {
      bestScore = score;
      best = cand;
    }
  }
  if (best === undefined) return undefined;
  return bestScore <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}
