/**
 * A round's plan as chunk objects in the gold bucket (internal functions only):
 * `round-plans/<program>/r<round>/chunk-<i>.json`, each holding the full batch
 * keys (answers included) of at most ROUND_CHUNK_LIMITS batches. PlanRound
 * writes them before the plan's ledger event; from that event on they are the
 * plan, never planned again; DispatchChunk reads one and checks its SHA-256
 * against the round record.
 */
import { z } from 'zod';
import { chunkSha256 } from '../domain/index.js';
import { BatchKey, type DispatchedBatchKey } from './batch-key.js';
import { ConflictError, NotFoundError } from './errors.js';
import type { Deps } from './ports.js';

export const roundChunkObject = (programId: string, round: number, chunk: number): string =>
  `round-plans/${programId}/r${String(round).padStart(4, '0')}/chunk-${String(chunk).padStart(5, '0')}.json`;

export const RoundChunk = z.object({
  programId: z.string(),
  round: z.number().int().min(1),
  chunk: z.number().int().min(0),
  batches: z.array(BatchKey.extend({ answers: z.record(z.string(), z.unknown()) })),
});
/** A chunk as PlanRound writes it. */
export type RoundChunk = { programId: string; round: number; chunk: number; batches: DispatchedBatchKey[] };
/** A chunk as read back (parsed: every key complete). */
export type StoredRoundChunk = z.infer<typeof RoundChunk>;

/** Writes a chunk (overwritable until the plan's event names its digest); returns its SHA-256. */
export async function storeRoundChunk(deps: Deps, chunk: RoundChunk): Promise<string> {
  await deps.objects.putJson(deps.buckets.gold, roundChunkObject(chunk.programId, chunk.round, chunk.chunk), chunk);
  return chunkSha256(chunk);
}

/**
 * Reads chunk `i` of a round; with `sha256`, refuses a chunk whose content is
 * not the one the plan committed to.
 */
export async function loadRoundChunk(deps: Deps, programId: string, round: number, chunk: number, sha256?: string): Promise<StoredRoundChunk> {
  const raw = await deps.objects.getJson<unknown>(deps.buckets.gold, roundChunkObject(programId, round, chunk));
  if (raw === undefined) throw new NotFoundError(`chunk ${chunk} of round ${round} of program ${programId} not found`);
  if (sha256 !== undefined && chunkSha256(raw) !== sha256) {
    throw new ConflictError(`chunk ${chunk} of round ${round} of program ${programId} is not the chunk the round committed to (SHA-256 differs)`);
  }
  return RoundChunk.parse(raw);
}
