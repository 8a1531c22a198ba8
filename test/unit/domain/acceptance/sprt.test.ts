import { describe, expect, it } from 'vitest';
import {
  AcceptancePlanError,
  binomialPmf,
  logLikelihoodRatio,
  singleSamplingPlan,
  sprtDesign,
  sprtLook,
  sprtOcCurve,
  sprtOperatingCharacteristic,
  waldBoundaries,
} from '../../../../functions/domain/acceptance/index.js';
import { reference, relativeError } from './reference.js';

const SPEC = { aql: 0.95, rql: 0.8, alpha: 0.05, beta: 0.1 };

describe('Function: waldBoundaries', () => {
  it('returns Wald’s a = ln((1−β)/α), b = ln(β/(1−α)) and the per-item steps, by hand', () => {
    // Act
    const w = waldBoundaries(SPEC, 0.05, 0.1);

    // Assert
    expect(w.bounds.reject).toBeCloseTo(Math.log(0.9 / 0.05), 14); // 2.8904
    expect(w.bounds.accept).toBeCloseTo(Math.log(0.1 / 0.95), 14); // −2.2513
    expect(w.steps.wrong).toBeCloseTo(Math.log(0.2 / 0.05), 14); // ln 4
    expect(w.steps.right).toBeCloseTo(Math.log(0.8 / 0.95), 14);
  });

  it.each(reference.sprt.filter((r) => r.lookEvery === 1).map((r) => [`AQL ${r.spec.aql} RQL ${r.spec.rql} α ${r.spec.alpha} β ${r.spec.beta}`, r] as const))(
    'matches the slope s and intercepts h0, h1 of the count lines (%s)',
    (_, r) => {
      // The fixture's boundaries are at the nominal risks the design used (shrunk when needed).
      const shrink = 0.9 ** r.shrinkSteps;
      const w = waldBoundaries(r.spec, r.spec.alpha * shrink, r.spec.beta * shrink);
      expect(relativeError(w.lines.slope, r.wald.slope)).toBeLessThan(1e-13);
      expect(relativeError(w.lines.h0, r.wald.h0)).toBeLessThan(1e-13);
      expect(relativeError(w.lines.h1, r.wald.h1)).toBeLessThan(1e-13);
    },
  );

  it('puts the count lines where Λ crosses the boundaries: Λ(t, h1 + s·t) = a and Λ(t, s·t − h0) = b', () => {
    const w = waldBoundaries(SPEC, 0.05, 0.1);
    for (const t of [0, 7, 38, 120]) {
      // Λ is linear in k, so it can be evaluated at a fractional k.
      const at = (k: number) => k * w.steps.wrong + (t - k) * w.steps.right;
      expect(at(w.lines.h1 + w.lines.slope * t)).toBeCloseTo(w.bounds.reject, 10);
      expect(at(w.lines.slope * t - w.lines.h0)).toBeCloseTo(w.bounds.accept, 10);
    }
  });
});

