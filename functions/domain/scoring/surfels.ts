/**
 * Sub-voxel surfaces: DeepMind surface-distance's surface elements ("surfels")
 * and the area-weighted figures computed from them (`compute_surface_distances`,
 * `compute_robust_hausdorff`, `compute_average_surface_distance`,
 * `compute_surface_dice_at_tolerance`; MONAI `compute_surface_dice(use_subvoxels=True)`
 * follows the same definition).
 *
 * - The surface lives on the grid of voxel corners: the corner (cx, cy, cz)
 *   touches the 2×2×2 voxels (cx−1..cx, cy−1..cy, cz−1..cz) (2×2 in 2D, nz = 1);
 *   it is a surface point when those voxels are neither all foreground nor all
 *   background. Voxels outside the volume are background, as DeepMind's padding.
 * - Each surface point carries the area (mm², 3D) or length (mm, 2D) of the
 *   marching-cubes surface inside its 2×2×2 cell; distances are between surface
 *   points, Euclidean in mm, as `distance_transform_edt(sampling=spacing)`.
 *
 * Areas are computed here, not copied: the surface inside a cell joins the
 * midpoints of the cell edges whose ends differ (a cell with more than four
 * foreground voxels as its complement; on a face with two diagonal foreground
 * corners each is cut off on its own); a bent loop is triangulated as the
 * vertex fan of largest area in the unit cell, measured at the spacing. This
 * rule gives DeepMind's table exactly: checked for all 256 codes at four
 * spacings (docs/metrics-conventions.md). 2D contour lengths are exact.
 */
import { type MetricResult, metric, undefinedMetric } from './metric-result.js';
import type { SurfaceDistances } from './surface.js';
import { directedDistances, SurfaceKdTree, VoxelList } from './surface-kdtree.js';
import { type AnyMask, runsOf, toRowRuns } from './surface-rows.js';

/** Surface points on the corner grid, with each point's cell code. */
export interface CornerSurfels {
  points: VoxelList;
  /** Cell code per point, bit (dx | dy<<1 | dz<<2) set when voxel (cx−1+dx, cy−1+dy, cz−1+dz) is foreground. */
  codes: Uint8Array;
}

/** Spreads a 4-bit row pattern (bit j: row j holds the voxel) to cell-code bits dx | j<<1. */
const spread = (p: number, dx: number): number =>
  ((p & 1) << dx) | (((p >> 1) & 1) << (dx | 2)) | (((p >> 2) & 1) << (dx | 4)) | (((p >> 3) & 1) << (dx | 6));

/**
 * Surface points of a mask on the corner grid and their cell codes, from the
 * mask's row intervals: O(intervals + surface points), no volume.
 *
 * @example
 * cornerSurfels(singleVoxel).points.count // 8 (3D), 4 (2D)
 */
export function cornerSurfels(mask: AnyMask, label: number | undefined): CornerSurfels {
  const [nx, ny, nz] = mask.dims;
  const is3d = nz > 1;
  const { rowPtr, x0, x1 } = toRowRuns(runsOf(mask, label), nx, ny * nz);
  const points = new VoxelList();
  let codes = new Uint8Array(4096);
  const full = is3d ? 0xff : 0x0f;
  const uniformPattern = is3d ? 0x0f : 0x03;
  const emit = (cx: number, cy: number, cz: number, code: number): void => {
    if (points.count === codes.length) {
      const grown = new Uint8Array(codes.length * 2);
      grown.set(codes);
      codes = grown;
    }
    codes[points.count] = code;
    points.push(cx, cy, cz);
  };
  const rowFrom = new Int32Array(4);
  const rowTo = new Int32Array(4);
  const ptr = new Int32Array(4);
  let ends: number[] = [];
  for (let cz = 0; cz <= (is3d ? nz : 0); cz++) {
    for (let cy = 0; cy <= ny; cy++) {
      // Source rows j: bit 0 = y offset (cy−1 or cy), bit 1 = z offset (3D only).
      ends = [];
      for (let j = 0; j < (is3d ? 4 : 2); j++) {
        const y = cy - 1 + (j & 1);
        const z = is3d ? cz - 1 + (j >> 1) : 0;
        if (y < 0 || y >= ny || z < 0 || z >= nz) {
          rowFrom[j] = rowTo[j] = 0;
          continue;
        }
        const r = y + ny * z;
        rowFrom[j] = rowPtr[r];
        rowTo[j] = rowPtr[r + 1];
        for (let k = rowFrom[j]; k < rowTo[j]; k++) ends.push(x0[k], x1[k]);
      }
      if (ends.length === 0) continue;
      ends.sort((p, q) => p - q);
      for (let j = 0; j < 4; j++) ptr[j] = rowFrom[j];
      let prev = 0;
      for (let e = 0; e < ends.length; e++) {
        const at = ends[e];
        if (e > 0 && at === ends[e - 1]) continue;
        // Pattern of the segment starting at `at`: which rows hold voxel `at`.
        let p = 0;
        for (let j = 0; j < 4; j++) {
          while (ptr[j] < rowTo[j] && x1[ptr[j]] <= at) ptr[j]++;
          if (ptr[j] < rowTo[j] && x0[ptr[j]] <= at) p |= 1 << j;
        }
        const code = spread(prev, 0) | spread(p, 1);
        if (code !== 0 && code !== full) emit(at, cy, cz, code);
        if (p !== 0 && p !== uniformPattern) {
          let next = at + 1;
          for (let f = e + 1; f < ends.length; f++) {
            if (ends[f] > at) {
              next = ends[f];
              break;
            }
          }
          const inner = spread(p, 0) | spread(p, 1);
          for (let cx = at + 1; cx < next; cx++) emit(cx, cy, cz, inner);
        }
        prev = p;
      }
    }
  }
  return { points, codes };
}

