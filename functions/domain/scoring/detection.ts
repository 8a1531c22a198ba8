/**
 * Detection metrics: box IoU (2D/3D), matching of predicted boxes to ground truth
 * (COCO-greedy or optimal), LUNA16 lesion hit rules, FROC/CPM, and per-item
 * TP/FP/FN, sensitivity, precision, F1 and critical misses.
 *
 * Definitions and edge-case conventions: shared/docs/METRICS.md § Detection.
 * References: pycocotools `COCOeval.evaluateImg` and `maskApi.c bbIou` (boxes),
 * LUNA16 `noduleCADEvaluationLUNA16.py` (lesions, FROC), `np.interp` (CPM).
 * Pure: plain data in, plain data out. Indices in results refer to the input arrays.
 */
import { munkres } from 'munkres';
import { type MetricResult, metric, undefinedMetric } from './metric-result.js';

// ───────────────────────────── Types ─────────────────────────────

/** A 2D box in COCO order: top-left corner (x, y), width w, height h. */
export interface Box2D {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A 3D box: corner (x, y, z) and extents w, h, d along x, y, z. */
export interface Box3D {
  x: number;
  y: number;
  z: number;
  w: number;
  h: number;
  d: number;
}

export type DetectionBox = Box2D | Box3D;

/** A predicted box with its confidence. */
export interface Detection<B extends DetectionBox = Box2D> {
  box: B;
  score: number;
  id?: string;
}

/**
 * A reference box. `ignore` marks a region that must neither reward nor punish
 * (pycocotools `_ignore`): a detection matched to it is ignored, not a FP, and
 * missing it is not a FN.
 */
export interface GroundTruth<B extends DetectionBox = Box2D> {
  box: B;
  id?: string;
  ignore?: boolean;
}

/**
 * A reference lesion: centre in world coordinates (mm) and diameter (mm).
 * `excluded` = a LUNA16 "irrelevant finding" (annotations_excluded.csv): marks on it
 * are ignored, and it is never a FN. A negative diameter means "unknown"; LUNA16
 * then uses 10 mm.
 */
export interface Lesion {
  x: number;
  y: number;
  z: number;
  diameterMm: number;
  id?: string;
  excluded?: boolean;
}

/** A point mark (CAD candidate or annotator click) in mm, with its probability. */
export interface LesionMark {
  x: number;
  y: number;
  z: number;
  probability: number;
  id?: string;
}

/** Raised when inputs cannot describe boxes, marks or lesions (not when a metric is undefined). */
export class DetectionInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DetectionInputError';
  }
}

// ───────────────────────────── IoU ─────────────────────────────

const is3D = (b: DetectionBox): b is Box3D => 'z' in b && 'd' in b;

function assertBox(b: DetectionBox, fn: string): void {
  const values = is3D(b) ? [b.x, b.y, b.z, b.w, b.h, b.d] : [b.x, b.y, b.w, b.h];
  if (!values.every(Number.isFinite)) throw new DetectionInputError(`${fn}: box has a non-finite field`);
  const sizes = is3D(b) ? [b.w, b.h, b.d] : [b.w, b.h];
  if (sizes.some((s) => s < 0)) throw new DetectionInputError(`${fn}: box has a negative size`);
}

/**
 * Length of the overlap of [a0, a0+aw] and [b0, b0+bw].
 * When one extent lies inside the other, its own width is the overlap: taking it
 * directly (not hi − lo, which rounds) makes a box's IoU with itself exactly 1. The
 * result never exceeds either width, so intersection ≤ each volume (see `iouOf`).
 */
function overlap1D(a0: number, aw: number, b0: number, bw: number): number {
  const a1 = a0 + aw;
  const b1 = b0 + bw;
  const lo = Math.max(a0, b0);
  const hi = Math.min(a1, b1);
  if (hi <= lo) return 0;
  const aInside = lo === a0 && hi === a1;
  const bInside = lo === b0 && hi === b1;
  const raw = aInside && bInside ? Math.min(aw, bw) : aInside ? aw : bInside ? bw : hi - lo;
  return Math.min(raw, aw, bw);
}

/**
 * pycocotools `bbIou`: o = I / (A + B − I), with I = 0 when an intersection side is
 * ≤ 0. Union is summed as larger + (smaller − I): since I ≤ smaller, the union is ≥
 * the larger volume ≥ I, so the result stays in [0, 1] under rounding, is exactly
 * symmetric, and is exactly 1 for a box with itself.
 */