describe('Function: sprtDesign', () => {
  it.each(
    reference.sprt.map(
      (r) => [`AQL ${r.spec.aql} RQL ${r.spec.rql} α ${r.spec.alpha} β ${r.spec.beta}, looks every ${r.lookEvery}, per ${r.perBatch ? 'batch' : 'decision'}`, r] as const,
    ),
  )(
    'matches an independent numpy dynamic program: truncation N, terminal c and the exact OC (%s)',
    (_, r) => {
      // Act
      const d = sprtDesign(r.spec, r.lookEvery, { perBatch: r.perBatch });

      // Assert
      expect({ maxItems: d.maxItems, terminalC: d.terminalC }).toEqual({ maxItems: r.maxItems, terminalC: r.terminalC });
      expect(d.nominal.alpha).toBeCloseTo(r.spec.alpha * 0.9 ** r.shrinkSteps, 14);
      for (const pt of r.oc) {
        const oc = sprtOperatingCharacteristic(d, pt.accuracy);
        expect(Math.abs(oc.pAccept - pt.pAccept)).toBeLessThan(1e-12);
        expect(Math.abs(oc.pReject - pt.pReject)).toBeLessThan(1e-12);
        expect(relativeError(oc.expectedItems, pt.expectedItems)).toBeLessThan(1e-11);
        expect(Math.abs(oc.rejectedWorkShare - pt.rejectedWorkShare)).toBeLessThan(1e-12);
        expect(Math.abs(oc.acceptedWorkShare - pt.acceptedWorkShare)).toBeLessThan(1e-12);
      }
    },
  );

  it.each([1, 6, 7, 13])('keeps the exact truncated risks within α and β, per decision and per batch (looks every %i items)', (g) => {
    const d = sprtDesign(SPEC, g);
    expect(d.risks.alpha).toBeLessThanOrEqual(SPEC.alpha);
    expect(d.risks.beta).toBeLessThanOrEqual(SPEC.beta);
    expect(d.batchRisks.alpha).toBeLessThanOrEqual(SPEC.alpha);
    expect(d.batchRisks.beta).toBeLessThanOrEqual(SPEC.beta);
    expect(d.maxItems % g).toBe(0);
  });

  it('lets the per-batch risk exceed β when only per-decision risks are asked for (why perBatch is the default)', () => {
    // Accepting runs at RQL are the long ones: 6 gold per batch, per decision only.
    const d = sprtDesign(SPEC, 6, { perBatch: false });
    expect(d.risks.beta).toBeLessThanOrEqual(SPEC.beta);
    expect(d.batchRisks.beta).toBeGreaterThan(SPEC.beta);
  });

  it('truncates at the smallest feasible look: one look earlier, no terminal c meets both risks', () => {
    // Arrange
    const d = sprtDesign(SPEC, 6);
    const earlier = d.maxItems - d.lookEvery;

    // Act: every terminal rule at the earlier look, evaluated exactly.
    const feasible = Array.from({ length: earlier + 1 }, (_, c) => {
      const terminalLlr = (logLikelihoodRatio(d, earlier, c) + logLikelihoodRatio(d, earlier, c + 1)) / 2;
      const shorter = { ...d, maxItems: earlier, terminalC: c, terminalLlr };
      const atAql = sprtOperatingCharacteristic(shorter, SPEC.aql);
      const atRql = sprtOperatingCharacteristic(shorter, SPEC.rql);
      return (
        atAql.pReject <= SPEC.alpha &&
        atRql.pAccept <= SPEC.beta &&
        atAql.rejectedWorkShare <= SPEC.alpha &&
        atRql.acceptedWorkShare <= SPEC.beta
      );
    });

    // Assert
    expect(feasible.some(Boolean)).toBe(false);
  });

  it('never truncates below the single sampling plan’s n (a sequential test cannot beat the best fixed-size test)', () => {
    const n = singleSamplingPlan(SPEC).n;
    for (const g of [1, 6, 7]) expect(sprtDesign(SPEC, g).maxItems).toBeGreaterThanOrEqual(n);
  });

  it('spends fewer gold items per decision than the single plan at AQL and at RQL', () => {
    const d = sprtDesign(SPEC, 1);
    const n = singleSamplingPlan(SPEC).n;
    expect(d.asn.atAql).toBeLessThan(n);
    expect(d.asn.atRql).toBeLessThan(n);
  });

  it('reports the untruncated test’s risks, which truncation raises but keeps within α and β', () => {
    const d = sprtDesign(SPEC, 1, { perBatch: false });
    expect(d.untruncated.alpha).toBeLessThan(d.risks.alpha);
    expect(d.untruncated.beta).toBeLessThan(d.risks.beta);
  });

  it('throws on a look size that is not a whole number', () => {
    expect(() => sprtDesign(SPEC, 0)).toThrow(/lookEvery must be a whole number ≥ 1/);
  });

  it('throws an AcceptancePlanError when not even a fixed sample of 5,000 gold items meets the risks', () => {
    expect(() => sprtDesign({ aql: 0.95, rql: 0.949, alpha: 0.01, beta: 0.01 }, 1)).toThrow(AcceptancePlanError);
  });

  it('ignores maxGoldPerBatch: the SPRT pools gold over batches', () => {
    expect(sprtDesign({ ...SPEC, maxGoldPerBatch: 6 }, 6).maxItems).toBe(sprtDesign(SPEC, 6).maxItems);
  });
});

