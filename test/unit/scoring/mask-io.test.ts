import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  type CocoRle,
  cocoRleFromString,
  cocoRleToString,
  decodeCocoRle,
  decodeRle3d,
  encodeCocoRle,
  encodeRle3d,
  encodeRle3dLabels,
  MaskFormatError,
  mask2dToMask3D,
  NIFTI_TRAILING_ALLOWANCE,
  parseRle3d,
  readNifti,
  readNiftiGrid,
  toRle3dDocument,
  writeNifti,
} from '../../../functions/domain/scoring/mask-io.js';
import type { Mask3D } from '../../../functions/domain/scoring/segmentation.js';

/** A mask whose voxel (x, y, z) holds x + 3y + 7z (mod 256): any axis mix-up shows. */
function ramp(dims: [number, number, number], spacing: [number, number, number] = [0.7, 0.8, 2.5]): Mask3D {
  const [nx, ny, nz] = dims;
  const data = new Uint8Array(nx * ny * nz);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) data[x + nx * (y + ny * z)] = (x + 3 * y + 7 * z) % 256;
  return { dims, spacing, data };
}

interface NiftiSpec {
  dim: number[]; // dim[0..7]
  datatype: number;
  bitpix: number;
  values: number[];
  pixdim?: number[];
  units?: number;
  slope?: number;
  inter?: number;
  littleEndian?: boolean;
}

/** A NIfTI-1 single file written field by field (nifti1.h offsets), in either byte order. */
function buildNifti(spec: NiftiSpec): Uint8Array {
  const le = spec.littleEndian ?? true;
  const bytes = spec.bitpix / 8;
  const out = new Uint8Array(352 + spec.values.length * bytes);
  const v = new DataView(out.buffer);
  v.setInt32(0, 348, le);
  for (const [i, d] of spec.dim.entries()) v.setInt16(40 + 2 * i, d, le);
  v.setInt16(70, spec.datatype, le);
  v.setInt16(72, spec.bitpix, le);
  for (const [i, p] of (spec.pixdim ?? [1, 1, 1, 1, 1, 1, 1, 1]).entries()) v.setFloat32(76 + 4 * i, p, le);
  v.setFloat32(108, 352, le);
  v.setFloat32(112, spec.slope ?? 0, le);
  v.setFloat32(116, spec.inter ?? 0, le);
  out[123] = spec.units ?? 2;
  out.set([0x6e, 0x2b, 0x31, 0x00], 344);
  const write: Record<number, (o: number, x: number) => void> = {
    2: (o, x) => v.setUint8(o, x),
    4: (o, x) => v.setInt16(o, x, le),
    8: (o, x) => v.setInt32(o, x, le),
    16: (o, x) => v.setFloat32(o, x, le),
    512: (o, x) => v.setUint16(o, x, le),
  };
  const put = write[spec.datatype] ?? write[2]; // unsupported types: any bytes will do
  for (const [i, x] of spec.values.entries()) put(352 + i * bytes, x);
  return out;
}

