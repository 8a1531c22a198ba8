/**
 * Drift alarms on gold results (issue 12 bullet 2): a Bernoulli CUSUM and a
 * lower-sided EWMA chart, with their design (average run lengths). Pure.
 *
 * Input to both charts is one observation per scored batch, in batch order:
 * `{ goldN, goldCorrect }`. The CUSUM is the Bernoulli CUSUM of Reynolds &
 * Stoumbos (1999) on per-item errors, accumulated per batch: an item's error
 * X ∈ {0,1} adds X − γ, with the reference value γ = 1/m (m an integer, the
 * nearest to the likelihood-ratio reference value, as Reynolds & Stoumbos
 * round it so the chart lives on a lattice and its run length is exact). Items
 * are only ever seen batch by batch, so the statistic is updated once per batch
 * with the batch's sum (S ← max(0, S + w − γn)): the binomial CUSUM, alarmed
 * at S ≥ h. Scaled by m the statistic is an integer, and its run length in
 * batches (for a fixed gold count per batch) is a finite Markov chain: the
 * ARL is computed EXACTLY by solving (I − Q)·ARL = 1 (no approximation).
 *
 * The EWMA smooths per-batch gold accuracy, z_t = λ·x_t + (1 − λ)·z_{t−1},
 * z_0 = p0, with the lower limit p0 − L·sd(z_t), sd from the exact variance
 * Σ_i λ²(1 − λ)^{2(t−i)}·p0(1 − p0)/n_i (the time-varying term included).
 * Its ARL is computed by a Brook & Evans (1972) Markov-chain approximation:
 * z discretised on a grid of cells over [0, 1], propagated batch by batch with
 * the binomial law and the time-varying limit, ARL = Σ_t P(T > t).
 */
import { z } from 'zod';

/** One batch's gold result. */
export interface GoldResult {
  goldN: number;
  goldCorrect: number;
}

export const CusumParams = z.strictObject({
  /** In-control gold accuracy (e.g. the AQL accuracy). */
  p0: z.number().gt(0).lt(1),
  /** Out-of-control gold accuracy the chart is tuned to detect (below p0). */
  p1: z.number().gt(0).lt(1),
  /** Decision interval, in excess errors (errors beyond γ per gold item). */
  h: z.number().positive(),
});
export type CusumParams = z.infer<typeof CusumParams>;

export const EwmaParams = z.strictObject({
  /** In-control gold accuracy (the chart's centre line). */
  p0: z.number().gt(0).lt(1),
  /** Smoothing weight of the newest batch (0, 1]. */
  lambda: z.number().gt(0).max(1),
  /** Width of the lower control limit in standard deviations of z_t. */
  L: z.number().positive(),
});
export type EwmaParams = z.infer<typeof EwmaParams>;

/** The CUSUM's lattice: γ = 1/m; the scaled statistic m·S is an integer, alarmed at ≥ H. */
export interface CusumLattice {
  /** Reference value per item, γ = 1/m. */
  gamma: number;
  m: number;
  /** Scaled decision interval: alarm when m·S ≥ H (H = ceil(m·h)). */
  H: number;
  /** The unrounded likelihood-ratio reference value. */
  gammaExact: number;
}

/**
 * The reference value for error rates q0 = 1 − p0 → q1 = 1 − p1:
 * γ = ln((1−q0)/(1−q1)) / ln(q1(1−q0) / (q0(1−q1))), rounded to 1/m.
 */
export function cusumLattice(params: CusumParams): CusumLattice {
  const { p0, p1, h } = CusumParams.parse(params);
  if (!(p1 < p0)) throw new RangeError(`cusum: p1 (${p1}) must be below p0 (${p0}): the chart detects a fall in accuracy`);
  const q0 = 1 - p0;
  const q1 = 1 - p1;
  const gammaExact = Math.log((1 - q0) / (1 - q1)) / Math.log((q1 * (1 - q0)) / (q0 * (1 - q1)));
  const m = Math.max(1, Math.round(1 / gammaExact));
  return { gamma: 1 / m, m, H: Math.ceil(m * h - 1e-9), gammaExact };
}

/** Binomial probabilities P(W = w), w = 0..n. */
function binomialPmf(n: number, p: number): number[] {
  const out = new Array<number>(n + 1).fill(0);
  if (p <= 0) out[0] = 1;
  else if (p >= 1) out[n] = 1;
  else {
    let logC = 0;
    for (let w = 0; w <= n; w++) {
      if (w > 0) logC += Math.log((n - w + 1) / w);
      out[w] = Math.exp(logC + w * Math.log(p) + (n - w) * Math.log(1 - p));
    }
  }
  return out;
}

