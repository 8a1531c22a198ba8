/**
 * Single sampling plans from stated risks, exactly (binomial sums, no normal
 * approximation). A batch's hidden gold items are the sample; a wrong gold
 * answer is a "defective". The plan (n, c) inspects n gold items and accepts the
 * batch when at most c are wrong. It is the smallest n for which some c gives
 *   P(accept | accuracy = AQL) ≥ 1 − α   (producer's risk: a good vendor rejected)
 *   P(accept | accuracy = RQL) ≤ β       (consumer's risk: bad work accepted)
 * — the two-point design of ISO 2859-2 / ANSI Z1.4's consumer- and producer-risk
 * points, solved by search rather than read from a table (Schilling & Neubauer,
 * "Acceptance Sampling in Quality Control", 3rd ed., ch. 4).
 */
import { z } from 'zod';
import { binomialCdf } from './binomial.js';

/** A protocol's acceptance requirement: the qualities and the two risks (item accuracies in 0…1). */
export const AcceptanceSpec = z
  .object({
    /** Acceptable quality: gold accuracy at which work should pass (producer's point). */
    aql: z.number().gt(0).max(1),
    /** Rejectable quality: gold accuracy at which work should fail (consumer's point). */
    rql: z.number().min(0).lt(1),
    /** Producer's risk: P(reject | accuracy = AQL). */
    alpha: z.number().gt(0).lt(0.5).default(0.05),
    /** Consumer's risk: P(accept | accuracy = RQL). */
    beta: z.number().gt(0).lt(0.5).default(0.1),
    /** Most gold items one batch may carry; a plan needing more is refused with the figure it needs. */
    maxGoldPerBatch: z.number().int().min(1).optional(),
  })
  .strict()
  .refine((s) => s.rql < s.aql, {
    path: ['rql'],
    message: 'rql (rejectable accuracy) must be below aql (acceptable accuracy)',
  });
export type AcceptanceSpec = z.output<typeof AcceptanceSpec>;
export type AcceptanceSpecInput = z.input<typeof AcceptanceSpec>;

/** A plan that cannot meet its risks within the limits it was given. */
export class AcceptancePlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AcceptancePlanError';
  }
}

export interface SinglePlan {
  kind: 'single';
  /** Gold items per batch. */
  n: number;
  /** Acceptance number: most wrong gold answers an accepted batch may have. */
  c: number;
  spec: AcceptanceSpec;
  /** The plan's exact risks (each ≤ the spec's). */
  risks: { alpha: number; beta: number };
}

/** Per-item probability of a wrong answer at an accuracy. */
export const defectRate = (accuracy: number): number => 1 - accuracy;

/** P(at most c wrong of n) when each answer is right with probability `accuracy`. */
export const acceptProbability = (n: number, c: number, accuracy: number): number =>
  binomialCdf(c, n, defectRate(accuracy));

/**
 * The largest acceptance number whose consumer's risk at RQL is ≤ β for n gold
 * items, or −1 when even c = 0 accepts RQL work too often.
 */
export function acceptanceNumberFor(spec: AcceptanceSpec, n: number, from = -1): number {
  let c = from;
  while (c + 1 <= n && acceptProbability(n, c + 1, spec.rql) <= spec.beta) c++;
  return c;
}

const SEARCH_LIMIT = 5000;

/**
 * The smallest single sampling plan meeting the spec's risks exactly.
 *
 * @example singleSamplingPlan({ aql: 0.95, rql: 0.8 })
 *   // { kind: 'single', n: 38, c: 4, risks: { alpha: 0.0397…, beta: 0.0986… }, … }
 */
export function singleSamplingPlan(input: AcceptanceSpecInput): SinglePlan {
  const spec = AcceptanceSpec.parse(input);
  const limit = spec.maxGoldPerBatch ?? SEARCH_LIMIT;
  let c = -1;
  for (let n = 1; n <= SEARCH_LIMIT; n++) {
    // The β-bound acceptance number never falls as n grows: continue the scan.
    c = acceptanceNumberFor(spec, n, Math.min(c, n - 1));
    if (c < 0) continue;
    const pAqL = acceptProbability(n, c, spec.aql);
    if (pAqL >= 1 - spec.alpha) {
      if (n > limit) {
        throw new AcceptancePlanError(
          `AQL ${spec.aql} / RQL ${spec.rql} with α=${spec.alpha}, β=${spec.beta} needs ${n} gold items per batch (c=${c}), ` +
            `more than maxGoldPerBatch ${limit}: widen the gap between AQL and RQL, accept larger risks, or decide with the SPRT over consecutive batches`,
        );
      }
      return { kind: 'single', n, c, spec, risks: { alpha: 1 - pAqL, beta: acceptProbability(n, c, spec.rql) } };
    }
  }
  throw new AcceptancePlanError(
    `no single sampling plan with at most ${SEARCH_LIMIT} gold items meets AQL ${spec.aql} / RQL ${spec.rql} with α=${spec.alpha}, β=${spec.beta}`,
  );
}

