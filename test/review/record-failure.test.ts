/**
 * Regression (found in review; fixed): recordFailure (close-batch.ts) decides what happens to a failed batch's cases
 * from the batch status alone, and re-queues with an unconditional
 * setCaseState(…, 'pending'):
 *  - accepted, but FinalizeBatch failed (no labels written): cases stay
 *    'assigned' for ever — never labelled, never planned again;
 *  - rejected, FinalizeBatch failed before requeueCases: the cases go back to
 *    pending without excluding the vendor that failed gold;
 *  - an overlap case already labelled through the other workforce's batch is
 *    put back to 'pending' (and will be labelled and paid for again).
 */
import { describe, expect, it } from 'vitest';
import { loadBatchKey } from '../../functions/use-cases/batch-key.js';
import { recordFailure } from '../../functions/use-cases/close-batch.js';
import { dispatchRound } from '../../functions/use-cases/dispatch-round.js';
import { PROGRAM, program } from './scenario.js';

const dispatch = (deps: Awaited<ReturnType<typeof program>>) =>
  dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm' });

describe('review: recordFailure and the cases of a failed batch', () => {
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
});
