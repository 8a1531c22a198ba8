/** Payloads the workflow hands to each task (kept small: ids only). */
import { z } from 'zod';
import { Identifier } from '../domain/index.js';

export const BatchRef = z.object({ batchId: Identifier });
export const AwaitSubmissionEvent = BatchRef.extend({
  taskToken: z.string().min(1),
  slaSeconds: z.number().int().min(1),
});
export const SettleBatchEvent = BatchRef.extend({ verdict: z.enum(['accepted', 'rejected', 'inconclusive']) });
export const MarkOverdueEvent = BatchRef.extend({ timeout: z.string().optional() });
export const RecordFailureEvent = BatchRef.extend({
  error: z.string().optional(),
  cause: z.string().optional(),
});
export const DispatchRoundEvent = z.object({
  programId: Identifier,
  protocolId: Identifier,
  version: z.number().int().positive(),
  round: z.number().int().min(1),
  limit: z.number().int().positive().optional(),
  /** Batches per chunk of the round's dispatch (1–50; default 50). */
  chunkBatches: z.number().int().min(1).max(50).optional(),
  actor: z.string().min(1),
});
/** One chunk of a committed round (PlanRound's answer lists them; the round-dispatch Map hands each to DispatchChunk). */
export const RoundChunkEvent = DispatchRoundEvent.omit({ limit: true, chunkBatches: true }).extend({
  chunk: z.number().int().min(0),
  resumed: z.boolean(),
});
export const AdjudicationRef = BatchRef.extend({ adjudicationId: z.string().min(1) });
export const RequestAdjudicationEvent = AdjudicationRef.extend({
  taskToken: z.string().min(1),
  timeoutSeconds: z.number().int().min(1),
});
