/**
 * Regression (second review; fixed): settleBatch moves the batch to `accepted` first and appends
 * `batch.accepted` second. If the append keeps failing (AcceptBatch's retries
 * exhausted), the Catch runs RecordFailure, which sees status `accepted` with no
 * labels and records `batch.failed` with `revokedAcceptance`. projectScorecards
 * then subtracts an acceptance that was never added: batchesAccepted -1,
 * acceptedCases and paid negative.
 */
import { describe, expect, it, vi } from 'vitest';
import { projectScorecards } from '../../functions/domain/scorecards.js';
import { recordFailure } from '../../functions/use-cases/close-batch.js';
import { settleBatch } from '../../functions/use-cases/settle-batch.js';
import { makeFakeDeps, makeProtocol, makeWorkforce, T0 } from '../unit/fakes.js';

describe('second review: acceptance revoked although it was never recorded', () => {
  it('keeps the scorecard projection non-negative and equal to what happened (no acceptance)', async () => {
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
