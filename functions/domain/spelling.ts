/**
 * "Did you mean …?": the nearest known name to a misspelt one, by edit distance.
 * Pure; used by protocol validation (routing attributes, declared values).
 */

/**
 * Optimal string alignment distance (Levenshtein with adjacent transpositions,
 * each edit costs 1): `sensitve` → `sensitive` is 1, `bodyPrat` → `bodyPart` is 1.
 * O(|a|·|b|) time, two rows of memory.
 *
 * @example editDistance('flags.sensitve', 'flags.sensitive') // 1
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prevPrev: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prevPrev[j - 2] + 1);
      row.push(d);
    }
    prevPrev = prev;
    prev = row;
  }
  return prev[b.length];
}

/**
 * The candidate closest to `word`, when it is close enough to be a slip: at most
 * one edit for short words, about one edit per four characters for longer ones
 * (a changed letter case is an edit: `bodypart` finds `bodyPart`), and never
 * a candidate that shares nothing with the word. Ties go to the earlier candidate. Words longer than 200 characters are not compared.
 *
 * @example closestName('flags.sensitve', ['flags.sensitive', 'flags.rare']) // 'flags.sensitive'
 */
export function closestName(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > 200) return undefined;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const limit = Math.max(1, Math.floor(Math.max(word.length, c.length) / 4));
    if (Math.abs(c.length - word.length) > limit) continue;
    const d = editDistance(word, c);
    // Replacing every character is not a slip ("X" is not a misspelt "F").
    if (d <= limit && d < Math.min(word.length, c.length) && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
