import { describe, expect, it } from 'vitest';
import { staple } from '../../../functions/domain/scoring/staple.js';

/** Deterministic PRNG (mulberry32) so the synthetic raters are the same every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A truth mask (a disc in a 40×40 image) and raters that flip voxels at known rates. */
function synthetic(rates: { sensitivity: number; specificity: number }[], seed = 7) {
  const n = 40 * 40;
  const truth = new Uint8Array(n);
  for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) truth[x + 40 * y] = (x - 20) ** 2 + (y - 20) ** 2 <= 100 ? 1 : 0;
  const random = rng(seed);
  const raters = rates.map(({ sensitivity, specificity }) =>
    truth.map((t) => (t === 1 ? (random() < sensitivity ? 1 : 0) : random() < specificity ? 0 : 1)),
  );
  return { truth, raters };
}

/** ITK STAPLEImageFilter::GenerateData, voxel by voxel, as an independent check. */
function itkStaple(masks: Uint8Array[], maxIter: number, tol: number) {
  const n = masks[0].length;
  const w = new Float64Array(n);
  for (const m of masks) for (let i = 0; i < n; i++) w[i] += m[i] / masks.length;
  const g = w.reduce((s, v) => s + v, 0) / n;
  const p = masks.map(() => 0);
  const q = masks.map(() => 0);
  const lastP = masks.map(() => -10);
  const lastQ = masks.map(() => -10);
  let iterations = 0;
  for (let iter = 0; iter < maxIter; iter++) {
    iterations = iter + 1;
    masks.forEach((m, j) => {
      let pn = 0;
      let pd = 0;
      let qn = 0;
      let qd = 0;
      for (let i = 0; i < n; i++) {
        if (m[i] === 1) pn += w[i];
        else qn += 1 - w[i];
        pd += w[i];
        qd += 1 - w[i];
      }
      p[j] = pn / pd;
      q[j] = qn / qd;
    });
    for (let i = 0; i < n; i++) {
      let a = 1;
      let b = 1;
      masks.forEach((m, j) => {
        a *= m[i] === 1 ? p[j] : 1 - p[j];
        b *= m[i] === 1 ? 1 - q[j] : q[j];
      });
      w[i] = (g * a) / (g * a + (1 - g) * b);
    }
    if (iter > 0 && p.every((v, j) => Math.abs(v - lastP[j]) <= tol && Math.abs(q[j] - lastQ[j]) <= tol)) break;
    p.forEach((v, j) => {
      lastP[j] = v;
      lastQ[j] = q[j];
    });
  }
  return { w, p, q, g, iterations };
}

