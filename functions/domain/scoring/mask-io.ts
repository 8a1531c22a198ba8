/**
 * Reading and writing the mask formats vendors upload (docs/mask-formats.md):
 * - NIfTI-1/2 label maps, `.nii` or `.nii.gz`: nifti-io.ts, re-exported here;
 * - COCO RLE for 2D masks, with pycocotools `maskApi.c` semantics
 *   (column-major, counts start with a run of zeros) and its compressed string form;
 * - `goldline-rle3d/1`: runs over the x-fastest linear index of a 3D grid.
 *
 * Pure: bytes and plain objects in, plain objects out. Every malformed input
 * raises a {@link MaskFormatError} that says what is wrong and where.
 */
import { z } from 'zod';
import { labelRuns } from './label-runs.js';
import { checkMaskGrid, type MaskBound, MaskFormatError } from './mask-bound.js';
import { assertMask, assertRuns, foregroundRuns, type Mask3D, type RleMask3D, voxelCount } from './segmentation.js';

export { checkMaskGrid, DEFAULT_MAX_MASK_VOXELS, type MaskBound, MaskFormatError } from './mask-bound.js';
export {
  MAX_NIFTI_DATA_BYTES,
  MAX_NIFTI_HEADER_BYTES,
  NIFTI_TRAILING_ALLOWANCE,
  readNifti,
  readNiftiGrid,
  writeNifti,
} from './nifti-io.js';

// ---------------------------------------------------------------- COCO RLE (2D)

/** A 2D binary mask, row-major like a Mask3D slice: `index = x + width·y`. */
export interface Mask2D {
  height: number;
  width: number;
  data: Uint8Array;
}

/** Uncompressed COCO RLE: column-major run lengths starting with a zeros run. */
export interface CocoRle {
  size: [height: number, width: number];
  counts: number[];
}

/** Compressed COCO RLE, as stored in COCO JSON `segmentation`. */
export interface CompressedCocoRle {
  size: [height: number, width: number];
  counts: string;
}

function assertSize(size: readonly number[]): [number, number] {
  const [h, w] = size;
  if (size.length !== 2 || !Number.isInteger(h) || !Number.isInteger(w) || h < 0 || w < 0) {
    throw new MaskFormatError(`COCO RLE size must be [height, width] non-negative integers, got [${size}]`);
  }
  return [h, w];
}

/**
 * Encodes a 2D mask as COCO RLE, as pycocotools `maskApi.c` `rleEncode`: the
 * mask is walked column by column (column-major, like the Fortran-order arrays
 * pycocotools takes), counts alternate zeros/ones and always start with a
 * zeros run (0 when the first pixel is set). Non-zero pixels are foreground.
 *
 * @example
 * // 2×2, only the top-right pixel set: column-major order is [0, 0, 1, 0]
 * encodeCocoRle({ height: 2, width: 2, data: Uint8Array.of(0, 1, 0, 0) })
 * // { size: [2, 2], counts: [2, 1, 1] }
 */
export function encodeCocoRle(mask: Mask2D): CocoRle {
  const [h, w] = assertSize([mask.height, mask.width]);
  if (mask.data.length !== h * w) {
    throw new MaskFormatError(`mask data has ${mask.data.length} pixels, ${h}×${w} needs ${h * w}`);
  }
  const counts: number[] = [];
  let previous = 0;
  let run = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const v = mask.data[x + w * y] !== 0 ? 1 : 0;
      if (v !== previous) {
        counts.push(run);
        run = 0;
        previous = v;
      }
      run++;
    }
  }
  counts.push(run);
  return { size: [h, w], counts };
}

/**
 * Decodes COCO RLE (pycocotools `rleDecode`) into a row-major {@link Mask2D}
 * with 0/1 pixels. The counts must cover exactly height·width pixels.
 *
 * @example
 * decodeCocoRle({ size: [2, 2], counts: [2, 1, 1] }).data // Uint8Array [0, 1, 0, 0]
 */