describe('Function: readNifti / writeNifti', () => {
  it('round-trips a mask through .nii with x-fastest order, dims and spacing', () => {
    // Arrange
    const mask = ramp([5, 4, 3]);

    // Act
    const back = readNifti(writeNifti(mask));

    // Assert
    expect(back.dims).toEqual([5, 4, 3]);
    expect(back.spacing[0]).toBeCloseTo(0.7, 6);
    expect(back.spacing[1]).toBeCloseTo(0.8, 6);
    expect(back.spacing[2]).toBeCloseTo(2.5, 6);
    expect(back.data).toEqual(mask.data);
    expect(back.data[4 + 5 * (1 + 4 * 2)]).toBe(4 + 3 + 14); // voxel (4, 1, 2)
  });

  it('reads .nii.gz (gzip detected by its magic bytes)', () => {
    const mask = ramp([6, 5, 4]);
    const int16 = buildNifti({ dim: [3, 2, 2, 1, 1, 1, 1, 1], datatype: 4, bitpix: 16, values: [0, 3, 2, 1] });

    expect(readNifti(writeNifti(mask, { gzip: true })).data).toEqual(mask.data);
    expect(Array.from(readNifti(gzipSync(int16)).data)).toEqual([0, 3, 2, 1]);
  });

  it.each([
    ['int16', 4, 16],
    ['uint16', 512, 16],
    ['int32', 8, 32],
    ['float32', 16, 32],
  ])('reads %s label maps as integer labels', (_name, datatype, bitpix) => {
    const values = [0, 1, 2, 3, 0, 255, 7, 1];

    const m = readNifti(buildNifti({ dim: [3, 2, 2, 2, 1, 1, 1, 1], datatype, bitpix, values }));

    expect(Array.from(m.data)).toEqual(values);
  });

  it('reads big-endian files', () => {
    const values = [0, 1, 2, 300 - 298, 0, 1];

    const m = readNifti(buildNifti({ dim: [3, 3, 2, 1, 1, 1, 1, 1], datatype: 4, bitpix: 16, values, littleEndian: false }));

    expect(Array.from(m.data)).toEqual(values);
  });

  it('applies scl_slope / scl_inter, and takes floats within 1e-4 of an integer as labels', () => {
    const scaled = readNifti(
      buildNifti({ dim: [3, 2, 1, 1, 1, 1, 1, 1], datatype: 16, bitpix: 32, values: [0, 0.5], slope: 2, inter: 1 }),
    );
    const noisy = readNifti(buildNifti({ dim: [3, 2, 1, 1, 1, 1, 1, 1], datatype: 16, bitpix: 32, values: [0.99999, 2.00001] }));

    expect(Array.from(scaled.data)).toEqual([1, 2]);
    expect(Array.from(noisy.data)).toEqual([1, 2]);
  });

  it('converts spacing to mm from xyzt_units (metres, microns)', () => {
    const pixdim = [1, 0.0007, 0.0008, 0.0025, 1, 1, 1, 1];
    const metres = readNifti(buildNifti({ dim: [3, 1, 1, 1, 1, 1, 1, 1], datatype: 2, bitpix: 8, values: [1], pixdim, units: 1 }));

    expect(metres.spacing[0]).toBeCloseTo(0.7, 5);
    expect(metres.spacing[2]).toBeCloseTo(2.5, 5);
  });

  it('reads a 2D image as nz = 1 with unit slice spacing when pixdim[3] is 0', () => {
    const m = readNifti(
      buildNifti({ dim: [2, 3, 2, 0, 0, 0, 0, 0], datatype: 2, bitpix: 8, values: [1, 0, 1, 0, 1, 0], pixdim: [1, 0.5, 0.5, 0, 0, 0, 0, 0] }),
    );

    expect(m.dims).toEqual([3, 2, 1]);
    expect(m.spacing).toEqual([0.5, 0.5, 1]);
  });

  it('accepts a 4D header whose 4th dimension is 1', () => {
    const m = readNifti(buildNifti({ dim: [4, 2, 1, 1, 1, 1, 1, 1], datatype: 2, bitpix: 8, values: [0, 1] }));

    expect(m.dims).toEqual([2, 1, 1]);
  });

  it.each([
    ['bytes that are not NIfTI', new Uint8Array(400), /not a NIfTI file/],
    ['a broken gzip stream', Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3), /gzip data could not be decompressed/],
    ['a 4D series', buildNifti({ dim: [4, 2, 1, 1, 3, 1, 1, 1], datatype: 2, bitpix: 8, values: [0, 1, 0, 1, 0, 1] }), /4D NIfTI .* is not a mask/],
    ['non-integer values', buildNifti({ dim: [3, 2, 1, 1, 1, 1, 1, 1], datatype: 16, bitpix: 32, values: [0, 0.5] }), /voxel \(1, 0, 0\) holds 0\.5/],
    ['labels above 255', buildNifti({ dim: [3, 2, 1, 1, 1, 1, 1, 1], datatype: 4, bitpix: 16, values: [0, 256] }), /integer labels in 0\.\.255/],
    ['negative labels', buildNifti({ dim: [3, 2, 1, 1, 1, 1, 1, 1], datatype: 4, bitpix: 16, values: [0, -1] }), /integer labels in 0\.\.255/],
    ['an unsupported datatype (complex64)', buildNifti({ dim: [3, 1, 1, 1, 1, 1, 1, 1], datatype: 32, bitpix: 8, values: [0] }), /datatype 32 is not a supported label type/],
    ['truncated image data', buildNifti({ dim: [3, 4, 4, 4, 1, 1, 1, 1], datatype: 2, bitpix: 8, values: [1, 2] }), /truncated/],
    ['unknown spacing', buildNifti({ dim: [3, 1, 1, 2, 1, 1, 1, 1], datatype: 2, bitpix: 8, values: [0, 1], pixdim: [1, 1, 0, 1, 1, 1, 1, 1] }), /pixdim\[2\] is 0/],
  ])('rejects %s with a MaskFormatError', (_what, bytes, message) => {
    expect(() => readNifti(bytes)).toThrow(MaskFormatError);
    expect(() => readNifti(bytes)).toThrow(message);
  });

  describe('bounds', () => {
    const grid = { dims: [48, 48, 24] as [number, number, number], spacing: [1, 1, 2] as [number, number, number] };
    const small = (): Mask3D => ({ dims: [48, 48, 24], spacing: [1, 1, 2], data: new Uint8Array(48 * 48 * 24).fill(1, 0, 500) });
    /** 1 GiB of zeros as 1,024 gzip members of 1 MiB each (about 1 MB): what the probe uploaded. */
    const gigabyteOfGzippedZeros = (): Buffer => {
      const member = gzipSync(new Uint8Array(1024 * 1024), { level: 9 });
      return Buffer.concat(Array.from({ length: 1024 }, () => member));
    };

    // Issue 7 finding 1: a 1.4 MB line (valid 48×48×24 NIfTI + 1 GiB of gzipped zeros) was inflated whole (RSS 3.2 GB) and accepted.
    it('refuses a gzip bomb (a valid NIfTI followed by 1 GiB of zeros) while inflating, past the cap its header allows', () => {
      // Arrange: the valid NIfTI's own gzip stream, then the zeros as further gzip members
      const bomb = Buffer.concat([writeNifti(small(), { gzip: true }), gigabyteOfGzippedZeros()]);
      expect(bomb.length).toBeLessThan(2 * 1024 * 1024);

      // Act / Assert
      const cap = 352 + 48 * 48 * 24 + NIFTI_TRAILING_ALLOWANCE;
      expect(() => readNifti(bomb, { grid })).toThrow(MaskFormatError);
      expect(() => readNifti(bomb, { grid })).toThrow(`gzip data decompresses to more than ${cap} bytes`);
      expect(() => readNifti(bomb)).toThrow(/refused while inflating/);
    });

    it('refuses uncompressed data beyond what the header declares', () => {
      const nii = writeNifti(small());
      const padded = Buffer.concat([nii, new Uint8Array(NIFTI_TRAILING_ALLOWANCE + 1)]);

      expect(readNifti(Buffer.concat([nii, new Uint8Array(16)]), { grid }).dims).toEqual([48, 48, 24]);
      expect(() => readNifti(padded, { grid })).toThrow(/more than the \d+ B a \[48×48×24\] uint8 NIfTI can hold/);
    });

    // Issue 7 finding 1: a 1.41 MB gzipped NIfTI declaring 1024³ voxels took RSS to 4.2 GB before it was refused.
    it('refuses a NIfTI whose header declares more voxels than the grid, before inflating its data', () => {
      // Arrange: a header for 1024³ uint8 voxels, then 1 GiB of gzipped zeros as its "data"
      const header = buildNifti({ dim: [3, 1024, 1024, 1024, 1, 1, 1, 1], datatype: 2, bitpix: 8, values: [] });
      const bomb = Buffer.concat([gzipSync(header), gigabyteOfGzippedZeros()]);

      // Act / Assert: the grid mismatch is named; without a grid the default voxel cap refuses it
      expect(() => readNifti(bomb, { grid })).toThrow('mask grid [1024×1024×1024] differs from the image grid [48×48×24]');
      expect(() => readNifti(bomb)).toThrow(/has 1073741824 voxels, more than the 134217728 allowed/);
    });

    it('refuses a mask whose spacing differs from the image spacing by more than 1%', () => {
      const mask = { ...small(), spacing: [1, 1, 2.5] as [number, number, number] };

      expect(() => readNifti(writeNifti(mask), { grid })).toThrow('mask spacing [1, 1, 2.5] mm differs from the image spacing [1, 1, 2] mm');
      expect(readNifti(writeNifti(small()), { grid: { dims: grid.dims } }).dims).toEqual([48, 48, 24]);
    });

    it('refuses gzip inside gzip instead of inflating twice', () => {
      const twice = gzipSync(writeNifti(small(), { gzip: true }));

      expect(() => readNifti(twice, { grid })).toThrow('gzip inside gzip: upload the NIfTI gzipped once');
    });
  });

  it('reads the grid from the header alone (readNiftiGrid), gzipped or not', () => {
    const nii = writeNifti(ramp([64, 32, 16], [0.5, 0.5, 3]), { gzip: true });

    const g = readNiftiGrid(nii.subarray(0, 4096));

    expect(g.dims).toEqual([64, 32, 16]);
    expect(g.spacing).toEqual([0.5, 0.5, 3]);
  });

  it('rejects .hdr/.img pairs with a hint to upload a single file', () => {
    const bytes = buildNifti({ dim: [3, 1, 1, 1, 1, 1, 1, 1], datatype: 2, bitpix: 8, values: [1] });
    bytes.set([0x6e, 0x69, 0x31, 0x00], 344); // "ni1"

    expect(() => readNifti(bytes)).toThrow(/\.hdr\/\.img pairs are not supported/);
  });
});

