import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../../functions/use-cases/errors.js';
import { approveShares } from '../../../functions/use-cases/rebalance.js';
import { listShareProposals, refuseShares } from '../../../functions/use-cases/shares.js';
import { type FakeDeps, makeFakeDeps, makeLedgerEvent } from '../fakes.js';

const PROGRAM = 'prog-1';

/** Round 1 dispatched with equal shares; the rebalancer proposed round 2's, as rebalanceAfterBatch records it. */
async function seed(deps: FakeDeps) {
  await deps.repo.createShares(PROGRAM, 'chest-xray', 1, { 'vendor-a': 0.5, 'vendor-b': 0.5 });
  await deps.repo.appendLedger(
    makeLedgerEvent({
      eventId: `${PROGRAM}:chest-xray:r2:proposal`,
      programId: PROGRAM,
      type: 'shares.proposed',
      actor: 'rebalancer',
      subject: 'round 2',
      at: '2025-03-02T09:00:00.000Z',
      data: {
        round: 2,
        shares: { 'vendor-a': 0.8, 'vendor-b': 0.2 },
        changes: [
          { workforceId: 'vendor-a', from: 0.5, to: 0.8, reason: 'better gold accuracy' },
          { workforceId: 'vendor-b', from: 0.5, to: 0.2, reason: 'probation' },
        ],
      },
    }),
  );
}

describe('Use case: listShareProposals', () => {
  it('lists a pending proposal with its changes, then shows who refused it and why', async () => {
    const deps = makeFakeDeps();
    await seed(deps);

    const before = await listShareProposals(deps, { programId: PROGRAM });
    await refuseShares(deps, { programId: PROGRAM, protocolId: 'chest-xray', round: 2, reason: 'vendor-b has a new team lead', actor: 'pm:alice' });
    const after = await listShareProposals(deps, { programId: PROGRAM });

    expect(before.items).toEqual([
      expect.objectContaining({ protocolId: 'chest-xray', round: 2, status: 'pending', proposed: { 'vendor-a': 0.8, 'vendor-b': 0.2 } }),
    ]);
    expect(before.items[0].changes).toHaveLength(2);
    expect(after.items[0]).toMatchObject({ status: 'refused', decidedBy: 'pm:alice', reason: 'vendor-b has a new team lead' });
  });

  it('shows an approved proposal as approved with the stored shares', async () => {
    const deps = makeFakeDeps();
    await seed(deps);
    await approveShares(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 2, actor: 'pm:bob' });

    const list = await listShareProposals(deps, { programId: PROGRAM });

    expect(list.items[0]).toMatchObject({ status: 'approved', decidedBy: 'pm:bob', stored: { 'vendor-a': 0.8, 'vendor-b': 0.2 } });
  });
});

describe('Use case: refuseShares', () => {
  it('records the refusal once, stores no shares, and the round keeps the previous shares', async () => {
    const deps = makeFakeDeps();
    await seed(deps);
    const input = { programId: PROGRAM, protocolId: 'chest-xray', round: 2, reason: 'too sharp a move', actor: 'pm:alice' };

    const first = await refuseShares(deps, input);
    const again = await refuseShares(deps, input);

    expect(first).toEqual({ status: 'refused', round: 2, carriedOver: { 'vendor-a': 0.5, 'vendor-b': 0.5 } });
    expect(again.status).toBe('already-refused');
    expect(await deps.repo.getShares(PROGRAM, 'chest-xray', 2)).toBeUndefined();
    expect((await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'shares.refused')).toHaveLength(1);
  });

  it('makes a later approval of the refused proposal fail, storing nothing', async () => {
    const deps = makeFakeDeps();
    await seed(deps);
    await refuseShares(deps, { programId: PROGRAM, protocolId: 'chest-xray', round: 2, reason: 'no', actor: 'pm:alice' });

    await expect(approveShares(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 2, actor: 'pm:bob' })).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(await deps.repo.getShares(PROGRAM, 'chest-xray', 2)).toBeUndefined();
  });

  it('refuses to refuse an approved proposal or a round without one', async () => {
    const deps = makeFakeDeps();
    await seed(deps);
    await approveShares(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 2, actor: 'pm:bob' });

    await expect(refuseShares(deps, { programId: PROGRAM, protocolId: 'chest-xray', round: 2, reason: 'late', actor: 'pm:alice' })).rejects.toBeInstanceOf(ConflictError);
    await expect(refuseShares(deps, { programId: PROGRAM, protocolId: 'chest-xray', round: 3, reason: 'x', actor: 'pm:alice' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(refuseShares(deps, { programId: PROGRAM, protocolId: 'chest-xray', round: 2, reason: ' ', actor: 'pm:alice' })).rejects.toThrow(/reason/);
  });

  it('lets only one of an approval and a refusal racing on one proposal win; the other gets a conflict', async () => {
    // Both check the ledger before either appends; the decision's one event id decides.
    for (const first of ['approve', 'refuse'] as const) {
      // Arrange
      const deps = makeFakeDeps();
      await seed(deps);
      const approve = () => approveShares(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 2, actor: 'pm:bob' });
      const refuse = () => refuseShares(deps, { programId: PROGRAM, protocolId: 'chest-xray', round: 2, reason: 'not now', actor: 'pm:alice' });

      // Act
      const outcomes = await Promise.allSettled(first === 'approve' ? [approve(), refuse()] : [refuse(), approve()]);

      // Assert
      const lost = outcomes.filter((o) => o.status === 'rejected');
      expect(lost).toHaveLength(1);
      expect(lost[0].status === 'rejected' && lost[0].reason).toBeInstanceOf(ConflictError);
      const decisions = (await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'shares.approved' || e.type === 'shares.refused');
      expect(decisions).toHaveLength(1);
      const stored = await deps.repo.getShares(PROGRAM, 'chest-xray', 2);
      expect(stored).toEqual(decisions[0].type === 'shares.approved' ? { 'vendor-a': 0.8, 'vendor-b': 0.2 } : undefined);
    }
  });
});
