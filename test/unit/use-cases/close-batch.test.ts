import { describe, expect, it, vi } from 'vitest';
import { projectScorecards } from '../../../functions/domain/scorecards.js';
import { loadBatchKey } from '../../../functions/use-cases/batch-key.js';
import { markOverdue, recordFailure } from '../../../functions/use-cases/close-batch.js';
import { dispatchRound } from '../../../functions/use-cases/dispatch-round.js';
import { finalizeBatch } from '../../../functions/use-cases/finalize-batch.js';
import { ingestUpload } from '../../../functions/use-cases/ingest-upload.js';
import { settleBatch } from '../../../functions/use-cases/settle-batch.js';
import { PROGRAM, program } from '../../support/scenario.js';
import { makeFakeDeps, makeProtocol, makeWorkforce, seedUploadScenario, T0 } from '../fakes.js';

const dispatch = (deps: Awaited<ReturnType<typeof program>>) =>
  dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm' });

describe('Use case: markOverdue', () => {
  // Found in review: an overdue internal batch re-queued its cases excluding the internal team, the only workforce allowed to label them, so they were deferred in every later round.
  it('lets the internal team be planned again next round after its batch misses the SLA', async () => {
    const deps = await program({
      cases: 10,
      gold: 0,
      protocol: { routing: { rules: [], default: { pool: 'internal' } } },
      workforces: [makeWorkforce('radiology-team', { kind: 'internal', slaHours: 72 }), makeWorkforce('vendor-a')],
    });
    const r1 = await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm' });
    const internal = r1.batches.find((b) => b.workforceId === 'radiology-team')!;
    await deps.repo.transitionBatch(internal.batchId, ['planned'], 'awaiting-submission');
    await markOverdue(deps, { batchId: internal.batchId });

    const r2 = await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 2, actor: 'pm' });
    expect(r2.deferred.map((d) => d.reason)).toEqual([]);
    expect(r2.routing['radiology-team']).toBe(10);
  });
});

/** A batch of two real cases, uploaded and decided, whose FinalizeBatch failed at `failing` (after its labels were written). */
async function finalizeStoppedAfterLabels(verdict: 'accepted' | 'rejected', failing: 'setCaseState' | 'requeueCases') {
  const deps = makeFakeDeps();
  const s = await seedUploadScenario(deps);
  await deps.repo.putCases('prog-1', [0, 1].map((i) => ({
    caseId: `case-${i}`, imageKey: `images/case-${i}.dcm`, modality: 'CR', bodyPart: 'CHEST', site: 'a', deidentified: true,
    subgroup: {}, flags: {}, excludedWorkforces: [], deidentificationFindings: [], goldPool: false,
  })) as never);
  await deps.repo.assignCases('prog-1', ['case-0', 'case-1'], s.batchId);
  await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });
  await deps.repo.transitionBatch(s.batchId, ['submitted'], verdict);
  vi.spyOn(deps.repo, failing).mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException'));
  await expect(finalizeBatch(deps, { batchId: s.batchId })).rejects.toThrow();
  return { deps, s };
}

