/**
 * labelRuns (one pass, word-wise) against foregroundRuns label by label, the
 * encoding encodeRle3dLabels used before: odd lengths, every byte offset,
 * multi-label maps with short and long runs, a run at either end.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { labelRuns } from '../../../functions/domain/scoring/label-runs.js';
import { encodeRle3dLabels } from '../../../functions/domain/scoring/mask-io.js';
import { foregroundRuns, type Mask3D } from '../../../functions/domain/scoring/segmentation.js';

/** Runs of each label present, one foregroundRuns pass per label. */
function reference(data: Uint8Array): Map<number, number[]> {
  const mask: Mask3D = { dims: [data.length, 1, 1], spacing: [1, 1, 1], data: new Uint8Array(data) };
  const out = new Map<number, number[]>();
  for (const label of [...new Set(data)].filter((v) => v !== 0).sort((x, y) => x - y)) {
    out.set(label, Array.from(foregroundRuns(mask, label)));
  }
  return out;
}

const plain = (m: Map<number, Uint32Array>): Map<number, number[]> => new Map([...m].map(([l, r]) => [l, Array.from(r)]));

/** Label maps made of runs (lengths 1..40) of a few labels, stored at a byte offset 0..3. */
const labelMaps = fc
  .record({
    runs: fc.array(fc.tuple(fc.constantFrom(0, 0, 1, 2, 7, 255), fc.integer({ min: 1, max: 40 })), { maxLength: 60 }),
    offset: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ runs, offset }) => {
    const values = runs.flatMap(([label, length]) => Array<number>(length).fill(label));
    const backing = new Uint8Array(values.length + offset + 3).fill(9); // neighbours that would show if read
    backing.set(values, offset);
    return backing.subarray(offset, offset + values.length);
  });

describe('Function: labelRuns', () => {
  it('gives every label the runs foregroundRuns gives it, at any length and byte offset', () => {
    fc.assert(
      fc.property(labelMaps, (data) => {
        expect(plain(labelRuns(data))).toEqual(reference(data));
      }),
      { numRuns: 400 },
    );
  });

  it('closes runs at both ends and at every label change inside a word', () => {
    const data = Uint8Array.of(3, 3, 1, 2, 2, 0, 0, 0, 0, 0, 5);

    expect(plain(labelRuns(data))).toEqual(
      new Map([
        [1, [2, 1]],
        [2, [3, 2]],
        [3, [0, 2]],
        [5, [10, 1]],
      ]),
    );
    expect(labelRuns(new Uint8Array(9)).size).toBe(0);
  });

  it('backs encodeRle3dLabels: one mask per label present, ascending, on the mask grid', () => {
    const mask: Mask3D = { dims: [5, 3, 1], spacing: [0.5, 0.5, 2], data: Uint8Array.of(0, 4, 4, 4, 4, 4, 1, 0, 0, 4, 4, 4, 4, 0, 0) };

    const out = encodeRle3dLabels(mask);

    expect(out.map((m) => [m.label, Array.from(m.runs)])).toEqual([
      [1, [6, 1]],
      [4, [1, 5, 9, 4]],
    ]);
    expect(out.every((m) => m.dims.join() === '5,3,1' && m.spacing.join() === '0.5,0.5,2')).toBe(true);
  });
});
