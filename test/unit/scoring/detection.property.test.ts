import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Box2D,
  type Box3D,
  boxIoU2D,
  boxIoU3D,
  type Detection,
  froc,
  type GroundTruth,
  type Lesion,
  type LesionMark,
  type MatchMethod,
  matchDetections,
  matchIoUMatrix,
  matchLesions,
} from '../../../functions/domain/scoring/detection.js';

const coord = fc.double({ min: -100, max: 100, noNaN: true });
const size = fc.double({ min: 0, max: 50, noNaN: true });
const positiveSize = fc.double({ min: 1e-3, max: 50, noNaN: true });

const box2D = (side = size): fc.Arbitrary<Box2D> => fc.record({ x: coord, y: coord, w: side, h: side });
const box3D = (side = size): fc.Arbitrary<Box3D> =>
  fc.record({ x: coord, y: coord, z: coord, w: side, h: side, d: side });

// Boxes on a small integer grid overlap often, so matchings are non-trivial.
const gridBox: fc.Arbitrary<Box2D> = fc.record({
  x: fc.integer({ min: 0, max: 8 }),
  y: fc.integer({ min: 0, max: 8 }),
  w: fc.integer({ min: 1, max: 6 }),
  h: fc.integer({ min: 1, max: 6 }),
});
const detections: fc.Arbitrary<Detection<Box2D>[]> = fc.array(
  fc.record({ box: gridBox, score: fc.constantFrom(0.1, 0.5, 0.5, 0.9, 1) }),
  { maxLength: 7 },
);
const groundTruths: fc.Arbitrary<GroundTruth<Box2D>[]> = fc.array(
  fc.record({ box: gridBox, ignore: fc.constantFrom(false, false, false, true) }),
  { maxLength: 7 },
);
const threshold = fc.constantFrom(0.1, 0.3, 0.5, 0.75);
const methods: MatchMethod[] = ['greedy', 'optimal'];

/** Best (number of pairs, total IoU) over all matchings with IoU ≥ t, by enumeration. */
function bruteForceBest(ious: number[][], t: number): { pairs: number; total: number } {
  const nGt = ious[0]?.length ?? 0;
  let best = { pairs: 0, total: 0 };
  const taken = new Array<boolean>(nGt).fill(false);
  const visit = (d: number, pairs: number, total: number): void => {
    if (d === ious.length) {
      if (pairs > best.pairs || (pairs === best.pairs && total > best.total)) best = { pairs, total };
      return;
    }
    visit(d + 1, pairs, total);
    for (let g = 0; g < nGt; g++) {
      if (taken[g] || ious[d][g] < t) continue;
      taken[g] = true;
      visit(d + 1, pairs + 1, total + ious[d][g]);
      taken[g] = false;
    }
  };
  visit(0, 0, 0);
  return best;
}

