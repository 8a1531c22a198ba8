/** Batches: the unit of work a workforce receives, one Step Functions execution each. */
import { z } from 'zod';
import { Identifier } from './protocol.js';

export const BatchStatus = z.enum([
  'planned',
  'awaiting-submission',
  'submitted',
  'accepted',
  'rejected',
  /** Scored, but the acceptance rule needs more gold: held (labels kept with its upload, cases still assigned, not paid yet) until a later decision settles it. */
  'inconclusive',
  'overdue',
  'failed',
]);
export type BatchStatus = z.infer<typeof BatchStatus>;

/** A random per-batch alias: all a vendor knows of an item (and the last segment of its image key). */
export const Alias = z.string().regex(/^[a-z0-9]{6,32}$/, 'an alias is 6 to 32 lowercase letters or digits');

/** One item of a batch as Goldline sees it. The vendor sees only `alias`. */
export const BatchItem = z.object({
  alias: Alias,
  caseId: Identifier,
  gold: z.boolean(),
  /** Also sent to another workforce this round, for agreement (never shown to the vendor). */
  overlap: z.boolean().default(false),
  /** This batch holds the second copy of an overlap case: the case's state follows the first. */
  overlapSecondary: z.boolean().default(false),
});
export type BatchItem = z.infer<typeof BatchItem>;

export const Batch = z.object({
  batchId: Identifier,
  programId: Identifier,
  round: z.number().int().min(1),
  protocol: z.string().regex(/^[a-z0-9][a-z0-9._-]*@\d+$/),
  workforceId: Identifier,
  workforceKind: z.enum(['internal', 'vendor']),
  /** `exam`: a gold-only qualification exam (functions/use-cases/exams.ts), never production work; absent: production. */
  kind: z.literal('exam').optional(),
  itemCount: z.number().int().min(1),
  goldCount: z.number().int().min(0),
  slaHours: z.number().positive(),
  status: BatchStatus,
  createdAt: z.iso.datetime(),
});
export type Batch = z.infer<typeof Batch>;

/** What the workflow carries between states (kept small: ids, not data). */
export const BatchExecutionInput = z.object({
  batchId: Identifier,
  slaSeconds: z.number().int().min(1),
  heartbeatSeconds: z.number().int().min(1),
});
export type BatchExecutionInput = z.infer<typeof BatchExecutionInput>;
