import { describe, expect, it } from 'vitest';
import {
  type BatchScore,
  type StoredLabel,
  buildQualityReport,
  cohenKappa,
  gwetAC1,
  QualityReport,
  type RleMask3D,
  encodeRle3d,
  renderRoundReportHtml,
  staple,
  wilsonInterval,
} from '../../../../functions/domain/index.js';
import { T0, makeCase, makeLedgerEvent, makeProtocol } from '../../fakes.js';

const SHA = 'a'.repeat(64);
const protocol = makeProtocol();
const CASES = Array.from({ length: 20 }, (_, i) => `c${String(i).padStart(2, '0')}`);
const truth = (caseId: string) => (Number(caseId.slice(1)) < 10 ? 'normal' : 'abnormal');

const label = (caseId: string, workforceId: string, value: string, extra: Partial<StoredLabel> = {}): StoredLabel => ({
  caseId,
  batchId: `b-${workforceId}`,
  label: value,
  workforceId,
  annotatorId: `${workforceId}-ann`,
  protocol: 'chest-xray@1',
  submissionKey: `uploads/b-${workforceId}/u1`,
  submissionSha256: SHA,
  gold: false,
  status: 'accepted',
  createdAt: T0,
  ...extra,
});

/** Three workforces label the same 20 cases; w-c calls every abnormal case normal. */
const answer = (w: string, caseId: string) => (w === 'w-c' ? 'normal' : truth(caseId));
const overlapLabels = ['w-a', 'w-b', 'w-c'].flatMap((w) => CASES.map((c) => label(c, w, answer(w, c))));

const goldCases = ['g1', 'g2', 'g3', 'g4', 'g5', 'g6'];
const goldTruth = (g: string) => (Number(g.slice(1)) <= 3 ? 'normal' : 'abnormal');
const score = (w: string, n = goldCases.length): BatchScore => {
  const items = goldCases.slice(0, n).map((g) => {
    const got = answer(w, g === 'g1' || g === 'g2' || g === 'g3' ? 'c00' : 'c19');
    return { caseId: g, correct: got === goldTruth(g), expected: goldTruth(g), got };
  });
  const correct = items.filter((i) => i.correct).length;
  return {
    batchId: `b-${w}`,
    workforceId: w,
    protocol: 'chest-xray@1',
    taskType: 'classification',
    goldN: items.length,
    goldCorrect: correct,
    accuracy: correct / items.length,
    interval: null,
    kappa: null,
    summary: {},
    verdict: 'accepted',
    notes: [],
    items,
  };
};
const goldLabels = ['w-a', 'w-b', 'w-c'].flatMap((w) =>
  goldCases.map((g) => label(g, w, answer(w, Number(g.slice(1)) <= 3 ? 'c00' : 'c19'), { gold: true, annotatorId: g === 'g6' ? `${w}-ann2` : `${w}-ann` })),
);
const batches = ['w-a', 'w-b', 'w-c'].map((w, i) => ({ batchId: `b-${w}`, round: i === 2 ? 2 : 1, protocol: 'chest-xray@1', workforceId: w, status: 'accepted' as const }));
const cases = [...CASES, ...goldCases].map((c) => makeCase(c, { site: Number(c.slice(1)) % 2 === 0 ? 'site-a' : 'site-b' }));
const ev = (type: Parameters<typeof makeLedgerEvent>[0]['type'], subject: string, at: string, data: unknown, id = `${subject}:${type}`) =>
  makeLedgerEvent({ eventId: id, type, subject, at, data: data as never });
