import { describe, expect, it } from 'vitest';
import { chunkSha256, planSha256, RoundChunker, splitIntoBatches, takeBatches } from '../../../functions/domain/index.js';

const batch = (id: string, items: number) => ({ id, items: Array.from({ length: items }, (_, i) => i) });

describe('Class: RoundChunker', () => {
  it('closes a chunk at the batch limit and at the item limit, keeping batches in order', () => {
    const chunker = new RoundChunker<ReturnType<typeof batch>>({ maxBatches: 2, maxItems: 100 });
    const closed = [batch('a', 40), batch('b', 40), batch('c', 70), batch('d', 40), batch('e', 10)].map((b) => chunker.add(b));
    const chunks = [...closed.filter((c) => c !== undefined), chunker.flush()].map((c) => c.map((b) => b.id));
    // a+b: 2 batches; c: c+d would be 110 items; d+e.
    expect(chunks).toEqual([['a', 'b'], ['c'], ['d', 'e']]);
  });

  it('gives a batch larger than the item limit a chunk of its own', () => {
    const chunker = new RoundChunker<ReturnType<typeof batch>>({ maxBatches: 50, maxItems: 10 });
    expect(chunker.add(batch('big', 25))).toBeUndefined();
    expect(chunker.add(batch('next', 1))?.map((b) => b.id)).toEqual(['big']);
    expect(chunker.flush().map((b) => b.id)).toEqual(['next']);
  });

  it('refuses limits below one', () => {
    expect(() => new RoundChunker({ maxBatches: 0, maxItems: 10 })).toThrow(RangeError);
  });
});

describe('Function: takeBatches', () => {
  it('splits a one-page round exactly as splitIntoBatches', () => {
    const cases = Array.from({ length: 113 }, (_, i) => i);
    expect(takeBatches([...cases], 60, true)).toEqual(splitIntoBatches(cases, 60));
  });

  it('takes only full batches before the last page, keeping between size and 2·size − 1 cases back', () => {
    const buffer = Array.from({ length: 250 }, (_, i) => i);
    const taken = takeBatches(buffer, 60, false);
    expect(taken.map((b) => b.length)).toEqual([60, 60, 60]);
    expect(buffer).toHaveLength(70);
    expect(taken.flat().concat(buffer)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(takeBatches(buffer, 60, false)).toEqual([]);
    expect(takeBatches(buffer, 60, true).map((b) => b.length)).toEqual([35, 35]);
  });
});

describe('Function: chunkSha256 and planSha256', () => {
  it('digest content, not key order, and depend on the order of chunks', () => {
    expect(chunkSha256({ a: 1, b: [1, 2] })).toBe(chunkSha256({ b: [1, 2], a: 1 }));
    expect(chunkSha256({ a: 1, b: [2, 1] })).not.toBe(chunkSha256({ a: 1, b: [1, 2] }));
    const [x, y] = [chunkSha256({ chunk: 0 }), chunkSha256({ chunk: 1 })];
    expect(planSha256([x, y])).not.toBe(planSha256([y, x]));
    expect(planSha256([x, y])).toMatch(/^[0-9a-f]{64}$/);
  });
});
