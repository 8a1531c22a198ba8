import { describe, expect, it } from 'vitest';
import {
  AcceptancePlanError,
  AcceptanceSpec,
  OC_ACCURACIES,
  acceptProbability,
  goldPoolNeed,
  ocCurve,
  singleSamplingPlan,
  trySingleSamplingPlan,
} from '../../../../functions/domain/acceptance/index.js';
import { reference, relativeError } from './reference.js';

describe('Schema: AcceptanceSpec', () => {
  it('fills the default risks α = 0.05 and β = 0.10', () => {
    expect(AcceptanceSpec.parse({ aql: 0.95, rql: 0.8 })).toEqual({ aql: 0.95, rql: 0.8, alpha: 0.05, beta: 0.1 });
  });

  it('refuses an RQL that is not below the AQL, naming the field', () => {
    const r = AcceptanceSpec.safeParse({ aql: 0.8, rql: 0.9 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ['rql'], message: expect.stringMatching(/must be below aql/) });
  });

  it('refuses risks of 0.5 or more and unknown keys', () => {
    expect(AcceptanceSpec.safeParse({ aql: 0.95, rql: 0.8, alpha: 0.5 }).success).toBe(false);
    expect(AcceptanceSpec.safeParse({ aql: 0.95, rql: 0.8, goldAccuracy: 0.85 }).success).toBe(false);
  });
});

describe('Function: singleSamplingPlan', () => {
  it('returns n = 38, c = 4 for AQL 0.95 / RQL 0.80 at α = 0.05, β = 0.10', () => {
    // Act
    const plan = singleSamplingPlan({ aql: 0.95, rql: 0.8 });

    // Assert
    expect([plan.n, plan.c]).toEqual([38, 4]);
    expect(plan.risks.alpha).toBeLessThanOrEqual(0.05);
    expect(plan.risks.beta).toBeLessThanOrEqual(0.1);
  });

  it.each(reference.plans.map((r) => [`AQL ${r.spec.aql} RQL ${r.spec.rql} α ${r.spec.alpha} β ${r.spec.beta}`, r] as const))(
    'matches an independent brute-force search over scipy sums (%s)',
    (_, r) => {
      const plan = singleSamplingPlan(r.spec);
      expect({ n: plan.n, c: plan.c }).toEqual({ n: r.plan.n, c: r.plan.c });
      expect(Math.abs(plan.risks.alpha - r.plan.alpha)).toBeLessThan(1e-12);
      expect(relativeError(plan.risks.beta, r.plan.beta)).toBeLessThan(1e-12);
    },
  );

  it('returns a plan no smaller plan can match: every n below fails α or β for every c', () => {
    const spec = { aql: 0.95, rql: 0.8, alpha: 0.05, beta: 0.1 };
    const plan = singleSamplingPlan(spec);
    for (let n = 1; n < plan.n; n++) {
      for (let c = 0; c <= n; c++) {
        const ok = acceptProbability(n, c, spec.aql) >= 1 - spec.alpha && acceptProbability(n, c, spec.rql) <= spec.beta;
        expect(ok, `n=${n} c=${c}`).toBe(false);
      }
    }
  });

  it('refuses a spec whose plan exceeds maxGoldPerBatch, saying how many gold items it needs', () => {
    expect(() => singleSamplingPlan({ aql: 0.95, rql: 0.8, maxGoldPerBatch: 20 })).toThrow(AcceptancePlanError);
    expect(() => singleSamplingPlan({ aql: 0.95, rql: 0.8, maxGoldPerBatch: 20 })).toThrow(/needs 38 gold items per batch \(c=4\), more than maxGoldPerBatch 20/);
  });

  it('accepts a spec whose plan fits maxGoldPerBatch exactly', () => {
    expect(singleSamplingPlan({ aql: 0.95, rql: 0.8, maxGoldPerBatch: 38 }).n).toBe(38);
  });
});

describe('Function: trySingleSamplingPlan', () => {
  it('returns the plan where one fits, and null with the reason where maxGoldPerBatch is too small', () => {
    expect(trySingleSamplingPlan({ aql: 0.95, rql: 0.8 })).toEqual({ single: singleSamplingPlan({ aql: 0.95, rql: 0.8 }) });
    const none = trySingleSamplingPlan({ aql: 0.95, rql: 0.8, maxGoldPerBatch: 10 });
    expect(none.single).toBeNull();
    expect(none.note).toMatch(/needs 38 gold items per batch \(c=4\), more than maxGoldPerBatch 10/);
  });

  it('lets a refused spec through as the schema error, not as "no plan"', () => {
    expect(() => trySingleSamplingPlan({ aql: 0.8, rql: 0.95 })).toThrow();
  });
});

