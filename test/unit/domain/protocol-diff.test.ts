import { describe, expect, it } from 'vitest';
import type { ProtocolVersion, RoutingRule } from '../../../functions/domain/model/protocol.js';
import { diffProtocolVersions, formatProtocolDiff } from '../../../functions/domain/protocol-document.js';
import { makeProtocol, rulesOf, withRules } from './protocol-fixtures.js';

// ---------------------------------------------------------------------------
// Diff
// ---------------------------------------------------------------------------

describe('Function: diffProtocolVersions', () => {
  it('returns no changes when only version, createdAt and createdBy differ', () => {
    // Arrange
    const a = makeProtocol();
    const b = makeProtocol({ version: 2, createdAt: '2025-04-01T00:00:00Z', createdBy: 'pm:bob' });

    // Act / Assert
    expect(diffProtocolVersions(a, b)).toEqual([]);
  });

  it('returns changed scalars with their old and new values', () => {
    // Arrange
    const a = makeProtocol();
    const b = makeProtocol({ goldRate: 0.15, thresholds: { goldAccuracy: 0.9 } });

    // Act / Assert
    expect(diffProtocolVersions(a, b)).toEqual([
      { path: 'thresholds.goldAccuracy', kind: 'changed', from: 0.85, to: 0.9 },
      { path: 'goldRate', kind: 'changed', from: 0.1, to: 0.15 },
    ]);
  });

  it('returns an added rule by id with its position, and a removed one with its old position', () => {
    // Arrange
    const a = makeProtocol();
    const [sensitive, paediatric, adult] = rulesOf(a);
    const rare: RoutingRule = { id: 'rare-inside', when: [{ attribute: 'flags.rare', op: 'isTrue' }], route: { pool: 'internal', qualifications: [], overflowToVendors: false }, reason: 'rare disease' };
    const b = withRules(a, [sensitive, rare, adult]);

    // Act
    const changes = diffProtocolVersions(a, b);

    // Assert
    expect(changes).toEqual([
      { path: 'routing.rules[id=paediatric-stays-inside]', kind: 'removed', from: paediatric, index: 1 },
      { path: 'routing.rules[id=rare-inside]', kind: 'added', to: rare, index: 1 },
    ]);
  });

  it('returns a move, not a change of every rule, when a rule is moved to the top', () => {
    // Arrange
    const a = makeProtocol();
    const [sensitive, paediatric, adult] = rulesOf(a);
    const b = withRules(a, [adult, sensitive, paediatric]);

    // Act / Assert
    expect(diffProtocolVersions(a, b)).toEqual([{ path: 'routing.rules[id=adult-cxr-to-vendors]', kind: 'moved', from: 2, to: 0 }]);
  });

  it('returns no move when rules shift only because one was inserted before them', () => {
    // Arrange
    const a = makeProtocol();
    const first: RoutingRule = { id: 'out-of-scope', when: [{ attribute: 'bodyPart', op: 'notEquals', value: 'CHEST' }], route: { pool: 'exclude' }, reason: 'not a chest study' };
    const b = withRules(a, [first, ...rulesOf(a)]);

    // Act / Assert
    expect(diffProtocolVersions(a, b).map((c) => c.kind)).toEqual(['added']);
  });

  it('returns the move and the edits inside a moved rule', () => {
    // Arrange
    const a = makeProtocol();
    const [sensitive, paediatric, adult] = rulesOf(a);
    const edited: RoutingRule = { ...paediatric, route: { pool: 'vendor', qualifications: ['paediatric'] } };
    const b = withRules(a, [edited, sensitive, adult]);

    // Act
    const changes = diffProtocolVersions(a, b);

    // Assert
    expect(changes).toEqual([
      { path: 'routing.rules[id=paediatric-stays-inside]', kind: 'moved', from: 1, to: 0 },
      { path: 'routing.rules[id=paediatric-stays-inside].route.pool', kind: 'changed', from: 'internal', to: 'vendor' },
      { path: 'routing.rules[id=paediatric-stays-inside].route.qualifications[0]', kind: 'changed', from: 'radiologist', to: 'paediatric' },
      { path: 'routing.rules[id=paediatric-stays-inside].route.overflowToVendors', kind: 'removed', from: false },
    ]);
  });

  it('compares other lists by index: conditions and classes', () => {
    // Arrange
    const a = makeProtocol();
    const [sensitive, paediatric, adult] = rulesOf(a);
    const b = withRules(makeProtocol({ task: { type: 'classification', classes: ['normal', 'abnormal', 'indeterminate'] } }), [
      sensitive,
      paediatric,
      { ...adult, when: [...adult.when, { attribute: 'flags.complex', op: 'isFalse' }] },
    ]);

    // Act / Assert
    expect(diffProtocolVersions(a, b)).toEqual([
      { path: 'task.classes[2]', kind: 'added', to: 'indeterminate' },
      { path: 'routing.rules[id=adult-cxr-to-vendors].when[2]', kind: 'added', to: { attribute: 'flags.complex', op: 'isFalse' } },
    ]);
  });

  it('compares fields it was never told about, by walking the plain JSON', () => {
    // Arrange: a field a later schema may add
    const a = { ...makeProtocol(), review: { secondReader: false } } as ProtocolVersion;
    const b = { ...makeProtocol(), review: { secondReader: true, quorum: 2 } } as ProtocolVersion;

    // Act / Assert
    expect(diffProtocolVersions(a, b)).toEqual([
      { path: 'review.secondReader', kind: 'changed', from: false, to: true },
      { path: 'review.quorum', kind: 'added', to: 2 },
    ]);
  });
});

describe('Function: formatProtocolDiff', () => {
  it('writes one readable line per change, with 1-based rule positions', () => {
    // Arrange
    const a = makeProtocol();
    const [sensitive, , adult] = rulesOf(a);
    const rare: RoutingRule = { id: 'rare-inside', when: [{ attribute: 'flags.rare', op: 'isTrue' }], route: { pool: 'internal', qualifications: ['thoracic'], overflowToVendors: false }, reason: 'rare disease' };
    const b = withRules(makeProtocol({ goldRate: 0.15 }), [adult, sensitive, rare]);

    // Act
    const text = formatProtocolDiff(diffProtocolVersions(a, b));

    // Assert
    expect(text.split('\n')).toEqual([
      'changed  goldRate: 0.1 → 0.15',
      'removed  routing.rules[id=paediatric-stays-inside] (was at position 2): when subgroup.ageBand = "0-17" → internal [radiologist] — "paediatric films need a paediatric read"',
      'moved    routing.rules[id=adult-cxr-to-vendors]: position 3 → position 1 (now evaluated earlier)',
      'added    routing.rules[id=rare-inside] at position 3: when flags.rare is true → internal [thoracic] — "rare disease"',
    ]);
  });

  it('says there is nothing to report when there are no changes', () => {
    expect(formatProtocolDiff([])).toBe('no changes (version, createdAt and createdBy are not compared)');
  });
});
