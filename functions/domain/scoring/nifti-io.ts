/**
 * NIfTI-1/2 label maps, `.nii` or `.nii.gz` (nifti-reader-js for the header;
 * voxel order x fastest), as vendors upload them (docs/mask-formats.md).
 *
 * Pure: bytes in, a {@link Mask3D} out. Every malformed input raises a
 * {@link MaskFormatError} that says what is wrong and where. The image data is
 * touched once: a gzip stream is inflated straight into one buffer sized from
 * the header, and uint8 voxels are returned as a view of it (docs/scale.md,
 * "Input speed").
 */
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { checkMaskGrid, DEFAULT_MAX_MASK_VOXELS, gridText, type MaskBound, MaskFormatError } from './mask-bound.js';
import { assertMask, type Mask3D } from './segmentation.js';

/** A typed-array constructor for one NIfTI datatype, viewing `length` values at `byteOffset`. */
type ValueArray = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayLike<number>;

interface NiftiType {
  name: string;
  bytes: number;
  array: ValueArray;
  /** Integer datatype: values are labels as stored, no rounding. */
  integer: boolean;
}

/** NIfTI datatype codes read as label maps (nifti1.h). */
const NIFTI_TYPES: Record<number, NiftiType> = {
  2: { name: 'uint8', bytes: 1, array: Uint8Array, integer: true },
  4: { name: 'int16', bytes: 2, array: Int16Array, integer: true },
  8: { name: 'int32', bytes: 4, array: Int32Array, integer: true },
  16: { name: 'float32', bytes: 4, array: Float32Array, integer: false },
  64: { name: 'float64', bytes: 8, array: Float64Array, integer: false },
  256: { name: 'int8', bytes: 1, array: Int8Array, integer: true },
  512: { name: 'uint16', bytes: 2, array: Uint16Array, integer: true },
  768: { name: 'uint32', bytes: 4, array: Uint32Array, integer: true },
};

/** NIfTI `xyzt_units` spatial code → factor to mm (0 = unknown, read as mm). */
const UNIT_TO_MM: Record<number, number> = { 0: 1, 1: 1000, 2: 1, 3: 0.001 };

/** Values this close to an integer are labels stored as floats (e.g. 1.0000001 after resampling). */
const LABEL_TOLERANCE = 1e-4;

/** Image data of one NIfTI upload: at most 256 MiB decompressed, whatever the grid. */
export const MAX_NIFTI_DATA_BYTES = 256 * 1024 * 1024;
/** Header plus extensions: `vox_offset` at most 1 MiB. */
export const MAX_NIFTI_HEADER_BYTES = 1024 * 1024;
/** Bytes a NIfTI may carry after its image data (padding some writers add). */
export const NIFTI_TRAILING_ALLOWANCE = 64 * 1024;

/** Byte order of this machine: typed arrays read in it. */
const PLATFORM_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function exactArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
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

/**
 * Inflates a whole gzip stream into one buffer of `cap + 1` bytes (zlib's output
 * chunk: no chunk list to concatenate, no copy), refusing while inflating once
 * the output passes `cap` bytes. The buffer is allocated untouched (its pages
 * are only backed as zlib writes them); `cap` comes from a header already checked
 * against the bound.
 */
function gunzipCapped(bytes: Uint8Array, cap: number, what: string): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: cap, chunkSize: cap + 1 });
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
  type: NiftiType;
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

/** Reverses the byte order of each `width`-byte value of `bytes`, in place. */
function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i + width <= bytes.length; i += width) {
    for (let lo = i, hi = i + width - 1; lo < hi; lo++, hi--) {
      const t = bytes[lo];
      bytes[lo] = bytes[hi];
      bytes[hi] = t;
    }
  }
}

/**
 * The `n` stored values as a typed array of their datatype: a view of `data`
 * when it is aligned for the datatype and in this machine's byte order, else
 * an aligned copy (byte-swapped when the file's order differs).
 */
function storedValues(data: Uint8Array, n: number, type: NiftiType, littleEndian: boolean): ArrayLike<number> {
  const swap = type.bytes > 1 && littleEndian !== PLATFORM_LITTLE_ENDIAN;
  let bytes = data;
  if (swap || data.byteOffset % type.bytes !== 0) {
    bytes = new Uint8Array(data); // a copy (a Buffer's slice() would be a view)
    if (swap) swapBytes(bytes, type.bytes);
  }
  return new type.array(bytes.buffer, bytes.byteOffset, n);
}

function labelError(i: number, v: number, nx: number, ny: number): MaskFormatError {
  const [x, y, z] = [i % nx, Math.floor(i / nx) % ny, Math.floor(i / (nx * ny))];
  return new MaskFormatError(`voxel (${x}, ${y}, ${z}) holds ${v}: a label map needs integer labels in 0..255`);
}

/**
 * Stored values → labels 0..255: integers as they are; floats, or any value
 * after `scl_slope`/`scl_inter`, rounded when within {@link LABEL_TOLERANCE} of
 * an integer. The first voxel that is no label is named.
 */
function toLabels(values: ArrayLike<number>, n: number, nx: number, ny: number, exactIntegers: boolean, slope: number, inter: number): Uint8Array {
  const data = new Uint8Array(n);
  if (exactIntegers) {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v < 0 || v > 255) throw labelError(i, v, nx, ny);
      data[i] = v;
    }
    return data;
  }
  for (let i = 0; i < n; i++) {
    const v = values[i] * slope + inter;
    const label = Math.round(v);
    if (!(Math.abs(v - label) <= LABEL_TOLERANCE) || label < 0 || label > 255) throw labelError(i, v, nx, ny);
    data[i] = label;
  }
  return data;
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
 * Fast: uint8 voxels (unscaled) are not copied — the mask's `data` is a view of
 * the inflated buffer, or of `bytes` itself for an uncompressed file (copy it
 * before changing either), unless `vox_offset` is not a multiple of 4, where a
 * copy keeps the data 4-byte aligned for the word-wise metrics. Other datatypes
 * are read through a typed array (a copy only when misaligned or byte-swapped).
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

  // A plain Uint8Array over the voxels (raw may be a Buffer).
  const stored = new Uint8Array(raw.buffer, raw.byteOffset + offset, dataBytes);
  const slope = header.scl_slope;
  const scaled = slope !== 0 && Number.isFinite(slope) && !(slope === 1 && header.scl_inter === 0);
  if (type.name === 'uint8' && !scaled) {
    return { dims: [nx, ny, nz], spacing, data: stored.byteOffset % 4 === 0 ? stored : new Uint8Array(stored) };
  }
  const values = storedValues(stored, n, type, header.littleEndian);
  const inter = scaled && Number.isFinite(header.scl_inter) ? header.scl_inter : 0;
  const data = toLabels(values, n, nx, ny, type.integer && !scaled, scaled ? slope : 1, inter);
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
