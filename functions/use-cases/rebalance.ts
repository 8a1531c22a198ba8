/**
 * Rebalance when a round completes — primary course:
 * 1. Mark this batch settled in its round (its settle group: idempotent, the same
 *    few-KB writes whatever the round's size). If some
 *    batch of the round is still open, stop: the last one to settle does the work.
 * 2. Project scorecards from the ledger and store them (a projection: running it
 *    again writes the same cards).
 * 3. Switch each vendor's inspection level by the switching rules, folded over
 *    the ledger's batch decisions (normal / tightened = probation / reduced /
 *    discontinued = suspended): each switch one `workforce.inspection-switched`
 *    with its rule and evidence (deterministic id), then the workforce status.
 * 4. Move vendor shares toward value within capacity. `automatic`: store the next
 *    round's shares once (conditional) with one `shares.changed` per change.
 *    `approval`: record the proposal; a PM approves it (approveShares).
 */
import {
  type FoldableEvent,
  foldInspection,
  frontierOf,
  type ProtocolVersion,
  projectScorecards,
  protocolRef,
  rebalanceShares,
  type Shares,
  statusOfLevel,
  type Workforce,
} from '../domain/index.js';
import { checkDrift } from './drift.js';
import { ConflictError, NotFoundError } from './errors.js';
import { decideExamAfterBatch } from './exams.js';
import { record } from './ledger.js';
import type { BatchRecord, Deps } from './ports.js';
import { shareEventIds } from './shares.js';
import { loadBatchProtocol } from './submission-file.js';

export interface RebalanceResult {
  roundComplete: boolean;
  nextShares?: Shares;
  proposed?: boolean;
  /** An exam batch: how its exam was decided. */
  exam?: { outcome: string; rule: string };
}

export async function rebalanceAfterBatch(deps: Deps, input: { batchId: string }): Promise<RebalanceResult> {
  const { batch, protocol } = await loadBatchProtocol(deps, input.batchId);
  // A qualification exam belongs to no round: its last step decides the exam (exams.ts).
  if (batch.kind === 'exam') return { roundComplete: false, exam: await decideExamAfterBatch(deps, batch) };
  const { roundComplete } = await deps.repo.markRoundBatchSettled(batch.programId, batch.round, batch.batchId);
  if (!roundComplete) return { roundComplete: false };
  const ref = protocolRef(protocol);

  const ledger = await deps.repo.listLedger(batch.programId);
  const cards = projectScorecards(ledger, {
    protocolId: protocol.protocolId,
    minGoldItems: protocol.thresholds.minGoldItems,
  });
  // Each card records the ledger position it reflects, so a rebuild from the ledger compares exactly.
  // The position folded: the events read (seq: how many) and, exactly, the last seq read per ledger chain.
  const asOf = { seq: ledger.length, protocol: ref, ledger: frontierOf(ledger) };
  await deps.repo.putScorecards(batch.programId, Object.values(cards).map((c) => ({ ...c, asOf })));
  // Drift alarms at round end (docs/quality-alarms.md): events only, idempotent ids.
  await checkDrift(deps, { programId: batch.programId, protocolId: protocol.protocolId, protocol, ledger });

  const workforces = await deps.repo.listWorkforces(batch.programId);
  const vendors = [];
  for (const w of workforces.filter((x) => x.kind === 'vendor')) vendors.push(await switchInspection(deps, { batch, protocol, workforce: w, ledger }));

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
  // The events first (deterministic ids), then the shares item. If the round's
  // shares are stored already (a retry, or a dispatch that carried the previous
  // round's over), the events follow what is stored: the ledger reproduces it.
  const already = await deps.repo.getShares(batch.programId, protocol.protocolId, nextRound);
  if (!already) {
    await recordShareChanges(deps, batch.programId, protocol.protocolId, ref, nextRound, diffShares(previous, shares, changes), 'rebalancer');
    await deps.repo.createShares(batch.programId, protocol.protocolId, nextRound, shares);
  }
  const stored = (await deps.repo.getShares(batch.programId, protocol.protocolId, nextRound))!;
  if (already) await recordShareChanges(deps, batch.programId, protocol.protocolId, ref, nextRound, diffShares(previous, stored, changes), 'rebalancer');
  return { roundComplete: true, nextShares: stored };
}

