import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { goldCountFor } from '../../../functions/domain/batching.js';
import type { z } from 'zod';
import type { Case, RoutingRule as RoutingRuleSchema, Workforce } from '../../../functions/domain/model/index.js';
import { apportion, caseCapacity, planRound } from '../../../functions/domain/planning.js';
import { makeCase, makeProtocol, makeWorkforce } from '../fakes.js';

const cases = (n: number, overrides: Parameters<typeof makeCase>[1] = {}, prefix = 'case'): Case[] =>
  Array.from({ length: n }, (_, i) => makeCase(`${prefix}-${String(i).padStart(4, '0')}`, overrides));

const ids = (cs: readonly Case[]): string[] => cs.map((c) => c.caseId);

type RoutingRule = z.input<typeof RoutingRuleSchema>;

const MAMMO_RULE: RoutingRule = {
  id: 'mammo-needs-qualified-vendor',
  when: [{ attribute: 'bodyPart', op: 'equals', value: 'BREAST' }],
  route: { pool: 'vendor', qualifications: ['mammo'] },
  reason: 'Mammography needs MQSA-qualified readers',
};
const SENSITIVE_RULE: RoutingRule = {
  id: 'sensitive-inside',
  when: [{ attribute: 'flags.sensitive', op: 'isTrue' }],
  route: { pool: 'internal', qualifications: [] },
  reason: 'Sensitive studies stay inside',
};
const EXCLUDE_MR: RoutingRule = {
  id: 'mr-out-of-scope',
  when: [{ attribute: 'modality', op: 'equals', value: 'MR' }],
  route: { pool: 'exclude' },
  reason: 'MR is not part of this protocol',
};

