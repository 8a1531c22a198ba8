/**
 * Detection boxes (2D/3D), reference lesions and marks, and box IoU
 * (pycocotools `maskApi.c bbIou`). Part of the detection metrics (detection.ts).
 */

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

export const is3D = (b: DetectionBox): b is Box3D => 'z' in b && 'd' in b;

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