export function decodeCocoRle(rle: CocoRle): Mask2D {
  const [h, w] = assertSize(rle.size);
  let total = 0;
  for (const c of rle.counts) {
    if (!Number.isInteger(c) || c < 0) throw new MaskFormatError(`COCO RLE counts must be non-negative integers, got ${c}`);
    total += c;
  }
  if (total !== h * w) throw new MaskFormatError(`COCO RLE counts sum to ${total}, ${h}×${w} needs ${h * w}`);
  const data = new Uint8Array(h * w);
  let k = 0; // column-major position
  for (let i = 0; i < rle.counts.length; i++) {
    const end = k + rle.counts[i];
    if (i % 2 === 1) {
      for (; k < end; k++) data[Math.floor(k / h) + w * (k % h)] = 1;
    }
    k = end;
  }
  return { height: h, width: w, data };
}

/**
 * Compresses COCO RLE counts into the string pycocotools stores
 * (`maskApi.c` `rleToString`): LEB128-like, 5 data bits per character (offset
 * 48), and from the fourth count on each count is stored as the difference to
 * the count two places before (`i > 2`, as in maskApi.c).
 *
 * @example
 * cocoRleToString({ size: [2, 2], counts: [2, 1, 1] }) // { size: [2, 2], counts: '211' }
 */
