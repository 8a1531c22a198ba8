/**
 * FROC and CPM over scans of lesion marks (LUNA16 `noduleCADEvaluationLUNA16.py`),
 * with `np.interp` semantics for the sensitivities at fixed FP rates. Part of the
 * detection metrics (detection.ts).
 */
import { type MetricResult, metric, undefinedMetric } from './metric-result.js';
import { DetectionInputError, type Lesion, type LesionMark } from './detection-boxes.js';
import { matchLesions } from './lesion-matching.js';

/**
 * One-dimensional piecewise-linear interpolation with `np.interp(x, xp, fp)`
 * semantics: x below xp[0] → fp[0], above xp[n−1] → fp[n−1] (clamping, no
 * extrapolation); on repeated xp values (vertical steps, as on a FROC curve) the
 * value at the LAST repeat is used, as numpy's `binary_search_with_guess` returns
 * the last index j with xp[j] ≤ x.
 *
 * Edge cases: xp must be non-decreasing and as long as fp (≥ 1 point), else
 * `RangeError` (numpy does not check and returns nonsense); x NaN → NaN.
 *
 * @example npInterp(1.5, [0, 1, 2], [0, 0.5, 1]) // 0.75
 * @example npInterp(9, [0, 1, 2], [0, 0.5, 1]) // 1 (clamped)
 */
export function npInterp(x: number, xp: readonly number[], fp: readonly number[]): number {
  const n = xp.length;
  if (n === 0 || fp.length !== n) throw new RangeError('npInterp: xp and fp must be equally long and non-empty');
  for (let i = 1; i < n; i++) {
    if (!(xp[i] >= xp[i - 1])) throw new RangeError('npInterp: xp must be non-decreasing');
  }
  if (Number.isNaN(x)) return Number.NaN;
  if (x < xp[0]) return fp[0];
  if (x > xp[n - 1]) return fp[n - 1];
  // Last index j with xp[j] ≤ x (upper bound − 1).
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x >= xp[mid]) lo = mid + 1;
    else hi = mid;
  }
  const j = lo - 1;
  if (j === n - 1 || xp[j] === x) return fp[j];
  const slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
  return slope * (x - xp[j]) + fp[j];
}

/** One scan (CT volume) for FROC: its marks and its reference lesions. */
export interface FrocScan {
  marks: readonly LesionMark[];
  lesions: readonly Lesion[];
}

/** The LUNA16 operating points, false positives per scan. */
export const LUNA16_FP_RATES: readonly number[] = [1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8];

export interface FrocOptions {
  /** FP-per-scan rates at which sensitivity is read and averaged (default LUNA16_FP_RATES). */
  fpRates?: readonly number[];
  /**
   * Keep only the most probable marks of each scan, as the LUNA16 script does with
   * `maxNumberOfCADMarks` (the official run uses 100): marks with probability
   * strictly above the (max+1)-th largest survive, so ties at the cut drop out.
   * Default: no cap.
   */
  maxMarksPerScan?: number;
}

/** One FROC operating point: marks with probability ≥ threshold are kept. */
export interface FrocPoint {
  threshold: number;
  fpPerScan: number;
  /** Detected included lesions / all included lesions; NaN when there are none. */
  sensitivity: number;
}

export interface FrocResult {
  /** Starts at (0, 0) with threshold +∞, then one point per distinct probability, descending. */
  curve: FrocPoint[];
  /** Sensitivity read off the curve at each requested FP rate (np.interp). */
  sensitivityAtFpRates: { fpRate: number; sensitivity: MetricResult }[];
  /** Competition performance metric: mean of `sensitivityAtFpRates`. */
  cpm: MetricResult;
  scans: number;
  /** Included lesions over all scans (the sensitivity denominator). */
  lesions: number;
  detected: number;
  falsePositives: number;
  /** Double detections plus marks on excluded findings. */
  ignoredMarks: number;
}

function capMarks(marks: readonly LesionMark[], max: number | undefined): readonly LesionMark[] {
  if (max === undefined || marks.length <= max) return marks;
  const cut = marks.map((m) => m.probability).sort((a, b) => b - a)[max];
  return marks.filter((m) => m.probability > cut);
}

