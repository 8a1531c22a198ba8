import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Scorecard, Workforce } from '../../../functions/domain/model/index.js';
import { initialShares, rebalanceShares } from '../../../functions/domain/rebalancing.js';
import { makeProtocol, makeScorecard, makeWorkforce } from '../fakes.js';

// floor 0.7, learning rate 0.5, minShare 0.05 (the protocol defaults)
const protocol = makeProtocol({ goldRate: 0.1 });

const vendor = (id: string, overrides: Parameters<typeof makeWorkforce>[1] = {}) => makeWorkforce(id, overrides);
const proven = (id: string, lower: number) => makeScorecard(id, { goldN: 200, goldCorrect: 190, lower, upper: Math.min(1, lower + 0.1) });
const sum = (shares: Record<string, number>) => Object.values(shares).reduce((s, x) => s + x, 0);

function run(
  vendors: Workforce[],
  previous: Record<string, number>,
  scorecards: Record<string, Scorecard>,
  expectedVendorCases = 0,
) {
  return rebalanceShares({ protocol, vendors, previous, scorecards, expectedVendorCases });
}

describe('Function: rebalanceShares', () => {
  it('returns shares moved toward the vendor with the higher gold-accuracy lower bound', () => {
    // Arrange: weights (0.9 − 0.7) : (0.8 − 0.7) = 2 : 1 → target 0.667 / 0.333; move half-way
    const vendors = [vendor('vendor-a'), vendor('vendor-b')];

    // Act
    const { shares, changes } = run(vendors, { 'vendor-a': 0.5, 'vendor-b': 0.5 }, {
      'vendor-a': proven('vendor-a', 0.9),
      'vendor-b': proven('vendor-b', 0.8),
    });

    // Assert
    expect(shares).toEqual({ 'vendor-a': 0.5833, 'vendor-b': 0.4167 });
    expect(changes).toEqual([
      {
        workforceId: 'vendor-a',
        from: 0.5,
        to: 0.5833,
        reason: 'gold accuracy lower bound 0.900 (n=200) above floor 0.7: target 0.667, moved 0.5 of the way',
      },
      {
        workforceId: 'vendor-b',
        from: 0.5,
        to: 0.4167,
        reason: 'gold accuracy lower bound 0.800 (n=200) above floor 0.7: target 0.333, moved 0.5 of the way',
      },
    ]);
  });

  it('returns a share for a vendor with proven quality that had none before', () => {
    const { shares } = run([vendor('vendor-a'), vendor('vendor-b')], { 'vendor-a': 1, 'vendor-b': 0 }, {
      'vendor-a': proven('vendor-a', 0.8),
      'vendor-b': proven('vendor-b', 0.8),
    });
    expect(shares).toEqual({ 'vendor-a': 0.75, 'vendor-b': 0.25 });
  });

  it('returns the previous share of a vendor with too little gold evidence, with no change entry', () => {
    // Arrange
    const vendors = [vendor('vendor-a'), vendor('vendor-b'), vendor('vendor-c')];
    const scorecards = {
      'vendor-a': makeScorecard('vendor-a', { goldN: 3, lower: 0.3, insufficient: true }),
      'vendor-b': proven('vendor-b', 0.9),
      'vendor-c': proven('vendor-c', 0.75),
    };

    // Act
    const { shares, changes } = run(vendors, { 'vendor-a': 0.2, 'vendor-b': 0.4, 'vendor-c': 0.4 }, scorecards);

    // Assert: b and c share their 0.8 by (0.2 : 0.05) → targets 0.64 / 0.16, moved half-way
    expect(shares).toEqual({ 'vendor-a': 0.2, 'vendor-b': 0.52, 'vendor-c': 0.28 });
    expect(changes.map((c) => c.workforceId)).toEqual(['vendor-b', 'vendor-c']);
  });

  it('returns the previous share of a vendor with no scorecard yet', () => {
    const { shares } = run([vendor('vendor-a'), vendor('vendor-b')], { 'vendor-a': 0.3, 'vendor-b': 0.7 }, {
      'vendor-b': proven('vendor-b', 0.9),
    });
    expect(shares['vendor-a']).toBe(0.3);
  });

  it('returns 0 for a suspended vendor with the reason, its share going to the others', () => {
    // Arrange
    const vendors = [vendor('vendor-a', { status: 'suspended' }), vendor('vendor-b')];

    // Act
    const { shares, changes } = run(vendors, { 'vendor-a': 0.4, 'vendor-b': 0.6 }, {
      'vendor-a': proven('vendor-a', 0.95),
      'vendor-b': proven('vendor-b', 0.8),
    });

    // Assert
    expect(shares).toEqual({ 'vendor-a': 0, 'vendor-b': 1 });
    expect(changes.find((c) => c.workforceId === 'vendor-a')).toEqual({
      workforceId: 'vendor-a',
      from: 0.4,
      to: 0,
      reason: 'suspended: no work',
    });
  });

  it('returns a falling share, with "below floor" in the reason, for a vendor under the quality floor', () => {
    // Arrange
    const vendors = [vendor('vendor-a'), vendor('vendor-b')];

    // Act
    const { shares, changes } = run(vendors, { 'vendor-a': 0.5, 'vendor-b': 0.5 }, {
      'vendor-a': proven('vendor-a', 0.9),
      'vendor-b': proven('vendor-b', 0.6),
    });

    // Assert: b's target is 0; it moves half-way, so 0.25 (no minShare below the floor)
    expect(shares).toEqual({ 'vendor-a': 0.75, 'vendor-b': 0.25 });
    expect(changes.find((c) => c.workforceId === 'vendor-b')!.reason).toBe(
      'gold accuracy lower bound 0.600 (n=200) below floor 0.7: target 0.000, moved 0.5 of the way',
    );
  });

  it('returns a share below minShare for a vendor under the floor (minShare protects only vendors above it)', () => {
    const { shares } = run([vendor('vendor-a'), vendor('vendor-b')], { 'vendor-a': 0.94, 'vendor-b': 0.06 }, {
      'vendor-a': proven('vendor-a', 0.9),
      'vendor-b': proven('vendor-b', 0.5),
    });
    expect(shares['vendor-b']).toBe(0.03);
  });

  it('returns at least minShare for a vendor above the floor whose move would take it lower [PRODUCTION BUG]', () => {
    // Arrange: b is barely above the floor (0.706): target 0.023, a half-way move
    // gives 0.037, so minShare (0.05) should hold it at 0.05.
    const vendors = [vendor('vendor-a'), vendor('vendor-b')];

    // Act
    const { shares } = run(vendors, { 'vendor-a': 0.95, 'vendor-b': 0.05 }, {
      'vendor-a': proven('vendor-a', 0.95),
      'vendor-b': proven('vendor-b', 0.706),
    });

    // Assert: rebalancing.ts raises b to minShare *before* normalising, then divides
    // every share by the new total (1.013), which pushes b back to 0.0493.
    expect(shares['vendor-b']).toBeGreaterThanOrEqual(protocol.rebalancing.minShare);
    expect(sum(shares)).toBeCloseTo(1, 3);
  });

  it('returns a share capped by capacity, the excess going to the vendor with headroom', () => {
    // Arrange: vendor-a can take ⌊30 × 0.9⌋ = 27 of 100 expected cases → at most 0.27
    const vendors = [vendor('vendor-a', { capacityPerRound: 30 }), vendor('vendor-b', { capacityPerRound: 1000 })];

    // Act
    const { shares, changes } = run(
      vendors,
      { 'vendor-a': 0.5, 'vendor-b': 0.5 },
      { 'vendor-a': proven('vendor-a', 0.95), 'vendor-b': proven('vendor-b', 0.8) },
      100,
    );

    // Assert
    expect(shares).toEqual({ 'vendor-a': 0.27, 'vendor-b': 0.73 });
    expect(changes.find((c) => c.workforceId === 'vendor-a')!.reason).toMatch(/; capped by capacity \(30\/round\)$/);
    expect(changes.find((c) => c.workforceId === 'vendor-b')!.reason).not.toContain('capped');
  });

  it('returns shares that still sum to 1 when the vendors together cannot take every expected case', () => {
    // Arrange: 2 × 9 real cases of capacity for 100 expected cases
    const vendors = [vendor('vendor-a', { capacityPerRound: 10 }), vendor('vendor-b', { capacityPerRound: 10 })];

    // Act
    const { shares } = run(
      vendors,
      { 'vendor-a': 0.5, 'vendor-b': 0.5 },
      { 'vendor-a': proven('vendor-a', 0.9), 'vendor-b': proven('vendor-b', 0.8) },
      100,
    );

    // Assert: shares are "summing to 1 (or all 0)" (model/workforce.ts). Regression:
    // the capacity step once divided the capped units by 1,000,000 rather than by
    // the units placed, returning { a: 0.09, b: 0.09 }.
    expect(sum(shares)).toBeCloseTo(1, 3);
  });

  it('returns no change entries when every vendor lacks gold evidence', () => {
    // Act
    const { shares, changes } = run([vendor('vendor-a'), vendor('vendor-b')], { 'vendor-a': 0.6, 'vendor-b': 0.4 }, {
      'vendor-a': makeScorecard('vendor-a', { goldN: 2, insufficient: true }),
      'vendor-b': makeScorecard('vendor-b', { goldN: 0, insufficient: true }),
    });

    // Assert
    expect(shares).toEqual({ 'vendor-a': 0.6, 'vendor-b': 0.4 });
    expect(changes).toEqual([]);
  });

  it('returns shares kept when no vendor is above the floor', () => {
    const { shares, changes } = run([vendor('vendor-a'), vendor('vendor-b')], { 'vendor-a': 0.6, 'vendor-b': 0.4 }, {
      'vendor-a': proven('vendor-a', 0.65),
      'vendor-b': proven('vendor-b', 0.5),
    });
    expect(shares).toEqual({ 'vendor-a': 0.6, 'vendor-b': 0.4 });
    expect(changes).toEqual([]);
  });

  it('returns no change entry when shares are already at their targets', () => {
    // Arrange: weights 0.2 : 0.1 and shares already 2/3 : 1/3
    const { changes } = run([vendor('vendor-a'), vendor('vendor-b')], { 'vendor-a': 2 / 3, 'vendor-b': 1 / 3 }, {
      'vendor-a': proven('vendor-a', 0.9),
      'vendor-b': proven('vendor-b', 0.8),
    });
    expect(changes).toEqual([]);
  });

  it('returns shares that sum to 1 and lie in [0, 1], with a reason for every change (property)', () => {
    const arbVendor = fc.record({
      prev: fc.integer({ min: 0, max: 100 }),
      status: fc.constantFrom('active' as const, 'probation' as const, 'suspended' as const),
      goldN: fc.integer({ min: 0, max: 300 }),
      lower: fc.double({ min: 0, max: 1, noNaN: true }),
      hasCard: fc.boolean(),
      capacity: fc.integer({ min: 200, max: 2000 }),
    });
    fc.assert(
      fc.property(fc.array(arbVendor, { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 180 }), (raw, expected) => {
        // Arrange: previous shares normalised; capacity ample (every vendor alone could take all the work)
        const ids = raw.map((_, i) => `vendor-${i}`);
        const prevSum = raw.reduce((s, v) => s + v.prev, 0);
        const previous = Object.fromEntries(ids.map((id, i) => [id, prevSum > 0 ? raw[i].prev / prevSum : 0]));
        const vendors = raw.map((v, i) => vendor(ids[i], { status: v.status, capacityPerRound: v.capacity }));
        const scorecards = Object.fromEntries(
          raw.flatMap((v, i) =>
            v.hasCard
              ? [[ids[i], makeScorecard(ids[i], { goldN: v.goldN, lower: v.lower, insufficient: v.goldN < 5 })]]
              : [],
          ),
        );

        // Act
        const { shares, changes } = run(vendors, previous, scorecards, expected);

        // Assert
        // Shares sum to 1, or are all 0 (possible only when no active vendor had a share:
        // from all-zero shares a vendor above the floor may still be lifted to minShare).
        const live = raw.reduce((s, v, i) => s + (v.status === 'suspended' ? 0 : previous[ids[i]]), 0);
        const total = sum(shares);
        if (live > 0 || total > 0) expect(Math.abs(total - 1)).toBeLessThanOrEqual(1e-3);
        for (const id of ids) {
          expect(shares[id]).toBeGreaterThanOrEqual(0);
          expect(shares[id]).toBeLessThanOrEqual(1);
        }
        raw.forEach((v, i) => {
          if (v.status === 'suspended') expect(shares[ids[i]]).toBe(0);
        });
        for (const c of changes) {
          expect(c.reason.length).toBeGreaterThan(0);
          expect(c.to).toBe(shares[c.workforceId]);
          expect(c.to).not.toBe(c.from);
        }
        const changed = ids.filter((id) => Math.round(previous[id] * 1e4) / 1e4 !== shares[id]);
        expect(changes.map((c) => c.workforceId)).toEqual(changed);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Function: initialShares', () => {
  it('splits round 1 equally among the vendors not suspended, to four decimals, leaving internal teams out', () => {
    const shares = initialShares([
      vendor('vendor-a'),
      vendor('vendor-b'),
      vendor('vendor-c'),
      vendor('vendor-d', { status: 'suspended' }),
      makeWorkforce('radiology', { kind: 'internal' }),
    ]);
    expect(shares).toEqual({ 'vendor-a': 0.3333, 'vendor-b': 0.3333, 'vendor-c': 0.3333 });
    expect(initialShares([makeWorkforce('radiology', { kind: 'internal' })])).toEqual({});
  });
});
