/**
 * Properties of the overlap and surface metrics on random small masks
 * (fast-check), plus an exhaustive brute-force check of the k-d tree search.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cocoRleFromString,
  cocoRleToString,
  decodeCocoRle,
  decodeRle3d,
  encodeCocoRle,
  encodeRle3d,
} from '../../../functions/domain/scoring/mask-io.js';
import { dice, diceRle, iou, type Mask3D } from '../../../functions/domain/scoring/segmentation.js';
import { surfaceDistances } from '../../../functions/domain/scoring/surface.js';

const spacingArb = fc.tuple(
  fc.constantFrom(0.5, 0.7, 1, 1.3),
  fc.constantFrom(0.5, 0.7, 1, 1.3),
  fc.constantFrom(1, 2.5, 3),
) as fc.Arbitrary<[number, number, number]>;

/** A pair of random masks on one small grid (2D when nz = 1), with a chosen density. */
const maskPairArb = fc
  .record({
    nx: fc.integer({ min: 1, max: 7 }),
    ny: fc.integer({ min: 1, max: 6 }),
    nz: fc.integer({ min: 1, max: 4 }),
    spacing: spacingArb,
    density: fc.constantFrom(0.05, 0.3, 0.6, 0.95),
  })
  .chain(({ nx, ny, nz, spacing, density }) => {
    const n = nx * ny * nz;
    const voxels = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n });
    return fc.tuple(voxels, voxels).map(([ra, rb]): [Mask3D, Mask3D] => [
      { dims: [nx, ny, nz], spacing, data: Uint8Array.from(ra, (r) => (r < density ? 1 : 0)) },
      { dims: [nx, ny, nz], spacing, data: Uint8Array.from(rb, (r) => (r < density ? 1 : 0)) },
    ]);
  });

const nonEmpty = (m: Mask3D): boolean => m.data.some((v) => v !== 0);

/** Surface voxels by the definition: foreground with a background (or out-of-volume) face neighbour. */
function bruteSurface(m: Mask3D): [number, number, number][] {
  const [nx, ny, nz] = m.dims;
  const at = (x: number, y: number, z: number) =>
    x >= 0 && y >= 0 && z >= 0 && x < nx && y < ny && z < nz ? m.data[x + nx * (y + ny * z)] !== 0 : false;
  const out: [number, number, number][] = [];
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        if (!at(x, y, z)) continue;
        const zNeighbours = nz > 1 ? at(x, y, z - 1) && at(x, y, z + 1) : true;
        const interior = at(x - 1, y, z) && at(x + 1, y, z) && at(x, y - 1, z) && at(x, y + 1, z) && zNeighbours;
        if (!interior) out.push([x, y, z]);
      }
  return out;
}

/** All-pairs nearest distances, scipy's summation order. */
function bruteDirected(from: [number, number, number][], to: [number, number, number][], s: number[]): number[] {
  return from.map(([x, y, z]) => {
    let best = Number.POSITIVE_INFINITY;
    for (const [u, v, w] of to) {
      const dz = (z - w) * s[2];
      const dy = (y - v) * s[1];
      const dx = (x - u) * s[0];
      best = Math.min(best, dz * dz + dy * dy + dx * dx);
    }
    return Math.sqrt(best);
  });
}

describe('Property: overlap metrics', () => {
  it('Dice = 2·IoU/(1+IoU) whenever defined', () => {
    fc.assert(
      fc.property(maskPairArb, ([a, b]) => {
        const d = dice(a, b).value;
        const j = iou(a, b).value;
        if (Number.isNaN(d)) return Number.isNaN(j);
        return Math.abs(d - (2 * j) / (1 + j)) < 1e-12;
      }),
    );
  });

  it('Dice of identical non-empty masks is 1, and Dice is symmetric', () => {
    fc.assert(
      fc.property(maskPairArb, ([a, b]) => {
        if (nonEmpty(a)) expect(dice(a, a).value).toBe(1);
        expect(dice(a, b)).toEqual(dice(b, a));
      }),
    );
  });

  it('Dice from run lengths equals dense Dice', () => {
    fc.assert(
      fc.property(maskPairArb, ([a, b]) => {
        expect(diceRle(encodeRle3d(a), encodeRle3d(b))).toEqual(dice(a, b));
      }),
    );
  });
});