type Vec3 = [number, number, number];

/** Edge of a cell by its lower corner and axis: `corner·4 + axis`. */
const edgeKey = (corner: number, axis: number): number => (corner & ~(1 << axis)) * 4 + axis;

/** Midpoint of a cell edge, in mm from the cell's first corner. */
function midpoint(key: number, spacing: readonly number[]): Vec3 {
  const corner = Math.floor(key / 4);
  const axis = key % 4;
  const p: Vec3 = [0, 0, 0];
  for (let d = 0; d < 3; d++) p[d] = d === axis ? spacing[d] / 2 : ((corner >> d) & 1) * spacing[d];
  return p;
}

/**
 * Closed loops of the marching-cubes surface inside one cell, as edge keys in
 * order: the midpoints of the edges whose ends differ, joined face by face; on
 * a face with two diagonal foreground corners each is cut off on its own.
 */
function cellLoops(code: number, is3d: boolean): number[][] {
  const on = (c: number): boolean => ((code >> c) & 1) === 1;
  // Faces: the square (2D) or the six squares (3D); each face's corners in cyclic order.
  const faces: number[][] = [];
  const cyclic = (u: number, w: number, base: number): number[] => [base, base | (1 << u), base | (1 << u) | (1 << w), base | (1 << w)];
  if (!is3d) faces.push(cyclic(0, 1, 0));
  else {
    for (let a = 0; a < 3; a++) {
      const [u, w] = [0, 1, 2].filter((d) => d !== a);
      for (const v of [0, 1]) faces.push(cyclic(u, w, v << a));
    }
  }
  const links = new Map<number, number[]>();
  const link = (p: number, q: number): void => {
    links.set(p, [...(links.get(p) ?? []), q]);
    links.set(q, [...(links.get(q) ?? []), p]);
  };
  for (const f of faces) {
    const crossing: number[] = [];
    for (let i = 0; i < 4; i++) {
      const c = f[i];
      const d = f[(i + 1) % 4];
      if (on(c) !== on(d)) crossing.push(edgeKey(c, Math.log2(c ^ d)));
    }
    if (crossing.length === 2) link(crossing[0], crossing[1]);
    else if (crossing.length === 4) {
      for (let i = 0; i < 4; i++) {
        if (!on(f[i])) continue;
        const before = f[(i + 3) % 4];
        const after = f[(i + 1) % 4];
        link(edgeKey(f[i], Math.log2(f[i] ^ before)), edgeKey(f[i], Math.log2(f[i] ^ after)));
      }
    }
  }
  const loops: number[][] = [];
  const seen = new Set<number>();
  for (const start of links.keys()) {
    if (seen.has(start)) continue;
    const loop: number[] = [];
    let prev = -1;
    let at = start;
    while (!seen.has(at)) {
      seen.add(at);
      loop.push(at);
      const next = (links.get(at) ?? []).find((q) => q !== prev && !seen.has(q));
      if (next === undefined) break;
      prev = at;
      at = next;
    }
    loops.push(loop);
  }
  return loops;
}

/** Area of the fan of triangles from vertex `k` of a closed polygon. */
function fanArea(loop: Vec3[], k: number): number {
  const n = loop.length;
  const a = loop[k];
  let area = 0;
  for (let i = 1; i < n - 1; i++) {
    const b = loop[(k + i) % n];
    const c = loop[(k + i + 1) % n];
    const u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    const v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
    area += 0.5 * Math.hypot(u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]);
  }
  return area;
}

/**
 * Area of one loop at the given spacing. A bent loop has no single area: it is
 * triangulated as the fan, from one of its vertices, of largest area in the
 * unit cell (the first such vertex), and that triangulation is measured at the
 * spacing. Planar loops have the same area from every vertex.
 */
