import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectDocumentFormat, formatPath, parseProtocolDocument, summarizeProtocol } from '../../../functions/domain/protocol-document.js';
import { BASE, makeProtocol } from './protocol-fixtures.js';

/** The same protocol as BASE, written the way a PM writes YAML (line numbers matter in the tests). */
const YAML_DOC = `protocolId: chest-xray
version: 1
title: Chest X-ray triage
task:
  type: classification
  classes: [normal, abnormal]
thresholds:
  goldAccuracy: 0.85
goldRate: 0.1
batchSize: 60
slaHours: 48
routing:
  rules:
    - id: sensitive-stays-inside
      when:
        - { attribute: flags.sensitive, op: isTrue }
      route: { pool: internal, qualifications: [radiologist] }
      reason: sensitive studies stay with our radiologists
    - id: paediatric-stays-inside
      when:
        - { attribute: subgroup.ageBand, op: equals, value: "0-17" }
      route: { pool: internal, qualifications: [radiologist] }
      reason: paediatric films need a paediatric read
    - id: adult-cxr-to-vendors
      when:
        - { attribute: modality, op: in, values: [CR, DX] }
        - { attribute: bodyPart, op: equals, value: CHEST }
      route: { pool: vendor, qualifications: [cxr] }
      reason: routine adult chest films may be outsourced
  default: { pool: internal }
attributes:
  subgroup: { ageBand: ["0-17", "18-64", "65+"] }
createdBy: pm:alice
createdAt: "2025-03-01T09:00:00Z"
`;

const problemsOf = (text: string, filename?: string): string[] => {
  const result = parseProtocolDocument(text, { filename });
  if (result.ok) throw new Error('expected the document to be rejected');
  return result.problems;
};

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

