/**
 * Regression (second review; fixed): dispatchRound re-run for a round that already committed
 * rebuilds from the stored keys and calls assignCases for every real case of
 * every batch. assignCases takes any `pending` case — including a case that a
 * closed batch of this very round re-queued (rejected / overdue / failed). The
 * case is put back as `assigned` to the closed batch: no execution will ever
 * settle it again, it is never re-planned, never labelled (lost work).
 */
import { describe, expect, it } from 'vitest';
import { loadBatchKey } from '../../functions/use-cases/batch-key.js';
import { dispatchRound } from '../../functions/use-cases/dispatch-round.js';
import { PROGRAM, program } from './scenario.js';

const input = { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm' };

describe('second review: dispatch re-run after a batch of the round was closed', () => {
  it('leaves cases re-queued by a closed batch pending (not re-assigned to the dead batch)', async () => {
    const deps = await program({ cases: 40, gold: 10 });
    const first = await dispatchRound(deps, input);
    const closed = first.batches[0].batchId;
    // The batch misses its SLA: overdue, its real cases re-queued away from the vendor.
    await deps.repo.transitionBatch(closed, ['planned'], 'overdue');
    const real = (await loadBatchKey(deps, closed)).items.filter((i) => !i.gold).map((i) => i.caseId);
    await deps.repo.requeueCases(PROGRAM, real, { batchId: closed, exclude: first.batches[0].workforceId });
    expect((await deps.repo.listCases(PROGRAM)).filter((c) => real.includes(c.caseId)).every((c) => c.state === 'pending')).toBe(true);

    await dispatchRound(deps, input); // a retried / repeated dispatch of the committed round

    const states = (await deps.repo.listCases(PROGRAM)).filter((c) => real.includes(c.caseId)).map((c) => c.state);
    expect(states.every((s) => s === 'pending')).toBe(true);
  });
});
