/**
 * Dispatch a round — primary course:
 * 1. Load the protocol version, workforces, pending cases and this round's shares
 *    (round 1: equal shares among active vendors, stored once).
 * 2. Plan the round (routing rules, shares, capacity).
 * 3. Per workforce, split into batches; vendor batches get hidden gold, aliases, shuffling.
 * 4. Write each batch's answer key (gold bucket), the batch record (conditional),
 *    the case states, the round record, a ledger event.
 * 5. Start one lifecycle execution per batch (idempotent by name).
 */
import {
  type Case,
  type GoldAnswer,
  type ProtocolVersion,
  type Workforce,
  mixGoldItems,
  planRound,
  protocolRef,
  type RoutingDecision,
  type Shares,
  splitIntoBatches,
} from '../domain/index.js';
import { type BatchKey, batchKeyObject, goldSetObject } from './batch-key.js';
import { InvalidInputError, NotFoundError } from './errors.js';
import { record } from './ledger.js';
import type { BatchRecord, Deps } from './ports.js';

export interface DispatchRoundInput {
  programId: string;
  protocolId: string;
  version: number;
  round: number;
  /** Dispatch at most this many pending cases (oldest first). */
  limit?: number;
  actor: string;
}

export interface DispatchRoundResult {
  round: number;
  shares: Shares;
  routing: Record<string, number>;
  excluded: RoutingDecision[];
  deferred: { caseId: string; reason: string }[];
  batches: { batchId: string; workforceId: string; items: number; gold: number }[];
  overlaps: { caseId: string; primary: string; secondary: string }[];
}

/**
 * The shares a round dispatches with. Round 1: equal shares among active
 * vendors. Later rounds: what rebalancing stored for the round (in `approval`
 * mode, only once a PM approved it); otherwise the previous round's shares carry
 * over. Stored once per round (conditional), with a `shares.changed` event per
 * vendor whose share moved, so shares can be recomputed from the ledger.
 */
async function sharesForRound(
  deps: Deps,
  ctx: { programId: string; protocol: ProtocolVersion; round: number; workforces: readonly Workforce[]; actor: string },
): Promise<Shares> {
  const { programId, protocol, round } = ctx;
  const stored = await deps.repo.getShares(programId, protocol.protocolId, round);
  if (stored) return stored;
  let shares: Shares;
  let reason: string;
  if (round === 1) {
    const vendors = ctx.workforces.filter((w) => w.kind === 'vendor' && w.status !== 'suspended');
    shares = Object.fromEntries(vendors.map((v) => [v.workforceId, Math.round((1 / vendors.length) * 10_000) / 10_000]));
    reason = `initial equal shares among ${vendors.length} active vendor(s)`;
  } else {
    shares = (await deps.repo.getShares(programId, protocol.protocolId, round - 1)) ?? {};
    reason = 'no approved rebalancing for this round: previous shares carried over';
  }
  if ((await deps.repo.createShares(programId, protocol.protocolId, round, shares)) === 'created' && round === 1) {
    for (const [workforceId, to] of Object.entries(shares)) {
      await record(deps, {
        eventId: `${programId}:${protocol.protocolId}:r${round}:share:${workforceId}`,
        programId,
        type: 'shares.changed',
        actor: ctx.actor,
        protocol: protocolRef(protocol),
        subject: workforceId,
        reason,
        data: { workforceId, from: 0, to, round },
      });
    }
  }
  return (await deps.repo.getShares(programId, protocol.protocolId, round))!;
}

/** The input of a batch's lifecycle execution: ids and the SLA, nothing else. */
export function batchExecutionInput(
  b: Pick<BatchRecord, 'batchId' | 'slaHours'>,
  protocol: Pick<ProtocolVersion, 'heartbeatHours'>,
): { batchId: string; slaSeconds: number; heartbeatSeconds: number } {
  const slaSeconds = Math.round(b.slaHours * 3600);
  // Step Functions wants the heartbeat window below the timeout.
  const heartbeatSeconds = Math.min(Math.round(protocol.heartbeatHours * 3600), slaSeconds - 1);
  return { batchId: b.batchId, slaSeconds, heartbeatSeconds: Math.max(1, heartbeatSeconds) };
}

export const batchIdFor = (programId: string, round: number, workforceId: string, k: number): string =>
  `${programId}-r${round}-${workforceId}-${k + 1}`;