/** Solves A·x = b by Gaussian elimination with partial pivoting (A square, dense). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const a = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[piv][c])) piv = r;
    [a[c], a[piv]] = [a[piv], a[c]];
    for (let r = c + 1; r < n; r++) {
      const f = a[r][c] / a[c][c];
      if (f === 0) continue;
      for (let k = c; k <= n; k++) a[r][k] -= f * a[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r][n];
    for (let k = r + 1; k < n; k++) s -= a[r][k] * x[k];
    x[r] = s / a[r][r];
  }
  return x;
}

/** Transition matrix of the scaled CUSUM among the in-control states 0..H−1 (mass to ≥ H is the alarm). */
function cusumTransitions(lat: CusumLattice, n: number, accuracy: number): number[][] {
  const pmf = binomialPmf(n, 1 - accuracy);
  const Q = Array.from({ length: lat.H }, () => new Array<number>(lat.H).fill(0));
  for (let s = 0; s < lat.H; s++) {
    for (let w = 0; w <= n; w++) {
      const next = Math.max(0, s + lat.m * w - n);
      if (next < lat.H) Q[s][next] += pmf[w];
    }
  }
  return Q;
}

/**
 * Exact average run length (in batches) of the CUSUM started at 0 (zero state),
 * with `n` gold items per batch and true gold accuracy `accuracy`.
 */
export function cusumArl(params: CusumParams, n: number, accuracy: number): number {
  const lat = cusumLattice(params);
  if (lat.H === 0) return 1;
  const Q = cusumTransitions(lat, n, accuracy);
  const A = Q.map((row, i) => row.map((q, j) => (i === j ? 1 : 0) - q));
  return solve(A, new Array<number>(lat.H).fill(1))[0];
}

/** Exact P(run length ≤ k) for k = 1..kMax, CUSUM from the zero state. */
export function cusumRunLengthCdf(params: CusumParams, n: number, accuracy: number, kMax: number): number[] {
  const lat = cusumLattice(params);
  const Q = cusumTransitions(lat, n, accuracy);
  let dist = new Array<number>(lat.H).fill(0);
  dist[0] = 1;
  const cdf: number[] = [];
  for (let k = 1; k <= kMax; k++) {
    const next = new Array<number>(lat.H).fill(0);
    for (let i = 0; i < lat.H; i++) if (dist[i] > 0) for (let j = 0; j < lat.H; j++) next[j] += dist[i] * Q[i][j];
    dist = next;
    cdf.push(1 - dist.reduce((s, x) => s + x, 0));
  }
  return cdf;
}

/** The smallest k with P(run length ≤ k) ≥ `probability` (the documented detection delay). */
export function cusumDetectionBatches(params: CusumParams, n: number, accuracy: number, probability = 0.9, kMax = 1000): number {
  const cdf = cusumRunLengthCdf(params, n, accuracy, kMax);
  const k = cdf.findIndex((c) => c >= probability);
  if (k < 0) throw new RangeError(`cusum: not detected with probability ${probability} within ${kMax} batches`);
  return k + 1;
}

/** A chart design: parameters and their run lengths at the design gold count per batch. */
export interface CusumDesign extends CusumLattice {
  params: CusumParams;
  /** Gold items per batch the ARLs are computed for. */
  n: number;
  arl0: number;
  arl1: number;
}

/**
 * Picks the smallest decision interval h (on the lattice, in steps of 1/m) whose
 * exact in-control ARL is at least `arl0` batches of `n` gold items.
 *
 * @example designCusum({ p0: 0.95, p1: 0.8, arl0: 200, n: 10 }) // h = 4.556, arl0 ≈ 205, arl1 ≈ 3.1
 */
export function designCusum(input: { p0: number; p1: number; arl0: number; n: number }): CusumDesign {
  if (!(input.arl0 > 1)) throw new RangeError('designCusum: arl0 must exceed 1');
  if (!Number.isInteger(input.n) || input.n < 1) throw new RangeError('designCusum: n must be a positive integer');
  const base = cusumLattice({ p0: input.p0, p1: input.p1, h: 1 });
  for (let H = 1; H <= 100_000; H++) {
    const params = { p0: input.p0, p1: input.p1, h: H / base.m };
    const arl0 = cusumArl(params, input.n, input.p0);
    if (arl0 >= input.arl0) {
      return { ...cusumLattice(params), params, n: input.n, arl0, arl1: cusumArl(params, input.n, input.p1) };
    }
  }
  throw new RangeError(`designCusum: no h up to 100000/m reaches arl0 ${input.arl0}`);
}

