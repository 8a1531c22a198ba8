/**
 * Rebalance when a round completes — primary course:
 * 1. Mark this batch settled in its round (a string set: idempotent). If some
 *    batch of the round is still open, stop: the last one to settle does the work.
 * 2. Project scorecards from the ledger and store them (a projection: running it
 *    again writes the same cards).
 * 3. Review each vendor's status (probation, suspension, recovery) and record
 *    every change with its reason.
 * 4. Move vendor shares toward value within capacity. `automatic`: store the next
 *    round's shares once (conditional) with one `shares.changed` per change.
 *    `approval`: record the proposal; a PM approves it (approveShares).
 */
import { type Shares, projectScorecards, protocolRef, rebalanceShares, reviewVendorStatus } from '../domain/index.js';
import { ConflictError, NotFoundError } from './errors.js';
import { record } from './ledger.js';
import type { Deps } from './ports.js';
import { loadBatchProtocol } from './submission-file.js';

export interface RebalanceResult {
  roundComplete: boolean;
  nextShares?: Shares;
  proposed?: boolean;
}

export async function rebalanceAfterBatch(deps: Deps, input: { batchId: string }): Promise<RebalanceResult> {
  const { batch, protocol } = await loadBatchProtocol(deps, input.batchId);
  const round = await deps.repo.markRoundBatchSettled(batch.programId, batch.round, batch.batchId);
  const settled = new Set(round.settledBatchIds);
  if (!round.batchIds.every((id) => settled.has(id))) return { roundComplete: false };
  const ref = protocolRef(protocol);

  const ledger = await deps.repo.listLedger(batch.programId);
  const cards = projectScorecards(ledger, {
    protocolId: protocol.protocolId,
    minGoldItems: protocol.thresholds.minGoldItems,
  });
  // Each card records the ledger position it reflects, so a rebuild from the ledger compares exactly.
  const asOf = { seq: ledger.at(-1)?.seq ?? 0, protocol: ref };
  await deps.repo.putScorecards(batch.programId, Object.values(cards).map((c) => ({ ...c, asOf })));

  const workforces = await deps.repo.listWorkforces(batch.programId);
  const vendors = [];
  for (const w of workforces.filter((x) => x.kind === 'vendor')) {
    const change = reviewVendorStatus(protocol, w, cards[w.workforceId]);
    if (!change) {
      vendors.push(w);
      continue;
    }
    const updated = { ...w, status: change.to };
    // Ledger first (deterministic id): a retry after a crash still records it.
    await record(deps, {
      eventId: `${batch.programId}:${protocol.protocolId}:r${batch.round}:status:${w.workforceId}`,
      programId: batch.programId,
      type: 'workforce.status-changed',
      actor: 'rebalancer',
      protocol: ref,
      subject: w.workforceId,
      reason: change.reason,
      data: { workforceId: w.workforceId, from: change.from, to: change.to, round: batch.round },
    });
    await deps.repo.updateWorkforceStatus(batch.programId, w.workforceId, change.to);
    vendors.push(updated);
  }

  const previous = (await deps.repo.getShares(batch.programId, protocol.protocolId, batch.round)) ?? {};
  const batches = await deps.repo.listRoundBatches(batch.programId, batch.round);
  const vendorCases = batches
    .filter((b) => b.workforceKind === 'vendor')
    .reduce((s, b) => s + b.itemCount - b.goldCount, 0);
  const { shares, changes } = rebalanceShares({ protocol, vendors, previous, scorecards: cards, expectedVendorCases: vendorCases });
  const nextRound = batch.round + 1;

  if (protocol.rebalancing.mode === 'approval') {
    await record(deps, {
      eventId: `${batch.programId}:${protocol.protocolId}:r${nextRound}:proposal`,
      programId: batch.programId,
      type: 'shares.proposed',
      actor: 'rebalancer',
      protocol: ref,
      subject: `round ${nextRound}`,
      reason: changes.map((c) => `${c.workforceId} ${c.from} → ${c.to}: ${c.reason}`).join(' | ') || 'no change',
      data: { round: nextRound, shares, changes },
    });
    return { roundComplete: true, nextShares: shares, proposed: true };
  }
  await deps.repo.createShares(batch.programId, protocol.protocolId, nextRound, shares);
  // The events follow what is stored (a retry re-appends the same ids), so the
  // ledger always reproduces the stored shares.
  const stored = (await deps.repo.getShares(batch.programId, protocol.protocolId, nextRound))!;
  await recordShareChanges(deps, batch.programId, protocol.protocolId, ref, nextRound, diffShares(previous, stored, changes), 'rebalancer');
  return { roundComplete: true, nextShares: stored };
}

