/**
 * Rebalance when a round completes — primary course:
 * 1. If some batch of the round is still open, do nothing (the last one to
 *    settle does the work).
 * 2. Project scorecards from the ledger and store them (a projection: running
 *    it again writes the same cards).
 * 3. Move vendor shares toward quality within capacity; store the next round's
 *    shares once (conditional) and append one `shares.changed` per change.
 */
import { type Shares, projectScorecards, rebalanceShares } from '../domain/index.js';
import { record } from './ledger.js';
import type { Deps } from './ports.js';
import { loadBatchProtocol } from './submission-file.js';

export interface RebalanceResult {
  roundComplete: boolean;
  nextShares?: Shares;
}

export async function rebalanceAfterBatch(deps: Deps, input: { batchId: string }): Promise<RebalanceResult> {
  const { batch, protocol } = await loadBatchProtocol(deps, input.batchId);
  const round = await deps.repo.getRound(batch.programId, batch.round);
  if (!round) return { roundComplete: false };
  const settled = new Set(round.settledBatchIds);
  if (!round.batchIds.every((id) => settled.has(id))) return { roundComplete: false };

  const ledger = await deps.repo.listLedger(batch.programId);
  const cards = projectScorecards(ledger, {
    protocolId: protocol.protocolId,
    minGoldItems: protocol.thresholds.minGoldItems,
  });
  await deps.repo.putScorecards(batch.programId, Object.values(cards));

  const workforces = await deps.repo.listWorkforces(batch.programId);
  const vendors = workforces.filter((w) => w.kind === 'vendor');
  const previous = (await deps.repo.getShares(batch.programId, protocol.protocolId, batch.round)) ?? {};
  const batches = await deps.repo.listRoundBatches(batch.programId, batch.round);
  const vendorCases = batches
    .filter((b) => b.workforceKind === 'vendor')
    .reduce((s, b) => s + b.itemCount - b.goldCount, 0);
  const { shares, changes } = rebalanceShares({
    protocol,
    vendors,
    previous,
    scorecards: cards,
    expectedVendorCases: vendorCases,
  });
  const nextRound = batch.round + 1;
  await deps.repo.createShares(batch.programId, protocol.protocolId, nextRound, shares);
  const stored = (await deps.repo.getShares(batch.programId, protocol.protocolId, nextRound))!;
  for (const c of changes) {
    await record(deps, {
      eventId: `${batch.programId}:${protocol.protocolId}:r${nextRound}:share:${c.workforceId}`,
      programId: batch.programId,
      type: 'shares.changed',
      actor: 'rebalancer',
      protocol: batch.protocol,
      subject: c.workforceId,
      reason: c.reason,
      data: { workforceId: c.workforceId, from: c.from, to: c.to, round: nextRound },
    });
  }
  return { roundComplete: true, nextShares: stored };
}