describe('Function: encodeCocoRle / decodeCocoRle', () => {
  it('walks the mask column by column (pycocotools is column-major)', () => {
    // Arrange: 2×3 (height 2, width 3), row-major data:
    //   row 0: 0 1 1
    //   row 1: 0 0 1
    // column-major: [0,0 | 1,0 | 1,1] → counts 2 zeros, 1 one, 1 zero, 2 ones
    const mask = { height: 2, width: 3, data: Uint8Array.of(0, 1, 1, 0, 0, 1) };

    // Act
    const rle = encodeCocoRle(mask);

    // Assert
    expect(rle).toEqual({ size: [2, 3], counts: [2, 1, 1, 2] });
    expect(decodeCocoRle(rle)).toEqual(mask);
  });

  it('starts with an empty zeros run when the first pixel is set', () => {
    expect(encodeCocoRle({ height: 1, width: 3, data: Uint8Array.of(1, 1, 0) }).counts).toEqual([0, 2, 1]);
  });

  it('encodes an empty mask as one zeros run', () => {
    expect(encodeCocoRle({ height: 3, width: 4, data: new Uint8Array(12) }).counts).toEqual([12]);
  });

  it('rejects counts that do not cover the image', () => {
    expect(() => decodeCocoRle({ size: [2, 2], counts: [1, 2] })).toThrow(/sum to 3, 2×2 needs 4/);
    expect(() => decodeCocoRle({ size: [2, 2], counts: [1, -1, 4] })).toThrow(MaskFormatError);
  });

  it('gives a one-slice Mask3D for the overlap metrics', () => {
    const m = mask2dToMask3D({ height: 2, width: 3, data: new Uint8Array(6) }, [0.5, 0.6]);

    expect(m.dims).toEqual([3, 2, 1]);
    expect(m.spacing).toEqual([0.5, 0.6, 1]);
  });
});

