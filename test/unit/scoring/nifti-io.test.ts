/**
 * readNifti's fast paths (nifti-io.ts) against a plain DataView decoder written
 * out here: every label datatype, both byte orders, vox_offset aligned or not
 * for the datatype, odd grids, scaled values, .nii and .nii.gz; and what the
 * fast paths promise: uint8 voxels not copied, data 4-byte aligned.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MaskFormatError, readNifti, writeNifti } from '../../../functions/domain/scoring/mask-io.js';

type Dims = [number, number, number];

const TYPES: Record<number, { bytes: number; get: (v: DataView, o: number, le: boolean) => number; set: (v: DataView, o: number, x: number, le: boolean) => void }> = {
  2: { bytes: 1, get: (v, o) => v.getUint8(o), set: (v, o, x) => v.setUint8(o, x) },
  256: { bytes: 1, get: (v, o) => v.getInt8(o), set: (v, o, x) => v.setInt8(o, x) },
  4: { bytes: 2, get: (v, o, le) => v.getInt16(o, le), set: (v, o, x, le) => v.setInt16(o, x, le) },
  512: { bytes: 2, get: (v, o, le) => v.getUint16(o, le), set: (v, o, x, le) => v.setUint16(o, x, le) },
  8: { bytes: 4, get: (v, o, le) => v.getInt32(o, le), set: (v, o, x, le) => v.setInt32(o, x, le) },
  768: { bytes: 4, get: (v, o, le) => v.getUint32(o, le), set: (v, o, x, le) => v.setUint32(o, x, le) },
  16: { bytes: 4, get: (v, o, le) => v.getFloat32(o, le), set: (v, o, x, le) => v.setFloat32(o, x, le) },
  64: { bytes: 8, get: (v, o, le) => v.getFloat64(o, le), set: (v, o, x, le) => v.setFloat64(o, x, le) },
};

interface Spec {
  dims: Dims;
  datatype: number;
  values: number[];
  voxOffset: number;
  littleEndian: boolean;
  slope?: number;
  inter?: number;
}

/** A NIfTI-1 file field by field, image data at `voxOffset` (zero padding before it). */
function build(spec: Spec): Uint8Array {
  const le = spec.littleEndian;
  const t = TYPES[spec.datatype];
  const out = new Uint8Array(spec.voxOffset + spec.values.length * t.bytes);
  const v = new DataView(out.buffer);
  v.setInt32(0, 348, le);
  for (const [i, d] of [3, ...spec.dims, 1, 1, 1, 1].entries()) v.setInt16(40 + 2 * i, d, le);
  v.setInt16(70, spec.datatype, le);
  v.setInt16(72, 8 * t.bytes, le);
  for (const [i, p] of [1, 0.7, 0.8, 2.5, 1, 1, 1, 1].entries()) v.setFloat32(76 + 4 * i, p, le);
  v.setFloat32(108, spec.voxOffset, le);
  v.setFloat32(112, spec.slope ?? 0, le);
  v.setFloat32(116, spec.inter ?? 0, le);
  out[123] = 2;
  out.set([0x6e, 0x2b, 0x31, 0x00], 344);
  for (const [i, x] of spec.values.entries()) t.set(v, spec.voxOffset + i * t.bytes, x, le);
  return out;
}

/**
 * The labels a file holds, one DataView read per voxel (what readNifti did
 * before its fast paths), or the message naming the first voxel that is no label.
 */
function referenceRead(spec: Spec, file: Uint8Array): number[] | string {
  const t = TYPES[spec.datatype];
  const view = new DataView(file.buffer, file.byteOffset);
  const slope = Math.fround(spec.slope ?? 0);
  const inter = Math.fround(spec.inter ?? 0);
  const scaled = slope !== 0 && !(slope === 1 && inter === 0);
  const [nx, ny] = spec.dims;
  const labels: number[] = [];
  for (let i = 0; i < spec.values.length; i++) {
    let x = t.get(view, spec.voxOffset + i * t.bytes, spec.littleEndian);
    if (scaled) x = x * slope + inter;
    const label = Math.round(x);
    if (!(Math.abs(x - label) <= 1e-4) || label < 0 || label > 255) {
      return `voxel (${i % nx}, ${Math.floor(i / nx) % ny}, ${Math.floor(i / (nx * ny))}) holds ${x}`;
    }
    labels.push(label);
  }
  return labels;
}

