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
});
export type Submission = z.infer<typeof Submission>;
