import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Case, type CaseInput } from '../../../functions/domain/model/case.js';
import { ProtocolVersion, type ProtocolVersionInput, type RoutingRule } from '../../../functions/domain/model/protocol.js';
import {
  detectDocumentFormat,
  diffProtocolVersions,
  dryRunRouting,
  formatPath,
  formatProtocolDiff,
  parseProtocolDocument,
  summarizeProtocol,
} from '../../../functions/domain/protocol-document.js';

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

const BASE: ProtocolVersionInput = {
  protocolId: 'chest-xray',
  version: 1,
  title: 'Chest X-ray triage',
  task: { type: 'classification', classes: ['normal', 'abnormal'] },
  thresholds: { goldAccuracy: 0.85 },
  goldRate: 0.1,
  batchSize: 60,
  slaHours: 48,
  routing: {
    rules: [
      {
        id: 'sensitive-stays-inside',
        when: [{ attribute: 'flags.sensitive', op: 'isTrue' }],
        route: { pool: 'internal', qualifications: ['radiologist'] },
        reason: 'sensitive studies stay with our radiologists',
      },
      {
        id: 'paediatric-stays-inside',
        when: [{ attribute: 'subgroup.ageBand', op: 'equals', value: '0-17' }],
        route: { pool: 'internal', qualifications: ['radiologist'] },
        reason: 'paediatric films need a paediatric read',
      },
      {
        id: 'adult-cxr-to-vendors',
        when: [
          { attribute: 'modality', op: 'in', values: ['CR', 'DX'] },
          { attribute: 'bodyPart', op: 'equals', value: 'CHEST' },
        ],
        route: { pool: 'vendor', qualifications: ['cxr'] },
        reason: 'routine adult chest films may be outsourced',
      },
    ],
    default: { pool: 'internal' },
  },
  attributes: { subgroup: { ageBand: ['0-17', '18-64', '65+'] } },
  createdBy: 'pm:alice',
  createdAt: '2025-03-01T09:00:00Z',
};

const makeProtocol = (overrides: Partial<ProtocolVersionInput> = {}): ProtocolVersion => ProtocolVersion.parse({ ...BASE, ...overrides });

const rulesOf = (p: ProtocolVersion): RoutingRule[] => p.routing.rules;
const withRules = (p: ProtocolVersion, rules: RoutingRule[]): ProtocolVersion => ({ ...p, routing: { ...p.routing, rules } });

const makeCase = (caseId: string, overrides: Partial<CaseInput> = {}): Case =>
  Case.parse({ caseId, imageKey: `images/${caseId}.dcm`, modality: 'CR', bodyPart: 'CHEST', site: 'site-a', deidentified: true, ...overrides });

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