describe('Use case: recordFailure', () => {
  // Found in review: a batch accepted but never finalized left its cases 'assigned' for ever (the failure path decided from the batch status alone).
  it('does not strand the cases of a batch accepted but never finalized', async () => {
    const deps = await program({ cases: 40 });
    const r = await dispatch(deps);
    const batchId = r.batches[0].batchId;
    // AcceptBatch succeeded; FinalizeBatch then failed (timeout, throttling…): Catch → RecordFailure.
    await deps.repo.transitionBatch(batchId, ['planned'], 'submitted');
    await deps.repo.transitionBatch(batchId, ['submitted'], 'accepted');
    await recordFailure(deps, { batchId, error: 'States.Timeout', cause: 'FinalizeBatch timed out' });

    const key = await loadBatchKey(deps, batchId);
    const labels = await deps.repo.listBatchLabels(batchId);
    const state = new Map((await deps.repo.listCases(PROGRAM)).map((c) => [c.caseId, c.state]));
    const stranded = key.items
      .filter((i) => !i.gold)
      .filter((i) => state.get(i.caseId) === 'assigned' && !labels.some((l) => l.caseId === i.caseId));
    expect(stranded.map((i) => i.caseId)).toEqual([]);
  });

  // Found in review: a rejected batch whose FinalizeBatch failed before re-queueing went back to pending without excluding the vendor that failed gold.
  it('keeps the failed-gold vendor excluded when FinalizeBatch of a rejected batch fails', async () => {
    const deps = await program({ cases: 40 });
    const r = await dispatch(deps);
    const { batchId, workforceId } = r.batches[0];
    await deps.repo.transitionBatch(batchId, ['planned'], 'submitted');
    await deps.repo.transitionBatch(batchId, ['submitted'], 'rejected');
    await recordFailure(deps, { batchId, error: 'IntegrityError', cause: 'FinalizeBatch failed' });

    const key = await loadBatchKey(deps, batchId);
    const cases = new Map((await deps.repo.listCases(PROGRAM)).map((c) => [c.caseId, c]));
    const givenBack = key.items.filter((i) => !i.gold && !cases.get(i.caseId)!.excludedWorkforces.includes(workforceId));
    expect(givenBack.map((i) => i.caseId)).toEqual([]);
  });

  // Found in review: an overlap case already labelled through the other workforce's batch was put back to pending (labelled and paid for twice).
  it('leaves an overlap case labelled through the other batch labelled', async () => {
    const deps = await program({ cases: 40, protocol: { overlapRate: 0.25, overlapWith: 'vendor' } });
    const r = await dispatch(deps);
    const o = r.overlaps[0];
    expect(o).toBeDefined();
    const batchOf = (w: string) => r.batches.find((b) => b.workforceId === w)!.batchId;
    // The primary's batch is accepted and finalized: finalize marks its real cases labelled.
    const primaryKey = await loadBatchKey(deps, batchOf(o.primary));
    await deps.repo.setCaseState(PROGRAM, primaryKey.items.filter((i) => !i.gold).map((i) => i.caseId), 'labelled', batchOf(o.primary));
    // The secondary's batch fails while awaiting its upload.
    const secondary = batchOf(o.secondary);
    await deps.repo.transitionBatch(secondary, ['planned'], 'awaiting-submission');
    await recordFailure(deps, { batchId: secondary, error: 'Lambda.Unknown', cause: 'boom' });

    const c = (await deps.repo.listCases(PROGRAM)).find((x) => x.caseId === o.caseId)!;
    expect(c.state).toBe('labelled');
  });

  // Second review: FinalizeBatch of a rejected batch wrote labels, then failed before re-queueing; RecordFailure saw labels and re-queued without excluding the vendor.
  it('re-queues away from the vendor when finalize fails after a rejection', async () => {
    const { deps, s } = await finalizeStoppedAfterLabels('rejected', 'requeueCases');
    await recordFailure(deps, { batchId: s.batchId, error: 'ProvisionedThroughputExceededException', cause: 'retries exhausted' });

    const cases = await deps.repo.listCases('prog-1');
    expect(cases.every((c) => c.state === 'pending')).toBe(true);
    expect(cases.every((c) => c.excludedWorkforces.includes(s.workforceId))).toBe(true);
  });

  // Issue 14: whether a finalize got past its labels was decided by reading the program's whole case list (per carried or failed batch: O(program) each).
  it('finishes a finalize that stopped after its labels, reading only the batch\'s own cases', async () => {
    const { deps, s } = await finalizeStoppedAfterLabels('accepted', 'setCaseState');
    expect((await deps.repo.listCases('prog-1')).map((c) => c.state)).toEqual(['assigned', 'assigned']);
    const listCases = vi.spyOn(deps.repo, 'listCases');
    await recordFailure(deps, { batchId: s.batchId, error: 'ProvisionedThroughputExceededException', cause: 'retries exhausted' });

    expect(listCases).not.toHaveBeenCalled();
    listCases.mockRestore();
    expect((await deps.repo.listCases('prog-1')).map((c) => c.state)).toEqual(['labelled', 'labelled']);
  });

  // Second review: settleBatch moved the batch to accepted before appending batch.accepted; when the append kept failing, RecordFailure revoked an acceptance never counted (negative scorecards).
  it('withdraws no acceptance that was never recorded, so the scorecard projection stays non-negative', async () => {
    const deps = makeFakeDeps();
    await deps.repo.putProtocolVersion(makeProtocol());
    await deps.repo.putWorkforce('prog-1', makeWorkforce('vendor-a'));
    await deps.repo.createBatch({
      batchId: 'b1', programId: 'prog-1', round: 1, protocol: 'chest-xray@1', workforceId: 'vendor-a', workforceKind: 'vendor',
      itemCount: 10, goldCount: 1, slaHours: 48, status: 'submitted', createdAt: T0,
    });
    await deps.repo.putScore({
      batchId: 'b1', workforceId: 'vendor-a', protocol: 'chest-xray@1', taskType: 'classification', goldN: 0, goldCorrect: 0,
      accuracy: null, interval: null, kappa: null, verdict: 'accepted', insufficient: true, notes: ['insufficient gold'], items: [],
    } as never);
    const append = deps.repo.appendLedger.bind(deps.repo);
    const spy = vi.spyOn(deps.repo, 'appendLedger').mockImplementation(async (e) => {
      if (e.type === 'batch.accepted') throw new Error('ProvisionedThroughputExceededException');
      return append(e);
    });
    // AcceptBatch: 1 try + 4 retries, all failing on the ledger append.
    for (let i = 0; i < 5; i++) await expect(settleBatch(deps, { batchId: 'b1', verdict: 'accepted' })).rejects.toThrow();
    spy.mockRestore();
    await recordFailure(deps, { batchId: 'b1', error: 'ProvisionedThroughputExceededException', cause: 'retries exhausted' });

    const card = projectScorecards(await deps.repo.listLedger('prog-1'), { protocolId: 'chest-xray', minGoldItems: 5 })['vendor-a'];
    // No scorecard at all, or one that counts no acceptance: never negative.
    expect(card?.batchesAccepted ?? 0).toBe(0);
    expect(card?.acceptedCases ?? 0).toBe(0);
    expect(card?.paid ?? 0).toBe(0);
    expect((await deps.repo.getBatch('b1'))!.status).toBe('failed');
  });
});