function loopArea(keys: number[], spacing: readonly number[]): number {
  const unit = keys.map((k) => midpoint(k, [1, 1, 1]));
  let best = -1;
  let from = 0;
  for (let k = 0; k < unit.length; k++) {
    const a = fanArea(unit, k);
    if (a > best + 1e-12) {
      best = a;
      from = k;
    }
  }
  return fanArea(
    keys.map((k) => midpoint(k, spacing)),
    from,
  );
}

/** Number of foreground voxels in a cell code. */
const popcount = (code: number): number => {
  let n = 0;
  for (let c = code; c; c &= c - 1) n++;
  return n;
};

/**
 * Surface area (mm², 3D) or contour length (mm, 2D) inside a cell, per cell code,
 * for the given spacing: 256 entries in 3D, 16 in 2D. In 3D a cell with more
 * than four foreground voxels is measured as its complement (the same surface),
 * so the ambiguous faces are resolved the same way for a shape and its hole.
 *
 * @example
 * surfelMeasures([1, 1, 1], true)[1] // √3/8: one foreground corner cut off
 */
export function surfelMeasures(spacing: readonly number[], is3d: boolean): Float64Array {
  const table = new Float64Array(is3d ? 256 : 16);
  for (let code = 1; code < table.length - 1; code++) {
    if (!is3d) {
      // In a square every loop is a segment between two edge midpoints.
      table[code] = cellLoops(code, false).reduce((sum, [p, q]) => {
        const a = midpoint(p, spacing);
        const b = midpoint(q, spacing);
        return sum + Math.hypot(a[0] - b[0], a[1] - b[1]);
      }, 0);
      continue;
    }
    const shape = popcount(code) > 4 ? 255 - code : code;
    table[code] = cellLoops(shape, true).reduce((sum, loop) => sum + loopArea(loop, spacing), 0);
  }
  return table;
}

/** One direction's surfels: distances to the other surface and areas, ascending by (distance, area) as DeepMind sorts them. */
export interface DirectedSurfels {
  distances: Float64Array;
  areas: Float64Array;
}

/** Surfels of `from` with their distance to the surfels of `to` (Infinity when `to` has none). */
function directed(from: SurfaceKdTree, fromAreas: Float64Array, to: SurfaceKdTree): DirectedSurfels {
  const d = to.n > 0 ? directedDistances(from, to) : new Float64Array(from.n).fill(Number.POSITIVE_INFINITY);
  const order = [...Array(from.n).keys()].sort((i, j) => d[i] - d[j] || fromAreas[i] - fromAreas[j]);
  return { distances: Float64Array.from(order, (i) => d[i]), areas: Float64Array.from(order, (i) => fromAreas[i]) };
}

/**
 * Surfels of the prediction `a` and the reference `b` with their distances to
 * the other surface — DeepMind `compute_surface_distances(mask_gt=b, mask_pred=a)`.
 */
export function surfelDistances(
  a: AnyMask,
  b: AnyMask,
  spacing: readonly number[],
  label: number | undefined,
): { aToB: DirectedSurfels; bToA: DirectedSurfels } {
  const table = surfelMeasures(spacing, a.dims[2] > 1);
  const sa = cornerSurfels(a, label);
  const sb = cornerSurfels(b, label);
  const ta = new SurfaceKdTree(sa.points, spacing);
  const tb = new SurfaceKdTree(sb.points, spacing);
  const areasA = Float64Array.from(ta.order, (i) => table[sa.codes[i]]);
  const areasB = Float64Array.from(tb.order, (i) => table[sb.codes[i]]);
  return { aToB: directed(ta, areasA, tb), bToA: directed(tb, areasB, ta) };
}

/**
 * Neumaier-compensated sum: hundreds of thousands of distances summed without
 * drift, so means agree with numpy's pairwise-summed ones to ~1e-15. An
 * infinite term (a distance to an empty surface) gives the plain IEEE sum.
 */
export function accurateSum(values: ArrayLike<number>): number {
  let sum = 0;
  let compensation = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = sum + v;
    compensation += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return Number.isFinite(sum) ? sum + compensation : sum;
}

/**
 * Area-weighted percentile of one direction — DeepMind `compute_robust_hausdorff`
 * for one side: the distance of the first surfel whose cumulative area share
 * reaches `percent`/100 (`np.searchsorted`, no interpolation); Infinity when
 * there are no surfels.
 */
