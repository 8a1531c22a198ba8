/**
 * Uncertainty for scorecard figures (METRICS.md § Uncertainty): Wilson score
 * intervals for proportions, and a seeded percentile bootstrap over items for κ,
 * α and mean Dice, so the same inputs always give the same report.
 */
import {
  type CohenKappaOptions,
  cohenKappa,
  type KrippendorffAlphaOptions,
  krippendorffAlpha,
  type CategoryLabel,
  type MeasurementLevel,
  type RatingMatrix,
  sortedLabelUnion,
  sortedLabelUnionOf,
} from './classification.js';
import { isDefined, type MetricResult, metric, undefinedMetric } from './metric-result.js';

export interface ProportionInterval {
  /** successes / n; undefined when n = 0. */
  estimate: MetricResult;
  /** Lower bound of the interval (NaN when n = 0). */
  lower: number;
  /** Upper bound of the interval (NaN when n = 0). */
  upper: number;
  n: number;
}

/**
 * Wilson score interval for a binomial proportion (Wilson 1927, JASA 22:209).
 * Reference: statsmodels `proportion_confint(count, nobs, alpha, method='wilson')`:
 * centre (p̂ + z²/2n)/(1 + z²/n), half-width z·√(p̂(1−p̂)/n + z²/4n²)/(1 + z²/n),
 * z = Φ⁻¹(1 − (1 − confidence)/2). Unlike the Wald interval it stays inside [0, 1]
 * and is not degenerate at 0/n or n/n.
 *
 * Edge cases: n = 0 → estimate undefined and bounds NaN; successes outside [0, n],
 * non-finite input or confidence outside (0, 1) → throws RangeError.
 *
 * @example wilsonInterval(8, 10) // estimate 0.8, lower ≈ 0.4902, upper ≈ 0.9433
 */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): ProportionInterval {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`wilsonInterval: n must be ≥ 0 (got ${n})`);
  if (!Number.isFinite(successes) || successes < 0 || successes > n) {
    throw new RangeError(`wilsonInterval: successes must lie in [0, n] (got ${successes} of ${n})`);
  }
  assertConfidence(confidence, 'wilsonInterval');
  if (n === 0) {
    return {
      estimate: undefinedMetric('no items: a proportion needs n ≥ 1'),
      lower: Number.NaN,
      upper: Number.NaN,
      n,
    };
  }
  const p = successes / n;
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // Algebraically the bounds lie in [0, 1] and hit 0 (1) exactly at 0/n (n/n);
  // pin those so rounding noise never shows as 2.8e-17.
  return {
    estimate: metric(p),
    lower: successes === 0 ? 0 : Math.max(0, centre - half),
    upper: successes === n ? 1 : Math.min(1, centre + half),
    n,
  };
}

function assertConfidence(confidence: number, fn: string): void {
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`${fn}: confidence must lie in (0, 1) (got ${confidence})`);
  }
}

// AS 241 (PPND16) coefficients, lowest degree first, as doubles.
const AS241_A = [3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987, 67265.7709270087, 33430.57558358813, 2509.0809287301227];
const AS241_B = [1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271, 28729.085735721943, 5226.495278852546];
const AS241_C = [1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684, 0.2417807251774506, 0.022723844989269184, 0.0007745450142783414];
const AS241_D = [1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457, 0.0005475938084995345, 1.0507500716444169e-9];
const AS241_E = [6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124, 0.0012426609473880784, 0.000027115555687434876, 2.0103343992922881e-7];
const AS241_F = [1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133, 0.000018463183175100548, 1.421511758316446e-7, 2.0442631033899397e-15];

/** Polynomial with coefficients lowest degree first, by Horner's rule. */
function polynomial(coefficients: readonly number[], x: number): number {
  let y = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) y = y * x + coefficients[i];
  return y;
}

/**
 * Standard normal quantile Φ⁻¹(p), Wichura 1988, Algorithm AS 241 (PPND16),
 * relative accuracy about 1e-16 — the algorithm behind R's `qnorm`.
 *
 * Edge cases: p = 0 → −∞, p = 1 → +∞, p outside [0, 1] or NaN → NaN.
 *
 * @example normalQuantile(0.975) // 1.959963984540054
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return Number.NEGATIVE_INFINITY;
    if (p === 1) return Number.POSITIVE_INFINITY;
    return Number.NaN;
  }
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * polynomial(AS241_A, r)) / polynomial(AS241_B, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let x: number;
  if (r <= 5) {
    r -= 1.6;
    x = polynomial(AS241_C, r) / polynomial(AS241_D, r);
  } else {
    r -= 5;
    x = polynomial(AS241_E, r) / polynomial(AS241_F, r);
  }
  return q < 0 ? -x : x;
}

/**
 * Seeded uniform generator on [0, 1): mulberry32 (Tommy Ettinger, public domain),
 * 32-bit state, period 2³², ample for bootstrap resampling and fully reproducible.
 *
 * @example const rand = seededRandom(42); rand(); rand(); // same pair on every run
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BootstrapOptions {
  /** Fixed seed: the same inputs and seed always give the same interval. */
  seed: number;
  /** Resamples to draw (default 1000). */
  resamples?: number;
  /** Two-sided confidence level (default 0.95). */
  confidence?: number;
}

export interface BootstrapInterval {
  /** The statistic on the full sample. */
  estimate: MetricResult;
  /** Percentile bounds over the resamples where the statistic was defined (NaN if none). */
  lower: number;
  upper: number;
  /** Resamples drawn. */
  resamples: number;
  /** Resamples skipped because the statistic was undefined (NaN) on them. */
  skipped: number;
  /** Items resampled. */
  n: number;
}

