/**
 * Exact nearest-neighbour distances between two sets of integer grid points
 * (surface voxels, or DeepMind's surfel corners) under anisotropic spacing:
 * a k-d tree whose squared distances are summed in scipy's order (z, y, x), so
 * the figures equal `distance_transform_edt(sampling=spacing)` bit for bit.
 */

/** Growable list of integer voxel coordinates, interleaved x, y, z. */
export class VoxelList {
  xyz = new Int32Array(3 * 4096);
  count = 0;

  push(x: number, y: number, z: number): void {
    if (3 * this.count + 3 > this.xyz.length) {
      const grown = new Int32Array(this.xyz.length * 2);
      grown.set(this.xyz);
      this.xyz = grown;
    }
    const k = 3 * this.count++;
    this.xyz[k] = x;
    this.xyz[k + 1] = y;
    this.xyz[k + 2] = z;
  }
}

/** Points per k-d tree leaf: small enough to prune well, large enough to keep the tree shallow. */
const LEAF = 8;

/**
 * Exact nearest-neighbour search among integer voxel coordinates under the
 * anisotropic metric d² = (Δz·sz)² + (Δy·sy)² + (Δx·sx)² (scipy's summation
 * order). Balanced median splits on the widest axis in mm; points are kept in
 * tree order, so leaves are contiguous and walking the points in that order
 * visits neighbours one after another.
 */
export class SurfaceKdTree {
  /** Voxel coordinates in tree order, interleaved x, y, z. */
  readonly pts: Int32Array;
  /** Number of points. */
  readonly n: number;
  /** Tree position → index of the point in the list it was built from (to carry per-point data, e.g. surfel areas). */
  readonly order: Uint32Array;
  /** Split axis and coordinate per internal node (heap numbering, root 1). */
  private readonly axis: Uint8Array;
  private readonly split: Int32Array;
  private readonly s0: number;
  private readonly s1: number;
  private readonly s2: number;
  /** Explicit DFS stack: node, range, and a lower bound on its squared distance. */
  private readonly stackNode: Int32Array;
  private readonly stackLo: Int32Array;
  private readonly stackHi: Int32Array;
  private readonly stackBound: Float64Array;
  /** Best squared distance and tree-order index of the last query. */
  best2 = 0;
  bestIdx = 0;

  constructor(points: VoxelList, spacing: readonly number[]) {
    const n = points.count;
    this.n = n;
    [this.s0, this.s1, this.s2] = spacing;
    let levels = 0;
    while (Math.ceil(n / 2 ** levels) > LEAF) levels++;
    this.axis = new Uint8Array(2 ** (levels + 1));
    this.split = new Int32Array(2 ** (levels + 1));
    // A depth-first search holds at most one pending sibling per level.
    this.stackNode = new Int32Array(levels + 2);
    this.stackLo = new Int32Array(levels + 2);
    this.stackHi = new Int32Array(levels + 2);
    this.stackBound = new Float64Array(levels + 2);
    const src = points.xyz;
    const idx = new Uint32Array(n);
    const min = [0, 0, 0].map((_, d) => (n > 0 ? src[d] : 0));
    const max = [...min];
    for (let i = 0; i < n; i++) {
      idx[i] = i;
      for (let d = 0; d < 3; d++) {
        const v = src[3 * i + d];
        if (v < min[d]) min[d] = v;
        if (v > max[d]) max[d] = v;
      }
    }
    this.build(src, idx, 1, 0, n, min, max);
    this.order = idx;
    this.pts = new Int32Array(3 * n);
    for (let i = 0; i < n; i++) {
      const p = 3 * idx[i];
      this.pts[3 * i] = src[p];
      this.pts[3 * i + 1] = src[p + 1];
      this.pts[3 * i + 2] = src[p + 2];
    }
  }

