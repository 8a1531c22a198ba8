/**
 * Agreement on categorical labels: percent agreement, Cohen's κ (unweighted and
 * weighted), Gwet's AC1, Fleiss' κ, Krippendorff's α and the Landis & Koch bands.
 *
 * Definitions and edge-case conventions: shared/docs/METRICS.md § Classification.
 * Every function returns a MetricResult: a number, or NaN with the reason.
 */
import { type MetricResult, metric, undefinedMetric } from './metric-result.js';

/** A category as it appears in a protocol schema: a grade (number) or a name. */
export type CategoryLabel = string | number;

/** Cohen's κ weighting scheme (sklearn `cohen_kappa_score(weights=...)`). */
export type KappaWeights = 'none' | 'linear' | 'quadratic';

export interface CohenKappaOptions {
  /** 'none' (default), 'linear' |i−j| or 'quadratic' (i−j)², by position in `labels`. */
  weights?: KappaWeights;
  /**
   * The protocol's full scale, in order. Weights use positions in this list, so an
   * ordinal scale must be passed whole: an unused grade between used ones changes
   * weighted κ.
   * Defaults to the sorted union of both raters' labels (as sklearn).
   */
  labels?: readonly CategoryLabel[];
}

/** Raised when the inputs cannot describe a rating design (not when a metric is undefined). */
export class AgreementInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgreementInputError';
  }
}

/**
 * Orders labels as numpy's `np.unique` does for a homogeneous array: numbers
 * ascending, strings by code point. Mixed arrays put numbers first.
 *
 * @example [10, 9, 'b', 'a'].sort(compareLabels) // [9, 10, 'a', 'b']
 */
export function compareLabels(x: CategoryLabel, y: CategoryLabel): number {
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  if (typeof x === 'number') return -1;
  if (typeof y === 'number') return 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A missing rating: `null`, `undefined` or NaN. */
const isMissing = (v: CategoryLabel | null | undefined): v is null | undefined =>
  v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));

/**
 * Sorted distinct labels of any number of arrays (sklearn's default `labels`:
 * `unique_labels(y1, y2)`), missing values (null, undefined, NaN) left out.
 *
 * @example sortedLabelUnion([3, 1], [2, null, 1]) // [1, 2, 3]
 */
export function sortedLabelUnion(...arrays: readonly (readonly (CategoryLabel | null | undefined)[])[]): CategoryLabel[] {
  return sortedLabelUnionOf(arrays);
}

/**
 * `sortedLabelUnion` over a list of arrays of any length (one per item or per
 * rater): spreading such a list into the variadic call overflows the stack at
 * about 120,000 arrays.
 *
 * @example sortedLabelUnionOf([['a'], ['b', null]]) // ['a', 'b']
 */
export function sortedLabelUnionOf(arrays: readonly (readonly (CategoryLabel | null | undefined)[])[]): CategoryLabel[] {
  const seen = new Set<CategoryLabel>();
  for (const arr of arrays) for (const v of arr) if (!isMissing(v)) seen.add(v);
  return [...seen].sort(compareLabels);
}

/** Map from label to its position; throws on duplicates in a declared scale. */
function indexLabels(labels: readonly CategoryLabel[], what: string): Map<CategoryLabel, number> {
  const index = new Map<CategoryLabel, number>();
  labels.forEach((l, i) => {
    if (index.has(l)) throw new AgreementInputError(`${what}: label ${JSON.stringify(l)} is listed twice`);
    index.set(l, i);
  });
  return index;
}

function assertPaired(a: readonly unknown[], b: readonly unknown[], fn: string): void {
  if (a.length !== b.length) {
    throw new AgreementInputError(
      `${fn}: the two raters must label the same items (got ${a.length} and ${b.length} labels)`,
    );
  }
}

/**
 * Percent agreement p_o = mean[y1 = y2] (METRICS.md; the observed agreement of
 * Cohen 1960). Labels are compared with `===`, so `1` and `'1'` differ.
 *
 * Edge cases: no items → undefined; arrays of different length → throws.
 *
 * @example percentAgreement(['a', 'b', 'a'], ['a', 'b', 'b']).value // 0.666…
 */
