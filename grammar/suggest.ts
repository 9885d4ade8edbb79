/**
 * "Did you mean …?" for names, fields, groups, functions and params: the
 * closest candidate by edit distance, if it is close enough to be a typo
 * rather than a different word. Shared by every diagnostic that names an
 * unknown thing, so near misses are judged the same way everywhere.
 */

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions: `lod`/`old`). */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m]!;
}

/**
 * The candidate nearest to `name`, or null when none is plausibly a typo of
 * it: at most one edit for short names, a third of the length for longer
 * ones (or `maxDistance`); a case-only difference always counts. Ties go to the earlier
 * candidate, so callers order candidates by preference.
 */
export function suggest(name: string, candidates: Iterable<string>, maxDistance?: number): string | null {
  const limit = maxDistance ?? Math.max(1, Math.floor(name.length / 3));
  let best: string | null = null;
  let bestDistance = Infinity;
  const lower = name.toLowerCase();
  for (const candidate of candidates) {
    if (candidate === name) continue;
    if (candidate.toLowerCase() === lower) return candidate;
    const d = editDistance(name, candidate);
    if (d <= limit && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** `"; did you mean `x`?"` or "" — appended to a message about an unknown thing. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const near = suggest(name, candidates);
  return near === null ? "" : `; did you mean \`${near}\`?`;
}
