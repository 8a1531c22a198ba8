/**
 * DispatchChunk — one Map iteration of a round's dispatch (workflows/round-dispatch.asl.json).
 * Primary course:
 * 1. Read the committed round record and the chunk's object (its SHA-256 must be
 *    the one the round committed to).
 * 2. Per batch: its key in three objects (aliases, key, answers), its
 *    `batch.dispatched` event, then its batch record (conditional create) and
 *    its cases (assigned while pending).
 * 3. Start each batch still `planned`, by its batch id (one execution per name).
 * Everything is idempotent: a re-run rewrites identical keys, appends no event
 * twice, creates no record twice and starts no execution twice.
 */
import { protocolRef, ROUND_CHUNK_LIMITS, type ProtocolVersion } from '../domain/index.js';
import { type BatchKey, type DispatchedBatchKey, loadBatchKey, storeBatchKey } from './batch-key.js';
import { ConflictError, NotFoundError } from './errors.js';
import { record } from './ledger.js';
import type { RoundChunkRef } from './plan-round.js';
import type { BatchRecord, Deps } from './ports.js';
import { loadRoundChunk } from './round-chunk-store.js';

export interface DispatchedChunk {
  chunk: number;
  batches: { batchId: string; workforceId: string; items: number; gold: number }[];
  /** Batches whose record a crash had left unwritten after the commit point (on a resumed round). */
  rebuiltBatchRecords: string[];
  /** Batches whose lifecycle execution this run started. */
  started: number;
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

/** Batch keys written this many at a time (three objects each). */
const KEY_WRITES_IN_FLIGHT = 8;

/**
 * Dispatches one chunk of a committed round.
 *
 * @example await dispatchRoundChunk(deps, { programId: 'p', protocolId: 'cxr', version: 1, round: 1, chunk: 0, actor: 'pm:ana', resumed: false });
 */
export async function dispatchRoundChunk(deps: Deps, ref: RoundChunkRef): Promise<DispatchedChunk> {
  const { programId, round, chunk } = ref;
  const protocol = await deps.repo.getProtocolVersion(ref.protocolId, ref.version);
  if (!protocol) throw new NotFoundError(`protocol ${ref.protocolId}@${ref.version} not found`);
  const committed = await deps.repo.getRound(programId, round);
  if (!committed) throw new NotFoundError(`round ${round} of program ${programId} has no round record: plan it first`);
  if (committed.protocolId !== protocol.protocolId) {
    throw new ConflictError(`round ${round} of program ${programId} was dispatched under protocol ${committed.protocolId}`);
  }
  let keys: BatchKey[];
  if (committed.chunkSha256s) {
    const digest = committed.chunkSha256s[chunk];
    if (digest === undefined) throw new NotFoundError(`round ${round} of program ${programId} has no chunk ${chunk}`);
    const stored = await loadRoundChunk(deps, programId, round, chunk, digest);
    for (let i = 0; i < stored.batches.length; i += KEY_WRITES_IN_FLIGHT) {
      const part = stored.batches.slice(i, i + KEY_WRITES_IN_FLIGHT);
      await Promise.all(part.map((k) => storeBatchKey(deps, k as DispatchedBatchKey, { imageGrids: protocol.task.type !== 'classification' })));
    }
    keys = stored.batches;
  } else {
    // A round dispatched before chunking: its answer keys were written before its round record.
    const ids = committed.batchIds.slice(chunk * ROUND_CHUNK_LIMITS.maxBatches, (chunk + 1) * ROUND_CHUNK_LIMITS.maxBatches);
    keys = await Promise.all(ids.map((id) => loadBatchKey(deps, id)));
  }

  const ref_ = protocolRef(protocol);
  const rebuiltBatchRecords: string[] = [];
  const toStart: BatchRecord[] = [];
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
  for (const [i, b] of batches.entries()) {
    // The state of an overlap case follows its first copy.
    const own = keys[i].items.filter((x) => !x.gold && !x.overlapSecondary).map((x) => x.caseId);
    // The batch's event first (a repeat is a no-op), then its record and its cases.
    await record(deps, {
      eventId: `${b.batchId}:dispatched`,
      programId,
      type: 'batch.dispatched',
      actor: ref.actor,
      protocol: ref_,
      subject: b.batchId,
      reason: `round ${round}: ${b.itemCount} items to ${b.workforceId}${keys[i].note ? `; ${keys[i].note}` : ''}`,
      data: { workforceId: b.workforceId, items: b.itemCount, gold: b.goldCount, caseIds: own },
    });
    const created = (await deps.repo.createBatch(b)) === 'created';
    if (created && ref.resumed) rebuiltBatchRecords.push(b.batchId);
    const status = created ? 'planned' : (await deps.repo.getBatch(b.batchId))?.status;
    // A batch past `planned` has its execution (idempotent by name in AWS; the
    // embedded stack restarts lost ones itself, infra/local/resume.ts).
    if (status === 'planned') toStart.push(b);
    // Assign the cases only while the batch is open: a batch already closed may
    // have re-queued them, and they must not be pulled back into it.
    if (status === 'planned' || status === 'awaiting-submission') await deps.repo.assignCases(programId, own, b.batchId);
  }
  for (const b of toStart) await deps.workflows.startBatch(b.batchId, batchExecutionInput(b, protocol));
  return {
    chunk,
    batches: batches.map((b) => ({ batchId: b.batchId, workforceId: b.workforceId, items: b.itemCount, gold: b.goldCount })),
    rebuiltBatchRecords,
    started: toStart.length,
  };
}
