import { describe, expect, it } from 'vitest';
import {
  type Box2D,
  type Box3D,
  boxIoU2D,
  boxIoU3D,
  DetectionInputError,
  type Detection,
  detectionItemScores,
  type FrocScan,
  froc,
  type GroundTruth,
  npInterp,
  iouMatrix,
  type Lesion,
  type LesionMark,
  matchDetections,
  matchIoUMatrix,
  matchLesions,
  scoreLesionItem,
} from '../../../functions/domain/scoring/detection.js';

// A 2D box spanning [x0, x1] horizontally and [0, 10] vertically: IoU between two
// such boxes is the 1D Jaccard index of their x-intervals, easy to compute by hand.
const strip = (x0: number, x1: number): Box2D => ({ x: x0, y: 0, w: x1 - x0, h: 10 });
const det = (box: Box2D, score: number, id?: string): Detection<Box2D> => ({ box, score, ...(id && { id }) });
const gt = (box: Box2D, ignore = false, id?: string): GroundTruth<Box2D> => ({ box, ignore, ...(id && { id }) });
const lesion = (x: number, diameterMm: number, extra: Partial<Lesion> = {}): Lesion => ({
  x,
  y: 0,
  z: 0,
  diameterMm,
  ...extra,
});
const mark = (x: number, probability: number, extra: Partial<LesionMark> = {}): LesionMark => ({
  x,
  y: 0,
  z: 0,
  probability,
  ...extra,
});

