import { describe, expect, it } from 'vitest';
import type { Statement } from '../../../functions/domain/index.js';
import { type RoundReport, decisionLine, formatRound } from '../../../infra/local/demo/run-demo.js';
import { formatDemoStatements, runPeriod } from '../../../infra/local/demo/statement-step.js';

const round = (n: number, sharesAfter: RoundReport['sharesAfter']): RoundReport => ({
  round: n,
  dispatch: { round: n, shares: { 'vendor-a': 0.92, 'vendor-b': 0.08 }, routing: {}, excluded: [], deferred: [], batches: [], overlaps: [], rebuiltBatchRecords: [] },
  batches: [],
  scorecards: [],
  sharesBefore: { 'vendor-a': 0.92, 'vendor-b': 0.08 },
  sharesAfter,
  statusChanges: [],
  adjudicated: [],
});

describe('Function: formatRound', () => {
  // Issue 9: `--rounds 3` on a directory whose cases were all labelled printed "vendor-a 92.0% → 0.0%" for shares nobody computed.
  it('never prints shares for the next round that rebalancing did not compute', () => {
    const text = formatRound(round(3, {}));
    expect(text).toContain('Vendor shares for round 4: not computed (no batch of round 3 settled into a rebalancing)');
    expect(text).not.toMatch(/→ +0\.0%/);
  });

  it('prints the shares before and after where rebalancing stored them', () => {
    expect(formatRound(round(2, { 'vendor-a': 0.95, 'vendor-b': 0.05 }))).toContain('Vendor shares for round 3: vendor-a 92.0% → 95.0% · vendor-b 8.0% → 5.0%');
  });
});

describe('Function: decisionLine', () => {
  const evidence = { n: 6, wrong: 0, batches: 1, c: 0, llr: -1.0311, bounds: { accept: -2.2513, reject: 2.8904 } };
  it('prints a held batch with its rule, evidence and bounds, and says it is not paid or penalised yet', () => {
    expect(decisionLine({ decision: 'inconclusive', rule: 'sprt', evidence, carried: [], reason: '' })).toBe(
      'sprt: 0 wrong of 6 gold over 1 batch, LLR −1.03 (accept ≤ −2.25, reject ≥ 2.89) → inconclusive: held, not paid or penalised yet',
    );
  });

  it('names the held batches a conclusive decision settles', () => {
    const pooled = { ...evidence, n: 19, batches: 3, llr: -3.2652 };
    expect(decisionLine({ decision: 'accept', rule: 'sprt', evidence: pooled, carried: ['b-1', 'b-2'], reason: '' })).toBe(
      'sprt: 0 wrong of 19 gold over 3 batches, LLR −3.27 (accept ≤ −2.25, reject ≥ 2.89) → accepted, settling held b-1, b-2',
    );
  });

  it('prints a single plan decision with its acceptance number', () => {
    const single = { n: 38, wrong: 5, batches: 1, c: 4, llr: null, bounds: null };
    expect(decisionLine({ decision: 'reject', rule: 'single-plan', evidence: single, carried: [], reason: '' })).toBe('single-plan: 5 wrong of 38 gold over 1 batch, c=4 → rejected');
  });

  it('prints each inspection switch of the round with its rule', () => {
    const text = formatRound({ ...round(2, {}), statusChanges: [{ workforceId: 'vendor-b', from: 'normal', to: 'tightened', rule: 'two-of-five-rejected', reason: 'tightened inspection: 2 of the last 2 conclusive batches rejected' }] });
    expect(text).toContain('Inspection: vendor-b normal → tightened by two-of-five-rejected (tightened inspection: 2 of the last 2 conclusive batches rejected)');
  });
});

describe('Function: formatDemoStatements', () => {
  const statement: Statement = {
    programId: 'demo-cxr',
    workforceId: 'vendor-b',
    from: '2026-11-29T00:00:00.000Z',
    to: '2026-11-30T00:00:00.000Z',
    currency: 'USD',
    lines: [
      {
        batchId: 'demo-cxr-r1-vendor-b-1',
        protocol: 'chest-xray@1',
        eventId: 'demo-cxr-r1-vendor-b-1:rejected',
        at: '2026-11-29T10:00:00.000Z',
        kind: 'settlement',
        outcome: 'rejected',
        contract: 'vendor-b.chest-xray@1',
        items: 63,
        delivered: 63,
        accepted: 0,
        rejected: 63,
        redoneElsewhere: 57,
        reworkItems: 0,
        slaMiss: false,
        lateDays: 0,
        grossCents: 6930,
        penaltyCents: 6930,
        creditCents: 0,
        amountCents: 0,
        billed: true,
        rule: 'rejected: 63 × $1.10 = $69.30; withheld on rejection: 100% = $69.30 → $0.00 (vendor-b.chest-xray@1)',
      },
    ],
    totals: { batches: 1, delivered: 63, accepted: 0, rejected: 63, redoneElsewhere: 57, slaMisses: 0, grossCents: 6930, penaltyCents: 6930, creditCents: 0, totalCents: 0, pendingCents: 0 },
  };
  const check = { statementId: 'vendor-b:x:y', eventId: 'e', hashMatches: true, recomputedMatches: true, storedTotalCents: 0, recomputedTotalCents: 0 };

  it("prints each vendor's statement with its rule, total and stored key, and that the recompute matched", () => {
    const text = formatDemoStatements({ statements: [{ statement, key: 'statements/demo-cxr/vendor-b/k.json', sha256: 'ab'.repeat(32) }], checks: [check] });
    expect(text).toContain('Statement vendor-b · 2026-11-29T00:00:00.000Z … 2026-11-30T00:00:00.000Z (USD)');
    expect(text).toContain('demo-cxr-r1-vendor-b-1: rejected: 63 × $1.10 = $69.30; withheld on rejection: 100% = $69.30 → $0.00 (vendor-b.chest-xray@1)');
    expect(text).toContain('total $0.00 · gross $69.30 · penalties -$69.30 · credits $0.00 · 0 accepted / 63 rejected items, 57 re-done elsewhere, 0 SLA miss(es)');
    expect(text).toContain('Recomputed from the ledger: 1 issued statement(s) equal to the stored ones, to the cent');
  });

  it('names a statement whose recompute differs, with both totals', () => {
    const text = formatDemoStatements({ statements: [], checks: [{ ...check, recomputedMatches: false, recomputedTotalCents: 5 }] });
    expect(text).toContain('Recomputed from the ledger: 1 of 1 differ: vendor-b:x:y (stored 0, ledger 5)');
  });
});

describe('Function: runPeriod', () => {
  it('runs from the first event’s day to the end of today (UTC)', () => {
    expect(runPeriod('2026-11-29T04:10:00.000Z', new Date('2026-11-30T23:59:00.000Z'))).toEqual({ from: '2026-11-29T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' });
  });
});
