/**
 * The protocol's drift charts (issue 12, docs/quality-alarms.md): a Bernoulli
 * CUSUM and a lower EWMA on each workforce's and annotator's per-batch gold
 * results. Optional: an absent section (or field) takes the defaults, designed
 * for AQL accuracy 0.95 against 0.80 at 10 gold items per batch:
 * CUSUM h = 2 (in-control ARL 226 batches, out-of-control ARL 3.4) and EWMA
 * λ = 0.2, L = 2.7 (in-control ARL ≈ 182, out-of-control ≈ 2.6).
 */
import { z } from 'zod';

export const DRIFT_DEFAULTS = { cusum: { p0: 0.95, p1: 0.8, h: 2 }, ewma: { lambda: 0.2, L: 2.7 } } as const;

export const ProtocolDrift = z
  .strictObject({
    cusum: z
      .strictObject({
        /** In-control gold accuracy (also the EWMA's centre line). */
        p0: z.number().gt(0).lt(1).default(DRIFT_DEFAULTS.cusum.p0),
        /** Out-of-control gold accuracy the CUSUM is tuned to catch. */
        p1: z.number().gt(0).lt(1).default(DRIFT_DEFAULTS.cusum.p1),
        /** Decision interval, in excess gold errors. */
        h: z.number().positive().max(1000).default(DRIFT_DEFAULTS.cusum.h),
      })
      .prefault({}),
    ewma: z
      .strictObject({
        /** Weight of the newest batch. */
        lambda: z.number().gt(0).max(1).default(DRIFT_DEFAULTS.ewma.lambda),
        /** Lower limit width in standard deviations. */
        L: z.number().positive().max(10).default(DRIFT_DEFAULTS.ewma.L),
      })
      .prefault({}),
  })
  .superRefine((d, ctx) => {
    if (!(d.cusum.p1 < d.cusum.p0)) {
      ctx.addIssue({ code: 'custom', path: ['cusum', 'p1'], message: `p1 (${d.cusum.p1}) must be below p0 (${d.cusum.p0}): the chart detects a fall in gold accuracy` });
    }
  });
export type ProtocolDrift = z.infer<typeof ProtocolDrift>;

/** The protocol's drift section with its defaults applied (absent: all defaults). */
export const driftOf = (p: { drift?: ProtocolDrift }): ProtocolDrift => p.drift ?? ProtocolDrift.parse({});
