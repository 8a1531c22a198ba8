import { describe, expect, it } from 'vitest';
import {
  AgreementInputError,
  categoryCounts,
  cohenKappa,
  fleissKappa,
  gwetAC1,
  krippendorffAlpha,
  landisKochBand,
  percentAgreement,
} from '../../../functions/domain/scoring/classification.js';
import { isDefined } from '../../../functions/domain/scoring/metric-result.js';

const _ = null;

/** Expands a 2×2 table [[a, b], [c, d]] (rows rater A, columns rater B) into label pairs. */
function pairsFromTable(table: number[][], labels: (string | number)[]): [(string | number)[], (string | number)[]] {
  const a: (string | number)[] = [];
  const b: (string | number)[] = [];
  table.forEach((row, i) => {
    row.forEach((count, j) => {
      for (let x = 0; x < count; x++) {
        a.push(labels[i]);
        b.push(labels[j]);
      }
    });
  });
  return [a, b];
}

/**
 * Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C:
 * four observers, twelve units, missing values (*). Same matrix as the Python
 * `krippendorff` tests and irrCAC's `cac.raw4raters`.
 */
const FOUR_CODERS = [
  [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
  [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
  [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
  [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
];

/** Fleiss (1971) as reproduced on Wikipedia: 10 subjects × 5 categories, 14 raters each. */
const FLEISS_1971 = [
  [0, 0, 0, 0, 14],
  [0, 2, 6, 4, 2],
  [0, 0, 3, 5, 6],
  [0, 3, 9, 2, 0],
  [2, 2, 8, 1, 1],
  [7, 7, 0, 0, 0],
  [3, 2, 6, 3, 0],
  [2, 5, 3, 2, 2],
  [6, 5, 2, 1, 0],
  [0, 2, 2, 3, 7],
];

describe('Module: classification', () => {
  describe('Function: percentAgreement', () => {
    it('returns the share of items both raters labelled the same', () => {
      // Act
      const result = percentAgreement(['a', 'b', 'a', 'c'], ['a', 'b', 'b', 'c']);

      // Assert
      expect(result).toEqual({ value: 0.75 });
    });

    it('treats the number 1 and the string "1" as different labels', () => {
      expect(percentAgreement([1, 2], ['1', 2]).value).toBe(0.5);
    });

    it('returns undefined with a reason when there are no items', () => {
      const result = percentAgreement([], []);

      expect(result.value).toBeNaN();
      expect(result.reason).toMatch(/no items/);
    });

    it('throws when the raters labelled different numbers of items', () => {
      expect(() => percentAgreement([1, 2], [1])).toThrow(AgreementInputError);
    });
  });

  describe('Function: cohenKappa', () => {
    it('returns −0.023 on the prevalence-paradox table [[118,5],[2,0]] despite 94.4% agreement', () => {
      // Arrange
      const [a, b] = pairsFromTable(
        [
          [118, 5],
          [2, 0],
        ],
        ['absent', 'present'],
      );

      // Act
      const kappa = cohenKappa(a, b);
      const agreement = percentAgreement(a, b);
      const ac1 = gwetAC1([a, b], { categories: ['absent', 'present'] });

      // Assert
      expect(agreement.value).toBeCloseTo(0.944, 3);
      expect(kappa.value).toBeCloseTo(-0.023, 3);
      // Reported beside κ (METRICS.md): AC1 is not dragged down by prevalence.
      expect(ac1.value).toBeCloseTo(0.941, 3);
    });

    it('returns 1 for identical labels', () => {
      expect(cohenKappa([1, 2, 3, 1], [1, 2, 3, 1]).value).toBe(1);
    });

    it('returns undefined with a reason when both raters gave one and the same label', () => {
      // Arrange: chance agreement is 1, so κ = 0/0.
      const labels = ['normal', 'normal', 'normal'];

      // Act
      const unweighted = cohenKappa(labels, labels);
      const quadratic = cohenKappa(labels, labels, { weights: 'quadratic', labels: ['normal', 'abnormal'] });

      // Assert
      expect(isDefined(unweighted)).toBe(false);
      expect(unweighted.reason).toMatch(/expected disagreement is 0/);
      expect(quadratic.value).toBeNaN();
    });

    it('returns 0 with a reason when the raters share no category (disjoint categories)', () => {
      const result = cohenKappa(['a', 'a', 'b'], ['c', 'd', 'd']);

      expect(result.value).toBe(0);
      expect(result.reason).toMatch(/disjoint categories/);
    });

    it('returns 0 for disjoint categories under weights too, and names the value sklearn would give', () => {
      // sklearn's quadratic formula gives 1/9 here; METRICS.md fixes disjoint → 0.
      const result = cohenKappa([0, 1], [2, 3], { weights: 'quadratic', labels: [0, 1, 2, 3] });

      expect(result.value).toBe(0);
      expect(result.reason).toMatch(/sklearn\) would give 0\.111111/);
    });

    it('changes weighted κ when an unused grade is left off the scale, which is why the full scale is passed', () => {
      // Arrange: a 5-grade protocol where nobody used grades 3 and 5, so the default
      // scale [1, 2, 4] would put grade 4 next to grade 2.
      const a = [1, 2, 4, 4, 2, 1, 1, 4];
      const b = [1, 4, 4, 2, 2, 1, 2, 4];

      // Act
      const fullScale = cohenKappa(a, b, { weights: 'quadratic', labels: [1, 2, 3, 4, 5] });
      const usedOnly = cohenKappa(a, b, { weights: 'quadratic' });
      const unweightedFull = cohenKappa(a, b, { labels: [1, 2, 3, 4, 5] });
      const unweightedUsed = cohenKappa(a, b);

      // Assert: weighted κ depends on positions; unweighted κ does not.
      expect(fullScale.value).not.toBeCloseTo(usedOnly.value, 3);
      expect(unweightedFull.value).toBeCloseTo(unweightedUsed.value, 12);
    });

    it('weights by position in the label list, not by the label values', () => {
      // Grades 0, 10, 20 at positions 0, 1, 2 give the same κ as grades 0, 1, 2.
      const byValue = cohenKappa([0, 10, 20, 10], [10, 10, 20, 0], { weights: 'linear', labels: [0, 10, 20] });
      const byPosition = cohenKappa([0, 1, 2, 1], [1, 1, 2, 0], { weights: 'linear', labels: [0, 1, 2] });

      expect(byValue.value).toBeCloseTo(byPosition.value, 12);
    });

    it('throws a clear error for a label that is not on the given scale', () => {
      expect(() => cohenKappa([1, 2, 7], [1, 2, 2], { labels: [1, 2, 3] })).toThrow(
        /label 7 \(item 2\) is not in the label scale \[1, 2, 3\]/,
      );
    });

    it('throws when the scale lists a label twice', () => {
      expect(() => cohenKappa([1], [1], { labels: [1, 1, 2] })).toThrow(/listed twice/);
    });

    it('returns undefined with a reason when there are no items', () => {
      const result = cohenKappa([], [], { labels: [0, 1] });

      expect(result.value).toBeNaN();
      expect(result.reason).toMatch(/no items/);
    });

    it('throws when the raters labelled different numbers of items', () => {
      expect(() => cohenKappa([1, 2], [1])).toThrow(AgreementInputError);
    });
  });

  describe('Function: gwetAC1', () => {
    it('returns irrCAC gwet.ac1.raw on the four-coder data with missing values (0.7754)', () => {
      const result = gwetAC1(FOUR_CODERS, { categories: [1, 2, 3, 4, 5] });

      expect(result.value).toBeCloseTo(0.77544, 5);
    });

    it('depends on Q, the number of categories in the schema, not only those used', () => {
      const a = ['x', 'x', 'y', 'x'];
      const b = ['x', 'y', 'y', 'x'];

      const twoCategories = gwetAC1([a, b], { categories: ['x', 'y'] });
      const fourCategories = gwetAC1([a, b], { categories: ['x', 'y', 'z', 'w'] });

      expect(fourCategories.value).toBeGreaterThan(twoCategories.value);
    });

    it('skips subjects nobody rated', () => {
      const withEmpty = gwetAC1(
        [
          ['a', 'b', _, 'a'],
          ['a', 'b', _, 'b'],
        ],
        { categories: ['a', 'b'] },
      );
      const without = gwetAC1(
        [
          ['a', 'b', 'a'],
          ['a', 'b', 'b'],
        ],
        { categories: ['a', 'b'] },
      );

      expect(withEmpty.value).toBeCloseTo(without.value, 12);
    });

    it('returns undefined with a reason when no subject was rated twice', () => {
      const result = gwetAC1(
        [
          ['a', _],
          [_, 'b'],
        ],
        { categories: ['a', 'b'] },
      );

      expect(result.value).toBeNaN();
      expect(result.reason).toMatch(/at least two raters/);
    });

    it('returns undefined when the schema has fewer than two categories', () => {
      expect(gwetAC1([['a'], ['a']], { categories: ['a'] }).reason).toMatch(/two categories/);
    });

    it('throws for a rating outside the schema', () => {
      expect(() => gwetAC1([['a'], ['q']], { categories: ['a', 'b'] })).toThrow(/not a category/);
    });
  });

  describe('Function: fleissKappa', () => {
    it('returns 0.210 on the Fleiss (1971) worked example', () => {
      const result = fleissKappa(FLEISS_1971);

      expect(result.value).toBeCloseTo(0.21, 3);
    });

    it('equals the count-table form of the same ratings built by categoryCounts', () => {
      const ratings = [
        ['a', 'b', 'b', 'c'],
        ['a', 'b', 'c', 'c'],
        ['a', 'a', 'b', 'c'],
      ];

      const counts = categoryCounts(ratings, ['a', 'b', 'c']);

      expect(counts).toEqual([
        [3, 0, 0],
        [1, 2, 0],
        [0, 2, 1],
        [0, 0, 3],
      ]);
      // P̄ = 2/3, P_e = 1/3 → κ = 1/2.
      expect(fleissKappa(counts).value).toBeCloseTo(0.5, 12);
    });

    it('throws when subjects have different numbers of raters', () => {
      expect(() =>
        fleissKappa([
          [2, 1],
          [1, 1],
        ]),
      ).toThrow(/same number of raters/);
    });

    it('throws with fewer than two raters per subject', () => {
      expect(() => fleissKappa([[1, 0]])).toThrow(/at least 2 raters/);
    });

    it('returns undefined with a reason when every rating is in one category (P_e = 1)', () => {
      const result = fleissKappa([
        [3, 0],
        [3, 0],
      ]);

      expect(result.value).toBeNaN();
      expect(result.reason).toMatch(/P_e = 1/);
    });

    it('returns undefined when there are no subjects', () => {
      expect(fleissKappa([]).value).toBeNaN();
    });
  });

  describe('Function: krippendorffAlpha', () => {
    it('returns 0.095 on the binary two-observer example (Krippendorff 2011, A)', () => {
      const result = krippendorffAlpha(
        [
          [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
          [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
        ],
        'nominal',
      );

      expect(result.value).toBeCloseTo(0.095, 3);
    });

    it('returns 0.692 on the nominal two-observer example (Krippendorff 2011, B)', () => {
      const result = krippendorffAlpha([[...'aabbdcccedda'], [...'babbbccceddd']], 'nominal');

      expect(result.value).toBeCloseTo(0.692, 3);
    });

    it.each([
      ['nominal', 0.743],
      ['ordinal', 0.815],
      ['interval', 0.849],
      ['ratio', 0.797],
    ] as const)('returns %s α = %s on the four-coder missing-data example (Krippendorff 2011, C–D)', (level, alpha) => {
      const result = krippendorffAlpha(FOUR_CODERS, level);

      expect(result.value).toBeCloseTo(alpha, 3);
      expect(result.unitsUsed).toBe(11);
      expect(result.pairableValues).toBe(40);
    });

    it('drops units with fewer than two values and counts them (unit 12 of the example)', () => {
      // Arrange: add two more singleton units and one empty unit.
      const padded = FOUR_CODERS.map((row, r) => [...row, r === 0 ? 4 : _, r === 2 ? 1 : _, _]);

      // Act
      const result = krippendorffAlpha(padded, 'nominal');

      // Assert
      expect(result.value).toBeCloseTo(krippendorffAlpha(FOUR_CODERS, 'nominal').value, 12);
      expect(result.unitsDropped).toBe(4);
    });

    it('matches the Python krippendorff package on the Wikipedia three-coder example', () => {
      const data = [
        [_, _, _, _, _, 3, 4, 1, 2, 1, 1, 3, 3, _, 3],
        [1, _, 2, 1, 3, 3, 4, 3, _, _, _, _, _, _, _],
        [_, _, 2, 1, 3, 4, 4, _, 2, 1, 1, 3, 3, _, 4],
      ];

      expect(krippendorffAlpha(data, 'nominal').value).toBeCloseTo(0.691358, 6);
      expect(krippendorffAlpha(data, 'interval').value).toBeCloseTo(0.810845, 6);
    });

    it('takes the order of ordinal string values from the given scale', () => {
      const grade = ['very low', 'low', 'mid', 'high', 'very high'];
      const asWords = FOUR_CODERS.map((row) => row.map((v) => (v === null ? null : grade[v - 1])));

      expect(krippendorffAlpha(asWords, 'ordinal', { scale: grade }).value).toBeCloseTo(0.815, 3);
    });

    it('throws for ordinal string values without a scale, since alphabetical order is not a grade order', () => {
      expect(() => krippendorffAlpha([['low', 'high']], 'ordinal')).toThrow(/ordered `scale`/);
    });

    it('is unchanged by unused grades on the ordinal scale', () => {
      const used = krippendorffAlpha(FOUR_CODERS, 'ordinal');
      const full = krippendorffAlpha(FOUR_CODERS, 'ordinal', { scale: [0, 1, 2, 3, 4, 5, 6] });

      expect(full.value).toBeCloseTo(used.value, 12);
    });

    it('returns 1 on ratio data with zeros when raters agree', () => {
      const result = krippendorffAlpha(
        [
          [0, 1, 2],
          [0, 1, 2],
        ],
        'ratio',
      );

      expect(result.value).toBe(1);
    });

    it('returns undefined with a reason when every pairable value is the same (expected disagreement 0)', () => {
      const result = krippendorffAlpha(
        [
          [1, 1, _],
          [1, 1, 2],
        ],
        'nominal',
      );

      expect(result.value).toBeNaN();
      expect(result.reason).toMatch(/expected disagreement is 0/);
    });

    it('returns undefined with a reason when no unit has two values', () => {
      const result = krippendorffAlpha(
        [
          [1, _],
          [_, 2],
        ],
        'nominal',
      );

      expect(result.value).toBeNaN();
      expect(result.reason).toMatch(/nothing is pairable/);
      expect(result.unitsDropped).toBe(2);
    });

    it('treats NaN and undefined as missing', () => {
      const withNaN = krippendorffAlpha(
        [
          [1, 2, Number.NaN, 3],
          [1, 2, 3, undefined],
          [1, 3, 3, 3],
        ],
        'interval',
      );
      const withNull = krippendorffAlpha(
        [
          [1, 2, _, 3],
          [1, 2, 3, _],
          [1, 3, 3, 3],
        ],
        'interval',
      );

      expect(withNaN.value).toBeCloseTo(withNull.value, 12);
    });

    it('throws for a value outside the given scale', () => {
      expect(() => krippendorffAlpha([[1, 2], [1, 9]], 'ordinal', { scale: [1, 2, 3] })).toThrow(/not on the given scale/);
    });

    it('throws for non-numeric interval data and negative ratio data', () => {
      expect(() => krippendorffAlpha([['a'], ['b']], 'interval')).toThrow(/numeric/);
      expect(() => krippendorffAlpha([[-1], [2]], 'ratio')).toThrow(/≥ 0/);
    });

    it('throws when rater rows cover different numbers of units', () => {
      expect(() => krippendorffAlpha([[1, 2], [1]], 'nominal')).toThrow(/same units/);
    });
  });

  describe('Function: landisKochBand', () => {
    it.each([
      [-0.023, 'poor'],
      [0, 'slight'],
      [0.2, 'slight'],
      [0.21, 'fair'],
      [0.4, 'fair'],
      [0.41, 'moderate'],
      [0.6, 'moderate'],
      [0.61, 'substantial'],
      [0.8, 'substantial'],
      [0.81, 'almost perfect'],
      [1, 'almost perfect'],
      [Number.NaN, 'undefined'],
    ] as const)('puts κ = %s in the band "%s" (upper bounds inclusive)', (kappa, band) => {
      expect(landisKochBand(kappa)).toBe(band);
    });

    it('keeps a κ that is 0.2 up to rounding in "slight"', () => {
      expect(landisKochBand(0.1 + 0.1 + 1e-15)).toBe('slight');
    });

    it('accepts a MetricResult and calls an undefined one "undefined"', () => {
      expect(landisKochBand(cohenKappa([1, 1], [1, 1]))).toBe('undefined');
      expect(landisKochBand({ value: 0.5 })).toBe('moderate');
    });
  });
});
