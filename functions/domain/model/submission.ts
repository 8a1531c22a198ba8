/** Vendor submissions: label files uploaded through presigned upload slots. */
import { z } from 'zod';

/**
 * Smallest non-zero magnitude a submitted number may have. DynamoDB's Number
 * stores magnitudes 1e-130..1e126 only (a finding of 1e-140 made FinalizeBatch
 * throw); nothing Goldline measures is meaningful below 1e-9, so a smaller
 * non-zero value is refused (write 0), not silently rounded.
 */
export const MIN_NONZERO_MAGNITUDE = 1e-9;
const representable = { error: `must be 0 or at least ${MIN_NONZERO_MAGNITUDE} in magnitude` };
const isRepresentable = (v: number): boolean => v === 0 || Math.abs(v) >= MIN_NONZERO_MAGNITUDE;

/** Coordinates and sizes in mm: at most 10 m, far beyond any scanner (within the image is checked with its grid). */
export const MAX_COORDINATE_MM = 10_000;
/** A coordinate in mm: finite, at most 10 m from the image origin, storable. */
const Millimetres = z.number().finite().min(-MAX_COORDINATE_MM).max(MAX_COORDINATE_MM).refine(isRepresentable, representable);
/** A probability or confidence: in [0, 1] and storable. */
const Probability = z.number().min(0).max(1).refine(isRepresentable, representable);

/**
 * The model that pre-labelled an item, where one was used (the annotator
 * reviewed its suggestion): declared on the label line, kept on the stored
 * label, shown in the case trace.
 */
export const PreLabel = z.strictObject({ model: z.string().min(1).max(128), version: z.string().min(1).max(64) });
export type PreLabel = z.infer<typeof PreLabel>;

/** One line of an uploaded JSON Lines label file (classification). */
export const ClassificationLabelLine = z.strictObject({
  alias: z.string().min(1).max(64),
  label: z.string().min(1).max(256),
  annotator: z.string().min(1).max(128),
  confidence: Probability.optional(),
  preLabel: PreLabel.optional(),
});
export type ClassificationLabelLine = z.infer<typeof ClassificationLabelLine>;

/** A marked finding: centroid in mm (from the image's first voxel corner), optional diameter, probability. */
export const MarkedFinding = z.strictObject({
  x: Millimetres,
  y: Millimetres,
  z: Millimetres,
  diameterMm: z.number().positive().max(MAX_COORDINATE_MM).refine(isRepresentable, representable).optional(),
  probability: Probability.default(1),
});

/** One line of a detection label file: every finding marked on one item. */
export const DetectionLabelLine = z.strictObject({
  alias: z.string().min(1).max(64),
  annotator: z.string().min(1).max(128),
  findings: z.array(MarkedFinding).max(1000),
  preLabel: PreLabel.optional(),
});
export type DetectionLabelLine = z.infer<typeof DetectionLabelLine>;

/** A mask inline in a label line: goldline-rle3d/1, or a NIfTI-1 file in base64. */
export const UploadedMask = z.union([
  z.looseObject({ format: z.literal('goldline-rle3d/1') }),
  z.strictObject({ format: z.literal('nifti'), encoding: z.literal('base64'), data: z.string().min(1) }),
]);
export type UploadedMask = z.infer<typeof UploadedMask>;

/** One line of a segmentation label file: the mask of one item. */
export const SegmentationLabelLine = z.strictObject({
  alias: z.string().min(1).max(64),
  annotator: z.string().min(1).max(128),
  mask: UploadedMask,
  preLabel: PreLabel.optional(),
});
export type SegmentationLabelLine = z.infer<typeof SegmentationLabelLine>;

export type LabelLine = ClassificationLabelLine | DetectionLabelLine | SegmentationLabelLine;

/** A server-chosen upload id (the last segment of the slot's key). */
export const UploadId = z.string().regex(/^[a-z0-9]{8,40}$/, 'an upload id is 8 to 40 lowercase letters or digits');

/** An upload slot: the server chose the key; size and hash are declared up front. */
export const UploadSlot = z.object({
  batchId: z.string(),
  uploadId: UploadId,
  key: z.string(),
  workforceId: z.string(),
  sizeBytes: z.number().int().min(0),
  sha256Hex: z.string().regex(/^[0-9a-f]{64}$/),
  expiresAt: z.iso.datetime(),
});
export type UploadSlot = z.infer<typeof UploadSlot>;

export const LineProblem = z.object({
  /** 1-based line number; 0 for problems of the file as a whole. */
  line: z.number().int().min(0),
  reason: z.string(),
});
export type LineProblem = z.infer<typeof LineProblem>;

export const SubmissionStatus = z.enum(['received', 'rejected', 'valid', 'superseded']);

export const Submission = z.object({
  batchId: z.string(),
  uploadId: z.string(),
  key: z.string(),
  sha256Hex: z.string(),
  sizeBytes: z.number().int().min(0),
  /** The S3 version ingest read (absent where the store keeps no versions): every later step reads exactly it. */
  versionId: z.string().min(1).max(1024).optional(),
  status: SubmissionStatus,
  problems: z.array(LineProblem).default([]),
  receivedAt: z.iso.datetime(),
  /** When ingest sent the task token back (so a repeated event does not resend it). */
  callbackSentAt: z.iso.datetime().optional(),
});
export type Submission = z.infer<typeof Submission>;
