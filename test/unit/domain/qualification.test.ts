import { describe, expect, it } from 'vitest';
import {
  type LedgerEvent,
  type LedgerEventType,
  type ProtocolVersion,
  acceptanceOf,
  decideExam,
  examBatchScore,
  examGoldPool,
  examItems,
  examRuleOf,
  foldInspection,
  materialChange,
  productionEligibility,
  projectQualifications,
  qualificationOf,
  seededRandomSource,
} from '../../../functions/domain/index.js';
import { LEDGER_SAMPLES } from '../ledger-samples.js';
import { makeCase, makeLedgerEvent, makeProtocol, makeWorkforce } from '../fakes.js';

const ACCEPTANCE = { aql: 0.95, rql: 0.8, alpha: 0.05, beta: 0.1 };
const gated = (over: Parameters<typeof makeProtocol>[0] = {}): ProtocolVersion =>
  makeProtocol({ acceptance: { ...ACCEPTANCE, rule: 'single-plan' }, qualification: {}, ...over });

let seq = 0;
const ev = <T extends LedgerEventType>(type: T, data: Partial<(typeof LEDGER_SAMPLES)[T]>, base: { protocol?: string; subject?: string; reason?: string } = {}): LedgerEvent =>
  makeLedgerEvent({ eventId: `e-${++seq}`, type, data: { ...LEDGER_SAMPLES[type], ...data } as never, ...base });

const examDispatched = (w: string, attempt: number, caseIds: string[], protocol = 'chest-xray@1') =>
  ev('exam.dispatched', { workforceId: w, batchId: `p-r1-${w}-q${attempt}`, attempt, items: caseIds.length, planned: caseIds.length, caseIds }, { protocol, subject: w });
const examDecided = (w: string, attempt: number, outcome: 'passed' | 'failed' | 'inconclusive' | 'void', n = 38, wrong = 1, protocol = 'chest-xray@1') =>
  ev('exam.decided', { workforceId: w, batchId: `p-r1-${w}-q${attempt}`, attempt, outcome, rule: 'single-plan', evidence: { n, wrong, attempts: 1, c: 4, llr: null } }, { protocol, subject: w });

describe('Function: materialChange', () => {
  const v1 = makeProtocol({ instructions: 'Label the whole film.\nCall it abnormal when in doubt.' });

  it('returns not material for changes of routing, gold rate, thresholds, title and whitespace in the instructions', () => {
    const v2 = makeProtocol({
      version: 2,
      title: 'Chest X-ray triage (v2)',
      goldRate: 0.15,
      thresholds: { goldAccuracy: 0.9, minGoldItems: 6 },
      routing: { rules: [], default: { pool: 'internal', qualifications: [] } },
      instructions: '  Label the whole   film. Call it abnormal\twhen in doubt.  ',
    });
    expect(materialChange(v1, v2)).toEqual({ material: false, reasons: [] });
  });

  it('returns material, naming the change, when a class is added to the label scale', () => {
    const v2 = makeProtocol({ version: 2, task: { type: 'classification', classes: ['normal', 'abnormal', 'indeterminate'] }, instructions: v1.instructions });
    const m = materialChange(v1, v2);
    expect(m.material).toBe(true);
    expect(m.reasons.join('\n')).toMatch(/task\.classes\[2\].*indeterminate/);
  });

  it('returns material when the scale becomes ordinal, a pass bound moves, or the instructions change in words', () => {
    expect(materialChange(v1, makeProtocol({ version: 2, task: { type: 'classification', classes: ['normal', 'abnormal'], ordinal: true }, instructions: v1.instructions })).material).toBe(true);
    const seg = (minDice: number, nsdToleranceMm = 2) =>
      makeProtocol({ task: { type: 'segmentation', labels: { '1': 'liver' }, minDice, maxHd95Mm: 10, nsdToleranceMm } });
    expect(materialChange(seg(0.8), seg(0.85)).material).toBe(true);
    // The NSD tolerance is reported beside the metrics and decides nothing.
    expect(materialChange(seg(0.8, 2), seg(0.8, 3))).toEqual({ material: false, reasons: [] });
    const reworded = materialChange(v1, makeProtocol({ version: 2, instructions: 'Label the whole film. Call it normal when in doubt.' }));
    expect(reworded).toEqual({ material: true, reasons: ['instructions: the text changed beyond whitespace'] });
  });
});