/**
 * Percentile bootstrap over items (Efron & Tibshirani 1993, ch. 13; as
 * `scipy.stats.bootstrap(method='percentile')`): draw `resamples` samples of n
 * items with replacement using `seededRandom(seed)`, evaluate `statistic` on each,
 * and take the (1−c)/2 and (1+c)/2 quantiles with linear interpolation
 * (numpy's default percentile).
 *
 * Edge cases: resamples where the statistic is NaN (e.g. κ when a resample holds
 * one label only) are skipped and counted in `skipped`, never read as 0; if all
 * are skipped, or there are no items, the bounds are NaN. The estimate is the
 * statistic on all items, defined or not.
 *
 * @example
 * bootstrapInterval(perItemDice, (s) => mean(s), { seed: 7 }) // { estimate, lower, upper, … }
 */
export function bootstrapInterval<T>(
  items: readonly T[],
  statistic: (sample: readonly T[]) => number | MetricResult,
  options: BootstrapOptions,
): BootstrapInterval {
  const resamples = options.resamples ?? 1000;
  const confidence = options.confidence ?? 0.95;
  assertConfidence(confidence, 'bootstrapInterval');
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new RangeError(`bootstrapInterval: resamples must be a positive integer (got ${resamples})`);
  }
  const asMetric = (x: number | MetricResult): MetricResult =>
    typeof x === 'number' ? (Number.isNaN(x) ? undefinedMetric('statistic is NaN') : metric(x)) : x;
  const estimate = asMetric(statistic(items));
  const n = items.length;
  if (n === 0) return { estimate, lower: Number.NaN, upper: Number.NaN, resamples: 0, skipped: 0, n };

  const rand = seededRandom(options.seed);
  const sample = new Array<T>(n);
  const values: number[] = [];
  let skipped = 0;
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = items[Math.floor(rand() * n)];
    const value = asMetric(statistic(sample));
    if (isDefined(value)) values.push(value.value);
    else skipped++;
  }
  if (values.length === 0) return { estimate, lower: Number.NaN, upper: Number.NaN, resamples, skipped, n };
  values.sort((x, y) => x - y);
  const tail = (1 - confidence) / 2;
  return {
    estimate,
    lower: quantileSorted(values, tail),
    upper: quantileSorted(values, 1 - tail),
    resamples,
    skipped,
    n,
  };
}

/** Quantile of sorted values, linear interpolation (numpy `percentile`, Hyndman–Fan type 7). */
function quantileSorted(sorted: readonly number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Bootstrap interval for Cohen's κ, resampling items (label pairs). The label
 * scale is fixed once (the given `labels`, else the labels of the full sample) so
 * a resample that misses a grade keeps the same weights.
 *
 * @example bootstrapKappa(readerA, readerB, { weights: 'quadratic', labels: [1, 2, 3, 4, 5], seed: 1 })
 */
export function bootstrapKappa(
  a: readonly CategoryLabel[],
  b: readonly CategoryLabel[],
  options: CohenKappaOptions & BootstrapOptions,
): BootstrapInterval {
  if (a.length !== b.length) {
    throw new RangeError(`bootstrapKappa: the two raters must label the same items (${a.length} vs ${b.length})`);
  }
  const labels = options.labels ?? sortedLabelUnion(a, b);
  const kappaOptions: CohenKappaOptions = { weights: options.weights ?? 'none', labels };
  const pairs = Array.from({ length: a.length }, (_, i) => i);
  return bootstrapInterval(
    pairs,
    (sample) =>
      cohenKappa(
        sample.map((i) => a[i]),
        sample.map((i) => b[i]),
        kappaOptions,
      ),
    options,
  );
}

/**
 * Bootstrap interval for Krippendorff's α, resampling units (columns of the
 * raters × units matrix). The value scale is fixed from the full data.
 *
 * @example bootstrapAlpha(ratings, 'ordinal', { scale: [0, 1, 2, 3], seed: 1 })
 */
export function bootstrapAlpha(
  data: RatingMatrix,
  level: MeasurementLevel,
  options: KrippendorffAlphaOptions & BootstrapOptions,
): BootstrapInterval {
  const units = data.length === 0 ? 0 : data[0].length;
  // Validate once on the full data (ragged rows, scale, level) with the caller's
  // options, then fix the scale so every resample uses the same value set.
  krippendorffAlpha(data, level, { scale: options.scale });
  const scale = options.scale ?? sortedLabelUnionOf(data);
  const columns = Array.from({ length: units }, (_, u) => u);
  return bootstrapInterval(
    columns,
    (sample) =>
      krippendorffAlpha(
        data.map((row) => sample.map((u) => row[u])),
        level,
        { scale },
      ),
    options,
  );
}

/**
 * Bootstrap interval for mean Dice over items. Undefined per-item Dice values
 * (NaN, e.g. both masks empty under the default convention) are left out before
 * resampling, and the estimate's reason says how many.
 *
 * @example bootstrapMeanDice([0.91, 0.88, 0.79, 0.95], { seed: 3 })
 */
export function bootstrapMeanDice(
  dice: readonly (number | MetricResult)[],
  options: BootstrapOptions,
): BootstrapInterval {
  const values = dice.map((d) => (typeof d === 'number' ? d : d.value));
  const defined = values.filter((v) => !Number.isNaN(v));
  const excluded = values.length - defined.length;
  const mean = (sample: readonly number[]): MetricResult => {
    if (sample.length === 0) return undefinedMetric('no item with a defined Dice');
    let sum = 0;
    for (const v of sample) sum += v;
    return metric(sum / sample.length);
  };
  const result = bootstrapInterval(defined, mean, options);
  if (excluded > 0 && isDefined(result.estimate)) {
    result.estimate = metric(
      result.estimate.value,
      `mean over ${defined.length} items; ${excluded} with undefined Dice left out`,
    );
  }
  return result;
}
