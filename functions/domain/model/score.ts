/** Scores of a submission against hidden gold, and the scorecards built from them. */
import { z } from 'zod';

export const Interval = z.object({ lower: z.number(), upper: z.number() });

export const GoldItemScore = z.object({
  caseId: z.string(),
  expected: z.string(),
  got: z.string(),
  correct: z.boolean(),
});
export type GoldItemScore = z.infer<typeof GoldItemScore>;

export const BatchScore = z.object({
  batchId: z.string(),
  workforceId: z.string(),
  protocol: z.string(),
  goldN: z.number().int().min(0),
  goldCorrect: z.number().int().min(0),
  /** null when undefined (n = 0); the reason is in `notes`. */
  accuracy: z.number().nullable(),
  interval: Interval.nullable(),
  kappa: z.number().nullable(),
  verdict: z.enum(['accepted', 'rejected']),
  /** Human-readable reasons for the verdict and for any undefined figure. */
  notes: z.array(z.string()),
  items: z.array(GoldItemScore),
});
export type BatchScore = z.infer<typeof BatchScore>;

export const Scorecard = z.object({
  workforceId: z.string(),
  protocolId: z.string(),
  batches: z.number().int().min(0),
  batchesAccepted: z.number().int().min(0),
  batchesRejected: z.number().int().min(0),
  goldN: z.number().int().min(0),
  goldCorrect: z.number().int().min(0),
  accuracy: z.number().nullable(),
  interval: Interval.nullable(),
  /** True when goldN is below the protocol's minimum: not a verdict. */
  insufficient: z.boolean(),
});
export type Scorecard = z.infer<typeof Scorecard>;
