/**
 * Reading and writing the mask formats vendors upload (docs/mask-formats.md):
 * - NIfTI-1/2 label maps, `.nii` or `.nii.gz` (nifti-reader-js; voxel order x fastest);
 * - COCO RLE for 2D masks, with pycocotools `maskApi.c` semantics
 *   (column-major, counts start with a run of zeros) and its compressed string form;
 * - `goldline-rle3d/1`: runs over the x-fastest linear index of a 3D grid.
 *
 * Pure: bytes and plain objects in, plain objects out. Every malformed input
 * raises a {@link MaskFormatError} that says what is wrong and where.
 */
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { z } from 'zod';
import { assertMask, assertRuns, foregroundRuns, type Mask3D, type RleMask3D, voxelCount } from './segmentation.js';

/** An upload that is not a valid mask in the format it claims. */
export class MaskFormatError extends Error {
  override name = 'MaskFormatError';
}

// ---------------------------------------------------------------- NIfTI

/** NIfTI datatype codes read as label maps (nifti1.h). */
const NIFTI_TYPES: Record<number, { name: string; bytes: number; read: (v: DataView, o: number, le: boolean) => number }> =
  {
    2: { name: 'uint8', bytes: 1, read: (v, o) => v.getUint8(o) },
    4: { name: 'int16', bytes: 2, read: (v, o, le) => v.getInt16(o, le) },
    8: { name: 'int32', bytes: 4, read: (v, o, le) => v.getInt32(o, le) },
    16: { name: 'float32', bytes: 4, read: (v, o, le) => v.getFloat32(o, le) },
    64: { name: 'float64', bytes: 8, read: (v, o, le) => v.getFloat64(o, le) },
    256: { name: 'int8', bytes: 1, read: (v, o) => v.getInt8(o) },
    512: { name: 'uint16', bytes: 2, read: (v, o, le) => v.getUint16(o, le) },
    768: { name: 'uint32', bytes: 4, read: (v, o, le) => v.getUint32(o, le) },
  };

/** NIfTI `xyzt_units` spatial code → factor to mm (0 = unknown, read as mm). */
const UNIT_TO_MM: Record<number, number> = { 0: 1, 1: 1000, 2: 1, 3: 0.001 };

/** Values this close to an integer are labels stored as floats (e.g. 1.0000001 after resampling). */
const LABEL_TOLERANCE = 1e-4;

function exactArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/**
 * What an uploaded mask may be: the grid of the image it labels (dims exactly;
 * spacing, when known, within 1%) or, where no grid is known, a voxel count.
 * Decoders check it from the header, before they allocate or inflate anything.
 */
export interface MaskBound {
  grid?: { dims: readonly [number, number, number]; spacing?: readonly [number, number, number] };
  /** Without a grid: at most this many voxels (default {@link DEFAULT_MAX_MASK_VOXELS} for NIfTI). */
  maxVoxels?: number;
}

/** Dense masks on an image of unknown grid: at most 2^27 voxels (512×512×512). */
export const DEFAULT_MAX_MASK_VOXELS = 2 ** 27;
/** Image data of one NIfTI upload: at most 256 MiB decompressed, whatever the grid. */
export const MAX_NIFTI_DATA_BYTES = 256 * 1024 * 1024;
/** Header plus extensions: `vox_offset` at most 1 MiB. */
export const MAX_NIFTI_HEADER_BYTES = 1024 * 1024;
/** Bytes a NIfTI may carry after its image data (padding some writers add). */
export const NIFTI_TRAILING_ALLOWANCE = 64 * 1024;
/** Relative spacing difference tolerated between a mask and its image (float32 headers, rounding). */
const SPACING_TOLERANCE = 0.01;

const gridText = (dims: readonly number[]): string => `[${dims.join('×')}]`;

/**
 * Checks a mask's declared grid against the bound; throws a {@link MaskFormatError}
 * naming both grids. Called on the header, before any voxel is read.
 */