export function percentAgreement(a: readonly CategoryLabel[], b: readonly CategoryLabel[]): MetricResult {
  assertPaired(a, b, 'percentAgreement');
  if (a.length === 0) return undefinedMetric('no items: percent agreement needs at least one paired label');
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return metric(same / a.length);
}

/** K×K confusion matrix (row = rater a, column = rater b), row-major. */
function confusionMatrix(
  a: readonly CategoryLabel[],
  b: readonly CategoryLabel[],
  index: Map<CategoryLabel, number>,
  fn: string,
): Float64Array {
  const k = index.size;
  const counts = new Float64Array(k * k);
  for (let i = 0; i < a.length; i++) {
    const r = index.get(a[i]);
    const c = index.get(b[i]);
    if (r === undefined || c === undefined) {
      const bad = r === undefined ? a[i] : b[i];
      throw new AgreementInputError(
        `${fn}: label ${JSON.stringify(bad)} (item ${i}) is not in the label scale [${[...index.keys()]
          .map((l) => JSON.stringify(l))
          .join(', ')}]`,
      );
    }
    counts[r * k + c] += 1;
  }
  return counts;
}

/**
 * Cohen's κ between two raters, unweighted or weighted (Cohen 1960; Cohen 1968).
 * Reference: scikit-learn `cohen_kappa_score(y1, y2, labels=, weights=)`.
 *
 * O is the K×K confusion matrix over `labels`, E_ij = row_i·col_j / n and
 * κ_w = 1 − Σ w_ij O_ij / Σ w_ij E_ij with w = [i≠j], |i−j| or (i−j)², where i, j
 * are positions in `labels`.
 *
 * Edge cases (METRICS.md):
 * - no items, or Σ w E = 0 (e.g. both raters gave the same single label) → undefined;
 * - disjoint categories (no label used by both raters) → 0 by convention. Unweighted
 *   κ is 0 there anyway; weighted κ on some disjoint designs would not be (sklearn
 *   gives a value), and the reason then says so;
 * - a label outside `labels` → throws `AgreementInputError` (sklearn silently drops
 *   such items, which hides protocol errors);
 * - arrays of different length → throws.
 *
 * @example
 * cohenKappa([1, 2, 3, 3], [1, 2, 3, 2], { weights: 'quadratic', labels: [1, 2, 3, 4, 5] })
 */
export function cohenKappa(
  a: readonly CategoryLabel[],
  b: readonly CategoryLabel[],
  options: CohenKappaOptions = {},
): MetricResult {
  assertPaired(a, b, 'cohenKappa');
  const weights = options.weights ?? 'none';
  const labels = options.labels ?? sortedLabelUnion(a, b);
  const index = indexLabels(labels, 'cohenKappa');
  const o = confusionMatrix(a, b, index, 'cohenKappa');
  const n = a.length;
  if (n === 0) return undefinedMetric('no items: κ needs at least one paired label');

  const k = labels.length;
  const rows = new Float64Array(k);
  const cols = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      rows[i] += o[i * k + j];
      cols[j] += o[i * k + j];
    }
  }

  let observed = 0;
  let expected = 0;
  let shared = false;
  for (let i = 0; i < k; i++) {
    if (rows[i] > 0 && cols[i] > 0) shared = true;
    for (let j = 0; j < k; j++) {
      const w = weight(i, j, weights);
      observed += w * o[i * k + j];
      expected += (w * rows[i] * cols[j]) / n;
    }
  }

  if (expected === 0) {
    return undefinedMetric(
      'κ undefined: expected disagreement is 0 (both raters used one and the same label), so chance agreement is 1',
    );
  }
  const kappa = 1 - observed / expected;
  if (!shared) {
    const note =
      Math.abs(kappa) < 1e-12 ? '' : `; the ${weights} formula (sklearn) would give ${kappa.toPrecision(6)}`;
    return metric(0, `disjoint categories: the raters share no label, κ = 0 by convention (METRICS.md)${note}`);
  }
  return metric(kappa);
}

