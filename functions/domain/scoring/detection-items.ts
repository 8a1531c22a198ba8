/**
 * Per-item detection scores: TP/FP/FN, sensitivity, precision, F1 and the
 * critical misses of one item's boxes or one scan's lesion marks. Part of the
 * detection metrics (detection.ts).
 */
import { type MetricResult, metric, undefinedMetric } from './metric-result.js';
import { type Detection, type DetectionBox, DetectionInputError, type GroundTruth, is3D, type Lesion, type LesionMark } from './detection-boxes.js';
import { type DetectionMatching, matchDetections, type MatchOptions } from './detection-matching.js';
import { effectiveDiameter, type LesionMatching, matchLesions } from './lesion-matching.js';

/** Per-item counts and rates; `Miss` describes one missed critical finding. */
export interface ItemDetectionScores<Miss> {
  tp: number;
  fp: number;
  fn: number;
  /** Marks neither TP nor FP (on ignored/excluded findings, double detections). */
  ignored: number;
  /** TP / (TP + FN); undefined with no findings. */
  sensitivity: MetricResult;
  /** TP / (TP + FP); undefined with no counted marks. */
  precision: MetricResult;
  /** 2TP / (2TP + FP + FN); undefined with neither findings nor counted marks. */
  f1: MetricResult;
  /** Missed findings at or above the protocol's critical size (empty when none is set). */
  criticalMisses: Miss[];
}

/**
 * Sensitivity, precision and F1 from counts. F1 = 2TP/(2TP+FP+FN), as scikit-learn
 * `f1_score` computes it (its `zero_division` applies only when that denominator is
 * 0), so it is 0 — not undefined — when findings were all missed and nothing was
 * marked.
 */
function rates(tp: number, fp: number, fn: number): Pick<ItemDetectionScores<never>, 'sensitivity' | 'precision' | 'f1'> {
  const sensitivity =
    tp + fn === 0
      ? undefinedMetric('no findings to detect: sensitivity TP/(TP+FN) has denominator 0')
      : metric(tp / (tp + fn));
  const precision =
    tp + fp === 0
      ? undefinedMetric('no marks counted as TP or FP: precision TP/(TP+FP) has denominator 0')
      : metric(tp / (tp + fp));
  let f1: MetricResult;
  if (2 * tp + fp + fn === 0) f1 = undefinedMetric('no findings and no counted marks: F1 has denominator 0');
  else if (tp + fp === 0) f1 = metric(0, 'no counted marks (precision undefined): F1 = 2TP/(2TP+FP+FN) = 0');
  else f1 = metric((2 * tp) / (2 * tp + fp + fn));
  return { sensitivity, precision, f1 };
}

/** A missed reference box at or above the critical size. */
export interface CriticalBoxMiss {
  gt: number;
  id?: string;
  /** Largest side, in `spacing` units (mm when spacing is mm per box unit). */
  size: number;
}

export interface BoxItemOptions extends MatchOptions {
  /** Missed non-ignored boxes whose largest side ≥ this are listed as critical misses. */
  criticalSize?: number;
  /** Physical size of one box unit per axis (x, y[, z]), e.g. mm per pixel; default 1. */
  spacing?: readonly number[];
}

/** Largest side of a box in physical units. */
function largestSide(b: DetectionBox, spacing: readonly number[] | undefined, fn: string): number {
  const sides = is3D(b) ? [b.w, b.h, b.d] : [b.w, b.h];
  if (spacing !== undefined && (spacing.length !== sides.length || !spacing.every((s) => s > 0 && Number.isFinite(s)))) {
    throw new DetectionInputError(`${fn}: spacing must give ${sides.length} positive finite values`);
  }
  return Math.max(...sides.map((s, i) => s * (spacing?.[i] ?? 1)));
}

/**
 * Scores one item (image or volume) of box detections: TP, FP, FN, sensitivity,
 * precision, F1 (METRICS.md § Detection, per item), with the matching from
 * `matchDetections` (pycocotools evaluateImg or Hungarian), and the missed findings
 * whose largest side (× spacing) is ≥ `criticalSize`.
 *
 * Edge cases: no findings and no detections → sensitivity, precision and F1
 * undefined; no detections → precision undefined, sensitivity 0 (if findings), F1 0;
 * no findings → sensitivity undefined, precision 0 (if detections), F1 0. Ignored
 * gts never count as misses, critical or not.
 *
 * @example
 * detectionItemScores([], [{ box: { x: 0, y: 0, w: 12, h: 8 } }], { method: 'greedy', criticalSize: 4, spacing: [0.5, 0.5] })
 * // fn 1, sensitivity 0, precision undefined, criticalMisses [{ gt: 0, size: 6 }]
 */
