import { describe, expect, it } from 'vitest';
import {
  binomialCdf,
  binomialDistribution,
  binomialLogCdf,
  binomialLogPmf,
  binomialPmf,
  binomialSf,
} from '../../../../functions/domain/acceptance/index.js';
import { reference, relativeError } from './reference.js';

describe(`Reference: scipy ${reference.scipy} binom`, () => {
  it('covers n up to 3000 and tails below 1e-200', () => {
    expect(Math.max(...reference.binomial.map((c) => c.n))).toBe(3000);
    expect(reference.binomial.some((c) => c.pmf > 0 && c.pmf < 1e-200)).toBe(true);
  });

  it.each(reference.binomial.map((c) => [`n=${c.n} p=${c.p} k=${c.k}`, c] as const))(
    'matches pmf, cdf and sf to 1e-12 relative (%s)',
    (_, c) => {
      // Act
      const pmf = binomialPmf(c.k, c.n, c.p);
      const cdf = binomialCdf(c.k, c.n, c.p);
      const sf = binomialSf(c.k, c.n, c.p);

      // Assert: scipy's own values carry ~1e-14 error; 1e-12 leaves room for both.
      if (c.pmf > 1e-300) expect(relativeError(pmf, c.pmf)).toBeLessThan(1e-12);
      if (c.cdf > 1e-300) expect(relativeError(cdf, c.cdf)).toBeLessThan(1e-12);
      if (c.sf > 1e-300) expect(relativeError(sf, c.sf)).toBeLessThan(1e-12);
      if (Number.isFinite(c.logpmf)) expect(Math.abs(binomialLogPmf(c.k, c.n, c.p) - c.logpmf)).toBeLessThan(1e-10 * Math.max(1, Math.abs(c.logpmf)));
    },
  );
});

describe('Function: binomialPmf', () => {
  it('returns the hand-computed 13·0.05·0.95¹² for one wrong of 13 at 95% accuracy', () => {
    expect(relativeError(binomialPmf(1, 13, 0.05), 13 * 0.05 * 0.95 ** 12)).toBeLessThan(1e-14);
  });

  it('returns exact point masses at p = 0 and p = 1', () => {
    expect([binomialPmf(0, 10, 0), binomialPmf(1, 10, 0), binomialPmf(10, 10, 1), binomialPmf(9, 10, 1)]).toEqual([1, 0, 1, 0]);
  });

  it('returns 0 outside 0…n', () => {
    expect([binomialPmf(-1, 5, 0.3), binomialPmf(6, 5, 0.3), binomialPmf(1.5, 5, 0.3)]).toEqual([0, 0, 0]);
  });

  it('sums to 1 over 0…n for n = 3000', () => {
    const total = binomialDistribution(3000, 0.137).reduce((s, x) => s + x, 0);
    expect(Math.abs(total - 1)).toBeLessThan(1e-12);
  });

  it('throws a RangeError naming the bad argument', () => {
    expect(() => binomialPmf(1, 5.5, 0.1)).toThrow(/binomial n must be a whole number/);
    expect(() => binomialPmf(1, 5, 1.1)).toThrow(/binomial p must be in \[0, 1\]/);
  });
});

describe('Function: binomialCdf', () => {
  it('returns the hand-computed P(≤ 1 wrong of 13) = 0.95¹³ + 13·0.05·0.95¹²', () => {
    expect(relativeError(binomialCdf(1, 13, 0.05), 0.95 ** 13 + 13 * 0.05 * 0.95 ** 12)).toBeLessThan(1e-14);
  });

  it('keeps a lower tail far below 1e-16 (no 1 − sf cancellation)', () => {
    // P(X ≤ 60 | n = 100, p = 0.9): about 1e-15 relative to the whole.
    const cdf = binomialCdf(60, 100, 0.9);
    const direct = Array.from({ length: 61 }, (_, k) => binomialPmf(k, 100, 0.9)).reduce((s, x) => s + x, 0);
    expect(cdf).toBeGreaterThan(0);
    expect(relativeError(cdf, direct)).toBeLessThan(1e-12);
  });

  it('returns 0 below 0 and 1 at or beyond n', () => {
    expect([binomialCdf(-1, 10, 0.5), binomialCdf(10, 10, 0.5), binomialCdf(12, 10, 0.5)]).toEqual([0, 1, 1]);
  });

  it('agrees with exp(binomialLogCdf) and with 1 − sf', () => {
    for (const [c, n, p] of [
      [3, 38, 0.05],
      [40, 2000, 0.03],
      [500, 1000, 0.5],
    ] as const) {
      expect(relativeError(Math.exp(binomialLogCdf(c, n, p)), binomialCdf(c, n, p))).toBeLessThan(1e-12);
      expect(Math.abs(binomialCdf(c, n, p) + binomialSf(c, n, p) - 1)).toBeLessThan(1e-13);
    }
  });

  it('gives a finite log of an acceptance probability that underflows as a number', () => {
    // 0 wrong of 3000 at 50% accuracy: ln(0.5³⁰⁰⁰) = −2079.44…
    expect(binomialLogCdf(0, 3000, 0.5)).toBeCloseTo(3000 * Math.log(0.5), 8);
  });
});