/** One chart's reading after a batch. */
export interface ChartPoint {
  /** Index of the batch in the series (0-based). */
  index: number;
  statistic: number;
  /** The limit the statistic is compared with (CUSUM: h, upper; EWMA: the lower control limit). */
  limit: number;
  alarm: boolean;
}

/** An excursion: from the first batch that moved the statistic off its resting value to the alarm. */
export interface Excursion {
  chart: 'cusum' | 'ewma';
  /** Indices of the batches of the excursion, the alarming one last. */
  indices: number[];
  statistic: number;
  limit: number;
}

function checkResult(r: GoldResult, i: number): void {
  if (!Number.isInteger(r.goldN) || !Number.isInteger(r.goldCorrect) || r.goldN < 0 || r.goldCorrect < 0 || r.goldCorrect > r.goldN) {
    throw new RangeError(`batch ${i}: gold result ${r.goldCorrect}/${r.goldN} is not a count of correct items out of gold items`);
  }
}

/** A chart fed one batch at a time: `push` returns the reading and, on an alarm, the excursion (the chart then restarts). */
export interface Chart {
  push(r: GoldResult): ChartPoint & { excursion?: Excursion };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, k) => from + k);

/**
 * The CUSUM as a stepper; after an alarm it restarts at 0 (the alarm is raised
 * once per excursion). A batch without gold leaves it unchanged.
 */
export function cusumChart(params: CusumParams): Chart {
  const lat = cusumLattice(params);
  let s = 0; // scaled by m: an integer
  let start = -1;
  let i = -1;
  return {
    push(r) {
      i += 1;
      checkResult(r, i);
      s = Math.max(0, s + lat.m * (r.goldN - r.goldCorrect) - r.goldN);
      if (s > 0 && start < 0) start = i;
      if (s === 0) start = -1;
      const point = { index: i, statistic: s / lat.m, limit: lat.H / lat.m, alarm: s >= lat.H };
      if (!point.alarm) return point;
      const excursion: Excursion = { chart: 'cusum', indices: range(start < 0 ? i : start, i), statistic: point.statistic, limit: point.limit };
      s = 0;
      start = -1;
      return { ...point, excursion };
    },
  };
}

/**
 * The lower EWMA as a stepper on per-batch gold accuracy. The limit at batch t
 * is p0 − L·sd(z_t) with the exact variance (varying gold counts and the
 * time-varying term). After an alarm it restarts at z = p0. A batch without
 * gold leaves it unchanged.
 */
export function ewmaChart(params: EwmaParams): Chart {
  const { p0, lambda, L } = EwmaParams.parse(params);
  const sigma2 = p0 * (1 - p0);
  let zt = p0;
  let variance = 0;
  let start = -1;
  let i = -1;
  return {
    push(r) {
      i += 1;
      checkResult(r, i);
      if (r.goldN === 0) return { index: i, statistic: zt, limit: variance > 0 ? p0 - L * Math.sqrt(variance) : Number.NEGATIVE_INFINITY, alarm: false };
      zt = lambda * (r.goldCorrect / r.goldN) + (1 - lambda) * zt;
      variance = (1 - lambda) ** 2 * variance + (lambda ** 2 * sigma2) / r.goldN;
      const limit = p0 - L * Math.sqrt(variance);
      if (zt < p0 && start < 0) start = i;
      if (zt >= p0) start = -1;
      const point = { index: i, statistic: zt, limit, alarm: zt < limit };
      if (!point.alarm) return point;
      const excursion: Excursion = { chart: 'ewma', indices: range(start < 0 ? i : start, i), statistic: zt, limit };
      zt = p0;
      variance = 0;
      start = -1;
      return { ...point, excursion };
    },
  };
}

function runChart(chart: Chart, series: readonly GoldResult[]): { points: ChartPoint[]; excursions: Excursion[] } {
  const points: ChartPoint[] = [];
  const excursions: Excursion[] = [];
  for (const r of series) {
    const { excursion, ...point } = chart.push(r);
    points.push(point);
    if (excursion) excursions.push(excursion);
  }
  return { points, excursions };
}