describe('Function: sprtOperatingCharacteristic', () => {
  it('equals brute-force enumeration of every answer sequence for a tiny test', () => {
    // Arrange: looks every item, N = the design's; enumerate all 2^N paths when N is small.
    const d = sprtDesign({ aql: 0.8, rql: 0.3, alpha: 0.1, beta: 0.1 }, 1);
    expect(d.maxItems).toBeLessThanOrEqual(16);
    const accuracy = 0.6;

    // Act
    let accept = 0;
    for (let path = 0; path < 2 ** d.maxItems; path++) {
      let wrong = 0;
      let prob = 1;
      for (let t = 1; t <= d.maxItems; t++) {
        const isWrong = (path >> (t - 1)) & 1;
        wrong += isWrong;
        prob *= isWrong ? 1 - accuracy : accuracy;
        const look = sprtLook(d, t, wrong);
        if (look.outcome !== 'continue') {
          // Paths agreeing up to here are counted once: only the all-zero suffix carries the mass.
          if (path >> t === 0) accept += look.outcome === 'accept' ? prob : 0;
          break;
        }
      }
    }

    // Assert
    expect(Math.abs(sprtOperatingCharacteristic(d, accuracy).pAccept - accept)).toBeLessThan(1e-12);
  });

  it('gives P(accept) rising with accuracy over 0.50…1.00 and 1 at perfect accuracy', () => {
    const oc = sprtOcCurve(sprtDesign(SPEC, 6));
    for (let i = 1; i < oc.length; i++) expect(oc[i].pAccept).toBeGreaterThan(oc[i - 1].pAccept);
    expect(oc.at(-1)?.pAccept).toBe(1);
    for (const pt of oc) expect(pt.pAccept + pt.pReject).toBeCloseTo(1, 12);
  });

  it('matches a one-look design with the single sampling plan’s binomial sum', () => {
    // A look of 38 items truncated at 38 is the single plan n = 38, c = 4.
    const d = sprtDesign(SPEC, 38);
    const sum = [0, 1, 2, 3, 4].reduce((s, k) => s + binomialPmf(k, 38, 0.05), 0);
    expect([d.maxItems, d.terminalC]).toEqual([38, 4]);
    expect(relativeError(sprtOperatingCharacteristic(d, 0.95).pAccept, sum)).toBeLessThan(1e-12);
  });
});

describe('Function: sprtLook', () => {
  const d = sprtDesign(SPEC, 1);

  it('accepts after 14 right answers in a row and not before (−0.172 per right answer, b = −2.251)', () => {
    expect(sprtLook(d, 13, 0).outcome).toBe('continue');
    expect(sprtLook(d, 14, 0).outcome).toBe('accept');
  });

  it('rejects on 3 wrong of 3 (Λ = 3·ln 4 = 4.16 ≥ 2.89) and continues on 2 wrong of 3', () => {
    expect(sprtLook(d, 3, 3)).toMatchObject({ outcome: 'reject', truncated: false });
    expect(sprtLook(d, 3, 2).outcome).toBe('continue');
  });

  it('forces the terminal rule at N: at most c_N wrong accept', () => {
    // Find an undecided state at N (between the lines) to exercise the forced decision.
    const k = Array.from({ length: d.maxItems + 1 }, (_, i) => i).filter((i) => {
      const llr = logLikelihoodRatio(d, d.maxItems, i);
      return llr > d.bounds.accept && llr < d.bounds.reject;
    });
    expect(k.length).toBeGreaterThan(0);
    for (const i of k) {
      expect(sprtLook(d, d.maxItems, i)).toMatchObject({ outcome: i <= d.terminalC ? 'accept' : 'reject', truncated: true });
    }
  });

  it('throws on more wrong answers than items', () => {
    expect(() => sprtLook(d, 3, 4)).toThrow(/wrong answers must be a whole number in 0…3/);
  });
});

describe('Field: SprtOc.rejectedWorkShare', () => {
  it('equals P(reject) when every decision takes one look', () => {
    const oc = sprtOperatingCharacteristic(sprtDesign(SPEC, 38), 0.95);
    expect(oc.rejectedWorkShare).toBeCloseTo(oc.pReject, 14);
  });

  it('weighs rejections by the gold they took: E[τ·1{reject}] / E[τ], as enumeration of every path gives', () => {
    // Arrange
    const d = sprtDesign({ aql: 0.8, rql: 0.3, alpha: 0.1, beta: 0.1 }, 1);
    const accuracy = 0.55;
    let itemsAll = 0;
    let itemsRejected = 0;

    // Act: every answer sequence of length N, each stopped path counted once (all-zero suffix).
    for (let path = 0; path < 2 ** d.maxItems; path++) {
      let wrong = 0;
      let prob = 1;
      for (let t = 1; t <= d.maxItems; t++) {
        const isWrong = (path >> (t - 1)) & 1;
        wrong += isWrong;
        prob *= isWrong ? 1 - accuracy : accuracy;
        const look = sprtLook(d, t, wrong);
        if (look.outcome !== 'continue') {
          if (path >> t === 0) {
            itemsAll += t * prob;
            if (look.outcome === 'reject') itemsRejected += t * prob;
          }
          break;
        }
      }
    }

    // Assert
    const oc = sprtOperatingCharacteristic(d, accuracy);
    expect(Math.abs(oc.expectedItems - itemsAll)).toBeLessThan(1e-12);
    expect(Math.abs(oc.rejectedWorkShare - itemsRejected / itemsAll)).toBeLessThan(1e-12);
  });
});
