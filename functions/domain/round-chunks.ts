/**
 * Rounds of any size: a round's batches are formed page by page of pending
 * cases and grouped into chunks, each small enough for one Lambda invocation
 * to dispatch well within its limits. Pure: no I/O, no clock, no randomness.
 *
 * Budget per chunk (docs/scale.md): at most 50 batches and 3,000 items. A chunk
 * is about 3,000 case-state writes, 150 batch-key objects, 100 ledger appends,
 * 50 batch records and 50 execution starts — measured at about a minute on the
 * embedded stack, against Lambda's 15 minutes; its object is under 1 MB (a
 * 3,000-item chunk with 64-character ids and image keys is about 0.9 MB),
 * against Lambda's 10 GB of memory and Step Functions' 256 KB payload, which a
 * chunk never passes through (only its number does).
 */
import { createHash } from 'node:crypto';
import { splitIntoBatches } from './batching.js';
import { canonicalJson } from './ledger-chain.js';

export interface ChunkLimits {
  /** Batches per chunk (a chunk always takes at least one batch, however large). */
  maxBatches: number;
  /** Items (real cases and hidden gold) per chunk. */
  maxItems: number;
}

export const ROUND_CHUNK_LIMITS: ChunkLimits = { maxBatches: 50, maxItems: 3_000 };

/**
 * Pending cases planned together: the round's shares and capacities apply to
 * each page with what earlier pages used subtracted, so memory stays flat in
 * the round's size. A round of at most this many cases is planned in one page,
 * exactly as before paging.
 */
export const PLAN_PAGE_CASES = 10_000;

/**
 * Groups batches, in order, into chunks within `limits`.
 *
 * @example const c = new RoundChunker({ maxBatches: 2, maxItems: 100 }); c.add(b1); c.add(b2); c.add(b3) // → [b1, b2]
 */
export class RoundChunker<T extends { items: readonly unknown[] }> {
  private current: T[] = [];
  private items = 0;

  constructor(private readonly limits: ChunkLimits = ROUND_CHUNK_LIMITS) {
    if (limits.maxBatches < 1 || limits.maxItems < 1) throw new RangeError('chunk limits must be at least 1');
  }

  /** Adds a batch; returns the chunk it closed (the batches before it) when it did not fit. */
  add(batch: T): T[] | undefined {
    const fits =
      this.current.length === 0 ||
      (this.current.length < this.limits.maxBatches && this.items + batch.items.length <= this.limits.maxItems);
    const closed = fits ? undefined : this.flush();
    this.current.push(batch);
    this.items += batch.items.length;
    return closed;
  }

  /** The open chunk (possibly empty), which is closed by this call. */
  flush(): T[] {
    const out = this.current;
    this.current = [];
    this.items = 0;
    return out;
  }
}

/**
 * The batches a workforce's buffered cases make now. On the last page, all of
 * them, split evenly (splitIntoBatches); before it, only full batches of
 * `size`, keeping between `size` and `2·size − 1` cases back, so the round's
 * last batches are split as evenly as an unpaged plan would split them.
 */
export function takeBatches<T>(buffer: T[], size: number, last: boolean): T[][] {
  if (last) return splitIntoBatches(buffer.splice(0, buffer.length), size);
  const full = Math.floor(buffer.length / size) - 1;
  if (full < 1) return [];
  const taken = buffer.splice(0, full * size);
  const out: T[][] = [];
  for (let i = 0; i < taken.length; i += size) out.push(taken.slice(i, i + size));
  return out;
}

/** SHA-256 (hex) of a chunk's canonical JSON: what the round record and the ledger hold of it. */
export const chunkSha256 = (chunk: unknown): string => createHash('sha256').update(canonicalJson(chunk)).digest('hex');

/** SHA-256 (hex) of a plan: its chunks' digests in order, one a line. */
export const planSha256 = (chunkDigests: readonly string[]): string =>
  createHash('sha256').update(chunkDigests.join('\n')).digest('hex');