/** Runs the CUSUM over a series (see {@link cusumChart}). */
export const runCusum = (series: readonly GoldResult[], params: CusumParams) => runChart(cusumChart(params), series);

/** Runs the lower EWMA over a series (see {@link ewmaChart}). */
export const runEwma = (series: readonly GoldResult[], params: EwmaParams) => runChart(ewmaChart(params), series);

/**
 * EWMA run length (in batches of `n` gold items at true accuracy `accuracy`) by
 * the Brook & Evans Markov-chain approximation: z on `cells` equal cells of
 * [0, 1] (each cell's mass sits at its centre), the time-varying limit applied
 * at each step, survival summed until below `tail`. With `inControlBatches` = k
 * the chart first runs k batches at p0 and the run length is counted from the
 * change, given no alarm before it (the steady-state delay: the limits have
 * widened and z has spread). Returns the ARL and the run-length CDF for the
 * first `cdfLength` batches.
 */
export function ewmaRunLength(
  params: EwmaParams,
  n: number,
  accuracy: number,
  options: { cells?: number; tail?: number; maxBatches?: number; cdfLength?: number; inControlBatches?: number } = {},
): { arl: number; cdf: number[] } {
  const { p0, lambda, L } = EwmaParams.parse(params);
  const cells = options.cells ?? 2000;
  const tail = options.tail ?? 1e-7;
  const maxBatches = options.maxBatches ?? 200_000;
  const cdfLength = options.cdfLength ?? 0;
  const before = options.inControlBatches ?? 0;
  const pmfIn = binomialPmf(n, p0);
  const pmf = binomialPmf(n, accuracy);
  const cellOf = (z: number): number => Math.min(cells - 1, Math.max(0, Math.floor(z * cells)));
  // Transition targets from each cell, for each outcome w (correct items).
  const target: Int32Array[] = [];
  for (let c = 0; c < cells; c++) {
    const zc = (c + 0.5) / cells;
    const row = new Int32Array(n + 1);
    for (let w = 0; w <= n; w++) row[w] = cellOf(lambda * (w / n) + (1 - lambda) * zc);
    target.push(row);
  }
  const sigma2 = (p0 * (1 - p0)) / n;
  let variance = 0;
  let dist = new Float64Array(cells);
  let atStart = true; // z_0 = p0 exactly (not a cell centre)
  const step = (law: number[]): void => {
    variance = (1 - lambda) ** 2 * variance + lambda ** 2 * sigma2;
    const limit = p0 - L * Math.sqrt(variance);
    const next = new Float64Array(cells);
    if (atStart) {
      for (let w = 0; w <= n; w++) {
        const z1 = lambda * (w / n) + (1 - lambda) * p0;
        if (z1 >= limit) next[cellOf(z1)] += law[w];
      }
      atStart = false;
    } else {
      for (let c = 0; c < cells; c++) {
        const mass = dist[c];
        if (mass === 0) continue;
        const row = target[c];
        for (let w = 0; w <= n; w++) {
          const to = row[w];
          if ((to + 0.5) / cells >= limit) next[to] += mass * law[w];
        }
      }
    }
    dist = next;
  };
  for (let t = 0; t < before; t++) step(pmfIn);
  if (before > 0) {
    const alive = dist.reduce((s, x) => s + x, 0);
    dist = dist.map((x) => x / alive);
  }
  let arl = 1; // P(T > 0) = 1
  const cdf: number[] = [];
  for (let t = 1; t <= maxBatches; t++) {
    step(pmf);
    const survival = dist.reduce((s, x) => s + x, 0);
    if (cdf.length < cdfLength) cdf.push(1 - survival);
    arl += survival;
    if (survival < tail && cdf.length >= cdfLength) break;
  }
  return { arl, cdf };
}

/**
 * The smallest k with P(EWMA run length ≤ k) ≥ `probability` (Brook & Evans
 * approximation), the change coming after `inControlBatches` batches at p0.
 */
export function ewmaDetectionBatches(params: EwmaParams, n: number, accuracy: number, probability = 0.9, inControlBatches = 0, kMax = 1000): number {
  const { cdf } = ewmaRunLength(params, n, accuracy, { cdfLength: kMax, tail: 1, inControlBatches });
  const k = cdf.findIndex((c) => c >= probability);
  if (k < 0) throw new RangeError(`ewma: not detected with probability ${probability} within ${kMax} batches`);
  return k + 1;
}