function iouOf(extents: readonly [number, number, number, number][]): number {
  let inter = 1;
  let volA = 1;
  let volB = 1;
  for (const [a0, aw, b0, bw] of extents) {
    inter *= overlap1D(a0, aw, b0, bw);
    volA *= aw;
    volB *= bw;
  }
  if (inter === 0) return 0;
  const big = Math.max(volA, volB);
  const small = Math.min(volA, volB);
  return inter / (big + (small - inter));
}

/**
 * IoU of two 2D boxes (COCO xywh). Reference: pycocotools `maskApi.c bbIou`
 * (non-crowd): |A∩B| / (|A| + |B| − |A∩B|).
 *
 * Edge cases: boxes that only touch, and degenerate boxes (w or h = 0), give 0 —
 * even with themselves, as pycocotools (intersection side ≤ 0 → 0). Negative sizes
 * or non-finite fields throw `DetectionInputError`.
 *
 * @example boxIoU2D({ x: 0, y: 0, w: 10, h: 10 }, { x: 5, y: 0, w: 10, h: 10 }) // 50/150 = 1/3
 */
export function boxIoU2D(a: Box2D, b: Box2D): number {
  assertBox(a, 'boxIoU2D');
  assertBox(b, 'boxIoU2D');
  return iouOf([
    [a.x, a.w, b.x, b.w],
    [a.y, a.h, b.y, b.h],
  ]);
}

/**
 * IoU of two 3D boxes: |A∩B| / (|A| + |B| − |A∩B|) by volume, the 3D extension of
 * pycocotools `bbIou` (as used by 3D detection benchmarks, e.g. nnDetection).
 *
 * Edge cases: as `boxIoU2D` (touching or zero-extent boxes → 0).
 *
 * @example boxIoU3D({ x: 0, y: 0, z: 0, w: 2, h: 2, d: 2 }, { x: 1, y: 0, z: 0, w: 2, h: 2, d: 2 }) // 4/12 = 1/3
 */
export function boxIoU3D(a: Box3D, b: Box3D): number {
  assertBox(a, 'boxIoU3D');
  assertBox(b, 'boxIoU3D');
  return iouOf([
    [a.x, a.w, b.x, b.w],
    [a.y, a.h, b.y, b.h],
    [a.z, a.d, b.z, b.d],
  ]);
}

function boxIoU(a: DetectionBox, b: DetectionBox): number {
  const a3 = is3D(a);
  if (a3 !== is3D(b)) throw new DetectionInputError('iouMatrix: cannot compare a 2D box with a 3D box');
  return a3 ? boxIoU3D(a, b as Box3D) : boxIoU2D(a as Box2D, b as Box2D);
}

/**
 * IoU of every detection with every ground truth: `m[i][j]` = IoU(dets[i], gts[j])
 * (pycocotools `COCOeval.computeIoU`, bbox type, without its score sort: rows stay in
 * input order). Boxes must all be 2D or all 3D.
 *
 * Edge cases: no detections → `[]`; no ground truth → one empty row per detection.
 *
 * @example iouMatrix([{ box: { x: 0, y: 0, w: 2, h: 2 } }], [{ box: { x: 0, y: 0, w: 2, h: 1 } }]) // [[0.5]]
 */
export function iouMatrix<B extends DetectionBox>(
  dets: readonly { box: B }[],
  gts: readonly { box: B }[],
): number[][] {
  return dets.map((d) => gts.map((g) => boxIoU(d.box, g.box)));
}

// ───────────────────────────── Box matching ─────────────────────────────

/** 'greedy' = pycocotools evaluateImg; 'optimal' = maximum matching (Hungarian). */
export type MatchMethod = 'greedy' | 'optimal';

export interface MatchOptions {
  /** A pair counts when IoU ≥ this (default 0.5). Must lie in (0, 1]. */
  iouThreshold?: number;
  method: MatchMethod;
}

/** One true positive: detection index, ground-truth index, their IoU. */
export interface MatchedPair {
  det: number;
  gt: number;
  iou: number;
}

export interface DetectionMatching {
  method: MatchMethod;
  iouThreshold: number;
  /** True positives, in detection score order (highest first). */
  matches: MatchedPair[];
  /** False positives: detections matched to nothing (ascending index). */
  unmatchedDets: number[];
  /** False negatives: non-ignored ground truths left unmatched (ascending index). */
  unmatchedGts: number[];
  /** Detections matched to an ignored ground truth: neither TP nor FP (ascending index). */
  ignoredDets: number[];
  tp: number;
  fp: number;
  fn: number;
}

