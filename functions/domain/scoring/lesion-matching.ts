/**
 * The LUNA16 lesion hit rule (`noduleCADEvaluationLUNA16.py`): marks within a
 * lesion's radius hit it; one mark kept per lesion, the rest duplicates; marks on
 * excluded findings ignored. Part of the detection metrics (detection.ts).
 */
import { DetectionInputError, type Lesion, type LesionMark } from './detection-boxes.js';

/** LUNA16 uses 10 mm when a finding's diameter is unknown (given as a negative number). */
const UNKNOWN_DIAMETER_MM = 10;

export const effectiveDiameter = (l: Lesion): number => (l.diameterMm < 0 ? UNKNOWN_DIAMETER_MM : l.diameterMm);

/** One detected lesion and the mark kept for it (the highest probability among its hits). */
export interface LesionHit {
  lesion: number;
  mark: number;
  probability: number;
  distanceMm: number;
}

export interface LesionMatching {
  /** One per detected included lesion (TPs), in lesion order. */
  hits: LesionHit[];
  /** Included lesions with no mark inside (FNs), ascending. */
  missedLesions: number[];
  /** Marks inside no lesion at all (FPs), ascending. */
  falsePositiveMarks: number[];
  /** Marks inside an included lesion but kept for none (double detections): ignored. */
  duplicateMarks: number[];
  /** Marks inside excluded findings only: ignored. */
  irrelevantMarks: number[];
  tp: number;
  fp: number;
  fn: number;
}

function assertMarksAndLesions(marks: readonly LesionMark[], lesions: readonly Lesion[], fn: string): void {
  marks.forEach((m, i) => {
    if (![m.x, m.y, m.z].every(Number.isFinite) || Number.isNaN(m.probability)) {
      throw new DetectionInputError(`${fn}: mark ${i} has a non-finite coordinate or a NaN probability`);
    }
  });
  lesions.forEach((l, i) => {
    if (![l.x, l.y, l.z, l.diameterMm].every(Number.isFinite)) {
      throw new DetectionInputError(`${fn}: lesion ${i} has a non-finite coordinate or diameter`);
    }
  });
}

const squaredDistance = (m: LesionMark, l: Lesion): number =>
  (l.x - m.x) ** 2 + (l.y - m.y) ** 2 + (l.z - m.z) ** 2;

/**
 * Matches point marks to lesions of one scan by the LUNA16 rule
 * (`noduleCADEvaluationLUNA16.py`, `evaluateCAD`): a mark hits a lesion when
 * dist² < (d/2)², strictly — a mark exactly on the radius is a miss.
 *
 * As the script does:
 * - a detected lesion is one TP, credited with its highest-probability mark (first
 *   in input order on ties); its other marks are double detections, ignored
 *   (neither TP nor FP);
 * - a mark inside several included lesions detects each of them (the script only
 *   prints a warning), so TP counts lesions, not marks;
 * - included lesions are processed before excluded findings, so a mark inside both
 *   counts for the included one; a mark inside excluded findings only is ignored;
 * - an unknown (negative) diameter is taken as 10 mm;
 * - marks inside no lesion are FPs; included lesions without a mark are FNs.
 *
 * @example
 * matchLesions([{ x: 1, y: 0, z: 0, probability: 0.9 }], [{ x: 0, y: 0, z: 0, diameterMm: 6 }])
 * // 1² < 3² → tp 1, fp 0, fn 0
 */
export function matchLesions(marks: readonly LesionMark[], lesions: readonly Lesion[]): LesionMatching {
  assertMarksAndLesions(marks, lesions, 'matchLesions');
  const hits: LesionHit[] = [];
  const missedLesions: number[] = [];
  const onIncluded = new Set<number>();
  const onExcluded = new Set<number>();

  lesions.forEach((lesion, li) => {
    if (lesion.excluded) return;
    const radiusSquared = (effectiveDiameter(lesion) / 2) ** 2;
    let kept = -1;
    marks.forEach((mark, mi) => {
      if (squaredDistance(mark, lesion) >= radiusSquared) return;
      onIncluded.add(mi);
      if (kept === -1 || mark.probability > marks[kept].probability) kept = mi;
    });
    if (kept === -1) missedLesions.push(li);
    else {
      hits.push({
        lesion: li,
        mark: kept,
        probability: marks[kept].probability,
        distanceMm: Math.sqrt(squaredDistance(marks[kept], lesion)),
      });
    }
  });

  lesions.forEach((lesion) => {
    if (!lesion.excluded) return;
    const radiusSquared = (effectiveDiameter(lesion) / 2) ** 2;
    marks.forEach((mark, mi) => {
      if (!onIncluded.has(mi) && squaredDistance(mark, lesion) < radiusSquared) onExcluded.add(mi);
    });
  });

  const keptMarks = new Set(hits.map((h) => h.mark));
  const all = marks.map((_, i) => i);
  const falsePositiveMarks = all.filter((i) => !onIncluded.has(i) && !onExcluded.has(i));
  return {
    hits,
    missedLesions,
    falsePositiveMarks,
    duplicateMarks: all.filter((i) => onIncluded.has(i) && !keptMarks.has(i)),
    irrelevantMarks: all.filter((i) => onExcluded.has(i)),
    tp: hits.length,
    fp: falsePositiveMarks.length,
    fn: missedLesions.length,
  };
}