  /** Splits [lo, hi) at its median along the widest side of its cell (bounds narrowed by the splits above). */
  private build(src: Int32Array, idx: Uint32Array, node: number, lo: number, hi: number, min: number[], max: number[]): void {
    if (hi - lo <= LEAF) return;
    const ex = (max[0] - min[0]) * this.s0;
    const ey = (max[1] - min[1]) * this.s1;
    const ez = (max[2] - min[2]) * this.s2;
    const axis = ex >= ey && ex >= ez ? 0 : ey >= ez ? 1 : 2;
    const mid = (lo + hi) >>> 1;
    selectNth(src, idx, axis, lo, hi - 1, mid);
    const at = src[3 * idx[mid] + axis];
    this.axis[node] = axis;
    this.split[node] = at;
    const leftMax = [...max];
    leftMax[axis] = at;
    const rightMin = [...min];
    rightMin[axis] = at;
    this.build(src, idx, 2 * node, lo, mid, min, leftMax);
    this.build(src, idx, 2 * node + 1, mid, hi, rightMin, max);
  }

  /**
   * Nearest tree point to voxel (x, y, z); the answer lands in best2/bestIdx.
   * `guess` (a tree-order index, e.g. the previous query's answer) seeds the
   * search radius: neighbouring surface voxels have neighbouring answers, so
   * most subtrees are pruned at once.
   */
  nearest(x: number, y: number, z: number, guess: number): void {
    const pts = this.pts;
    const axisOf = this.axis;
    const split = this.split;
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const stackNode = this.stackNode;
    const stackLo = this.stackLo;
    const stackHi = this.stackHi;
    const stackBound = this.stackBound;
    let p = 3 * guess;
    let dz = (z - pts[p + 2]) * s2;
    let dy = (y - pts[p + 1]) * s1;
    let dx = (x - pts[p]) * s0;
    let best2 = dz * dz + dy * dy + dx * dx;
    let bestIdx = guess;
    stackNode[0] = 1;
    stackLo[0] = 0;
    stackHi[0] = this.n;
    stackBound[0] = 0;
    let sp = 1;
    while (sp > 0) {
      sp--;
      if (stackBound[sp] >= best2) continue;
      let node = stackNode[sp];
      let lo = stackLo[sp];
      let hi = stackHi[sp];
      while (hi - lo > LEAF) {
        const mid = (lo + hi) >>> 1;
        const axis = axisOf[node];
        // Left points have coordinate ≤ split, right points ≥ split: the far
        // side is at least |q − split|·s away along this axis.
        const diff = axis === 0 ? (x - split[node]) * s0 : axis === 1 ? (y - split[node]) * s1 : (z - split[node]) * s2;
        const bound = diff * diff;
        const near = diff < 0 ? 2 * node : 2 * node + 1;
        if (bound < best2) {
          stackNode[sp] = near ^ 1;
          stackLo[sp] = diff < 0 ? mid : lo;
          stackHi[sp] = diff < 0 ? hi : mid;
          stackBound[sp] = bound;
          sp++;
        }
        node = near;
        if (diff < 0) hi = mid;
        else lo = mid;
      }
      for (let i = lo; i < hi; i++) {
        p = 3 * i;
        dz = (z - pts[p + 2]) * s2;
        dy = (y - pts[p + 1]) * s1;
        dx = (x - pts[p]) * s0;
        const d2 = dz * dz + dy * dy + dx * dx;
        if (d2 < best2) {
          best2 = d2;
          bestIdx = i;
        }
      }
    }
    this.best2 = best2;
    this.bestIdx = bestIdx;
  }
}

/** Hoare quickselect: puts the k-th smallest (by coordinate `axis`) at idx[k], smaller left, larger right. */
function selectNth(src: Int32Array, idx: Uint32Array, axis: number, lo: number, hi: number, k: number): void {
  while (hi > lo) {
    const a = src[3 * idx[lo] + axis];
    const b = src[3 * idx[(lo + hi) >>> 1] + axis];
    const c = src[3 * idx[hi] + axis];
    const pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), c)); // median of three
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (src[3 * idx[i] + axis] < pivot) i++;
      while (src[3 * idx[j] + axis] > pivot) j--;
      if (i <= j) {
        const t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/**
 * Distance (mm) from every voxel of one surface to the nearest voxel of the
 * other. Queries go in tree order, so each starts from its predecessor's answer.
 */
export function directedDistances(from: SurfaceKdTree, tree: SurfaceKdTree): Float64Array {
  const out = new Float64Array(from.n);
  const q = from.pts;
  let guess = 0;
  for (let i = 0; i < from.n; i++) {
    tree.nearest(q[3 * i], q[3 * i + 1], q[3 * i + 2], guess);
    guess = tree.bestIdx;
    out[i] = Math.sqrt(tree.best2);
  }
  return out;
}

