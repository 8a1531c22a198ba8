import { describe, expect, it } from 'vitest';
import { encodeRle3d } from '../../../functions/domain/scoring/mask-io.js';
import { type Mask3D, MaskShapeError } from '../../../functions/domain/scoring/segmentation.js';
import { maskSurface, surfaceDistances } from '../../../functions/domain/scoring/surface.js';

type Vec3 = [number, number, number];

function box(dims: Vec3, from: Vec3, to: Vec3, spacing: Vec3 = [1, 1, 1], label = 1, base?: Mask3D): Mask3D {
  const [nx, ny] = dims;
  const data = base ? base.data.slice() : new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let z = from[2]; z <= to[2]; z++)
    for (let y = from[1]; y <= to[1]; y++) for (let x = from[0]; x <= to[0]; x++) data[x + nx * (y + ny * z)] = label;
  return { dims, spacing, data };
}

const voxel = (dims: Vec3, at: Vec3, spacing: Vec3 = [1, 1, 1]): Mask3D => box(dims, at, at, spacing);

const empty = (dims: Vec3, spacing: Vec3 = [1, 1, 1]): Mask3D => ({
  dims,
  spacing,
  data: new Uint8Array(dims[0] * dims[1] * dims[2]),
});

describe('Function: maskSurface', () => {
  it('keeps every voxel of a 3×3×3 cube except its centre (6-connected erosion)', () => {
    const cube = box([5, 5, 5], [1, 1, 1], [3, 3, 3]);

    const s = maskSurface(cube);

    expect(s.length).toBe(26);
    expect(s).not.toContain(2 + 5 * (2 + 5 * 2));
  });

  it('treats out-of-volume as background: a mask filling the volume has its border as surface', () => {
    const full = box([4, 4, 4], [0, 0, 0], [3, 3, 3]);

    expect(maskSurface(full).length).toBe(64 - 8);
  });

  it('uses 4-connected in-plane erosion for 2D masks (nz = 1)', () => {
    const square = box([5, 5, 1], [1, 1, 0], [3, 3, 0]);

    expect(maskSurface(square).length).toBe(8);
  });

  it('keeps voxels whose only background neighbour is diagonal out of the surface', () => {
    // 5×5×5 cube with one corner voxel removed: the cube's interior stays interior
    const cube = box([7, 7, 7], [1, 1, 1], [5, 5, 5]);
    cube.data[1 + 7 * (1 + 7 * 1)] = 0;

    expect(maskSurface(cube).length).toBe(125 - 27 - 1);
  });

  it('gives the same surface from run lengths as from the dense mask', () => {
    const m = box([9, 6, 4], [0, 2, 1], [8, 5, 3], [1, 1, 1], 1, box([9, 6, 4], [2, 0, 0], [4, 1, 0]));

    expect(maskSurface(encodeRle3d(m))).toEqual(maskSurface(m));
  });

  it('joins touching runs, so a run list split at arbitrary points has the same surface', () => {
    const m = box([6, 4, 3], [0, 0, 0], [5, 3, 2]);
    const split = { ...encodeRle3d(m), runs: Uint32Array.of(0, 7, 7, 1, 8, 30, 38, 34) };

    expect(maskSurface(split)).toEqual(maskSurface(m));
    expect(maskSurface(m).length).toBe(72 - 4 * 2);
  });

  it('scores only the given label', () => {
    const m = box([8, 8, 8], [4, 4, 4], [6, 6, 6], [1, 1, 1], 2, box([8, 8, 8], [0, 0, 0], [2, 2, 2]));

    expect(maskSurface(m, { label: 2 }).length).toBe(26);
    expect(maskSurface(m).length).toBe(52);
  });
});

