/**
 * Cohen's κ and percent agreement against scikit-learn, from the committed
 * fixture test/fixtures/reference/kappa.json. Regenerate it with
 * `/usr/bin/python3 scripts/reference/kappa_reference.py`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cohenKappa, type KappaWeights, percentAgreement } from '../../../functions/domain/scoring/classification.js';

interface ReferenceCase {
  name: string;
  labels: (string | number)[];
  a: (string | number)[];
  b: (string | number)[];
  disjoint: boolean;
  /** sklearn cohen_kappa_score per weighting; null where sklearn returns NaN. */
  kappa: Record<KappaWeights, number | null>;
  percentAgreement: number;
}

const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/reference/kappa.json', import.meta.url), 'utf8'),
) as { sklearn: string; cases: ReferenceCase[] };

const TOLERANCE = 1e-9;
const WEIGHTS: KappaWeights[] = ['none', 'linear', 'quadratic'];

describe(`Reference: sklearn ${fixture.sklearn} cohen_kappa_score`, () => {
  it('covers ordinal scales with unused grades and undefined cases', () => {
    const withUnusedGrades = fixture.cases.filter((c) =>
      c.labels.some((l) => !c.a.includes(l) && !c.b.includes(l)),
    );
    expect(fixture.cases.length).toBeGreaterThanOrEqual(30);
    expect(withUnusedGrades.length).toBeGreaterThan(3);
    expect(fixture.cases.some((c) => c.kappa.none === null)).toBe(true);
  });

  describe.each(fixture.cases)('case $name', (c) => {
    it.each(WEIGHTS)('matches κ with weights %s to 1e-9', (weights) => {
      // Act
      const result = cohenKappa(c.a, c.b, { weights, labels: c.labels });

      // Assert
      const expected = c.kappa[weights];
      if (c.disjoint) {
        // METRICS.md convention, where Goldline departs from sklearn on purpose.
        expect(result.value).toBe(0);
      } else if (expected === null) {
        expect(result.value).toBeNaN();
        expect(result.reason).toBeDefined();
      } else {
        expect(Math.abs(result.value - expected)).toBeLessThanOrEqual(TOLERANCE);
      }
    });

    it('matches percent agreement to 1e-9', () => {
      expect(Math.abs(percentAgreement(c.a, c.b).value - c.percentAgreement)).toBeLessThanOrEqual(TOLERANCE);
    });
  });
});