describe('Function: cocoRleToString / cocoRleFromString', () => {
  it('compresses counts as maskApi.c rleToString: 5 bits a character, deltas from the 4th count', () => {
    // Arrange (worked by hand from maskApi.c): 0→'0', 5→'5', 10→':',
    // 100−5=95 → 31|0x20 then 2 → 'o','2'; 3−10=−7 → low bits 25, sign stop → 'I'
    const rle: CocoRle = { size: [10, 11], counts: [0, 5, 10, 100, 3] };

    // Act
    const compressed = cocoRleToString(rle);

    // Assert
    expect(compressed).toEqual({ size: [10, 11], counts: '05:o2I' });
    expect(cocoRleFromString(compressed)).toEqual(rle);
  });

  it('produces the string pycocotools 2.0.11 mask.encode gives for the same 7×5 mask', () => {
    // Arrange: vector made once with pycocotools.mask.encode(np.asfortranarray(m))
    const rowMajor = [
      1, 1, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0,
    ];
    const mask = { height: 7, width: 5, data: Uint8Array.from(rowMajor) };

    // Act
    const compressed = cocoRleToString(encodeCocoRle(mask));

    // Assert
    expect(compressed.counts).toBe('011030O0O37NHO10O');
    expect(decodeCocoRle(cocoRleFromString(compressed))).toEqual(mask);
  });

  it('round-trips counts beyond 32 bits and long negative deltas', () => {
    const rle: CocoRle = { size: [1, 1], counts: [3, 2 ** 33 + 5, 1, 7, 2 ** 33, 0, 123456789] };

    expect(cocoRleFromString(cocoRleToString(rle))).toEqual(rle);
  });

  it('rejects strings with invalid characters or a cut-off count', () => {
    expect(() => cocoRleFromString({ size: [1, 1], counts: '0~' })).toThrow(/invalid character at 1/);
    expect(() => cocoRleFromString({ size: [1, 1], counts: 'o' })).toThrow(/ends inside a count/);
  });
});

