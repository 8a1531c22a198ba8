import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { type Condition, type ProtocolVersion, RoutingRule as RoutingRuleSchema } from '../../../functions/domain/model/index.js';
import { routeCase } from '../../../functions/domain/routing.js';
import { makeCase, makeProtocol } from '../fakes.js';

/** A rule as a PM writes it (schema input: defaults not yet filled). */
type RoutingRule = z.input<typeof RoutingRuleSchema>;

const rule = (id: string, when: RoutingRule['when'], route: RoutingRule['route'], reason = `reason of ${id}`): RoutingRule => ({
  id,
  when,
  route,
  reason,
});

/** The subgroup keys and values the tests' cases carry (rules may only name declared ones). */
const SUBGROUPS = { ageBand: ['0-4', '5-17', '18-39', '40-64', '65+'], sex: ['F', 'M'] };

const protocolWith = (rules: RoutingRule[], fallback: RoutingRule['route'] = { pool: 'vendor', qualifications: [] }) =>
  makeProtocol({ routing: { rules, default: fallback }, attributes: { subgroup: SUBGROUPS } });

/**
 * A protocol whose rules skip the protocol's attribute checks: routeCase must
 * stay strict about types and absent attributes even for conditions that
 * validation now refuses (a protocol stored before the checks existed).
 */
const uncheckedProtocolWith = (rules: RoutingRule[]): ProtocolVersion => {
  const p = makeProtocol();
  return { ...p, routing: { ...p.routing, rules: rules.map((r) => RoutingRuleSchema.parse(r)) } };
};

const SENSITIVE_INSIDE = rule(
  'sensitive-stays-inside',
  [{ attribute: 'flags.sensitive', op: 'isTrue' }],
  { pool: 'internal', qualifications: ['radiologist'] },
  'Sensitive studies stay with our radiologists',
);