const events = [
  ev('batch.dispatched', 'b-w-a', '2025-03-01T00:00:00.000Z', { workforceId: 'w-a', items: 26, gold: 6, caseIds: CASES }),
  ev('batch.accepted', 'b-w-a', '2025-03-03T00:00:00.000Z', { workforceId: 'w-a', goldN: 6, accuracy: 1, items: 26, realItems: 20, pricePerCase: 0.35, penalty: 0, charge: 9.1 }),
  // The same fact recorded twice counts once.
  ev('batch.accepted', 'b-w-a', '2025-03-03T00:00:00.000Z', { workforceId: 'w-a', goldN: 6, accuracy: 1, items: 26, realItems: 20, pricePerCase: 0.35, penalty: 0, charge: 9.1 }),
  ev('batch.dispatched', 'b-w-c', '2025-03-01T00:00:00.000Z', { workforceId: 'w-c', items: 26, gold: 6, caseIds: CASES }),
  ev('batch.rejected', 'b-w-c', '2025-03-02T00:00:00.000Z', { workforceId: 'w-c', goldN: 6, accuracy: 0.5, items: 26, realItems: 20, pricePerCase: 0.35, penalty: 1, charge: 0 }),
  ev('cases.requeued', 'b-w-c', '2025-03-02T00:00:00.000Z', { workforceId: 'w-c', cases: 20, caseIds: CASES, exclude: 'w-c' }),
  ev('batch.overdue', 'b-w-b', '2025-03-04T00:00:00.000Z', { workforceId: 'w-b', slaHours: 48, timeout: 'States.Timeout' }),
];
const inputs = { programId: 'prog-1', protocol, batches, scores: ['w-a', 'w-b', 'w-c'].map((w) => score(w)), labels: [...overlapLabels, ...goldLabels], cases, events };

