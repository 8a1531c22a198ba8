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
  /**
   * How the figure was computed, when the caller chose a convention
   * ({@link conventionLabel}: `goldline`, `monai`, `monai(ignore_empty=False)`,
   * `deepmind`, …). Absent: Goldline's defaults (METRICS.md).
   */
  convention?: string;
}

/**
 * Whose conventions a segmentation metric follows where the references differ
 * (docs/metrics-conventions.md): Goldline's defaults, MONAI's
 * (`monai.metrics`), or DeepMind's surface-distance package (surfel areas).
 */
export const METRIC_CONVENTIONS = ['goldline', 'monai', 'deepmind'] as const;
export type MetricConvention = (typeof METRIC_CONVENTIONS)[number];

/**
 * The label a result records: the convention, with the options that changed a
 * figure in brackets, in the reference's own words.
 *
 * @example
 * conventionLabel('monai', ['ignore_empty=False']) // 'monai(ignore_empty=False)'
 * conventionLabel('goldline') // 'goldline'
 */
export const conventionLabel = (convention: MetricConvention, qualifiers: readonly string[] = []): string =>
  qualifiers.length ? `${convention}(${qualifiers.join(', ')})` : convention;

/** The same result, stamped with the convention that computed it (none: unchanged). */
export const withConvention = (m: MetricResult, label: string | undefined): MetricResult =>
  label === undefined ? m : { ...m, convention: label };

/** A defined value. */
export const metric = (value: number, reason?: string): MetricResult =>
  reason === undefined ? { value } : { value, reason };

/** An undefined value: NaN with the reason a reader will see. */
export const undefinedMetric = (reason: string): MetricResult => ({ value: Number.NaN, reason });

/** True when the result carries a number. */
export const isDefined = (m: MetricResult): boolean => !Number.isNaN(m.value);