export function detectionItemScores<B extends DetectionBox>(
  dets: readonly Detection<B>[],
  gts: readonly GroundTruth<B>[],
  options: BoxItemOptions,
): ItemDetectionScores<CriticalBoxMiss> & { matching: DetectionMatching } {
  const matching = matchDetections(dets, gts, options);
  const { criticalSize, spacing } = options;
  const criticalMisses: CriticalBoxMiss[] = [];
  if (criticalSize !== undefined) {
    for (const g of matching.unmatchedGts) {
      const size = largestSide(gts[g].box, spacing, 'detectionItemScores');
      if (size >= criticalSize) criticalMisses.push({ gt: g, ...(gts[g].id !== undefined && { id: gts[g].id }), size });
    }
  }
  return {
    tp: matching.tp,
    fp: matching.fp,
    fn: matching.fn,
    ignored: matching.ignoredDets.length,
    ...rates(matching.tp, matching.fp, matching.fn),
    criticalMisses,
    matching,
  };
}

/** A missed included lesion at or above the critical diameter. */
export interface CriticalLesionMiss {
  lesion: number;
  id?: string;
  /** The diameter used: as given, or 10 mm when unknown (LUNA16). */
  diameterMm: number;
  /** False when the input diameter was negative (unknown) and 10 mm was assumed. */
  diameterKnown: boolean;
}

export interface LesionItemOptions {
  /**
   * Protocol's critical size: a missed included lesion with diameter ≥ this is
   * listed. Required so a missed large nodule cannot go unreported by omission;
   * pass `Infinity` when the protocol has none.
   */
  criticalDiameterMm: number;
}

/**
 * Scores one scan of lesion marks by the LUNA16 hit rule (`matchLesions`): TP
 * (detected lesions), FP, FN, sensitivity, precision, F1, and the missed lesions
 * with diameter ≥ `criticalDiameterMm` (a missed 4 mm nodule matters; METRICS.md).
 *
 * Edge cases: double detections and marks on excluded findings are `ignored`
 * (neither TP nor FP); excluded findings are never misses. A lesion of unknown
 * (negative) diameter is judged at 10 mm, as LUNA16 sizes its hit sphere, so with a
 * critical size ≤ 10 mm its miss is listed (with `diameterKnown: false`). Rates as
 * `detectionItemScores`: no lesions and no marks → all three undefined.
 *
 * @example
 * scoreLesionItem([], [{ x: 0, y: 0, z: 0, diameterMm: 6, id: 'n1' }], { criticalDiameterMm: 4 })
 * // fn 1, sensitivity 0, precision undefined, criticalMisses [{ lesion: 0, id: 'n1', diameterMm: 6, diameterKnown: true }]
 */
export function scoreLesionItem(
  marks: readonly LesionMark[],
  lesions: readonly Lesion[],
  options: LesionItemOptions,
): ItemDetectionScores<CriticalLesionMiss> & { matching: LesionMatching } {
  const { criticalDiameterMm } = options;
  if (Number.isNaN(criticalDiameterMm)) throw new DetectionInputError('scoreLesionItem: criticalDiameterMm is NaN');
  const matching = matchLesions(marks, lesions);
  const criticalMisses: CriticalLesionMiss[] = [];
  for (const li of matching.missedLesions) {
    const lesion = lesions[li];
    const diameterMm = effectiveDiameter(lesion);
    if (diameterMm >= criticalDiameterMm) {
      criticalMisses.push({
        lesion: li,
        ...(lesion.id !== undefined && { id: lesion.id }),
        diameterMm,
        diameterKnown: lesion.diameterMm >= 0,
      });
    }
  }
  return {
    tp: matching.tp,
    fp: matching.fp,
    fn: matching.fn,
    ignored: matching.duplicateMarks.length + matching.irrelevantMarks.length,
    ...rates(matching.tp, matching.fp, matching.fn),
    criticalMisses,
    matching,
  };
}