export function cocoRleToString(rle: CocoRle): CompressedCocoRle {
  const size = assertSize(rle.size);
  let s = '';
  const cnts = rle.counts;
  for (let i = 0; i < cnts.length; i++) {
    let x = cnts[i];
    if (i > 2) x -= cnts[i - 2];
    let more = true;
    while (more) {
      // Arithmetic shift on numbers beyond 32 bits: floor division, not >>.
      let c = ((x % 32) + 32) % 32;
      x = Math.floor(x / 32);
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return { size, counts: s };
}

/**
 * Parses the compressed COCO RLE string (`maskApi.c` `rleFrString`) back to counts.
 *
 * @example
 * cocoRleFromString({ size: [2, 2], counts: '211' }) // { size: [2, 2], counts: [2, 1, 1] }
 */
export function cocoRleFromString(rle: CompressedCocoRle): CocoRle {
  const size = assertSize(rle.size);
  const s = rle.counts;
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new MaskFormatError('COCO RLE string ends inside a count');
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new MaskFormatError(`COCO RLE string has an invalid character at ${p}`);
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x -= 2 ** (5 * k); // sign-extend
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return { size, counts };
}

/**
 * A 2D mask as a one-slice {@link Mask3D} (so Dice and surface metrics apply).
 *
 * @example
 * dice(mask2dToMask3D(decodeCocoRle(a)), mask2dToMask3D(decodeCocoRle(b)))
 */
export function mask2dToMask3D(mask: Mask2D, spacing: [number, number] = [1, 1]): Mask3D {
  return { dims: [mask.width, mask.height, 1], spacing: [spacing[0], spacing[1], 1], data: mask.data };
}

// ---------------------------------------------------------------- goldline-rle3d/1

export const RLE3D_FORMAT = 'goldline-rle3d/1';

/** The JSON document vendors upload (docs/mask-formats.md). */
export interface Rle3dDocument {
  format: typeof RLE3D_FORMAT;
  dims: [number, number, number];
  spacing: [number, number, number];
  labels: { label: number; runs: number[] }[];
}

/**
 * Runs of one label of a dense mask (x-fastest linear index), maximal and sorted.
 * `label` omitted: every non-zero voxel, stored as label 1.
 *
 * @example
 * encodeRle3d({ dims: [4, 2, 1], spacing: [1, 1, 1], data: Uint8Array.of(0, 1, 1, 1, 1, 0, 0, 0) }).runs
 * // Uint32Array [1, 4]  — one run crossing the row end
 */
export function encodeRle3d(mask: Mask3D, label?: number): RleMask3D {
  return { dims: [...mask.dims], spacing: [...mask.spacing], label: label ?? 1, runs: foregroundRuns(mask, label) };
}

/**
 * One run-length mask per non-zero label present in a multi-label mask, by label,
 * from one pass over the voxels (label-runs.ts).
 *
 * @example
 * encodeRle3dLabels(multiLabel).map((m) => m.label) // [1, 2]
 */
export function encodeRle3dLabels(mask: Mask3D): RleMask3D[] {
  assertMask(mask);
  return [...labelRuns(mask.data)].map(([label, runs]) => ({ dims: [...mask.dims], spacing: [...mask.spacing], label, runs }));
}

/**
 * Expands run-length masks (one or one per label, same grid) to a dense label
 * map. Meant for small masks and tests; metrics work on runs directly.
 *
 * @example
 * decodeRle3d(encodeRle3d(mask)).data // equals mask.data for a binary mask
 */
export function decodeRle3d(rle: RleMask3D | RleMask3D[]): Mask3D {
  const all = Array.isArray(rle) ? rle : [rle];
  if (all.length === 0) throw new MaskFormatError('decodeRle3d needs at least one run-length mask');
  const { dims, spacing } = all[0];
  const n = voxelCount(dims);
  const data = new Uint8Array(n);
  for (const m of all) {
    if (m.dims.some((d, i) => d !== dims[i])) throw new MaskFormatError('run-length masks are on different grids');
    assertRuns(m.runs, n);
    for (let k = 0; k < m.runs.length; k += 2) data.fill(m.label, m.runs[k], m.runs[k] + m.runs[k + 1]);
  }
  return { dims: [...dims], spacing: [...spacing], data };
}

/**
 * The `goldline-rle3d/1` JSON document for one or several labels of one grid.
 *
 * @example
 * JSON.stringify(toRle3dDocument(encodeRle3dLabels(mask)))
 */
export function toRle3dDocument(rle: RleMask3D | RleMask3D[]): Rle3dDocument {
  const all = Array.isArray(rle) ? rle : [rle];
  if (all.length === 0) throw new MaskFormatError('a goldline-rle3d/1 document needs at least one label');
  return {
    format: RLE3D_FORMAT,
    dims: [...all[0].dims],
    spacing: [...all[0].spacing],
    labels: all.map((m) => ({ label: m.label, runs: Array.from(m.runs) })),
  };
}

const positiveInt = z.number().int().positive();
const positiveMm = z.number().positive().finite();
const Rle3dSchema = z.object({
  format: z.literal(RLE3D_FORMAT, { error: `format must be "${RLE3D_FORMAT}"` }),
  dims: z.tuple([positiveInt, positiveInt, positiveInt]),
  spacing: z.tuple([positiveMm, positiveMm, positiveMm]),
  // Bounded issues whatever the size: one issue for a runs list holding a non-number
  // (not one per element), and the label count checked before the entries.
  labels: z
    .array(z.unknown())
    .min(1, { error: 'labels must list at least one label (an empty mask is a label with no runs)' })
    .max(255, { error: 'labels must list each label 1..255 at most once (at most 255 entries)' })
    .pipe(
      z.array(
        z.object({
          label: z.number().int().min(1).max(255),
          runs: z.custom<number[]>((v) => Array.isArray(v) && v.every((x) => typeof x === 'number'), {
            error: 'runs must be an array of numbers',
          }),
        }),
      ),
    ),
});

/** At most this many run problems are listed in one error message. */
const MAX_LISTED = 5;

/**
 * Parses and validates a `goldline-rle3d/1` document (a JSON string or the
 * parsed object) into one {@link RleMask3D} per label. Checks (zod for the
 * shape, then one pass over the runs): format tag, positive integer dims and
 * ≤ 2^32 voxels, positive spacing, labels 1..255 listed once, runs as integer
 * start,length pairs with length ≥ 1, sorted, non-overlapping (touching is
 * allowed), inside the grid, and no voxel claimed by two labels. With a
 * `bound`, the dims must be the image's (and the spacing within 1%), or the
 * voxel count at most `bound.maxVoxels`, checked before any run is read.
 *
 * @example
 * parseRle3d('{"format":"goldline-rle3d/1","dims":[4,4,2],"spacing":[1,1,2.5],"labels":[{"label":1,"runs":[5,2,9,2]}]}')
 * // [{ dims: [4, 4, 2], spacing: [1, 1, 2.5], label: 1, runs: Uint32Array [5, 2, 9, 2] }]
 */
export function parseRle3d(input: unknown, bound: MaskBound = {}): RleMask3D[] {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (e) {
      throw new MaskFormatError(`goldline-rle3d/1: not JSON (${(e as Error).message})`);
    }
  }
  const parsed = Rle3dSchema.safeParse(value);
  if (!parsed.success) throw new MaskFormatError(`invalid goldline-rle3d/1 document:\n${z.prettifyError(parsed.error)}`);
  const doc = parsed.data;
  const [nx, ny, nz] = doc.dims;
  const n = nx * ny * nz;
  if (n > 0xffffffff) throw new MaskFormatError(`dims [${doc.dims}] exceed 2^32 voxels`);
  // The grid first: a run list on another grid is refused before it is read.
  checkMaskGrid([nx, ny, nz], doc.spacing, bound);

  const problems: string[] = [];
  const report = (msg: string): void => {
    problems.push(msg);
  };
  const seen = new Set<number>();
  const masks: RleMask3D[] = [];
  doc.labels.forEach((entry, e) => {
    const where = `labels[${e}] (label ${entry.label})`;
    if (seen.has(entry.label)) report(`${where}: label listed twice`);
    seen.add(entry.label);
    const r = entry.runs;
    if (r.length % 2 !== 0) {
      report(`${where}: runs must be start,length pairs (got ${r.length} numbers)`);
      return;
    }
    if (r.length > 2 * n) {
      // Disjoint runs of length ≥ 1 cannot outnumber the voxels: refused before any is read.
      report(`${where}: ${r.length / 2} runs, more than the ${n} voxels of dims [${doc.dims}] can hold`);
      return;
    }
    let end = 0;
    for (let k = 0; k < r.length && problems.length < MAX_LISTED; k += 2) {
      const start = r[k];
      const len = r[k + 1];
      const run = `${where} run ${k / 2} [${start}, ${len}]`;
      if (!Number.isInteger(start) || !Number.isInteger(len) || start < 0) {
        report(`${run}: start and length must be non-negative integers`);
      } else if (len < 1) {
        report(`${run}: length must be ≥ 1`);
      } else if (start < end) {
        report(`${run}: starts before the previous run ends (${end}); runs must be sorted and non-overlapping`);
      } else if (start + len > n) {
        report(`${run}: ends at ${start + len}, beyond the ${n} voxels of dims [${doc.dims}]`);
      } else {
        end = start + len;
      }
    }
    masks.push({ dims: [nx, ny, nz], spacing: [...doc.spacing], label: entry.label, runs: Uint32Array.from(r) });
  });
  if (problems.length === 0 && masks.length > 1) {
    // A voxel has one label: sweep all runs of all labels in start order.
    const all = masks.flatMap((m) => Array.from({ length: m.runs.length / 2 }, (_, k) => [m.runs[2 * k], m.runs[2 * k + 1], m.label]));
    all.sort((a, b) => a[0] - b[0]);
    for (let k = 1; k < all.length && problems.length < MAX_LISTED; k++) {
      const [ps, pl, plabel] = all[k - 1];
      if (all[k][0] < ps + pl) report(`labels ${plabel} and ${all[k][2]} both claim voxel ${all[k][0]}`);
    }
  }
  if (problems.length > 0) {
    throw new MaskFormatError(`invalid goldline-rle3d/1 document:\n- ${problems.slice(0, MAX_LISTED).join('\n- ')}`);
  }
  return masks;
}
