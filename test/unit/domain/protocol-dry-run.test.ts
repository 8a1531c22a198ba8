import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Case } from '../../../functions/domain/model/case.js';
import type { ProtocolVersion } from '../../../functions/domain/model/protocol.js';
import { dryRunRouting, parseProtocolDocument } from '../../../functions/domain/protocol-document.js';
import { makeProtocol, makeCase } from './protocol-fixtures.js';

// ---------------------------------------------------------------------------
// Dry run
// ---------------------------------------------------------------------------

describe('Function: dryRunRouting', () => {
  const cases = [
    makeCase('case-1'),
    makeCase('case-2', { flags: { sensitive: true } }),
    makeCase('case-3', { modality: 'CT' }),
    makeCase('case-4', { deidentified: false }),
    makeCase('case-5', { modality: 'DX' }),
  ];

  it('explains every case: pool, rule and the facts that matched', () => {
    // Act
    const { decisions, text } = dryRunRouting(cases, makeProtocol());

    // Assert
    expect(decisions.map((d) => d.ruleId)).toEqual(['adult-cxr-to-vendors', 'sensitive-stays-inside', 'default', 'adult-cxr-to-vendors', 'adult-cxr-to-vendors']);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Dry run: 5 cases through chest-xray@1 (Chest X-ray triage)');
    expect(lines).toContain('case-1 → vendor (rule "adult-cxr-to-vendors"): routine adult chest films may be outsourced — modality="CR" ∈ ["CR","DX"], bodyPart="CHEST" = "CHEST"');
    expect(lines).toContain('case-2 → internal (rule "sensitive-stays-inside"): sensitive studies stay with our radiologists — flags.sensitive=true');
    expect(lines).toContain('case-3 → internal (default): no rule matched: protocol default');
    expect(lines.find((l) => l.startsWith('case-4 '))).toMatch(/^case-4 → internal \(rule "adult-cxr-to-vendors"\): .*de-identification gate: no de-identification attestation, so the case stays internal$/);
  });

  it('counts cases per rule in protocol order, shows rules that matched nothing and the cases the gate kept inside', () => {
    // Act
    const { summary, text } = dryRunRouting(cases, makeProtocol());

    // Assert
    expect(summary).toEqual([
      { ruleId: 'sensitive-stays-inside', pool: 'internal', count: 1 },
      { ruleId: 'paediatric-stays-inside', pool: 'internal', count: 0 },
      { ruleId: 'adult-cxr-to-vendors', pool: 'vendor', count: 2 },
      { ruleId: 'adult-cxr-to-vendors', pool: 'internal', count: 1 },
      { ruleId: 'default', pool: 'internal', count: 1 },
    ]);
    expect(text).toMatch(/^paediatric-stays-inside +internal +0 +\(matched no case\)$/m);
    expect(text).toMatch(/^adult-cxr-to-vendors +internal +1 +\(de-identification gate: kept internal instead of vendor\)$/m);
    expect(text).toMatch(/^total +5$/m);
    expect(text).toMatch(/^by pool: vendor 2 · internal 3$/m);
  });

  it('reports the cases whose subgroup values or flags the protocol does not declare', () => {
    // Arrange
    const protocol = makeProtocol({ attributes: { flags: ['sensitive'], subgroup: { ageBand: ['0-17', '18-64', '65+'] } } });
    const odd = [
      makeCase('case-1', { subgroup: { ageBand: '18-64' } }),
      makeCase('case-2', { subgroup: { ageBand: '0-18' } }),
      makeCase('case-3', { subgroup: { agBand: '65+' }, flags: { rare: true } }),
    ];

    // Act
    const { undeclared, text } = dryRunRouting(odd, protocol);

    // Assert
    expect(undeclared).toEqual([
      { caseId: 'case-2', problems: ['subgroup.ageBand="0-18" is not a declared value (declared: "0-17", "18-64", "65+"): did you mean "0-17"?'] },
      {
        caseId: 'case-3',
        problems: [
          'subgroup.agBand is not a declared subgroup key (declared: ageBand): did you mean subgroup.ageBand?',
          'flags.rare=true but the protocol does not declare flags.rare (declared: sensitive)',
        ],
      },
    ]);
    expect(text).toContain('Cases with attribute values the protocol does not declare (2): no rule can name these values');
    expect(text).toMatch(/^ {2}case-2 {2}subgroup\.ageBand="0-18" is not a declared value/m);
  });

  it('counts quarantined cases under the pool they went to when the protocol quarantines them', () => {
    // Arrange
    const base = makeProtocol();
    const protocol: ProtocolVersion = { ...base, routing: { ...base.routing, onDeidentificationFailure: 'quarantine' } };

    // Act
    const { summary } = dryRunRouting([makeCase('case-1', { deidentified: false })], protocol);

    // Assert
    expect(summary).toContainEqual({ ruleId: 'adult-cxr-to-vendors', pool: 'exclude', count: 1 });
  });

  it('routes the sample cases through the v2 example so that every rule and the default fire', () => {
    // Arrange
    const parsed = parseProtocolDocument(readFileSync('examples/protocols/chest-xray.v2.yaml', 'utf8'), { filename: 'v2.yaml' });
    if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
    const sample = readFileSync('examples/cases/chest-xray.sample.jsonl', 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => Case.parse(JSON.parse(l)));

    // Act
    const { summary, decisions } = dryRunRouting(sample, parsed.protocol);

    // Assert
    expect(sample).toHaveLength(12);
    expect(summary.filter((r) => r.count === 0)).toEqual([]);
    expect(decisions.some((d) => d.gate)).toBe(true);
    expect(summary.reduce((n, r) => n + r.count, 0)).toBe(12);
  });
  // Issue 7 finding 10: `goldline dry-run` over 150,000 cases died with "Maximum call stack size exceeded" (Math.max(...spread) of every case id).
  it('routes 150,000 cases and writes one line per case plus the summary', () => {
    // Arrange
    const many = Array.from({ length: 150_000 }, (_, i) => makeCase(`case-${String(i).padStart(6, '0')}`, { flags: { sensitive: i % 10 === 0 } }));

    // Act
    const { summary, text } = dryRunRouting(many, makeProtocol());

    // Assert
    expect(summary).toContainEqual({ ruleId: 'sensitive-stays-inside', pool: 'internal', count: 15_000 });
    expect(summary).toContainEqual({ ruleId: 'adult-cxr-to-vendors', pool: 'vendor', count: 135_000 });
    expect(text).toMatch(/^case-149999 → vendor \(rule "adult-cxr-to-vendors"\)/m);
    expect(text).toMatch(/^total +150000$/m);
  });
});
