/**
 * Write sharding of hot partition keys (docs/data-model.md, "Keys that scale").
 * DynamoDB serves at most 1,000 WCU/s and 3,000 RCU/s per partition key (more
 * precisely per physical partition, which a hot key cannot be split beyond); a
 * key that every case of a round writes would cap a program's throughput there.
 * So the case items, the case-state index and the ledger spread over N shard
 * keys, the shard of an item fixed by a hash of its own id: a retry after a
 * crash writes the same key, and a reader that knows the id finds it in one
 * GetItem. Readers of "all of them" query the N shards and merge.
 */

/**
 * Case-item and case-state-index shards per program. At the planned peak of
 * 8,000 case writes/s across a program (a 100,000-case round dispatched by ten
 * concurrent chunks), each shard takes 500 writes/s: half the 1,000 WCU/s
 * partition limit, for items under 1 KB (1 WCU each).
 */
export const CASE_SHARDS = 16;

/**
 * Ledger shards per program: each a hash chain of its own (functions/domain/ledger-chain.ts).
 * A 100,000-case round appends about 6 MB of events (its batches' case lists twice:
 * dispatched and recorded), that is about 6,000 WCU; dispatched within 3 s on AWS that is
 * 2,000 WCU/s on one key, 250 WCU/s per shard with 8.
 */
export const LEDGER_SHARDS = 8;

const UTF8 = new TextEncoder();

/**
 * The shard of an id among `n`: FNV-1a (32 bit) of its UTF-8 bytes, modulo n.
 * Stable across processes and versions (changing it would move every item).
 *
 * @example shardOf('case-0042', 16) // the same number in every process, 0 ≤ it < 16
 */
export function shardOf(id: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`shard count must be a positive integer, got ${n}`);
  let h = 0x811c9dc5;
  for (const byte of UTF8.encode(id)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % n;
}

/** Shard numbers 0 … n-1 as fixed-width strings, so keys sort and read alike (`03`). */
export const shardLabel = (shard: number): string => String(shard).padStart(2, '0');
