/**
 * Surface-distance metrics between two segmentation masks: Hausdorff distance
 * (HD), its 95th percentile (HD95), average symmetric surface distance (ASSD) and
 * normalised surface Dice (NSD) at tolerances in mm.
 *
 * Definitions follow MONAI (`get_mask_edges`, `get_surface_distance`,
 * `compute_hausdorff_distance`, `compute_average_surface_distance`,
 * `compute_surface_dice` with `use_subvoxels=False`), METRICS.md "Segmentation":
 * - surface ∂A = A XOR its 6-connected erosion (4-connected for 2D masks,
 *   nz = 1); voxels outside the volume are background, so a mask touching the
 *   border has surface there (scipy `binary_erosion(border_value=0)`);
 * - the distance of a surface voxel is the Euclidean distance in mm, with the
 *   voxel spacing, to the nearest surface voxel of the other mask — the value
 *   scipy `distance_transform_edt(~∂B, sampling=spacing)[∂A]` gives.
 *
 * How it stays fast and small: instead of a distance map over the volume, the
 * surfaces are extracted from run lengths (a few hundred thousand voxels for a
 * 512×512×256 pair) and each surface voxel's nearest neighbour on the other
 * surface is found exactly with a k-d tree. Squared distances are summed in
 * scipy's order (z, y, x), so HD, HD95 and NSD come out bit for bit as with the
 * EDT, and ASSD within an ulp (test/bench/scoring-segmentation.bench.ts).
 *
 * `convention`, `directed` and `subvoxels` give MONAI's options and DeepMind's
 * surfel-based figures where they differ (docs/metrics-conventions.md).
 */
import {
  type MetricConvention,
  type MetricResult,
  METRIC_CONVENTIONS,
  conventionLabel,
  metric,
  undefinedMetric,
  withConvention,
} from './metric-result.js';
import { assertSameGrid, MaskShapeError } from './segmentation.js';
import { directedDistances, SurfaceKdTree, VoxelList } from './surface-kdtree.js';
import { type AnyMask, type RowRuns, runsOf, toRowRuns } from './surface-rows.js';
import { accurateSum, deepmindSurfaceFigures, surfelDistances, surfelNsd } from './surfels.js';

/** Options of {@link surfaceDistances}. */
export interface SurfaceDistanceOptions {
  /** Voxel size in mm (x, y, z). Omitted: the masks' own spacing, which must agree. */
  spacing?: [number, number, number];
  /** NSD tolerances τ in mm; a surface voxel counts when its distance is ≤ τ (MONAI). */
  tolerances?: number[];
  /** Foreground label of dense masks. Omitted: every non-zero voxel. Run-length masks are their runs. */
  label?: number;
  /**
   * Whose conventions (docs/metrics-conventions.md). `'goldline'` (default) and
   * `'monai'` give the same figures (voxel surfaces, MONAI's definitions);
   * `'deepmind'` uses DeepMind's surfels on the corner grid, area-weighted.
   * Given, every figure records it in `convention`.
   */
  convention?: MetricConvention;
  /**
   * HD, HD95 and ASSD from the prediction (first mask) to the reference only:
   * MONAI `compute_hausdorff_distance(directed=True)`,
   * `compute_average_surface_distance(symmetric=False)` (MONAI's default there).
   * NSD stays symmetric, as in MONAI and DeepMind.
   */
  directed?: boolean;
  /**
   * NSD over surfel areas (MONAI `compute_surface_dice(use_subvoxels=True)`,
   * DeepMind's surface Dice) instead of counting surface voxels. Always on
   * with `convention: 'deepmind'`.
   */
  subvoxels?: boolean;
}

/** Result of {@link surfaceDistances}; distances in mm. */
export interface SurfaceDistances {
  hd: MetricResult;
  hd95: MetricResult;
  assd: MetricResult;
  /** NSD per tolerance τ (key: τ in mm). */
  nsd: Record<number, MetricResult>;
  /** Number of surface voxels |∂A|, |∂B| (with `convention: 'deepmind'`: of surfels). */
  surfaceVoxels: { a: number; b: number };
  /** DeepMind only: the directed area-weighted averages `compute_average_surface_distance` returns. */
  averageDistance?: { predictionToReference: MetricResult; referenceToPrediction: MetricResult };
  /** The convention label, when one was chosen (as on every figure). */
  convention?: string;
}

