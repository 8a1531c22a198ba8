import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cohenKappa, krippendorffAlpha } from '../../../functions/domain/scoring/classification.js';
import {
  bootstrapAlpha,
  bootstrapInterval,
  bootstrapKappa,
  bootstrapMeanDice,
  normalQuantile,
  seededRandom,
  wilsonInterval,
} from '../../../functions/domain/scoring/uncertainty.js';

describe('Module: uncertainty', () => {
  describe('Function: wilsonInterval', () => {
    // Newcombe (1998), Stat Med 17:857, Table I, method 3 (Wilson score, no continuity correction).
    it.each([
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
      [29, 29, 0.883, 1],
    ])('returns Newcombe’s published 95%% interval for %i/%i', (successes, n, lower, upper) => {
      // Act
      const result = wilsonInterval(successes, n);

      // Assert
      expect(result.estimate.value).toBeCloseTo(successes / n, 12);
      expect(result.lower).toBeCloseTo(lower, 4);
      expect(result.upper).toBeCloseTo(upper, 4);
      expect(result.n).toBe(n);
    });

    it('matches the closed form evaluated in Python with scipy norm.ppf(0.975) for 8/10', () => {
      const result = wilsonInterval(8, 10);

      expect(result.lower).toBeCloseTo(0.4901624715, 9);
      expect(result.upper).toBeCloseTo(0.9433178485, 9);
    });

    it('narrows as the confidence level drops', () => {
      const wide = wilsonInterval(30, 50, 0.99);
      const narrow = wilsonInterval(30, 50, 0.8);

      expect(narrow.lower).toBeGreaterThan(wide.lower);
      expect(narrow.upper).toBeLessThan(wide.upper);
    });

    it('returns an undefined estimate with a reason and NaN bounds when n = 0', () => {
      const result = wilsonInterval(0, 0);

      expect(result.estimate.value).toBeNaN();
      expect(result.estimate.reason).toMatch(/no items/);
      expect(result.lower).toBeNaN();
      expect(result.upper).toBeNaN();
    });

    it('throws for successes outside [0, n] or a confidence outside (0, 1)', () => {
      expect(() => wilsonInterval(11, 10)).toThrow(RangeError);
      expect(() => wilsonInterval(-1, 10)).toThrow(RangeError);
      expect(() => wilsonInterval(5, 10, 1)).toThrow(RangeError);
    });

    it('always lies within [0, 1] and contains the estimate', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, share) => {
          const successes = Math.round(share * n);
          const { estimate, lower, upper } = wilsonInterval(successes, n);
          return lower >= 0 && upper <= 1 && lower <= estimate.value && estimate.value <= upper;
        }),
      );
    });
  });

  describe('Function: normalQuantile', () => {
    it.each([
      [0.975, 1.959963984540054],
      [0.5, 0],
      [0.01, -2.3263478740408408],
      [1e-10, -6.361340902404056],
    ])('returns scipy.stats.norm.ppf(%s) = %s', (p, z) => {
      expect(normalQuantile(p)).toBeCloseTo(z, 12);
    });

    it('returns ±∞ at 0 and 1 and NaN outside', () => {
      expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
      expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
      expect(normalQuantile(1.5)).toBeNaN();
    });
  });

  describe('Function: seededRandom', () => {
    it('gives the same sequence for the same seed and a different one for another seed', () => {
      const draw = (seed: number) => {
        const rand = seededRandom(seed);
        return Array.from({ length: 5 }, () => rand());
      };

      expect(draw(42)).toEqual(draw(42));
      expect(draw(42)).not.toEqual(draw(43));
    });

    it('draws in [0, 1) with a mean near 1/2', () => {
      const rand = seededRandom(1);
      let sum = 0;
      for (let i = 0; i < 100_000; i++) {
        const x = rand();
        expect(x >= 0 && x < 1).toBe(true);
        sum += x;
      }
      expect(sum / 100_000).toBeCloseTo(0.5, 2);
    });
  });

  describe('Function: bootstrapInterval', () => {
    const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

    it('gives identical intervals for the same seed (reproducible reports)', () => {
      const data = Array.from({ length: 50 }, (_, i) => (i * 37) % 11);

      const first = bootstrapInterval(data, mean, { seed: 9 });
      const second = bootstrapInterval(data, mean, { seed: 9 });
      const other = bootstrapInterval(data, mean, { seed: 10 });

      expect(first).toEqual(second);
      expect(other.lower).not.toBe(first.lower);
    });

    it('brackets the sample mean of a proportion close to its Wilson interval', () => {
      // Arrange: 30 successes in 100.
      const data = Array.from({ length: 100 }, (_, i) => (i < 30 ? 1 : 0));

      // Act
      const boot = bootstrapInterval(data, mean, { seed: 1, resamples: 4000 });
      const wilson = wilsonInterval(30, 100);

      // Assert
      expect(boot.estimate.value).toBeCloseTo(0.3, 12);
      expect(boot.lower).toBeCloseTo(wilson.lower, 1);
      expect(boot.upper).toBeCloseTo(wilson.upper, 1);
      expect(boot).toMatchObject({ resamples: 4000, skipped: 0, n: 100 });
    });

    it('skips and counts resamples where the statistic is undefined, never reading them as 0', () => {
      // Arrange: the statistic is undefined whenever the resample misses item 0.
      const data = [0, 1, 2, 3];
      const statistic = (s: readonly number[]) => (s.includes(0) ? mean(s) : Number.NaN);

      // Act
      const result = bootstrapInterval(data, statistic, { seed: 3, resamples: 500 });

      // Assert: P(miss item 0) = (3/4)^4 ≈ 0.32.
      expect(result.skipped).toBeGreaterThan(100);
      expect(result.skipped).toBeLessThan(220);
      expect(result.lower).toBeGreaterThan(0);
    });

    it('returns NaN bounds when every resample is undefined, or there are no items', () => {
      const allUndefined = bootstrapInterval([1, 2], () => Number.NaN, { seed: 1, resamples: 10 });
      const empty = bootstrapInterval([], mean, { seed: 1 });

      expect(allUndefined).toMatchObject({ skipped: 10, resamples: 10 });
      expect(allUndefined.lower).toBeNaN();
      expect(allUndefined.estimate.value).toBeNaN();
      expect(empty).toMatchObject({ resamples: 0, n: 0 });
      expect(empty.upper).toBeNaN();
    });

    it('gives a zero-width interval on constant data', () => {
      const result = bootstrapInterval([0.8, 0.8, 0.8], mean, { seed: 2 });

      expect(result.lower).toBeCloseTo(0.8, 12);
      expect(result.upper).toBeCloseTo(0.8, 12);
    });

    it('throws for a bad confidence or resample count', () => {
      expect(() => bootstrapInterval([1], mean, { seed: 1, confidence: 0 })).toThrow(RangeError);
      expect(() => bootstrapInterval([1], mean, { seed: 1, resamples: 0 })).toThrow(RangeError);
    });
  });

  describe('Function: bootstrapKappa', () => {
    const rand = seededRandom(77);
    const a = Array.from({ length: 120 }, () => 1 + Math.floor(rand() * 4));
    const b = a.map((x) => (rand() < 0.7 ? x : 1 + Math.floor(rand() * 4)));

    it('centres on Cohen κ of the full sample and brackets it', () => {
      const result = bootstrapKappa(a, b, { weights: 'quadratic', labels: [1, 2, 3, 4, 5], seed: 5 });

      const kappa = cohenKappa(a, b, { weights: 'quadratic', labels: [1, 2, 3, 4, 5] });
      expect(result.estimate).toEqual(kappa);
      expect(result.lower).toBeLessThan(kappa.value);
      expect(result.upper).toBeGreaterThan(kappa.value);
      expect(result.upper).toBeLessThanOrEqual(1);
    });

    it('counts resamples where κ is undefined (only one label drawn) as skipped', () => {
      const rare = [0, 0, 0, 0, 0, 1];

      const result = bootstrapKappa(rare, rare, { seed: 4, resamples: 300 });

      // P(no "1" among 6 draws) = (5/6)^6 ≈ 0.33.
      expect(result.skipped).toBeGreaterThan(50);
      expect(result.lower).toBe(1);
    });
  });

  describe('Function: bootstrapAlpha', () => {
    it('resamples units and centres on α of the full data', () => {
      const _ = null;
      const data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
        [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
      ];

      const result = bootstrapAlpha(data, 'interval', { seed: 12, resamples: 500 });

      expect(result.estimate.value).toBeCloseTo(krippendorffAlpha(data, 'interval').value, 12);
      expect(result.lower).toBeLessThan(result.estimate.value);
      expect(result.upper).toBeLessThanOrEqual(1);
      expect(result.n).toBe(12);
    });

    it('still requires an ordered scale for ordinal string values', () => {
      expect(() => bootstrapAlpha([['low', 'high'], ['low', 'low']], 'ordinal', { seed: 1 })).toThrow(/ordered `scale`/);
    });
  });

  describe('Function: bootstrapMeanDice', () => {
    it('leaves out undefined per-item Dice and says how many', () => {
      const result = bootstrapMeanDice([0.9, 0.8, Number.NaN, { value: 0.7 }], { seed: 1 });

      expect(result.estimate.value).toBeCloseTo(0.8, 12);
      expect(result.estimate.reason).toMatch(/1 with undefined Dice left out/);
      expect(result.n).toBe(3);
      expect(result.lower).toBeGreaterThanOrEqual(0.7);
      expect(result.upper).toBeLessThanOrEqual(0.9);
    });

    it('returns an undefined estimate when no item has a defined Dice', () => {
      const result = bootstrapMeanDice([Number.NaN], { seed: 1 });

      expect(result.estimate.value).toBeNaN();
      expect(result.estimate.reason).toMatch(/no item/);
    });
  });
});
