/**
 * Detection metrics: box IoU (2D/3D), matching of predicted boxes to ground truth
 * (COCO-greedy or optimal), LUNA16 lesion hit rules, FROC/CPM, and per-item
 * TP/FP/FN, sensitivity, precision, F1 and critical misses.
 *
 * Definitions and edge-case conventions: shared/docs/METRICS.md § Detection.
 * References: pycocotools `COCOeval.evaluateImg` and `maskApi.c bbIou` (boxes),
 * LUNA16 `noduleCADEvaluationLUNA16.py` (lesions, FROC), `np.interp` (CPM).
 * Pure: plain data in, plain data out. Indices in results refer to the input arrays.
 *
 * One room per part: boxes and IoU (detection-boxes.ts), box matching
 * (detection-matching.ts), the LUNA16 lesion rule (lesion-matching.ts), FROC and
 * CPM (froc.ts), per-item scores (detection-items.ts); this module exports them all.
 */
export {
  type Box2D,
  type Box3D,
  boxIoU2D,
  boxIoU3D,
  type Detection,
  type DetectionBox,
  DetectionInputError,
  type GroundTruth,
  iouMatrix,
  type Lesion,
  type LesionMark,
} from './detection-boxes.js';
export {
  type BoxItemOptions,
  type CriticalBoxMiss,
  type CriticalLesionMiss,
  detectionItemScores,
  type ItemDetectionScores,
  type LesionItemOptions,
  scoreLesionItem,
} from './detection-items.js';
export {
  type DetectionMatching,
  matchDetections,
  type MatchedPair,
  matchIoUMatrix,
  type MatchMethod,
  type MatchOptions,
} from './detection-matching.js';
export {
  froc,
  type FrocOptions,
  type FrocPoint,
  type FrocResult,
  type FrocScan,
  LUNA16_FP_RATES,
  npInterp,
} from './froc.js';
export {
  type LesionHit,
  type LesionMatching,
  matchLesions,
} from './lesion-matching.js';