export function checkMaskGrid(
  dims: readonly [number, number, number],
  spacing: readonly [number, number, number] | undefined,
  bound: MaskBound,
): void {
  const n = dims[0] * dims[1] * dims[2];
  const grid = bound.grid;
  if (grid) {
    if (dims.some((d, k) => d !== grid.dims[k])) {
      throw new MaskFormatError(`mask grid ${gridText(dims)} differs from the image grid ${gridText(grid.dims)}`);
    }
    const want = grid.spacing;
    if (want && spacing?.some((s, k) => !(Math.abs(s - want[k]) <= SPACING_TOLERANCE * want[k]))) {
      throw new MaskFormatError(`mask spacing [${spacing.join(', ')}] mm differs from the image spacing [${want.join(', ')}] mm`);
    }
    return;
  }
  if (bound.maxVoxels !== undefined && !(n <= bound.maxVoxels)) {
    throw new MaskFormatError(`mask grid ${gridText(dims)} has ${n} voxels, more than the ${bound.maxVoxels} allowed`);
  }
}

const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * The first bytes of a gzip stream, inflated from at most 4 KiB of input (so at
 * most ~4 MiB of output, whatever the stream holds): enough for a NIfTI header.
 */
function gunzipHead(bytes: Uint8Array): Uint8Array {
  let head: Uint8Array;
  try {
    head = gunzipSync(bytes.subarray(0, 4096), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: 8 * 1024 * 1024 });
  } catch (e) {
    throw new MaskFormatError(`gzip data could not be decompressed: ${(e as Error).message}`);
  }
  if (head.length === 0) throw new MaskFormatError('gzip data could not be decompressed: the stream yields no data');
  return head;
}

/** Inflates a whole gzip stream, refusing while inflating once it passes `cap` bytes. */
function gunzipCapped(bytes: Uint8Array, cap: number, what: string): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: cap });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new MaskFormatError(`gzip data decompresses to more than ${cap} bytes, the most ${what} can hold: refused while inflating`);
    }
    throw new MaskFormatError(`gzip data could not be decompressed: ${(e as Error).message}`);
  }
}

