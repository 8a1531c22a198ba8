/**
 * Overlap metrics for segmentation masks: Dice and IoU, on dense label maps and
 * on run-length masks (never expanded to voxels).
 *
 * Definitions (METRICS.md, "Segmentation"): Dice = 2|A∩B|/(|A|+|B|),
 * IoU = |A∩B|/|A∪B| = D/(2−D). Reference: MONAI `DiceMetric` / `MeanIoU`
 * (`compute_dice`, `compute_iou`).
 *
 * Empty-mask conventions, stated in every result's `reason` when they decide it:
 * - both masks empty → undefined (NaN) by default; `emptyBoth: 'one'` gives 1,
 *   as MONAI `ignore_empty=False`;
 * - exactly one mask empty → 0.
 *
 * The first mask is the prediction (the workforce's), the second the reference
 * (the expert's), in MONAI's `(y_pred, y)` order: only `convention: 'monai'`
 * tells them apart (docs/metrics-conventions.md: the conventions table).
 */
import {
  type MetricConvention,
  type MetricResult,
  METRIC_CONVENTIONS,
  conventionLabel,
  metric,
  undefinedMetric,
  withConvention,
} from './metric-result.js';
import { countOverlap, countPerLabel, type OverlapCounts } from './dense-overlap.js';

/**
 * A dense 2D or 3D label map. Voxel order is x fastest:
 * `index = x + nx * (y + ny * z)` (the NIfTI on-disk order). A 2D mask has `nz = 1`
 * and is treated as 2D everywhere (4-connected surfaces, no slice neighbours).
 */
export interface Mask3D {
  dims: [nx: number, ny: number, nz: number];
  /** Voxel size in mm along x, y, z. */
  spacing: [sx: number, sy: number, sz: number];
  /** One label per voxel; 0 is background. */
  data: Uint8Array;
}

/**
 * One label of a mask as runs over the x-fastest linear index (format
 * `goldline-rle3d/1`, see docs/mask-formats.md). `runs` holds
 * `start, length` pairs, sorted by start and non-overlapping.
 */
export interface RleMask3D {
  dims: [nx: number, ny: number, nz: number];
  spacing: [sx: number, sy: number, sz: number];
  label: number;
  runs: Uint32Array;
}

/** Masks that cannot be compared (different grids, wrong buffer length, bad label). */
export class MaskShapeError extends Error {
  override name = 'MaskShapeError';
}

/** Which voxels count as foreground, and what to do when both masks are empty. */
export interface OverlapOptions extends OverlapConventionOptions {
  /** Foreground label. Omitted: every non-zero voxel is foreground. */
  label?: number;
}

/**
 * Empty-mask handling of Dice and IoU. Goldline (default): both empty →
 * undefined, or 1 with `emptyBoth: 'one'`; one empty → 0. MONAI
 * (`compute_dice`, `DiceHelper.compute_channel`): an empty *reference* decides
 * alone — `ignoreEmpty` true (MONAI's default) → NaN whatever the prediction;
 * false → 1 when the prediction is empty too, else 0. DeepMind
 * (`compute_dice_coefficient`): both empty → NaN, one empty → 0.
 */
export interface OverlapConventionOptions {
  /** Whose conventions; given, every result records it in `convention`. */
  convention?: MetricConvention;
  /** Goldline only. Both masks empty: `'undefined'` (default, NaN with a reason) or `'one'`. */
  emptyBoth?: 'undefined' | 'one';
  /** MONAI only: `ignore_empty` (default true, as MONAI). */
  ignoreEmpty?: boolean;
}

/** The empty-mask rule an overlap metric applies, resolved from the options. */
type EmptyRule =
  | { kind: 'goldline'; emptyBoth: 'undefined' | 'one'; label?: string }
  | { kind: 'monai'; ignoreEmpty: boolean; label: string }
  | { kind: 'deepmind'; label: string };

/** Resolves and checks the convention options; a misplaced option is refused, never ignored. */
function emptyRule(options: OverlapConventionOptions): EmptyRule {
  const c = options.convention;
  if (c !== undefined && !METRIC_CONVENTIONS.includes(c)) {
    throw new RangeError(`convention must be one of ${METRIC_CONVENTIONS.join(', ')}, got ${String(c)}`);
  }
  if (options.emptyBoth !== undefined && c !== undefined && c !== 'goldline') {
    throw new RangeError(`emptyBoth is Goldline's option; with convention '${c}' the reference's own rule applies`);
  }
  if (options.ignoreEmpty !== undefined && c !== 'monai') {
    throw new RangeError("ignoreEmpty is MONAI's option: pass convention: 'monai' with it");
  }
  if (c === 'monai') {
    const ignoreEmpty = options.ignoreEmpty ?? true;
    return { kind: 'monai', ignoreEmpty, label: conventionLabel('monai', [`ignore_empty=${ignoreEmpty ? 'True' : 'False'}`]) };
  }
  if (c === 'deepmind') return { kind: 'deepmind', label: conventionLabel('deepmind') };
  const emptyBoth = options.emptyBoth ?? 'undefined';
  return {
    kind: 'goldline',
    emptyBoth,
    label: c === undefined ? undefined : conventionLabel('goldline', emptyBoth === 'one' ? ['emptyBoth=one'] : []),
  };
}

