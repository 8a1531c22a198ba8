/** Scores of a submission against hidden gold, and the scorecards built from them. */
import { z } from 'zod';
import { BatchDecisionRecord } from './batch-decision.js';

export const Interval = z.object({ lower: z.number(), upper: z.number() });

export const GoldItemScore = z.object({
  caseId: z.string(),
  /** Classification: the label matches. Detection / segmentation: the item passes its check. */
  correct: z.boolean(),
  /** Classification only: the expert's and the workforce's labels. */
  expected: z.string().optional(),
  got: z.string().optional(),
  /**
   * Who answered it: the annotator the submitted line named. The stored labels
   * say so too, but only once the batch is finalized (a held batch has none).
   * Absent on scores stored before it existed.
   */
  annotatorId: z.string().optional(),
  /** Per-item figures (Dice, HD95 mm, sensitivity, …); null where undefined. */
  metrics: z.record(z.string(), z.number().nullable()).optional(),
  /** Segmentation: the convention the figures were computed with (e.g. `goldline`, `monai(ignore_empty=True)`). */
  metricConvention: z.string().optional(),
  /** Why the item failed (or what was notable), in words. */
  reasons: z.array(z.string()).optional(),
  /**
   * Detection: findings at or above the protocol's critical diameter that the
   * workforce missed. What adjudication reads (never the words of `reasons`).
   */
  criticalMisses: z.array(z.object({ finding: z.string(), findingId: z.string().optional(), diameterMm: z.number(), criticalDiameterMm: z.number() })).optional(),
});
export type GoldItemScore = z.infer<typeof GoldItemScore>;

export const BatchScore = z.object({
  batchId: z.string(),
  workforceId: z.string(),
  protocol: z.string(),
  taskType: z.enum(['classification', 'detection', 'segmentation']).default('classification'),
  goldN: z.number().int().min(0),
  goldCorrect: z.number().int().min(0),
  /** null when undefined (n = 0); the reason is in `notes`. */
  accuracy: z.number().nullable(),
  interval: Interval.nullable(),
  kappa: z.number().nullable(),
  /** Task-specific batch figures over gold items (mean Dice, pooled sensitivity, …). */
  summary: z.record(z.string(), z.number().nullable()).default({}),
  /** By the protocol's acceptance rule: `inconclusive` holds the batch until more gold decides (never a penalty). */
  verdict: z.enum(['accepted', 'rejected', 'inconclusive']),
  /** The acceptance decision behind the verdict: rule, (pooled) evidence, carried batches. Absent on scores stored before it existed. */
  decision: BatchDecisionRecord.optional(),
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
  /** Batches closed overdue (SLA missed). */
  slaMisses: z.number().int().min(0).default(0),
  /** Share of closed batches delivered within the SLA; null with no closed batch. */
  slaAdherence: z.number().nullable().default(null),
  /** Real (non-gold) cases in accepted batches. */
  acceptedCases: z.number().int().min(0).default(0),
  /** What was paid: price × items of accepted batches, and of rejected ones less the penalty. */
  paid: z.number().min(0).default(0),
  /** paid / acceptedCases; null when nothing was accepted. */
  costPerAcceptedCase: z.number().nullable().default(null),
  /**
   * What the stored card was computed from: the ledger events rebalance read —
   * exactly those within `ledger` (the last seq read per chain); `seq` is how many
   * (on a card stored before the ledger shards: the last seq read) — under
   * `protocol` (id@version, its minimum gold).
   * A rebuild folds exactly those events (functions/domain/projections.ts).
   */
  asOf: z
    .object({
      seq: z.number().int().min(0),
      protocol: z.string(),
      /** The last seq read per ledger chain (functions/domain/ledger-merge.ts); absent on cards stored before the ledger shards. */
      ledger: z.record(z.string(), z.number().int().min(0)).optional(),
    })
    .optional(),
});
export type Scorecard = z.infer<typeof Scorecard>;
