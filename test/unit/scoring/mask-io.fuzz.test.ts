/**
 * Fuzzing the mask readers vendors reach (issue 7): arbitrary bytes and mutated
 * valid files never make readNifti or parseRle3d throw anything but a
 * MaskFormatError with a reason, and what they return always lies on the bound
 * grid (no allocation beyond it). Inputs are bounded (a few KiB).
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeRle3dLabels,
  type MaskBound,
  MaskFormatError,
  parseRle3d,
  readNifti,
  toRle3dDocument,
  writeNifti,
} from '../../../functions/domain/scoring/mask-io.js';
import type { Mask3D } from '../../../functions/domain/scoring/segmentation.js';

const GRID = { dims: [8, 6, 4] as [number, number, number], spacing: [1, 1, 2] as [number, number, number] };
const BOUND: MaskBound = { grid: GRID };

function blob(): Mask3D {
  const data = new Uint8Array(8 * 6 * 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 7 === 0 ? 1 : i % 11 === 0 ? 2 : 0;
  return { dims: [8, 6, 4], spacing: [1, 1, 2], data };
}

/** Runs `read`; passes if it returns a mask on the grid or throws a MaskFormatError with a reason. */
function readsOrRefuses(read: () => { dims: readonly number[] } | { dims: readonly number[] }[]): void {
  let out: { dims: readonly number[] } | { dims: readonly number[] }[];
  try {
    out = read();
  } catch (e) {
    if (!(e instanceof MaskFormatError)) throw new Error(`threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
    expect(e.message.length).toBeGreaterThan(0);
    return;
  }
  for (const m of Array.isArray(out) ? out : [out]) expect(m.dims).toEqual(GRID.dims);
}

/** Byte mutations of a file: set bytes, truncate, or append. */
const mutated = (base: Uint8Array) =>
  fc
    .record({
      sets: fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      cut: fc.option(fc.nat({ max: base.length }), { nil: undefined }),
      tail: fc.uint8Array({ maxLength: 64 }),
    })
    .map(({ sets, cut, tail }) => {
      const b = new Uint8Array(base);
      for (const [i, v] of sets) b[i] = v;
      const head = cut === undefined ? b : b.subarray(0, cut);
      return new Uint8Array([...head, ...tail]);
    });

/** Header fields an attacker would pick: dims, datatype, vox_offset, pixdim, scaling. */
const headerWrites = fc.array(
  fc.oneof(
    fc.tuple(fc.constantFrom(40, 42, 44, 46, 48), fc.integer({ min: -32768, max: 32767 })).map(([o, v]) => ({ o, v, kind: 'int16' as const })),
    fc.tuple(fc.constant(70), fc.constantFrom(0, 2, 4, 8, 16, 32, 64, 256, 512, 768, 1024)).map(([o, v]) => ({ o, v, kind: 'int16' as const })),
    fc.tuple(fc.constantFrom(80, 84, 88, 108, 112, 116), fc.double({ noNaN: false })).map(([o, v]) => ({ o, v, kind: 'float32' as const })),
  ),
  { minLength: 1, maxLength: 4 },
);

describe('Fuzz: readNifti', () => {
  it('refuses arbitrary bytes with a MaskFormatError, gzipped or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (bytes, gz) => {
        readsOrRefuses(() => readNifti(gz ? gzipSync(bytes) : bytes, BOUND));
      }),
      { numRuns: 300 },
    );
  });

  it('reads or refuses byte-mutated valid files (.nii and .nii.gz), never off the grid', () => {
    const nii = writeNifti(blob());
    const gz = writeNifti(blob(), { gzip: true });
    fc.assert(
      fc.property(fc.oneof(mutated(nii), mutated(gz)), (bytes) => {
        readsOrRefuses(() => readNifti(bytes, BOUND));
      }),
      { numRuns: 400 },
    );
  });

  it('reads or refuses files whose header fields are rewritten (huge dims, odd datatypes, offsets, scaling), gzipped', () => {
    fc.assert(
      fc.property(headerWrites, fc.boolean(), (writes, gz) => {
        const b = writeNifti(blob());
        const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
        for (const w of writes) {
          if (w.kind === 'int16') v.setInt16(w.o, w.v, true);
          else v.setFloat32(w.o, w.v, true);
        }
        readsOrRefuses(() => readNifti(gz ? gzipSync(b) : b, BOUND));
        // Without a grid the default voxel cap holds: nothing beyond 2^27 voxels is allocated.
        try {
          const m = readNifti(gz ? gzipSync(b) : b);
          expect(m.data.length).toBeLessThanOrEqual(2 ** 27);
        } catch (e) {
          if (!(e instanceof MaskFormatError)) throw e;
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('Fuzz: parseRle3d', () => {
  const valid = toRle3dDocument(encodeRle3dLabels(blob()));
  const anyNumber = fc.oneof(fc.integer({ min: -5, max: 300 }), fc.double(), fc.constantFrom(2 ** 32, 1e300, -0, Number.MAX_SAFE_INTEGER));

  it('refuses arbitrary JSON with a MaskFormatError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        readsOrRefuses(() => parseRle3d(value, BOUND));
        readsOrRefuses(() => parseRle3d(JSON.stringify(value), BOUND));
      }),
      { numRuns: 300 },
    );
  });

  it('reads or refuses documents with mutated dims, spacing, labels and runs, never off the grid', () => {
    fc.assert(
      fc.property(
        fc.record({
          dims: fc.option(fc.tuple(anyNumber, anyNumber, anyNumber), { nil: undefined }),
          spacing: fc.option(fc.tuple(anyNumber, anyNumber, anyNumber), { nil: undefined }),
          labels: fc.option(fc.array(fc.record({ label: anyNumber, runs: fc.array(anyNumber, { maxLength: 40 }) }), { maxLength: 4 }), {
            nil: undefined,
          }),
        }),
        (m) => {
          const doc = { ...valid, ...Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)) };
          readsOrRefuses(() => parseRle3d(doc, BOUND));
        },
      ),
      { numRuns: 400 },
    );
  });
});