function weight(i: number, j: number, weights: KappaWeights): number {
  if (weights === 'linear') return Math.abs(i - j);
  if (weights === 'quadratic') return (i - j) * (i - j);
  return i === j ? 0 : 1;
}

/** Ratings as a raters × units matrix; `null`/`undefined` (or NaN) = not rated. */
export type RatingMatrix = readonly (readonly (CategoryLabel | null | undefined)[])[];

function assertRectangular(ratings: RatingMatrix, fn: string): number {
  if (ratings.length === 0) return 0;
  const units = ratings[0].length;
  ratings.forEach((row, r) => {
    if (row.length !== units) {
      throw new AgreementInputError(
        `${fn}: every rater row must cover the same units (rater 0 has ${units}, rater ${r} has ${row.length})`,
      );
    }
  });
  return units;
}

/**
 * Turns a raters × units rating matrix into the units × categories count table
 * that Fleiss' κ and AC1 work on (irrCAC's `agree.mat`, statsmodels'
 * `aggregate_raters`). Missing ratings are skipped.
 *
 * Throws `AgreementInputError` for a rating outside `categories` or ragged rows.
 *
 * @example
 * categoryCounts([['a', 'b'], ['a', null]], ['a', 'b']) // [[2, 0], [0, 1]]
 */
export function categoryCounts(ratings: RatingMatrix, categories: readonly CategoryLabel[]): number[][] {
  const units = assertRectangular(ratings, 'categoryCounts');
  const index = indexLabels(categories, 'categoryCounts');
  const counts = Array.from({ length: units }, () => new Array<number>(categories.length).fill(0));
  ratings.forEach((row, r) => {
    row.forEach((v, u) => {
      if (isMissing(v)) return;
      const c = index.get(v);
      if (c === undefined) {
        throw new AgreementInputError(
          `categoryCounts: rating ${JSON.stringify(v)} (rater ${r}, unit ${u}) is not a category of the schema`,
        );
      }
      counts[u][c] += 1;
    });
  });
  return counts;
}

export interface GwetAC1Options {
  /**
   * The protocol schema's categories. Q = categories.length enters chance
   * agreement, so pass the whole schema, not only the labels that were used.
   */
  categories: readonly CategoryLabel[];
}

/**
 * Gwet's AC1 for two or more raters with missing ratings allowed (Gwet 2008,
 * Br J Math Stat Psychol 61:29; reference: R irrCAC `gwet.ac1.raw`, unweighted).
 *
 * p_a = mean over subjects rated at least twice of Σ_q r_iq(r_iq−1) / (r_i(r_i−1)),
 * π_q = mean_i r_iq/r_i over subjects rated at least once,
 * p_e = Σ_q π_q(1−π_q)/(Q−1), AC1 = (p_a − p_e)/(1 − p_e).
 * Unlike κ it stays high when agreement is high on a skewed prevalence (the
 * paradox table [[118,5],[2,0]]: κ = −0.023, AC1 = 0.941).
 *
 * Edge cases: subjects nobody rated are skipped (irrCAC asks callers to remove
 * them); no subject rated twice → undefined; Q < 2 → undefined; a rating outside
 * `categories` → throws. With Q ≥ 2, p_e ≤ 1/Q < 1, so AC1 is otherwise defined.
 *
 * @example
 * gwetAC1([raterA, raterB], { categories: ['benign', 'malignant'] })
 */