/**
 * Number of voxels of a grid, checking the dims and the 32-bit index range the
 * run-length code relies on.
 *
 * @example
 * voxelCount([512, 512, 256]) // 67108864
 */
export function voxelCount(dims: readonly number[]): number {
  const [nx, ny, nz] = dims;
  for (const n of dims) {
    if (!Number.isInteger(n) || n < 1) throw new MaskShapeError(`dims must be positive integers, got [${dims}]`);
  }
  const n = nx * ny * nz;
  if (n > 0xffffffff) throw new MaskShapeError(`${n} voxels exceed the 2^32 index range`);
  return n;
}

/**
 * Throws a {@link MaskShapeError} unless the mask's buffer matches its dims.
 *
 * @example
 * assertMask({ dims: [2, 2, 1], spacing: [1, 1, 1], data: new Uint8Array(3) }) // throws
 */
export function assertMask(mask: Mask3D, name = 'mask'): void {
  const n = voxelCount(mask.dims);
  if (mask.data.length !== n) {
    throw new MaskShapeError(`${name}: data has ${mask.data.length} voxels, dims [${mask.dims}] need ${n}`);
  }
}

/**
 * Throws a {@link MaskShapeError} unless both masks live on the same voxel grid.
 *
 * @example
 * assertSameGrid(reference, vendor)
 */
export function assertSameGrid(a: { dims: readonly number[] }, b: { dims: readonly number[] }): void {
  if (a.dims.length !== 3 || b.dims.length !== 3 || a.dims.some((n, i) => n !== b.dims[i])) {
    throw new MaskShapeError(`masks are on different grids: [${a.dims}] vs [${b.dims}]`);
  }
}

/**
 * Lookup table value → is-foreground. `label` omitted: any non-zero value.
 * Label 0 is background by definition and is refused.
 */
function foregroundTable(label?: number): Uint8Array {
  const lut = new Uint8Array(256);
  if (label === undefined) {
    lut.fill(1, 1);
    return lut;
  }
  if (!Number.isInteger(label) || label < 1 || label > 255) {
    throw new MaskShapeError(`label must be an integer in 1..255 (0 is background), got ${label}`);
  }
  lut[label] = 1;
  return lut;
}

/** A 32-bit view of the same bytes when alignment allows; used to skip 4 background voxels at once. */
function wordView(data: Uint8Array): Uint32Array | undefined {
  return data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, data.length >>> 2) : undefined;
}

/** |A|, |B|, |A∩B| over a dense pair (dense-overlap.ts: 8 voxels a step, exact counts). */
function denseOverlap(a: Mask3D, b: Mask3D, label: number | undefined): OverlapCounts {
  assertMask(a, 'a');
  assertMask(b, 'b');
  assertSameGrid(a, b);
  foregroundTable(label); // validates the label
  return countOverlap(a.data, b.data, label);
}

const BOTH_EMPTY_UNDEFINED =
  "both masks empty: undefined by default (pass emptyBoth: 'one' for MONAI ignore_empty=False)";
const BOTH_EMPTY_ONE = "both masks empty: 1 by convention emptyBoth='one' (MONAI ignore_empty=False)";

/**
 * The value an empty mask decides, or undefined when the formula applies.
 * `a` is the prediction, `b` the reference.
 */
function emptyCase(c: OverlapCounts, rule: EmptyRule, name: 'Dice' | 'IoU'): MetricResult | undefined {
  if (rule.kind === 'monai') {
    if (c.sizeB > 0) return undefined;
    if (rule.ignoreEmpty) return undefinedMetric('reference empty: NaN (MONAI ignore_empty=True)');
    return c.sizeA === 0
      ? metric(1, 'both masks empty: 1 (MONAI ignore_empty=False)')
      : metric(0, 'reference empty, prediction not: 0 (MONAI ignore_empty=False)');
  }
  if (c.sizeA + c.sizeB === 0) {
    if (rule.kind === 'deepmind') return undefinedMetric('both masks empty: NaN (DeepMind compute_dice_coefficient)');
    return rule.emptyBoth === 'one' ? metric(1, BOTH_EMPTY_ONE) : undefinedMetric(BOTH_EMPTY_UNDEFINED);
  }
  if (c.sizeA === 0 || c.sizeB === 0) return metric(0, `one mask empty: ${name} 0 by convention`);
  return undefined;
}