describe('Function: buildQualityReport', () => {
  it('reports gold accuracy with its Wilson interval, per-class sensitivity/specificity and the confusion against gold', () => {
    const r = QualityReport.parse(buildQualityReport({ ...inputs, by: 'workforce' }));
    const c = r.groups.find((g) => g.key === 'w-c')?.classification;
    const w = wilsonInterval(3, 6);
    expect(c?.goldAccuracy).toEqual({ k: 3, n: 6, value: 0.5, interval: { lower: w.lower, upper: w.upper }, insufficient: false });
    expect(c?.confusion).toEqual({ classes: ['normal', 'abnormal'], counts: [[3, 0], [3, 0]] });
    const abnormal = c?.perClass.find((x) => x.class === 'abnormal');
    expect([abnormal?.sensitivity.k, abnormal?.sensitivity.n, abnormal?.specificity.k, abnormal?.specificity.n]).toEqual([0, 3, 3, 3]);
    expect(r.groups.find((g) => g.key === 'w-a')?.classification?.goldAccuracy.value).toBe(1);
  });

  it("shows a workforce that always calls 'abnormal' 'normal' in its Dawid–Skene confusion", () => {
    const r = buildQualityReport({ ...inputs, by: 'workforce' });
    const wc = r.dawidSkene?.raters.find((x) => x.rater === 'w-c');
    expect(wc?.worstConfusion).toMatchObject({ trueClass: 'abnormal', answered: 'normal' });
    expect(wc?.worstConfusion?.probability).toBeGreaterThan(0.99);
    expect(r.dawidSkene?.raters.find((x) => x.rater === 'w-a')?.worstConfusion?.probability ?? 0).toBeLessThan(0.01);
    // The consensus follows the two honest workforces.
    expect(r.dawidSkene?.consensusCounts).toEqual({ normal: 10, abnormal: 10 });
    expect(r.dawidSkene?.overlapConsensus).toHaveLength(20);
  });

  it("gives pairwise κ and AC1 with n for every pair of raters, and Fleiss' κ and α with three raters", () => {
    const r = buildQualityReport({ ...inputs, by: 'workforce' });
    const ac = r.agreement?.pairs.find((p) => p.a === 'w-a' && p.b === 'w-c');
    const a = CASES.map((c) => answer('w-a', c));
    const cc = CASES.map((c) => answer('w-c', c));
    expect(ac?.n).toBe(20);
    expect(ac?.percentAgreement.k).toBe(10);
    expect(ac?.kappa.value).toBe(cohenKappa(a, cc, { labels: ['normal', 'abnormal'] }).value);
    expect(ac?.ac1.value).toBeCloseTo(gwetAC1([a, cc], { categories: ['normal', 'abnormal'] }).value, 12);
    expect(ac?.kappa.interval).not.toBeNull();
    expect(r.agreement?.pairs.find((p) => p.a === 'w-a' && p.b === 'w-b')?.kappa.value).toBe(1);
    expect(r.agreement?.fleissKappa?.n).toBe(20);
    expect(r.agreement?.krippendorffAlpha?.value).toEqual(expect.any(Number));
    expect(r.agreement?.overlapCases).toBe(20);
  });

  it('folds operations from the ledger: duplicates once, money in cents, SLA, rejection, rework and throughput', () => {
    const r = buildQualityReport({ ...inputs, by: 'workforce' });
    const a = r.groups.find((g) => g.key === 'w-a')?.operations;
    expect(a).toMatchObject({ accepted: 1, acceptedCases: 20, paidMinor: 910, costPerAcceptedCaseMinor: 45.5, throughputCasesPerDay: 10, spanDays: 2 });
    const c = r.groups.find((g) => g.key === 'w-c')?.operations;
    expect([c?.rejectionRate.k, c?.rejectionRate.n, c?.reworkRate.k, c?.reworkRate.n]).toEqual([1, 1, 20, 20]);
    const b = r.groups.find((g) => g.key === 'w-b')?.operations;
    expect([b?.slaAdherence.k, b?.slaAdherence.n]).toEqual([0, 1]);
  });

  it('groups by annotator, round and case attribute, marking groups below the minimum insufficient', () => {
    const byAnnotator = buildQualityReport({ ...inputs, by: 'annotator' });
    expect(byAnnotator.groups.map((g) => g.key)).toEqual(['w-a/w-a-ann', 'w-a/w-a-ann2', 'w-b/w-b-ann', 'w-b/w-b-ann2', 'w-c/w-c-ann', 'w-c/w-c-ann2']);
    expect(byAnnotator.groups[1].classification?.goldAccuracy).toMatchObject({ n: 1, insufficient: true });
    expect(byAnnotator.groups[0].operations).toBeNull();
    expect(byAnnotator.agreement?.raters).toEqual(['w-a/w-a-ann', 'w-b/w-b-ann', 'w-c/w-c-ann']);
    const byRound = buildQualityReport({ ...inputs, by: 'round' });
    expect(byRound.groups.map((g) => [g.key, g.classification?.goldAccuracy.n])).toEqual([['1', 12], ['2', 6]]);
    const bySite = buildQualityReport({ ...inputs, by: 'subgroup:site' });
    // g2, g4, g6 are site-a; g1, g3, g5 site-b (three workforces each).
    expect(bySite.groups.map((g) => [g.key, g.classification?.goldAccuracy.n])).toEqual([['site-a', 9], ['site-b', 9]]);
    expect(bySite.subgroups).toMatchObject({ attribute: 'site', correction: 'holm', correctionName: 'Holm (family-wise error rate)' });
    expect(bySite.subgroups?.rows.map((r) => [r.unit, r.value, r.n])).toEqual([['w-a', 'site-a', 3], ['w-a', 'site-b', 3], ['w-b', 'site-a', 3], ['w-b', 'site-b', 3], ['w-c', 'site-a', 3], ['w-c', 'site-b', 3]]);
    expect(buildQualityReport({ ...inputs, by: 'subgroup:site', correction: 'benjamini-hochberg' }).subgroups?.correction).toBe('benjamini-hochberg');
    expect(byRound.subgroups).toBeNull();
  });

  // A held batch's gold was filed under '<workforce>/(unknown)': its annotator was read only from labels, which finalize writes once the batch is decided.
  it("files a held batch's gold by annotator under the annotator its score names, before any label of it is stored", () => {
    const held = { batchId: 'b-held', round: 2, protocol: 'chest-xray@1', workforceId: 'w-a', status: 'inconclusive' as const };
    const heldScore: BatchScore = {
      ...score('w-a'),
      batchId: 'b-held',
      verdict: 'inconclusive',
      items: score('w-a').items.map((i) => ({ ...i, annotatorId: 'w-a-ann' })),
    };
    const r = buildQualityReport({ ...inputs, batches: [...batches, held], scores: [...inputs.scores, heldScore], by: 'annotator' });
    expect(r.groups.map((g) => g.key)).not.toContain('w-a/(unknown)');
    const before = buildQualityReport({ ...inputs, by: 'annotator' }).groups.find((g) => g.key === 'w-a/w-a-ann')?.classification?.goldAccuracy.n ?? 0;
    expect(r.groups.find((g) => g.key === 'w-a/w-a-ann')?.classification?.goldAccuracy.n).toBe(before + heldScore.items.length);
  });

  it('says why there is no agreement when no case was labelled twice', () => {
    const r = buildQualityReport({ ...inputs, labels: overlapLabels.filter((l) => l.workforceId === 'w-a'), by: 'workforce' });
    expect(r.agreement?.pairs).toEqual([]);
    expect(r.agreement?.fleissKappa).toBeNull();
    expect(r.notes.join(' ')).toMatch(/no overlap case/);
  });

  it('runs STAPLE on a case three raters segmented: the rater who drew half the organ has the lowest sensitivity', () => {
    const dims: [number, number, number] = [8, 8, 2];
    const mask = (keep: (x: number, y: number) => boolean): RleMask3D[] => {
      const data = new Uint8Array(128);
      for (let z = 0; z < 2; z++) for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) if (keep(x, y)) data[x + 8 * (y + 8 * z)] = 1;
      return [encodeRle3d({ dims, spacing: [1, 1, 1], data }, 1)];
    };
    const full = () => true;
    const half = (x: number) => x < 4;
    const seg = makeProtocol({ task: { type: 'segmentation', labels: { '1': 'liver' }, minDice: 0.8, maxHd95Mm: 5 } });
    const r = buildQualityReport({
      ...inputs,
      protocol: seg,
      scores: [],
      by: 'workforce',
      stapleCases: [{ caseId: 'c00', raters: [{ rater: 'w-a', masks: mask(full) }, { rater: 'w-b', masks: mask(full) }, { rater: 'w-c', masks: mask(half) }] }],
    });
    const dense = (m: RleMask3D[]) => {
      const out = new Uint8Array(128);
      for (let k = 0; k < m[0].runs.length; k += 2) out.fill(1, m[0].runs[k], m[0].runs[k] + m[0].runs[k + 1]);
      return out;
    };
    const direct = staple([dense(mask(full)), dense(mask(full)), dense(mask(half))]);
    const c = r.staple?.cases[0];
    expect(c).toMatchObject({ caseId: 'c00', structure: 'liver', iterations: direct.iterations });
    expect(c?.raters.map((x) => x.sensitivity)).toEqual(direct.sensitivity);
    expect(c?.consensusVoxels).toBe(direct.consensus.reduce((s, v) => s + v, 0));
    expect(r.staple?.raters.find((x) => x.rater === 'w-c')?.meanSensitivity).toBeLessThan(r.staple?.raters.find((x) => x.rater === 'w-a')?.meanSensitivity ?? 0);
    expect(r.agreement).toBeNull();
  });

  it('renders a round report that escapes every value and prints on A4', () => {
    const r = buildQualityReport({ ...inputs, programId: '<script>alert(1)</script>', by: 'workforce' });
    const html = renderRoundReportHtml(r, { round: 1, generatedAt: T0 });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toMatch(/@media print\{@page\{size:A4/);
    for (const w of ['w-a', 'w-b', 'w-c']) expect(html).toContain(w);
  });
});