/**
 * Free-response ROC over scans and the LUNA16 competition performance metric (CPM).
 * Reference: `noduleCADEvaluationLUNA16.py` `computeFROC` — each detected lesion
 * enters with the probability of its kept mark, each FP mark with its own, missed
 * lesions only in the denominator; ignored marks not at all. At each distinct
 * threshold (sklearn `roc_curve` groups ties): FP/scan = FPs kept / scans,
 * sensitivity = TPs kept / included lesions. CPM = mean of np.interp(fpRates, FP/scan,
 * sensitivity) (Setio et al. 2017, Med Image Anal 42:1–13).
 *
 * Edge cases and where Goldline differs from the script:
 * - no included lesions (or no scans) → curve sensitivities NaN, every figure and
 *   the CPM undefined with the reason;
 * - rates beyond the curve clamp to its end values (np.interp): a system whose
 *   curve ends at 2 FP/scan scores its final sensitivity at 4 and 8;
 * - lesions present but none detected, or no marks at all → sensitivity 0 everywhere,
 *   CPM 0 (the script yields NaN from sklearn, or fails on empty input);
 * - sklearn drops collinear intermediate points (`drop_intermediate`); this curve
 *   keeps them, which changes no interpolated value.
 *
 * @example
 * froc([{ marks: [{ x: 0, y: 0, z: 0, probability: 0.9 }], lesions: [{ x: 0, y: 0, z: 0, diameterMm: 5 }] }])
 * // curve (0,0) → (0,1); sensitivity 1 at every rate; cpm 1
 */
export function froc(scans: readonly FrocScan[], options: FrocOptions = {}): FrocResult {
  const fpRates = options.fpRates ?? LUNA16_FP_RATES;
  const { maxMarksPerScan } = options;
  if (maxMarksPerScan !== undefined && !(Number.isInteger(maxMarksPerScan) && maxMarksPerScan >= 1)) {
    throw new DetectionInputError(`froc: maxMarksPerScan must be a positive integer (got ${maxMarksPerScan})`);
  }

  const entries: { probability: number; tp: boolean }[] = [];
  let lesions = 0;
  let ignoredMarks = 0;
  for (const scan of scans) {
    const marks = capMarks(scan.marks, maxMarksPerScan);
    const m = matchLesions(marks, scan.lesions);
    lesions += m.tp + m.fn;
    ignoredMarks += m.duplicateMarks.length + m.irrelevantMarks.length;
    for (const h of m.hits) entries.push({ probability: h.probability, tp: true });
    for (const i of m.falsePositiveMarks) entries.push({ probability: marks[i].probability, tp: false });
  }
  entries.sort((a, b) => b.probability - a.probability);

  const nScans = scans.length;
  const sens = (tp: number): number => (lesions > 0 ? tp / lesions : Number.NaN);
  const fpRate = (fp: number): number => (nScans > 0 ? fp / nScans : Number.NaN);
  const curve: FrocPoint[] = [{ threshold: Number.POSITIVE_INFINITY, fpPerScan: 0, sensitivity: sens(0) }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < entries.length; i++) {
    if (entries[i].tp) tp++;
    else fp++;
    // One point per distinct threshold: equal probabilities enter together.
    if (i + 1 === entries.length || entries[i + 1].probability !== entries[i].probability) {
      curve.push({ threshold: entries[i].probability, fpPerScan: fpRate(fp), sensitivity: sens(tp) });
    }
  }

  const undefinedReason =
    nScans === 0
      ? 'no scans: FROC needs at least one scan'
      : lesions === 0
        ? 'no included lesions in any scan: sensitivity has no denominator'
        : undefined;
  const xs = curve.map((p) => p.fpPerScan);
  const ys = curve.map((p) => p.sensitivity);
  const sensitivityAtFpRates = fpRates.map((rate) => ({
    fpRate: rate,
    sensitivity:
      undefinedReason === undefined ? metric(npInterp(rate, xs, ys)) : undefinedMetric(undefinedReason),
  }));

  let cpm: MetricResult;
  if (undefinedReason !== undefined) cpm = undefinedMetric(undefinedReason);
  else if (fpRates.length === 0) cpm = undefinedMetric('no FP rates given: CPM is a mean over at least one rate');
  else cpm = metric(sensitivityAtFpRates.reduce((s, r) => s + r.sensitivity.value, 0) / fpRates.length);

  return {
    curve,
    sensitivityAtFpRates,
    cpm,
    scans: nScans,
    lesions,
    detected: tp,
    falsePositives: fp,
    ignoredMarks,
  };
}