export async function dispatchRound(deps: Deps, input: DispatchRoundInput): Promise<DispatchRoundResult> {
  const { programId, round } = input;
  const protocol = await deps.repo.getProtocolVersion(input.protocolId, input.version);
  if (!protocol) throw new NotFoundError(`protocol ${input.protocolId}@${input.version} not found`);
  const ref = protocolRef(protocol);
  const workforces = await deps.repo.listWorkforces(programId);
  if (workforces.length === 0) throw new InvalidInputError(`program ${programId} has no workforces`);
  const allCases = await deps.repo.listCases(programId);
  const pending = allCases
    .filter((c) => c.state === 'pending' && !c.goldPool)
    .sort((a, b) => a.caseId.localeCompare(b.caseId))
    .slice(0, input.limit ?? Number.POSITIVE_INFINITY);
  const goldPool = allCases.filter((c) => c.goldPool);
  const goldAnswers = (await deps.objects.getJson<Record<string, { label: GoldAnswer }>>(
    deps.buckets.gold,
    goldSetObject(programId, protocol.protocolId),
  )) ?? {};
  const goldIds = goldPool.map((c) => c.caseId).filter((id) => goldAnswers[id] !== undefined);

  const shares = await sharesForRound(deps, { programId, protocol, round, workforces, actor: input.actor });
  const plan = planRound({ cases: pending, protocol, workforces, shares });
  const imageOf = new Map<string, string>(allCases.map((c) => [c.caseId, c.imageKey]));
  const now = deps.clock.now().toISOString();
  const batches: BatchRecord[] = [];
  const keys: BatchKey[] = [];
  const overlapIds = new Set(plan.overlaps.map((o) => o.caseId));
  const recentGold = new Map<string, string[][]>();
  for (const w of workforces) {
    const assigned: Case[] = plan.assignments[w.workforceId] ?? [];
    // A vendor on probation gets more gold; internal teams get none.
    const goldRate = w.kind !== 'vendor' ? 0 : w.status === 'probation' ? protocol.probation.goldRate : protocol.goldRate;
    const history = w.recentGold.slice(-protocol.goldReuseCap);
    splitIntoBatches(assigned, protocol.batchSize).forEach((chunk, k) => {
      const batchId = batchIdFor(programId, round, w.workforceId, k);
      const mixed = mixGoldItems({
        caseIds: chunk.map((c) => c.caseId),
        goldPool: w.kind === 'vendor' ? goldIds : [],
        goldRate,
        random: deps.random,
        // Gold reuse cap: none of the gold this vendor saw in its last N batches.
        recentGold: new Set(protocol.goldReuseCap > 0 ? history.slice(-protocol.goldReuseCap).flat() : []),
        overlap: overlapIds,
      });
      const gold = mixed.items.filter((i) => i.gold);
      history.push(gold.map((g) => g.caseId));
      keys.push({
        batchId,
        items: mixed.items.map((i) => ({ ...i, imageKey: imageOf.get(i.caseId)! })),
        answers: Object.fromEntries(gold.map((g) => [g.caseId, goldAnswers[g.caseId].label])),
      });
      batches.push({
        batchId,
        programId,
        round,
        protocol: ref,
        workforceId: w.workforceId,
        workforceKind: w.kind,
        itemCount: mixed.items.length,
        goldCount: gold.length,
        slaHours: w.slaHours,
        status: 'planned',
        createdAt: now,
      });
    });
    if (w.kind === 'vendor') recentGold.set(w.workforceId, history.slice(-Math.max(protocol.goldReuseCap, 1)));
  }

  // The round record lists every batch before any execution starts, so the
  // last batch to settle can tell that the round is complete.
  const roundCreated = await deps.repo.createRound({
    programId,
    protocolId: protocol.protocolId,
    round,
    batchIds: batches.map((b) => b.batchId),
    settledBatchIds: [],
    createdAt: now,
  });
  const round0 = await deps.repo.getRound(programId, round);
  const planned = new Set(round0?.batchIds ?? []);

  for (const [i, b] of batches.entries()) {
    if (!planned.has(b.batchId)) continue; // a retried dispatch keeps the first plan
    // Key first, then the batch: a retry after a crash finds the first key and keeps it.
    const stored = await deps.objects.getJson<BatchKey>(deps.buckets.gold, batchKeyObject(b.batchId));
    const key = stored ?? keys[i];
    if (!stored) await deps.objects.putJson(deps.buckets.gold, batchKeyObject(b.batchId), key);
    await deps.repo.createBatch(b);
    await deps.repo.setCaseState(programId, key.items.filter((x) => !x.gold).map((x) => x.caseId), 'assigned', b.batchId);
    await record(deps, {
      eventId: `${b.batchId}:dispatched`,
      programId,
      type: 'batch.dispatched',
      actor: input.actor,
      protocol: ref,
      subject: b.batchId,
      reason: `round ${round}: ${b.itemCount} items to ${b.workforceId}`,
      data: { workforceId: b.workforceId, items: b.itemCount, gold: b.goldCount },
    });
  }
  // Remember each vendor's recent gold (the reuse cap) before any execution starts.
  if (roundCreated === 'created') {
    for (const w of workforces) {
      const g = recentGold.get(w.workforceId);
      if (g) await deps.repo.putWorkforce(programId, { ...w, recentGold: g });
    }
  }
  for (const b of batches) {
    if (!planned.has(b.batchId)) continue;
    await deps.workflows.startBatch(b.batchId, batchExecutionInput(b, protocol));
  }

  const routing: Record<string, number> = {};
  for (const [w, cs] of Object.entries(plan.assignments)) routing[w] = cs.length;
  routing.excluded = plan.excluded.length;
  routing.deferred = plan.deferred.length;
  routing.overlap = plan.overlaps.length;
  routing.overflow = plan.overflowed.length;
  return {
    round,
    shares,
    routing,
    excluded: plan.excluded,
    deferred: plan.deferred,
    batches: batches.map((b) => ({ batchId: b.batchId, workforceId: b.workforceId, items: b.itemCount, gold: b.goldCount })),
    overlaps: plan.overlaps,
  };
}