/** Intersection of two sorted interval lists into (o0, o1); returns its length. */
function intersectIntervals(
  a0: Uint32Array,
  a1: Uint32Array,
  aFrom: number,
  aTo: number,
  b0: Uint32Array,
  b1: Uint32Array,
  bFrom: number,
  bTo: number,
  o0: Uint32Array,
  o1: Uint32Array,
): number {
  let i = aFrom;
  let j = bFrom;
  let n = 0;
  while (i < aTo && j < bTo) {
    const lo = Math.max(a0[i], b0[j]);
    const hi = Math.min(a1[i], b1[j]);
    if (hi > lo) {
      o0[n] = lo;
      o1[n] = hi;
      n++;
    }
    if (a1[i] < b1[j]) i++;
    else j++;
  }
  return n;
}

/**
 * Surface voxels of a mask given as row intervals. A foreground voxel is
 * interior when its 4 (2D) or 6 (3D) face neighbours are all foreground; out of
 * the volume counts as background. Per row: interior = (row eroded along x) ∩
 * the rows above/below (y ± 1) and, in 3D, in the neighbouring slices (z ± 1);
 * surface = row − interior. Cost O(intervals + surface voxels).
 */
function surfaceVoxels(rr: RowRuns, dims: readonly number[]): VoxelList {
  const [nx, ny, nz] = dims;
  const is3d = nz > 1;
  const { rowPtr, x0, x1 } = rr;
  const out = new VoxelList();
  // Scratch interval buffers; a row holds at most ⌈nx/2⌉ intervals.
  const cap = nx + 2;
  let c0 = new Uint32Array(cap);
  let c1 = new Uint32Array(cap);
  let t0 = new Uint32Array(cap);
  let t1 = new Uint32Array(cap);
  const neighbours = [0, 0, 0, 0];
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const r = y + ny * z;
      const from = rowPtr[r];
      const to = rowPtr[r + 1];
      if (from === to) continue;
      let interior = 0;
      const hasAll = y > 0 && y < ny - 1 && (!is3d || (z > 0 && z < nz - 1));
      if (hasAll) {
        neighbours[0] = r - 1;
        neighbours[1] = r + 1;
        neighbours[2] = r - ny;
        neighbours[3] = r + ny;
        // Erode along x: both x-neighbours must be foreground.
        for (let k = from; k < to; k++) {
          if (x1[k] - x0[k] > 2) {
            c0[interior] = x0[k] + 1;
            c1[interior] = x1[k] - 1;
            interior++;
          }
        }
        for (let m = 0; m < (is3d ? 4 : 2) && interior > 0; m++) {
          const nr = neighbours[m];
          interior = intersectIntervals(c0, c1, 0, interior, x0, x1, rowPtr[nr], rowPtr[nr + 1], t0, t1);
          const s0 = c0;
          c0 = t0;
          t0 = s0;
          const s1 = c1;
          c1 = t1;
          t1 = s1;
        }
      }
      // Emit row − interior; interior intervals lie inside the row's intervals.
      let ip = 0;
      for (let k = from; k < to; k++) {
        let x = x0[k];
        const e = x1[k];
        while (ip < interior && c0[ip] < e) {
          for (; x < c0[ip]; x++) out.push(x, y, z);
          x = c1[ip];
          ip++;
        }
        for (; x < e; x++) out.push(x, y, z);
      }
    }
  }
  return out;
}

function surfaceOf(mask: AnyMask, label: number | undefined): VoxelList {
  const [nx, ny, nz] = mask.dims;
  return surfaceVoxels(toRowRuns(runsOf(mask, label), nx, ny * nz), mask.dims);
}

/**
 * Linear indices (x fastest) of the surface voxels of a mask: the voxels of
 * the mask that are not in its 6-connected erosion (4-connected when nz = 1),
 * out-of-volume = background, as MONAI `get_mask_edges` / medpy.
 *
 * @example
 * // A 3×3×3 cube in a 5×5×5 volume: 26 surface voxels (all but the centre).
 * maskSurface(cube).length // 26
 */
export function maskSurface(mask: AnyMask, options: { label?: number } = {}): Uint32Array {
  const [nx, ny] = mask.dims;
  const s = surfaceOf(mask, options.label);
  const out = new Uint32Array(s.count);
  for (let i = 0; i < s.count; i++) out[i] = s.xyz[3 * i] + nx * (s.xyz[3 * i + 1] + ny * s.xyz[3 * i + 2]);
  return out;
}