describe('Property: surface distances', () => {
  it('HD ≥ HD95 ≥ 0 and HD ≥ ASSD when both masks are non-empty', () => {
    fc.assert(
      fc.property(maskPairArb, ([a, b]) => {
        fc.pre(nonEmpty(a) && nonEmpty(b));
        const r = surfaceDistances(a, b);
        return r.hd.value >= r.hd95.value && r.hd95.value >= 0 && r.hd.value >= r.assd.value - 1e-12;
      }),
    );
  });

  it('identical non-empty masks give HD 0, HD95 0, ASSD 0 and NSD 1', () => {
    fc.assert(
      fc.property(maskPairArb, ([a]) => {
        fc.pre(nonEmpty(a));
        const r = surfaceDistances(a, a, { tolerances: [0, 1] });
        expect([r.hd.value, r.hd95.value, r.assd.value, r.nsd[0].value, r.nsd[1].value]).toEqual([0, 0, 0, 1, 1]);
      }),
    );
  });

  it('is symmetric in its two masks', () => {
    fc.assert(
      fc.property(maskPairArb, ([a, b]) => {
        const ab = surfaceDistances(a, b, { tolerances: [1] });
        const ba = surfaceDistances(b, a, { tolerances: [1] });
        expect([ba.hd, ba.hd95, ba.nsd[1]]).toEqual([ab.hd, ab.hd95, ab.nsd[1]]);
        // Both masks empty: ASSD is NaN both ways, which toBeCloseTo never accepts.
        if (Number.isNaN(ab.assd.value)) expect(ba.assd.value).toBeNaN();
        else expect(ba.assd.value).toBeCloseTo(ab.assd.value, 12);
      }),
    );
  });

  it('matches brute force: surface by definition, all-pairs nearest distances', () => {
    fc.assert(
      fc.property(maskPairArb, ([a, b]) => {
        const sa = bruteSurface(a);
        const sb = bruteSurface(b);
        fc.pre(sa.length > 0 && sb.length > 0);
        const all = [...bruteDirected(sa, sb, a.spacing), ...bruteDirected(sb, sa, a.spacing)];

        const r = surfaceDistances(a, b, { tolerances: [1.5] });

        expect(r.surfaceVoxels).toEqual({ a: sa.length, b: sb.length });
        expect(r.hd.value).toBe(Math.max(...all));
        expect(r.assd.value).toBeCloseTo(all.reduce((s, d) => s + d, 0) / all.length, 12);
        expect(r.nsd[1.5].value).toBe(all.filter((d) => d <= 1.5).length / all.length);
      }),
      { numRuns: 200 },
    );
  });

  it('finds exact nearest neighbours among thousands of scattered surface voxels', () => {
    // Sparse random voxels: every voxel is its own surface, so the tree holds ~2000 points.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), spacingArb, (seed, spacing) => {
        let s = seed;
        const next = () => {
          s = (Math.imul(s, 1103515245) + 12345) >>> 0;
          return s / 4294967296;
        };
        const dims: [number, number, number] = [40, 40, 24];
        const make = (p: number): Mask3D => ({
          dims,
          spacing,
          data: Uint8Array.from({ length: 40 * 40 * 24 }, () => (next() < p ? 1 : 0)),
        });
        const a = make(0.02);
        const b = make(0.05);
        const sa = bruteSurface(a);
        const sb = bruteSurface(b);
        const ab = bruteDirected(sa, sb, spacing);
        const ba = bruteDirected(sb, sa, spacing);

        const r = surfaceDistances(a, b);

        expect(r.hd.value).toBe(Math.max(...ab, ...ba));
      }),
      { numRuns: 5 },
    );
  });
});

describe('Property: mask encodings round-trip', () => {
  it('goldline-rle3d/1 decode(encode(m)) = m', () => {
    fc.assert(
      fc.property(maskPairArb, ([a]) => {
        expect(decodeRle3d(encodeRle3d(a)).data).toEqual(a.data);
      }),
    );
  });

  it('COCO RLE, through the compressed string, gives back the 2D mask', () => {
    fc.assert(
      fc.property(maskPairArb, ([a]) => {
        const mask = { height: a.dims[1], width: a.dims[0] * a.dims[2], data: a.data };
        expect(decodeCocoRle(cocoRleFromString(cocoRleToString(encodeCocoRle(mask))))).toEqual(mask);
      }),
    );
  });
});