describe('Function: apportion', () => {
  const UNCAPPED = [1e9, 1e9, 1e9];

  it('returns largest-remainder counts, ties going to the earlier party', () => {
    // 10 by equal thirds: quotas 3.33 each, one seat left, lowest index wins the tie
    expect(apportion(10, [1, 1, 1], UNCAPPED)).toEqual([4, 3, 3]);
  });

  it('returns the party with the largest remainder the extra item', () => {
    // quotas 3.5, 2.1, 1.4 → floors 3, 2, 1; the one seat left goes to the 0.5 remainder
    expect(apportion(7, [0.5, 0.3, 0.2], UNCAPPED)).toEqual([4, 2, 1]);
    // quotas 1.4, 2.1, 3.5 → the seat goes to the last party
    expect(apportion(7, [0.2, 0.3, 0.5], UNCAPPED)).toEqual([1, 2, 4]);
  });

  it('returns the same counts for weights that are scaled copies of each other', () => {
    expect(apportion(10, [2, 2, 1], UNCAPPED)).toEqual(apportion(10, [0.4, 0.4, 0.2], UNCAPPED));
    expect(apportion(10, [2, 2, 1], UNCAPPED)).toEqual([4, 4, 2]);
  });

  it('returns a capped party no more than its cap, the excess flowing to the others', () => {
    expect(apportion(10, [0.5, 0.5], [2, 100])).toEqual([2, 8]);
  });

  it('returns overflow split among the uncapped parties by their weights', () => {
    // first pass 5/3/2 by weight; party 0 is capped at 2, so its 3 extra are split
    // 1:1 between the other two (largest remainder, tie to the earlier) → [2, 5, 3]
    expect(apportion(10, [2, 1, 1], [2, 100, 100])).toEqual([2, 5, 3]);
  });

  it('returns nothing for a zero-weight party even when it has capacity', () => {
    expect(apportion(5, [0, 1], [10, 10])).toEqual([0, 5]);
    expect(apportion(5, [0, 1], [10, 2])).toEqual([0, 2]);
  });

  it('returns nothing for a party with zero capacity', () => {
    expect(apportion(6, [1, 1], [0, 10])).toEqual([0, 6]);
  });

  it('returns all zeros when the total is 0', () => {
    expect(apportion(0, [0.5, 0.5], [10, 10])).toEqual([0, 0]);
  });

  it('returns all zeros when every weight is 0', () => {
    expect(apportion(10, [0, 0], [10, 10])).toEqual([0, 0]);
  });

  it('returns every party at its cap and leaves the rest unplaced when all are capped', () => {
    // Act
    const counts = apportion(10, [1, 1], [2, 3]);

    // Assert
    expect(counts).toEqual([2, 3]);
    expect(counts.reduce((s, x) => s + x, 0)).toBe(5);
  });

  it('returns counts that place min(total, capacity of weighted parties), each within its cap (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc.array(fc.tuple(fc.oneof(fc.constant(0), fc.double({ min: 0.001, max: 10, noNaN: true })), fc.integer({ min: 0, max: 300 })), {
          minLength: 1,
          maxLength: 6,
        }),
        (total, parties) => {
          const weights = parties.map(([w]) => w);
          const caps = parties.map(([, c]) => c);
          const counts = apportion(total, weights, caps);
          const reachable = parties.reduce((s, [w, c]) => s + (w > 0 ? c : 0), 0);
          expect(counts.reduce((s, x) => s + x, 0)).toBe(Math.min(total, reachable));
          counts.forEach((n, i) => {
            expect(Number.isInteger(n)).toBe(true);
            expect(n).toBeGreaterThanOrEqual(0);
            expect(n).toBeLessThanOrEqual(caps[i]);
            if (weights[i] === 0) expect(n).toBe(0);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('returns each count within one of its exact quota when no cap binds (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.array(fc.double({ min: 0.001, max: 10, noNaN: true }), { minLength: 1, maxLength: 6 }),
        (total, weights) => {
          const sum = weights.reduce((s, w) => s + w, 0);
          const counts = apportion(total, weights, weights.map(() => total));
          counts.forEach((n, i) => {
            const quota = (total * weights[i]) / sum;
            expect(n).toBeGreaterThanOrEqual(Math.floor(quota - 1e-9));
            expect(n).toBeLessThanOrEqual(Math.ceil(quota + 1e-9));
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Function: caseCapacity', () => {
  it('returns a vendor capacity reduced by the gold items it must also label', () => {
    const protocol = makeProtocol({ goldRate: 0.1 });
    expect(caseCapacity(makeWorkforce('v', { kind: 'vendor', capacityPerRound: 100 }), protocol)).toBe(90);
  });

  it('returns the capacity rounded down to whole cases', () => {
    const protocol = makeProtocol({ goldRate: 0.1 });
    // 15 × 0.9 = 13.5
    expect(caseCapacity(makeWorkforce('v', { kind: 'vendor', capacityPerRound: 15 }), protocol)).toBe(13);
  });

  // Issue 11: internal teams get blind gold too (acceptance.internalGoldRate), no longer the full capacity.
  it('returns an internal team its capacity net of its blind gold at the internal gold rate, not the vendor rate', () => {
    const protocol = makeProtocol({ goldRate: 0.2 });
    // 98 real cases + round(98 × 0.02 / 0.98) = 2 gold = 100.
    expect(caseCapacity(makeWorkforce('t', { kind: 'internal', capacityPerRound: 100 }), protocol)).toBe(98);
    expect(caseCapacity(makeWorkforce('t', { kind: 'internal', capacityPerRound: 1 }), protocol)).toBe(1);
    expect(caseCapacity(makeWorkforce('t', { kind: 'internal', capacityPerRound: 100 }), makeProtocol({ goldRate: 0.2, acceptance: { internalGoldRate: 0 } }))).toBe(100);
  });

  it('returns the full capacity when the gold rate is 0', () => {
    const protocol = makeProtocol({ goldRate: 0 });
    expect(caseCapacity(makeWorkforce('v', { capacityPerRound: 37 }), protocol)).toBe(37);
  });

  it('returns 0 for a workforce with no capacity', () => {
    expect(caseCapacity(makeWorkforce('v', { capacityPerRound: 0 }), makeProtocol())).toBe(0);
  });

  it('returns ⌊C·(1−r)⌋ exactly, with no floating-point loss (C=90, r=0.3 → 63) [PRODUCTION BUG]', () => {
    // Arrange: 63 real cases + round(63·0.3/0.7) = 27 gold = 90 items: exactly the capacity.
    const protocol = makeProtocol({ goldRate: 0.3 });
    const vendor = makeWorkforce('v', { capacityPerRound: 90 });

    // Act
    const real = caseCapacity(vendor, protocol);

    // Assert: 90 × (1 − 0.3) evaluates to 62.99999999999999 in floating point, and
    // Math.floor turns that into 62, costing the vendor a case every round.
    expect(real + goldCountFor(real, protocol.goldRate)).toBeLessThanOrEqual(90);
    expect(real).toBe(63);
  });
});

describe('Function: planRound', () => {
  describe('vendor shares and capacity', () => {
    it('returns vendor work split by allocation shares', () => {
      // Arrange
      const input = {
        cases: cases(100),
        protocol: makeProtocol({ goldRate: 0.1 }),
        workforces: [makeWorkforce('vendor-a'), makeWorkforce('vendor-b')],
        shares: { 'vendor-a': 0.7, 'vendor-b': 0.3 },
      };

      // Act
      const plan = planRound(input);

      // Assert
      expect(plan.assignments['vendor-a']).toHaveLength(70);
      expect(plan.assignments['vendor-b']).toHaveLength(30);
      expect(plan.deferred).toEqual([]);
    });

    // Issue 7 finding 10 (sweep): planRound pushed a workforce's whole share with push(...take), which overflows the stack past ~120,000 cases.
    it('returns a round of 150,000 cases to one vendor without overflowing the stack', () => {
      // Act
      const plan = planRound({
        cases: cases(150_000),
        protocol: makeProtocol(),
        workforces: [makeWorkforce('vendor-a', { capacityPerRound: 200_000 })],
        shares: { 'vendor-a': 1 },
      });

      // Assert
      expect(plan.assignments['vendor-a']).toHaveLength(150_000);
    });

    it('returns each workforce its cases in input order', () => {
      // Arrange
      const all = cases(10);

      // Act
      const plan = planRound({
        cases: all,
        protocol: makeProtocol(),
        workforces: [makeWorkforce('vendor-a'), makeWorkforce('vendor-b')],
        shares: { 'vendor-a': 0.5, 'vendor-b': 0.5 },
      });

      // Assert
      const order = (cs: Case[]) => cs.map((c) => ids(all).indexOf(c.caseId));
      for (const list of Object.values(plan.assignments)) {
        expect(order(list)).toEqual([...order(list)].sort((a, b) => a - b));
      }
    });

    it('returns a vendor no more cases than its capacity net of gold, the rest going to the other vendor', () => {
      // Arrange: vendor-a may take ⌊20 × 0.9⌋ = 18 real cases
      const plan = planRound({
        cases: cases(100),
        protocol: makeProtocol({ goldRate: 0.1 }),
        workforces: [makeWorkforce('vendor-a', { capacityPerRound: 20 }), makeWorkforce('vendor-b')],
        shares: { 'vendor-a': 0.7, 'vendor-b': 0.3 },
      });

      // Assert
      expect(plan.assignments['vendor-a']).toHaveLength(18);
      expect(plan.assignments['vendor-b']).toHaveLength(82);
      expect(plan.deferred).toEqual([]);
    });

    it('returns cases deferred as "capacity exhausted" when vendors are full', () => {
      // Arrange
      const plan = planRound({
        cases: cases(50),
        protocol: makeProtocol({ goldRate: 0 }),
        workforces: [makeWorkforce('vendor-a', { capacityPerRound: 10 }), makeWorkforce('vendor-b', { capacityPerRound: 15 })],
        shares: { 'vendor-a': 0.5, 'vendor-b': 0.5 },
      });

      // Assert
      expect(plan.assignments['vendor-a']).toHaveLength(10);
      expect(plan.assignments['vendor-b']).toHaveLength(15);
      expect(plan.deferred).toHaveLength(25);
      expect(new Set(plan.deferred.map((d) => d.reason))).toEqual(
        new Set(['vendor capacity for [no qualifications] exhausted this round']),
      );
    });

    it('returns cases deferred as "no allocation share" when no qualified vendor has a share', () => {
      // Act
      const plan = planRound({
        cases: cases(3),
        protocol: makeProtocol(),
        workforces: [makeWorkforce('vendor-a'), makeWorkforce('vendor-b')],
        shares: {},
      });

      // Assert
      expect(plan.assignments).toEqual({ 'vendor-a': [], 'vendor-b': [] });
      expect(plan.deferred).toEqual(
        ids(cases(3)).map((caseId) => ({ caseId, reason: 'no qualified vendor workforce has an allocation share' })),
      );
    });

    it('returns nothing to a vendor whose share is 0 while others have shares', () => {
      const plan = planRound({
        cases: cases(20),
        protocol: makeProtocol(),
        workforces: [makeWorkforce('vendor-a'), makeWorkforce('vendor-b')],
        shares: { 'vendor-a': 1, 'vendor-b': 0 },
      });
      expect(plan.assignments['vendor-a']).toHaveLength(20);
      expect(plan.assignments['vendor-b']).toHaveLength(0);
    });

    it('returns capacity used by one qualification group as no longer available to another', () => {
      // Arrange: vendor-a is the only mammo vendor and also takes general work
      const general = cases(30, {}, 'gen');
      const mammo = cases(10, { bodyPart: 'BREAST' }, 'mam');
      const plan = planRound({
        cases: [...general, ...mammo],
        protocol: makeProtocol({ goldRate: 0, routing: { rules: [MAMMO_RULE], default: { pool: 'vendor', qualifications: [] } } }),
        workforces: [makeWorkforce('vendor-a', { capacityPerRound: 35, qualifications: ['mammo'] })],
        shares: { 'vendor-a': 1 },
      });

      // Assert: 35 real cases in all, never more
      expect(plan.assignments['vendor-a']).toHaveLength(35);
      expect(plan.deferred).toHaveLength(5);
    });
  });

  describe('qualifications and status', () => {
    it('returns qualification-bound cases only to a vendor holding the qualification', () => {
      // Arrange
      const general = cases(20, {}, 'gen');
      const mammo = cases(10, { bodyPart: 'BREAST' }, 'mam');
      const protocol = makeProtocol({ routing: { rules: [MAMMO_RULE], default: { pool: 'vendor', qualifications: [] } } });

      // Act
      const plan = planRound({
        cases: [...mammo, ...general],
        protocol,
        workforces: [makeWorkforce('vendor-a', { qualifications: ['mammo'] }), makeWorkforce('vendor-b')],
        shares: { 'vendor-a': 0.5, 'vendor-b': 0.5 },
      });

      // Assert
      const bIds = ids(plan.assignments['vendor-b']);
      expect(bIds.filter((id) => id.startsWith('mam'))).toEqual([]);
      expect(ids(plan.assignments['vendor-a']).filter((id) => id.startsWith('mam'))).toHaveLength(10);
      expect(bIds).toHaveLength(10);
    });

    it('returns qualification-bound cases deferred, naming the qualification, when no vendor holds it', () => {
      // Act
      const plan = planRound({
        cases: cases(2, { bodyPart: 'BREAST' }),
        protocol: makeProtocol({ routing: { rules: [MAMMO_RULE], default: { pool: 'vendor', qualifications: [] } } }),
        workforces: [makeWorkforce('vendor-a'), makeWorkforce('vendor-b')],
        shares: { 'vendor-a': 0.5, 'vendor-b': 0.5 },
      });

      // Assert
      expect(plan.deferred).toEqual([
        { caseId: 'case-0000', reason: 'no active vendor workforce has qualifications [mammo]' },
        { caseId: 'case-0001', reason: 'no active vendor workforce has qualifications [mammo]' },
      ]);
    });

    it('returns nothing to a suspended vendor even when it holds a share', () => {
      // Act
      const plan = planRound({
        cases: cases(40),
        protocol: makeProtocol(),
        workforces: [makeWorkforce('vendor-a', { status: 'suspended' }), makeWorkforce('vendor-b')],
        shares: { 'vendor-a': 0.5, 'vendor-b': 0.5 },
      });

      // Assert
      expect(plan.assignments['vendor-a']).toEqual([]);
      expect(plan.assignments['vendor-b']).toHaveLength(40);
    });

    it('returns work to a vendor on probation (only suspension stops work)', () => {
      const plan = planRound({
        cases: cases(10),
        protocol: makeProtocol(),
        workforces: [makeWorkforce('vendor-a', { status: 'probation' })],
        shares: { 'vendor-a': 1 },
      });
      expect(plan.assignments['vendor-a']).toHaveLength(10);
    });

    it('returns every vendor case deferred when the only vendor is suspended', () => {
      const plan = planRound({
        cases: cases(2),
        protocol: makeProtocol(),
        workforces: [makeWorkforce('vendor-a', { status: 'suspended' })],
        shares: { 'vendor-a': 1 },
      });
      expect(plan.deferred.map((d) => d.reason)).toEqual([
        'no active vendor workforce has qualifications [no qualifications]',
        'no active vendor workforce has qualifications [no qualifications]',
      ]);
    });
  });

  describe('pools', () => {
    it('returns internal cases split across internal teams by capacity, never to vendors', () => {
      // Arrange
      const plan = planRound({
        cases: cases(20, { flags: { sensitive: true } }),
        protocol: makeProtocol({ goldRate: 0.2, routing: { rules: [SENSITIVE_RULE], default: { pool: 'vendor', qualifications: [] } } }),
        workforces: [
          makeWorkforce('team-1', { kind: 'internal', capacityPerRound: 30 }),
          makeWorkforce('team-2', { kind: 'internal', capacityPerRound: 10 }),
          makeWorkforce('vendor-a'),
        ],
        shares: { 'vendor-a': 1 },
      });

      // Assert
      expect(plan.assignments['team-1']).toHaveLength(15);
      expect(plan.assignments['team-2']).toHaveLength(5);
      expect(plan.assignments['vendor-a']).toEqual([]);
    });

    it('returns a vendor-routed case without de-identification attestation to an internal team', () => {
      // Act
      const plan = planRound({
        cases: [makeCase('case-raw', { deidentified: false }), makeCase('case-ok')],
        protocol: makeProtocol(),
        workforces: [makeWorkforce('team-1', { kind: 'internal', capacityPerRound: 10 }), makeWorkforce('vendor-a')],
        shares: { 'vendor-a': 1 },
      });

      // Assert
      expect(ids(plan.assignments['team-1'])).toEqual(['case-raw']);
      expect(ids(plan.assignments['vendor-a'])).toEqual(['case-ok']);
      expect(plan.decisions[0].gate).toBeDefined();
    });

    it('returns excluded cases listed with their decision and neither assigned nor deferred', () => {
      // Act
      const plan = planRound({
        cases: [makeCase('case-mr', { modality: 'MR' }), makeCase('case-cr')],
        protocol: makeProtocol({ routing: { rules: [EXCLUDE_MR], default: { pool: 'vendor', qualifications: [] } } }),
        workforces: [makeWorkforce('vendor-a')],
        shares: { 'vendor-a': 1 },
      });

      // Assert
      expect(plan.excluded).toHaveLength(1);
      expect(plan.excluded[0]).toMatchObject({ caseId: 'case-mr', ruleId: 'mr-out-of-scope', route: { pool: 'exclude' } });
      expect(ids(plan.assignments['vendor-a'])).toEqual(['case-cr']);
      expect(plan.deferred).toEqual([]);
    });

    it('returns one routing decision per case, in input order', () => {
      const all = [makeCase('c-3'), makeCase('c-1', { modality: 'MR' }), makeCase('c-2', { flags: { sensitive: true } })];
      const plan = planRound({
        cases: all,
        protocol: makeProtocol({ routing: { rules: [EXCLUDE_MR, SENSITIVE_RULE], default: { pool: 'vendor', qualifications: [] } } }),
        workforces: [],
        shares: {},
      });
      expect(plan.decisions.map((d) => [d.caseId, d.ruleId])).toEqual([
        ['c-3', 'default'],
        ['c-1', 'mr-out-of-scope'],
        ['c-2', 'sensitive-inside'],
      ]);
    });

    it('returns internal cases deferred with the internal pool named when there is no internal team', () => {
      const plan = planRound({
        cases: [makeCase('case-1', { flags: { sensitive: true } })],
        protocol: makeProtocol({ routing: { rules: [SENSITIVE_RULE], default: { pool: 'vendor', qualifications: [] } } }),
        workforces: [makeWorkforce('vendor-a')],
        shares: { 'vendor-a': 1 },
      });
      expect(plan.deferred).toEqual([{ caseId: 'case-1', reason: 'no active internal workforce has qualifications [no qualifications]' }]);
    });
  });

  describe('invariants (property)', () => {
    const arbCase = fc.record({
      bodyPart: fc.constantFrom('CHEST', 'BREAST'),
      modality: fc.constantFrom('CR', 'CT', 'MR'),
      sensitive: fc.boolean(),
      deidentified: fc.boolean(),
    });
    const arbWorkforce = fc.record({
      kind: fc.constantFrom('internal' as const, 'vendor' as const),
      capacityPerRound: fc.integer({ min: 0, max: 40 }),
      mammo: fc.boolean(),
      status: fc.constantFrom('active' as const, 'probation' as const, 'suspended' as const),
      share: fc.constantFrom(0, 0.1, 0.25, 0.5, 1),
    });

    it('returns every non-excluded case assigned exactly once or deferred, within capacity and qualifications', () => {
      fc.assert(
        fc.property(
          fc.array(arbCase, { maxLength: 120 }),
          fc.array(arbWorkforce, { maxLength: 5 }),
          fc.constantFrom(0, 0.1, 0.3),
          (rawCases, rawWorkforces, goldRate) => {
            // Arrange
            const all = rawCases.map((c, i) =>
              makeCase(`case-${i}`, {
                bodyPart: c.bodyPart,
                modality: c.modality,
                flags: { sensitive: c.sensitive },
                deidentified: c.deidentified,
              }),
            );
            const workforces: Workforce[] = rawWorkforces.map((w, i) =>
              makeWorkforce(`wf-${i}`, {
                kind: w.kind,
                capacityPerRound: w.capacityPerRound,
                qualifications: w.mammo ? ['mammo'] : [],
                status: w.status,
              }),
            );
            const shares = Object.fromEntries(rawWorkforces.map((w, i) => [`wf-${i}`, w.share]));
            // overlapRate stays 0 (the default): with overlap a case is meant to appear twice
            const protocol = makeProtocol({
              goldRate,
              routing: { rules: [EXCLUDE_MR, SENSITIVE_RULE, MAMMO_RULE], default: { pool: 'vendor', qualifications: [] } },
            });

            // Act
            const plan = planRound({ cases: all, protocol, workforces, shares });

            // Assert: a partition of the cases
            const seen = new Map<string, number>();
            const bump = (id: string) => seen.set(id, (seen.get(id) ?? 0) + 1);
            const placed = [
              ...plan.excluded.map((d) => d.caseId),
              ...plan.deferred.map((d) => d.caseId),
              ...Object.values(plan.assignments).flatMap((list) => ids(list)),
            ];
            for (const id of placed) bump(id);
            expect([...seen.keys()].sort()).toEqual(ids(all).sort());
            expect([...seen.values()].every((n) => n === 1)).toBe(true);
            expect(plan.deferred.every((d) => d.reason.length > 0)).toBe(true);

            // Assert: capacity, pool, qualifications, status, shares
            const decisionOf = new Map(plan.decisions.map((d) => [d.caseId, d]));
            for (const w of workforces) {
              const list = plan.assignments[w.workforceId];
              expect(list.length).toBeLessThanOrEqual(caseCapacity(w, protocol));
              if (w.status === 'suspended') expect(list).toEqual([]);
              if (w.kind === 'vendor' && (shares[w.workforceId] ?? 0) === 0) expect(list).toEqual([]);
              for (const c of list) {
                const route = decisionOf.get(c.caseId)!.route;
                expect(route.pool).toBe(w.kind);
                if (route.pool !== 'exclude') {
                  for (const q of route.qualifications) expect(w.qualifications).toContain(q);
                }
                if (w.kind === 'vendor') expect(c.deidentified).toBe(true);
              }
            }
          },
        ),
        { numRuns: 200 },
      );
    });
  });
});
