/**
 * Metric conventions for people migrating from MONAI or DeepMind's
 * surface-distance: each `convention` reproduces the values those projects
 * publish in their own unit tests. Fixtures (test/fixtures/reference/monai-*.json,
 * deepmind-*.json) name the source repository, file and commit, and say how
 * the masks were transcribed.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scoreSubmissionAgainstGold } from '../../../functions/domain/gold-scoring.js';
import { BatchScore, type GoldAnswer, type LabelLine } from '../../../functions/domain/model/index.js';
import { encodeRle3dLabels, parseRle3d, toRle3dDocument } from '../../../functions/domain/scoring/mask-io.js';
import type { MetricResult } from '../../../functions/domain/scoring/metric-result.js';
import { dice, diceRle, iou, type Mask3D } from '../../../functions/domain/scoring/segmentation.js';
import { surfaceDistances } from '../../../functions/domain/scoring/surface.js';
import { surfelDistances, surfelMeasures, surfelOverlap } from '../../../functions/domain/scoring/surfels.js';
import { makeProtocol } from '../fakes.js';

type Vec3 = [number, number, number];
type Expected = number | 'Infinity' | null;
interface Box {
  from: Vec3;
  to: Vec3;
}
interface SphereSpec {
  sphere: { radius: number; centre: Vec3; shape: Vec3; spacing: Vec3 };
}
type MaskSpec = SphereSpec | { zeros: Vec3 };

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../fixtures/reference/${name}`, import.meta.url), 'utf8')) as T;

/** A mask from numpy-style boxes [from, to) (numpy axis i = Goldline axis i). */
function boxes(dims: Vec3, spacing: Vec3, list: Box[], complement = false): Mask3D {
  const [nx, ny] = dims;
  const data = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (const b of list) {
    for (let z = b.from[2]; z < b.to[2]; z++)
      for (let y = b.from[1]; y < b.to[1]; y++) for (let x = b.from[0]; x < b.to[0]; x++) data[x + nx * (y + ny * z)] = 1;
  }
  if (complement) for (let i = 0; i < data.length; i++) data[i] ^= 1;
  return { dims, spacing, data };
}

/** MONAI's create_spherical_seg_3d, evaluated in the test's float64 order. */
function monaiMask(spec: MaskSpec, spacing: Vec3): Mask3D {
  if ('zeros' in spec) return { dims: spec.zeros, spacing, data: new Uint8Array(spec.zeros[0] * spec.zeros[1] * spec.zeros[2]) };
  const { radius, centre, shape, spacing: s } = spec.sphere;
  const [n0, n1, n2] = shape;
  const data = new Uint8Array(n0 * n1 * n2);
  for (let i2 = 0; i2 < n2; i2++) {
    const spz = i2 * s[2] - centre[2];
    for (let i1 = 0; i1 < n1; i1++) {
      const spx = i1 * s[1] - centre[1];
      for (let i0 = 0; i0 < n0; i0++) {
        const spy = i0 * s[0] - centre[0];
        if (spx * spx + spy * spy + spz * spz <= radius * radius) data[i0 + n0 * (i1 + n1 * i2)] = 1;
      }
    }
  }
  return { dims: shape, spacing, data };
}

const value = (e: Expected): number => (e === null ? Number.NaN : e === 'Infinity' ? Number.POSITIVE_INFINITY : e);

function expectClose(actual: number, expected: Expected, tolerance: { abs?: number; rel?: number }): void {
  const want = value(expected);
  if (!Number.isFinite(want)) {
    expect(actual).toBe(want); // toBe: NaN is NaN, Infinity is Infinity
    return;
  }
  const bound = (tolerance.abs ?? 0) + (tolerance.rel ?? 0) * Math.abs(want);
  expect(Math.abs(actual - want), `${actual} vs ${want}`).toBeLessThanOrEqual(bound);
}