export function gwetAC1(ratings: RatingMatrix, options: GwetAC1Options): MetricResult {
  const q = options.categories.length;
  const counts = categoryCounts(ratings, options.categories);
  if (q < 2) return undefinedMetric('AC1 needs a schema of at least two categories');

  let paSum = 0;
  let ratedTwice = 0;
  let ratedOnce = 0;
  const pi = new Float64Array(q);
  for (const row of counts) {
    let ri = 0;
    for (const x of row) ri += x;
    if (ri === 0) continue;
    ratedOnce++;
    for (let c = 0; c < q; c++) pi[c] += row[c] / ri;
    if (ri < 2) continue;
    ratedTwice++;
    let pairs = 0;
    for (const x of row) pairs += x * (x - 1);
    paSum += pairs / (ri * (ri - 1));
  }
  if (ratedTwice === 0) return undefinedMetric('no subject was rated by at least two raters');

  const pa = paSum / ratedTwice;
  let pe = 0;
  for (let c = 0; c < q; c++) {
    const p = pi[c] / ratedOnce;
    pe += p * (1 - p);
  }
  pe /= q - 1;
  return metric((pa - pe) / (1 - pe));
}

/**
 * Fleiss' κ for a fixed number of raters per subject (Fleiss 1971, Psychol Bull
 * 76:378; reference: statsmodels `fleiss_kappa(table, method='fleiss')`).
 *
 * `counts` is subjects × categories: counts[i][j] = raters who put subject i in j.
 * P_i = (Σ_j n_ij² − n)/(n(n−1)), P̄ = mean P_i, p_j = Σ_i n_ij/(N n),
 * P_e = Σ p_j², κ = (P̄ − P_e)/(1 − P_e).
 *
 * Edge cases: no subjects → undefined; P_e = 1 (every rating in one category) →
 * undefined; unequal raters per subject, fewer than 2 raters, negative or
 * non-finite counts, ragged rows → throws (statsmodels asserts on these).
 *
 * @example
 * fleissKappa([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], ...]) // Fleiss 1971 example: 0.210
 */
export function fleissKappa(counts: readonly (readonly number[])[]): MetricResult {
  if (counts.length === 0) return undefinedMetric('no subjects: Fleiss κ needs at least one rated subject');
  const k = counts[0].length;
  let raters = -1;
  counts.forEach((row, i) => {
    if (row.length !== k) {
      throw new AgreementInputError(`fleissKappa: subject ${i} has ${row.length} categories, subject 0 has ${k}`);
    }
    let ri = 0;
    for (const x of row) {
      if (!Number.isFinite(x) || x < 0) {
        throw new AgreementInputError(`fleissKappa: counts must be finite and ≥ 0 (subject ${i} has ${x})`);
      }
      ri += x;
    }
    if (raters === -1) raters = ri;
    else if (ri !== raters) {
      throw new AgreementInputError(
        `fleissKappa: every subject needs the same number of raters (subject 0 has ${raters}, subject ${i} has ${ri}); use krippendorffAlpha or gwetAC1 for missing ratings`,
      );
    }
  });
  if (raters < 2) throw new AgreementInputError(`fleissKappa: needs at least 2 raters per subject (got ${raters})`);

  const nSubjects = counts.length;
  const pCat = new Float64Array(k);
  let pBar = 0;
  for (const row of counts) {
    let sq = 0;
    for (let j = 0; j < k; j++) {
      sq += row[j] * row[j];
      pCat[j] += row[j];
    }
    pBar += (sq - raters) / (raters * (raters - 1));
  }
  pBar /= nSubjects;
  let pe = 0;
  for (let j = 0; j < k; j++) {
    const p = pCat[j] / (nSubjects * raters);
    pe += p * p;
  }
  if (pe >= 1) return undefinedMetric('Fleiss κ undefined: every rating fell in one category, so chance agreement P_e = 1');
  return metric((pBar - pe) / (1 - pe));
}

/** Krippendorff's levels of measurement, each with its difference function δ². */
export type MeasurementLevel = 'nominal' | 'ordinal' | 'interval' | 'ratio';

export interface KrippendorffAlphaOptions {
  /**
   * The ordered value scale (e.g. the protocol's grades, or ['none','mild','severe']).
   * Required for ordinal string values; checked against the data when given.
   * Defaults to the sorted distinct values.
   */
  scale?: readonly CategoryLabel[];
}

