/**
 * Matching predicted boxes to ground truth at an IoU threshold: COCO-greedy
 * (pycocotools `COCOeval.evaluateImg`) or optimal (Hungarian). Part of the
 * detection metrics (detection.ts).
 */
import { munkres } from 'munkres';
import { type Detection, type DetectionBox, DetectionInputError, type GroundTruth, iouMatrix } from './detection-boxes.js';

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