describe('Reference: MONAI compute_dice (tests/metrics/test_compute_meandice.py)', () => {
  const ref = fixture<{
    cases: { name: string; pred: number[][]; ref: number[][]; ignoreEmpty: boolean; expected: number | 'NaN' | 'not NaN' }[];
  }>('monai-meandice.json');
  const mask2d = (rows: number[][]): Mask3D => {
    const dims: Vec3 = [rows.length, rows[0].length, 1];
    const data = new Uint8Array(dims[0] * dims[1]);
    for (const [x, row] of rows.entries()) for (const [y, v] of row.entries()) data[x + dims[0] * y] = v;
    return { dims, spacing: [1, 1, 1], data };
  };

  it.each(ref.cases.map((c) => [c.name, c] as const))('reproduces %s', (_name, c) => {
    const r = dice(mask2d(c.pred), mask2d(c.ref), { convention: 'monai', ignoreEmpty: c.ignoreEmpty });

    if (c.expected === 'NaN') expect(r.value).toBeNaN();
    else if (c.expected === 'not NaN') expect(r.value).not.toBeNaN();
    else expectClose(r.value, c.expected, { abs: 1e-4 });
    expect(r.convention).toBe(`monai(ignore_empty=${c.ignoreEmpty ? 'True' : 'False'})`);
  });
});

describe('Reference: MONAI HausdorffDistanceMetric (tests/metrics/test_hausdorff_distance.py)', () => {
  const ref = fixture<{
    cases: {
      name: string;
      pred: MaskSpec;
      ref: MaskSpec;
      spacing: Vec3 | null;
      percentile: number | null;
      expected: { directed: Expected; symmetric: Expected };
    }[];
  }>('monai-hausdorff-distance.json');

  it.each(ref.cases.map((c) => [c.name, c] as const))('reproduces %s, directed and symmetric', (_name, c) => {
    const spacing = c.spacing ?? [1, 1, 1];
    const pred = monaiMask(c.pred, spacing);
    const reference = monaiMask(c.ref, spacing);
    const pick = (r: { hd: MetricResult; hd95: MetricResult }) => (c.percentile === 95 ? r.hd95 : r.hd);

    const directed = surfaceDistances(pred, reference, { convention: 'monai', directed: true });
    const symmetric = surfaceDistances(pred, reference, { convention: 'monai' });

    expectClose(pick(directed).value, c.expected.directed, { rel: 1e-6 });
    expectClose(pick(symmetric).value, c.expected.symmetric, { rel: 1e-6 });
    expect(pick(directed).convention).toBe('monai(directed=True)');
    expect(symmetric.convention).toBe('monai');
  });
});

describe('Reference: MONAI SurfaceDistanceMetric (tests/metrics/test_surface_distance.py)', () => {
  const ref = fixture<{
    cases: { name: string; pred: MaskSpec; ref: MaskSpec; spacing: Vec3 | null; expected: { symmetric: Expected; directed: Expected } }[];
  }>('monai-surface-distance.json');

  it.each(ref.cases.map((c) => [c.name, c] as const))('reproduces %s, symmetric and not', (_name, c) => {
    const spacing = c.spacing ?? [1, 1, 1];
    const pred = monaiMask(c.pred, spacing);
    const reference = monaiMask(c.ref, spacing);

    expectClose(surfaceDistances(pred, reference, { convention: 'monai' }).assd.value, c.expected.symmetric, { rel: 1e-5 });
    expectClose(surfaceDistances(pred, reference, { convention: 'monai', directed: true }).assd.value, c.expected.directed, {
      rel: 1e-5,
    });
  });
});

