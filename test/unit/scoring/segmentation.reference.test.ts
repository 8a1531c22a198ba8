/**
 * Goldline against numpy/scipy reference values (MONAI definitions replicated
 * with scipy binary_erosion + distance_transform_edt). Fixture:
 * test/fixtures/reference/segmentation.json, made by
 * scripts/reference/segmentation_reference.py (header says how to regenerate).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeRle3d, parseRle3d } from '../../../functions/domain/scoring/mask-io.js';
import type { MetricResult } from '../../../functions/domain/scoring/metric-result.js';
import { dice, dicePerLabel, diceRle, iou, type RleMask3D } from '../../../functions/domain/scoring/segmentation.js';
import { surfaceDistances } from '../../../functions/domain/scoring/surface.js';

type Expected = number | 'Infinity' | null;

interface ReferenceCase {
  name: string;
  label: number | null;
  tolerances: number[];
  a: unknown;
  b: unknown;
  expected: {
    dice: Expected;
    iou: Expected;
    hd: Expected;
    hd95: Expected;
    assd: Expected;
    nsd: Record<string, Expected>;
    surfaceVoxels: { a: number; b: number };
  };
  dicePerLabel?: Record<string, Expected>;
}

const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/reference/segmentation.json', import.meta.url), 'utf8'),
) as { cases: ReferenceCase[] };

const TOLERANCE = 1e-6;

function expectMatches(actual: MetricResult, expected: Expected): void {
  if (expected === null) expect(actual.value).toBeNaN();
  else if (expected === 'Infinity') expect(actual.value).toBe(Number.POSITIVE_INFINITY);
  else expect(Math.abs(actual.value - expected)).toBeLessThanOrEqual(TOLERANCE);
}

describe('Reference: segmentation metrics vs numpy/scipy', () => {
  it('has the committed fixture cases', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(12);
  });

  describe.each(fixture.cases.map((c) => [c.name, c] as const))('case %s', (_name, c) => {
    // Arrange: the fixture stores masks as goldline-rle3d/1 documents
    const rleA = parseRle3d(c.a);
    const rleB = parseRle3d(c.b);
    const a = decodeRle3d(rleA);
    const b = decodeRle3d(rleB);
    const label = c.label ?? undefined;

    it('matches Dice and IoU', () => {
      expectMatches(dice(a, b, { label }), c.expected.dice);
      expectMatches(iou(a, b, { label }), c.expected.iou);
    });

    it('matches Dice from run lengths', () => {
      const runsOf = (masks: RleMask3D[]): RleMask3D =>
        masks.find((m) => m.label === (label ?? 1)) ?? { ...masks[0], runs: new Uint32Array() };

      expectMatches(diceRle(runsOf(rleA), runsOf(rleB)), c.expected.dice);
    });

    it('matches HD, HD95, ASSD, NSD and surface sizes, from dense and run-length masks', () => {
      const options = { label, tolerances: c.tolerances };
      const dense = surfaceDistances(a, b, options);

      expect(dense.surfaceVoxels).toEqual(c.expected.surfaceVoxels);
      expectMatches(dense.hd, c.expected.hd);
      expectMatches(dense.hd95, c.expected.hd95);
      expectMatches(dense.assd, c.expected.assd);
      for (const t of c.tolerances) expectMatches(dense.nsd[t], c.expected.nsd[String(t)]);
      if (rleA.length === 1 && rleB.length === 1) {
        expect(surfaceDistances(rleA[0], rleB[0], options)).toEqual(dense);
      }
    });
  });

  it.each(fixture.cases.filter((c) => c.dicePerLabel !== undefined).map((c) => [c.name, c] as const))(
    'matches Dice per label for multi-label case %s',
    (_name, c) => {
      const perLabel = dicePerLabel(decodeRle3d(parseRle3d(c.a)), decodeRle3d(parseRle3d(c.b)));

      for (const [l, v] of Object.entries(c.dicePerLabel ?? {})) expectMatches(perLabel.get(Number(l))!, v);
    },
  );
});