function diceFromCounts(c: OverlapCounts, rule: EmptyRule): MetricResult {
  const m = emptyCase(c, rule, 'Dice') ?? metric((2 * c.intersection) / (c.sizeA + c.sizeB));
  return withConvention(m, rule.label);
}

function iouFromCounts(c: OverlapCounts, rule: EmptyRule): MetricResult {
  const m = emptyCase(c, rule, 'IoU') ?? metric(c.intersection / (c.sizeA + c.sizeB - c.intersection));
  return withConvention(m, rule.label);
}

/**
 * Dice similarity coefficient 2|A∩B|/(|A|+|B|) of two dense masks on one grid.
 * Reference: MONAI `compute_dice`. Both empty → undefined (default) or 1
 * (`emptyBoth: 'one'`, MONAI `ignore_empty=False`); one empty → 0.
 *
 * @example
 * dice(a, b, { label: 1 }) // { value: 0.83 }
 */
export function dice(a: Mask3D, b: Mask3D, options: OverlapOptions = {}): MetricResult {
  const rule = emptyRule(options);
  return diceFromCounts(denseOverlap(a, b, options.label), rule);
}

/**
 * Intersection over union |A∩B|/|A∪B| (Jaccard) of two dense masks on one grid.
 * Reference: MONAI `compute_iou`. Same empty conventions as {@link dice}.
 *
 * @example
 * iou(a, b) // { value: 0.71 }  (= D/(2−D) for the same pair)
 */
export function iou(a: Mask3D, b: Mask3D, options: OverlapOptions = {}): MetricResult {
  const rule = emptyRule(options);
  return iouFromCounts(denseOverlap(a, b, options.label), rule);
}

/** Options for per-label scores of multi-label masks. */
export interface PerLabelOptions extends OverlapConventionOptions {
  /** Labels to report. Omitted: every non-zero label present in either mask. */
  labels?: number[];
}

/** Per-label |A|, |B|, |A∩B| in one pass (dense-overlap.ts: histograms over the 256 possible labels). */
function perLabelCounts(a: Mask3D, b: Mask3D, labels: number[] | undefined): Map<number, OverlapCounts> {
  assertMask(a, 'a');
  assertMask(b, 'b');
  assertSameGrid(a, b);
  const { a: ca, b: cb, both: ci } = countPerLabel(a.data, b.data);
  const wanted = labels ?? [...Array(255).keys()].map((k) => k + 1).filter((l) => ca[l] > 0 || cb[l] > 0);
  const out = new Map<number, OverlapCounts>();
  for (const l of wanted) {
    foregroundTable(l); // validates the label
    out.set(l, { sizeA: ca[l], sizeB: cb[l], intersection: ci[l] });
  }
  return out;
}

/**
 * Dice per label of two multi-label masks (each label scored as its own binary
 * mask, as MONAI `DiceMetric` per channel). Keys: `options.labels` in the
 * given order, else every non-zero label present in either mask, ascending.
 *
 * @example
 * dicePerLabel(a, b).get(2) // { value: 0.9 }
 * dicePerLabel(a, b, { labels: [1, 2, 3] }).get(3) // { value: NaN, reason: 'both masks empty: …' }
 */
export function dicePerLabel(a: Mask3D, b: Mask3D, options: PerLabelOptions = {}): Map<number, MetricResult> {
  const rule = emptyRule(options);
  const out = new Map<number, MetricResult>();
  for (const [l, c] of perLabelCounts(a, b, options.labels)) out.set(l, diceFromCounts(c, rule));
  return out;
}

/**
 * IoU per label of two multi-label masks; see {@link dicePerLabel}.
 *
 * @example
 * iouPerLabel(a, b).get(1) // { value: 0.8 }
 */
export function iouPerLabel(a: Mask3D, b: Mask3D, options: PerLabelOptions = {}): Map<number, MetricResult> {
  const rule = emptyRule(options);
  const out = new Map<number, MetricResult>();
  for (const [l, c] of perLabelCounts(a, b, options.labels)) out.set(l, iouFromCounts(c, rule));
  return out;
}

/**
 * Throws a {@link MaskShapeError} unless `runs` are start,length pairs, sorted,
 * non-overlapping and inside a grid of `n` voxels (docs/mask-formats.md).
 *
 * @example
 * assertRuns(Uint32Array.of(0, 3, 2, 1), 10) // throws: run 1 starts before run 0 ends
 */
export function assertRuns(runs: Uint32Array, n: number): void {
  if (runs.length % 2 !== 0) throw new MaskShapeError('runs must be start,length pairs (even length)');
  let end = 0;
  for (let k = 0; k < runs.length; k += 2) {
    const start = runs[k];
    const len = runs[k + 1];
    if (start < end) throw new MaskShapeError(`run ${k / 2} starts at ${start}, before the previous run ends (${end})`);
    end = start + len;
    if (end > n) throw new MaskShapeError(`run ${k / 2} ends at ${end}, beyond the ${n} voxels of the grid`);
  }
}

