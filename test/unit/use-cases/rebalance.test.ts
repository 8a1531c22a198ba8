import { describe, expect, it } from 'vitest';
import { approveShares, rebalanceAfterBatch } from '../../../functions/use-cases/rebalance.js';
import { makeFakeDeps, makeLedgerEvent, makeProtocol, makeWorkforce, T0 } from '../fakes.js';

const PROGRAM = 'prog-1';

/** One round with one settled-to-be batch per vendor; vendor-a clean on gold, vendor-b poor. */
async function roundReadyToRebalance(mode: 'automatic' | 'approval') {
  const deps = makeFakeDeps();
  const protocol = makeProtocol({ rebalancing: { floor: 0.5, learningRate: 0.5, minShare: 0.05, costWeight: 0, mode } });
  await deps.repo.putProtocolVersion(protocol);
  await deps.repo.putWorkforce(PROGRAM, makeWorkforce('vendor-a'));
  await deps.repo.putWorkforce(PROGRAM, makeWorkforce('vendor-b'));
  const batches = ['b-a', 'b-b'];
  for (const [i, id] of batches.entries()) {
    await deps.repo.createBatch({
      batchId: id,
      programId: PROGRAM,
      round: 1,
      protocol: 'chest-xray@1',
      workforceId: i === 0 ? 'vendor-a' : 'vendor-b',
      workforceKind: 'vendor',
      itemCount: 44,
      goldCount: 4,
      slaHours: 48,
      status: 'accepted',
      createdAt: T0,
    });
  }
  await deps.repo.createRound({ programId: PROGRAM, protocolId: 'chest-xray', round: 1, batchIds: batches, settledBatchIds: [], createdAt: T0 });
  await deps.repo.createShares(PROGRAM, 'chest-xray', 1, { 'vendor-a': 0.5, 'vendor-b': 0.5 });
  const scored = (w: string, n: number, correct: number) =>
    makeLedgerEvent({ eventId: `${w}:scored`, programId: PROGRAM, type: 'batch.scored', subject: `b-${w.slice(-1)}`, data: { workforceId: w, goldN: n, goldCorrect: correct } });
  await deps.repo.appendLedger(scored('vendor-a', 40, 40));
  await deps.repo.appendLedger(scored('vendor-b', 40, 28));
  return deps;
}

describe('Use case: rebalanceAfterBatch', () => {
  it('waits for the last batch of the round, then stores next-round shares with one event per change', async () => {
    const deps = await roundReadyToRebalance('automatic');
    expect(await rebalanceAfterBatch(deps, { batchId: 'b-a' })).toEqual({ roundComplete: false });
    const done = await rebalanceAfterBatch(deps, { batchId: 'b-b' });
    expect(done.roundComplete).toBe(true);
    expect(done.nextShares!['vendor-a']).toBeGreaterThan(0.5);
    expect(await deps.repo.getShares(PROGRAM, 'chest-xray', 2)).toEqual(done.nextShares);
    const changes = (await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'shares.changed');
    expect(changes.map((e) => e.subject).sort()).toEqual(['vendor-a', 'vendor-b']);
    // A retried step changes nothing.
    await rebalanceAfterBatch(deps, { batchId: 'b-b' });
    expect((await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'shares.changed')).toHaveLength(2);
  });

  it('in approval mode, proposes shares and applies them only when a PM approves (once)', async () => {
    const deps = await roundReadyToRebalance('approval');
    await rebalanceAfterBatch(deps, { batchId: 'b-a' });
    const r = await rebalanceAfterBatch(deps, { batchId: 'b-b' });
    expect(r.proposed).toBe(true);
    expect(await deps.repo.getShares(PROGRAM, 'chest-xray', 2)).toBeUndefined();
    const proposal = (await deps.repo.listLedger(PROGRAM)).find((e) => e.type === 'shares.proposed')!;
    expect(proposal.reason).toMatch(/vendor-a 0\.5 → 0\.\d+/);

    const approved = await approveShares(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 2, actor: 'pm:alice' });
    expect(approved).toEqual(r.nextShares);
    await approveShares(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 2, actor: 'pm:bob' });
    const ledger = await deps.repo.listLedger(PROGRAM);
    const changes = ledger.filter((e) => e.type === 'shares.changed');
    expect(changes).toHaveLength(2);
    expect(changes.every((e) => e.actor === 'pm:alice')).toBe(true);
    expect(ledger.filter((e) => e.type === 'shares.approved')).toHaveLength(1);
  });

  it('refuses to approve a round with no proposal', async () => {
    const deps = await roundReadyToRebalance('approval');
    await expect(
      approveShares(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 5, actor: 'pm:alice' }),
    ).rejects.toThrow(/no share proposal for round 5/);
  });
});
