/**
 * Regression (found in review; fixed): rebalance.ts writes the projection first and the ledger event second, and
 * guards the event with the projection ("changed already? then nothing to
 * record"). A crash between the two writes (Lambda timeout, throttling after
 * the SDK's retries) loses the ledger event for good — the retry sees nothing
 * to do — so the ledger can no longer explain or recompute what is stored:
 *  - workforce status: putWorkforce(probation) then record(status-changed);
 *  - shares: createShares(round + 1) then record(shares.changed) per vendor.
 * (dispatch-round.ts sharesForRound and approveShares have the same shape.)
 */
import { describe, expect, it, vi } from 'vitest';
import type { LedgerEvent } from '../../functions/domain/model/index.js';
import { projectShares } from '../../functions/domain/rebalancing.js';
import { rebalanceAfterBatch } from '../../functions/use-cases/rebalance.js';
import { makeFakeDeps, makeLedgerEvent, makeProtocol, makeWorkforce, T0 } from '../unit/fakes.js';

const PROGRAM = 'prog-1';

/** Round 1 of two vendor batches, both about to settle; vendor-b is below the 0.7 floor. */
async function roundReady() {
  const deps = makeFakeDeps();
  await deps.repo.putProtocolVersion(makeProtocol());
  await deps.repo.putWorkforce(PROGRAM, makeWorkforce('vendor-a'));
  await deps.repo.putWorkforce(PROGRAM, makeWorkforce('vendor-b'));
  const ids = ['b-a', 'b-b'];
  for (const [i, id] of ids.entries()) {
    await deps.repo.createBatch({
      batchId: id, programId: PROGRAM, round: 1, protocol: 'chest-xray@1', workforceId: i === 0 ? 'vendor-a' : 'vendor-b',
      workforceKind: 'vendor', itemCount: 44, goldCount: 4, slaHours: 48, status: 'accepted', createdAt: T0,
    });
  }
  await deps.repo.createRound({ programId: PROGRAM, protocolId: 'chest-xray', round: 1, batchIds: ids, settledBatchIds: [], createdAt: T0 });
  await deps.repo.createShares(PROGRAM, 'chest-xray', 1, { 'vendor-a': 0.5, 'vendor-b': 0.5 });
  // Round 1's initial shares, as dispatch records them.
  for (const w of ['vendor-a', 'vendor-b']) {
    await deps.repo.appendLedger(makeLedgerEvent({
      eventId: `${PROGRAM}:chest-xray:r1:share:${w}`, programId: PROGRAM, type: 'shares.changed', subject: w,
      data: { workforceId: w, from: 0, to: 0.5, round: 1 },
    }));
  }
  const scored = (w: string, n: number, correct: number) =>
    makeLedgerEvent({ eventId: `${w}:scored`, programId: PROGRAM, type: 'batch.scored', subject: `b-${w.slice(-1)}`, data: { workforceId: w, goldN: n, goldCorrect: correct } });
  await deps.repo.appendLedger(scored('vendor-a', 40, 40));
  await deps.repo.appendLedger(scored('vendor-b', 40, 26)); // lower bound ≈ 0.50: probation
  await rebalanceAfterBatch(deps, { batchId: 'b-a' });
  return deps;
}

/** appendLedger that fails once for the first event matching `type`. */
function failOnce(deps: Awaited<ReturnType<typeof roundReady>>, type: LedgerEvent['type']) {
  const append = deps.repo.appendLedger.bind(deps.repo);
  let failed = false;
  vi.spyOn(deps.repo, 'appendLedger').mockImplementation(async (e) => {
    if (!failed && e.type === type) {
      failed = true;
      throw new Error('ProvisionedThroughputExceededException');
    }
    return append(e);
  });
}

describe('review: rebalance retried after a crash between projection and ledger', () => {
  it('still records the status change in the ledger', async () => {
    const deps = await roundReady();
    failOnce(deps, 'workforce.status-changed');
    await expect(rebalanceAfterBatch(deps, { batchId: 'b-b' })).rejects.toThrow();
    await rebalanceAfterBatch(deps, { batchId: 'b-b' }); // Step Functions retries the task

    const vendorB = (await deps.repo.listWorkforces(PROGRAM)).find((w) => w.workforceId === 'vendor-b')!;
    expect(vendorB.status).toBe('probation');
    const events = (await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'workforce.status-changed');
    expect(events.map((e) => e.subject)).toEqual(['vendor-b']);
  });

  it('still records the share changes, so projectShares equals the stored shares', async () => {
    const deps = await roundReady();
    failOnce(deps, 'shares.changed');
    await expect(rebalanceAfterBatch(deps, { batchId: 'b-b' })).rejects.toThrow();
    await rebalanceAfterBatch(deps, { batchId: 'b-b' });

    const stored = await deps.repo.getShares(PROGRAM, 'chest-xray', 2);
    expect(stored).toBeDefined();
    expect(projectShares(await deps.repo.listLedger(PROGRAM), 'chest-xray')[2]).toEqual(stored);
  });
});