describe('Published plans: ISO 2859-1 Table 2-A, normal inspection, single sampling', () => {
  it.each(reference.iso.map((r) => [`${r.letter} (n=${r.letterN}) AQL ${r.aqlPercent}% → ${r.usedLetter} n=${r.n} Ac ${r.ac} Re ${r.re}`, r] as const))(
    'reproduces scipy’s OC and limiting quality for %s',
    (_, r) => {
      // Act
      const oc = ocCurve({ n: r.n, c: r.ac });

      // Assert: the OC on 0.50…1.00 and P(accept) at the AQL, to 1e-12.
      oc.forEach((pt, i) => {
        expect(pt.accuracy).toBe(r.oc[i].accuracy);
        expect(relativeError(pt.pAccept, r.oc[i].pAccept)).toBeLessThan(1e-12);
      });
      expect(relativeError(acceptProbability(r.n, r.ac, 1 - r.aqlPercent / 100), r.pAcceptAtAql)).toBeLessThan(1e-12);
      // At the limiting quality (P(accept) = 10%) our sum gives 0.10; Re = Ac + 1 rejects.
      expect(acceptProbability(r.n, r.ac, 1 - r.lq10)).toBeCloseTo(0.1, 10);
      expect(r.re).toBe(r.ac + 1);
    },
  );

  it('gives every listed ISO normal plan P(accept) between 0.87 and 0.99 at its AQL (the standard’s design band)', () => {
    for (const r of reference.iso) {
      const pa = acceptProbability(r.n, r.ac, 1 - r.aqlPercent / 100);
      expect(pa, `${r.letter} AQL ${r.aqlPercent}`).toBeGreaterThan(0.87);
      expect(pa).toBeLessThan(0.99);
    }
  });

  it.each(reference.iso.map((r) => [`${r.letter} AQL ${r.aqlPercent}% (n=${r.n} Ac ${r.ac})`, r] as const))(
    'derives exactly the ISO plan from the ISO plan’s own risk points (%s)',
    (_, r) => {
      // Arrange: the plan's producer point (AQL, its exact α) and consumer point (LQ at β = 0.10).
      const spec = {
        aql: 1 - r.aqlPercent / 100,
        rql: 1 - r.lq10 - 1e-9,
        alpha: 1 - r.pAcceptAtAql + 1e-9,
        beta: 0.1,
      };

      // Act
      const plan = singleSamplingPlan(spec);

      // Assert: the same n and Ac — the table's plans are the smallest for their two points.
      expect({ n: plan.n, c: plan.c }).toEqual({ n: r.n, c: r.ac });
    },
  );
});

describe('Function: ocCurve', () => {
  it('returns P(accept) on the grid 0.50, 0.55, …, 1.00, rising with accuracy, 1 at perfect accuracy', () => {
    const oc = ocCurve({ n: 38, c: 4 });
    expect(oc.map((p) => p.accuracy)).toEqual(OC_ACCURACIES);
    expect(OC_ACCURACIES).toEqual([0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1]);
    for (let i = 1; i < oc.length; i++) expect(oc[i].pAccept).toBeGreaterThan(oc[i - 1].pAccept);
    expect(oc.at(-1)?.pAccept).toBe(1);
  });
});

describe('Function: goldPoolNeed', () => {
  it('needs n·(reuseCap + 1) distinct gold cases when a vendor gets more batches than the cap window', () => {
    // Arrange: 600 cases in batches of 60 → 10 batches, one vendor, cap 3 → windows of 4 batches.
    const need = goldPoolNeed({ n: 38 }, { cases: 600, batchSize: 60 }, 3);

    // Assert
    expect(need).toEqual({
      batches: 10,
      batchesPerVendor: 10,
      goldPerBatch: 38,
      goldItemsShown: 380,
      poolForReuseCap: 152,
      poolWithoutRepeats: 380,
      goldShare: 38 / 98,
    });
  });

  it('needs only the busiest vendor’s batches when they are fewer than the cap window', () => {
    const need = goldPoolNeed({ n: 7 }, { cases: 600, batchSize: 60, vendors: 4 }, 3);
    expect([need.batchesPerVendor, need.poolForReuseCap, need.poolWithoutRepeats]).toEqual([3, 21, 21]);
  });

  it('needs one batch of gold when the cap is 0 (reuse allowed in the next batch)', () => {
    expect(goldPoolNeed({ n: 7 }, { cases: 600, batchSize: 60 }, 0).poolForReuseCap).toBe(7);
  });

  it('throws on a fractional or negative volume', () => {
    expect(() => goldPoolNeed({ n: 7 }, { cases: -1, batchSize: 60 }, 3)).toThrow(/planned cases must be a whole number/);
    expect(() => goldPoolNeed({ n: 7 }, { cases: 10, batchSize: 0 }, 3)).toThrow(/batchSize must be a whole number ≥ 1/);
  });
});
