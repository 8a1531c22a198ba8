/**
 * Subgroup diagnosis (issue 12 bullet 3): gold accuracy per subgroup of a case
 * attribute (site, modality, scanner, body part, a declared subgroup key, a flag)
 * for each workforce or annotator, with its Wilson interval, and each subgroup
 * tested against the same unit's own rest (its gold items outside the subgroup)
 * by Fisher's exact test, one-sided (H1: the subgroup's accuracy is lower).
 * The p-values of one diagnosis (every unit × subgroup tested, one family) are
 * corrected for multiplicity by Holm (family-wise error rate) or
 * Benjamini–Hochberg (false discovery rate); the output names the one used. Pure.
 */
import { wilsonInterval } from '../scoring/uncertainty.js';

/** ln(k!) for k = 0..n, by summing logs (exact to rounding; n is a count of gold items). */
function logFactorials(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  for (let k = 2; k <= n; k++) out[k] = out[k - 1] + Math.log(k);
  return out;
}

/**
 * Fisher's exact test on the 2×2 table [[a, b], [c, d]] with its margins fixed,
 * one-sided for `a` small: p = P(A ≤ a) under the hypergeometric law (scipy's
 * `fisher_exact(table, alternative='less')`). With rows = (subgroup, rest) and
 * columns = (correct, wrong), a small p says the subgroup is worse than the rest.
 * `greater` gives P(A ≥ a); `two-sided` sums the tables no more probable than
 * the observed one (with scipy's relative tolerance 1 + 1e-7).
 */
export function fisherExact(a: number, b: number, c: number, d: number, alternative: 'less' | 'greater' | 'two-sided' = 'less'): number {
  for (const x of [a, b, c, d]) if (!Number.isInteger(x) || x < 0) throw new RangeError(`fisherExact: cells must be counts (got ${[a, b, c, d].join(', ')})`);
  const row1 = a + b;
  const col1 = a + c;
  const total = a + b + c + d;
  if (total === 0 || row1 === 0 || col1 === 0 || row1 === total || col1 === total) return 1;
  const lf = logFactorials(total);
  const lo = Math.max(0, row1 + col1 - total);
  const hi = Math.min(row1, col1);
  const logDenom = lf[total] - lf[row1] - lf[total - row1] - lf[col1] - lf[total - col1];
  const logP = (x: number): number => -(lf[x] + lf[row1 - x] + lf[col1 - x] + lf[total - row1 - col1 + x]) - logDenom;
  let sum = 0;
  if (alternative === 'less') for (let x = lo; x <= a; x++) sum += Math.exp(logP(x));
  else if (alternative === 'greater') for (let x = a; x <= hi; x++) sum += Math.exp(logP(x));
  else {
    const observed = logP(a);
    for (let x = lo; x <= hi; x++) {
      const lp = logP(x);
      if (lp <= observed + Math.log1p(1e-7)) sum += Math.exp(lp);
    }
  }
  return Math.min(1, sum);
}

/** Holm's step-down adjusted p-values (FWER), in the input's order. */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const out = new Array<number>(m);
  let running = 0;
  for (const [rank, [p, i]] of order.entries()) {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  }
  return out;
}

/** Benjamini–Hochberg step-up adjusted p-values (FDR), in the input's order. */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const out = new Array<number>(m);
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const [p, i] = order[rank];
    running = Math.min(running, (m / (rank + 1)) * p);
    out[i] = Math.min(1, running);
  }
  return out;
}

export type Correction = 'holm' | 'benjamini-hochberg';

export const CORRECTION_NAMES: Record<Correction, string> = {
  holm: 'Holm (family-wise error rate)',
  'benjamini-hochberg': 'Benjamini–Hochberg (false discovery rate)',
};

/** One scored gold item: whose (workforce or annotator), which subgroup (`attributeValue` in report.ts), right or wrong. */
export interface SubgroupItem {
  unit: string;
  value: string;
  correct: boolean;
}

