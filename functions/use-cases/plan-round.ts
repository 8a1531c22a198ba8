/**
 * PlanRound — the first step of a round's dispatch (workflows/round-dispatch.asl.json).
 * Primary course:
 * 1. Load the protocol version, workforces, this round's shares (round 1: equal
 *    shares among active vendors, stored once) and the program's gold pool.
 * 2. Plan page by page of pending cases (PLAN_PAGE_CASES; capacity carried from
 *    page to page); per workforce, form batches, mix hidden gold, draw aliases.
 * 3. Group the batches into chunks (ROUND_CHUNK_LIMITS) and write each chunk's
 *    object as soon as it is full (gold bucket: round-plans/…).
 * 4. Append `round.planned` (a summary and the plan's SHA-256), then write the
 *    round record with every batch id and each chunk's SHA-256: the commit point.
 * 5. Record each workforce's gold history (the reuse cap) for the next round.
 * Returns the chunks to dispatch (DispatchChunk, one per Map iteration).
 *
 * A retry never plans again once `round.planned` is in the ledger: it rebuilds
 * the round record from the stored chunks (their digests must give the event's
 * plan SHA-256). Before that event nothing refers to the chunk objects, and a
 * retry may plan afresh over them.
 */
import {
  type Case,
  type GoldAnswer,
  goldRateFor,
  initialShares,
  mixGoldItems,
  PLAN_PAGE_CASES,
  planUnderControls,
  planSha256,
  protocolRef,
  ROUND_CHUNK_LIMITS,
  RoundChunker,
  type ChunkLimits,
  type ProtocolVersion,
  type RoutingDecision,
  routeCase,
  type Shares,
  takeBatches,
  type Workforce,
  caseCapacity,
  chunkSha256,
} from '../domain/index.js';
import { batchKeyOf, type DispatchedBatchKey, goldSetObject } from './batch-key.js';
import { ConflictError, InvalidInputError, NotFoundError } from './errors.js';
import { planControls } from './exams.js';
import { record } from './ledger.js';
import { goldPoolCases, pendingPages } from './pending-cases.js';
import type { Deps, RoundRecord } from './ports.js';
import { loadRoundChunk, type RoundChunk, type StoredRoundChunk, storeRoundChunk } from './round-chunk-store.js';
import { recordProtocolRegistered } from './setup-program.js';

export interface DispatchRoundInput {
  programId: string;
  protocolId: string;
  version: number;
  round: number;
  /** Dispatch at most this many pending cases (oldest first). */
  limit?: number;
  /** Batches per chunk, at most ROUND_CHUNK_LIMITS.maxBatches (smaller: more, shorter DispatchChunk invocations). */
  chunkBatches?: number;
  actor: string;
}

/** How many of each list a plan's answer carries (the counts are always whole): a state's payload stays small. */
export const PLAN_LIST_CAP = 200;

/** One Map iteration's input: which chunk of which round to dispatch. */
export interface RoundChunkRef {
  programId: string;
  protocolId: string;
  version: number;
  round: number;
  chunk: number;
  actor: string;
  /** The round record was there before this dispatch: batch records found missing are reported as rebuilt. */
  resumed: boolean;
}

export interface PlannedRound {
  programId: string;
  round: number;
  shares: Shares;
  /** Real cases per workforce, and excluded / deferred / overlap / overflow counts. */
  routing: Record<string, number>;
  batchCount: number;
  chunks: RoundChunkRef[];
  /** The first PLAN_LIST_CAP of each (all of them for a round this small); empty on a retry after the commit point. */
  excluded: RoutingDecision[];
  deferred: { caseId: string; reason: string }[];
  overlaps: { caseId: string; primary: string; secondary: string }[];
  assignments?: { honoured: { caseId: string; workforceId: string }[]; ignored: { caseId: string; workforceId: string; reason: string }[] };
}

export const batchIdFor = (programId: string, round: number, workforceId: string, k: number): string =>
  `${programId}-r${round}-${workforceId}-${k + 1}`;

export const roundPlannedEventId = (programId: string, protocolId: string, round: number): string => `${programId}:${protocolId}:r${round}:planned`;

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
      shares = initialShares(ctx.workforces);
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

/** What the plan leaves behind in memory: ids and counts, never a chunk's batches. */
interface PlanTally {
  batchIds: string[];
  chunkDigests: string[];
  /** Per workforce, each batch's gold case ids (the reuse cap and the gold seen). */
  gold: Map<string, { batchId: string; caseIds: string[] }[]>;
  items: number;
  goldItems: number;
}