describe('Function: examRuleOf / decideExam', () => {
  it('returns the single plan on the plan n items for a single-plan protocol: pass at c wrong, fail at c + 1', () => {
    const p = gated();
    const plan = acceptanceOf(p).single!;
    const rule = examRuleOf(p);
    expect(rule).toMatchObject({ items: plan.n, source: 'acceptance', rule: { kind: 'single-plan' } });
    expect(decideExam(p, { n: plan.n, wrong: plan.c, attempts: 1 })).toMatchObject({ outcome: 'passed', rule: 'single-plan', evidence: { c: plan.c } });
    expect(decideExam(p, { n: plan.n, wrong: plan.c + 1, attempts: 1 })).toMatchObject({ outcome: 'failed', rule: 'single-plan' });
  });

  it('returns inconclusive on a short exam that the missing items could still decide, and decides the pooled retake', () => {
    const p = gated();
    const plan = acceptanceOf(p).single!;
    const short = decideExam(p, { n: plan.n - 10, wrong: 1, attempts: 1 });
    expect(short).toMatchObject({ outcome: 'inconclusive', rule: 'single-plan-curtailed' });
    expect(short.reason).toMatch(/more gold/);
    expect(decideExam(p, { n: plan.n - 10 + plan.n, wrong: 1, attempts: 2 }).outcome).toBe('passed');
  });

  it('returns an SPRT looking once per attempt for an sprt protocol; a critical miss fails whatever the counts', () => {
    const p = gated({ acceptance: { ...ACCEPTANCE, rule: 'sprt' }, qualification: { examItems: 20 } });
    const rule = examRuleOf(p);
    expect(rule.items).toBe(20);
    expect(rule.rule.kind).toBe('sprt');
    expect(decideExam(p, { n: 20, wrong: 0, attempts: 1 }).outcome).toBe('passed');
    expect(decideExam(p, { n: 20, wrong: 10, attempts: 1 }).outcome).toBe('failed');
    expect(decideExam(p, { n: 20, wrong: 0, attempts: 1, blockers: ['critical miss'] })).toMatchObject({ outcome: 'failed', rule: 'blocker' });
  });

  it('returns the gold accuracy bar for a document without an acceptance section, never a pass below minGoldItems', () => {
    const p = makeProtocol({ qualification: {} });
    const rule = examRuleOf(p);
    expect(rule.source).toBe('gold-accuracy-bar');
    expect(decideExam(p, { n: rule.items, wrong: 0, attempts: 1 }).outcome).toBe('passed');
    expect(decideExam(p, { n: 10, wrong: 3, attempts: 1 })).toMatchObject({ outcome: 'failed', rule: 'fixed-threshold' });
    expect(decideExam(p, { n: 4, wrong: 0, attempts: 1 }).outcome).toBe('inconclusive');
  });
});

describe('Function: examGoldPool / examItems', () => {
  const gold = (id: string, over: Parameters<typeof makeCase>[1] = {}) => ({ ...makeCase(id, over), goldPool: true });
  const p = gated({
    goldReuseCap: 1,
    routing: { rules: [{ id: 'sensitive-inside', when: [{ attribute: 'flags.sensitive', op: 'isTrue' }], route: { pool: 'internal', qualifications: [] }, reason: 'stays inside' }], default: { pool: 'vendor' } },
  });
  const cases = [gold('g-1'), gold('g-2'), gold('g-3'), gold('g-4'), gold('g-5', { flags: { sensitive: true } }), gold('g-6'), { ...makeCase('work-1'), goldPool: false }];
  const answered = new Set(['g-1', 'g-2', 'g-3', 'g-4', 'g-5']);

  it('returns gold the protocol would send to the workforce, minus the reuse cap and earlier attempts, unseen first', () => {
    const w = makeWorkforce('vendor-c', { recentGold: [{ batchId: 'b-1', caseIds: ['g-1'] }], goldSeen: ['g-1', 'g-2'] });
    const pool = examGoldPool({ cases, answered, protocol: p, workforce: w, examSeen: new Set(['g-3']), random: seededRandomSource(1) });
    // g-1: within the reuse cap; g-3: an earlier attempt; g-5: internal only; g-6: no answer; work-1: not gold.
    expect(pool).toEqual(['g-4', 'g-2']);
  });

  it('returns items that are all gold, with distinct aliases of the production format, shuffled', () => {
    const items = examItems(['g-1', 'g-2', 'g-3', 'g-4'], seededRandomSource(3));
    expect(items.every((i) => i.gold && /^[a-z0-9]{12}$/.test(i.alias))).toBe(true);
    expect(new Set(items.map((i) => i.alias)).size).toBe(4);
    expect(items.map((i) => i.caseId).sort()).toEqual(['g-1', 'g-2', 'g-3', 'g-4']);
  });
});