export interface SubgroupRow {
  unit: string;
  value: string;
  n: number;
  correct: number;
  /** correct / n (null when n = 0). */
  accuracy: number | null;
  /** Wilson interval of the accuracy at `confidence`. */
  lower: number | null;
  upper: number | null;
  rest: { n: number; correct: number; accuracy: number | null };
  /** One-sided Fisher p (subgroup worse than the unit's rest); null when not tested (no rest, or below minN). */
  pValue: number | null;
  /** The p-value after the named correction (null when not tested). */
  adjustedPValue: number | null;
  /** Adjusted p below alpha. */
  flagged: boolean;
  /** Fewer than `minN` gold items in the subgroup: a figure, no verdict. */
  insufficient: boolean;
}

export interface SubgroupDiagnosis {
  attribute: string;
  correction: Correction;
  /** The correction's name as the view shows it. */
  correctionName: string;
  test: string;
  alpha: number;
  confidence: number;
  /** Number of tests in the family the correction covers. */
  tests: number;
  rows: SubgroupRow[];
}

/**
 * Accuracy per (unit, subgroup value) with Wilson intervals, each tested
 * against the unit's rest (Fisher one-sided) and corrected over the family of
 * all tests of this diagnosis. A subgroup under `minN` gold items is reported
 * but not tested (and so does not enlarge the family).
 */
export function diagnoseSubgroups(
  items: readonly SubgroupItem[],
  options: { attribute: string; correction?: Correction; alpha?: number; confidence?: number; minN?: number },
): SubgroupDiagnosis {
  const correction = options.correction ?? 'holm';
  const alpha = options.alpha ?? 0.05;
  const confidence = options.confidence ?? 0.95;
  const minN = options.minN ?? 5;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must lie in (0, 1) (got ${alpha})`);
  const cells = new Map<string, Map<string, { n: number; correct: number }>>();
  for (const it of items) {
    const byValue = cells.get(it.unit) ?? new Map<string, { n: number; correct: number }>();
    cells.set(it.unit, byValue);
    const cell = byValue.get(it.value) ?? { n: 0, correct: 0 };
    cell.n += 1;
    cell.correct += it.correct ? 1 : 0;
    byValue.set(it.value, cell);
  }
  const rows: SubgroupRow[] = [];
  for (const unit of [...cells.keys()].sort()) {
    const byValue = cells.get(unit) as Map<string, { n: number; correct: number }>;
    let unitN = 0;
    let unitCorrect = 0;
    for (const c of byValue.values()) {
      unitN += c.n;
      unitCorrect += c.correct;
    }
    for (const value of [...byValue.keys()].sort()) {
      const { n, correct } = byValue.get(value) as { n: number; correct: number };
      const restN = unitN - n;
      const restCorrect = unitCorrect - correct;
      const w = wilsonInterval(correct, n, confidence);
      const insufficient = n < minN;
      const tested = !insufficient && restN > 0;
      rows.push({
        unit,
        value,
        n,
        correct,
        accuracy: n > 0 ? correct / n : null,
        lower: n > 0 ? w.lower : null,
        upper: n > 0 ? w.upper : null,
        rest: { n: restN, correct: restCorrect, accuracy: restN > 0 ? restCorrect / restN : null },
        pValue: tested ? fisherExact(correct, n - correct, restCorrect, restN - restCorrect, 'less') : null,
        adjustedPValue: null,
        flagged: false,
        insufficient,
      });
    }
  }
  const tested = rows.filter((r) => r.pValue !== null);
  const raw = tested.map((r) => r.pValue as number);
  const adjusted = correction === 'holm' ? holm(raw) : benjaminiHochberg(raw);
  for (const [k, r] of tested.entries()) {
    r.adjustedPValue = adjusted[k];
    r.flagged = adjusted[k] < alpha;
  }
  return {
    attribute: options.attribute,
    correction,
    correctionName: CORRECTION_NAMES[correction],
    test: "Fisher's exact test, one-sided (subgroup worse than the unit's rest)",
    alpha,
    confidence,
    tests: tested.length,
    rows,
  };
}