/** α plus the sample it rests on, so a scorecard can show n beside it. */
export interface KrippendorffAlphaResult extends MetricResult {
  /** n: values in units with at least two values (the pairable values). */
  pairableValues: number;
  /** Units with at least two values. */
  unitsUsed: number;
  /** Units dropped because fewer than two values were given. */
  unitsDropped: number;
}

/**
 * Krippendorff's α for any number of raters, missing values and four levels of
 * measurement, by the coincidence-matrix method of Krippendorff (2011),
 * "Computing Krippendorff's Alpha-Reliability" (reference: Python `krippendorff`).
 *
 * o_ck = Σ_u (pairs (c,k) in unit u)/(m_u − 1), n_c = Σ_k o_ck, n = Σ_c n_c,
 * α = 1 − (n − 1) Σ o_ck δ²_ck / Σ n_c n_k δ²_ck, with δ²:
 * nominal [c≠k]; ordinal (Σ_{g=c..k} n_g − (n_c + n_k)/2)² over the ordered scale;
 * interval (c − k)²; ratio ((c − k)/(c + k))² (0 when c = k = 0).
 *
 * Edge cases: `null`, `undefined` and NaN are missing; units with fewer than two
 * values are dropped (counted in `unitsDropped`); no pairable unit or expected
 * disagreement 0 (one value throughout) → undefined; interval/ratio need
 * numbers, ratio needs values ≥ 0, ordinal strings need `scale`; a value outside
 * `scale` or ragged rows → throws.
 *
 * @example
 * krippendorffAlpha([[1, 2, 3, null], [1, 2, 4, 4], [null, 3, 3, 4]], 'ordinal')
 */
export function krippendorffAlpha(
  data: RatingMatrix,
  level: MeasurementLevel,
  options: KrippendorffAlphaOptions = {},
): KrippendorffAlphaResult {
  const units = assertRectangular(data, 'krippendorffAlpha');
  const observed = sortedLabelUnionOf(data);
  const scale = options.scale ?? observed;
  checkScaleForLevel(scale, level, options.scale !== undefined);
  const index = indexLabels(scale, 'krippendorffAlpha');
  for (const v of observed) {
    if (!index.has(v)) {
      throw new AgreementInputError(`krippendorffAlpha: value ${JSON.stringify(v)} is not on the given scale`);
    }
  }

  // Coincidence matrix: each unit contributes its m_u(m_u−1) ordered pairs of
  // values, weighted 1/(m_u−1) so that every pairable value counts once.
  const v = scale.length;
  const o = new Float64Array(v * v);
  const unitCounts = new Float64Array(v);
  const present: number[] = [];
  let unitsUsed = 0;
  let unitsDropped = 0;
  for (let u = 0; u < units; u++) {
    present.length = 0;
    let m = 0;
    for (const row of data) {
      const x = row[u];
      if (isMissing(x)) continue;
      const c = index.get(x)!;
      if (unitCounts[c] === 0) present.push(c);
      unitCounts[c] += 1;
      m++;
    }
    if (m >= 2) {
      unitsUsed++;
      for (const c of present) {
        for (const k of present) {
          const pairs = c === k ? unitCounts[c] * (unitCounts[c] - 1) : unitCounts[c] * unitCounts[k];
          o[c * v + k] += pairs / (m - 1);
        }
      }
    } else {
      unitsDropped++;
    }
    for (const c of present) unitCounts[c] = 0;
  }

  const marginals = new Float64Array(v);
  let n = 0;
  for (let c = 0; c < v; c++) {
    for (let k = 0; k < v; k++) marginals[c] += o[c * v + k];
    n += marginals[c];
  }
  const sample = { pairableValues: n, unitsUsed, unitsDropped };
  if (unitsUsed === 0) {
    return { ...undefinedMetric('no unit has values from at least two raters, so nothing is pairable'), ...sample };
  }

  const delta = differenceFunction(level, scale, marginals);
  let disagreementObserved = 0;
  let disagreementExpected = 0;
  for (let c = 0; c < v; c++) {
    for (let k = 0; k < v; k++) {
      if (c === k) continue;
      const d = delta(c, k);
      disagreementObserved += o[c * v + k] * d;
      disagreementExpected += marginals[c] * marginals[k] * d;
    }
  }
  if (disagreementExpected === 0) {
    return {
      ...undefinedMetric('α undefined: expected disagreement is 0 (all pairable values are the same)'),
      ...sample,
    };
  }
  return { value: 1 - ((n - 1) * disagreementObserved) / disagreementExpected, ...sample };
}

