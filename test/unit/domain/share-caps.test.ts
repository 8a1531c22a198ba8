import { describe, expect, it } from 'vitest';
import { type Case, capShares, planUnderControls, shareCapsFromLedger } from '../../../functions/domain/index.js';
import { makeCase, makeLedgerEvent, makeProtocol, makeWorkforce } from '../fakes.js';

const cases = (n: number): Case[] => Array.from({ length: n }, (_, i) => makeCase(`case-${String(i).padStart(4, '0')}`));

describe('Function: shareCapsFromLedger', () => {
  it('returns the last cap of each vendor, a null cap removing it', () => {
    const cap = (eventId: string, workforceId: string, value: number | null) =>
      makeLedgerEvent({ eventId, type: 'workforce.share-capped', data: { workforceId, cap: value, from: null } });
    expect(shareCapsFromLedger([cap('1', 'vendor-b', 0.2), cap('2', 'vendor-a', 0.5), cap('3', 'vendor-b', 0.3), cap('4', 'vendor-a', null)])).toEqual({ 'vendor-b': 0.3 });
  });
});

describe('Function: capShares', () => {
  it('returns a capped vendor at its cap and the excess with the others by their shares', () => {
    expect(capShares({ a: 0.5, b: 0.5 }, { b: 0.2 })).toEqual({ a: 0.8, b: 0.2 });
    expect(capShares({ a: 0.5, b: 0.3, c: 0.2 }, { a: 0.25 })).toEqual({ a: 0.25, b: 0.45, c: 0.3 });
  });

  it('returns shares unchanged when every cap is above the share, and under 1 when nobody can take the excess', () => {
    expect(capShares({ a: 0.5, b: 0.5 }, { b: 0.6 })).toEqual({ a: 0.5, b: 0.5 });
    expect(capShares({ a: 1 }, { a: 0.4 })).toEqual({ a: 0.4 });
  });
});

describe('Function: planUnderControls', () => {
  const protocol = makeProtocol({ goldRate: 0.1 });

  it('returns a capped vendor no more than floor(cap × vendor cases); the rest to the others', () => {
    const workforces = [makeWorkforce('vendor-a'), makeWorkforce('vendor-b')];
    const plan = planUnderControls({ cases: cases(100), protocol, workforces, shares: { 'vendor-a': 0.5, 'vendor-b': 0.5 } }, { ineligible: [], caps: { 'vendor-b': 0.2 } });
    expect(plan.assignments['vendor-b']).toHaveLength(20);
    expect(plan.assignments['vendor-a']).toHaveLength(80);
    expect(plan.capped).toEqual([{ workforceId: 'vendor-b', cap: 0.2, limit: 20, cases: 20 }]);
  });

  it('returns the excess deferred, not given to the capped vendor, when the others lack capacity', () => {
    // vendor-a can take ⌊30 × 0.9⌋ = 27 real cases; vendor-b is capped at 20 of the 100.
    const workforces = [makeWorkforce('vendor-a', { capacityPerRound: 30 }), makeWorkforce('vendor-b')];
    const plan = planUnderControls({ cases: cases(100), protocol, workforces, shares: { 'vendor-a': 0.5, 'vendor-b': 0.5 } }, { ineligible: [], caps: { 'vendor-b': 0.2 } });
    expect(plan.assignments['vendor-a']).toHaveLength(27);
    expect(plan.assignments['vendor-b'].length).toBeLessThanOrEqual(plan.capped[0].limit);
    expect(plan.deferred.length).toBe(100 - 27 - plan.assignments['vendor-b'].length);
  });

  it('returns no work for an ineligible workforce, and its explicit assignments ignored with the qualification reason', () => {
    const workforces = [makeWorkforce('vendor-a'), makeWorkforce('vendor-c')];
    const assigned = makeCase('case-x', { assignment: { workforceId: 'vendor-c', reason: 'try them', by: 'pm:alice', at: '2025-03-01T09:00:00.000Z' } });
    const plan = planUnderControls(
      { cases: [...cases(10), assigned], protocol, workforces, shares: { 'vendor-a': 0.5, 'vendor-c': 0.5 } },
      { ineligible: [{ workforceId: 'vendor-c', reason: 'not qualified on chest-xray@1: failed exam attempt 1' }], caps: {} },
    );
    expect(plan.assignments['vendor-c']).toBeUndefined();
    expect(plan.assignments['vendor-a']).toHaveLength(11);
    expect(plan.ignoredAssignments).toEqual([{ caseId: 'case-x', workforceId: 'vendor-c', reason: 'not qualified on chest-xray@1: failed exam attempt 1' }]);
    expect(plan.ineligible).toHaveLength(1);
  });
});