describe('Function: projectQualifications / qualificationOf', () => {
  const p1 = gated();
  const versionOf = (v: number) => (v === 1 ? p1 : undefined);

  it('returns failed → qualified for a fail then a passing retake; the retake knows the first attempt’s items', () => {
    const q = projectQualifications([
      examDispatched('vendor-c', 1, ['g-1', 'g-2']),
      examDecided('vendor-c', 1, 'failed', 38, 9),
      examDispatched('vendor-c', 2, ['g-3']),
    ]);
    expect(q['vendor-c']['chest-xray@1']).toMatchObject({ status: 'examining', attempts: 2, examCases: ['g-1', 'g-2', 'g-3'], openExam: { attempt: 2 } });
    const after = projectQualifications([
      examDispatched('vendor-c', 1, ['g-1', 'g-2']),
      examDecided('vendor-c', 1, 'failed', 38, 9),
      examDispatched('vendor-c', 2, ['g-3']),
      examDecided('vendor-c', 2, 'passed'),
    ]);
    expect(after['vendor-c']['chest-xray@1']).toMatchObject({ status: 'qualified', basis: 'exam' });
    expect(after['vendor-c']['chest-xray@1'].openExam).toBeUndefined();
  });

  it('returns the inconclusive evidence pooled for the retake, and a void attempt leaves the status as it was', () => {
    const q = projectQualifications([examDispatched('vendor-c', 1, ['g-1']), examDecided('vendor-c', 1, 'inconclusive', 28, 1)]);
    expect(q['vendor-c']['chest-xray@1'].pooled).toEqual({ n: 28, wrong: 1, attempts: 1 });
    const voided = projectQualifications([examDispatched('vendor-c', 1, ['g-1']), examDecided('vendor-c', 1, 'void', 0, 0)]);
    expect(voided['vendor-c']['chest-xray@1'].status).toBe('unqualified');
  });

  it('returns a waiver with its reason, a revocation, and a suspension revoking every qualification', () => {
    const q = projectQualifications([
      ev('qualification.waived', { workforceId: 'radiology-team' }, { reason: 'writes the gold' }),
      ev('qualification.waived', { workforceId: 'vendor-b' }, { reason: 'audited' }),
      ev('workforce.status-changed', { workforceId: 'vendor-b', from: 'probation', to: 'suspended' }, { reason: 'below the floor' }),
    ]);
    expect(q['radiology-team']['chest-xray@1']).toMatchObject({ status: 'qualified', basis: 'waiver' });
    expect(q['radiology-team']['chest-xray@1'].reason).toMatch(/writes the gold/);
    expect(q['vendor-b']['chest-xray@1'].status).toBe('revoked');
    expect(q['vendor-b']['chest-xray@1'].reason).toMatch(/suspended: below the floor/);
    const discontinued = projectQualifications([
      ev('qualification.waived', { workforceId: 'vendor-b' }),
      ev('workforce.inspection-switched', { workforceId: 'vendor-b', status: { from: 'probation', to: 'suspended' } }, { reason: 'discontinued' }),
    ]);
    expect(discontinued['vendor-b']['chest-xray@1'].status).toBe('revoked');
  });

  it('returns grandfathered for production work before any qualification event, but never after a suspension', () => {
    const q = projectQualifications([
      ev('batch.dispatched', { workforceId: 'vendor-a' }, { subject: 'p-r1-vendor-a-1' }),
      ev('workforce.status-changed', { workforceId: 'vendor-z', from: 'active', to: 'suspended' }),
      ev('batch.dispatched', { workforceId: 'vendor-z' }, { subject: 'p-r2-vendor-z-1' }),
      examDispatched('vendor-c', 1, ['g-1']),
      ev('batch.dispatched', { workforceId: 'vendor-c' }, { subject: 'p-r1-vendor-c-q1' }),
    ]);
    expect(q['vendor-a']['chest-xray@1']).toMatchObject({ status: 'qualified', basis: 'grandfathered' });
    expect(q['vendor-z']).toBeUndefined();
    // An exam's own batch.dispatched is no production work.
    expect(q['vendor-c']['chest-xray@1'].status).toBe('examining');
  });

  it('returns a qualification carried to a version without a material change, and not across one', () => {
    const q = projectQualifications([examDispatched('vendor-c', 1, ['g-1']), examDecided('vendor-c', 1, 'passed')]);
    const v2 = gated({ version: 2, goldRate: 0.2 });
    const carried = qualificationOf(q, { workforceId: 'vendor-c', kind: 'vendor' }, v2, (v) => (v === 1 ? p1 : v === 2 ? v2 : undefined));
    expect(carried).toMatchObject({ qualified: true, carriedFrom: 'chest-xray@1', required: true });
    const v3 = gated({ version: 2, task: { type: 'classification', classes: ['normal', 'abnormal', 'indeterminate'] } });
    const relabelled = qualificationOf(q, { workforceId: 'vendor-c', kind: 'vendor' }, v3, (v) => (v === 1 ? p1 : v3));
    expect(relabelled.qualified).toBe(false);
    expect(relabelled.reason).toMatch(/changes the task materially: .*task\.classes\[2\]/);
    expect(qualificationOf(q, { workforceId: 'vendor-d', kind: 'vendor' }, p1, versionOf)).toMatchObject({ qualified: false, status: 'unqualified' });
  });
});

