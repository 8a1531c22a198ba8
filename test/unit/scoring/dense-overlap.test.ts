/**
 * The word-wise counting kernels behind dense Dice/IoU (dense-overlap.ts)
 * against a voxel-by-voxel count written out here: odd lengths (not a multiple
 * of 4 or 8), masks at every byte offset (aligned, misaligned, misaligned
 * differently), multi-label maps, every label value, and runs long enough to
 * cross the accumulators' flush.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countOverlap, countPerLabel } from '../../../functions/domain/scoring/dense-overlap.js';
import { dice, dicePerLabel, iou, type Mask3D } from '../../../functions/domain/scoring/segmentation.js';

/** |A|, |B|, |A∩B| one voxel at a time: the definition. */
function reference(a: Uint8Array, b: Uint8Array, label?: number): { sizeA: number; sizeB: number; intersection: number } {
  const fg = (v: number): boolean => (label === undefined ? v !== 0 : v === label);
  let sizeA = 0;
  let sizeB = 0;
  let intersection = 0;
  for (let i = 0; i < a.length; i++) {
    if (fg(a[i])) sizeA++;
    if (fg(b[i])) sizeB++;
    if (fg(a[i]) && fg(b[i])) intersection++;
  }
  return { sizeA, sizeB, intersection };
}

/** `values` copied into a larger buffer at `offset` bytes: a Uint8Array whose byteOffset is `offset`. */
function at(values: Uint8Array, offset: number): Uint8Array {
  const backing = new Uint8Array(values.length + offset + 5).fill(0xaa); // neighbours that would count if read
  backing.set(values, offset);
  return backing.subarray(offset, offset + values.length);
}

/** Two label maps of one length, drawn from a small or the full label alphabet. */
const pairs = fc
  .record({
    length: fc.integer({ min: 0, max: 700 }),
    alphabet: fc.constantFrom(2, 4, 256),
    density: fc.constantFrom(0.05, 0.5, 0.97),
    seed: fc.integer(),
    offsetA: fc.integer({ min: 0, max: 3 }),
    offsetB: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ length, alphabet, density, seed, offsetA, offsetB }) => {
    let s = seed >>> 0;
    const next = (): number => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
    const draw = (): number => (next() < density ? 1 + Math.floor(next() * (alphabet - 1)) : 0);
    const a = Uint8Array.from({ length }, draw);
    const b = Uint8Array.from({ length }, (_, i) => (next() < 0.7 ? a[i] : draw()));
    return { a: at(a, offsetA), b: at(b, offsetB) };
  });

describe('Function: countOverlap', () => {
  it('counts exactly as voxel by voxel, at any length and byte offset, with and without a label', () => {
    fc.assert(
      fc.property(pairs, fc.integer({ min: 1, max: 255 }), ({ a, b }, label) => {
        expect(countOverlap(a, b)).toEqual(reference(a, b));
        expect(countOverlap(a, b, label)).toEqual(reference(a, b, label));
        expect(countOverlap(a, b, a.find((v) => v !== 0) ?? 1)).toEqual(reference(a, b, a.find((v) => v !== 0) ?? 1));
      }),
      { numRuns: 400 },
    );
  });

  it('tells every label value from every other (all 256 byte values in every lane)', () => {
    // Arrange: each value at each of the 4 lanes of a word, against a shifted copy
    const a = Uint8Array.from({ length: 256 * 4 + 3 }, (_, i) => i % 256);
    const b = Uint8Array.from(a, (v, i) => (i % 3 === 0 ? v : (v + 1) % 256));

    for (let label = 1; label <= 255; label++) expect(countOverlap(a, b, label)).toEqual(reference(a, b, label));
    expect(countOverlap(a, b)).toEqual(reference(a, b));
  });

  it('counts long all-foreground stretches without overflowing its byte lanes (flush every 126 words)', () => {
    const a = new Uint8Array(4 * 126 * 5 + 7).fill(255);
    const b = new Uint8Array(a.length).fill(3);

    expect(countOverlap(a, b)).toEqual({ sizeA: a.length, sizeB: a.length, intersection: a.length });
    expect(countOverlap(a, b, 255)).toEqual({ sizeA: a.length, sizeB: 0, intersection: 0 });
  });

  it('reads only its own voxels, whatever lies around them in the buffer', () => {
    const a = at(Uint8Array.of(1, 0, 1), 1);
    const b = at(Uint8Array.of(1, 1, 0), 2);

    expect(countOverlap(a, b)).toEqual({ sizeA: 2, sizeB: 2, intersection: 1 });
  });
});

describe('Function: countPerLabel', () => {
  it('counts every label exactly as voxel by voxel, at any length and byte offset', () => {
    fc.assert(
      fc.property(pairs, ({ a, b }) => {
        const counts = countPerLabel(a, b);
        for (let label = 1; label <= 255; label++) {
          const r = reference(a, b, label);
          expect([counts.a[label], counts.b[label], counts.both[label]]).toEqual([r.sizeA, r.sizeB, r.intersection]);
        }
        expect([counts.a[0], counts.b[0], counts.both[0]]).toEqual([0, 0, 0]);
      }),
      { numRuns: 200 },
    );
  });
});

describe('Dense Dice and IoU on masks at odd sizes and offsets', () => {
  it('equal the voxel-by-voxel formula, per label too, on a 7×5×3 multi-label pair stored misaligned', () => {
    // Arrange: 105 voxels (not a multiple of 4 or 8), a at byte offset 1, b at byte offset 2
    const n = 7 * 5 * 3;
    const la = Uint8Array.from({ length: n }, (_, i) => (i * 7) % 4);
    const lb = Uint8Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : (i * 7) % 4));
    const mask = (data: Uint8Array): Mask3D => ({ dims: [7, 5, 3], spacing: [1, 1, 1], data });
    const [a, b] = [mask(at(la, 1)), mask(at(lb, 2))];
    const r = reference(la, lb);

    // Act / Assert
    expect(dice(a, b).value).toBe((2 * r.intersection) / (r.sizeA + r.sizeB));
    expect(iou(a, b).value).toBe(r.intersection / (r.sizeA + r.sizeB - r.intersection));
    for (const [label, result] of dicePerLabel(a, b)) {
      const rl = reference(la, lb, label);
      expect(result.value).toBe((2 * rl.intersection) / (rl.sizeA + rl.sizeB));
      expect(dice(a, b, { label }).value).toBe(result.value);
    }
    expect([...dicePerLabel(a, b).keys()]).toEqual([1, 2, 3]);
  });
});