function checkScaleForLevel(scale: readonly CategoryLabel[], level: MeasurementLevel, given: boolean): void {
  if (level === 'nominal') return;
  const strings = scale.some((x) => typeof x !== 'number');
  if (level === 'ordinal') {
    if (strings && !given) {
      throw new AgreementInputError(
        'krippendorffAlpha: ordinal string values need the ordered `scale` (alphabetical order is not a grade order)',
      );
    }
    return;
  }
  if (strings) throw new AgreementInputError(`krippendorffAlpha: ${level} level needs numeric values`);
  if (level === 'ratio' && scale.some((x) => (x as number) < 0)) {
    throw new AgreementInputError('krippendorffAlpha: ratio level needs values ≥ 0 (an absolute zero)');
  }
}

/** δ²(c, k) on scale positions, per Krippendorff (2011) §"difference functions". */
function differenceFunction(
  level: MeasurementLevel,
  scale: readonly CategoryLabel[],
  marginals: Float64Array,
): (c: number, k: number) => number {
  switch (level) {
    case 'nominal':
      return (c, k) => (c === k ? 0 : 1);
    case 'ordinal': {
      // Cumulative marginals turn Σ_{g=c..k} n_g into one subtraction.
      const cumulative = new Float64Array(marginals.length + 1);
      for (let g = 0; g < marginals.length; g++) cumulative[g + 1] = cumulative[g] + marginals[g];
      return (c, k) => {
        const lo = Math.min(c, k);
        const hi = Math.max(c, k);
        const d = cumulative[hi + 1] - cumulative[lo] - (marginals[c] + marginals[k]) / 2;
        return d * d;
      };
    }
    case 'interval':
      return (c, k) => {
        const d = (scale[c] as number) - (scale[k] as number);
        return d * d;
      };
    case 'ratio':
      return (c, k) => {
        const x = scale[c] as number;
        const y = scale[k] as number;
        if (x + y === 0) return 0;
        const d = (x - y) / (x + y);
        return d * d;
      };
  }
}

/** Landis & Koch (1977) strength-of-agreement bands. */
export type LandisKochBand =
  | 'poor'
  | 'slight'
  | 'fair'
  | 'moderate'
  | 'substantial'
  | 'almost perfect'
  | 'undefined';

/**
 * Landis & Koch (1977, Biometrics 33:159) band for a κ-type coefficient:
 * < 0 poor, 0–0.20 slight, 0.21–0.40 fair, 0.41–0.60 moderate, 0.61–0.80
 * substantial, 0.81–1 almost perfect. Upper bounds are inclusive (METRICS.md),
 * with a 1e-12 tolerance so a κ that prints as 0.200 is never called "fair".
 *
 * Edge cases: NaN (an undefined metric) → 'undefined'; accepts a number or a
 * MetricResult.
 *
 * @example landisKochBand(0.4) // 'fair'
 */
export function landisKochBand(kappa: number | MetricResult): LandisKochBand {
  const k = typeof kappa === 'number' ? kappa : kappa.value;
  if (Number.isNaN(k)) return 'undefined';
  const eps = 1e-12;
  if (k < 0 - eps) return 'poor';
  if (k <= 0.2 + eps) return 'slight';
  if (k <= 0.4 + eps) return 'fair';
  if (k <= 0.6 + eps) return 'moderate';
  if (k <= 0.8 + eps) return 'substantial';
  return 'almost perfect';
}