describe('Function: productionEligibility', () => {
  const team = makeWorkforce('radiology-team', { kind: 'internal' });
  const a = makeWorkforce('vendor-a');
  const c = makeWorkforce('vendor-c');
  const qualified = new Set(['vendor-a']);
  const view = (w: { workforceId: string }) => ({
    qualified: qualified.has(w.workforceId),
    status: qualified.has(w.workforceId) ? ('qualified' as const) : ('unqualified' as const),
    reason: 'no exam passed and no waiver',
  });

  it('returns every workforce eligible when the protocol has no qualification section', () => {
    expect(productionEligibility([team, a, c], makeProtocol(), view)).toEqual({ eligible: [team, a, c], ineligible: [] });
  });

  it('returns unqualified vendors left out with why; internal teams too only when required is all', () => {
    expect(productionEligibility([team, a, c], gated(), view)).toEqual({
      eligible: [team, a],
      ineligible: [{ workforceId: 'vendor-c', reason: 'not qualified on chest-xray@1: no exam passed and no waiver' }],
    });
    const all = productionEligibility([team, a, c], gated({ qualification: { required: 'all' } }), view);
    expect(all.ineligible.map((x) => x.workforceId)).toEqual(['radiology-team', 'vendor-c']);
  });

  it('returns a revoked workforce left out on any version, with or without a qualification section, until an exam or a waiver', () => {
    const q = projectQualifications([
      ev('batch.dispatched', { workforceId: 'vendor-b' }, { subject: 'p-r1-vendor-b-1' }),
      ev('workforce.status-changed', { workforceId: 'vendor-b', from: 'probation', to: 'suspended' }, { reason: 'below the floor' }),
    ]);
    const ungated = makeProtocol();
    const result = productionEligibility([a, makeWorkforce('vendor-b')], ungated, (w) => qualificationOf(q, w, ungated, () => ungated));
    expect(result.eligible.map((w) => w.workforceId)).toEqual(['vendor-a']);
    expect(result.ineligible[0].reason).toMatch(/^not qualified on chest-xray@1: suspended: below the floor; qualifies again by an exam or a waiver/);
  });
});

describe('Function: examBatchScore', () => {
  it('returns an accepted verdict without the production decision, saying the exam rule decides', () => {
    const s = examBatchScore({ verdict: 'rejected', goldN: 38, goldCorrect: 30, notes: ['rejected: 8 wrong'], decision: { reason: 'rejected: 8 wrong' } });
    expect(s).toEqual({ verdict: 'accepted', goldN: 38, goldCorrect: 30, notes: ['qualification exam: 30/38 gold items passed; decided by the exam rule, not as production work'] });
  });
});

describe('Function: foldInspection (exam batches)', () => {
  it('counts no exam batch among a vendor\'s production decisions', () => {
    const p = gated();
    // Settled as a rejection: a decision the switching rules would count (two of five rejected tightens).
    const settled = (batchId: string) => ev('batch.rejected', { workforceId: 'vendor-c', goldN: 16, accuracy: 0.5, items: 16, realItems: 0, charge: 0 }, { subject: batchId });
    const exam = [examDispatched('vendor-c', 1, ['g-1']), settled('p-r1-vendor-c-q1')];
    expect(foldInspection(exam, { workforceId: 'vendor-c', protocol: p }).state).toEqual(foldInspection([], { workforceId: 'vendor-c', protocol: p }).state);
    // The same settlement of a production batch does count.
    expect(foldInspection([settled('p-r1-vendor-c-1')], { workforceId: 'vendor-c', protocol: p }).state).not.toEqual(foldInspection([], { workforceId: 'vendor-c', protocol: p }).state);
  });
});