describe('Function: parseProtocolDocument', () => {
  describe('valid documents', () => {
    it('returns the protocol with schema defaults applied when given YAML', () => {
      // Act
      const result = parseProtocolDocument(YAML_DOC, { filename: 'chest-xray.yaml' });

      // Assert
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.protocol).toEqual(makeProtocol());
      expect(result.protocol.overlapRate).toBe(0);
      expect(result.protocol.thresholds.minGoldItems).toBe(5);
      expect(result.warnings).toEqual([]);
    });

    it('returns the same protocol when given the JSON equivalent', () => {
      // Act
      const result = parseProtocolDocument(JSON.stringify(BASE, null, 2), { filename: 'chest-xray.json' });

      // Assert
      expect(result).toMatchObject({ ok: true, protocol: makeProtocol() });
    });

    it('detects JSON and YAML by content when there is no filename', () => {
      // Act / Assert
      expect(detectDocumentFormat('  {"a": 1}')).toBe('json');
      expect(detectDocumentFormat('a: 1')).toBe('yaml');
      expect(detectDocumentFormat('{"a": 1}', 'p.yml')).toBe('yaml');
      expect(detectDocumentFormat('a: 1', 'p.JSON')).toBe('json');
      expect(parseProtocolDocument(JSON.stringify(BASE)).ok).toBe(true);
      expect(parseProtocolDocument(YAML_DOC).ok).toBe(true);
    });

    it('reads a YAML flow mapping without a filename, though it opens like JSON', () => {
      // Arrange
      const flow = `{ protocolId: chest-xray, version: 1, title: t, task: { type: classification, classes: [a, b] }, thresholds: { goldAccuracy: 0.8 },
        goldRate: 0.1, batchSize: 10, slaHours: 48, routing: { rules: [], default: { pool: internal } }, createdBy: pm, createdAt: "2025-03-01T09:00:00Z" }`;

      // Act / Assert
      expect(parseProtocolDocument(flow).ok).toBe(true);
      expect(parseProtocolDocument(flow, { filename: 'p.json' }).ok).toBe(false);
    });

    it('warns about a field the format does not know, with its path and line', () => {
      // Arrange: a misspelt optional field would otherwise vanish and its default apply
      const text = YAML_DOC.replace('goldRate: 0.1', 'goldRate: 0.1\noverlaprate: 0.2');

      // Act
      const result = parseProtocolDocument(text, { filename: 'p.yaml' });

      // Assert
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.protocol.overlapRate).toBe(0);
      expect(result.warnings).toEqual(['overlaprate: unknown field, ignored (not part of the protocol format; check the spelling) (line 10)']);
    });

    it('warns about qualifications on an exclude route, which the format drops', () => {
      // Arrange
      const text = YAML_DOC.replace('  default: { pool: internal }', '  default: { pool: exclude, qualifications: [cxr] }');

      // Act
      const result = parseProtocolDocument(text, { filename: 'p.yaml' });

      // Assert
      expect(result.ok && result.warnings).toEqual([expect.stringMatching(/^routing\.default\.qualifications: unknown field, ignored .*\(line 30\)$/)]);
    });
  });

  describe('schema problems', () => {
    it('reports an unknown condition operator with the path, the allowed values and the line', () => {
      // Arrange: line 26 holds the first condition of the third rule
      const text = YAML_DOC.replace('{ attribute: modality, op: in,', '{ attribute: modality, op: oneOf,');

      // Act
      const problems = problemsOf(text, 'p.yaml');

      // Assert
      expect(problems).toEqual(['routing.rules[2].when[0].op: expected one of equals, notEquals, in, isTrue, isFalse, got "oneOf" (line 26)']);
    });

    it('reports a missing required field, and a near spelling when there is one', () => {
      // Arrange
      const text = YAML_DOC.replace('goldRate: 0.1', 'gold_rate: 0.1').replace('batchSize: 60\n', '');

      // Act
      const problems = problemsOf(text, 'p.yaml');

      // Assert
      expect(problems).toEqual([
        'goldRate: required field is missing (expected a number); found "gold_rate" instead (field names are case-sensitive)',
        'batchSize: required field is missing (expected a number)',
      ]);
    });

    it('reports a missing nested field inside the mapping that should hold it', () => {
      // Arrange
      const text = YAML_DOC.replace('  goldAccuracy: 0.85', '  minGoldItems: 3');

      // Act
      const problems = problemsOf(text, 'p.yaml');

      // Assert
      expect(problems).toEqual(['thresholds.goldAccuracy: required field is missing (expected a number) (in the mapping at line 8)']);
    });

    it('reports wrong types, ranges, whole numbers, empty lists and date-times, one sentence each', () => {
      // Arrange
      const doc = {
        ...BASE,
        version: 1.5,
        goldRate: 0.7,
        batchSize: '60',
        title: '',
        createdAt: 'yesterday',
        routing: { ...BASE.routing, rules: [{ id: 'ct', when: [{ attribute: 'modality', op: 'in', values: [] }], route: { pool: 'internal' }, reason: 'r' }] },
      };

      // Act
      const problems = problemsOf(JSON.stringify(doc, null, 2), 'p.json');

      // Assert: JSON documents get line numbers too
      expect(problems).toEqual([
        expect.stringMatching(/^version: expected a whole number, got 1\.5 \(line \d+\)$/),
        expect.stringMatching(/^title: must not be empty, got "" \(line \d+\)$/),
        expect.stringMatching(/^goldRate: must be at most 0\.5, got 0\.7 \(line \d+\)$/),
        expect.stringMatching(/^batchSize: expected a number, got the text "60" \(line \d+\)$/),
        expect.stringMatching(/^routing\.rules\[0\]\.when\[0\]\.values: must have at least one item, got \[\] \(line \d+\)$/),
        expect.stringMatching(/^createdAt: expected an ISO 8601 date-time in UTC such as 2025-03-01T09:00:00Z, got "yesterday" \(line \d+\)$/),
      ]);
    });

    it('reports an identifier that breaks the naming rule, in the rule\'s own words', () => {
      // Act
      const problems = problemsOf(JSON.stringify({ ...BASE, protocolId: 'Chest X-ray' }));

      // Assert
      expect(problems).toEqual([
        expect.stringMatching(/^protocolId: must be lowercase letters, digits, "\.", "_" or "-", at most 64 characters, got "Chest X-ray"/),
      ]);
    });

    it('reports an unknown task type and route pool with the allowed values', () => {
      // Arrange
      const doc = { ...BASE, task: { type: 'grading', classes: ['a', 'b'] }, routing: { rules: [], default: { pool: 'vendors' } } };

      // Act
      const problems = problemsOf(JSON.stringify(doc));

      // Assert
      expect(problems).toEqual([
        expect.stringMatching(/^task\.type: expected one of classification, detection, segmentation, got "grading"/),
        expect.stringMatching(/^routing\.default\.pool: expected one of internal, vendor, exclude, got "vendors"/),
      ]);
    });

    it('reports a condition value of the wrong type with the types allowed', () => {
      // Arrange
      const doc = { ...BASE, routing: { rules: [{ id: 'a', when: [{ attribute: 'site', op: 'equals', value: ['x'] }], route: { pool: 'exclude' }, reason: 'r' }], default: { pool: 'internal' } } };

      // Act
      const problems = problemsOf(JSON.stringify(doc));

      // Assert
      expect(problems).toEqual([expect.stringMatching(/^routing\.rules\[0\]\.when\[0\]\.value: expected text or true or false or a number, got \["x"\]/)]);
    });

    it('reports cross-field rules: duplicate rule ids and a heartbeat longer than the SLA', () => {
      // Arrange
      const rule = BASE.routing.rules[0];
      const doc = { ...BASE, heartbeatHours: 72, routing: { rules: [rule, rule], default: { pool: 'internal' } } };

      // Act
      const problems = problemsOf(JSON.stringify(doc));

      // Assert
      expect(problems).toEqual([
        expect.stringMatching(/^routing\.rules\[1\]\.id: duplicate rule id "sensitive-stays-inside"/),
        expect.stringMatching(/^heartbeatHours: heartbeatHours must not exceed slaHours/),
      ]);
    });

    // Issue 7 finding 11: `version: 1e400`, `.nan` and `.inf` were reported as "expected a number, got number null".
    it('refuses a number that is not finite, quoting it as written, with its path and line', () => {
      // Act
      const yaml = problemsOf(YAML_DOC.replace('version: 1', 'version: 1e400').replace('goldRate: 0.1', 'goldRate: .nan').replace('slaHours: 48', 'slaHours: -.inf'), 'p.yaml');
      const json = problemsOf(JSON.stringify({ ...BASE, version: 1 }).replace('"version":1', '"version":1e400'), 'p.json');

      // Assert
      expect(yaml).toEqual([
        'version: 1e400 is not a finite number (line 2)',
        'goldRate: .nan is not a finite number (line 9)',
        'slaHours: -.inf is not a finite number (line 11)',
      ]);
      expect(json).toEqual(['version: 1e400 is not a finite number (line 1)']);
    });

    it('refuses a non-finite number anywhere, even in a field the format does not know', () => {
      expect(problemsOf(`${YAML_DOC}notes: { weight: .inf }\n`, 'p.yaml')).toEqual(['notes.weight: .inf is not a finite number (line 35)']);
    });

    it('reports a misspelt routing attribute with its line and the attribute meant', () => {
      // Act
      const problems = problemsOf(YAML_DOC.replace('attribute: flags.sensitive', 'attribute: flags.sensitve'), 'p.yaml');

      // Assert
      expect(problems).toEqual(['routing.rules[0].when[0].attribute: unknown attribute "flags.sensitve": did you mean "flags.sensitive"? (line 16)']);
    });

    it('reports a segmentation label value outside 1..255 by its key', () => {
      // Arrange
      const doc = { ...BASE, task: { type: 'segmentation', labels: { '300': 'liver' }, minDice: 0.8, maxHd95Mm: 5 } };

      // Act
      const problems = problemsOf(JSON.stringify(doc));

      // Assert
      expect(problems).toEqual([expect.stringMatching(/^task\.labels\["300"\]: the key is not allowed: must match/)]);
    });
  });

  describe('syntax problems', () => {
    it('reports YAML syntax errors with line and column', () => {
      // Arrange
      const text = YAML_DOC.replace('  classes: [normal, abnormal]', '  classes: [normal, abnormal');

      // Act
      const problems = problemsOf(text, 'p.yaml');

      // Assert
      expect(problems.length).toBeGreaterThan(0);
      expect(problems[0]).toMatch(/^YAML syntax error at line \d+, column \d+: \S/);
    });

    it('reports a key given twice in a nested mapping, at the second one', () => {
      // Act
      const problems = problemsOf(YAML_DOC.replace('  goldAccuracy: 0.85\n', '  goldAccuracy: 0.85\n  goldAccuracy: 0.9\n'), 'p.yaml');

      // Assert
      expect(problems).toEqual(['YAML syntax error at line 9, column 3: "goldAccuracy" is given twice in the same mapping']);
    });

    it('describes at most 50 problems or warnings and counts the rest', () => {
      // Arrange: 120 misspelt extra fields, and a list of 80 classes that are not text
      const extra = Array.from({ length: 120 }, (_, i) => `extra${i}: 1`).join('\n');
      const classes = `[${Array(80).fill('[]').join(', ')}]`;

      // Act
      const warned = parseProtocolDocument(`${YAML_DOC}${extra}\n`, { filename: 'p.yaml' });
      const refused = problemsOf(YAML_DOC.replace('classes: [normal, abnormal]', `classes: ${classes}`), 'p.yaml');

      // Assert
      expect(warned.ok && warned.warnings.length).toBe(51);
      expect(warned.ok && warned.warnings[50]).toBe('… and 70 more unknown fields not shown');
      expect(refused).toHaveLength(51);
      expect(refused[50]).toBe('… and 30 more problems not shown');
    });

    it('reports a key given twice in YAML', () => {
      // Act
      const problems = problemsOf(`${YAML_DOC}goldRate: 0.2\n`, 'p.yaml');

      // Assert
      expect(problems).toEqual(['YAML syntax error at line 35, column 1: "goldRate" is given twice in the same mapping']);
    });

    it('reports JSON syntax errors with line and column', () => {
      // Act
      const problems = problemsOf('{\n  "protocolId": "x",\n  "version": 1,\n}\n', 'p.json');

      // Assert
      expect(problems).toEqual([expect.stringMatching(/^JSON syntax error at line 4, column 1: /)]);
    });

    it('says so when a .json file holds YAML', () => {
      // Act
      const problems = problemsOf(YAML_DOC, 'p.json');

      // Assert
      expect(problems).toEqual([expect.stringMatching(/^JSON syntax error: .*does not start with \{ or \[/)]);
    });

    it('rejects an empty document and a document that is not a mapping', () => {
      // Act / Assert
      expect(problemsOf('', 'p.yaml')).toEqual([expect.stringMatching(/^the document is empty/)]);
      expect(problemsOf('# only a comment\n', 'p.yaml')).toEqual([expect.stringMatching(/^the document is empty/)]);
      expect(problemsOf('', 'p.json')).toEqual([expect.stringMatching(/^the document is empty/)]);
      expect(problemsOf('- a\n- b\n', 'p.yaml')).toEqual(['the document must be a single protocol (a mapping of fields), got a list']);
      expect(problemsOf('just words', 'p.yaml')).toEqual([expect.stringMatching(/got the text "just words"/)]);
    });

    it('never throws, whatever the text', () => {
      // Act / Assert
      fc.assert(
        fc.property(fc.string(), fc.constantFrom(undefined, 'p.yaml', 'p.json'), (text, filename) => {
          const result = parseProtocolDocument(text, { filename });
          return result.ok || result.problems.length > 0;
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('example documents', () => {
    it.each(['chest-xray.v1.yaml', 'chest-xray.v2.yaml'])('accepts examples/protocols/%s without warnings', (name) => {
      // Act
      const result = parseProtocolDocument(readFileSync(`examples/protocols/${name}`, 'utf8'), { filename: name });

      // Assert
      expect(result).toMatchObject({ ok: true, warnings: [] });
    });
  });
});

describe('Function: formatPath', () => {
  it('writes keys with dots, indexes in brackets and odd keys quoted', () => {
    expect(formatPath(['routing', 'rules', 2, 'when', 0, 'op'])).toBe('routing.rules[2].when[0].op');
    expect(formatPath(['task', 'labels', '1'])).toBe('task.labels["1"]');
    expect(formatPath([])).toBe('(document)');
  });
});

describe('Function: summarizeProtocol', () => {
  it('names the protocol, the task, gold and every rule in evaluation order', () => {
    // Act
    const lines = summarizeProtocol(makeProtocol()).split('\n');

    // Assert
    expect(lines[0]).toBe('chest-xray@1 — Chest X-ray triage');
    expect(lines).toContain('  task     classification: normal, abnormal');
    expect(lines).toContain('    1. sensitive-stays-inside: when flags.sensitive is true → internal [radiologist] — "sensitive studies stay with our radiologists"');
    expect(lines).toContain('    default: internal');
  });
});
