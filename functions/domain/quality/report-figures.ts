/**
 * The building blocks of a quality report's figures: a proportion with its
 * Wilson interval, a statistic with its bootstrap interval, a distribution by
 * quantiles. Every figure keeps its n and says "insufficient" below the minimum.
 */
import { type MetricResult, bootstrapInterval, isDefined, wilsonInterval } from '../scoring/index.js';
import type { Distribution, Estimate, Proportion } from './report-schema.js';

/** Bootstrap settings of every κ/AC1/α interval in a report: fixed, so a report is reproducible. */
export const AGREEMENT_BOOTSTRAP = { seed: 1, resamples: 1000, confidence: 0.95 } as const;

/**
 * k of n with the Wilson 95% interval (value and interval null when n = 0).
 *
 * @example proportion(8, 10, 5) // { k: 8, n: 10, value: 0.8, interval: { lower: 0.49…, upper: 0.94… }, insufficient: false }
 */
export function proportion(k: number, n: number, minN: number): Proportion {
  const w = wilsonInterval(k, n);
  const defined = n > 0 && isDefined(w.estimate);
  return { k, n, value: defined ? w.estimate.value : null, interval: defined ? { lower: w.lower, upper: w.upper } : null, insufficient: n < minN };
}

/**
 * A statistic over items with its percentile bootstrap interval (AGREEMENT_BOOTSTRAP:
 * resampling items, resamples where it is undefined skipped). Null value with the
 * engine's reason when the statistic is undefined on all items.
 */
export function bootstrapEstimate<T>(items: readonly T[], statistic: (sample: readonly T[]) => MetricResult, minN: number): Estimate {
  const n = items.length;
  if (n === 0) return { n, value: null, interval: null, insufficient: true, note: 'no items' };
  const b = bootstrapInterval(items, statistic, AGREEMENT_BOOTSTRAP);
  const value = isDefined(b.estimate) ? b.estimate.value : null;
  const interval = value !== null && Number.isFinite(b.lower) && Number.isFinite(b.upper) ? { lower: b.lower, upper: b.upper } : null;
  const notes = [b.estimate.reason, b.skipped > 0 ? `${b.skipped} of ${b.resamples} resamples undefined and skipped` : undefined].filter((x) => x !== undefined);
  return { n, value, interval, insufficient: n < minN, note: notes.length ? notes.join('; ') : null };
}

/**
 * Quantile p of sorted values by linear interpolation between order statistics
 * (numpy.quantile's default, method 'linear').
 *
 * @example quantileSorted([1, 2, 3, 4], 0.5) // 2.5
 */
export function quantileSorted(sorted: readonly number[], p: number): number {
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** The distribution of per-item figures; nulls (undefined figures) counted apart. */
export function distribution(values: readonly (number | null)[], minN: number): Distribution {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  const undefinedN = values.length - xs.length;
  if (xs.length === 0) return { n: 0, undefinedN, mean: null, p05: null, p25: null, median: null, p75: null, p95: null, insufficient: true };
  const q = (p: number) => quantileSorted(xs, p);
  return {
    n: xs.length,
    undefinedN,
    mean: xs.reduce((s, x) => s + x, 0) / xs.length,
    p05: q(0.05),
    p25: q(0.25),
    median: q(0.5),
    p75: q(0.75),
    p95: q(0.95),
    insufficient: xs.length < minN,
  };
}

/** Groups items by a key, keys in sorted order (numbers numerically). */
export function groupBy<T>(items: readonly T[], key: (t: T) => string | undefined): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    if (k === undefined) continue;
    const list = m.get(k);
    if (list) list.push(t);
    else m.set(k, [t]);
  }
  const numeric = [...m.keys()].every((k) => /^\d+$/.test(k));
  return new Map([...m.entries()].sort(([a], [b]) => (numeric ? Number(a) - Number(b) : a.localeCompare(b))));
}
