/**
 * Regression (second review; fixed): overlapAgreement (segmentation) calls diceRle, which throws
 * MaskShapeError when the two masks are on different grids. Validation does not
 * check a non-gold mask's grid (only gold scoring compares against the image
 * grid, and reports a mismatch as a failed item instead of throwing), so one
 * vendor exporting a resampled mask for an overlap case makes CheckAgreement
 * throw: the batch goes to RecordFailure instead of to adjudication.
 */
import { describe, expect, it } from 'vitest';
import { overlapAgreement, type RleMask3D, type Task } from '../../functions/domain/index.js';

const segmentation: Task = { type: 'segmentation', labels: { '1': 'liver' }, minDice: 0.8, maxHd95Mm: 5, nsdToleranceMm: 2 };

describe('second review: overlap masks on different grids', () => {
  it('is a disagreement (for an expert), not a crash', () => {
    const a: RleMask3D = { dims: [10, 10, 1], spacing: [1, 1, 1], label: 1, runs: Uint32Array.from([0, 50]) };
    const b: RleMask3D = { dims: [5, 5, 1], spacing: [2, 2, 1], label: 1, runs: Uint32Array.from([0, 12]) };
    let verdict: { agree: boolean } | undefined;
    expect(() => {
      verdict = overlapAgreement(segmentation, { masks: [a] }, { masks: [b] });
    }).not.toThrow();
    expect(verdict?.agree).toBe(false);
  });
});
