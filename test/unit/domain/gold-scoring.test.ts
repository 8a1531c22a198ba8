import { describe, expect, it } from 'vitest';
import { scoreClassificationSubmission, scoreSubmissionAgainstGold } from '../../../functions/domain/gold-scoring.js';
import { BatchItem, ClassificationLabelLine, DetectionLabelLine, type ProtocolVersion } from '../../../functions/domain/model/index.js';
import { makeProtocol } from '../fakes.js';

interface Row {
  caseId: string;
  gold: boolean;
  /** the expert answer (gold items only) */
  expected?: string;
  got: string;
}

/** Builds the score input from rows; item i gets the alias `alias000000i`. */
function input(rows: Row[], protocol: ProtocolVersion = makeProtocol()) {
  const items: BatchItem[] = rows.map((r, i) => BatchItem.parse({ alias: `alias${String(i).padStart(7, '0')}`, caseId: r.caseId, gold: r.gold }));
  return {
    batchId: 'batch-7',
    workforceId: 'vendor-a',
    protocol,
    items,
    labels: new Map(items.map((it, i) => [it.alias, rows[i].got])),
    answers: new Map(rows.filter((r) => r.gold && r.expected !== undefined).map((r) => [r.caseId, r.expected!])),
  };
}

/** `n` gold rows of which the first `correct` are right (classes normal / abnormal, alternating). */
const goldRows = (n: number, correct: number): Row[] =>
  Array.from({ length: n }, (_, i) => {
    const expected = i % 2 === 0 ? 'normal' : 'abnormal';
    const wrong = expected === 'normal' ? 'abnormal' : 'normal';
    return { caseId: `gold-${i}`, gold: true, expected, got: i < correct ? expected : wrong };
  });