describe('Function: surfaceDistances', () => {
  it('measures single voxels apart in mm with anisotropic spacing', () => {
    // Arrange: Δ = (3, 1, 2) voxels at 0.7 × 0.7 × 2.5 mm
    const spacing: Vec3 = [0.7, 0.7, 2.5];
    const a = voxel([6, 6, 6], [1, 2, 1], spacing);
    const b = voxel([6, 6, 6], [4, 3, 3], spacing);
    const expected = Math.sqrt((2 * 2.5) ** 2 + 0.7 ** 2 + (3 * 0.7) ** 2);

    // Act
    const r = surfaceDistances(a, b, { tolerances: [1, 10] });

    // Assert
    expect(r.hd.value).toBeCloseTo(expected, 12);
    expect(r.hd95.value).toBeCloseTo(expected, 12);
    expect(r.assd.value).toBeCloseTo(expected, 12);
    expect(r.nsd[1].value).toBe(0);
    expect(r.nsd[10].value).toBe(1);
    expect(r.surfaceVoxels).toEqual({ a: 1, b: 1 });
  });

  it('returns HD 0 and NSD 1 for identical masks', () => {
    const m = box([10, 10, 6], [2, 3, 1], [7, 8, 4], [0.8, 0.8, 3]);

    const r = surfaceDistances(m, m, { tolerances: [0, 1] });

    expect(r.hd.value).toBe(0);
    expect(r.hd95.value).toBe(0);
    expect(r.assd.value).toBe(0);
    expect(r.nsd[0].value).toBe(1);
    expect(r.nsd[1].value).toBe(1);
  });

  it('counts a surface voxel for NSD when its distance equals τ (≤ τ, as MONAI)', () => {
    const a = voxel([8, 1, 1], [0, 0, 0]);
    const b = voxel([8, 1, 1], [3, 0, 0]);

    const r = surfaceDistances(a, b, { tolerances: [2.999, 3] });

    expect(r.nsd[2.999].value).toBe(0);
    expect(r.nsd[3].value).toBe(1);
  });

  it('uses slice spacing for an offset along z', () => {
    const spacing: Vec3 = [0.7, 0.7, 2.5];
    const a = box([6, 6, 8], [1, 1, 1], [4, 4, 4], spacing);
    const b = box([6, 6, 8], [1, 1, 2], [4, 4, 5], spacing);

    const r = surfaceDistances(a, b);

    expect(r.hd.value).toBeCloseTo(2.5, 12);
  });

  it('takes the larger directed 95th percentile with linear interpolation', () => {
    // Arrange: A = one voxel at x=0; B = a row x=0..20 (2D). d(B→A) = 0..20, so
    // its 95th percentile is 19 (index 0.95·20); d(A→B) = 0.
    const a = voxel([21, 1, 1], [0, 0, 0]);
    const b = box([21, 1, 1], [0, 0, 0], [20, 0, 0]);

    const r = surfaceDistances(a, b);

    expect(r.hd95.value).toBeCloseTo(19, 12);
    expect(r.hd.value).toBe(20);
    expect(r.assd.value).toBeCloseTo((0 + (20 * 21) / 2) / 22, 12);
  });

  it('interpolates between order statistics like np.percentile', () => {
    // d(B→A) = 0..9 for 10 voxels: np.percentile(range(10), 95) = 8.55
    const a = voxel([10, 1, 1], [0, 0, 0]);
    const b = box([10, 1, 1], [0, 0, 0], [9, 0, 0]);

    expect(surfaceDistances(a, b).hd95.value).toBeCloseTo(8.55, 12);
  });

  it('measures to the border of a mask that touches the volume edge', () => {
    // A fills the 5×5×5 volume (its surface is the outer shell); B is its centre voxel.
    const a = box([5, 5, 5], [0, 0, 0], [4, 4, 4]);
    const b = voxel([5, 5, 5], [2, 2, 2]);

    const r = surfaceDistances(a, b);

    expect(r.surfaceVoxels.a).toBe(125 - 27);
    expect(r.hd.value).toBeCloseTo(Math.sqrt(12), 12); // corner to centre
    expect(surfaceDistances(b, a).hd.value).toBe(r.hd.value);
  });

  it('returns Infinity and NSD 0 when one mask is empty, on either side', () => {
    const a = box([5, 5, 5], [1, 1, 1], [2, 2, 2]);

    for (const r of [surfaceDistances(a, empty([5, 5, 5]), { tolerances: [1] }), surfaceDistances(empty([5, 5, 5]), a, { tolerances: [1] })]) {
      expect(r.hd.value).toBe(Number.POSITIVE_INFINITY);
      expect(r.hd95.value).toBe(Number.POSITIVE_INFINITY);
      expect(r.assd.value).toBe(Number.POSITIVE_INFINITY);
      expect(r.hd.reason).toMatch(/one mask empty/);
      expect(r.nsd[1]).toEqual({ value: 0, reason: 'one mask empty: NSD 0 by convention' });
    }
  });

  it('returns undefined metrics with a reason when both masks are empty', () => {
    const r = surfaceDistances(empty([4, 4, 4]), empty([4, 4, 4]), { tolerances: [2] });

    for (const m of [r.hd, r.hd95, r.assd, r.nsd[2]]) {
      expect(m.value).toBeNaN();
      expect(m.reason).toMatch(/both masks empty/);
    }
  });

  it('scores one label of multi-label masks', () => {
    const a = box([8, 8, 8], [4, 4, 4], [6, 6, 6], [1, 1, 1], 2, box([8, 8, 8], [0, 0, 0], [1, 1, 1]));
    const b = box([8, 8, 8], [4, 4, 5], [6, 6, 7], [1, 1, 1], 2);

    expect(surfaceDistances(a, b, { label: 2 }).hd.value).toBe(1);
    expect(surfaceDistances(a, b, { label: 1 }).hd.value).toBe(Number.POSITIVE_INFINITY);
  });

  it('accepts run-length masks and gives the dense result', () => {
    const a = box([9, 7, 5], [1, 1, 0], [6, 5, 3], [0.5, 0.9, 2]);
    const b = box([9, 7, 5], [2, 0, 1], [8, 4, 4], [0.5, 0.9, 2]);

    const dense = surfaceDistances(a, b, { tolerances: [1] });

    expect(surfaceDistances(encodeRle3d(a), encodeRle3d(b), { tolerances: [1] })).toEqual(dense);
    expect(surfaceDistances(a, encodeRle3d(b), { tolerances: [1] })).toEqual(dense);
  });

  it('uses options.spacing over the masks’ own, and refuses masks whose spacing differs', () => {
    const a = voxel([4, 1, 1], [0, 0, 0], [1, 1, 1]);
    const b = voxel([4, 1, 1], [2, 0, 0], [1.5, 1, 1]);

    expect(() => surfaceDistances(a, b)).toThrow(/different spacing/);
    expect(surfaceDistances(a, b, { spacing: [2, 1, 1] }).hd.value).toBe(4);
    expect(() => surfaceDistances(a, voxel([4, 2, 1], [0, 0, 0]))).toThrow(MaskShapeError);
  });
});