describe('Module: detection', () => {
  describe('Function: boxIoU2D', () => {
    it('returns |A∩B| / |A∪B| for overlapping boxes', () => {
      // Arrange: overlap 5×10 = 50; union 100 + 100 − 50 = 150.
      const a = { x: 0, y: 0, w: 10, h: 10 };
      const b = { x: 5, y: 0, w: 10, h: 10 };

      // Act
      const iou = boxIoU2D(a, b);

      // Assert
      expect(iou).toBeCloseTo(1 / 3, 12);
    });

    it('returns |inner| / |outer| when one box contains the other', () => {
      expect(boxIoU2D({ x: 0, y: 0, w: 4, h: 4 }, { x: 1, y: 1, w: 2, h: 2 })).toBe(4 / 16);
    });

    it('returns 0 for boxes that only touch', () => {
      expect(boxIoU2D({ x: 0, y: 0, w: 1, h: 1 }, { x: 1, y: 0, w: 1, h: 1 })).toBe(0);
    });

    it('returns exactly 1 for a box with itself, even with awkward decimals', () => {
      const b = { x: 0.1, y: 0.7, w: 0.2, h: 0.3 };
      expect(boxIoU2D(b, b)).toBe(1);
    });

    it('returns 0 for a degenerate (zero-area) box, even with itself, as pycocotools', () => {
      const flat = { x: 0, y: 0, w: 5, h: 0 };
      expect(boxIoU2D(flat, flat)).toBe(0);
    });

    it('throws DetectionInputError on a negative size or a non-finite field', () => {
      expect(() => boxIoU2D({ x: 0, y: 0, w: -1, h: 1 }, { x: 0, y: 0, w: 1, h: 1 })).toThrow(DetectionInputError);
      expect(() => boxIoU2D({ x: Number.NaN, y: 0, w: 1, h: 1 }, { x: 0, y: 0, w: 1, h: 1 })).toThrow(
        DetectionInputError,
      );
    });
  });

  describe('Function: boxIoU3D', () => {
    it('returns the volume IoU', () => {
      // Overlap 1×2×2 = 4; union 8 + 8 − 4 = 12.
      const a: Box3D = { x: 0, y: 0, z: 0, w: 2, h: 2, d: 2 };
      const b: Box3D = { x: 1, y: 0, z: 0, w: 2, h: 2, d: 2 };
      expect(boxIoU3D(a, b)).toBeCloseTo(1 / 3, 12);
    });

    it('returns 0 when boxes are disjoint along z only', () => {
      const a: Box3D = { x: 0, y: 0, z: 0, w: 2, h: 2, d: 2 };
      expect(boxIoU3D(a, { ...a, z: 3 })).toBe(0);
    });
  });

  describe('Function: iouMatrix', () => {
    it('returns a detections × ground truths matrix in input order', () => {
      const m = iouMatrix([det(strip(0, 10), 0.1), det(strip(5, 15), 0.9)], [gt(strip(0, 10))]);
      expect(m).toHaveLength(2);
      expect(m[0]).toEqual([1]);
      expect(m[1][0]).toBeCloseTo(5 / 15, 12);
    });

    it('returns [] without detections and empty rows without ground truth', () => {
      expect(iouMatrix([], [gt(strip(0, 1))])).toEqual([]);
      expect(iouMatrix([det(strip(0, 1), 1)], [])).toEqual([[]]);
    });

    it('refuses to compare 2D with 3D boxes', () => {
      const box3: Box3D = { x: 0, y: 0, z: 0, w: 1, h: 1, d: 1 };
      expect(() => iouMatrix<Box2D | Box3D>([{ box: strip(0, 1) }], [{ box: box3 }])).toThrow(DetectionInputError);
    });
  });

  describe('Function: matchDetections', () => {
    // X = [0,10], Y = [4,14]; A = [1,11] (score 0.9), B = [−2,8] (score 0.8).
    // IoU: A–X 9/11 ≈ 0.818, A–Y 7/13 ≈ 0.538, B–X 8/12 ≈ 0.667, B–Y 4/16 = 0.25.
    const X = gt(strip(0, 10));
    const Y = gt(strip(4, 14));
    const A = det(strip(1, 11), 0.9);
    const B = det(strip(-2, 8), 0.8);

    it('greedy: the higher-scoring detection takes its best ground truth first (COCO)', () => {
      // Act: A takes X (0.818 > 0.538); B finds X taken and Y below 0.5 → FP; Y missed.
      const m = matchDetections([A, B], [X, Y], { method: 'greedy' });

      // Assert
      expect(m.matches).toEqual([{ det: 0, gt: 0, iou: 9 / 11 }]);
      expect([m.tp, m.fp, m.fn]).toEqual([1, 1, 1]);
      expect(m.unmatchedDets).toEqual([1]);
      expect(m.unmatchedGts).toEqual([1]);
    });

    it('optimal: finds more true positives than greedy on the same boxes', () => {
      // Act: the Hungarian matching pairs A–Y and B–X, both ≥ 0.5.
      const m = matchDetections([A, B], [X, Y], { method: 'optimal' });

      // Assert
      expect([m.tp, m.fp, m.fn]).toEqual([2, 0, 0]);
      expect(m.matches.map(({ det, gt }) => [det, gt])).toEqual([
        [0, 1],
        [1, 0],
      ]);
    });

    it('optimal: maximises true positives before total IoU', () => {
      // Arrange (length-100 strips): X=[0,100], Y=[29,129], Z=[58,158];
      // A=[0,100] (0.8), B=[29,129] (0.7), C=[−29,71] (0.9).
      // Valid pairs (IoU ≥ 0.5): A–X 1, A–Y 71/129, B–Y 1, B–X 71/129, B–Z 71/129, C–X 71/129.
      // Pure maximum total IoU picks A–X + B–Y = 2.0 (2 TPs) over
      // C–X + A–Y + B–Z = 3·71/129 ≈ 1.651 (3 TPs) — fewer TPs than greedy finds.
      const gts = [gt(strip(0, 100)), gt(strip(29, 129)), gt(strip(58, 158))];
      const dets = [det(strip(0, 100), 0.8), det(strip(29, 129), 0.7), det(strip(-29, 71), 0.9)];

      // Act
      const greedy = matchDetections(dets, gts, { method: 'greedy' });
      const optimal = matchDetections(dets, gts, { method: 'optimal' });

      // Assert
      expect(greedy.tp).toBe(3);
      expect(optimal.tp).toBe(3);
      expect(optimal.matches.map(({ det, gt }) => [det, gt])).toEqual([
        [2, 0],
        [0, 1],
        [1, 2],
      ]);
    });

    it('optimal: handles more detections than ground truths (rectangular, tall)', () => {
      // A, B plus a far-away detection C: 3 × 2 matrix.
      const C = det(strip(100, 110), 0.95);
      const m = matchDetections([A, B, C], [X, Y], { method: 'optimal' });
      expect([m.tp, m.fp, m.fn]).toEqual([2, 1, 0]);
      expect(m.unmatchedDets).toEqual([2]);
    });

    it('optimal: handles more ground truths than detections (rectangular, wide)', () => {
      // X, Y plus a far-away finding W: 2 × 3 matrix.
      const W = gt(strip(100, 110));
      const m = matchDetections([A, B], [X, Y, W], { method: 'optimal' });
      expect([m.tp, m.fp, m.fn]).toEqual([2, 0, 1]);
      expect(m.unmatchedGts).toEqual([2]);
    });

    it.each(['greedy', 'optimal'] as const)('%s: many detections on one finding give one TP and FPs', (method) => {
      const m = matchDetections([A, B, det(strip(0, 10), 0.5)], [X], { method });
      expect([m.tp, m.fp, m.fn]).toEqual([1, 2, 0]);
    });

    it.each(['greedy', 'optimal'] as const)('%s: no detections → every finding is a FN', (method) => {
      const m = matchDetections([], [X, Y], { method });
      expect([m.tp, m.fp, m.fn]).toEqual([0, 0, 2]);
      expect(m.unmatchedGts).toEqual([0, 1]);
    });

    it.each(['greedy', 'optimal'] as const)('%s: no ground truth → every detection is a FP', (method) => {
      const m = matchDetections([A, B], [], { method });
      expect([m.tp, m.fp, m.fn]).toEqual([0, 2, 0]);
      expect(m.unmatchedDets).toEqual([0, 1]);
    });

    it.each(['greedy', 'optimal'] as const)('%s: nothing on either side → all counts 0', (method) => {
      const m = matchDetections([], [], { method });
      expect([m.tp, m.fp, m.fn, m.matches.length]).toEqual([0, 0, 0, 0]);
    });

    it.each(['greedy', 'optimal'] as const)('%s: IoU exactly at the threshold counts (≥)', (method) => {
      // 2×2 box vs its lower half: 2 / 4 = 0.5.
      const m = matchDetections(
        [det({ x: 0, y: 0, w: 2, h: 2 }, 1)],
        [gt({ x: 0, y: 0, w: 2, h: 1 })],
        { method, iouThreshold: 0.5 },
      );
      expect(m.tp).toBe(1);
    });

    it('threshold 1 matches identical boxes (pycocotools uses 1 − 1e-10)', () => {
      const m = matchDetections([det(strip(0.1, 0.3), 1)], [gt(strip(0.1, 0.3))], { method: 'greedy', iouThreshold: 1 });
      expect(m.tp).toBe(1);
    });

    it.each(['greedy', 'optimal'] as const)(
      '%s: a detection on an ignored finding is neither TP nor FP, and the ignored finding is no FN',
      (method) => {
        // Arrange: det 0 sits on the ignored region only; det 1 on the regular finding.
        const gts = [gt(strip(0, 10), true), gt(strip(50, 60))];
        const dets = [det(strip(0, 10), 0.9), det(strip(50, 60), 0.8)];

        // Act
        const m = matchDetections(dets, gts, { method });

        // Assert
        expect(m.ignoredDets).toEqual([0]);
        expect([m.tp, m.fp, m.fn]).toEqual([1, 0, 0]);
      },
    );

    it.each(['greedy', 'optimal'] as const)(
      '%s: a detection prefers a regular finding to an ignored one of higher IoU',
      (method) => {
        // Ignored region [0,10] (IoU 1 with the det), regular finding [2,12] (IoU 8/12).
        const m = matchDetections([det(strip(0, 10), 0.9)], [gt(strip(0, 10), true), gt(strip(2, 12))], { method });
        expect(m.matches).toEqual([{ det: 0, gt: 1, iou: 8 / 12 }]);
        expect(m.ignoredDets).toEqual([]);
      },
    );

    it('an ignored finding absorbs only one detection (non-crowd, as pycocotools)', () => {
      const m = matchDetections([det(strip(0, 10), 0.9), det(strip(0, 10), 0.8)], [gt(strip(0, 10), true)], {
        method: 'greedy',
      });
      expect(m.ignoredDets).toEqual([0]);
      expect(m.unmatchedDets).toEqual([1]);
      expect([m.tp, m.fp, m.fn]).toEqual([0, 1, 0]);
    });

    it('greedy: equal scores keep input order (stable sort, as pycocotools mergesort)', () => {
      const m = matchDetections([det(strip(0, 10), 0.5), det(strip(0, 10), 0.5)], [X], { method: 'greedy' });
      expect(m.matches[0].det).toBe(0);
    });

    it('greedy: on equal IoU the later ground truth wins (pycocotools replaces its best on >=)', () => {
      // The det [0,10] overlaps [−2,8] and [2,12] with IoU 8/12 each.
      const m = matchDetections([det(strip(0, 10), 1)], [gt(strip(-2, 8)), gt(strip(2, 12))], { method: 'greedy' });
      expect(m.matches[0].gt).toBe(1);
    });

    it('rejects a threshold outside (0, 1] and an unknown method', () => {
      expect(() => matchDetections([A], [X], { method: 'greedy', iouThreshold: 0 })).toThrow(DetectionInputError);
      expect(() => matchDetections([A], [X], { method: 'greedy', iouThreshold: 1.5 })).toThrow(DetectionInputError);
      expect(() => matchDetections([A], [X], { method: 'best' as 'greedy' })).toThrow(DetectionInputError);
    });
  });

  describe('Function: matchIoUMatrix', () => {
    it('matches from a precomputed (e.g. mask) IoU matrix', () => {
      // det 1 (score 0.9) is considered first and takes gt 0; det 0 then has nothing.
      const m = matchIoUMatrix([[0.9], [0.6]], [0.8, 0.9], [false], { method: 'greedy' });
      expect(m.matches).toEqual([{ det: 1, gt: 0, iou: 0.6 }]);
      expect(m.unmatchedDets).toEqual([0]);
    });

    it('rejects a matrix whose shape does not fit the scores and ground truths', () => {
      expect(() => matchIoUMatrix([[0.5, 0.5]], [1], [false], { method: 'optimal' })).toThrow(DetectionInputError);
      expect(() => matchIoUMatrix([[1.5]], [1], [false], { method: 'optimal' })).toThrow(DetectionInputError);
    });
  });

  describe('Function: matchLesions', () => {
    it('counts a mark exactly on the radius as a miss (dist² < r², strict)', () => {
      // Arrange: 10 mm nodule at the origin; the mark is 5 mm away: 25 < 25 is false.
      const lesions = [lesion(0, 10)];

      // Act
      const onRadius = matchLesions([mark(5, 0.9)], lesions);
      const inside = matchLesions([mark(4.999, 0.9)], lesions);

      // Assert
      expect([onRadius.tp, onRadius.fp, onRadius.fn]).toEqual([0, 1, 1]);
      expect([inside.tp, inside.fp, inside.fn]).toEqual([1, 0, 0]);
    });

    it('keeps the highest-probability mark of a double detection and ignores the other', () => {
      const m = matchLesions([mark(1, 0.6), mark(-1, 0.9)], [lesion(0, 10)]);
      expect(m.hits).toEqual([{ lesion: 0, mark: 1, probability: 0.9, distanceMm: 1 }]);
      expect(m.duplicateMarks).toEqual([0]);
      expect([m.tp, m.fp, m.fn]).toEqual([1, 0, 0]);
    });

    it('keeps the first mark on equal probabilities (the script keeps the first strictly larger)', () => {
      const m = matchLesions([mark(1, 0.7), mark(-1, 0.7)], [lesion(0, 10)]);
      expect(m.hits[0].mark).toBe(0);
    });

    it('ignores marks on excluded findings, which are never misses', () => {
      const m = matchLesions([mark(0, 0.9), mark(100, 0.5)], [lesion(0, 10, { excluded: true })]);
      expect(m.irrelevantMarks).toEqual([0]);
      expect(m.falsePositiveMarks).toEqual([1]);
      expect([m.tp, m.fp, m.fn]).toEqual([0, 1, 0]);
    });

    it('credits a mark inside an included and an excluded finding to the included one', () => {
      // Excluded finding listed first: LUNA16 still processes included findings first.
      const m = matchLesions([mark(2, 0.9)], [lesion(0, 10, { excluded: true }), lesion(3, 10)]);
      expect(m.hits.map((h) => [h.lesion, h.mark])).toEqual([[1, 0]]);
      expect(m.irrelevantMarks).toEqual([]);
    });

    it('lets one mark inside two overlapping included nodules detect both (as the script)', () => {
      const m = matchLesions([mark(0, 0.9)], [lesion(-2, 10), lesion(2, 10)]);
      expect([m.tp, m.fp, m.fn]).toEqual([2, 0, 0]);
    });

    it('uses 10 mm for an unknown (negative) diameter, as LUNA16', () => {
      expect(matchLesions([mark(4.9, 0.5)], [lesion(0, -1)]).tp).toBe(1);
      expect(matchLesions([mark(5, 0.5)], [lesion(0, -1)]).tp).toBe(0);
    });

    it('with no marks every included lesion is missed; with no lesions every mark is a FP', () => {
      const noMarks = matchLesions([], [lesion(0, 5), lesion(50, 5), lesion(90, 5, { excluded: true })]);
      const noLesions = matchLesions([mark(0, 0.5), mark(1, 0.4)], []);
      expect([noMarks.tp, noMarks.fp, noMarks.fn]).toEqual([0, 0, 2]);
      expect([noLesions.tp, noLesions.fp, noLesions.fn]).toEqual([0, 2, 0]);
    });

    it('measures distance in 3D', () => {
      // (3, 4, 0) is 5 mm from the origin: outside a 10 mm nodule's radius, inside a 10.1 mm one.
      const m: LesionMark = { x: 3, y: 4, z: 0, probability: 1 };
      expect(matchLesions([m], [lesion(0, 10)]).tp).toBe(0);
      expect(matchLesions([m], [lesion(0, 10.1)]).tp).toBe(1);
    });
  });

  describe('Function: npInterp', () => {
    const xp = [0, 0, 1, 1.5, 2.5, 2.5, 4.5];
    const fp = [0, 0.25, 0.5, 0.5, 0.5, 0.75, 0.75];

    it('interpolates linearly inside a segment', () => {
      expect(npInterp(0.5, xp, fp)).toBe(0.375);
    });

    it('clamps at both ends (np.interp left/right defaults)', () => {
      expect(npInterp(-1, xp, fp)).toBe(0);
      expect(npInterp(9, xp, fp)).toBe(0.75);
      expect(npInterp(4.5, xp, fp)).toBe(0.75);
    });

    it('takes the last of repeated xp values (a vertical step), as numpy', () => {
      // Cross-checked once with numpy 2.4: np.interp([0, 2.5], xp, fp) → [0.25, 0.75].
      expect(npInterp(0, xp, fp)).toBe(0.25);
      expect(npInterp(2.5, xp, fp)).toBe(0.75);
    });

    it('handles a single point and rejects a decreasing xp', () => {
      expect(npInterp(3, [1], [0.4])).toBe(0.4);
      expect(() => npInterp(0, [1, 0], [0, 1])).toThrow(RangeError);
    });
  });

  describe('Function: froc', () => {
    // Two scans, four included lesions. Marks ranked by probability (FP/scan = FPs / 2,
    // sensitivity = TPs / 4):
    //   0.9  TP (A1)                 → (0,   0.25)
    //   0.8  FP, FP, TP (B1) (tied)  → (1,   0.50)   diagonal step: ties enter together
    //   0.6  FP                      → (1.5, 0.50)
    //   0.5  FP, FP                  → (2.5, 0.50)
    //   0.4  TP (A2)                 → (2.5, 0.75)
    //   0.1  FP ×4                   → (4.5, 0.75)
    // A3 is never found. Ignored: a 0.2 double detection on A1, a 0.95 mark on an
    // excluded finding in scan B.
    // np.interp at the LUNA16 rates (hand, and checked once with numpy 2.4):
    //   1/8 → 0.25 + 0.25·(1/8) = 0.28125; 1/4 → 0.3125; 1/2 → 0.375 (on the diagonal);
    //   1 → 0.5; 2 → 0.5; 4 → 0.75 (last of the repeated 2.5, flat to 4.5); 8 → 0.75 (clamped).
    //   CPM = (0.28125 + 0.3125 + 0.375 + 0.5 + 0.5 + 0.75 + 0.75) / 7 = 3.46875 / 7 ≈ 0.4955357.
    const far = (k: number, p: number): LesionMark => mark(1000 + 20 * k, p);
    const scans: FrocScan[] = [
      {
        lesions: [lesion(0, 10, { id: 'A1' }), lesion(100, 10, { id: 'A2' }), lesion(200, 10, { id: 'A3' })],
        marks: [mark(0, 0.9), mark(1, 0.2), far(0, 0.8), far(1, 0.6), mark(100, 0.4), far(2, 0.1), far(3, 0.1)],
      },
      {
        lesions: [lesion(0, 10, { id: 'B1' }), lesion(300, 10, { excluded: true })],
        marks: [mark(0, 0.8), far(0, 0.8), far(1, 0.5), far(2, 0.5), far(3, 0.1), far(4, 0.1), mark(300, 0.95)],
      },
    ];

    it('builds the FROC curve: one point per distinct probability, ignored marks left out', () => {
      // Act
      const r = froc(scans);

      // Assert
      expect(r.curve.map((p) => [p.threshold, p.fpPerScan, p.sensitivity])).toEqual([
        [Number.POSITIVE_INFINITY, 0, 0],
        [0.9, 0, 0.25],
        [0.8, 1, 0.5],
        [0.6, 1.5, 0.5],
        [0.5, 2.5, 0.5],
        [0.4, 2.5, 0.75],
        [0.1, 4.5, 0.75],
      ]);
      expect([r.scans, r.lesions, r.detected, r.falsePositives, r.ignoredMarks]).toEqual([2, 4, 3, 9, 2]);
    });

    it('reads sensitivity at the LUNA16 rates with np.interp and averages them into the CPM', () => {
      const r = froc(scans);
      expect(r.sensitivityAtFpRates.map((s) => s.sensitivity.value)).toEqual([
        0.28125, 0.3125, 0.375, 0.5, 0.5, 0.75, 0.75,
      ]);
      expect(r.cpm.value).toBeCloseTo(3.46875 / 7, 12);
    });

    it('clamps rates beyond the end of the curve to its final sensitivity', () => {
      // One scan, one found nodule, one FP at lower probability: the curve ends at 1 FP/scan.
      const r = froc([{ lesions: [lesion(0, 10), lesion(50, 10)], marks: [mark(0, 0.9), far(0, 0.5)] }], {
        fpRates: [0.5, 1, 2, 8],
      });
      expect(r.sensitivityAtFpRates.map((s) => s.sensitivity.value)).toEqual([0.5, 0.5, 0.5, 0.5]);
    });

    it('gives the final sensitivity at every rate when there are no false positives', () => {
      // Curve (0,0) → (0,1/2): every rate lies beyond x = 0.
      const r = froc([{ lesions: [lesion(0, 10), lesion(50, 10)], marks: [mark(0, 0.9)] }]);
      expect(r.cpm.value).toBe(0.5);
    });

    it('reports 0, not NaN, when lesions exist but nothing was marked (the script cannot)', () => {
      const r = froc([{ lesions: [lesion(0, 10)], marks: [] }]);
      expect(r.curve).toEqual([{ threshold: Number.POSITIVE_INFINITY, fpPerScan: 0, sensitivity: 0 }]);
      expect(r.cpm.value).toBe(0);
    });

    it('is undefined, with a reason, when no scan has an included lesion', () => {
      const r = froc([{ lesions: [lesion(0, 10, { excluded: true })], marks: [mark(50, 0.5)] }]);
      expect(r.cpm.value).toBeNaN();
      expect(r.cpm.reason).toMatch(/no included lesions/);
      expect(r.sensitivityAtFpRates.every((s) => Number.isNaN(s.sensitivity.value))).toBe(true);
    });

    it('is undefined, with a reason, without scans', () => {
      expect(froc([]).cpm.reason).toMatch(/no scans/);
    });

    it('caps marks per scan as the LUNA16 script: strictly above the (max+1)-th probability', () => {
      // Probabilities 0.9, 0.8, 0.8 with a cap of 2: the cut is 0.8, so only 0.9 survives.
      const r = froc([{ lesions: [lesion(0, 10)], marks: [far(0, 0.9), mark(0, 0.8), far(1, 0.8)] }], {
        maxMarksPerScan: 2,
      });
      expect([r.detected, r.falsePositives]).toEqual([0, 1]);
    });
  });

  describe('Function: scoreLesionItem', () => {
    it('reports TP, FP, FN and the rates for one scan', () => {
      // Arrange: 2 nodules, one found (plus a double detection), one FP elsewhere.
      const lesions = [lesion(0, 6, { id: 'n1' }), lesion(50, 3, { id: 'n2' })];
      const marks = [mark(0, 0.9), mark(1, 0.4), mark(100, 0.3)];

      // Act
      const s = scoreLesionItem(marks, lesions, { criticalDiameterMm: 4 });

      // Assert: sensitivity 1/2, precision 1/2, F1 = 2/(2+1+1) = 1/2; n2 (3 mm) is not critical.
      expect([s.tp, s.fp, s.fn, s.ignored]).toEqual([1, 1, 1, 1]);
      expect([s.sensitivity.value, s.precision.value, s.f1.value]).toEqual([0.5, 0.5, 0.5]);
      expect(s.criticalMisses).toEqual([]);
    });

    it('lists missed nodules at or above the critical diameter with ids and sizes', () => {
      const lesions = [
        lesion(0, 4, { id: 'exactly-critical' }),
        lesion(50, 3.9, { id: 'small' }),
        lesion(100, 12, { id: 'large-excluded', excluded: true }),
        lesion(150, -1, { id: 'unknown-size' }),
      ];
      const s = scoreLesionItem([], lesions, { criticalDiameterMm: 4 });
      expect(s.criticalMisses).toEqual([
        { lesion: 0, id: 'exactly-critical', diameterMm: 4, diameterKnown: true },
        { lesion: 3, id: 'unknown-size', diameterMm: 10, diameterKnown: false },
      ]);
    });

    it('with no findings and no marks, leaves every rate undefined and says why', () => {
      const s = scoreLesionItem([], [], { criticalDiameterMm: 4 });
      for (const r of [s.sensitivity, s.precision, s.f1]) {
        expect(r.value).toBeNaN();
        expect(r.reason).toBeTruthy();
      }
    });

    it('with findings but no marks: sensitivity 0, precision undefined, F1 0 by its formula', () => {
      const s = scoreLesionItem([], [lesion(0, 5)], { criticalDiameterMm: Number.POSITIVE_INFINITY });
      expect(s.sensitivity.value).toBe(0);
      expect(s.precision.value).toBeNaN();
      expect(s.precision.reason).toMatch(/denominator 0/);
      expect(s.f1).toEqual({ value: 0, reason: expect.stringMatching(/2TP\/\(2TP\+FP\+FN\)/) });
    });

    it('with marks but no findings: sensitivity undefined, precision 0, F1 0', () => {
      const s = scoreLesionItem([mark(0, 0.5)], [], { criticalDiameterMm: 4 });
      expect(s.sensitivity.value).toBeNaN();
      expect([s.precision.value, s.f1.value]).toEqual([0, 0]);
    });

    it('does not count marks on excluded findings in precision', () => {
      const s = scoreLesionItem([mark(0, 0.5), mark(50, 0.5)], [lesion(0, 10, { excluded: true }), lesion(50, 10)], {
        criticalDiameterMm: 4,
      });
      expect([s.tp, s.fp, s.ignored, s.precision.value]).toEqual([1, 0, 1, 1]);
    });
  });

  describe('Function: detectionItemScores', () => {
    it('reports counts, rates and critical misses by largest side in mm', () => {
      // Arrange: 0.5 mm pixels. Missed boxes: 12×8 px → 6 mm (critical at 4 mm), 6×6 px → 3 mm.
      const gts = [gt({ x: 0, y: 0, w: 12, h: 8 }, false, 'big'), gt({ x: 100, y: 0, w: 6, h: 6 }), gt(strip(200, 210))];
      const dets = [det(strip(200, 210), 0.9), det(strip(300, 310), 0.4)];

      // Act
      const s = detectionItemScores(dets, gts, { method: 'greedy', criticalSize: 4, spacing: [0.5, 0.5] });

      // Assert
      expect([s.tp, s.fp, s.fn]).toEqual([1, 1, 2]);
      expect(s.sensitivity.value).toBeCloseTo(1 / 3, 12);
      expect(s.precision.value).toBe(0.5);
      expect(s.f1.value).toBeCloseTo(2 / (2 + 1 + 2), 12);
      expect(s.criticalMisses).toEqual([{ gt: 0, id: 'big', size: 6 }]);
    });

    it('never lists an ignored finding as a critical miss', () => {
      const s = detectionItemScores([], [gt(strip(0, 50), true)], { method: 'optimal', criticalSize: 1 });
      expect(s.criticalMisses).toEqual([]);
      expect(s.sensitivity.value).toBeNaN();
    });

    it('with no findings and no detections, leaves every rate undefined', () => {
      const s = detectionItemScores<Box2D>([], [], { method: 'greedy' });
      expect([s.sensitivity.value, s.precision.value, s.f1.value].every(Number.isNaN)).toBe(true);
    });

    it('rejects a spacing that does not fit the box dimension', () => {
      expect(() =>
        detectionItemScores([], [gt(strip(0, 1))], { method: 'greedy', criticalSize: 1, spacing: [1, 1, 1] }),
      ).toThrow(DetectionInputError);
    });
  });
});
