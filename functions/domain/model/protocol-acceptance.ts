/**
 * A protocol's `acceptance` section (issue 11): the quality a batch's hidden gold
 * must show, stated as two quality levels and two risks, from which Goldline
 * derives its plan exactly (functions/domain/acceptance/, docs/acceptance-sampling.md).
 *
 * What a gold item "passes" (the per-item check of functions/domain/gold-scoring.ts;
 * a wrong answer is a "defective" of the sampling plan):
 * - classification: the submitted class equals the gold class;
 * - detection: no finding at or above `task.criticalDiameterMm` is missed (a
 *   critical miss also rejects the batch whatever the counts), the item's
 *   sensitivity reaches `task.minSensitivity` and it carries at most
 *   `task.maxFalsePositivesPerItem` false marks (an item without findings:
 *   only the false-mark allowance applies);
 * - segmentation: every protocol label reaches `task.minDice` and stays at or
 *   under `task.maxHd95Mm`.
 *
 * An old document without this section is read with the defaults below (SPRT at
 * AQL 0.95 / RQL 0.80, α 0.05, β 0.10) and `goldline validate` / the dry run print
 * a migration note saying so and what to write; its `thresholds` stay readable
 * (the fixed-threshold rule, for comparison and replays).
 */
import { z } from 'zod';
import { SwitchingRules } from '../acceptance/switching.js';

const risk = (name: string, meaning: string) =>
  z
    .number({ error: `${name} (${meaning}) must be a number` })
    .gt(0, `${name} (${meaning}) must be above 0: no plan can promise a risk of 0`)
    .lt(0.5, `${name} (${meaning}) must be below 0.5 (a coin toss): typical values are 0.01 to 0.10`);

export const ProtocolAcceptance = z
  .strictObject({
    /** Acceptable quality level: gold item accuracy at which a vendor's work should pass. */
    aql: z
      .number()
      .gt(0, 'aql (acceptable gold accuracy) must be above 0')
      .max(1, 'aql (acceptable gold accuracy) is a share of gold items: at most 1')
      .default(0.95),
    /** Rejectable quality level: gold item accuracy at which work should fail. */
    rql: z
      .number()
      .min(0, 'rql (rejectable gold accuracy) is a share of gold items: at least 0')
      .lt(1, 'rql (rejectable gold accuracy) must be below 1')
      .default(0.8),
    /** Producer's risk: P(a batch is rejected | the vendor works at AQL). */
    alpha: risk('alpha', "producer's risk, P(reject) at AQL").default(0.05),
    /** Consumer's risk: P(a batch is accepted | the work is at RQL). */
    beta: risk('beta', "consumer's risk, P(accept) at RQL").default(0.1),
    /**
     * `sprt` (default): Wald's truncated SPRT pools a vendor's consecutive batches
     * of this protocol version, so a batch needs only `goldRate` of gold (a batch
     * may be inconclusive: held, never penalised). `single-plan`: every batch
     * carries the single plan's n gold items and is decided alone.
     */
    rule: z.enum(['sprt', 'single-plan']).default('sprt'),
    /** Optional cap on the SPRT's truncation N (gold items per decision); a design needing more is refused with its figure. */
    maxSprtItems: z.number().int().min(1).optional(),
    /** Optional cap on the single plan's n; a plan needing more is refused with its figure. */
    maxGoldPerBatch: z.number().int().min(1).optional(),
    /** ISO 2859-1 switching rules (normal / tightened / reduced / discontinued); defaults as the standard. */
    switching: SwitchingRules.prefault({}),
    /**
     * Share of an internal team's batch that is blind gold (aliased exactly like a
     * vendor's). Internal teams are measured, not paid per case: their gold never
     * rejects a batch for payment. 0 turns it off.
     */
    internalGoldRate: z.number().min(0).max(0.5).default(0.02),
    /** Gold rate under reduced inspection; omitted: half the protocol's `goldRate`. */
    reducedGoldRate: z.number().min(0).max(0.5).optional(),
    /** Gold rate under tightened inspection; omitted: `probation.goldRate` (default 0.25). */
    tightenedGoldRate: z.number().min(0).max(0.5).optional(),
  })
  .superRefine((a, ctx) => {
    if (a.rql >= a.aql) {
      ctx.addIssue({
        code: 'custom',
        path: ['rql'],
        message: `rql ${a.rql} (rejectable accuracy) must be below aql ${a.aql} (acceptable accuracy): e.g. aql 0.95, rql 0.80`,
      });
    }
  });
export type ProtocolAcceptance = z.output<typeof ProtocolAcceptance>;
export type ProtocolAcceptanceInput = z.input<typeof ProtocolAcceptance>;

/** The defaults an old document (no `acceptance` section) is read with. */
export const DEFAULT_ACCEPTANCE: ProtocolAcceptance = ProtocolAcceptance.parse({});