/** Reads the header fields Goldline uses, from the header bytes only (extensions are skipped). */
function readNiftiHeader(head: Uint8Array): nifti.NIFTI1 | nifti.NIFTI2 {
  if (head.length < 348) throw new MaskFormatError(`not a NIfTI file: ${head.length} bytes, a NIfTI-1 header alone has 348`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const size = [view.getInt32(0, true), view.getInt32(0, false)];
  const headerBytes = size.includes(540) ? 540 : 348;
  if (head.length < headerBytes) throw new MaskFormatError(`NIfTI-2 header truncated: ${head.length} of 540 bytes`);
  const buffer = exactArrayBuffer(head.subarray(0, headerBytes));
  if (!nifti.isNIFTI(buffer)) {
    if (nifti.isNIFTI(buffer, true)) {
      throw new MaskFormatError('NIfTI .hdr/.img pairs are not supported: upload a single .nii or .nii.gz file');
    }
    throw new MaskFormatError('not a NIfTI file (no "n+1"/"n+2" magic at the header end)');
  }
  try {
    return nifti.readHeader(buffer);
  } catch (e) {
    throw new MaskFormatError(`NIfTI header cannot be read: ${(e as Error).message}`);
  }
}

interface NiftiLayout {
  header: nifti.NIFTI1 | nifti.NIFTI2;
  dims: [number, number, number];
  spacing: [number, number, number];
  type: (typeof NIFTI_TYPES)[number];
}

/** The grid and datatype a NIfTI header declares, read from the header bytes alone. */
function readNiftiLayout(head: Uint8Array): NiftiLayout {
  if (isGzip(head)) throw new MaskFormatError('gzip inside gzip: upload the NIfTI gzipped once');
  const header = readNiftiHeader(head);
  const ndim = header.dims[0];
  if (!(ndim >= 2 && ndim <= 7)) throw new MaskFormatError(`NIfTI dim[0] must be 2..7, got ${ndim}`);
  const extra = header.dims.slice(4, ndim + 1).filter((d) => d > 1);
  if (ndim >= 4 && extra.length > 0) {
    throw new MaskFormatError(
      `${ndim}D NIfTI (dims [${header.dims.slice(1, ndim + 1)}]) is not a mask: expected 2D or 3D`,
    );
  }
  const nx = header.dims[1];
  const ny = header.dims[2];
  const nz = ndim >= 3 ? header.dims[3] : 1;
  if (![nx, ny, nz].every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw new MaskFormatError(`NIfTI dims [${nx}, ${ny}, ${nz}] must be positive integers`);
  }
  const type = NIFTI_TYPES[header.datatypeCode];
  if (!type) {
    throw new MaskFormatError(
      `NIfTI datatype ${header.datatypeCode} is not a supported label type (${Object.values(NIFTI_TYPES)
        .map((t) => t.name)
        .join(', ')})`,
    );
  }
  const unit = UNIT_TO_MM[header.xyzt_units & 0x07] ?? 1;
  const spacing: [number, number, number] = [1, 2, 3].map((i) => {
    const v = Math.abs(header.pixDims[i]) * unit;
    if (i === 3 && nz === 1 && !(v > 0)) return 1; // 2D image: slice thickness irrelevant
    if (!(v > 0) || !Number.isFinite(v)) {
      throw new MaskFormatError(`NIfTI pixdim[${i}] is ${header.pixDims[i]}: voxel spacing unknown`);
    }
    return v;
  }) as [number, number, number];
  return { header, dims: [nx, ny, nz], spacing, type };
}

/**
 * The voxel grid a NIfTI file (`.nii` or `.nii.gz`) declares, from its first
 * bytes (4 KiB are plenty): its header only, no image data is read.
 *
 * @example readNiftiGrid(await getHead(imageKey, 4096)) // { dims: [512, 512, 256], spacing: [0.7, 0.7, 2.5] }
 */
export function readNiftiGrid(head: Uint8Array): { dims: [number, number, number]; spacing: [number, number, number] } {
  const { dims, spacing } = readNiftiLayout(isGzip(head) ? gunzipHead(head) : head);
  return { dims, spacing };
}

/**
 * Reads a NIfTI-1 or NIfTI-2 label map (`.nii`, or `.nii.gz` — gunzipped with
 * Node's zlib) into a {@link Mask3D}. Voxel order is kept as stored (x
 * fastest, as the NIfTI standard and nifti-reader-js define it); the affine is
 * not applied, so compared masks must share one grid. Spacing comes from
 * `pixdim[1..3]`, converted to mm with `xyzt_units`. Datatypes uint8, int8,
 * int16, uint16, int32, uint32, float32, float64; `scl_slope`/`scl_inter` are
 * applied when the slope is non-zero. Values must be integers in 0..255 (floats
 * within 1e-4 of one are rounded).
 *
 * Bounded: the header is read first (from at most 4 KiB of gzip input); its grid
 * must match `bound.grid` (or hold at most `bound.maxVoxels`, default
 * {@link DEFAULT_MAX_MASK_VOXELS}) before anything is allocated, and the gzip
 * stream is then inflated with an output cap of exactly what that header needs
 * (`vox_offset` + voxels × bytes per voxel + {@link NIFTI_TRAILING_ALLOWANCE}),
 * enforced while inflating: a decompression bomb is refused, never inflated.
 *
 * Errors: not NIfTI, .hdr/.img pairs, 4D or more (a non-singleton 4th+ dim),
 * unsupported datatype, truncated data, unknown spacing, non-label values, a
 * grid other than the image's, more data than the header declares.
 *
 * @example
 * const mask = readNifti(new Uint8Array(await readFile('case01_seg.nii.gz')), { grid: { dims: [512, 512, 256] } });
 * mask.dims // [512, 512, 256]; mask.spacing // [0.7, 0.7, 2.5]
 */
export function readNifti(bytes: Uint8Array, bound: MaskBound = {}): Mask3D {
  const gz = isGzip(bytes);
  const { header, dims, spacing, type } = readNiftiLayout(gz ? gunzipHead(bytes) : bytes);
  const [nx, ny, nz] = dims;
  checkMaskGrid([nx, ny, nz], spacing, { maxVoxels: DEFAULT_MAX_MASK_VOXELS, ...bound });
  const n = nx * ny * nz;
  const dataBytes = n * type.bytes;
  if (dataBytes > MAX_NIFTI_DATA_BYTES) {
    throw new MaskFormatError(
      `NIfTI image data of ${dataBytes} B (${gridText([nx, ny, nz])} ${type.name}) exceeds ${MAX_NIFTI_DATA_BYTES} B: store labels as uint8`,
    );
  }
  const offset = Math.floor(header.vox_offset);
  const headerBytes = header instanceof nifti.NIFTI2 ? 540 : 348;
  if (!(offset >= headerBytes && offset <= MAX_NIFTI_HEADER_BYTES)) {
    throw new MaskFormatError(`NIfTI vox_offset ${header.vox_offset} must lie in ${headerBytes}..${MAX_NIFTI_HEADER_BYTES}`);
  }
  const need = offset + dataBytes;
  const cap = need + NIFTI_TRAILING_ALLOWANCE;
  const what = `a ${gridText([nx, ny, nz])} ${type.name} NIfTI`;
  const raw = gz ? gunzipCapped(bytes, cap, what) : bytes;
  if (need > raw.byteLength) {
    throw new MaskFormatError(
      `NIfTI image data truncated: ${n} voxels × ${type.bytes} B from offset ${offset} need ${need} B, file has ${raw.byteLength}`,
    );
  }
  if (raw.byteLength > cap) {
    throw new MaskFormatError(`NIfTI file has ${raw.byteLength} B, more than the ${cap} B ${what} can hold`);
  }

  const data = new Uint8Array(n);
  const slope = header.scl_slope;
  const scaled = slope !== 0 && Number.isFinite(slope) && !(slope === 1 && header.scl_inter === 0);
  if (type.bytes === 1 && type.name === 'uint8' && !scaled) {
    data.set(raw.subarray(offset, offset + n));
  } else {
    const view = new DataView(raw.buffer, raw.byteOffset + offset, dataBytes);
    const le = header.littleEndian;
    const inter = Number.isFinite(header.scl_inter) ? header.scl_inter : 0;
    for (let i = 0; i < n; i++) {
      let v = type.read(view, i * type.bytes, le);
      if (scaled) v = v * slope + inter;
      const label = Math.round(v);
      if (!(Math.abs(v - label) <= LABEL_TOLERANCE) || label < 0 || label > 255) {
        const [x, y, z] = [i % nx, Math.floor(i / nx) % ny, Math.floor(i / (nx * ny))];
        throw new MaskFormatError(
          `voxel (${x}, ${y}, ${z}) holds ${v}: a label map needs integer labels in 0..255`,
        );
      }
      data[i] = label;
    }
  }
  return { dims: [nx, ny, nz], spacing, data };
}

/**
 * Writes a mask as a single-file NIfTI-1 (`n+1`, uint8, `xyzt_units` mm,
 * identity qform), optionally gzipped. Made for tests and fixtures; it reads
 * back with {@link readNifti}, nibabel and ITK.
 *
 * @example
 * await writeFile('seg.nii.gz', writeNifti(mask, { gzip: true }));
 */
export function writeNifti(mask: Mask3D, options: { gzip?: boolean } = {}): Uint8Array {
  assertMask(mask);
  const [nx, ny, nz] = mask.dims;
  if (Math.max(nx, ny, nz) > 32767) throw new MaskFormatError('NIfTI-1 dims are int16: at most 32767 per axis');
  const voxOffset = 352; // 348-byte header + 4-byte extension flag
  const out = new Uint8Array(voxOffset + mask.data.length);
  const v = new DataView(out.buffer);
  v.setInt32(0, 348, true); // sizeof_hdr
  out[38] = 'r'.charCodeAt(0); // regular
  const dim = [3, nx, ny, nz, 1, 1, 1, 1];
  for (const [i, d] of dim.entries()) v.setInt16(40 + 2 * i, d, true);
  v.setInt16(70, 2, true); // datatype DT_UINT8
  v.setInt16(72, 8, true); // bitpix
  const pixdim = [1, ...mask.spacing, 0, 0, 0, 0]; // pixdim[0] = qfac
  for (const [i, p] of pixdim.entries()) v.setFloat32(76 + 4 * i, p, true);
  v.setFloat32(108, voxOffset, true);
  v.setFloat32(112, 1, true); // scl_slope
  out[123] = 2; // xyzt_units: NIFTI_UNITS_MM
  v.setInt16(252, 1, true); // qform_code: scanner anatomical, identity rotation
  out.set([0x6e, 0x2b, 0x31, 0x00], 344); // magic "n+1\0"
  out.set(mask.data, voxOffset);
  return options.gzip ? new Uint8Array(gzipSync(out)) : out;
}

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
 * One run-length mask per non-zero label present in a multi-label mask, by label.
 *
 * @example
 * encodeRle3dLabels(multiLabel).map((m) => m.label) // [1, 2]
 */
export function encodeRle3dLabels(mask: Mask3D): RleMask3D[] {
  assertMask(mask);
  const present = new Uint8Array(256);
  for (let i = 0; i < mask.data.length; i++) present[mask.data[i]] = 1;
  const out: RleMask3D[] = [];
  for (let l = 1; l < 256; l++) if (present[l]) out.push(encodeRle3d(mask, l));
  return out;
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
