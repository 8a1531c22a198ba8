import { describe, expect, it } from 'vitest';
import {
  dice,
  dicePerLabel,
  diceRle,
  foregroundRuns,
  iou,
  iouPerLabel,
  iouRle,
  type Mask3D,
  MaskShapeError,
  type RleMask3D,
} from '../../../functions/domain/scoring/segmentation.js';

/** A mask on an nx×ny×nz grid with `label` inside the inclusive box [x0..x1]×[y0..y1]×[z0..z1]. */
function box(
  dims: [number, number, number],
  from: [number, number, number],
  to: [number, number, number],
  label = 1,
  base?: Mask3D,
): Mask3D {
  const [nx, ny] = dims;
  const data = base ? base.data.slice() : new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let z = from[2]; z <= to[2]; z++)
    for (let y = from[1]; y <= to[1]; y++) for (let x = from[0]; x <= to[0]; x++) data[x + nx * (y + ny * z)] = label;
  return { dims, spacing: [1, 1, 1], data };
}

const empty = (dims: [number, number, number]): Mask3D => ({
  dims,
  spacing: [1, 1, 1],
  data: new Uint8Array(dims[0] * dims[1] * dims[2]),
});

const rle = (dims: [number, number, number], runs: number[]): RleMask3D => ({
  dims,
  spacing: [1, 1, 1],
  label: 1,
  runs: Uint32Array.from(runs),
});

describe('Function: dice', () => {
  it('returns 2|A∩B|/(|A|+|B|) for two overlapping boxes', () => {
    // Arrange: 8 voxels each, overlapping in 4
    const a = box([6, 6, 4], [0, 0, 0], [1, 1, 1]);
    const b = box([6, 6, 4], [1, 0, 0], [2, 1, 1]);

    // Act
    const d = dice(a, b);

    // Assert
    expect(d).toEqual({ value: (2 * 4) / 16 });
  });

  it('scores only the requested label of a multi-label mask', () => {
    const a = box([6, 6, 4], [3, 3, 0], [4, 4, 0], 2, box([6, 6, 4], [0, 0, 0], [1, 1, 1]));
    const b = box([6, 6, 4], [3, 3, 0], [4, 4, 0], 2);

    expect(dice(a, b, { label: 2 }).value).toBe(1);
    expect(dice(a, b, { label: 1 }).value).toBe(0);
  });

  it('treats every non-zero voxel as foreground when no label is given', () => {
    const a = { ...box([4, 4, 1], [0, 0, 0], [1, 1, 0]) };
    a.data = a.data.map((v) => v * 255);
    const b = box([4, 4, 1], [0, 0, 0], [1, 1, 0]);

    expect(dice(a, b).value).toBe(1);
  });

  it('returns undefined with a reason when both masks are empty (default)', () => {
    const d = dice(empty([3, 3, 3]), empty([3, 3, 3]));

    expect(d.value).toBeNaN();
    expect(d.reason).toMatch(/both masks empty.*undefined/);
  });

  it("returns 1 when both masks are empty and emptyBoth is 'one' (MONAI ignore_empty=False)", () => {
    const d = dice(empty([3, 3, 3]), empty([3, 3, 3]), { emptyBoth: 'one' });

    expect(d.value).toBe(1);
    expect(d.reason).toMatch(/ignore_empty=False/);
  });

  it('returns 0 with a reason when exactly one mask is empty, either side', () => {
    const a = box([3, 3, 3], [0, 0, 0], [0, 0, 0]);

    expect(dice(a, empty([3, 3, 3]))).toEqual({ value: 0, reason: 'one mask empty: Dice 0 by convention' });
    expect(dice(empty([3, 3, 3]), a).value).toBe(0);
  });

  it('counts correctly when the buffers are not 4-byte aligned and the length is not a multiple of 4', () => {
    // Arrange: data views at byte offset 1 of a larger buffer, 3×3×1 = 9 voxels
    const bufA = new Uint8Array(16);
    const bufB = new Uint8Array(16);
    bufA.set([1, 1, 0, 0, 1, 0, 0, 0, 1], 1);
    bufB.set([1, 0, 0, 0, 1, 0, 0, 1, 1], 1);
    const a: Mask3D = { dims: [3, 3, 1], spacing: [1, 1, 1], data: bufA.subarray(1, 10) };
    const b: Mask3D = { dims: [3, 3, 1], spacing: [1, 1, 1], data: bufB.subarray(1, 10) };

    expect(dice(a, b).value).toBeCloseTo((2 * 3) / 8, 15);
  });

  it('throws MaskShapeError for masks on different grids or buffers of the wrong length', () => {
    expect(() => dice(empty([3, 3, 3]), empty([3, 3, 2]))).toThrow(MaskShapeError);
    expect(() => dice({ ...empty([3, 3, 3]), data: new Uint8Array(5) }, empty([3, 3, 3]))).toThrow(/data has 5 voxels/);
  });

  it('refuses label 0, which is background', () => {
    expect(() => dice(empty([2, 2, 1]), empty([2, 2, 1]), { label: 0 })).toThrow(/0 is background/);
  });
});

