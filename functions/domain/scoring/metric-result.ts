/**
 * Every metric in Goldline either has a value or says why it has none.
 * METRICS.md: "Undefined results are reported as undefined (NaN with a reason),
 * never silently as 0 or 1."
 */
export interface MetricResult {
  /** The figure; NaN when undefined (and then `reason` says why). */
  value: number;
  /** Present exactly when `value` is NaN (or when a convention decided the value). */
  reason?: string;
}

/** A defined value. */
export const metric = (value: number, reason?: string): MetricResult =>
  reason === undefined ? { value } : { value, reason };

/** An undefined value: NaN with the reason a reader will see. */
export const undefinedMetric = (reason: string): MetricResult => ({ value: Number.NaN, reason });

/** True when the result carries a number. */
export const isDefined = (m: MetricResult): boolean => !Number.isNaN(m.value);
