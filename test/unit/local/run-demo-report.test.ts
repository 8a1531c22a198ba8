import { describe, expect, it } from 'vitest';
import { type RoundReport, formatRound } from '../../../infra/local/demo/run-demo.js';

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
