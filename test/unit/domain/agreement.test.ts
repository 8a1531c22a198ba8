import { describe, expect, it } from 'vitest';
import { overlapAgreement, type RleMask3D, type Task } from '../../../functions/domain/index.js';

const detection: Task = { type: 'detection', finding: 'nodule', criticalDiameterMm: 4, minSensitivity: 1, maxFalsePositivesPerItem: 2 };
const segmentation: Task = { type: 'segmentation', labels: { '1': 'liver' }, minDice: 0.8, maxHd95Mm: 5, nsdToleranceMm: 2 };
const mask = (runs: number[]): RleMask3D => ({ dims: [10, 10, 1], spacing: [1, 1, 1], label: 1, runs: Uint32Array.from(runs) });

describe('Function: overlapAgreement', () => {
  it('compares classes', () => {
    const t: Task = { type: 'classification', classes: ['a', 'b'], ordinal: false };
    expect(overlapAgreement(t, { label: 'a' }, { label: 'a' }).agree).toBe(true);
    expect(overlapAgreement(t, { label: 'a' }, { label: 'b' })).toEqual({ agree: false, detail: '"a" vs "b"' });
  });

  it('pairs findings within half the larger diameter, one to one', () => {
    const a = { findings: [{ x: 0, y: 0, z: 0, diameterMm: 6 }] };
    expect(overlapAgreement(detection, a, { findings: [{ x: 2.9, y: 0, z: 0 }] }).agree).toBe(true);
    // Exactly at the radius is not a hit (LUNA16: strict).
    expect(overlapAgreement(detection, a, { findings: [{ x: 3, y: 0, z: 0 }] }).agree).toBe(false);
    // Two marks cannot pair with one finding.
    const two = { findings: [{ x: 0, y: 0, z: 0 }, { x: 0.5, y: 0, z: 0 }] };
    expect(overlapAgreement(detection, a, two)).toEqual({ agree: false, detail: '1 vs 2 finding(s), 1 unpaired' });
    expect(overlapAgreement(detection, { findings: [] }, { findings: [] }).agree).toBe(true);
  });

  it('compares masks by Dice against the floor; empty on both sides agrees', () => {
    expect(overlapAgreement(segmentation, { masks: [mask([0, 50])] }, { masks: [mask([0, 45])] }).agree).toBe(true);
    const far = overlapAgreement(segmentation, { masks: [mask([0, 50])] }, { masks: [mask([40, 50])] });
    expect(far.agree).toBe(false);
    expect(far.detail).toMatch(/liver: Dice 0\.200 below 0\.8/);
    expect(overlapAgreement(segmentation, { masks: [mask([])] }, { masks: [mask([])] }).agree).toBe(true);
    expect(overlapAgreement(segmentation, { masks: [mask([0, 10])] }, { masks: [] }).agree).toBe(false);
  });

  // Second review: masks on different grids made diceRle throw MaskShapeError, so CheckAgreement failed the batch instead of sending the case to an expert.
  it('returns a disagreement for an expert, not a crash, when two masks are on different grids', () => {
    const a: RleMask3D = { dims: [10, 10, 1], spacing: [1, 1, 1], label: 1, runs: Uint32Array.from([0, 50]) };
    const b: RleMask3D = { dims: [5, 5, 1], spacing: [2, 2, 1], label: 1, runs: Uint32Array.from([0, 12]) };
    let verdict: { agree: boolean } | undefined;
    expect(() => {
      verdict = overlapAgreement(segmentation, { masks: [a] }, { masks: [b] });
    }).not.toThrow();
    expect(verdict?.agree).toBe(false);
  });
});