describe('Function: encodeRle3d / decodeRle3d', () => {
  it('round-trips one label and keeps dims and spacing', () => {
    const mask = ramp([6, 5, 4]);
    mask.data = mask.data.map((v) => (v % 3 === 0 ? 1 : 0));

    const rle = encodeRle3d(mask);

    expect(rle.label).toBe(1);
    expect(decodeRle3d(rle)).toEqual(mask);
  });

  it('encodes a multi-label mask as one entry per label and decodes it back', () => {
    const mask = ramp([6, 5, 4]);
    mask.data = mask.data.map((v) => v % 4);

    const entries = encodeRle3dLabels(mask);

    expect(entries.map((e) => e.label)).toEqual([1, 2, 3]);
    expect(decodeRle3d(entries).data).toEqual(mask.data);
  });
});

describe('Function: parseRle3d', () => {
  const valid = {
    format: 'goldline-rle3d/1',
    dims: [4, 4, 2],
    spacing: [0.7, 0.7, 2.5],
    labels: [
      { label: 1, runs: [0, 3, 10, 2] },
      { label: 2, runs: [5, 4] },
    ],
  };

  it('parses a JSON document into one run-length mask per label', () => {
    const masks = parseRle3d(JSON.stringify(valid));

    expect(masks).toHaveLength(2);
    expect(masks[1]).toEqual({ dims: [4, 4, 2], spacing: [0.7, 0.7, 2.5], label: 2, runs: Uint32Array.of(5, 4) });
  });

  it('round-trips through toRle3dDocument', () => {
    const mask = ramp([5, 3, 2]);
    mask.data = mask.data.map((v) => v % 3);
    const doc = toRle3dDocument(encodeRle3dLabels(mask));

    expect(decodeRle3d(parseRle3d(JSON.parse(JSON.stringify(doc)))).data).toEqual(mask.data);
  });

  it('accepts an empty mask as a label with no runs', () => {
    expect(parseRle3d({ ...valid, labels: [{ label: 1, runs: [] }] })[0].runs.length).toBe(0);
  });

  // Issue 7 finding 2: a 65535×65535×1 run-length mask was accepted for a 48×48×24 image (only gold items were checked).
  it('refuses a run-length mask on another grid than the image before reading its runs', () => {
    const grid = { dims: [48, 48, 24] as const, spacing: [1, 1, 2] as const };
    const huge = { ...valid, dims: [65535, 65535, 1], spacing: [1, 1, 2], labels: [{ label: 1, runs: [0, 65535 * 65535] }] };

    expect(() => parseRle3d(huge, { grid })).toThrow('mask grid [65535×65535×1] differs from the image grid [48×48×24]');
    expect(() => parseRle3d(huge, { maxVoxels: 48 * 48 * 24 })).toThrow(/has 4294836225 voxels, more than the 55296 allowed/);
    expect(parseRle3d({ ...valid, dims: [48, 48, 24], spacing: [1, 1, 2] }, { grid })).toHaveLength(2);
  });

  it('refuses a run list longer than its grid can hold before reading a run', () => {
    const runs = Array.from({ length: 66 }, (_, k) => k); // 33 runs on a 32-voxel grid

    expect(() => parseRle3d({ ...valid, labels: [{ label: 1, runs }] })).toThrow('labels[0] (label 1): 33 runs, more than the 32 voxels of dims [4,4,2] can hold');
  });

  it('names a run list holding non-numbers once, however long it is', () => {
    const e = (() => {
      try {
        parseRle3d({ ...valid, labels: [{ label: 1, runs: Array.from({ length: 100_000 }, () => 'a') }] });
      } catch (x) {
        return x as Error;
      }
    })();

    expect(e).toBeInstanceOf(MaskFormatError);
    expect(e?.message.match(/runs must be an array of numbers/g)).toHaveLength(1);
  });

  const withRuns = (runs: number[]) => ({ ...valid, labels: [{ label: 1, runs }] });
  it.each([
    ['not JSON', '{"format":', /not JSON/],
    ['a wrong format tag', { ...valid, format: 'rle3d/2' }, /format must be "goldline-rle3d\/1"/],
    ['non-positive dims', { ...valid, dims: [4, 0, 2] }, /dims/],
    ['a zero spacing', { ...valid, spacing: [0.7, 0, 2.5] }, /spacing/],
    ['no labels', { ...valid, labels: [] }, /at least one label/],
    ['label 0', { ...valid, labels: [{ label: 0, runs: [] }] }, /label/],
    ['an odd number of run values', withRuns([0, 3, 5]), /start,length pairs \(got 3 numbers\)/],
    ['unsorted runs', withRuns([10, 2, 0, 3]), /run 1 \[0, 3\]: starts before the previous run ends \(12\)/],
    ['overlapping runs', withRuns([0, 5, 3, 2]), /run 1 \[3, 2\]: starts before the previous run ends \(5\)/],
    ['a run beyond the grid', withRuns([30, 3]), /ends at 33, beyond the 32 voxels/],
    ['a zero-length run', withRuns([4, 0]), /length must be ≥ 1/],
    ['a fractional start', withRuns([1.5, 2]), /non-negative integers/],
    ['a label listed twice', { ...valid, labels: [valid.labels[0], { label: 1, runs: [20, 1] }] }, /label listed twice/],
    ['two labels on one voxel', { ...valid, labels: [valid.labels[0], { label: 2, runs: [2, 2] }] }, /labels 1 and 2 both claim voxel 2/],
  ])('rejects %s with a clear MaskFormatError', (_what, input, message) => {
    expect(() => parseRle3d(input)).toThrow(MaskFormatError);
    expect(() => parseRle3d(input)).toThrow(message);
  });
});