describe('Function: routeCase', () => {
  describe('rule order', () => {
    it('returns the first matching rule when several rules match', () => {
      // Arrange
      const protocol = protocolWith([
        rule('ct-internal', [{ attribute: 'modality', op: 'equals', value: 'CT' }], { pool: 'internal', qualifications: [] }),
        rule('site-b-exclude', [{ attribute: 'site', op: 'equals', value: 'site-b' }], { pool: 'exclude' }),
      ]);
      const c = makeCase('case-1', { modality: 'CT', site: 'site-b' });

      // Act
      const d = routeCase(c, protocol);

      // Assert
      expect(d.ruleId).toBe('ct-internal');
      expect(d.route).toMatchObject({ pool: 'internal', qualifications: [] });
    });

    it('returns the other rule when the same two rules are listed in the opposite order', () => {
      // Arrange
      const protocol = protocolWith([
        rule('site-b-exclude', [{ attribute: 'site', op: 'equals', value: 'site-b' }], { pool: 'exclude' }),
        rule('ct-internal', [{ attribute: 'modality', op: 'equals', value: 'CT' }], { pool: 'internal', qualifications: [] }),
      ]);
      const c = makeCase('case-1', { modality: 'CT', site: 'site-b' });

      // Act
      const d = routeCase(c, protocol);

      // Assert
      expect(d.ruleId).toBe('site-b-exclude');
      expect(d.route).toEqual({ pool: 'exclude' });
    });

    it('returns a later rule when an earlier rule does not match', () => {
      // Arrange
      const protocol = protocolWith([
        rule('mr-internal', [{ attribute: 'modality', op: 'equals', value: 'MR' }], { pool: 'internal', qualifications: [] }),
        rule('cr-vendor', [{ attribute: 'modality', op: 'equals', value: 'CR' }], { pool: 'vendor', qualifications: ['cxr'] }),
      ]);

      // Act
      const d = routeCase(makeCase('case-1', { modality: 'CR' }), protocol);

      // Assert
      expect(d.ruleId).toBe('cr-vendor');
      expect(d.route).toEqual({ pool: 'vendor', qualifications: ['cxr'] });
    });

    it('returns the rule only when all of its conditions hold (AND)', () => {
      // Arrange
      const both = rule(
        'ct-at-site-b',
        [
          { attribute: 'modality', op: 'equals', value: 'CT' },
          { attribute: 'site', op: 'equals', value: 'site-b' },
        ],
        { pool: 'exclude' },
      );
      const protocol = protocolWith([both]);

      // Act
      const onlyOne = routeCase(makeCase('case-1', { modality: 'CT', site: 'site-a' }), protocol);
      const all = routeCase(makeCase('case-2', { modality: 'CT', site: 'site-b' }), protocol);

      // Assert
      expect(onlyOne.ruleId).toBe('default');
      expect(all.ruleId).toBe('ct-at-site-b');
    });

    it('returns a rule with an empty `when` for every case, saying it has no conditions', () => {
      // Arrange
      const protocol = protocolWith([rule('everything-inside', [], { pool: 'internal', qualifications: [] }, 'Pilot: all inside')]);

      // Act
      const decisions = [
        makeCase('case-1', { modality: 'CT' }),
        makeCase('case-2', { flags: { sensitive: true } }),
        makeCase('case-3', { subgroup: { sex: 'F' } }),
      ].map((c) => routeCase(c, protocol));

      // Assert
      for (const d of decisions) {
        expect(d.ruleId).toBe('everything-inside');
        expect(d.route.pool).toBe('internal');
        expect(d.explanation).toBe('rule "everything-inside" (Pilot: all inside): no conditions (matches every case)');
      }
    });

    it('returns the protocol default when no rule matches', () => {
      // Arrange
      const protocol = protocolWith([SENSITIVE_INSIDE], { pool: 'vendor', qualifications: ['cxr'] });

      // Act
      const d = routeCase(makeCase('case-9'), protocol);

      // Assert
      expect(d).toEqual({
        caseId: 'case-9',
        ruleId: 'default',
        route: { pool: 'vendor', qualifications: ['cxr'] },
        explanation: 'no rule matched: protocol default',
      });
    });

    it('returns the default when the protocol has no rules at all', () => {
      // Arrange
      const protocol = protocolWith([], { pool: 'internal', qualifications: [] });

      // Act
      const d = routeCase(makeCase('case-1'), protocol);

      // Assert
      expect(d.ruleId).toBe('default');
      expect(d.route.pool).toBe('internal');
    });
  });

  describe('condition operators', () => {
    const routeWith = (cond: Condition, c = makeCase('case-1')) =>
      routeCase(c, uncheckedProtocolWith([rule('r', [cond], { pool: 'exclude' })])).ruleId;

    it('returns a match for `equals` only when the value is the same', () => {
      expect(routeWith({ attribute: 'bodyPart', op: 'equals', value: 'CHEST' })).toBe('r');
      expect(routeWith({ attribute: 'bodyPart', op: 'equals', value: 'HEAD' })).toBe('default');
    });

    it('returns no match for `equals` when the types differ (true is not "true")', () => {
      // Arrange
      const c = makeCase('case-1', { subgroup: { consented: 'true' } });

      // Act / Assert
      expect(routeWith({ attribute: 'subgroup.consented', op: 'equals', value: true }, c)).toBe('default');
      expect(routeWith({ attribute: 'subgroup.consented', op: 'equals', value: 'true' }, c)).toBe('r');
    });

    it('returns a match for `equals` on a boolean attribute', () => {
      const c = makeCase('case-1', { flags: { rare: true } });
      expect(routeWith({ attribute: 'flags.rare', op: 'equals', value: true }, c)).toBe('r');
      expect(routeWith({ attribute: 'flags.rare', op: 'equals', value: false }, c)).toBe('default');
    });

    it('returns a match for `notEquals` only when the value differs', () => {
      expect(routeWith({ attribute: 'site', op: 'notEquals', value: 'site-b' })).toBe('r');
      expect(routeWith({ attribute: 'site', op: 'notEquals', value: 'site-a' })).toBe('default');
    });

    it('returns a match for `in` only when the value is one of the listed values', () => {
      expect(routeWith({ attribute: 'modality', op: 'in', values: ['CT', 'CR', 'DX'] })).toBe('r');
      expect(routeWith({ attribute: 'modality', op: 'in', values: ['CT', 'MR'] })).toBe('default');
    });

    it('returns a match for `isTrue` only when the attribute is exactly true', () => {
      expect(routeWith({ attribute: 'flags.complex', op: 'isTrue' }, makeCase('c', { flags: { complex: true } }))).toBe('r');
      expect(routeWith({ attribute: 'flags.complex', op: 'isTrue' }, makeCase('c', { flags: { complex: false } }))).toBe('default');
      // a string that reads "true" is not the boolean true
      expect(routeWith({ attribute: 'subgroup.flag', op: 'isTrue' }, makeCase('c', { subgroup: { flag: 'true' } }))).toBe('default');
    });

    it('returns a match for `isFalse` when the attribute is false and no match when it is true', () => {
      expect(routeWith({ attribute: 'flags.sensitive', op: 'isFalse' }, makeCase('c', { flags: { sensitive: false } }))).toBe('r');
      expect(routeWith({ attribute: 'flags.sensitive', op: 'isFalse' }, makeCase('c', { flags: { sensitive: true } }))).toBe('default');
    });

    it('returns a match for an unset flag with `isFalse`, because flags default to false', () => {
      // Arrange: no flags given at all
      const c = makeCase('case-1');

      // Act / Assert
      expect(routeWith({ attribute: 'flags.rare', op: 'isFalse' }, c)).toBe('r');
      expect(routeWith({ attribute: 'flags.rare', op: 'isTrue' }, c)).toBe('default');
    });
  });

  describe('attribute paths', () => {
    it('returns the rule for a dotted flag path (`flags.sensitive`)', () => {
      // Arrange
      const protocol = protocolWith([SENSITIVE_INSIDE]);

      // Act
      const sensitive = routeCase(makeCase('case-1', { flags: { sensitive: true } }), protocol);
      const ordinary = routeCase(makeCase('case-2', { flags: { sensitive: false } }), protocol);

      // Assert
      expect(sensitive.ruleId).toBe('sensitive-stays-inside');
      expect(ordinary.ruleId).toBe('default');
    });

    it('returns the rule for a dotted subgroup path (`subgroup.ageBand`)', () => {
      // Arrange
      const protocol = protocolWith([
        rule('paediatric-inside', [{ attribute: 'subgroup.ageBand', op: 'in', values: ['0-4', '5-17'] }], {
          pool: 'internal',
          qualifications: ['paediatric'],
        }),
      ]);

      // Act
      const child = routeCase(makeCase('case-1', { subgroup: { ageBand: '5-17', sex: 'F' } }), protocol);
      const adult = routeCase(makeCase('case-2', { subgroup: { ageBand: '40-64' } }), protocol);

      // Assert
      expect(child.ruleId).toBe('paediatric-inside');
      expect(child.route).toMatchObject({ pool: 'internal', qualifications: ['paediatric'] });
      expect(adult.ruleId).toBe('default');
    });

    it('returns no match for equals, in or isTrue on an absent attribute', () => {
      // Arrange: no scanner, no subgroup
      const c = makeCase('case-1');
      const protocol = uncheckedProtocolWith([
        rule('a', [{ attribute: 'scanner', op: 'equals', value: 'GE' }], { pool: 'exclude' }),
        rule('b', [{ attribute: 'subgroup.ageBand', op: 'in', values: ['0-4'] }], { pool: 'exclude' }),
        rule('c', [{ attribute: 'subgroup.consent', op: 'isTrue' }], { pool: 'exclude' }),
        rule('d', [{ attribute: 'flags.sensitive.deeper', op: 'equals', value: 'x' }], { pool: 'exclude' }),
      ]);

      // Act
      const d = routeCase(c, protocol);

      // Assert
      expect(d.ruleId).toBe('default');
    });

    it('returns a notEquals match on an absent attribute and shows it as "(absent)"', () => {
      // Arrange
      const protocol = protocolWith([
        rule('not-ge', [{ attribute: 'scanner', op: 'notEquals', value: 'GE' }], { pool: 'internal', qualifications: [] }, 'GE scans go to vendors'),
      ]);

      // Act
      const d = routeCase(makeCase('case-1'), protocol);

      // Assert
      expect(d.ruleId).toBe('not-ge');
      expect(d.explanation).toBe('rule "not-ge" (GE scans go to vendors): scanner=(absent) ≠ "GE"');
    });
  });

  describe('de-identification gate', () => {
    it('returns an internal route with the gate set when a case without attestation is routed to a vendor', () => {
      // Arrange
      const protocol = protocolWith([
        rule('cr-to-vendor', [{ attribute: 'modality', op: 'equals', value: 'CR' }], { pool: 'vendor', qualifications: ['cxr'] }, 'Routine CR goes out'),
      ]);
      const c = makeCase('case-1', { modality: 'CR', deidentified: false });

      // Act
      const d = routeCase(c, protocol);

      // Assert
      expect(d.route).toMatchObject({ pool: 'internal', qualifications: ['cxr'] });
      expect(d.ruleId).toBe('cr-to-vendor');
      expect(d.gate).toMatch(/no de-identification attestation/);
      expect(d.gate).toMatch(/kept internal/);
      // the rule's own explanation, then the gate and why
      expect(d.explanation).toMatch(
        /^rule "cr-to-vendor" \(Routine CR goes out\): modality="CR" = "CR"; de-identification gate: .*attestation.*, so the case stays internal$/,
      );
    });

    it('returns an internal route with the gate set when the vendor route is the protocol default', () => {
      // Arrange
      const protocol = protocolWith([], { pool: 'vendor', qualifications: [] });

      // Act
      const d = routeCase(makeCase('case-1', { deidentified: false }), protocol);

      // Assert
      expect(d.route.pool).toBe('internal');
      expect(d.gate).toBeDefined();
      expect(d.explanation).toContain('no rule matched: protocol default');
      expect(d.explanation).toContain('de-identification gate');
    });

    it('returns the vendor route with no gate when the case carries the attestation', () => {
      // Act
      const d = routeCase(makeCase('case-1', { deidentified: true }), protocolWith([]));

      // Assert
      expect(d.route.pool).toBe('vendor');
      expect(d.gate).toBeUndefined();
      expect(d.explanation).not.toContain('gate');
    });

    it('returns internal and exclude routes unchanged (no gate) for a case without attestation', () => {
      // Arrange
      const protocol = protocolWith([
        SENSITIVE_INSIDE,
        rule('mr-excluded', [{ attribute: 'modality', op: 'equals', value: 'MR' }], { pool: 'exclude' }),
      ]);

      // Act
      const inside = routeCase(makeCase('case-1', { deidentified: false, flags: { sensitive: true } }), protocol);
      const excluded = routeCase(makeCase('case-2', { deidentified: false, modality: 'MR' }), protocol);

      // Assert
      expect(inside.route).toMatchObject({ pool: 'internal', qualifications: ['radiologist'] });
      expect(inside.gate).toBeUndefined();
      expect(excluded.route).toEqual({ pool: 'exclude' });
      expect(excluded.gate).toBeUndefined();
    });
  });

  describe('explanations', () => {
    it('returns an explanation naming the rule, its reason and the matching fact', () => {
      // Act
      const d = routeCase(makeCase('case-1', { flags: { sensitive: true } }), protocolWith([SENSITIVE_INSIDE]));

      // Assert
      expect(d.explanation).toBe(
        'rule "sensitive-stays-inside" (Sensitive studies stay with our radiologists): flags.sensitive=true',
      );
    });

    it('returns every fact of a multi-condition rule, in rule order', () => {
      // Arrange
      const protocol = protocolWith([
        rule(
          'arm-b-ct-women',
          [
            { attribute: 'modality', op: 'in', values: ['CT', 'MR'] },
            { attribute: 'subgroup.sex', op: 'equals', value: 'F' },
            { attribute: 'site', op: 'notEquals', value: 'site-z' },
            { attribute: 'flags.rare', op: 'isFalse' },
          ],
          { pool: 'internal', qualifications: [] },
          'Study arm B',
        ),
      ]);
      const c = makeCase('case-1', { modality: 'CT', subgroup: { sex: 'F' } });

      // Act
      const d = routeCase(c, protocol);

      // Assert
      expect(d.explanation).toBe(
        'rule "arm-b-ct-women" (Study arm B): modality="CT" ∈ ["CT","MR"], subgroup.sex="F" = "F", site="site-a" ≠ "site-z", flags.rare=false',
      );
    });

    it('returns the case id of the routed case', () => {
      expect(routeCase(makeCase('case-0042'), protocolWith([])).caseId).toBe('case-0042');
    });
  });
});