describe('Function: staple', () => {
  it('recovers each rater’s sensitivity and specificity from their masks alone', () => {
    // Arrange
    const rates = [
      { sensitivity: 0.95, specificity: 0.99 },
      { sensitivity: 0.8, specificity: 0.97 },
      { sensitivity: 0.9, specificity: 0.9 },
    ];
    const { truth, raters } = synthetic(rates);

    // Act
    const r = staple(raters);

    // Assert
    expect(r.converged).toBe(true);
    rates.forEach((rate, j) => {
      expect(r.sensitivity[j]).toBeCloseTo(rate.sensitivity, 1);
      expect(r.specificity[j]).toBeCloseTo(rate.specificity, 1);
    });
    const agree = truth.reduce((s, t, i) => s + (t === r.consensus[i] ? 1 : 0), 0);
    expect(agree / truth.length).toBeGreaterThan(0.97);
  });

  it('gives the same W, p, q and iteration count as ITK’s voxel-by-voxel loop', () => {
    const { raters } = synthetic(
      [
        { sensitivity: 0.9, specificity: 0.95 },
        { sensitivity: 0.7, specificity: 0.99 },
        { sensitivity: 0.85, specificity: 0.9 },
        { sensitivity: 0.6, specificity: 0.98 },
      ],
      11,
    );

    const r = staple(raters, { tol: 1e-7 });
    const ref = itkStaple(raters, 100, 1e-7);

    expect(r.iterations).toBe(ref.iterations);
    expect(r.prior).toBeCloseTo(ref.g, 14);
    for (const [j, v] of r.sensitivity.entries()) expect(v).toBeCloseTo(ref.p[j], 10);
    for (const [j, v] of r.specificity.entries()) expect(v).toBeCloseTo(ref.q[j], 10);
    for (const [i, v] of ref.w.entries()) {
      expect(r.weights[i]).toBeCloseTo(v, 6); // weights are Float32
      expect(r.consensus[i]).toBe(v >= 0.5 ? 1 : 0);
    }
  });

  it('returns the common mask with perfect rates when all raters agree', () => {
    const { truth } = synthetic([]);

    const r = staple([truth, truth.slice(), truth.slice()]);

    expect(r.consensus).toEqual(truth);
    expect(r.sensitivity).toEqual([1, 1, 1]);
    expect(r.specificity).toEqual([1, 1, 1]);
    expect(r.converged).toBe(true);
  });

  it('depends on the field of view through the prior; an ROI removes the padding’s effect', () => {
    // Arrange: the same raters, then padded with 3× as much background
    const { raters } = synthetic([
      { sensitivity: 0.9, specificity: 0.95 },
      { sensitivity: 0.75, specificity: 0.97 },
      { sensitivity: 0.8, specificity: 0.93 },
    ]);
    const n = raters[0].length;
    const padded = raters.map((m) => {
      const big = new Uint8Array(4 * n);
      big.set(m);
      return big;
    });
    const roi = new Uint8Array(4 * n).fill(1, 0, n);

    // Act
    const plain = staple(raters);
    const wide = staple(padded);
    const focused = staple(padded, { roi });

    // Assert
    expect(wide.prior).toBeCloseTo(plain.prior / 4, 12);
    expect(wide.weights.subarray(0, n)).not.toEqual(plain.weights);
    expect(focused.prior).toBeCloseTo(plain.prior, 12);
    expect(focused.weights.subarray(0, n)).toEqual(plain.weights);
    expect(focused.weights.subarray(n).every((v) => v === 0)).toBe(true);
    expect(focused.sensitivity).toEqual(plain.sensitivity);
  });

  it('uses a given prior instead of the mean vote', () => {
    const { raters } = synthetic([
      { sensitivity: 0.9, specificity: 0.9 },
      { sensitivity: 0.9, specificity: 0.9 },
    ]);

    expect(staple(raters, { prior: 0.3 }).prior).toBe(0.3);
  });

  it('stops after maxIter and says it did not converge', () => {
    const { raters } = synthetic([
      { sensitivity: 0.9, specificity: 0.95 },
      { sensitivity: 0.7, specificity: 0.9 },
    ]);

    const r = staple(raters, { maxIter: 1 });

    expect(r.iterations).toBe(1);
    expect(r.converged).toBe(false);
  });

  it('returns an empty consensus and undefined sensitivity when every mask is empty', () => {
    const r = staple([new Uint8Array(10), new Uint8Array(10)]);

    expect(r.consensus.every((v) => v === 0)).toBe(true);
    expect(r.sensitivity.every(Number.isNaN)).toBe(true);
    expect(r.specificity).toEqual([1, 1]);
  });

  it('refuses masks of different lengths, an ROI of another length, no masks and a prior outside (0, 1)', () => {
    expect(() => staple([new Uint8Array(3), new Uint8Array(4)])).toThrow(/same length/);
    expect(() => staple([new Uint8Array(3)], { roi: new Uint8Array(2) })).toThrow(/roi has 2 voxels/);
    expect(() => staple([])).toThrow(/1\.\.30 masks/);
    expect(() => staple([new Uint8Array(3)], { prior: 1 })).toThrow(/prior must be in \(0, 1\)/);
  });
});
