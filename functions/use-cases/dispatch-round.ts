/**
 * Dispatch a round — primary course:
 * 1. Load the protocol version, workforces, pending cases and this round's shares
 *    (round 1: equal shares among active vendors, stored once).
 * 2. Plan the round (routing rules, shares, capacity).
 * 3. Per workforce, split into batches; vendor batches get hidden gold, aliases, shuffling.
 * 4. Write each batch's answer key (gold bucket); append `round.planned`; write
 *    the round record (the store's commit point); per batch, append
 *    `batch.dispatched`, then the batch record (conditional) and the case states.
 * 5. Start one lifecycle execution per batch (idempotent by name).
 */
import {
  type Case,
  type GoldAnswer,
  type ProtocolVersion,
  type Workforce,
  goldRateFor,
  mixGoldItems,
  planRound,
  protocolRef,
  routeCase,
  type RoutingDecision,
  type Shares,
  splitIntoBatches,
} from '../domain/index.js';
import { type DispatchedBatchKey, goldSetObject, loadBatchKey, storeBatchKey } from './batch-key.js';
import { ConflictError, InvalidInputError, NotFoundError } from './errors.js';
import { record } from './ledger.js';
import { recordProtocolRegistered } from './setup-program.js';
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
  /**
   * A retry after the commit point (the round record) reconciles the store with
   * it: the batch records it had to rebuild from their stored answer keys.
   */
  rebuiltBatchRecords: string[];
  /** A PM's explicit assignments (assignments.ts) this plan honoured, and those it could not, with why (absent on a retry). */
  assignments?: { honoured: { caseId: string; workforceId: string }[]; ignored: { caseId: string; workforceId: string; reason: string }[] };
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
  let stored = await deps.repo.getShares(programId, protocol.protocolId, round);
  if (!stored) {
    let shares: Shares;
    if (round === 1) {
      const vendors = ctx.workforces.filter((w) => w.kind === 'vendor' && w.status !== 'suspended');
      shares = Object.fromEntries(vendors.map((v) => [v.workforceId, Math.round((1 / vendors.length) * 10_000) / 10_000]));
      // The events first (the commit point), then the shares item.
      await recordInitialShares(deps, ctx, shares);
    } else {
      // No approved rebalancing for this round: the previous shares carry over (the ledger's projection carries them too).
      shares = (await deps.repo.getShares(programId, protocol.protocolId, round - 1)) ?? {};
    }
    await deps.repo.createShares(programId, protocol.protocolId, round, shares);
    stored = (await deps.repo.getShares(programId, protocol.protocolId, round))!;
  }
  // Initial shares are changes from nothing; re-appending them is a no-op.
  if (round === 1) await recordInitialShares(deps, ctx, stored);
  return stored;
}

async function recordInitialShares(
  deps: Deps,
  ctx: { programId: string; protocol: ProtocolVersion; round: number; actor: string },
  shares: Shares,
): Promise<void> {
  const reason = `initial equal shares among ${Object.keys(shares).length} active vendor(s)`;
  for (const [workforceId, to] of Object.entries(shares)) {
    await record(deps, {
      eventId: `${ctx.programId}:${ctx.protocol.protocolId}:r${ctx.round}:share:${workforceId}`,
      programId: ctx.programId,
      type: 'shares.changed',
      actor: ctx.actor,
      protocol: protocolRef(ctx.protocol),
      subject: workforceId,
      reason,
      data: { workforceId, from: 0, to, round: ctx.round },
    });
  }
}

/** The input of a batch's lifecycle execution: ids and the SLA, nothing else. */
export function batchExecutionInput(
  b: Pick<BatchRecord, 'batchId' | 'slaHours'>,
  protocol: Pick<ProtocolVersion, 'heartbeatHours'>,
): { batchId: string; slaSeconds: number; heartbeatSeconds: number } {
  const slaSeconds = Math.round(b.slaHours * 3600);
  // Step Functions wants the heartbeat window below the timeout; no heartbeat
  // set → the window is the SLA itself (only the SLA applies).
  const heartbeatSeconds = Math.min(Math.round((protocol.heartbeatHours ?? b.slaHours) * 3600), slaSeconds - 1);
  return { batchId: b.batchId, slaSeconds, heartbeatSeconds: Math.max(1, heartbeatSeconds) };
}

export const batchIdFor = (programId: string, round: number, workforceId: string, k: number): string =>
  `${programId}-r${round}-${workforceId}-${k + 1}`;

