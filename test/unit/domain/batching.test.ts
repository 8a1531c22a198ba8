import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { goldCountFor, mixGoldItems, splitIntoBatches } from '../../../functions/domain/batching.js';
import { BatchItem } from '../../../functions/domain/model/index.js';
import { seededRandomSource } from '../../../functions/domain/random.js';

/** Alphanumeric ids, as case ids may be: an alias built from one would show. */
const caseIds = (n: number, prefix = 'cxr'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(6, '0')}`);

describe('Function: splitIntoBatches', () => {
  it('returns ⌈n/size⌉ batches whose sizes differ by at most one', () => {
    // Act
    const batches = splitIntoBatches(caseIds(10), 4);

    // Assert
    expect(batches.map((b) => b.length)).toEqual([4, 3, 3]);
  });

  it('returns full batches when n is a multiple of the size', () => {
    expect(splitIntoBatches(caseIds(12), 4).map((b) => b.length)).toEqual([4, 4, 4]);
  });

  it('returns one batch when everything fits', () => {
    expect(splitIntoBatches(caseIds(3), 50)).toEqual([caseIds(3)]);
  });

  it('returns no batches for no items', () => {
    expect(splitIntoBatches([], 10)).toEqual([]);
  });

  it('returns batches of size 1 when the size is 1', () => {
    expect(splitIntoBatches(['a', 'b', 'c'], 1)).toEqual([['a'], ['b'], ['c']]);
  });

  it('returns near-equal batches no larger than the size that keep every item once, in order (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 60 }), (n, size) => {
        // Arrange
        const items = Array.from({ length: n }, (_, i) => i);

        // Act
        const batches = splitIntoBatches(items, size);

        // Assert
        expect(batches.flat()).toEqual(items);
        expect(batches).toHaveLength(Math.ceil(n / size));
        const sizes = batches.map((b) => b.length);
        if (n > 0) {
          expect(Math.max(...sizes)).toBeLessThanOrEqual(size);
          expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
          expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('Function: goldCountFor', () => {
  it('returns g so that gold is the given fraction of the whole batch', () => {
    // 90 real + 10 gold: 10 % of 100
    expect(goldCountFor(90, 0.1)).toBe(10);
    // 40 real + 10 gold: 20 % of 50
    expect(goldCountFor(40, 0.2)).toBe(10);
    // 9 real + 1 gold: 10 % of 10
    expect(goldCountFor(9, 0.1)).toBe(1);
  });

  it('returns the rounded count when the exact count is fractional', () => {
    // 10 × 0.1 / 0.9 = 1.11 → 1;  14 × 0.1 / 0.9 = 1.56 → 2
    expect(goldCountFor(10, 0.1)).toBe(1);
    expect(goldCountFor(14, 0.1)).toBe(2);
    // 3 × 0.1 / 0.9 = 0.33 → 0: a tiny batch may carry no gold
    expect(goldCountFor(3, 0.1)).toBe(0);
  });

  it('returns as many gold items as real ones at the maximum rate 0.5', () => {
    expect(goldCountFor(25, 0.5)).toBe(25);
  });

  it('returns 0 when the rate is 0', () => {
    expect(goldCountFor(100, 0)).toBe(0);
  });

  it('returns 0 for an empty batch', () => {
    expect(goldCountFor(0, 0.2)).toBe(0);
  });
});

describe('Function: mixGoldItems', () => {
  const pool = caseIds(40, 'gold');

  it('returns a batch whose gold fraction equals the protocol rate', () => {
    // Arrange
    const real = caseIds(18);

    // Act
    const { items, note } = mixGoldItems({ caseIds: real, goldPool: pool, goldRate: 0.1, random: seededRandomSource(1) });

    // Assert: 18 real + round(18 · 0.1 / 0.9) = 2 gold = 20 items, 10 % gold
    expect(items).toHaveLength(20);
    expect(items.filter((i) => i.gold)).toHaveLength(2);
    expect(items.filter((i) => i.gold).length / items.length).toBe(0.1);
    expect(note).toBeUndefined();
  });

  it('returns every real case once, marked not gold, and gold cases drawn from the pool', () => {
    // Arrange
    const real = caseIds(45);

    // Act
    const { items } = mixGoldItems({ caseIds: real, goldPool: pool, goldRate: 0.1, random: seededRandomSource(2) });

    // Assert
    expect(items.filter((i) => !i.gold).map((i) => i.caseId).sort()).toEqual([...real].sort());
    const gold = items.filter((i) => i.gold).map((i) => i.caseId);
    expect(gold).toHaveLength(5);
    for (const id of gold) expect(pool).toContain(id);
    expect(new Set(gold).size).toBe(gold.length);
  });

  it('returns no gold item that duplicates a real case of the same batch', () => {
    // Arrange: the pool overlaps the batch (an expert-labelled case was also planned)
    const real = caseIds(18);
    const overlapping = [...real.slice(0, 10), 'goldonly01', 'goldonly02'];

    // Act
    const { items, note } = mixGoldItems({ caseIds: real, goldPool: overlapping, goldRate: 0.1, random: seededRandomSource(3) });

    // Assert
    const gold = items.filter((i) => i.gold).map((i) => i.caseId);
    expect(gold.sort()).toEqual(['goldonly01', 'goldonly02']);
    expect(new Set(items.map((i) => i.caseId)).size).toBe(items.length);
    expect(note).toBeUndefined();
  });

  it('returns a note and the gold it could find when the pool is too small for the rate', () => {
    // Arrange: wants 2 gold; the pool has 3 ids but 2 are in the batch
    const real = caseIds(18);

    // Act
    const { items, note } = mixGoldItems({
      caseIds: real,
      goldPool: [real[0], real[1], 'goldonly01'],
      goldRate: 0.1,
      random: seededRandomSource(4),
    });

    // Assert
    expect(items.filter((i) => i.gold).map((i) => i.caseId)).toEqual(['goldonly01']);
    expect(note).toMatch(/^gold pool too small: 1 of 2 gold items/);
  });

  it('returns a note and only real items when the pool is empty', () => {
    const { items, note } = mixGoldItems({ caseIds: caseIds(9), goldPool: [], goldRate: 0.1, random: seededRandomSource(5) });
    expect(items.every((i) => !i.gold)).toBe(true);
    expect(note).toMatch(/^gold pool too small: 0 of 1 gold items/);
  });

  it('returns no gold and no note when the rate is 0', () => {
    const { items, note } = mixGoldItems({ caseIds: caseIds(9), goldPool: pool, goldRate: 0, random: seededRandomSource(5) });
    expect(items).toHaveLength(9);
    expect(items.some((i) => i.gold)).toBe(false);
    expect(note).toBeUndefined();
  });

  it('returns aliases that are unique, 12 characters, valid batch-item aliases and free of case ids', () => {
    // Arrange
    const real = caseIds(200);

    // Act
    const { items } = mixGoldItems({ caseIds: real, goldPool: pool, goldRate: 0.15, random: seededRandomSource(6) });

    // Assert
    const aliases = items.map((i) => i.alias);
    expect(new Set(aliases).size).toBe(items.length);
    for (const item of items) {
      expect(item.alias).toMatch(/^[a-z0-9]{12}$/);
      expect(BatchItem.safeParse(item).success).toBe(true);
      expect(item.alias).not.toContain(item.caseId);
      expect(item.alias).not.toContain(item.caseId.slice(-6));
    }
  });

  it('returns fresh aliases for the same cases in another batch', () => {
    // Act
    const first = mixGoldItems({ caseIds: caseIds(20), goldPool: [], goldRate: 0, random: seededRandomSource(10) });
    const second = mixGoldItems({ caseIds: caseIds(20), goldPool: [], goldRate: 0, random: seededRandomSource(11) });

    // Assert
    const aliasOf = (items: BatchItem[]) => new Map(items.map((i) => [i.caseId, i.alias]));
    const a = aliasOf(first.items);
    const b = aliasOf(second.items);
    expect(caseIds(20).filter((id) => a.get(id) === b.get(id))).toEqual([]);
  });

  it('returns a shuffled order, so neither the real cases nor the gold items sit where they came in', () => {
    // Arrange
    const real = caseIds(60);

    // Act
    const { items } = mixGoldItems({ caseIds: real, goldPool: pool, goldRate: 0.2, random: seededRandomSource(12) });

    // Assert
    const realOrder = items.filter((i) => !i.gold).map((i) => i.caseId);
    expect(realOrder).not.toEqual(real);
    const goldPositions = items.flatMap((i, k) => (i.gold ? [k] : []));
    const tail = Array.from({ length: goldPositions.length }, (_, k) => items.length - goldPositions.length + k);
    expect(goldPositions).not.toEqual(tail);
    expect(goldPositions).not.toEqual(tail.map((_, k) => k));
  });

  it('returns the identical batch for the same seed and a different one for another seed', () => {
    // Arrange
    const input = { caseIds: caseIds(30), goldPool: pool, goldRate: 0.1 };

    // Act
    const a = mixGoldItems({ ...input, random: seededRandomSource(42) });
    const b = mixGoldItems({ ...input, random: seededRandomSource(42) });
    const c = mixGoldItems({ ...input, random: seededRandomSource(43) });

    // Assert
    expect(b).toEqual(a);
    expect(c.items).not.toEqual(a.items);
  });

  it('returns gold at the rate, no duplicate case and unique aliases for any batch (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 0, max: 60 }),
        fc.constantFrom(0, 0.05, 0.1, 0.2, 0.5),
        fc.integer(),
        (n, poolSize, rate, seed) => {
          // Arrange: the pool partly overlaps the batch
          const real = caseIds(n);
          const goldPool = [...real.slice(0, 5), ...caseIds(poolSize, 'gold')];

          // Act
          const { items, note } = mixGoldItems({ caseIds: real, goldPool, goldRate: rate, random: seededRandomSource(seed) });

          // Assert
          const wanted = goldCountFor(n, rate);
          const gold = items.filter((i) => i.gold);
          expect(gold).toHaveLength(Math.min(wanted, poolSize));
          expect(note === undefined).toBe(poolSize >= wanted);
          expect(new Set(items.map((i) => i.caseId)).size).toBe(items.length);
          expect(new Set(items.map((i) => i.alias)).size).toBe(items.length);
          expect(items.filter((i) => !i.gold)).toHaveLength(n);
        },
      ),
      { numRuns: 200 },
    );
  });
});