/** Scaling (slope, inter) and the stored value for the k-th of 64 labels under it. */
const SCALINGS: { scale?: [number, number]; stored: (k: number) => number }[] = [
  { stored: (k) => k * 2 }, // unscaled: labels 0..126
  { scale: [1, 0], stored: (k) => k * 2 + 1 }, // identity scaling: read as unscaled
  { scale: [2, 1], stored: (k) => k }, // labels 1..127, odd
  { scale: [0.5, 0], stored: (k) => k * 2 }, // labels 0..63
];

const specs = fc
  .record({
    dims: fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 5 })),
    datatype: fc.constantFrom(2, 256, 4, 512, 8, 768, 16, 64),
    voxOffset: fc.integer({ min: 352, max: 367 }),
    littleEndian: fc.boolean(),
    scaling: fc.constantFrom(...SCALINGS),
    seed: fc.nat(),
    bad: fc.option(fc.tuple(fc.nat(), fc.constantFrom(300, -3, 0.5)), { nil: undefined }),
  })
  .map(({ dims, datatype, voxOffset, littleEndian, scaling, seed, bad }): Spec => {
    const n = dims[0] * dims[1] * dims[2];
    const values = Array.from({ length: n }, (_, i) => scaling.stored((seed + i * 37) % 64));
    if (bad) values[bad[0] % n] = bad[1]; // no label, where the datatype can store it
    return { dims, datatype, voxOffset, littleEndian, values, slope: scaling.scale?.[0], inter: scaling.scale?.[1] };
  });

describe('Function: readNifti (fast paths)', () => {
  it('reads every datatype, byte order and vox_offset as the plain decoder does, .nii and .nii.gz', () => {
    fc.assert(
      fc.property(specs, fc.boolean(), (spec, gz) => {
        const file = build(spec);
        const expected = referenceRead(spec, file);
        const read = () => readNifti(gz ? gzipSync(file) : file);
        if (typeof expected === 'string') {
          expect(read).toThrow(MaskFormatError);
          expect(read).toThrow(expected);
          return;
        }
        const mask = read();
        expect(mask.dims).toEqual(spec.dims);
        expect(Array.from(mask.data)).toEqual(expected);
        expect(mask.data.byteOffset % 4).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('names the same first bad voxel as the plain decoder, on a misaligned big-endian int16 file', () => {
    // Arrange: 5×3×1 int16, vox_offset 353 (odd: misaligned for int16), voxel (2, 1, 0) holds 300
    const values = Array.from({ length: 15 }, (_, i) => (i === 7 ? 300 : i === 12 ? -4 : i));
    const file = build({ dims: [5, 3, 1], datatype: 4, values, voxOffset: 353, littleEndian: false });

    // Act / Assert
    expect(() => readNifti(file)).toThrow('voxel (2, 1, 0) holds 300: a label map needs integer labels in 0..255');
  });

  it('returns uint8 voxels of an uncompressed file as a view of its bytes, not a copy', () => {
    const n = 13 * 7 * 3;
    const file = build({ dims: [13, 7, 3], datatype: 2, values: Array.from({ length: n }, (_, i) => i % 5), voxOffset: 352, littleEndian: true });

    const mask = readNifti(file);

    expect(mask.data.buffer).toBe(file.buffer);
    expect(mask.data.byteOffset).toBe(352);
    expect(mask.data.length).toBe(n);
  });

  it('copies uint8 voxels whose vox_offset is not a multiple of 4, so the data is 4-byte aligned', () => {
    const file = build({ dims: [5, 5, 1], datatype: 2, values: Array.from({ length: 25 }, (_, i) => i % 3), voxOffset: 355, littleEndian: true });

    const mask = readNifti(file);

    expect(mask.data.buffer).not.toBe(file.buffer);
    expect(mask.data.byteOffset % 4).toBe(0);
    expect(Array.from(mask.data)).toEqual(Array.from({ length: 25 }, (_, i) => i % 3));
  });

  it('reads a gzipped file into one buffer holding the header and the voxels (no second copy)', () => {
    const data = Uint8Array.from({ length: 31 * 17 * 5 }, (_, i) => (i % 11 === 0 ? 2 : i % 3 === 0 ? 1 : 0));
    const gz = writeNifti({ dims: [31, 17, 5], spacing: [1, 1, 2], data }, { gzip: true });

    const mask = readNifti(gz);

    expect(mask.data).toEqual(data);
    expect(mask.data.byteOffset).toBe(352); // the voxels sit where the inflated file put them
    expect(mask.data.buffer.byteLength).toBeGreaterThanOrEqual(352 + data.length);
  });
});
