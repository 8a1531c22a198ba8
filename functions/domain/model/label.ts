/** Stored labels carry their full lineage: who, under which protocol, from which file. */
import { z } from 'zod';

export const StoredLabel = z.object({
  caseId: z.string(),
  batchId: z.string(),
  label: z.string(),
  workforceId: z.string(),
  annotatorId: z.string(),
  protocol: z.string(),
  submissionKey: z.string(),
  submissionSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Labels on gold items are kept for audit but never enter a dataset. */
  gold: z.boolean(),
  status: z.enum(['accepted', 'rejected']),
  createdAt: z.iso.datetime(),
});
export type StoredLabel = z.infer<typeof StoredLabel>;