describe('Module: detection (properties)', () => {
  describe('Function: boxIoU2D / boxIoU3D', () => {
    it('is symmetric and lies in [0, 1]', () => {
      fc.assert(
        fc.property(box2D(), box2D(), (a, b) => {
          const iou = boxIoU2D(a, b);
          expect(iou).toBe(boxIoU2D(b, a));
          expect(iou).toBeGreaterThanOrEqual(0);
          expect(iou).toBeLessThanOrEqual(1);
        }),
      );
      fc.assert(
        fc.property(box3D(), box3D(), (a, b) => {
          const iou = boxIoU3D(a, b);
          expect(iou).toBe(boxIoU3D(b, a));
          expect(iou).toBeGreaterThanOrEqual(0);
          expect(iou).toBeLessThanOrEqual(1);
        }),
      );
    });

    it('is exactly 1 for a box of positive size with itself', () => {
      fc.assert(
        fc.property(box2D(positiveSize), (b) => {
          expect(boxIoU2D(b, b)).toBe(1);
        }),
      );
      fc.assert(
        fc.property(box3D(positiveSize), (b) => {
          expect(boxIoU3D(b, b)).toBe(1);
        }),
      );
    });
  });

  describe('Function: matchDetections', () => {
    it('finds at least as many true positives optimally as greedily', () => {
      fc.assert(
        fc.property(detections, groundTruths, threshold, (dets, gts, t) => {
          const greedy = matchDetections(dets, gts, { method: 'greedy', iouThreshold: t });
          const optimal = matchDetections(dets, gts, { method: 'optimal', iouThreshold: t });
          expect(optimal.tp).toBeGreaterThanOrEqual(greedy.tp);
        }),
        { numRuns: 300 },
      );
    });

    it('accounts for every finding and every detection exactly once', () => {
      fc.assert(
        fc.property(detections, groundTruths, threshold, (dets, gts, t) => {
          const regular = gts.filter((g) => !g.ignore).length;
          for (const method of methods) {
            const m = matchDetections(dets, gts, { method, iouThreshold: t });
            // TP + FN = non-ignored findings; TP + FP ≤ detections (the rest are ignored).
            expect(m.tp + m.fn).toBe(regular);
            expect(m.tp + m.fp).toBeLessThanOrEqual(dets.length);
            expect(m.tp + m.fp + m.ignoredDets.length).toBe(dets.length);
            // One-to-one, and never a pair below the threshold or on an ignored finding.
            expect(new Set(m.matches.map((p) => p.det)).size).toBe(m.matches.length);
            expect(new Set(m.matches.map((p) => p.gt)).size).toBe(m.matches.length);
            for (const p of m.matches) {
              expect(p.iou).toBeGreaterThanOrEqual(t);
              expect(gts[p.gt].ignore).toBe(false);
            }
          }
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('Function: matchIoUMatrix (optimal)', () => {
    it('agrees with enumeration: most pairs ≥ t, then largest total IoU, rectangular both ways', () => {
      const matrix = fc
        .tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }))
        .chain(([rows, cols]) =>
          fc.array(fc.array(fc.constantFrom(0, 0, 0.2, 0.5, 0.55, 0.8, 1, 1), { minLength: cols, maxLength: cols }), {
            minLength: rows,
            maxLength: rows,
          }).map((ious) => ({ ious, cols })),
        );
      fc.assert(
        fc.property(matrix, ({ ious, cols }) => {
          const m = matchIoUMatrix(
            ious,
            ious.map(() => 1),
            new Array<boolean>(cols).fill(false),
            { method: 'optimal', iouThreshold: 0.5 },
          );
          const best = bruteForceBest(ious, 0.5);
          expect(m.tp).toBe(best.pairs);
          expect(m.matches.reduce((s, p) => s + p.iou, 0)).toBeCloseTo(best.total, 9);
        }),
        { numRuns: 1000 },
      );
    });
  });

  describe('Function: matchLesions and froc', () => {
    const lesion: fc.Arbitrary<Lesion> = fc.record({
      x: fc.integer({ min: 0, max: 30 }),
      y: fc.integer({ min: 0, max: 30 }),
      z: fc.constant(0),
      diameterMm: fc.constantFrom(-1, 3, 6, 10),
      excluded: fc.constantFrom(false, false, false, true),
    });
    const markArb: fc.Arbitrary<LesionMark> = fc.record({
      x: fc.integer({ min: 0, max: 30 }),
      y: fc.integer({ min: 0, max: 30 }),
      z: fc.constant(0),
      probability: fc.constantFrom(0.1, 0.3, 0.5, 0.7, 0.9),
    });
    const scan = fc.record({
      marks: fc.array(markArb, { maxLength: 10 }),
      lesions: fc.array(lesion, { maxLength: 4 }),
    });

    it('puts every included lesion in TP or FN and every mark in exactly one class', () => {
      fc.assert(
        fc.property(scan, ({ marks, lesions }) => {
          const m = matchLesions(marks, lesions);
          expect(m.tp + m.fn).toBe(lesions.filter((l) => !l.excluded).length);
          const kept = new Set(m.hits.map((h) => h.mark));
          const classes = [...kept, ...m.falsePositiveMarks, ...m.duplicateMarks, ...m.irrelevantMarks];
          expect(classes.length).toBe(marks.length);
          expect(new Set(classes).size).toBe(marks.length);
        }),
      );
    });

    it('draws a non-decreasing FROC curve ending at the totals, and a CPM in [0, 1]', () => {
      fc.assert(
        fc.property(fc.array(scan, { minLength: 1, maxLength: 4 }), (scans) => {
          const r = froc(scans);
          for (let i = 1; i < r.curve.length; i++) {
            expect(r.curve[i].fpPerScan).toBeGreaterThanOrEqual(r.curve[i - 1].fpPerScan);
            if (r.lesions > 0) expect(r.curve[i].sensitivity).toBeGreaterThanOrEqual(r.curve[i - 1].sensitivity);
          }
          const last = r.curve[r.curve.length - 1];
          expect(last.fpPerScan).toBe(r.falsePositives / scans.length);
          if (r.lesions === 0) {
            expect(r.cpm.value).toBeNaN();
          } else {
            expect(last.sensitivity).toBe(r.detected / r.lesions);
            expect(r.cpm.value).toBeGreaterThanOrEqual(0);
            expect(r.cpm.value).toBeLessThanOrEqual(1);
          }
        }),
      );
    });
  });
});