export function surfelPercentile(s: DirectedSurfels, percent: number): number {
  const n = s.distances.length;
  if (n === 0) return Number.POSITIVE_INFINITY;
  const total = accurateSum(s.areas);
  const q = percent / 100;
  let cumulative = 0;
  for (let i = 0; i < n; i++) {
    cumulative += s.areas[i];
    if (cumulative / total >= q) return s.distances[i];
  }
  return s.distances[n - 1];
}

/** Area-weighted mean distance of one direction — DeepMind `compute_average_surface_distance` (NaN without surfels). */
export function surfelAverage(s: DirectedSurfels): number {
  const weighted = new Float64Array(s.distances.length);
  for (let i = 0; i < weighted.length; i++) weighted[i] = s.distances[i] * s.areas[i];
  return accurateSum(weighted) / accurateSum(s.areas);
}

/** Area of the surfels within τ of the other surface, and the whole area — the parts of DeepMind's surface Dice. */
export function surfelOverlap(s: DirectedSurfels, tolerance: number): { within: number; total: number } {
  let within = 0;
  for (let i = 0; i < s.distances.length && s.distances[i] <= tolerance; i++) within += s.areas[i];
  return { within, total: accurateSum(s.areas) };
}

/** NSD(τ) over surfel areas — DeepMind `compute_surface_dice_at_tolerance`, MONAI `use_subvoxels=True`. */
export function surfelNsd(aToB: DirectedSurfels, bToA: DirectedSurfels, tolerance: number): MetricResult {
  const a = surfelOverlap(aToB, tolerance);
  const b = surfelOverlap(bToA, tolerance);
  if (a.total + b.total === 0) return undefinedMetric('both masks empty: surface Dice 0/0 is undefined');
  const value = (a.within + b.within) / (a.total + b.total);
  return a.total === 0 || b.total === 0 ? metric(value, 'one mask empty: NSD 0 by convention') : metric(value);
}

/**
 * HD, HD95, ASSD and NSD by DeepMind's definitions (surfels on the corner grid,
 * area-weighted): HD and HD95 = max over both directions of the area-weighted
 * percentile (`compute_robust_hausdorff` 100 and 95); `averageDistance` = the
 * pair `compute_average_surface_distance` returns; `assd` = the mean of that
 * pair. Empty masks as DeepMind: a side without surfels has percentile
 * Infinity (so HD is Infinity even when both are empty) and average NaN.
 * `directed`: the prediction → reference side alone.
 */
export function deepmindSurfaceFigures(
  a: AnyMask,
  b: AnyMask,
  spacing: readonly number[],
  tolerances: readonly number[],
  label: number | undefined,
  directedOnly: boolean,
): Omit<SurfaceDistances, 'convention'> {
  const { aToB, bToA } = surfelDistances(a, b, spacing, label);
  const nA = aToB.distances.length;
  const nB = bToA.distances.length;
  const empty = nA === 0 && nB === 0 ? 'both masks empty' : nA === 0 || nB === 0 ? 'one mask empty' : undefined;
  const distance = (value: number, what: string): MetricResult => {
    if (Number.isNaN(value)) return undefinedMetric(`${empty ?? 'no surface'}: DeepMind's ${what} is 0/0 (NaN)`);
    return empty && value === Number.POSITIVE_INFINITY
      ? metric(value, `${empty}: DeepMind's ${what} is infinite for a side without surfels or with nothing to reach`)
      : metric(value);
  };
  const averagePair = {
    predictionToReference: distance(surfelAverage(aToB), 'average distance'),
    referenceToPrediction: distance(surfelAverage(bToA), 'average distance'),
  };
  const nsd: Record<number, MetricResult> = {};
  for (const t of tolerances) nsd[t] = surfelNsd(aToB, bToA, t);
  const surfaceVoxels = { a: nA, b: nB };
  if (directedOnly) {
    return {
      hd: distance(surfelPercentile(aToB, 100), 'robust Hausdorff'),
      hd95: distance(surfelPercentile(aToB, 95), 'robust Hausdorff'),
      assd: averagePair.predictionToReference,
      nsd,
      surfaceVoxels,
      averageDistance: averagePair,
    };
  }
  const pair = (p: number): number => Math.max(surfelPercentile(aToB, p), surfelPercentile(bToA, p));
  let assd: MetricResult;
  if (empty === 'both masks empty') assd = undefinedMetric("both masks empty: DeepMind's averages are (NaN, NaN)");
  else if (empty) assd = metric(Number.POSITIVE_INFINITY, "one mask empty: DeepMind's averages are (Infinity, NaN)");
  else assd = metric((averagePair.predictionToReference.value + averagePair.referenceToPrediction.value) / 2);
  return {
    hd: distance(pair(100), 'robust Hausdorff'),
    hd95: distance(pair(95), 'robust Hausdorff'),
    assd,
    nsd,
    surfaceVoxels,
    averageDistance: averagePair,
  };
}
