import { describe, expect, it, vi } from 'vitest';
import { projectProgram } from '../../../functions/domain/index.js';
import { assignCases } from '../../../functions/use-cases/assignments.js';
import { loadBatchKey } from '../../../functions/use-cases/batch-key.js';
import { dispatchRound } from '../../../functions/use-cases/dispatch-round.js';
import { recordFailure } from '../../../functions/use-cases/close-batch.js';
import { capShare, moveWork } from '../../../functions/use-cases/manual-control.js';
import { PROGRAM, program } from '../../support/scenario.js';
import type { FakeDeps } from '../fakes.js';

const REASON = 'vendor-b lost its readers this week';
const team = { workforceId: 'radiology-team', kind: 'internal' as const, name: 'Team', capacityPerRound: 100, pricePerCase: 10, slaHours: 72 };

async function openRound(deps: FakeDeps) {
  await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm:alice' });
  const batch = (await deps.repo.listRoundBatches(PROGRAM, 1)).find((b) => b.workforceId === 'vendor-b')!;
  await deps.repo.setTaskToken(batch.batchId, 'token-b', '2025-03-03T09:00:00.000Z');
  await deps.repo.transitionBatch(batch.batchId, ['planned'], 'awaiting-submission');
  const key = await loadBatchKey(deps, batch.batchId);
  return { batch, real: key.items.filter((i) => !i.gold && !i.overlapSecondary).map((i) => i.caseId).sort() };
}

describe('Use case: capShare', () => {
  it('records a cap with its reason once, a removal, and refuses an internal team', async () => {
    const deps = await program({ workforces: [{ workforceId: 'vendor-a', kind: 'vendor', name: 'A', capacityPerRound: 100, pricePerCase: 1, slaHours: 48 }, team] });
    const cap = (value: number | null) => capShare(deps, { programId: PROGRAM, workforceId: 'vendor-a', cap: value, reason: 'ramp up', actor: 'pm:alice' });
    expect(await cap(0.2)).toEqual({ workforceId: 'vendor-a', cap: 0.2, from: null, changed: true });
    expect(await cap(0.2)).toMatchObject({ changed: false });
    expect(await cap(null)).toEqual({ workforceId: 'vendor-a', cap: null, from: 0.2, changed: true });
    const events = (await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'workforce.share-capped');
    expect(events.map((e) => [e.reason, e.actor])).toEqual([
      ['ramp up', 'pm:alice'],
      ['ramp up', 'pm:alice'],
    ]);
    await expect(capShare(deps, { programId: PROGRAM, workforceId: 'radiology-team', cap: 0.5, reason: 'x', actor: 'pm:alice' })).rejects.toThrow(/internal team/);
    await expect(capShare(deps, { programId: PROGRAM, workforceId: 'vendor-a', cap: 0, reason: 'x', actor: 'pm:alice' })).rejects.toThrow(/cap must be above 0/);
  });
});