/** Highest score first; ties keep input order (pycocotools `np.argsort(-score, kind='mergesort')`). */
function scoreOrder(scores: readonly number[]): number[] {
  return scores.map((_, i) => i).sort((i, j) => scores[j] - scores[i] || i - j);
}

/**
 * The inner loop of pycocotools `evaluateImg` for one IoU threshold (non-crowd):
 * each detection, in the given order, takes the free ground truth of highest IoU ≥ t
 * among `gtOrder`; on equal IoU the later ground truth wins (pycocotools replaces
 * its best on `>=`), and once matched to a regular ground truth it stops before the
 * ignored ones (they are sorted last).
 */
function greedyPass(
  detOrder: readonly number[],
  gtOrder: readonly number[],
  ious: readonly (readonly number[])[],
  ignore: readonly boolean[],
  t: number,
  gtTaken: boolean[],
): { det: number; gt: number; iou: number }[] {
  const pairs: { det: number; gt: number; iou: number }[] = [];
  for (const d of detOrder) {
    let best = t;
    let m = -1;
    for (const g of gtOrder) {
      if (gtTaken[g]) continue;
      if (m > -1 && !ignore[m] && ignore[g]) break;
      if (ious[d][g] < best) continue;
      best = ious[d][g];
      m = g;
    }
    if (m === -1) continue;
    gtTaken[m] = true;
    pairs.push({ det: d, gt: m, iou: ious[d][m] });
  }
  return pairs;
}

/**
 * Maximum-cardinality matching between detections and regular ground truths over
 * pairs with IoU ≥ t, and among those the one of largest total IoU (Hungarian,
 * `munkres`, rectangular both ways).
 *
 * Why cardinality first: maximising total IoU alone can return fewer TPs than the
 * greedy matcher (two near-perfect pairs, IoU ≈ 1 each, beat three pairs at 0.55),
 * which would break "the optimal one can find more true positives" (METRICS.md).
 * Costs: 1 − IoU for a valid pair, n + 2 for an invalid one (n = min(rows, cols));
 * one more valid pair saves ≥ n + 2 − (k+1) > 0, more than any IoU gain can.
 */
function optimalPairs(
  dets: number,
  regular: readonly number[],
  ious: readonly (readonly number[])[],
  t: number,
): { det: number; gt: number; iou: number }[] {
  if (dets === 0 || regular.length === 0) return [];
  const invalid = Math.min(dets, regular.length) + 2;
  const cost: number[][] = [];
  for (let d = 0; d < dets; d++) cost.push(regular.map((g) => (ious[d][g] >= t ? 1 - ious[d][g] : invalid)));
  const pairs: { det: number; gt: number; iou: number }[] = [];
  for (const [d, c] of munkres(cost)) {
    const g = regular[c];
    // Every row (or column) is assigned; pairs below the threshold are dropped here.
    if (ious[d][g] >= t) pairs.push({ det: d, gt: g, iou: ious[d][g] });
  }
  return pairs;
}

/**
 * Matches detections to ground truth from a precomputed IoU matrix (so box, mask or
 * any other IoU can share one matcher). `ious[i][j]` = IoU(det i, gt j).
 *
 * - greedy: pycocotools `COCOeval.evaluateImg` at one IoU threshold, no area range,
 *   no maxDets cap, no crowd regions: detections sorted by score (desc, stable), gts
 *   with `ignore` last; each detection takes the unmatched gt of highest IoU ≥ t.
 *   A threshold of 1 is used as 1 − 1e-10, as pycocotools does.
 * - optimal: maximum number of TPs, then maximum total IoU (Hungarian). Detections it
 *   leaves unmatched then try the ignored gts, greedily in score order, so a
 *   detection on an ignored region is still ignored rather than a FP.
 *
 * Pairs below the threshold never count. TP + FN = number of non-ignored gts;
 * TP + FP + ignored = number of detections.
 *
 * @example matchIoUMatrix([[0.9], [0.6]], [0.8, 0.9], [false], { method: 'greedy' })
 * // det 1 (score 0.9) takes gt 0 first → tp 1, fp 1 (det 0)
 */
