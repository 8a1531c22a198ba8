import { describe, expect, it } from 'vitest';
import { ProtocolVersion, type ProtocolVersionInput, protocolRef } from '../../../functions/domain/model/protocol.js';

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

  it('returns `id@version` as the protocol reference', () => {
    expect(protocolRef(ProtocolVersion.parse(base()))).toBe('chest-xray@2');
  });
});
