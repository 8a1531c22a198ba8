/**
 * Reading a sharded ledger in time order (docs/data-model.md, "Ledger shards").
 *
 * Each shard is a chain numbered 1, 2, 3 … in the order its appends won their
 * conditional put. Across shards there is no shared counter (that counter would be
 * the hot key the shards remove), so each event carries `ord`: microseconds since
 * the epoch from a hybrid logical clock (the appender's wall clock, raised past
 * every `ord` the process has read or written, and past its shard's head). The
 * merge is a k-way merge by (ord, shard, seq); the legacy single-partition chain, all
 * of it appended before any shard, comes first in seq order.
 *
 * What "time order" means: within a shard, `ord` increases with `seq` (an append
 * takes `ord` above its head's), so a shard's order is its append order; events a
 * process appends one after another (causally dependent: the second is written after
 * the first was stored) are in that order, whatever their shards; so is an event
 * appended after its writer read another from the ledger. Events appended
 * concurrently by different processes with no such link are ordered by their clocks,
 * which may disagree by the clock skew (milliseconds on Lambda with Amazon Time
 * Sync): such events were concurrent, and either order is a true history. A reader
 * that must not miss a late-landing event uses a frontier (the last seq read per
 * chain), never an `ord` or a position in the merge, as its cursor.
 */
import { type ChainedLedgerEvent, chainOf, firstOccurrences } from './ledger-chain.js';

/** The last seq read (or folded) per chain: a position of a sharded ledger that a late-landing event cannot slip behind. */
export type LedgerFrontier = Record<string, number>;

/** Where an event is stored: its chain seq, and for a shard event its shard and time-order key. */
export type Placed = { seq: number; shard?: number; ord?: number };

/** Merge order: the legacy chain by seq first, then by (ord, shard, seq). */
export function compareLedgerOrder(a: Placed, b: Placed): number {
  const la = a.shard === undefined;
  const lb = b.shard === undefined;
  if (la || lb) return la && lb ? a.seq - b.seq : la ? -1 : 1;
  return (a.ord ?? 0) - (b.ord ?? 0) || (a.shard ?? 0) - (b.shard ?? 0) || a.seq - b.seq;
}

/**
 * The chains' events (each in seq order) as one time-ordered list, each eventId
 * once (its first occurrence in that order: a retried append lands later in the
 * same shard).
 *
 * @example mergeLedgerChains([shard0Events, shard1Events]).map((e) => e.eventId)
 */
export function mergeLedgerChains(chains: readonly (readonly ChainedLedgerEvent[])[]): ChainedLedgerEvent[] {
  return firstOccurrences(chains.flat().sort(compareLedgerOrder));
}

/** The frontier after these events: each chain's highest seq among them. */
export function frontierOf(events: readonly ChainedLedgerEvent[], start: LedgerFrontier = {}): LedgerFrontier {
  const f: LedgerFrontier = { ...start };
  for (const e of events) {
    const c = chainOf(e);
    if (e.seq > (f[c] ?? 0)) f[c] = e.seq;
  }
  return f;
}

/** Whether an event is at or behind a frontier (read, or folded, by whoever holds it). */
export const withinFrontier = (e: Placed, f: LedgerFrontier): boolean => e.seq <= (f[chainOf(e)] ?? 0);

