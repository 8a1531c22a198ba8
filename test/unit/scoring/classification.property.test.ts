/**
 * Properties every agreement coefficient must keep, whatever the data
 * (fast-check): symmetry in raters, bounds, perfect scores on identical ratings,
 * and indifference of unweighted κ to what the categories are called.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  categoryCounts,
  cohenKappa,
  fleissKappa,
  gwetAC1,
  type KappaWeights,
  krippendorffAlpha,
  type MeasurementLevel,
} from '../../../functions/domain/scoring/classification.js';
import { isDefined } from '../../../functions/domain/scoring/metric-result.js';

const SCALE = [0, 1, 2, 3, 4];
const EPS = 1e-9;

/** Two raters labelling the same 1–60 items on the 5-grade scale. */
const labelPairs = fc
  .integer({ min: 1, max: 60 })
  .chain((n) =>
    fc.tuple(
      fc.array(fc.constantFrom(...SCALE), { minLength: n, maxLength: n }),
      fc.array(fc.constantFrom(...SCALE), { minLength: n, maxLength: n }),
    ),
  );

const weights = fc.constantFrom<KappaWeights>('none', 'linear', 'quadratic');
const levels = fc.constantFrom<MeasurementLevel>('nominal', 'ordinal', 'interval', 'ratio');

/** A raters × units matrix (2–5 raters, 1–25 units) with about a quarter missing. */
const ratingMatrix = fc
  .tuple(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 25 }))
  .chain(([raters, units]) =>
    fc.array(
      fc.array(fc.option(fc.constantFrom(...SCALE), { freq: 3, nil: null }), { minLength: units, maxLength: units }),
      { minLength: raters, maxLength: raters },
    ),
  );

describe('Properties: Cohen κ', () => {
  it('is symmetric in the two raters', () => {
    fc.assert(
      fc.property(labelPairs, weights, ([a, b], w) => {
        const ab = cohenKappa(a, b, { weights: w, labels: SCALE });
        const ba = cohenKappa(b, a, { weights: w, labels: SCALE });
        if (!isDefined(ab)) return !isDefined(ba);
        return Math.abs(ab.value - ba.value) < EPS;
      }),
    );
  });

  it('stays within [−1, 1] when defined', () => {
    fc.assert(
      fc.property(labelPairs, weights, ([a, b], w) => {
        const k = cohenKappa(a, b, { weights: w, labels: SCALE });
        return !isDefined(k) || (k.value >= -1 - EPS && k.value <= 1 + EPS);
      }),
    );
  });

  it('is 1 for identical ratings, and undefined only when a single label was used', () => {
    fc.assert(
      fc.property(labelPairs, weights, ([a], w) => {
        const k = cohenKappa(a, a, { weights: w, labels: SCALE });
        const oneLabel = new Set(a).size === 1;
        return oneLabel ? !isDefined(k) : Math.abs(k.value - 1) < EPS;
      }),
    );
  });

  it('does not change (unweighted) when the categories are renamed', () => {
    fc.assert(
      fc.property(labelPairs, fc.shuffledSubarray(['w', 'x', 'y', 'z', 'v'], { minLength: 5, maxLength: 5 }), ([a, b], names) => {
        const rename = (v: number): string => names[v];
        const original = cohenKappa(a, b);
        const renamed = cohenKappa(a.map(rename), b.map(rename));
        if (!isDefined(original)) return !isDefined(renamed);
        return Math.abs(original.value - renamed.value) < EPS;
      }),
    );
  });
});

describe('Properties: Krippendorff α', () => {
  it('is symmetric in the raters (any order of rater rows)', () => {
    fc.assert(
      fc.property(ratingMatrix, levels, (data, level) => {
        const forward = krippendorffAlpha(data, level, { scale: SCALE });
        const reversed = krippendorffAlpha([...data].reverse(), level, { scale: SCALE });
        if (!isDefined(forward)) return !isDefined(reversed);
        return Math.abs(forward.value - reversed.value) < EPS;
      }),
    );
  });

  it('never exceeds 1', () => {
    fc.assert(
      fc.property(ratingMatrix, levels, (data, level) => {
        const alpha = krippendorffAlpha(data, level, { scale: SCALE });
        return !isDefined(alpha) || alpha.value <= 1 + EPS;
      }),
    );
  });

  it('is 1 when all raters agree, whenever it is defined', () => {
    fc.assert(
      fc.property(ratingMatrix, levels, (data, level) => {
        const identical = data.map(() => data[0]);
        const alpha = krippendorffAlpha(identical, level, { scale: SCALE });
        return !isDefined(alpha) || Math.abs(alpha.value - 1) < EPS;
      }),
    );
  });

  it("equals Scott's π with its small-sample correction on complete two-rater nominal data", () => {
    // Krippendorff (2004, §11.3): two raters, N units, no missing values:
    // α = π + (1 − π)/(2N). Fleiss' κ with two raters is Scott's π.
    fc.assert(
      fc.property(labelPairs, ([a, b]) => {
        const alpha = krippendorffAlpha([a, b], 'nominal');
        const counts = categoryCounts([a, b], SCALE);
        const pi = fleissKappa(counts); // Fleiss κ with two raters is Scott's π
        if (!isDefined(alpha) || !isDefined(pi)) return true;
        const n = a.length;
        return Math.abs(alpha.value - (pi.value + (1 - pi.value) / (2 * n))) < 1e-9;
      }),
    );
  });
});

describe('Properties: Gwet AC1 and Fleiss κ', () => {
  it('keep AC1 within [−1, 1] and symmetric in raters', () => {
    fc.assert(
      fc.property(ratingMatrix, (data) => {
        const forward = gwetAC1(data, { categories: SCALE });
        const reversed = gwetAC1([...data].reverse(), { categories: SCALE });
        if (!isDefined(forward)) return !isDefined(reversed);
        return forward.value <= 1 + EPS && forward.value >= -1 - EPS && Math.abs(forward.value - reversed.value) < EPS;
      }),
    );
  });
});
