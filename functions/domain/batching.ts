/**
 * Batching: a workforce's cases become batches; vendor batches get hidden gold
 * items at the protocol's rate, random per-batch aliases, and a shuffled order,
 * so gold items look exactly like the rest.
 */
import type { BatchItem } from './model/index.js';
import { type RandomSource, shuffled } from './random.js';

/** Splits `items` into ⌈n/size⌉ batches of near-equal size (sizes differ by ≤ 1). */
export function splitIntoBatches<T>(items: readonly T[], size: number): T[][] {
  if (items.length === 0) return [];
  const count = Math.ceil(items.length / size);
  const base = Math.floor(items.length / count);
  const extra = items.length % count;
  const out: T[][] = [];
  let at = 0;
  for (let b = 0; b < count; b++) {
    const n = base + (b < extra ? 1 : 0);
    out.push(items.slice(at, at + n));
    at += n;
  }
  return out;
}

/**
 * How many gold items a batch of `realCount` cases gets so that gold makes up
 * `rate` of the batch: g = round(n·r/(1−r)).
 */
export const goldCountFor = (realCount: number, rate: number): number =>
  // The epsilon makes exact halves (86 × 0.2 / 0.8 = 21.5) round up despite float error.
  rate <= 0 ? 0 : Math.round((realCount * rate) / (1 - rate) + 1e-9);

export interface MixGoldInput {
  caseIds: readonly string[];
  /** Cases with expert labels that may serve as gold for this batch. */
  goldPool: readonly string[];
  goldRate: number;
  random: RandomSource;
  /** Gold cases this workforce saw recently (gold reuse cap): not drawn again. */
  recentGold?: ReadonlySet<string>;
  /**
   * Every gold case this workforce has ever been shown. A repeated image is a
   * tell (real cases never return to the same vendor, so anything seen twice is
   * gold): unseen gold is always drawn first.
   */
  seenGold?: ReadonlySet<string>;
  /** Cases that also go to another workforce (marked privately in the key). */
  overlap?: ReadonlySet<string>;
  /** Of those, the ones this batch holds as the second copy. */
  overlapSecondary?: ReadonlySet<string>;
}

export interface MixedBatch {
  items: BatchItem[];
  /** Set when the gold pool was too small for the rate. */
  note?: string;
}

/**
 * Mixes hidden gold into a batch. Gold cases are drawn without replacement from
 * the pool (never a case already in the batch); every item gets a fresh random
 * alias unique in the batch; the order is shuffled.
 *
 * @example mixGoldItems({ caseIds, goldPool, goldRate: 0.1, random }).items[0]
 *   // { alias: 'k3v9x2m7qa8d', caseId: 'case-0042', gold: false }
 */
export function mixGoldItems(input: MixGoldInput): MixedBatch {
  const { caseIds, goldRate, random } = input;
  const inBatch = new Set(caseIds);
  const pool = input.goldPool.filter((id) => !inBatch.has(id) && !input.recentGold?.has(id));
  const wanted = goldCountFor(caseIds.length, goldRate);
  const order = shuffled(pool, random);
  const unseen = order.filter((id) => !input.seenGold?.has(id));
  const gold = [...unseen, ...order.filter((id) => input.seenGold?.has(id))].slice(0, wanted);
  const reused = gold.filter((id) => input.seenGold?.has(id)).length;
  const aliases = new Set<string>();
  const alias = (): string => {
    for (;;) {
      const a = random.token(12);
      if (!aliases.has(a)) {
        aliases.add(a);
        return a;
      }
    }
  };
  const items: BatchItem[] = shuffled(
    [
      ...caseIds.map((caseId) => ({
        caseId,
        gold: false,
        overlap: input.overlap?.has(caseId) ?? false,
        overlapSecondary: input.overlapSecondary?.has(caseId) ?? false,
      })),
      ...gold.map((caseId) => ({ caseId, gold: true, overlap: false, overlapSecondary: false })),
    ],
    random,
  ).map((x) => ({ alias: alias(), ...x }));
  const notes: string[] = [];
  if (gold.length < wanted) notes.push(`gold pool too small: ${gold.length} of ${wanted} gold items (after the reuse cap)`);
  if (reused > 0) {
    notes.push(`${reused} gold item(s) this workforce has seen before: the unseen gold pool is exhausted, and a repeated image can tell gold apart — add gold cases`);
  }
  return notes.length ? { items, note: notes.join('; ') } : { items };
}
