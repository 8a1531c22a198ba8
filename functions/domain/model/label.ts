/** Stored labels carry their full lineage: who, under which protocol, from which file. */
import { z } from 'zod';
import { PreLabel } from './submission.js';

export const StoredLabel = z.object({
  caseId: z.string(),
  batchId: z.string(),
  /** Classification: the class. Detection: "<n> finding(s)". Segmentation: "mask". */
  label: z.string(),
  /** Detection: the marked findings, as uploaded. */
  findings: z
    .array(z.object({ x: z.number(), y: z.number(), z: z.number(), diameterMm: z.number().optional(), probability: z.number() }))
    .optional(),
  /** Segmentation: where the mask is (the submission object and its line). */
  maskRef: z.object({ line: z.number().int().min(1), format: z.string(), voxels: z.number().int().min(0) }).optional(),
  workforceId: z.string(),
  annotatorId: z.string(),
  /** The pre-label model the annotator started from, where the label line declared one. */
  preLabel: PreLabel.optional(),
  protocol: z.string(),
  submissionKey: z.string(),
  submissionSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The version of the submission object that was ingested (absent where the store keeps no versions). */
  submissionVersionId: z.string().optional(),
  /** Labels on gold items are kept for audit but never enter a dataset. */
  gold: z.boolean(),
  status: z.enum(['accepted', 'rejected', 'superseded']),
  /** Set on an expert's adjudicated label: the adjudication that decided it. */
  adjudicationId: z.string().optional(),
  createdAt: z.iso.datetime(),
});
export type StoredLabel = z.infer<typeof StoredLabel>;