describe('Reference: MONAI compute_surface_dice (tests/metrics/test_surface_dice.py)', () => {
  const ref = fixture<{
    cases: {
      name: string;
      dims: Vec3;
      spacing: Vec3;
      pred: Box[];
      ref: Box[];
      complement: boolean;
      threshold: number;
      subvoxels: boolean;
      expected: number | null;
      tolerance?: string;
    }[];
  }>('monai-surface-dice.json');

  it.each(ref.cases.map((c) => [c.name, c] as const))('reproduces %s', (_name, c) => {
    const pred = boxes(c.dims, c.spacing, c.pred, c.complement);
    const reference = boxes(c.dims, c.spacing, c.ref, c.complement);

    const r = surfaceDistances(pred, reference, { convention: 'monai', subvoxels: c.subvoxels, tolerances: [c.threshold] });

    expectClose(r.nsd[c.threshold].value, c.expected, c.tolerance ? { abs: 1e-3 } : { abs: 1e-7 });
    expect(r.convention).toBe(c.subvoxels ? 'monai(use_subvoxels=True)' : 'monai');
  });
});

describe('Reference: DeepMind surface-distance (surface_distance_test.py)', () => {
  interface DeepMindCase {
    name: string;
    dims: Vec3;
    spacing: Vec3;
    gt: Box[];
    pred: Box[];
    surfels?: { areasGt: number[]; areasPred: number[]; distancesGtToPred: number[]; distancesPredToGt: number[] };
    expected: {
      averageDistance: [Expected, Expected];
      hausdorff100: Expected;
      hausdorff95: Expected;
      surfaceOverlapAt1mm: [Expected, Expected];
      surfaceDiceAt1mm: Expected;
      volumetricDice: Expected;
    };
  }
  const ref = fixture<{ cases: DeepMindCase[] }>('deepmind-surface-distance.json');
  const places3 = { abs: 5e-4 };

  describe.each(ref.cases.map((c) => [c.name, c] as const))('case %s', (_name, c) => {
    const gt = boxes(c.dims, c.spacing, c.gt);
    const pred = boxes(c.dims, c.spacing, c.pred);

    it('reproduces the published metrics with convention deepmind', () => {
      const r = surfaceDistances(pred, gt, { convention: 'deepmind', tolerances: [1] });

      const avg = r.averageDistance!;
      expectClose(avg.referenceToPrediction.value, c.expected.averageDistance[0], places3);
      expectClose(avg.predictionToReference.value, c.expected.averageDistance[1], places3);
      expectClose(r.hd.value, c.expected.hausdorff100, places3);
      expectClose(r.hd95.value, c.expected.hausdorff95, places3);
      expectClose(r.nsd[1].value, c.expected.surfaceDiceAt1mm, places3);
      expectClose(dice(pred, gt, { convention: 'deepmind' }).value, c.expected.volumetricDice, places3);
      expect(r.convention).toBe('deepmind');
    });

    it('reproduces the published surface overlaps at 1 mm', () => {
      const { aToB, bToA } = surfelDistances(pred, gt, c.spacing, undefined);
      const share = (o: { within: number; total: number }) => o.within / o.total;

      expectClose(share(surfelOverlap(bToA, 1)), c.expected.surfaceOverlapAt1mm[0], places3);
      expectClose(share(surfelOverlap(aToB, 1)), c.expected.surfaceOverlapAt1mm[1], places3);
    });
  });

  it.each(ref.cases.filter((c) => c.surfels !== undefined).map((c) => [c.name, c] as const))(
    'finds the published surfels of case %s: their lengths and distances',
    (_name, c) => {
      const { aToB, bToA } = surfelDistances(boxes(c.dims, c.spacing, c.pred), boxes(c.dims, c.spacing, c.gt), c.spacing, undefined);
      const s = c.surfels!;

      expect([...bToA.areas]).toEqual(s.areasGt.map((v) => expect.closeTo(v, 12)));
      expect([...bToA.distances]).toEqual(s.distancesGtToPred.map((v) => expect.closeTo(v, 12)));
      expect([...aToB.areas]).toEqual(s.areasPred.map((v) => expect.closeTo(v, 12)));
      expect([...aToB.distances]).toEqual(s.distancesPredToGt.map((v) => expect.closeTo(v, 12)));
    },
  );
});

