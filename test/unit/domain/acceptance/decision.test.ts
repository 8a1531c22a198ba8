import { describe, expect, it } from 'vitest';
import {
  type AcceptanceRule,
  decideBatch,
  formatRisk,
  inspectionPolicy,
  passesTightened,
  singleSamplingPlan,
  sprtDesign,
} from '../../../../functions/domain/acceptance/index.js';

const SPEC = { aql: 0.95, rql: 0.8, alpha: 0.05, beta: 0.1 };
const single: AcceptanceRule = { kind: 'single-plan', plan: singleSamplingPlan(SPEC) }; // n = 38, c = 4
const sprt: AcceptanceRule = { kind: 'sprt', design: sprtDesign(SPEC, 6) };
const fixed: AcceptanceRule = { kind: 'fixed-threshold', goldAccuracy: 0.85, minGoldItems: 5 };

describe('Function: decideBatch', () => {
  describe('Rule: single-plan', () => {
    it('accepts at c wrong and says which plan and risks decided', () => {
      // Act
      const d = decideBatch(single, { n: 38, wrong: 4 });

      // Assert
      expect(d).toEqual({
        decision: 'accept',
        rule: 'single-plan',
        evidence: { n: 38, wrong: 4, batches: 1, c: 4, llr: null, bounds: null },
        reason: 'accepted: 4 wrong of 38 gold items, plan n=38 c=4 (α=0.05 at AQL 0.95, β=0.10 at RQL 0.80)',
      });
    });

    it('rejects at c + 1 wrong', () => {
      const d = decideBatch(single, { n: 38, wrong: 5 });
      expect(d.decision).toBe('reject');
      expect(d.reason).toBe('rejected: 5 wrong of 38 gold items, plan n=38 c=4 (α=0.05 at AQL 0.95, β=0.10 at RQL 0.80)');
    });

    it('reads like the vendor report for a small plan: 1 wrong of 13 at n=13 c=1', () => {
      const plan = { ...singleSamplingPlan(SPEC), n: 13, c: 1 };
      expect(decideBatch({ kind: 'single-plan', plan }, { n: 13, wrong: 1 }).reason).toBe(
        'accepted: 1 wrong of 13 gold items, plan n=13 c=1 (α=0.05 at AQL 0.95, β=0.10 at RQL 0.80)',
      );
    });

    it('is inconclusive, not rejected, when a short gold pool leaves the outcome open', () => {
      const d = decideBatch(single, { n: 30, wrong: 2 });
      expect(d).toMatchObject({ decision: 'inconclusive', rule: 'single-plan-curtailed' });
      expect(d.reason).toMatch(/needs 8 more gold items; more gold decides/);
    });

    it('rejects a short sample that already exceeds c, and accepts one that no missing answer could fail', () => {
      expect(decideBatch(single, { n: 20, wrong: 5 })).toMatchObject({ decision: 'reject', rule: 'single-plan-curtailed' });
      expect(decideBatch(single, { n: 36, wrong: 2 })).toMatchObject({ decision: 'accept', rule: 'single-plan-curtailed' });
    });

    it('uses the β-keeping acceptance number for more gold than planned, with the exact risks in the reason', () => {
      const d = decideBatch(single, { n: 50, wrong: 5 });
      expect(d.evidence.c).toBe(5);
      expect(d.decision).toBe('accept');
      expect(d.reason).toMatch(/c=5 for 50 gold items \(plan n=38 c=4; exact α=0\.0377.*β=0\.0480/);
    });
  });

  describe('Rule: sprt', () => {
    it('is inconclusive on one clean batch of 6 and says the next gold decides', () => {
      // Act
      const d = decideBatch(sprt, { n: 6, wrong: 0, batches: 1 });

      // Assert
      expect(d.decision).toBe('inconclusive');
      expect(d.rule).toBe('sprt');
      expect(d.evidence.llr).toBeCloseTo(6 * Math.log(0.8 / 0.95), 12);
      expect(d.evidence.bounds).toEqual({ accept: Math.log(0.1 / 0.95), reject: Math.log(0.9 / 0.05) });
      expect(d.reason).toBe(
        'inconclusive: 0 wrong of 6 gold items over 1 batch, SPRT log-likelihood ratio −1.03 between the accept bound −2.25 and the reject bound 2.89; the vendor\'s next gold decides (α=0.05 at AQL 0.95, β=0.10 at RQL 0.80; SPRT truncated at 60 items)',
      );
    });

    it('accepts three clean batches pooled (18 right answers)', () => {
      const d = decideBatch(sprt, { n: 18, wrong: 0, batches: 3 });
      expect(d.decision).toBe('accept');
      expect(d.reason).toMatch(/^accepted: 0 wrong of 18 gold items over 3 batches, SPRT log-likelihood ratio −3\.09 ≤ accept bound −2\.25/);
    });

    it('leaves a careful vendor’s batch with one or two misses in six gold items inconclusive, not rejected', () => {
      // Today's rule rejects both (5/6 and 4/6 < 0.85); the demo's careful vendor lost 2 of 6 batches so.
      expect(decideBatch(sprt, { n: 6, wrong: 1 }).decision).toBe('inconclusive');
      expect(decideBatch(sprt, { n: 6, wrong: 2 }).decision).toBe('inconclusive');
      expect(decideBatch(fixed, { n: 6, wrong: 1 }).decision).toBe('reject');
    });

    it('rejects 3 wrong of 6', () => {
      expect(decideBatch(sprt, { n: 6, wrong: 3 })).toMatchObject({ decision: 'reject', rule: 'sprt' });
    });

    it('never rejects a batch whose every gold answer is right, at any pooled size', () => {
      for (let n = 0; n <= 120; n++) expect(decideBatch(sprt, { n, wrong: 0 }).decision).not.toBe('reject');
    });

    it('decides at the truncation with the terminal acceptance number', () => {
      const { design } = sprt as { design: ReturnType<typeof sprtDesign> };
      const d = decideBatch(sprt, { n: design.maxItems, wrong: design.terminalC, batches: 8 });
      expect(d).toMatchObject({ decision: 'accept', rule: 'sprt-truncated' });
      expect(d.reason).toMatch(/at 60 items at most 6 wrong accept/);
    });
  });

  describe('Rule: fixed-threshold (today’s rule)', () => {
    it('rejects a 95%-accurate vendor’s batch on one miss in six', () => {
      expect(decideBatch(fixed, { n: 6, wrong: 1 })).toMatchObject({ decision: 'reject', reason: 'rejected: gold accuracy 0.833 (5/6) below threshold 0.85' });
    });

    it('accepts without a verdict below minGoldItems, as today', () => {
      expect(decideBatch(fixed, { n: 4, wrong: 4 }).decision).toBe('accept');
    });
  });

  it('rejects on a blocker (a critical miss) whatever the counts, naming it', () => {
    const d = decideBatch(single, { n: 38, wrong: 1, blockers: ['critical miss on gold item cxr-0042'] });
    expect(d).toMatchObject({ decision: 'reject', rule: 'blocker', reason: 'rejected: critical miss on gold item cxr-0042' });
  });

  it('throws on evidence that cannot be (more wrong than items, fractional counts)', () => {
    expect(() => decideBatch(single, { n: 3, wrong: 4 })).toThrow(/wrong gold answers must be a whole number in 0…3/);
    expect(() => decideBatch(single, { n: 3.5, wrong: 0 })).toThrow(/gold items must be a whole number/);
  });
});

describe('Function: formatRisk', () => {
  it('prints at least two decimals and no spurious digits', () => {
    expect([0.05, 0.1, 0.025, 0.8, 1].map(formatRisk)).toEqual(['0.05', '0.10', '0.025', '0.80', '1.00']);
  });
});

describe('Function: passesTightened', () => {
  const tightenedSpec = inspectionPolicy(singleSamplingPlan(SPEC).spec, 'tightened').spec!;

  it('uses the tightened acceptance number for the sample actually taken (c = 3 at n = 38)', () => {
    expect(passesTightened(tightenedSpec, { n: 38, wrong: 3 })).toBe(true);
    expect(passesTightened(tightenedSpec, { n: 38, wrong: 4 })).toBe(false);
  });

  it('judges pooled SPRT evidence the same way: 0 wrong of 18 passes, of 12 is too little evidence', () => {
    // P(0 wrong of 18 | RQL) = 0.8¹⁸ = 0.018 ≤ 0.05; of 12: 0.069 > 0.05.
    expect(passesTightened(tightenedSpec, { n: 18, wrong: 0 })).toBe(true);
    expect(passesTightened(tightenedSpec, { n: 12, wrong: 0 })).toBe(false);
    expect(passesTightened(tightenedSpec, { n: 18, wrong: 1 })).toBe(false);
  });

  it('never passes a batch with a blocker', () => {
    expect(passesTightened(tightenedSpec, { n: 38, wrong: 0, blockers: ['critical miss'] })).toBe(false);
  });
});