/** |A|, |B|, |A∩B| by a merge-walk over two sorted run lists: O(runs), no voxels. */
function rleOverlap(a: RleMask3D, b: RleMask3D): OverlapCounts {
  assertSameGrid(a, b);
  const n = voxelCount(a.dims);
  assertRuns(a.runs, n);
  assertRuns(b.runs, n);
  const ra = a.runs;
  const rb = b.runs;
  let sizeA = 0;
  let sizeB = 0;
  for (let k = 1; k < ra.length; k += 2) sizeA += ra[k];
  for (let k = 1; k < rb.length; k += 2) sizeB += rb[k];
  let intersection = 0;
  let i = 0;
  let j = 0;
  while (i < ra.length && j < rb.length) {
    const aStart = ra[i];
    const aEnd = aStart + ra[i + 1];
    const bStart = rb[j];
    const bEnd = bStart + rb[j + 1];
    const lo = Math.max(aStart, bStart);
    const hi = Math.min(aEnd, bEnd);
    if (hi > lo) intersection += hi - lo;
    // Advance whichever run ends first; the other may still overlap the next one.
    if (aEnd <= bEnd) i += 2;
    else j += 2;
  }
  return { sizeA, sizeB, intersection };
}

/**
 * Dice of two run-length masks (`goldline-rle3d/1`), computed from the run
 * intervals by a merge-walk: O(number of runs), no dense expansion. Each mask
 * is binary (its runs); the labels are not compared. Same conventions as
 * {@link dice}.
 *
 * @example
 * const a = { dims: [4, 1, 1], spacing: [1, 1, 1], label: 1, runs: Uint32Array.of(0, 2) };
 * const b = { ...a, runs: Uint32Array.of(1, 2) };
 * diceRle(a, b) // { value: 0.5 }
 */
export function diceRle(a: RleMask3D, b: RleMask3D, options: OverlapConventionOptions = {}): MetricResult {
  const rule = emptyRule(options);
  return diceFromCounts(rleOverlap(a, b), rule);
}

/**
 * IoU of two run-length masks by the same merge-walk as {@link diceRle}.
 *
 * @example
 * iouRle(a, b) // { value: 1 / 3 } for the diceRle example
 */
export function iouRle(a: RleMask3D, b: RleMask3D, options: OverlapConventionOptions = {}): MetricResult {
  const rule = emptyRule(options);
  return iouFromCounts(rleOverlap(a, b), rule);
}

/**
 * Foreground runs of a dense mask over the x-fastest linear index:
 * `start, length` pairs, maximal (adjacent foreground voxels share a run).
 * Scans 4 voxels per step where they are all background or all foreground, so
 * a 512×512×256 mask takes a few tens of milliseconds.
 *
 * @example
 * foregroundRuns({ dims: [5, 1, 1], spacing: [1, 1, 1], data: Uint8Array.of(0, 1, 1, 0, 1) })
 * // Uint32Array [1, 2, 4, 1]
 */
export function foregroundRuns(mask: Mask3D, label?: number): Uint32Array {
  assertMask(mask);
  const lut = foregroundTable(label);
  const data = mask.data;
  const n = data.length;
  let out = new Uint32Array(1024);
  let k = 0;
  let runStart = -1;
  const push = (start: number, end: number): void => {
    if (k + 2 > out.length) {
      const grown = new Uint32Array(out.length * 2);
      grown.set(out);
      out = grown;
    }
    out[k++] = start;
    out[k++] = end - start;
  };
  // A word whose 4 bytes all equal `label` (or, without a label, none is zero).
  const fullWord = label === undefined ? -1 : (label * 0x01010101) >>> 0;
  const words = wordView(data);
  let i = 0;
  if (words) {
    for (let w = 0; w < words.length; w++) {
      const v = words[w];
      if (v === 0) {
        if (runStart >= 0) {
          push(runStart, w << 2);
          runStart = -1;
        }
        continue;
      }
      const allForeground = fullWord === -1 ? ((v - 0x01010101) & ~v & 0x80808080) === 0 : v === fullWord;
      if (allForeground) {
        if (runStart < 0) runStart = w << 2;
        continue;
      }
      for (let j = w << 2, end = j + 4; j < end; j++) {
        if (lut[data[j]] === 1) {
          if (runStart < 0) runStart = j;
        } else if (runStart >= 0) {
          push(runStart, j);
          runStart = -1;
        }
      }
    }
    i = words.length << 2;
  }
  for (; i < n; i++) {
    if (lut[data[i]] === 1) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      push(runStart, i);
      runStart = -1;
    }
  }
  if (runStart >= 0) push(runStart, n);
  return out.slice(0, k);
}