export function matchIoUMatrix(
  ious: readonly (readonly number[])[],
  scores: readonly number[],
  gtIgnore: readonly boolean[],
  options: MatchOptions,
): DetectionMatching {
  const fn = 'matchIoUMatrix';
  const iouThreshold = options.iouThreshold ?? 0.5;
  const { method } = options;
  if (!(iouThreshold > 0 && iouThreshold <= 1)) {
    throw new DetectionInputError(`${fn}: iouThreshold must lie in (0, 1] (got ${iouThreshold})`);
  }
  if (method !== 'greedy' && method !== 'optimal') {
    throw new DetectionInputError(`${fn}: method must be 'greedy' or 'optimal' (got ${String(method)})`);
  }
  const nDet = scores.length;
  const nGt = gtIgnore.length;
  if (ious.length !== nDet || ious.some((row) => row.length !== nGt)) {
    throw new DetectionInputError(`${fn}: IoU matrix must be ${nDet}×${nGt} (detections × ground truths)`);
  }
  if (scores.some(Number.isNaN)) throw new DetectionInputError(`${fn}: a detection score is NaN`);
  if (ious.some((row) => row.some((v) => !(v >= 0 && v <= 1)))) {
    throw new DetectionInputError(`${fn}: IoU values must lie in [0, 1]`);
  }

  const t = Math.min(iouThreshold, 1 - 1e-10);
  const detOrder = scoreOrder(scores);
  const regular = gtIgnore.flatMap((ig, g) => (ig ? [] : [g]));
  const ignoredGts = gtIgnore.flatMap((ig, g) => (ig ? [g] : []));
  const gtTaken = new Array<boolean>(nGt).fill(false);

  let pairs: { det: number; gt: number; iou: number }[];
  if (method === 'greedy') {
    pairs = greedyPass(detOrder, [...regular, ...ignoredGts], ious, gtIgnore, t, gtTaken);
  } else {
    pairs = optimalPairs(nDet, regular, ious, t);
    const detTaken = new Set(pairs.map((p) => p.det));
    for (const p of pairs) gtTaken[p.gt] = true;
    const rest = detOrder.filter((d) => !detTaken.has(d));
    for (const p of greedyPass(rest, ignoredGts, ious, gtIgnore, t, gtTaken)) pairs.push(p);
  }

  const rank = new Array<number>(nDet);
  detOrder.forEach((d, r) => {
    rank[d] = r;
  });
  const matches = pairs.filter((p) => !gtIgnore[p.gt]).sort((p, q) => rank[p.det] - rank[q.det]);
  const ignoredDets = pairs
    .filter((p) => gtIgnore[p.gt])
    .map((p) => p.det)
    .sort((a, b) => a - b);
  const matchedDet = new Set(pairs.map((p) => p.det));
  const unmatchedDets = detOrder.filter((d) => !matchedDet.has(d)).sort((a, b) => a - b);
  const unmatchedGts = regular.filter((g) => !gtTaken[g]);

  return {
    method,
    iouThreshold,
    matches,
    unmatchedDets,
    unmatchedGts,
    ignoredDets,
    tp: matches.length,
    fp: unmatchedDets.length,
    fn: unmatchedGts.length,
  };
}

/**
 * Matches predicted boxes to ground-truth boxes of one item (image or volume) at
 * one IoU threshold. See `matchIoUMatrix` for both methods; references pycocotools
 * `COCOeval.evaluateImg` (greedy) and the Hungarian algorithm (`munkres`, optimal).
 *
 * Edge cases: no detections → every non-ignored gt is a FN; no ground truth → every
 * detection is a FP; ignored gts absorb at most one detection each (non-crowd).
 *
 * @example
 * matchDetections(
 *   [{ box: { x: 0, y: 0, w: 10, h: 10 }, score: 0.9 }],
 *   [{ box: { x: 1, y: 0, w: 10, h: 10 } }],
 *   { method: 'greedy' },
 * ) // IoU 9/11 ≥ 0.5 → tp 1, fp 0, fn 0
 */
export function matchDetections<B extends DetectionBox>(
  dets: readonly Detection<B>[],
  gts: readonly GroundTruth<B>[],
  options: MatchOptions,
): DetectionMatching {
  return matchIoUMatrix(
    iouMatrix(dets, gts),
    dets.map((d) => d.score),
    gts.map((g) => g.ignore === true),
    options,
  );
}

// ───────────────────────────── Lesion matching (LUNA16) ─────────────────────────────

/** LUNA16 uses 10 mm when a finding's diameter is unknown (given as a negative number). */
const UNKNOWN_DIAMETER_MM = 10;

const effectiveDiameter = (l: Lesion): number => (l.diameterMm < 0 ? UNKNOWN_DIAMETER_MM : l.diameterMm);

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

// ───────────────────────────── FROC and CPM ─────────────────────────────

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

// ───────────────────────────── Per-item scores ─────────────────────────────

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