export async function dispatchRound(deps: Deps, input: DispatchRoundInput): Promise<DispatchRoundResult> {
  const { programId, round } = input;
  const protocol = await deps.repo.getProtocolVersion(input.protocolId, input.version);
  if (!protocol) throw new NotFoundError(`protocol ${input.protocolId}@${input.version} not found`);
  const ref = protocolRef(protocol);
  // The protocol version in this program's ledger (registered once per program: a no-op after the first round).
  await recordProtocolRegistered(deps, programId, protocol, input.actor);
  const workforces = await deps.repo.listWorkforces(programId);
  if (workforces.length === 0) throw new InvalidInputError(`program ${programId} has no workforces`);
  const allCases = await deps.repo.listCases(programId);
  const pending = allCases
    .filter((c) => c.state === 'pending' && !c.goldPool)
    .sort((a, b) => a.caseId.localeCompare(b.caseId))
    .slice(0, input.limit ?? Number.POSITIVE_INFINITY);
  const goldAnswers = (await deps.objects.getJson<Record<string, { label: GoldAnswer }>>(
    deps.buckets.gold,
    goldSetObject(programId, protocol.protocolId),
  )) ?? {};
  // Hidden gold obeys the same rules as work: only cases the protocol would send
  // to this vendor (routing, qualifications, de-identification gate) may be its gold.
  const goldCases = allCases.filter((c) => c.goldPool && goldAnswers[c.caseId] !== undefined);
  // An internal team's blind gold: any gold case the protocol does not exclude
  // whose qualifications it holds (vendor-routed cases need none of a vendor's).
  const goldFor = (w: Workforce): string[] =>
    goldCases
      .filter((c) => {
        const d = routeCase(c, protocol);
        if (w.kind !== 'vendor') return d.route.pool === 'vendor' || (d.route.pool === 'internal' && d.route.qualifications.every((q) => w.qualifications.includes(q)));
        return d.route.pool === 'vendor' && d.route.qualifications.every((q) => w.qualifications.includes(q));
      })
      .map((c) => c.caseId);

  const existing = await deps.repo.getRound(programId, round);
  if (existing && existing.protocolId !== protocol.protocolId) {
    throw new ConflictError(
      `round ${round} of program ${programId} was dispatched under protocol ${existing.protocolId}: one program runs one protocol`,
    );
  }
  const shares = await sharesForRound(deps, { programId, protocol, round, workforces, actor: input.actor });
  let planned: Pick<DispatchRoundResult, 'routing' | 'excluded' | 'deferred' | 'overlaps' | 'assignments'> | undefined;

  if (!existing) {
    const plan = planRound({ cases: pending, protocol, workforces, shares });
    const imageOf = new Map(allCases.map((c) => [c.caseId, c]));
    const now = deps.clock.now().toISOString();
    const keys: DispatchedBatchKey[] = [];
    const overlapIds = new Set(plan.overlaps.map((o) => o.caseId));
    for (const w of workforces) {
      const assigned: Case[] = plan.assignments[w.workforceId] ?? [];
      // A vendor on probation gets more gold; internal teams get blind gold at acceptance.internalGoldRate.
      const goldRate = goldRateFor(w, protocol);
      const history = w.recentGold.map((g) => g.caseIds);
      const seen = new Set(w.goldSeen);
      const pool = goldFor(w);
      splitIntoBatches(assigned, protocol.batchSize).forEach((chunk, k) => {
        const mixed = mixGoldItems({
          caseIds: chunk.map((c) => c.caseId),
          goldPool: pool,
          goldRate,
          random: deps.random,
          // Gold reuse cap: none of the gold this vendor saw in its last N batches.
          recentGold: new Set(protocol.goldReuseCap > 0 ? history.slice(-protocol.goldReuseCap).flat() : []),
          seenGold: seen,
          overlap: overlapIds,
          overlapSecondary: new Set(plan.overlaps.filter((o) => o.secondary === w.workforceId).map((o) => o.caseId)),
        });
        const gold = mixed.items.filter((i) => i.gold);
        history.push(gold.map((g) => g.caseId));
        for (const g of gold) seen.add(g.caseId);
        keys.push({
          batchId: batchIdFor(programId, round, w.workforceId, k),
          round,
          protocol: ref,
          workforceId: w.workforceId,
          workforceKind: w.kind,
          slaHours: w.slaHours,
          createdAt: now,
          items: mixed.items.map((i) => {
            const c = imageOf.get(i.caseId)!;
            return { ...i, imageKey: c.imageKey, ...(c.grid ? { grid: c.grid } : {}) };
          }),
          answers: Object.fromEntries(gold.map((g) => [g.caseId, goldAnswers[g.caseId].label])),
          ...(mixed.note ? { note: mixed.note } : {}),
        });
      });
    }
    // 1. Answer keys (overwritable until the round commits). 2. The round record:
    // the commit point. A retry after it rebuilds everything from the stored keys,
    // never from a new plan.
    // Each key as three objects: aliases (ingest, validation), key (cases), answers (scoring).
    for (const key of keys) await storeBatchKey(deps, key, { imageGrids: protocol.task.type !== 'classification' });
    const routing: Record<string, number> = {};
    for (const [w, cs] of Object.entries(plan.assignments)) routing[w] = cs.length;
    routing.excluded = plan.excluded.length;
    routing.deferred = plan.deferred.length;
    routing.overlap = plan.overlaps.length;
    routing.overflow = plan.overflowed.length;
    // The plan's event, then its record (the store's commit point); batch ids are
    // deterministic, so a retry before the round record re-plans the same batches.
    await record(deps, {
      eventId: `${programId}:${protocol.protocolId}:r${round}:planned`,
      programId,
      type: 'round.planned',
      actor: input.actor,
      protocol: ref,
      subject: `round ${round}`,
      reason: `round ${round}: ${keys.length} batch(es); ${Object.entries(routing)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
      data: {
        round,
        batches: keys.map((k) => ({ batchId: k.batchId, workforceId: k.workforceId, items: k.items.length, gold: k.items.filter((i) => i.gold).length })),
        routing,
      },
    });
    await deps.repo.createRound({
      programId,
      protocolId: protocol.protocolId,
      round,
      batchIds: keys.map((k) => k.batchId),
      settledBatchIds: [],
      createdAt: now,
    });
    planned = {
      routing,
      excluded: plan.excluded,
      deferred: plan.deferred,
      overlaps: plan.overlaps,
      ...(plan.explicit.length || plan.ignoredAssignments.length ? { assignments: { honoured: plan.explicit, ignored: plan.ignoredAssignments } } : {}),
    };
  }

  // From the commit point on, everything follows the stored round and keys.
  const committed = (await deps.repo.getRound(programId, round))!;
  const keys = await Promise.all(committed.batchIds.map((id) => loadBatchKey(deps, id)));
  const batches: BatchRecord[] = keys.map((k) => ({
    batchId: k.batchId,
    programId,
    round,
    protocol: k.protocol,
    workforceId: k.workforceId,
    workforceKind: k.workforceKind,
    itemCount: k.items.length,
    goldCount: k.items.filter((i) => i.gold).length,
    slaHours: k.slaHours,
    status: 'planned',
    createdAt: k.createdAt,
  }));
  // Reconcile with the commit point: every batch the round lists gets its batch
  // record (rebuilt from its answer key if a crash came first) and its execution.
  const rebuiltBatchRecords: string[] = [];
  const toStart: BatchRecord[] = [];
  for (const [i, b] of batches.entries()) {
    // The state of an overlap case follows its first copy.
    const own = keys[i].items.filter((x) => !x.gold && !x.overlapSecondary).map((x) => x.caseId);
    // The batch's event first (a repeat is a no-op), then its record and its cases.
    await record(deps, {
      eventId: `${b.batchId}:dispatched`,
      programId,
      type: 'batch.dispatched',
      actor: input.actor,
      protocol: ref,
      subject: b.batchId,
      reason: `round ${round}: ${b.itemCount} items to ${b.workforceId}${keys[i].note ? `; ${keys[i].note}` : ''}`,
      data: { workforceId: b.workforceId, items: b.itemCount, gold: b.goldCount, caseIds: own },
    });
    const created = (await deps.repo.createBatch(b)) === 'created';
    if (created && existing) rebuiltBatchRecords.push(b.batchId);
    const status = created ? 'planned' : (await deps.repo.getBatch(b.batchId))?.status;
    // A batch past `planned` has its execution (idempotent by name in AWS; the
    // embedded stack restarts lost ones itself, infra/local/resume.ts).
    if (status === 'planned') toStart.push(b);
    // Assign the cases only while the batch is open: a batch already closed may
    // have re-queued them, and they must not be pulled back into it.
    if (status === 'planned' || status === 'awaiting-submission') await deps.repo.assignCases(programId, own, b.batchId);
  }
  // Each workforce's recent gold (the reuse cap), by batch id: writing it again is a no-op.
  for (const w of workforces.filter((x) => x.kind === 'vendor' || keys.some((k) => k.workforceId === x.workforceId && k.items.some((i) => i.gold)))) {
    const mine = keys.filter((k) => k.workforceId === w.workforceId);
    if (mine.length === 0) continue;
    const ids = new Set(mine.map((k) => k.batchId));
    const recentGold = [
      ...w.recentGold.filter((g) => !ids.has(g.batchId)),
      ...mine.map((k) => ({ batchId: k.batchId, caseIds: k.items.filter((i) => i.gold).map((i) => i.caseId) })),
    ].slice(-Math.max(protocol.goldReuseCap, 1));
    const goldSeen = [...new Set([...w.goldSeen, ...mine.flatMap((k) => k.items.filter((i) => i.gold).map((i) => i.caseId))])].sort();
    await deps.repo.updateWorkforceGold(programId, w.workforceId, { recentGold, goldSeen });
  }
  for (const b of toStart) await deps.workflows.startBatch(b.batchId, batchExecutionInput(b, protocol));

  if (!planned) {
    const routing: Record<string, number> = {};
    for (const k of keys) routing[k.workforceId] = (routing[k.workforceId] ?? 0) + k.items.filter((i) => !i.gold).length;
    planned = { routing, excluded: [], deferred: [], overlaps: [] };
  }
  return {
    round,
    shares,
    ...planned,
    rebuiltBatchRecords,
    batches: batches.map((b) => ({ batchId: b.batchId, workforceId: b.workforceId, items: b.itemCount, gold: b.goldCount })),
  };
}
