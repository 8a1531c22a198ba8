import { describe, expect, it, vi } from 'vitest';
import { loadBatchKey } from '../../../functions/use-cases/batch-key.js';
import { decideExamAfterBatch, examStatus, planControls, revokeQualification, startExam, waiveQualification } from '../../../functions/use-cases/exams.js';
import { PROGRAM, program } from '../../support/scenario.js';
import type { FakeDeps } from '../fakes.js';

const V1 = 'chest-xray@1';
// Single plan at AQL 0.95 / RQL 0.70: n 16, c 2. Exams of 8 items: a clean attempt is inconclusive alone (curtailed), decided with the retake.
const GATED = { acceptance: { aql: 0.95, rql: 0.7, alpha: 0.05, beta: 0.1, rule: 'single-plan' as const }, qualification: { examItems: 8 } };
const start = (deps: FakeDeps, workforceId = 'vendor-c') => startExam(deps, { programId: PROGRAM, workforceId, protocol: V1, actor: 'pm:alice' });

/** Puts the exam batch where the lifecycle leaves it: scored with `wrong` wrong answers and settled, or closed without a score. */
async function finish(deps: FakeDeps, batchId: string, end: { wrong: number } | 'overdue' | 'failed') {
  const b = (await deps.repo.getBatch(batchId))!;
  if (typeof end === 'object') {
    const key = await loadBatchKey(deps, batchId);
    await deps.repo.putScore({
      batchId,
      workforceId: b.workforceId,
      protocol: b.protocol,
      taskType: 'classification',
      goldN: key.items.length,
      goldCorrect: key.items.length - end.wrong,
      accuracy: (key.items.length - end.wrong) / key.items.length,
      interval: null,
      kappa: null,
      summary: {},
      verdict: 'accepted',
      notes: [],
      items: key.items.map((i, k) => ({ caseId: i.caseId, correct: k >= end.wrong })),
    });
    await deps.repo.transitionBatch(batchId, ['planned'], 'accepted');
  } else {
    await deps.repo.transitionBatch(batchId, ['planned'], end, end === 'failed' ? { failure: 'Lambda.Unknown: boom' } : {});
  }
  return decideExamAfterBatch(deps, { batchId });
}

describe('Use case: startExam', () => {
  it('dispatches a gold-only batch of kind exam with its events, and starts its lifecycle once', async () => {
    const deps = await program({ gold: 30, protocol: GATED, workforces: [{ workforceId: 'vendor-c', kind: 'vendor', name: 'C', capacityPerRound: 100, pricePerCase: 1, slaHours: 24 }] });
    const r = await start(deps);
    expect(r).toMatchObject({ batchId: 'prog-1-r1-vendor-c-q1', attempt: 1, items: 8, planned: 8, rule: 'single-plan', started: true });
    expect(await deps.repo.getBatch(r.batchId)).toMatchObject({ kind: 'exam', itemCount: 8, goldCount: 8, status: 'planned', round: 1 });
    const key = await loadBatchKey(deps, r.batchId);
    expect(key.items.every((i) => i.gold && i.caseId.startsWith('gold-'))).toBe(true);
    const types = (await deps.repo.listLedger(PROGRAM)).map((e) => e.type);
    expect(types.indexOf('exam.dispatched')).toBeLessThan(types.indexOf('batch.dispatched'));
    expect(deps.workflows.started.map((s) => s.name)).toEqual([r.batchId]);
    // The exam's gold joins the workforce's history (reuse cap, unseen-first).
    const w = (await deps.repo.listWorkforces(PROGRAM)).find((x) => x.workforceId === 'vendor-c')!;
    expect(w.goldSeen).toEqual(key.items.map((i) => i.caseId).sort());
  });

  // Issue 14: an exam read the program's whole case list (every state) to find its gold pool.
  it('draws its gold from the pending-case index alone, never reading the case list', async () => {
    const deps = await program({ gold: 30, protocol: GATED, workforces: [{ workforceId: 'vendor-c', kind: 'vendor', name: 'C', capacityPerRound: 100, pricePerCase: 1, slaHours: 24 }] });
    const listCases = vi.spyOn(deps.repo, 'listCases');
    const byState = vi.spyOn(deps.repo, 'listCasesByState');

    const r = await start(deps);

    expect(listCases).not.toHaveBeenCalled();
    expect(byState.mock.calls.every(([, state]) => state === 'pending')).toBe(true);
    const key = await loadBatchKey(deps, r.batchId);
    expect(key.items.every((i) => i.gold && i.caseId.startsWith('gold-'))).toBe(true);
    expect(key.items).toHaveLength(8);
  });

  it('completes an exam whose start stopped after its event (a crash before the batch record): same batch, one execution', async () => {
    const deps = await program({ gold: 30, protocol: GATED });
    const create = deps.repo.createBatch.bind(deps.repo);
    vi.spyOn(deps.repo, 'createBatch').mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException')).mockImplementation(create);
    await expect(start(deps, 'vendor-a')).rejects.toThrow(/Provisioned/);
    const again = await start(deps, 'vendor-a');
    expect(again).toMatchObject({ batchId: 'prog-1-r1-vendor-a-q1', attempt: 1, started: false });
    expect(await deps.repo.getBatch(again.batchId)).toMatchObject({ kind: 'exam', status: 'planned' });
    expect(deps.workflows.started).toHaveLength(1);
    expect((await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'exam.dispatched')).toHaveLength(1);
  });

  it('refuses an exam when the gold a retake may draw is used up, naming what to do', async () => {
    const deps = await program({ gold: 8, protocol: { ...GATED, goldReuseCap: 0 } });
    const first = await start(deps, 'vendor-a');
    await finish(deps, first.batchId, { wrong: 8 });
    await expect(start(deps, 'vendor-a')).rejects.toThrow(/no gold case is left for an exam of vendor-a on chest-xray@1: .*add gold cases or waive/);
  });
});

