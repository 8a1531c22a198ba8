/** Vendor submissions: label files uploaded through presigned upload slots. */
import { z } from 'zod';

/** One line of an uploaded JSON Lines label file (classification). */
export const ClassificationLabelLine = z.strictObject({
  alias: z.string().min(1),
  label: z.string().min(1),
  annotator: z.string().min(1).max(128),
  confidence: z.number().min(0).max(1).optional(),
});
export type ClassificationLabelLine = z.infer<typeof ClassificationLabelLine>;

/** A marked finding: centroid in mm (image space), optional diameter, probability. */
export const MarkedFinding = z.strictObject({
  x: z.number().finite(),
  y: z.number().finite(),
  z: z.number().finite(),
  diameterMm: z.number().positive().finite().optional(),
  probability: z.number().min(0).max(1).default(1),
});

/** One line of a detection label file: every finding marked on one item. */
export const DetectionLabelLine = z.strictObject({
  alias: z.string().min(1),
  annotator: z.string().min(1).max(128),
  findings: z.array(MarkedFinding).max(1000),
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
  alias: z.string().min(1),
  annotator: z.string().min(1).max(128),
  mask: UploadedMask,
});
export type SegmentationLabelLine = z.infer<typeof SegmentationLabelLine>;

export type LabelLine = ClassificationLabelLine | DetectionLabelLine | SegmentationLabelLine;

/** An upload slot: the server chose the key; size and hash are declared up front. */
export const UploadSlot = z.object({
  batchId: z.string(),
  uploadId: z.string().regex(/^[a-z0-9]{8,40}$/),
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
  status: SubmissionStatus,
  problems: z.array(LineProblem).default([]),
  receivedAt: z.iso.datetime(),
  /** When ingest sent the task token back (so a repeated event does not resend it). */
  callbackSentAt: z.iso.datetime().optional(),
});
export type Submission = z.infer<typeof Submission>;