function tallyChunk(t: PlanTally, chunk: Pick<RoundChunk, 'batches'> | Pick<StoredRoundChunk, 'batches'>, digest: string): void {
  t.chunkDigests.push(digest);
  for (const b of chunk.batches) {
    t.batchIds.push(b.batchId);
    const caseIds = b.items.filter((i) => i.gold).map((i) => i.caseId);
    t.items += b.items.length;
    t.goldItems += caseIds.length;
    const list = t.gold.get(b.workforceId) ?? [];
    list.push({ batchId: b.batchId, caseIds });
    t.gold.set(b.workforceId, list);
  }
}

const newTally = (): PlanTally => ({ batchIds: [], chunkDigests: [], gold: new Map(), items: 0, goldItems: 0 });

/**
 * Plans (or, past its event, recovers) a round and commits it.
 *
 * @example const plan = await planRoundChunks(deps, { programId: 'p', protocolId: 'cxr', version: 1, round: 1, actor: 'pm:ana' });
 */
export async function planRoundChunks(
  deps: Deps,
  input: DispatchRoundInput,
  tuning: { chunk?: ChunkLimits; pageCases?: number } = {},
): Promise<PlannedRound> {
  const { programId, round } = input;
  const chunkLimits = tuning.chunk ?? ROUND_CHUNK_LIMITS;
  const limits: ChunkLimits = { ...chunkLimits, maxBatches: Math.min(chunkLimits.maxBatches, input.chunkBatches ?? chunkLimits.maxBatches) };
  const protocol = await deps.repo.getProtocolVersion(input.protocolId, input.version);
  if (!protocol) throw new NotFoundError(`protocol ${input.protocolId}@${input.version} not found`);
  const ref = protocolRef(protocol);
  // The protocol version in this program's ledger (registered once per program: a no-op after the first round).
  await recordProtocolRegistered(deps, programId, protocol, input.actor);
  const workforces = await deps.repo.listWorkforces(programId);
  if (workforces.length === 0) throw new InvalidInputError(`program ${programId} has no workforces`);
  const existing = await deps.repo.getRound(programId, round);
  if (existing && existing.protocolId !== protocol.protocolId) {
    throw new ConflictError(
      `round ${round} of program ${programId} was dispatched under protocol ${existing.protocolId}: one program runs one protocol`,
    );
  }
  const shares = await sharesForRound(deps, { programId, protocol, round, workforces, actor: input.actor });
  const eventId = roundPlannedEventId(programId, protocol.protocolId, round);
  const chunkRefs = (n: number): RoundChunkRef[] =>
    Array.from({ length: n }, (_, chunk) => ({
      programId,
      protocolId: input.protocolId,
      version: input.version,
      round,
      chunk,
      actor: input.actor,
      resumed: existing !== undefined,
    }));

  if (existing) {
    // Committed: everything follows the stored round. (A round dispatched before chunking: its batches in chunks of the limit.)
    const planned = await deps.repo.getLedgerEvent(programId, eventId);
    const routing = planned?.type === 'round.planned' ? planned.data.routing : {};
    const chunks = existing.chunkSha256s?.length ?? Math.ceil(existing.batchIds.length / limits.maxBatches);
    const tally = await tallyStoredChunks(deps, existing, chunks);
    await recordGoldHistory(deps, { programId, protocol, workforces, tally });
    return { programId, round, shares, routing, batchCount: existing.batchIds.length, chunks: chunkRefs(chunks), excluded: [], deferred: [], overlaps: [] };
  }

  const planned = await deps.repo.getLedgerEvent(programId, eventId);
  if (planned?.type === 'round.planned' && planned.data.chunks !== undefined && planned.data.planSha256 !== undefined) {
    // Planned, not committed (a crash between the event and the round record): the stored chunks are the plan.
    const tally = newTally();
    for (let i = 0; i < planned.data.chunks; i++) {
      const chunk = await loadRoundChunk(deps, programId, round, i);
      tallyChunk(tally, chunk, chunkSha256(chunk));
    }
    if (planSha256(tally.chunkDigests) !== planned.data.planSha256) {
      throw new ConflictError(`the stored chunks of round ${round} of program ${programId} are not the plan its round.planned event names`);
    }
    await commitRound(deps, { programId, protocolId: protocol.protocolId, round, tally, now: deps.clock.now().toISOString() });
    await recordGoldHistory(deps, { programId, protocol, workforces, tally });
    return {
      programId,
      round,
      shares,
      routing: planned.data.routing,
      batchCount: tally.batchIds.length,
      chunks: chunkRefs(tally.chunkDigests.length),
      excluded: [],
      deferred: [],
      overlaps: [],
    };
  }

  // ---- Plan afresh ------------------------------------------------------
  const goldCases = await goldPoolCases(deps, programId);
  const goldAnswers =
    (await deps.objects.getJson<Record<string, { label: GoldAnswer }>>(deps.buckets.gold, goldSetObject(programId, protocol.protocolId))) ?? {};
  const answered = goldCases.filter((c) => goldAnswers[c.caseId] !== undefined);
  const imageOfGold = new Map(answered.map((c) => [c.caseId, c]));
  // Hidden gold obeys the same rules as work: only cases the protocol would send
  // to this vendor (routing, qualifications, de-identification gate) may be its gold.
  // An internal team's blind gold: any gold case the protocol does not exclude
  // whose qualifications it holds (vendor-routed cases need none of a vendor's).
  const goldFor = (w: Workforce): string[] =>
    answered
      .filter((c) => {
        const d = routeCase(c, protocol);
        if (w.kind !== 'vendor') return d.route.pool === 'vendor' || (d.route.pool === 'internal' && d.route.qualifications.every((q) => w.qualifications.includes(q)));
        return d.route.pool === 'vendor' && d.route.qualifications.every((q) => w.qualifications.includes(q));
      })
      .map((c) => c.caseId);

  const controls = await planControls(deps, programId, protocol, workforces);
  const now = deps.clock.now().toISOString();
  const capacityLeft: Record<string, number> = Object.fromEntries(workforces.map((w) => [w.workforceId, caseCapacity(w, protocol)]));
  const buffers = new Map<string, Case[]>(workforces.map((w) => [w.workforceId, []]));
  const mixing = new Map(
    workforces.map((w) => [w.workforceId, { k: 0, pool: goldFor(w), history: w.recentGold.map((g) => g.caseIds), seen: new Set(w.goldSeen) }]),
  );
  const routing: Record<string, number> = Object.fromEntries(workforces.map((w) => [w.workforceId, 0]));
  const counts = { excluded: 0, deferred: 0, overlap: 0, overflow: 0 };
  const lists: Pick<PlannedRound, 'excluded' | 'deferred' | 'overlaps'> & { honoured: { caseId: string; workforceId: string }[]; ignored: { caseId: string; workforceId: string; reason: string }[] } = {
    excluded: [],
    deferred: [],
    overlaps: [],
    honoured: [],
    ignored: [],
  };
  const keep = <T>(to: T[], from: readonly T[]) => to.push(...from.slice(0, Math.max(0, PLAN_LIST_CAP - to.length)));
  // Overlap cases of the round so far (a case may wait in a buffer for a later page's batch).
  const overlapIds = new Set<string>();
  const secondaries = new Map(workforces.map((w) => [w.workforceId, new Set<string>()]));
  const chunker = new RoundChunker<DispatchedBatchKey>(limits);
  const tally = newTally();
  const writeChunk = async (batches: DispatchedBatchKey[]) => {
    if (batches.length === 0) return;
    const chunk: RoundChunk = { programId, round, chunk: tally.chunkDigests.length, batches };
    tallyChunk(tally, chunk, await storeRoundChunk(deps, chunk));
  };

  for await (const { cases: page, last } of pendingPages(deps, programId, input.limit, tuning.pageCases ?? PLAN_PAGE_CASES)) {
    // A PM's controls (exams.ts, manual-control.ts): unqualified workforces get no production work; share caps hold per page.
    const plan = planUnderControls({ cases: page, protocol, workforces, shares, capacityLeft }, controls);
    for (const [w, cs] of Object.entries(plan.assignments)) {
      routing[w] = (routing[w] ?? 0) + cs.length;
      capacityLeft[w] = (capacityLeft[w] ?? 0) - cs.length;
      buffers.get(w)?.push(...cs);
    }
    counts.excluded += plan.excluded.length;
    counts.deferred += plan.deferred.length;
    counts.overlap += plan.overlaps.length;
    counts.overflow += plan.overflowed.length;
    keep(lists.excluded, plan.excluded);
    keep(lists.deferred, plan.deferred);
    keep(lists.overlaps, plan.overlaps);
    keep(lists.honoured, plan.explicit);
    keep(lists.ignored, plan.ignoredAssignments);
    for (const o of plan.overlaps) {
      overlapIds.add(o.caseId);
      secondaries.get(o.secondary)?.add(o.caseId);
    }
    const pageCases = new Map(page.map((c) => [c.caseId, c]));
    for (const w of workforces) {
      const m = mixing.get(w.workforceId)!;
      // A vendor on probation gets more gold; internal teams get blind gold at acceptance.internalGoldRate.
      const goldRate = goldRateFor(w, protocol);
      for (const cases of takeBatches(buffers.get(w.workforceId)!, protocol.batchSize, last)) {
        const mixed = mixGoldItems({
          caseIds: cases.map((c) => c.caseId),
          goldPool: m.pool,
          goldRate,
          random: deps.random,
          // Gold reuse cap: none of the gold this vendor saw in its last N batches.
          recentGold: new Set(protocol.goldReuseCap > 0 ? m.history.slice(-protocol.goldReuseCap).flat() : []),
          seenGold: m.seen,
          overlap: overlapIds,
          overlapSecondary: secondaries.get(w.workforceId),
        });
        const gold = mixed.items.filter((i) => i.gold);
        m.history.push(gold.map((g) => g.caseId));
        if (m.history.length > protocol.goldReuseCap + 1) m.history.splice(0, m.history.length - protocol.goldReuseCap - 1);
        for (const g of gold) m.seen.add(g.caseId);
        const byId = new Map(cases.map((c) => [c.caseId, c]));
        const key = batchKeyOf({
          batchId: batchIdFor(programId, round, w.workforceId, m.k++),
          round,
          protocol: ref,
          workforce: w,
          createdAt: now,
          items: mixed.items,
          caseOf: (id) => byId.get(id) ?? pageCases.get(id) ?? imageOfGold.get(id)!,
          answers: Object.fromEntries(gold.map((g) => [g.caseId, goldAnswers[g.caseId].label])),
          note: mixed.note,
        });
        const closed = chunker.add(key);
        if (closed) await writeChunk(closed);
      }
    }
  }
  await writeChunk(chunker.flush());

  Object.assign(routing, counts);
  const digest = planSha256(tally.chunkDigests);
  // The plan's event (a summary and the plan's digest), then its record (the store's commit point).
  await record(deps, {
    eventId,
    programId,
    type: 'round.planned',
    actor: input.actor,
    protocol: ref,
    subject: `round ${round}`,
    reason: `round ${round}: ${tally.batchIds.length} batch(es) in ${tally.chunkDigests.length} chunk(s); ${Object.entries(routing)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
    data: { round, routing, batchCount: tally.batchIds.length, items: tally.items, gold: tally.goldItems, chunks: tally.chunkDigests.length, planSha256: digest },
  });
  await commitRound(deps, { programId, protocolId: protocol.protocolId, round, tally, now });
  await recordGoldHistory(deps, { programId, protocol, workforces, tally });
  return {
    programId,
    round,
    shares,
    routing,
    batchCount: tally.batchIds.length,
    chunks: chunkRefs(tally.chunkDigests.length),
    excluded: lists.excluded,
    deferred: lists.deferred,
    overlaps: lists.overlaps,
    ...(lists.honoured.length || lists.ignored.length ? { assignments: { honoured: lists.honoured, ignored: lists.ignored } } : {}),
  };
}

async function commitRound(deps: Deps, r: { programId: string; protocolId: string; round: number; tally: PlanTally; now: string }): Promise<void> {
  await deps.repo.createRound({
    programId: r.programId,
    protocolId: r.protocolId,
    round: r.round,
    batchIds: r.tally.batchIds,
    settledBatchIds: [],
    createdAt: r.now,
    chunkSha256s: r.tally.chunkDigests,
  });
}

/** Re-reads a committed round's chunks for the gold they hold (a retry after the commit point). */
async function tallyStoredChunks(deps: Deps, round: RoundRecord, chunks: number): Promise<PlanTally> {
  const tally = newTally();
  if (!round.chunkSha256s) return tally; // dispatched before chunking: that dispatch recorded its gold
  for (let i = 0; i < chunks; i++) {
    const chunk = await loadRoundChunk(deps, round.programId, round.round, i, round.chunkSha256s[i]);
    tallyChunk(tally, chunk, round.chunkSha256s[i]);
  }
  return tally;
}

/** Each workforce's recent gold (the reuse cap) and the gold it has seen, by batch id: writing it again is a no-op. */
async function recordGoldHistory(
  deps: Deps,
  ctx: { programId: string; protocol: ProtocolVersion; workforces: readonly Workforce[]; tally: PlanTally },
): Promise<void> {
  for (const w of ctx.workforces) {
    const mine = ctx.tally.gold.get(w.workforceId) ?? [];
    if (mine.length === 0 || (w.kind !== 'vendor' && !mine.some((b) => b.caseIds.length > 0))) continue;
    const ids = new Set(mine.map((b) => b.batchId));
    const recentGold = [...w.recentGold.filter((g) => !ids.has(g.batchId)), ...mine].slice(-Math.max(ctx.protocol.goldReuseCap, 1));
    const goldSeen = [...new Set([...w.goldSeen, ...mine.flatMap((b) => b.caseIds)])].sort();
    await deps.repo.updateWorkforceGold(ctx.programId, w.workforceId, { recentGold, goldSeen });
  }
}