describe('Use case: decideExamAfterBatch', () => {
  it('pools an inconclusive attempt into the retake, which decides on the pooled items; deciding twice records once', async () => {
    const deps = await program({ gold: 30, protocol: GATED });
    const a1 = await start(deps, 'vendor-a');
    expect(await finish(deps, a1.batchId, { wrong: 0 })).toEqual({ outcome: 'inconclusive', rule: 'single-plan-curtailed' });
    expect((await examStatus(deps, { programId: PROGRAM, protocol: V1, workforceId: 'vendor-a' })).items[0]).toMatchObject({ qualified: false, pooled: { n: 8, wrong: 0, attempts: 1 } });
    const a2 = await start(deps, 'vendor-a');
    expect(a2.attempt).toBe(2);
    const items1 = (await loadBatchKey(deps, a1.batchId)).items.map((i) => i.caseId);
    expect((await loadBatchKey(deps, a2.batchId)).items.some((i) => items1.includes(i.caseId))).toBe(false);
    expect(await finish(deps, a2.batchId, { wrong: 1 })).toEqual({ outcome: 'passed', rule: 'single-plan' });
    expect(await decideExamAfterBatch(deps, { batchId: a2.batchId })).toEqual({ outcome: 'passed', rule: 'single-plan' });
    const decided = (await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'exam.decided');
    expect(decided.map((e) => (e.type === 'exam.decided' ? e.data.evidence : null))).toEqual([
      { n: 8, wrong: 0, attempts: 1, c: 2, llr: null },
      { n: 16, wrong: 1, attempts: 2, c: 2, llr: null },
    ]);
    expect((await examStatus(deps, { programId: PROGRAM, protocol: V1, workforceId: 'vendor-a' })).items[0]).toMatchObject({ qualified: true, basis: 'exam' });
  });

  it('fails an overdue exam and voids one whose lifecycle failed (a new attempt may start at once)', async () => {
    const deps = await program({ gold: 30, protocol: GATED });
    const a = await start(deps, 'vendor-a');
    expect(await finish(deps, a.batchId, 'overdue')).toEqual({ outcome: 'failed', rule: 'overdue' });
    const b = await start(deps, 'vendor-b');
    expect(await finish(deps, b.batchId, 'failed')).toEqual({ outcome: 'void', rule: 'failed' });
    expect((await examStatus(deps, { programId: PROGRAM, protocol: V1, workforceId: 'vendor-b' })).items[0]).toMatchObject({ status: 'unqualified', attempts: 1 });
    expect((await start(deps, 'vendor-b')).attempt).toBe(2);
  });
});

describe('Use cases: waiveQualification / revokeQualification / planControls', () => {
  it('qualifies by a waiver with its reason, revokes with its reason, and the planner leaves the unqualified out', async () => {
    const deps = await program({ gold: 30, protocol: GATED });
    const protocol = (await deps.repo.getProtocolVersion('chest-xray', 1))!;
    const workforces = await deps.repo.listWorkforces(PROGRAM);
    expect((await planControls(deps, PROGRAM, protocol, workforces)).ineligible.map((x) => x.workforceId)).toEqual(['vendor-a', 'vendor-b']);
    const waived = await waiveQualification(deps, { programId: PROGRAM, workforceId: 'vendor-a', protocol: V1, reason: 'audited', actor: 'pm:alice' });
    expect(waived).toMatchObject({ qualified: true, basis: 'waiver' });
    // Waiving again records nothing.
    await waiveQualification(deps, { programId: PROGRAM, workforceId: 'vendor-a', protocol: V1, reason: 'audited', actor: 'pm:alice' });
    expect((await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'qualification.waived')).toHaveLength(1);
    expect((await planControls(deps, PROGRAM, protocol, workforces)).ineligible.map((x) => x.workforceId)).toEqual(['vendor-b']);
    const revoked = await revokeQualification(deps, { programId: PROGRAM, workforceId: 'vendor-a', protocol: V1, reason: 'audit findings', actor: 'pm:alice' });
    expect(revoked).toMatchObject({ qualified: false, status: 'revoked' });
    expect(revoked.reason).toMatch(/revoked \(pm\) by pm:alice: audit findings/);
  });

  it('gates nothing on a protocol without a qualification section', async () => {
    const deps = await program({ gold: 30 });
    const protocol = (await deps.repo.getProtocolVersion('chest-xray', 1))!;
    expect(await planControls(deps, PROGRAM, protocol, await deps.repo.listWorkforces(PROGRAM))).toEqual({ ineligible: [], caps: {} });
  });
});
