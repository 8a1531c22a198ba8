/**
 * A batch's acceptance decision as it is stored (in the score and in the
 * ledger): which rule decided, on what gold evidence, and which earlier
 * inconclusive batches of the same vendor and protocol version it pooled
 * (`carried`). docs/acceptance-sampling.md, "The lifecycle".
 */
import { z } from 'zod';

/** The rules of functions/domain/acceptance/decision.ts, and `sprt-forced` (a PM closing carried batches no further batch will decide). */
export const BatchDecisionRule = z.enum(['single-plan', 'single-plan-curtailed', 'sprt', 'sprt-truncated', 'fixed-threshold', 'blocker', 'sprt-forced']);

export const BatchDecisionEvidence = z.object({
  /** Gold items the decision rests on (pooled over `batches`). */
  n: z.number().int().min(0),
  wrong: z.number().int().min(0),
  batches: z.number().int().min(1),
  /** Acceptance number applied at this n, if any. */
  c: z.number().int().nullable(),
  /** SPRT log-likelihood ratio of the pooled evidence. */
  llr: z.number().nullable(),
  bounds: z.object({ accept: z.number(), reject: z.number() }).nullable(),
});

export const BatchDecisionRecord = z.object({
  decision: z.enum(['accept', 'reject', 'inconclusive']),
  rule: BatchDecisionRule,
  evidence: BatchDecisionEvidence,
  /** Earlier inconclusive batches this decision pooled and therefore settles too (oldest first). */
  carried: z.array(z.string()).default([]),
  /** The sentence the vendor reads (`BatchDecision.reason`). */
  reason: z.string(),
});
export type BatchDecisionRecord = z.output<typeof BatchDecisionRecord>;