describe('Function: iou', () => {
  it('returns |A∩B|/|A∪B| and agrees with D/(2−D)', () => {
    const a = box([6, 6, 4], [0, 0, 0], [1, 1, 1]);
    const b = box([6, 6, 4], [1, 0, 0], [2, 1, 1]);

    const j = iou(a, b);
    const d = dice(a, b);

    expect(j.value).toBeCloseTo(4 / 12, 15);
    expect(j.value).toBeCloseTo(d.value / (2 - d.value), 15);
  });

  it('follows the same empty conventions as Dice', () => {
    const a = box([3, 3, 3], [0, 0, 0], [0, 0, 0]);

    expect(iou(empty([3, 3, 3]), empty([3, 3, 3])).value).toBeNaN();
    expect(iou(empty([3, 3, 3]), empty([3, 3, 3]), { emptyBoth: 'one' }).value).toBe(1);
    expect(iou(a, empty([3, 3, 3]))).toEqual({ value: 0, reason: 'one mask empty: IoU 0 by convention' });
  });
});

describe('Function: dicePerLabel', () => {
  const dims: [number, number, number] = [8, 8, 2];
  const a = box(dims, [4, 4, 0], [7, 7, 1], 2, box(dims, [0, 0, 0], [1, 1, 1], 1));
  const b = box(dims, [4, 4, 0], [7, 7, 0], 2, box(dims, [0, 0, 0], [1, 1, 1], 1));

  it('returns one result per label present in either mask, in label order', () => {
    const perLabel = dicePerLabel(a, b);

    expect([...perLabel.keys()]).toEqual([1, 2]);
    expect(perLabel.get(1)?.value).toBe(1);
    expect(perLabel.get(2)?.value).toBeCloseTo((2 * 16) / (32 + 16), 15);
  });

  it('reports requested labels absent from both masks as undefined', () => {
    const perLabel = dicePerLabel(a, b, { labels: [2, 3] });

    expect([...perLabel.keys()]).toEqual([2, 3]);
    expect(perLabel.get(3)?.value).toBeNaN();
    expect(perLabel.get(3)?.reason).toMatch(/both masks empty/);
  });

  it('matches the single-label dice for each label', () => {
    for (const [label, result] of dicePerLabel(a, b)) expect(result).toEqual(dice(a, b, { label }));
    for (const [label, result] of iouPerLabel(a, b)) expect(result).toEqual(iou(a, b, { label }));
  });
});

describe('Function: diceRle', () => {
  it('computes the overlap of run intervals without expanding them', () => {
    // Arrange: A = [0,10) ∪ [20,25); B = [5,8) ∪ [9,22) → ∩ = 3 + 1 + 2 = 6
    const a = rle([10, 3, 1], [0, 10, 20, 5]);
    const b = rle([10, 3, 1], [5, 3, 9, 13]);

    // Act
    const d = diceRle(a, b);

    // Assert
    expect(d.value).toBeCloseTo((2 * 6) / (15 + 16), 15);
    expect(iouRle(a, b).value).toBeCloseTo(6 / (15 + 16 - 6), 15);
  });

  it('equals dense Dice on the same masks', () => {
    const a = box([7, 5, 3], [1, 0, 0], [5, 3, 2]);
    const b = box([7, 5, 3], [3, 2, 1], [6, 4, 2]);
    const ra: RleMask3D = { ...a, label: 1, runs: foregroundRuns(a) };
    const rb: RleMask3D = { ...b, label: 1, runs: foregroundRuns(b) };

    expect(diceRle(ra, rb).value).toBeCloseTo(dice(a, b).value, 15);
  });

  it('applies the empty conventions', () => {
    expect(diceRle(rle([4, 1, 1], []), rle([4, 1, 1], [])).value).toBeNaN();
    expect(diceRle(rle([4, 1, 1], []), rle([4, 1, 1], []), { emptyBoth: 'one' }).value).toBe(1);
    expect(diceRle(rle([4, 1, 1], [0, 2]), rle([4, 1, 1], [])).value).toBe(0);
  });

  it('rejects unsorted, overlapping or out-of-range runs', () => {
    const ok = rle([4, 1, 1], [0, 1]);

    expect(() => diceRle(rle([4, 1, 1], [2, 1, 0, 1]), ok)).toThrow(/before the previous run ends/);
    expect(() => diceRle(rle([4, 1, 1], [0, 3, 2, 1]), ok)).toThrow(/before the previous run ends/);
    expect(() => diceRle(rle([4, 1, 1], [3, 2]), ok)).toThrow(/beyond the 4 voxels/);
    expect(() => diceRle(rle([4, 1, 1], [0, 1]), rle([2, 2, 1], [0, 1]))).toThrow(MaskShapeError);
  });
});

describe('Function: foregroundRuns', () => {
  it('returns maximal runs over the x-fastest index, crossing row ends', () => {
    // 4×2 grid: row 0 = [0 1 1 1], row 1 = [1 0 0 1]
    const mask: Mask3D = { dims: [4, 2, 1], spacing: [1, 1, 1], data: Uint8Array.of(0, 1, 1, 1, 1, 0, 0, 1) };

    expect(Array.from(foregroundRuns(mask))).toEqual([1, 4, 7, 1]);
  });

  it('selects one label and handles runs through whole 4-voxel words and a ragged tail', () => {
    const data = new Uint8Array(23);
    data.fill(3, 2, 19); // spans several full words
    data[20] = 3;
    data[21] = 1;
    data[22] = 3;
    const mask: Mask3D = { dims: [23, 1, 1], spacing: [1, 1, 1], data };

    expect(Array.from(foregroundRuns(mask, 3))).toEqual([2, 17, 20, 1, 22, 1]);
    expect(Array.from(foregroundRuns(mask))).toEqual([2, 17, 20, 3]);
  });
});