describe('Function: scoreClassificationSubmission', () => {
  it('returns accuracy, the Wilson 95% interval and Cohen\'s κ of a hand-computed batch', () => {
    // Arrange: 10 gold items, 5 normal + 5 abnormal by the expert; the vendor
    // gets 4 of each right and swaps one of each → accuracy 8/10.
    // κ: p_o = 0.8, both raters 5/5 → p_e = 0.5, κ = (0.8 − 0.5)/(1 − 0.5) = 0.6.
    // Wilson (z = 1.95996) for 8/10: [0.4902, 0.9433] (Newcombe 1998, method 3).
    const rows: Row[] = [
      ...['normal', 'normal', 'normal', 'normal'].map((l, i) => ({ caseId: `n-${i}`, gold: true, expected: 'normal', got: l })),
      { caseId: 'n-4', gold: true, expected: 'normal', got: 'abnormal' },
      ...['abnormal', 'abnormal', 'abnormal', 'abnormal'].map((l, i) => ({ caseId: `a-${i}`, gold: true, expected: 'abnormal', got: l })),
      { caseId: 'a-4', gold: true, expected: 'abnormal', got: 'normal' },
    ];

    // Act
    const score = scoreClassificationSubmission(input(rows));

    // Assert
    expect(score).toMatchObject({ batchId: 'batch-7', workforceId: 'vendor-a', protocol: 'chest-xray@1', goldN: 10, goldCorrect: 8 });
    expect(score.accuracy).toBe(0.8);
    expect(score.interval!.lower).toBeCloseTo(0.490162, 5);
    expect(score.interval!.upper).toBeCloseTo(0.943318, 5);
    expect(score.kappa).toBeCloseTo(0.6, 12);
  });

  it('returns one item score per gold item with what was expected and what came back', () => {
    // Act
    const score = scoreClassificationSubmission(
      input([
        { caseId: 'gold-1', gold: true, expected: 'normal', got: 'normal' },
        { caseId: 'gold-2', gold: true, expected: 'abnormal', got: 'normal' },
      ]),
    );

    // Assert
    expect(score.items.map(({ caseId, expected, got, correct }) => ({ caseId, expected, got, correct }))).toEqual([
      { caseId: 'gold-1', expected: 'normal', got: 'normal', correct: true },
      { caseId: 'gold-2', expected: 'abnormal', got: 'normal', correct: false },
    ]);
  });

  // The verdict follows the protocol's acceptance rule (issue 11: the default truncated SPRT, AQL 0.95 / RQL 0.80), not the old 0.8 threshold.
  it('returns "accepted" when the gold crosses the SPRT accept bound (18 of 18 right)', () => {
    // Act
    const score = scoreClassificationSubmission(input(goldRows(18, 18)));

    // Assert
    expect(score.verdict).toBe('accepted');
    expect(score.decision).toMatchObject({ decision: 'accept', rule: 'sprt', evidence: { n: 18, wrong: 0, batches: 1 }, carried: [] });
    expect(score.notes[0]).toMatch(/^accepted: 0 wrong of 18 gold items over 1 batch, SPRT log-likelihood ratio −3\.09 ≤ accept bound −2\.25/);
  });

  it('returns "rejected" when the gold crosses the SPRT reject bound (7 of 10 right), naming the wrong items', () => {
    // Act
    const score = scoreClassificationSubmission(input(goldRows(10, 7)));

    // Assert
    expect(score.verdict).toBe('rejected');
    expect(score.decision?.evidence).toMatchObject({ n: 10, wrong: 3, llr: expect.closeTo(2.96, 2) });
    expect(score.notes[0]).toMatch(/^rejected: 3 wrong of 10 gold items/);
    expect(score.notes).toContain('gold accuracy 0.700 (7/10)');
  });

  it('returns "inconclusive" — never "rejected" — when 6 of 6 gold answers are right but 6 items cannot decide yet', () => {
    // Act
    const score = scoreClassificationSubmission(input(goldRows(6, 6)));

    // Assert
    expect(score.verdict).toBe('inconclusive');
    expect(score.decision).toMatchObject({ decision: 'inconclusive', rule: 'sprt', evidence: { n: 6, wrong: 0 } });
    expect(score.notes[0]).toMatch(/^inconclusive: 0 wrong of 6 gold items over 1 batch, .*the vendor's next gold decides/);
  });

  it('holds a batch with one wrong answer in six (the old 0.85 rule rejected it)', () => {
    expect(scoreClassificationSubmission(input(goldRows(6, 5))).verdict).toBe('inconclusive');
  });

  it('rejects a batch whose every gold answer is wrong even on few items (5 of 5 wrong)', () => {
    expect(scoreClassificationSubmission(input(goldRows(5, 0))).verdict).toBe('rejected');
  });

  it('returns undefined figures (null) with their reasons when the batch has no gold, and holds it', () => {
    // Act
    const score = scoreClassificationSubmission(input([{ caseId: 'real-1', gold: false, got: 'normal' }]));

    // Assert
    expect(score.goldN).toBe(0);
    expect(score.accuracy).toBeNull();
    expect(score.interval).toBeNull();
    expect(score.kappa).toBeNull();
    expect(score.verdict).toBe('inconclusive');
    expect(score.notes.some((n) => n.startsWith('accuracy undefined:'))).toBe(true);
  });

  it('throws naming the case when a gold item has no gold answer', () => {
    // Arrange
    const rows: Row[] = [...goldRows(5, 5), { caseId: 'gold-lost', gold: true, got: 'normal' }];

    // Act / Assert
    expect(() => scoreClassificationSubmission(input(rows))).toThrow('gold answer missing for case gold-lost in batch batch-7');
  });

  it('throws naming the alias when a gold item has no submitted label', () => {
    // Arrange
    const i = input(goldRows(5, 5));
    const labels = new Map(i.labels);
    labels.delete(i.items[2].alias);

    // Act / Assert
    expect(() => scoreClassificationSubmission({ ...i, labels })).toThrow(`label missing for alias ${i.items[2].alias}`);
  });

  it('returns the same score whatever the non-gold items say', () => {
    // Arrange
    const gold = goldRows(6, 5);
    const realAgreeing: Row[] = Array.from({ length: 20 }, (_, k) => ({ caseId: `real-${k}`, gold: false, got: 'normal' }));
    const realOther: Row[] = Array.from({ length: 20 }, (_, k) => ({ caseId: `real-${k}`, gold: false, got: 'abnormal' }));

    // Act
    const onlyGold = scoreClassificationSubmission(input(gold));
    const a = scoreClassificationSubmission(input([...realAgreeing, ...gold]));
    const b = scoreClassificationSubmission(input([...gold, ...realOther]));

    // Assert
    for (const s of [a, b]) {
      expect(s.goldN).toBe(6);
      expect(s.goldCorrect).toBe(5);
      expect(s.accuracy).toBe(onlyGold.accuracy);
      expect(s.kappa).toBe(onlyGold.kappa);
      expect(s.items.map((x) => x.caseId)).toEqual(gold.map((g) => g.caseId));
    }
  });

  it('returns a higher κ for near-miss grades than for far misses on an ordinal scale', () => {
    // Arrange: grades 0..2, same accuracy (4/6) and same marginals; only the size of the misses differs
    const protocol = makeProtocol({ task: { type: 'classification', classes: ['g0', 'g1', 'g2'], ordinal: true } });
    const expected = ['g0', 'g1', 'g2', 'g0', 'g1', 'g2'];
    const rows = (got: string[]): Row[] => expected.map((e, i) => ({ caseId: `gold-${i}`, gold: true, expected: e, got: got[i] }));
    const nominal = makeProtocol({ task: { type: 'classification', classes: ['g0', 'g1', 'g2'] } });
    const near = ['g1', 'g0', 'g2', 'g0', 'g1', 'g2'];
    const far = ['g2', 'g1', 'g0', 'g0', 'g1', 'g2'];

    // Act
    const ordinalNear = scoreClassificationSubmission(input(rows(near), protocol));
    const ordinalFar = scoreClassificationSubmission(input(rows(far), protocol));
    const nominalNear = scoreClassificationSubmission(input(rows(near), nominal));
    const nominalFar = scoreClassificationSubmission(input(rows(far), nominal));

    // Assert
    expect(ordinalNear.accuracy).toBe(ordinalFar.accuracy);
    expect(nominalNear.kappa).toBeCloseTo(nominalFar.kappa!, 12);
    expect(ordinalNear.kappa!).toBeGreaterThan(ordinalFar.kappa!);
  });
});

describe('Function: scoreSubmissionAgainstGold (detection critical misses)', () => {
  it('returns each missed finding at or above the critical diameter as structured data on the item, beside its words', () => {
    // Arrange: two gold findings, 9 mm (critical at 4 mm) and 3 mm; the workforce marks neither.
    const protocol = makeProtocol({
      task: { type: 'detection', finding: 'nodule', criticalDiameterMm: 4, minSensitivity: 0.5, maxFalsePositivesPerItem: 2 },
    } as never);
    const alias = 'k3v9x2m7qa8d';
    const findings = [
      { x: 10, y: 10, z: 10, diameterMm: 9, excluded: false, id: 'n-1' },
      { x: 50, y: 50, z: 10, diameterMm: 3, excluded: false },
    ];

    // Act
    const score = scoreSubmissionAgainstGold({
      batchId: 'b-1',
      workforceId: 'vendor-a',
      protocol,
      items: [BatchItem.parse({ alias, caseId: 'case-1', gold: true })],
      lines: new Map([[alias, DetectionLabelLine.parse({ alias, annotator: 'r-1', findings: [] })]]),
      answers: new Map([['case-1', { findings }]]),
    });

    // Assert
    expect(score.items[0].criticalMisses).toEqual([{ finding: 'nodule', findingId: 'n-1', diameterMm: 9, criticalDiameterMm: 4 }]);
    expect(score.items[0].reasons).toContain('missed a 9.0 mm nodule (critical size 4 mm)');
    expect(score.verdict).toBe('rejected');
  });

  it('names on each gold item the annotator its line gave (a held batch has no stored label to say so)', () => {
    const protocol = makeProtocol();
    const items = ['a', 'b'].map((x, i) => BatchItem.parse({ alias: `alias000000${i}`, caseId: `gold-${x}`, gold: true }));
    const lines = new Map(items.map((it, i) => [it.alias, ClassificationLabelLine.parse({ alias: it.alias, label: 'normal', annotator: `vendor-a/reader-${i + 1}` })]));
    const score = scoreSubmissionAgainstGold({ batchId: 'b-1', workforceId: 'vendor-a', protocol, items, lines, answers: new Map([['gold-a', 'normal'], ['gold-b', 'abnormal']]) });
    expect(score.items.map((i) => [i.caseId, i.annotatorId])).toEqual([['gold-a', 'vendor-a/reader-1'], ['gold-b', 'vendor-a/reader-2']]);
  });
});