/**
 * Records the switches the rules made for one vendor that the ledger does not
 * hold yet (the k-th switch has id `…:inspection:<vendor>:<k>`: a retry appends
 * nothing twice), then sets the vendor's status to the level it ends at. A
 * status set otherwise (a PM, an exam) is left alone unless a switch moves it.
 */
async function switchInspection(
  deps: Deps,
  input: { batch: BatchRecord; protocol: ProtocolVersion; workforce: Workforce; ledger: readonly FoldableEvent[] },
): Promise<Workforce> {
  const { batch, protocol, workforce: w, ledger } = input;
  const fold = foldInspection(ledger, { workforceId: w.workforceId, protocol });
  let status = w.status;
  let moved = false;
  for (const [k, sw] of fold.switches.entries()) {
    const to = statusOfLevel(sw.to);
    const appended = await record(deps, {
      eventId: `${batch.programId}:${protocol.protocolId}:inspection:${w.workforceId}:${k + 1}`,
      programId: batch.programId,
      type: 'workforce.inspection-switched',
      actor: 'rebalancer',
      protocol: protocolRef(protocol),
      subject: w.workforceId,
      reason: sw.reason,
      data: {
        workforceId: w.workforceId,
        from: sw.from,
        to: sw.to,
        rule: sw.rule,
        evidence: sw.evidence,
        status: { from: status, to },
        round: batch.round,
      },
    });
    // A switch appended now moves the status; the last one found already recorded still does if the status never followed (a crash in between).
    if (appended === 'appended' || (k === fold.switches.length - 1 && status !== to && w.status === statusOfLevel(sw.from))) moved = true;
    status = to;
  }
  if (!moved || status === w.status) return w;
  await deps.repo.updateWorkforceStatus(batch.programId, w.workforceId, status);
  return { ...w, status };
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
 * Approving twice changes nothing. The decision is one event per round (the
 * same id for an approval and a refusal, shares.ts), so an approval racing a
 * refusal cannot both win: the second finds the first and is refused with a
 * conflict. The events come first, the shares item after.
 */
export async function approveShares(
  deps: Deps,
  input: { programId: string; protocolId: string; version: number; round: number; actor: string },
): Promise<Shares> {
  const ids = shareEventIds(input.programId, input.protocolId, input.round);
  const proposal = await deps.repo.getLedgerEvent(input.programId, ids.proposal);
  if (proposal?.type !== 'shares.proposed') throw new NotFoundError(`no share proposal for round ${input.round} of ${input.protocolId}`);
  const refused = () => new ConflictError(`the proposed shares of round ${input.round} were refused`);
  const decided = await deps.repo.getLedgerEvent(input.programId, ids.decision);
  if (decided?.type === 'shares.refused') throw refused();
  const { shares, changes } = proposal.data;
  const before = await deps.repo.getShares(input.programId, input.protocolId, input.round);
  // Dispatched meanwhile without a decision: the previous shares carried over; the proposal lapsed.
  if (before && !decided && !sameShares(before, shares)) return before;
  const appended = await record(deps, {
    eventId: ids.decision,
    programId: input.programId,
    type: 'shares.approved',
    actor: input.actor,
    protocol: `${input.protocolId}@${input.version}`,
    subject: `round ${input.round}`,
    reason: `proposed shares approved (${changes.length} change(s))`,
    data: { round: input.round, shares },
  });
  if (appended === 'duplicate' && (await deps.repo.getLedgerEvent(input.programId, ids.decision))?.type === 'shares.refused') throw refused();
  await recordShareChanges(deps, input.programId, input.protocolId, proposal.protocol, input.round, changes, input.actor);
  await deps.repo.createShares(input.programId, input.protocolId, input.round, shares);
  const stored = (await deps.repo.getShares(input.programId, input.protocolId, input.round))!;
  if (!sameShares(stored, shares)) {
    throw new ConflictError(`round ${input.round} was dispatched with other shares while they were approved`);
  }
  return stored;
}

const sameShares = (a: Shares, b: Shares): boolean => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
