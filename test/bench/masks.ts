/**
 * The benches' clinical-size mask pair: two ellipsoids on a 512×512×256 grid at
 * 0.7×0.7×2.5 mm, the second shifted and resized a little. numpy draws the same
 * voxels (scripts/reference/segmentation_reference.py `ellipsoid`).
 */
import type { Mask3D } from '../../functions/domain/scoring/segmentation.js';

export type Vec3 = [number, number, number];

export const PAIR_SPEC = {
  dims: [512, 512, 256] as Vec3,
  spacing: [0.7, 0.7, 2.5] as Vec3,
  a: { centre: [256, 256, 128] as Vec3, radii: [170, 140, 90] as Vec3 },
  b: { centre: [259, 253, 129] as Vec3, radii: [174, 137, 92] as Vec3 },
};

/**
 * ((x−cx)/rx)² + ((y−cy)/ry)² + ((z−cz)/rz)² ≤ 1 multiplied out to integers
 * (exact in doubles, < 2^53), so numpy's int64 version draws the same voxels.
 */
export function ellipsoid(dims: Vec3, spacing: Vec3, centre: Vec3, radii: Vec3): Mask3D {
  const [nx, ny, nz] = dims;
  const [cx, cy, cz] = centre;
  const [rx, ry, rz] = radii;
  const kx = ry * ry * rz * rz;
  const ky = rx * rx * rz * rz;
  const kz = rx * rx * ry * ry;
  const limit = rx * rx * ry * ry * rz * rz;
  const data = new Uint8Array(nx * ny * nz);
  for (let z = 0; z < nz; z++) {
    const tz = (z - cz) ** 2 * kz;
    for (let y = 0; y < ny; y++) {
      const tyz = tz + (y - cy) ** 2 * ky;
      if (tyz > limit) continue;
      const base = nx * (y + ny * z);
      for (let x = 0; x < nx; x++) if ((x - cx) ** 2 * kx + tyz <= limit) data[base + x] = 1;
    }
  }
  return { dims, spacing, data };
}

/** The bench pair as dense masks. */
export function ellipsoidPair(): [Mask3D, Mask3D] {
  const { dims, spacing, a, b } = PAIR_SPEC;
  return [ellipsoid(dims, spacing, a.centre, a.radii), ellipsoid(dims, spacing, b.centre, b.radii)];
}
