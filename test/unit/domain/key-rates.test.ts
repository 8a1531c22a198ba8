import { describe, expect, it } from 'vitest';
import { PARTITION_LIMITS, casesPerSecondAtLimit, formatKeyRateReport, keyRateReport } from '../../../functions/domain/key-rates.js';

const at = (t: number, key: string, wcu = 1, rcu = 0) => ({ t, key, wcu, rcu });

describe('Function: keyRateReport', () => {
  it('takes the peak over any sliding 1 s window, not over fixed seconds', () => {
    // 600 units in [0.5 s, 1.0 s) and 600 in [1.0 s, 1.5 s): each calendar second holds at most 600, a sliding window 1,200.
    const records = [
      ...Array.from({ length: 600 }, (_, i) => at(500 + (i * 500) / 600, 'LEDGER#p')),
      ...Array.from({ length: 600 }, (_, i) => at(1000 + (i * 499) / 600, 'LEDGER#p')),
    ];
    const r = keyRateReport(records);
    expect(r.hottest[0]).toMatchObject({ key: 'LEDGER#p', requests: 1200, wcu: 1200, peakWcuPerSecond: 1200 });
    expect(r.over.map((k) => k.key)).toEqual(['LEDGER#p']);
  });

  it('reports means over the whole run, per-case units, hottest first, and nothing over when every key stays under', () => {
    const records = [
      ...Array.from({ length: 100 }, (_, i) => at(i * 40, 'PROGRAM#p#CASES#00', 2)),
      ...Array.from({ length: 10 }, (_, i) => at(i * 400, 'gsi1:CASESTATE#p#pending#00', 0, 4)),
    ];
    const r = keyRateReport(records, { cases: 50 });
    expect(r.durationMs).toBe(3960);
    expect(r.hottest.map((k) => k.key)).toEqual(['PROGRAM#p#CASES#00', 'gsi1:CASESTATE#p#pending#00']);
    expect(r.hottest[0]).toMatchObject({ wcu: 200, peakWcuPerSecond: 50, meanWcuPerSecond: 50.505, wcuPerCase: 4, rcuPerCase: 0 });
    expect(r.hottest[1]).toMatchObject({ rcu: 40, peakRcuPerSecond: 12, rcuPerCase: 0.8 });
    expect(r.over).toEqual([]);
    // The hottest key reaches 1,000 WCU/s at 250 cases/s (4 WCU per case).
    expect(casesPerSecondAtLimit(r)).toEqual({ casesPerSecond: 250, key: 'PROGRAM#p#CASES#00' });
    expect(formatKeyRateReport(r).at(-1)).toBe('  no key over its limit');
  });

  it('judges reads against 3,000 RCU/s and names a key over it', () => {
    const records = Array.from({ length: 31 }, (_, i) => at(i, 'BATCH#b', 0, 100));
    const r = keyRateReport(records);
    expect(r.hottest[0].peakRcuPerSecond).toBe(3100);
    expect(r.over.map((k) => k.key)).toEqual(['BATCH#b']);
    expect(PARTITION_LIMITS).toEqual({ wcuPerSecond: 1000, rcuPerSecond: 3000 });
    expect(formatKeyRateReport(r).at(-1)).toBe('  OVER THE LIMIT: BATCH#b');
  });

  it('finds the first key to reach a limit among all keys, not only the hottest listed', () => {
    // A burst key (hottest by peak, few units per case) and a steady key (more units per case, lower peak).
    const records = [
      ...Array.from({ length: 60 }, (_, i) => at(i, 'gsi1:BATCH#b#LABELS')),
      ...Array.from({ length: 400 }, (_, i) => at(i * 25, 'PROGRAM#p#CASES#00', 1, 3)),
    ];
    const r = keyRateReport(records, { cases: 100, top: 1 });
    expect(r.hottest.map((k) => k.key)).toEqual(['gsi1:BATCH#b#LABELS']);
    expect(casesPerSecondAtLimit(r)).toEqual({ casesPerSecond: 250, key: 'PROGRAM#p#CASES#00' });
  });

  it('answers an empty log with no keys', () => {
    expect(keyRateReport([])).toMatchObject({ durationMs: 0, requests: 0, keys: 0, hottest: [], over: [] });
  });
});