/** The changes from `before` to `after`, with the rebalancer's reasons where it gave one. */
export function diffShares(
  before: Shares,
  after: Shares,
  reasons: readonly { workforceId: string; reason: string }[],
): { workforceId: string; from: number; to: number; reason: string }[] {
  const why = new Map(reasons.map((r) => [r.workforceId, r.reason]));
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .sort()
    .filter((id) => (before[id] ?? 0) !== (after[id] ?? 0))
    .map((id) => ({ workforceId: id, from: before[id] ?? 0, to: after[id] ?? 0, reason: why.get(id) ?? 'shares rebalanced' }));
}

async function recordShareChanges(
  deps: Deps,
  programId: string,
  protocolId: string,
  ref: string,
  round: number,
  changes: { workforceId: string; from: number; to: number; reason: string }[],
  actor: string,
): Promise<void> {
  for (const c of changes) {
    await record(deps, {
      eventId: `${programId}:${protocolId}:r${round}:share:${c.workforceId}`,
      programId,
      type: 'shares.changed',
      actor,
      protocol: ref,
      subject: c.workforceId,
      reason: c.reason,
      data: { workforceId: c.workforceId, from: c.from, to: c.to, round },
    });
  }
}

/**
 * A PM approves the proposed shares of a round (rebalancing mode `approval`):
 * they become the round's shares, each change recorded with the PM as actor.
 * Approving twice changes nothing.
 */
export async function approveShares(
  deps: Deps,
  input: { programId: string; protocolId: string; version: number; round: number; actor: string },
): Promise<Shares> {
  const ledger = await deps.repo.listLedger(input.programId);
  const proposal = ledger.find((e) => e.eventId === `${input.programId}:${input.protocolId}:r${input.round}:proposal`);
  if (!proposal) throw new NotFoundError(`no share proposal for round ${input.round} of ${input.protocolId}`);
  // A refused proposal (shares.ts) never becomes shares.
  if (ledger.some((e) => e.eventId === `${input.programId}:${input.protocolId}:r${input.round}:refused`)) {
    throw new ConflictError(`the proposed shares of round ${input.round} were refused`);
  }
  const shares = proposal.data.shares as Shares;
  const changes = proposal.data.changes as { workforceId: string; from: number; to: number; reason: string }[];
  const ref = `${input.protocolId}@${input.version}`;
  await deps.repo.createShares(input.programId, input.protocolId, input.round, shares);
  const stored = (await deps.repo.getShares(input.programId, input.protocolId, input.round))!;
  if (JSON.stringify(stored) === JSON.stringify(shares)) {
    await recordShareChanges(deps, input.programId, input.protocolId, proposal.protocol, input.round, changes, input.actor);
    await record(deps, {
      eventId: `${input.programId}:${input.protocolId}:r${input.round}:approved`,
      programId: input.programId,
      type: 'shares.approved',
      actor: input.actor,
      protocol: ref,
      subject: `round ${input.round}`,
      reason: `proposed shares approved (${changes.length} change(s))`,
      data: { round: input.round, shares },
    });
  }
  return (await deps.repo.getShares(input.programId, input.protocolId, input.round))!;
}