describe('Option: convention', () => {
  const dims: Vec3 = [12, 12, 12];
  const spacing: Vec3 = [0.8, 0.8, 2];
  const cube = (from: Vec3, to: Vec3) => boxes(dims, spacing, [{ from, to }]);
  const empty = boxes(dims, spacing, []);
  const a = cube([2, 2, 2], [8, 8, 7]);
  const b = cube([3, 2, 2], [9, 9, 8]);

  it('leaves the default figures unchanged and unlabelled, and labels the same figures when goldline is named', () => {
    const plain = surfaceDistances(a, b, { tolerances: [1] });
    const named = surfaceDistances(a, b, { convention: 'goldline', tolerances: [1] });

    expect(plain.convention).toBeUndefined();
    expect(plain.hd.convention).toBeUndefined();
    expect(named.hd).toEqual({ ...plain.hd, convention: 'goldline' });
    expect(named.assd.value).toBe(plain.assd.value);
    expect(named.nsd[1].value).toBe(plain.nsd[1].value);
    expect(dice(a, b)).toEqual({ value: dice(a, b, { convention: 'goldline' }).value });
  });

  it('gives MONAI the same surface figures as Goldline (Goldline follows MONAI there)', () => {
    const g = surfaceDistances(a, b, { tolerances: [1, 2] });
    const m = surfaceDistances(a, b, { convention: 'monai', tolerances: [1, 2] });

    for (const k of ['hd', 'hd95', 'assd'] as const) expect(m[k].value).toBe(g[k].value);
    expect(m.nsd[2].value).toBe(g.nsd[2].value);
  });

  it('differs on an empty reference: Goldline 0, MONAI NaN (ignore_empty) or 0, DeepMind 0', () => {
    expect(dice(a, empty).value).toBe(0);
    expect(dice(a, empty, { convention: 'monai' }).value).toBeNaN();
    expect(dice(a, empty, { convention: 'monai' }).reason).toMatch(/ignore_empty=True/);
    expect(dice(a, empty, { convention: 'monai', ignoreEmpty: false }).value).toBe(0);
    expect(dice(empty, empty, { convention: 'monai', ignoreEmpty: false }).value).toBe(1);
    expect(dice(a, empty, { convention: 'deepmind' }).value).toBe(0);
    expect(iou(empty, a, { convention: 'monai' }).value).toBe(0); // the reference is not empty: the formula applies
  });

  it('applies the same rule to run-length masks', () => {
    const rleA = { dims, spacing, label: 1, runs: Uint32Array.of(0, 5) };
    const rleEmpty = { dims, spacing, label: 1, runs: new Uint32Array(0) };

    expect(diceRle(rleA, rleEmpty, { convention: 'monai' }).value).toBeNaN();
    expect(diceRle(rleA, rleEmpty).value).toBe(0);
  });

  it('gives DeepMind HD Infinity when both masks are empty, where Goldline and MONAI say undefined', () => {
    expect(surfaceDistances(empty, empty, { convention: 'deepmind' }).hd.value).toBe(Number.POSITIVE_INFINITY);
    expect(surfaceDistances(empty, empty, { convention: 'monai' }).hd.value).toBeNaN();
    expect(surfaceDistances(empty, empty).hd.value).toBeNaN();
  });

  it('measures directed figures from the prediction to the reference only', () => {
    // The prediction lies inside the reference: every prediction voxel is close, the reference's far side is not.
    const inner = cube([4, 4, 3], [7, 7, 6]);
    const outer = cube([1, 1, 1], [11, 11, 10]);

    const directed = surfaceDistances(inner, outer, { directed: true });
    const symmetric = surfaceDistances(inner, outer);

    expect(directed.hd.value).toBeLessThan(symmetric.hd.value);
    expect(directed.assd.value).toBeLessThan(symmetric.assd.value);
    expect(directed.convention).toBe('goldline(directed)');
  });

  it('weights DeepMind averages by surfel area: a flat face counts by its area, not its voxel count', () => {
    const r = surfaceDistances(a, b, { convention: 'deepmind', tolerances: [1] });
    const v = surfaceDistances(a, b, { tolerances: [1] });

    expect(r.averageDistance?.predictionToReference.value).not.toBe(v.assd.value);
    expect(r.assd.value).toBeCloseTo(
      (r.averageDistance!.predictionToReference.value + r.averageDistance!.referenceToPrediction.value) / 2,
      12,
    );
  });

  it('refuses an option that belongs to another convention instead of ignoring it', () => {
    expect(() => dice(a, b, { ignoreEmpty: false })).toThrow(/ignoreEmpty is MONAI's option/);
    expect(() => dice(a, b, { convention: 'monai', emptyBoth: 'one' })).toThrow(/emptyBoth is Goldline's option/);
    expect(() => surfaceDistances(a, b, { convention: 'deepmind', subvoxels: false })).toThrow(/surfel-based/);
    expect(() => dice(a, b, { convention: 'nnunet' as 'monai' })).toThrow(/convention must be one of goldline, monai, deepmind/);
  });
});

describe('docs/metrics-conventions.md', () => {
  it('holds the figures of its worked example (DeepMind\'s two squares, 2 mm × 1 mm pixels)', () => {
    const spacing: Vec3 = [2, 1, 1];
    const reference = boxes([6, 6, 1], spacing, [{ from: [1, 1, 0], to: [3, 3, 1] }]);
    const prediction = boxes([6, 6, 1], spacing, [{ from: [1, 1, 0], to: [4, 3, 1] }]);
    const run = (options: Parameters<typeof surfaceDistances>[2]) =>
      surfaceDistances(prediction, reference, { tolerances: [1], ...options });

    const goldline = run({});
    const directed = run({ convention: 'monai', directed: true });
    const subvoxels = run({ convention: 'monai', subvoxels: true });
    const deepmind = run({ convention: 'deepmind' });

    expect([goldline.assd.value, goldline.nsd[1].value, goldline.surfaceVoxels]).toEqual([
      expect.closeTo(0.4, 4),
      expect.closeTo(0.8, 4),
      { a: 6, b: 4 },
    ]);
    expect(directed.assd.value).toBeCloseTo(0.6667, 4);
    expect(subvoxels.nsd[1].value).toBeCloseTo(0.8703, 4);
    expect([deepmind.assd.value, deepmind.nsd[1].value, deepmind.surfaceVoxels]).toEqual([
      expect.closeTo(0.2714, 4),
      expect.closeTo(0.8703, 4),
      { a: 10, b: 8 },
    ]);
    for (const r of [goldline, directed, subvoxels, deepmind]) expect([r.hd.value, r.hd95.value]).toEqual([2, 2]);
  });
});

describe('Function: surfelMeasures', () => {
  it('gives a corner triangle, an edge strip and a face its exact area', () => {
    const [sx, sy, sz] = [3, 2, 1];
    const t = surfelMeasures([sx, sy, sz], true);

    // One foreground voxel (bit 0): the triangle through three edge midpoints.
    expect(t[0b1]).toBeCloseTo(0.125 * Math.hypot(sy * sz, sx * sz, sx * sy), 12);
    // Two voxels along x (bits 0, 1): a rectangle sx × half the y–z diagonal.
    expect(t[0b11]).toBeCloseTo(sx * 0.5 * Math.hypot(sy, sz), 12);
    // Four voxels of the z = 0 layer: a face sx × sy.
    expect(t[0b1111]).toBeCloseTo(sx * sy, 12);
    expect(t[0]).toBe(0);
    expect(t[255]).toBe(0);
  });

  it('measures a bent cell by its largest unit-cell fan: three voxels in an L are 1/2 + √3/4 + √3/8 (DeepMind code 7)', () => {
    // Voxels (1,1,1), (1,1,0), (1,0,1) of the cell: bits 7, 3 and 5.
    const l = (1 << 7) | (1 << 3) | (1 << 5);

    expect(surfelMeasures([1, 1, 1], true)[l]).toBeCloseTo(0.5 + Math.sqrt(3) / 4 + Math.sqrt(3) / 8, 12);
  });

  it('gives a cell and its complement the same area (one surface, seen from either side)', () => {
    const t = surfelMeasures([0.85, 1.2, 0.9], true);

    for (let code = 0; code < 256; code++) expect(t[255 - code]).toBeCloseTo(t[code], 12);
  });

  it('gives a 2D cell its contour length, two segments on a diagonal pair', () => {
    const t = surfelMeasures([2, 1, 1], false);
    const diag = 0.5 * Math.hypot(2, 1);

    expect(t[0b0001]).toBeCloseTo(diag, 12);
    expect(t[0b0011]).toBeCloseTo(2, 12); // two pixels along x: a segment of length sx
    expect(t[0b0101]).toBeCloseTo(1, 12); // two pixels along y: length sy
    expect(t[0b1001]).toBeCloseTo(2 * diag, 12);
  });
});

describe('Function: scoreSubmissionAgainstGold (segmentation conventions)', () => {
  const dims: Vec3 = [10, 10, 4];
  const spacing: Vec3 = [1, 1, 2];
  const alias = 'k3v9x2m7qa8d';
  const items = [{ alias, caseId: 'case-1', gold: true, overlap: false, overlapSecondary: false }];
  const blob = boxes(dims, spacing, [{ from: [2, 2, 1], to: [6, 6, 3] }]);
  // No liver in the reference: only another structure (label 2), since a document holds at least one label.
  const nothing = boxes(dims, spacing, [{ from: [8, 8, 0], to: [9, 9, 1] }]);
  nothing.data[8 + 10 * 8] = 2;
  const document = (m: Mask3D) => toRle3dDocument(encodeRle3dLabels(m));

  function score(metricConvention: 'goldline' | 'monai' | 'deepmind' | undefined, reference: Mask3D, submitted: Mask3D) {
    const task = { type: 'segmentation' as const, labels: { '1': 'liver' }, minDice: 0.8, maxHd95Mm: 5, nsdToleranceMm: 2, metricConvention };
    const line = { alias, annotator: 'r-1', mask: document(submitted) } as unknown as LabelLine;
    return scoreSubmissionAgainstGold({
      batchId: 'b-1',
      workforceId: 'vendor-a',
      protocol: makeProtocol({ protocolId: 'liver-seg', task }),
      items,
      lines: new Map([[alias, line]]),
      masks: new Map([[alias, parseRle3d(document(submitted))]]),
      answers: new Map<string, GoldAnswer>([['case-1', document(reference) as GoldAnswer]]),
    });
  }

  it('stores the convention with every item, Goldline when the protocol names none', () => {
    const stored = BatchScore.parse(score(undefined, blob, blob));

    expect(stored.items[0].metricConvention).toBe('goldline');
    expect(stored.items[0].metrics?.['dice:liver']).toBe(1);
  });

  it("scores a structure the expert did not find by the protocol's convention: Goldline Dice 0, MONAI undefined", () => {
    const goldline = score('goldline', nothing, blob).items[0];
    const monai = score('monai', nothing, blob).items[0];

    expect(goldline.metrics?.['dice:liver']).toBe(0);
    expect(monai.metrics?.['dice:liver']).toBeNull();
    expect(monai.metricConvention).toBe('monai(ignore_empty=True), monai');
    expect(monai.reasons?.[0]).toMatch(/ignore_empty=True/);
  });

  it('stores DeepMind figures, surfel-weighted, under convention deepmind', () => {
    const shifted = boxes(dims, spacing, [{ from: [3, 2, 1], to: [7, 6, 3] }]);
    const item = score('deepmind', blob, shifted).items[0];

    expect(item.metricConvention).toBe('deepmind');
    expect(item.metrics?.['nsd@2mm:liver']).toBe(surfaceDistances(shifted, blob, { convention: 'deepmind', tolerances: [2] }).nsd[2].value);
  });
});