describe('Use case: moveWork', () => {
  it('withdraws an open batch: failed, work.moved, cases pending and assigned to the target, the waiting execution woken', async () => {
    const deps = await program({ cases: 60 });
    const { batch, real } = await openRound(deps);
    const r = await moveWork(deps, { programId: PROGRAM, from: 'vendor-b', to: 'vendor-a', batchId: batch.batchId, reason: REASON, actor: 'pm:alice' });
    expect(r).toEqual({ from: 'vendor-b', to: 'vendor-a', batchId: batch.batchId, moved: real, refused: [] });
    expect(await deps.repo.getBatch(batch.batchId)).toMatchObject({ status: 'failed', failure: `moved to vendor-a by pm:alice: ${REASON}` });
    for (const id of real) expect(await deps.repo.getCase(PROGRAM, id)).toMatchObject({ state: 'pending', assignment: { workforceId: 'vendor-a', by: 'pm:alice' } });
    expect(deps.callbacks.successes.map((c) => c.token)).toEqual(['token-b']);
    // The woken execution ends through RecordFailure, which keeps the move as the batch's cause.
    await recordFailure(deps, { batchId: batch.batchId, error: 'NotFoundError', cause: `batch ${batch.batchId} has no accepted upload` });
    const failed = await deps.repo.getLedgerEvent(PROGRAM, `${batch.batchId}:failed`);
    expect(failed?.reason).toBe(`moved to vendor-a by pm:alice: ${REASON}`);
    expect((await deps.repo.getBatch(batch.batchId))?.failure).toBe(`moved to vendor-a by pm:alice: ${REASON}`);
    const p = projectProgram(await deps.repo.listLedger(PROGRAM));
    expect(p.batches[batch.batchId].status).toBe('failed');
    expect(real.every((id) => p.cases[id].state === 'pending')).toBe(true);
  });

  it('completes a move that stopped after its claim and its event (a crash before the cases moved) when it is run again', async () => {
    const deps = await program({ cases: 60 });
    const { batch, real } = await openRound(deps);
    const requeue = deps.repo.requeueCases.bind(deps.repo);
    vi.spyOn(deps.repo, 'requeueCases').mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException')).mockImplementation(requeue);
    const move = () => moveWork(deps, { programId: PROGRAM, from: 'vendor-b', to: 'vendor-a', batchId: batch.batchId, reason: REASON, actor: 'pm:alice' });
    await expect(move()).rejects.toThrow(/Provisioned/);
    expect((await move()).moved).toEqual(real);
    expect((await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'work.moved')).toHaveLength(1);
  });

  it('refuses a batch that is submitted (the upload won the claim) or not the named workforce’s', async () => {
    const deps = await program({ cases: 60 });
    const { batch } = await openRound(deps);
    await expect(moveWork(deps, { programId: PROGRAM, from: 'vendor-a', to: 'vendor-b', batchId: batch.batchId, reason: REASON, actor: 'pm:alice' })).rejects.toThrow(/is vendor-b's, not vendor-a's/);
    await deps.repo.transitionBatch(batch.batchId, ['awaiting-submission'], 'submitted');
    await expect(moveWork(deps, { programId: PROGRAM, from: 'vendor-b', to: 'vendor-a', batchId: batch.batchId, reason: REASON, actor: 'pm:alice' })).rejects.toThrow(
      /is submitted: only a batch that is planned or awaiting its upload can be moved/,
    );
    expect((await deps.repo.listLedger(PROGRAM)).some((e) => e.type === 'work.moved')).toBe(false);
  });

  it('re-assigns pending cases a PM had assigned to the source, refusing each other case with why', async () => {
    const deps = await program({ cases: 10 });
    await assignCases(deps, { programId: PROGRAM, protocol: 'chest-xray@1', caseIds: ['case-0001', 'case-0002'], workforceId: 'vendor-b', reason: 'second read', actor: 'pm:alice' });
    const r = await moveWork(deps, { programId: PROGRAM, protocol: 'chest-xray@1', from: 'vendor-b', to: 'vendor-a', caseIds: ['case-0001', 'case-0002', 'case-0003', 'nope'], reason: REASON, actor: 'pm:alice' });
    expect(r.moved).toEqual(['case-0001', 'case-0002']);
    expect(r.refused).toEqual([
      { caseId: 'case-0003', reason: 'it is not assigned to vendor-b' },
      { caseId: 'nope', reason: 'no such case in this program' },
    ]);
    expect(await deps.repo.getCase(PROGRAM, 'case-0001')).toMatchObject({ assignment: { workforceId: 'vendor-a', reason: `moved from vendor-b: ${REASON}` } });
    const moved = (await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'work.moved');
    expect(moved.map((e) => (e.type === 'work.moved' ? e.data : null))).toEqual([{ from: 'vendor-b', to: 'vendor-a', caseIds: ['case-0001', 'case-0002'] }]);
  });
});
