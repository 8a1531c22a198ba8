import { describe, expect, it } from 'vitest';
import { Case } from '../../../functions/domain/model/case.js';
import { CASE_FLAGS, type Condition, ProtocolVersion, type ProtocolVersionInput, protocolRef } from '../../../functions/domain/model/protocol.js';

const base = (): ProtocolVersionInput => ({
  protocolId: 'chest-xray',
  version: 2,
  title: 'Chest X-ray triage',
  task: { type: 'classification', classes: ['normal', 'abnormal'] },
  thresholds: { goldAccuracy: 0.85 },
  goldRate: 0.1,
  batchSize: 50,
  slaHours: 48,
  routing: {
    rules: [
      {
        id: 'sensitive-inside',
        when: [{ attribute: 'flags.sensitive', op: 'isTrue' }],
        route: { pool: 'internal' },
        reason: 'Sensitive studies stay inside',
      },
    ],
    default: { pool: 'vendor' },
  },
  createdBy: 'pm-alice',
  createdAt: '2025-03-01T09:00:00.000Z',
});

/** The messages and paths of a refused protocol. */
const issuesOf = (input: unknown) => {
  const r = ProtocolVersion.safeParse(input);
  if (r.success) throw new Error('expected the protocol to be refused');
  return r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
};

describe('Schema: ProtocolVersion', () => {
  it('returns the protocol with every default filled in', () => {
    // Act
    const p = ProtocolVersion.parse(base());

    // Assert
    expect(p.thresholds).toEqual({ goldAccuracy: 0.85, minGoldItems: 5 });
    expect(p.overlapRate).toBe(0);
    expect(p.heartbeatHours).toBeUndefined();
    expect(p.rebalancing).toMatchObject({ floor: 0.7, learningRate: 0.5, minShare: 0.05 });
    expect(p.task).toEqual({ type: 'classification', classes: ['normal', 'abnormal'], ordinal: false });
    expect(p.routing.rules[0].route).toMatchObject({ pool: 'internal', qualifications: [] });
    expect(p.routing.default).toEqual({ pool: 'vendor', qualifications: [] });
  });

  it('returns a rule with no `when` as a rule with no conditions (matches every case)', () => {
    const input = base();
    input.routing.rules = [{ id: 'all-inside', route: { pool: 'internal' }, reason: 'pilot' }];
    expect(ProtocolVersion.parse(input).routing.rules[0].when).toEqual([]);
  });

  it('returns the values given instead of the defaults', () => {
    // Act
    const p = ProtocolVersion.parse({
      ...base(),
      thresholds: { goldAccuracy: 0.9, minGoldItems: 12 },
      heartbeatHours: 6,
      rebalancing: { floor: 0.8 },
    });

    // Assert
    expect(p.thresholds.minGoldItems).toBe(12);
    expect(p.heartbeatHours).toBe(6);
    expect(p.rebalancing).toMatchObject({ floor: 0.8, learningRate: 0.5, minShare: 0.05 });
  });

  it('refuses duplicate rule ids, naming the id and pointing at the second rule', () => {
    // Arrange
    const input = base();
    input.routing.rules = [
      { id: 'ct-inside', when: [{ attribute: 'modality', op: 'equals', value: 'CT' }], route: { pool: 'internal' }, reason: 'a' },
      { id: 'mr-out', when: [{ attribute: 'modality', op: 'equals', value: 'MR' }], route: { pool: 'exclude' }, reason: 'b' },
      { id: 'ct-inside', when: [{ attribute: 'site', op: 'equals', value: 'x' }], route: { pool: 'vendor' }, reason: 'c' },
    ];

    // Act / Assert
    expect(issuesOf(input)).toEqual([{ path: 'routing.rules.2.id', message: 'duplicate rule id "ct-inside"' }]);
  });

  it('refuses a heartbeat window longer than the SLA', () => {
    expect(issuesOf({ ...base(), slaHours: 12, heartbeatHours: 13 })).toEqual([
      { path: 'heartbeatHours', message: 'heartbeatHours must not exceed slaHours' },
    ]);
  });

  it('returns the protocol when the heartbeat window equals the SLA', () => {
    expect(ProtocolVersion.safeParse({ ...base(), slaHours: 12, heartbeatHours: 12 }).success).toBe(true);
  });

  it('refuses a gold rate above one half', () => {
    expect(issuesOf({ ...base(), goldRate: 0.6 }).map((i) => i.path)).toEqual(['goldRate']);
  });

  it('refuses a protocol id outside the identifier alphabet, saying which characters are allowed', () => {
    const issues = issuesOf({ ...base(), protocolId: 'Chest X-ray' });
    expect(issues).toEqual([
      { path: 'protocolId', message: 'lowercase letters, digits, ".", "_" or "-", at most 64 characters' },
    ]);
  });

  it('refuses a classification task with fewer than two classes', () => {
    expect(issuesOf({ ...base(), task: { type: 'classification', classes: ['normal'] } }).map((i) => i.path)).toEqual([
      'task.classes',
    ]);
  });

  it('refuses a condition with an unknown operator', () => {
    const input = base() as unknown as { routing: { rules: { when: unknown[] }[] } };
    input.routing.rules[0].when = [{ attribute: 'modality', op: 'startsWith', value: 'C' }];
    expect(issuesOf(input)[0].path).toBe('routing.rules.0.when.0.op');
  });

  describe('routing attributes', () => {
    /** `base()` with one rule holding these conditions, and the given declaration. */
    const withConditions = (when: Condition[], attributes?: ProtocolVersionInput['attributes']): ProtocolVersionInput => ({
      ...base(),
      ...(attributes && { attributes }),
      routing: { rules: [{ id: 'r', when, route: { pool: 'internal' }, reason: 'test' }], default: { pool: 'vendor' } },
    });
    const DECLARED = { flags: ['sensitive' as const, 'rare' as const], subgroup: { ageBand: ['0-17', '18-64', '65+'], sex: ['F', 'M'] } };

    // Issue 7 finding 11: a rule on `flags.sensitve` validated OK, never matched, and dry-run sent the sensitive case to a vendor.
    it('refuses a rule on a misspelt flag and suggests the flag meant', () => {
      expect(issuesOf(withConditions([{ attribute: 'flags.sensitve', op: 'isTrue' }]))).toEqual([
        { path: 'routing.rules.0.when.0.attribute', message: 'unknown attribute "flags.sensitve": did you mean "flags.sensitive"?' },
      ]);
    });

    it('refuses an attribute a case does not carry, naming the known ones, and suggests a near fixed attribute', () => {
      expect(issuesOf(withConditions([{ attribute: 'age', op: 'equals', value: '0-17' }]))).toEqual([
        { path: 'routing.rules.0.when.0.attribute', message: 'unknown attribute "age" (known: modality, bodyPart, site, scanner, deidentified, flags.<flag>, subgroup.<key>)' },
      ]);
      expect(issuesOf(withConditions([{ attribute: 'bodypart', op: 'equals', value: 'CHEST' }]))[0].message).toBe('unknown attribute "bodypart": did you mean "bodyPart"?');
      expect(issuesOf(withConditions([{ attribute: 'flags.pregnant', op: 'isTrue' }]))[0].message).toBe('unknown attribute "flags.pregnant" (a case carries the flags sensitive, rare, complex)');
    });

    it('refuses a rule on a subgroup key the protocol does not declare', () => {
      expect(issuesOf(withConditions([{ attribute: 'subgroup.ageBand', op: 'equals', value: '0-17' }]))[0]).toEqual({
        path: 'routing.rules.0.when.0.attribute',
        message: expect.stringMatching(/^"subgroup\.ageBand" is not declared: declare the subgroup key and its values in attributes\.subgroup/),
      });
      expect(issuesOf(withConditions([{ attribute: 'subgroup.agBand', op: 'equals', value: '0-17' }], DECLARED))[0].message).toBe(
        'unknown attribute "subgroup.agBand": did you mean "subgroup.ageBand"? (declared subgroup keys: ageBand, sex)',
      );
    });

    it('refuses a flag left out of a declared flag list', () => {
      expect(issuesOf(withConditions([{ attribute: 'flags.complex', op: 'isTrue' }], DECLARED))[0].message).toBe(
        '"flags.complex" is not declared in attributes.flags (declared: sensitive, rare)',
      );
    });

    it('refuses a subgroup value outside the declared values, with the nearest one', () => {
      expect(issuesOf(withConditions([{ attribute: 'subgroup.ageBand', op: 'in', values: ['0-17', '0-18'] }], DECLARED))).toEqual([
        { path: 'routing.rules.0.when.0.values.1', message: '"0-18" is not a declared value of subgroup.ageBand (declared: "0-17", "18-64", "65+"): did you mean "0-17"?' },
      ]);
    });

    it('refuses an operator or a value that does not suit the attribute\'s type', () => {
      expect(issuesOf(withConditions([{ attribute: 'modality', op: 'isFalse' }]))[0]).toEqual({
        path: 'routing.rules.0.when.0.op',
        message: 'modality is text, not true or false: isFalse can never be decided by it (use equals, notEquals or in)',
      });
      expect(issuesOf(withConditions([{ attribute: 'flags.rare', op: 'equals', value: 'yes' }]))[0].message).toBe('flags.rare is true or false, got "yes" (or use isTrue / isFalse)');
      expect(issuesOf(withConditions([{ attribute: 'site', op: 'equals', value: 3 }]))[0].message).toBe('site is text, got number 3 (write it in quotes)');
      expect(issuesOf(withConditions([{ attribute: 'deidentified', op: 'in', values: ['true'] }]))[0].message).toBe('deidentified is true or false: use isTrue or isFalse, not in');
    });

    it('returns the protocol when every rule names declared attributes and values', () => {
      const input = withConditions(
        [
          { attribute: 'flags.rare', op: 'isTrue' },
          { attribute: 'subgroup.ageBand', op: 'equals', value: '0-17' },
          { attribute: 'subgroup.sex', op: 'in', values: ['F'] },
          { attribute: 'deidentified', op: 'equals', value: true },
        ],
        DECLARED,
      );
      expect(ProtocolVersion.parse(input).attributes).toEqual(DECLARED);
    });

    it('refuses a declaration of a flag no case carries, or of a subgroup key with no values', () => {
      const bad = { ...base(), attributes: { flags: ['urgent'], subgroup: { sex: [] } } };
      expect(issuesOf(bad).map((i) => i.path)).toEqual(['attributes.flags.0', 'attributes.subgroup.sex']);
    });

    it('knows the same flags as a case carries', () => {
      expect([...CASE_FLAGS].sort()).toEqual(Object.keys(Case.parse({ caseId: 'c', imageKey: 'k', modality: 'CR', bodyPart: 'CHEST', site: 's', deidentified: true }).flags).sort());
    });
  });

  it('returns `id@version` as the protocol reference', () => {
    expect(protocolRef(ProtocolVersion.parse(base()))).toBe('chest-xray@2');
  });
});