/**
 * q-th quantile of ascending `sorted` with linear interpolation, computed the
 * way numpy's default `method='linear'` does (virtual index (n − 1)·q, then
 * `_lerp` from the nearer end), so HD95 matches `np.percentile(d, 95)` bit for bit.
 */
function quantileLinear(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  const virtualIndex = (n - 1) * q;
  const prev = Math.min(Math.max(Math.floor(virtualIndex), 0), n - 1);
  const next = Math.min(prev + 1, n - 1);
  const gamma = virtualIndex - Math.floor(virtualIndex);
  const a = sorted[prev];
  const b = sorted[next];
  const diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

function resolveSpacing(a: AnyMask, b: AnyMask, spacing?: readonly number[]): [number, number, number] {
  const s = spacing ?? a.spacing;
  if (spacing === undefined && a.spacing.some((v, i) => Math.abs(v - b.spacing[i]) > 1e-6 * Math.abs(v))) {
    throw new MaskShapeError(`masks have different spacing: [${a.spacing}] vs [${b.spacing}]; pass options.spacing`);
  }
  if (s.length !== 3 || s.some((v) => !(v > 0) || !Number.isFinite(v))) {
    throw new MaskShapeError(`spacing must be 3 positive finite numbers (mm), got [${s}]`);
  }
  return [s[0], s[1], s[2]];
}

/**
 * HD, HD95, ASSD and NSD between the surfaces of two masks on one grid
 * (dense label maps or run-length masks, in any combination).
 *
 * - HD = max(max d(∂A→∂B), max d(∂B→∂A)) — MONAI `compute_hausdorff_distance`.
 * - HD95 = max of the two directed 95th percentiles, linear interpolation
 *   (`np.percentile` default) — MONAI with `percentile=95`.
 * - ASSD = mean of all pooled distances of both directions — current MONAI
 *   `compute_average_surface_distance(symmetric=True)`.
 * - NSD(τ) = (|{a ∈ ∂A: d(a,∂B) ≤ τ}| + |{b ∈ ∂B: d(b,∂A) ≤ τ}|)/(|∂A| + |∂B|)
 *   — MONAI `compute_surface_dice(use_subvoxels=False)`, which uses ≤ τ.
 *
 * Conventions: one mask empty → HD, HD95, ASSD = Infinity and NSD = 0 (with a
 * reason); both empty → every metric undefined (NaN with a reason).
 * Exact: same numbers as scipy `distance_transform_edt(sampling=spacing)` on
 * the whole volume; memory is O(surface voxels), not O(volume).
 *
 * `a` is the prediction, `b` the reference. `directed` keeps the a → b side of
 * HD, HD95 and ASSD (MONAI `directed=True`); `subvoxels` weighs NSD by surfel
 * area (MONAI `use_subvoxels=True`); `convention: 'deepmind'` computes every
 * figure from DeepMind's surfels ({@link deepmindSurfaceFigures}).
 *
 * @example
 * const r = surfaceDistances(vendor, reference, { tolerances: [1, 2] });
 * r.hd95.value // 2.1 (mm)
 * r.nsd[1].value // 0.87
 * surfaceDistances(vendor, reference, { convention: 'deepmind', tolerances: [1] }).averageDistance
 * // { predictionToReference: { value: 0.34, convention: 'deepmind' }, referenceToPrediction: { … } }
 */
export function surfaceDistances(a: AnyMask, b: AnyMask, options: SurfaceDistanceOptions = {}): SurfaceDistances {
  assertSameGrid(a, b);
  const spacing = resolveSpacing(a, b, options.spacing);
  const tolerances = options.tolerances ?? [];
  for (const t of tolerances) {
    if (!(t >= 0)) throw new RangeError(`NSD tolerance must be ≥ 0 mm, got ${t}`);
  }
  const c = resolveSurfaceConvention(options);
  let r: SurfaceDistances;
  if (c.name === 'deepmind') {
    r = deepmindSurfaceFigures(a, b, spacing, tolerances, options.label, c.directed);
  } else {
    r = voxelSurfaceFigures(a, b, spacing, tolerances, options.label, c.directed);
    if (c.subvoxels && tolerances.length > 0) {
      const { aToB, bToA } = surfelDistances(a, b, spacing, options.label);
      for (const t of tolerances) r.nsd[t] = surfelNsd(aToB, bToA, t);
    }
  }
  if (c.label === undefined) return r;
  const nsd: Record<number, MetricResult> = {};
  for (const t of tolerances) nsd[t] = withConvention(r.nsd[t], c.label);
  const stamped: SurfaceDistances = {
    ...r,
    hd: withConvention(r.hd, c.label),
    hd95: withConvention(r.hd95, c.label),
    assd: withConvention(r.assd, c.label),
    nsd,
    convention: c.label,
  };
  if (r.averageDistance) {
    stamped.averageDistance = {
      predictionToReference: withConvention(r.averageDistance.predictionToReference, c.label),
      referenceToPrediction: withConvention(r.averageDistance.referenceToPrediction, c.label),
    };
  }
  return stamped;
}

/** The convention, its options and its label; a misplaced option is refused, never ignored. */
function resolveSurfaceConvention(options: SurfaceDistanceOptions): {
  name: MetricConvention;
  directed: boolean;
  subvoxels: boolean;
  label?: string;
} {
  const name = options.convention ?? 'goldline';
  if (!METRIC_CONVENTIONS.includes(name)) {
    throw new RangeError(`convention must be one of ${METRIC_CONVENTIONS.join(', ')}, got ${String(name)}`);
  }
  if (name === 'deepmind' && options.subvoxels === false) {
    throw new RangeError("DeepMind's surface metrics are surfel-based: subvoxels: false does not apply");
  }
  const directed = options.directed ?? false;
  const subvoxels = name === 'deepmind' || (options.subvoxels ?? false);
  const qualifiers =
    name === 'monai'
      ? [...(directed ? ['directed=True'] : []), ...(subvoxels ? ['use_subvoxels=True'] : [])]
      : [...(directed ? ['directed'] : []), ...(subvoxels && name === 'goldline' ? ['subvoxels'] : [])];
  const chosen = options.convention !== undefined || directed || subvoxels;
  return { name, directed, subvoxels, label: chosen ? conventionLabel(name, qualifiers) : undefined };
}

/** HD, HD95, ASSD and voxel-counting NSD between the voxel surfaces (Goldline's and MONAI's definitions). */
function voxelSurfaceFigures(
  a: AnyMask,
  b: AnyMask,
  spacing: [number, number, number],
  tolerances: readonly number[],
  label: number | undefined,
  directed: boolean,
): SurfaceDistances {
  // Only the trees are kept: the surface lists are dropped as soon as they are indexed.
  const ta = new SurfaceKdTree(surfaceOf(a, label), spacing);
  const tb = new SurfaceKdTree(surfaceOf(b, label), spacing);
  const surfaceCounts = { a: ta.n, b: tb.n };
  const nsd: Record<number, MetricResult> = {};

  if (ta.n === 0 && tb.n === 0) {
    const why = 'both masks empty: surface distances undefined';
    for (const t of tolerances) nsd[t] = undefinedMetric(why);
    const u = undefinedMetric(why);
    return { hd: u, hd95: u, assd: u, nsd, surfaceVoxels: surfaceCounts };
  }
  if (ta.n === 0 || tb.n === 0) {
    const why = 'one mask empty: distance to an empty surface is infinite (MONAI convention)';
    for (const t of tolerances) nsd[t] = metric(0, 'one mask empty: NSD 0 by convention');
    const inf = metric(Number.POSITIVE_INFINITY, why);
    return { hd: inf, hd95: inf, assd: inf, nsd, surfaceVoxels: surfaceCounts };
  }

  const ab = directedDistances(ta, tb).sort();
  const ba = directedDistances(tb, ta).sort();
  const total = ab.length + ba.length;
  for (const t of tolerances) {
    nsd[t] = metric((countAtMost(ab, t) + countAtMost(ba, t)) / total);
  }
  if (directed) {
    return {
      hd: metric(ab[ab.length - 1]),
      hd95: metric(quantileLinear(ab, 0.95)),
      assd: metric(accurateSum(ab) / ab.length),
      nsd,
      surfaceVoxels: surfaceCounts,
    };
  }
  return {
    hd: metric(Math.max(ab[ab.length - 1], ba[ba.length - 1])),
    hd95: metric(Math.max(quantileLinear(ab, 0.95), quantileLinear(ba, 0.95))),
    assd: metric((accurateSum(ab) + accurateSum(ba)) / total),
    nsd,
    surfaceVoxels: surfaceCounts,
  };
}

/** Number of values ≤ t in ascending `sorted` (binary search). */
function countAtMost(sorted: Float64Array, t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