/**
 * The single plan where one exists within the spec's limits, else null and why
 * (a caller that can fall back to the SPRT says so instead of failing).
 *
 * @example trySingleSamplingPlan({ aql: 0.95, rql: 0.8, maxGoldPerBatch: 10 }) // { single: null, note: 'AQL 0.95 / RQL 0.8 … needs 38 gold items …' }
 */
export function trySingleSamplingPlan(input: AcceptanceSpecInput): { single: SinglePlan | null; note?: string } {
  try {
    return { single: singleSamplingPlan(input) };
  } catch (e) {
    if (!(e instanceof AcceptancePlanError)) throw e;
    return { single: null, note: e.message };
  }
}

/** True accuracies 0.50, 0.55, …, 1.00: the grid an OC table prints. */
export const OC_ACCURACIES: readonly number[] = Array.from({ length: 11 }, (_, i) => Math.round((0.5 + i * 0.05) * 100) / 100);

export interface OcPoint {
  accuracy: number;
  pAccept: number;
}

/**
 * The operating-characteristic curve: P(accept) of the plan at each true accuracy.
 *
 * @example ocCurve({ n: 38, c: 4 }, [0.95]) // [{ accuracy: 0.95, pAccept: 0.9603… }]
 */
export function ocCurve(plan: Pick<SinglePlan, 'n' | 'c'>, accuracies: readonly number[] = OC_ACCURACIES): OcPoint[] {
  return accuracies.map((accuracy) => ({ accuracy, pAccept: acceptProbability(plan.n, plan.c, accuracy) }));
}

export interface PlannedVolume {
  /** Real (non-gold) cases the program plans to send to vendors. */
  cases: number;
  /** Real cases per batch (the protocol's batchSize). */
  batchSize: number;
  /** Vendors sharing the volume (default 1: the worst case, one vendor takes it all). */
  vendors?: number;
}

export interface GoldPoolNeed {
  batches: number;
  /** Batches of the busiest vendor. */
  batchesPerVendor: number;
  goldPerBatch: number;
  /** Gold items shown over the whole volume (a gold case may serve several vendors). */
  goldItemsShown: number;
  /** Distinct gold cases so that no vendor sees one again within `reuseCap` of its batches. */
  poolForReuseCap: number;
  /** Distinct gold cases so that no vendor ever sees one twice (a repeated image betrays gold). */
  poolWithoutRepeats: number;
  /** Share of each batch's items that are gold. */
  goldShare: number;
}

/**
 * The gold pool a planned volume needs. Batching (functions/domain/batching.ts
 * and dispatch-round) excludes from a vendor's batch the gold of its last
 * `reuseCap` batches, so any `reuseCap + 1` consecutive batches of one vendor
 * need distinct gold: the pool must hold n·min(batches per vendor, reuseCap + 1)
 * cases. Different vendors may be shown the same gold case.
 *
 * @example goldPoolNeed({ n: 38 }, { cases: 600, batchSize: 60 }, 3).poolForReuseCap // 152
 */
export function goldPoolNeed(plan: Pick<SinglePlan, 'n'>, volume: PlannedVolume, reuseCap: number): GoldPoolNeed {
  const { cases, batchSize } = volume;
  const vendors = volume.vendors ?? 1;
  if (!Number.isInteger(cases) || cases < 0) throw new RangeError(`planned cases must be a whole number ≥ 0, got ${cases}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a whole number ≥ 1, got ${batchSize}`);
  if (!Number.isInteger(vendors) || vendors < 1) throw new RangeError(`vendors must be a whole number ≥ 1, got ${vendors}`);
  if (!Number.isInteger(reuseCap) || reuseCap < 0) throw new RangeError(`reuseCap must be a whole number ≥ 0, got ${reuseCap}`);
  const batches = Math.ceil(cases / batchSize);
  const batchesPerVendor = Math.ceil(batches / vendors);
  const g = plan.n;
  return {
    batches,
    batchesPerVendor,
    goldPerBatch: g,
    goldItemsShown: g * batches,
    poolForReuseCap: g * Math.min(batchesPerVendor, reuseCap + 1),
    poolWithoutRepeats: g * batchesPerVendor,
    goldShare: batches === 0 ? 0 : g / (batchSize + g),
  };
}
