/**
 * The error rates of a gold-accuracy acceptance rule, exactly from the binomial
 * (no normal approximation): a batch with `n` hidden gold items is accepted when
 * `correct / n ≥ threshold` (functions/domain/gold-scoring.ts `verdictFor`), or
 * without a verdict when `n` is below the protocol's `minGoldItems`. If each gold
 * item is answered correctly with probability p, independently, the number
 * correct is Binomial(n, p), so
 *   P(accept | p) = P(X ≥ k),  k = the least count with k / n ≥ threshold,
 * the producer's risk is P(reject | p = AQL) and the consumer's risk is
 * P(accept | p = RQL) (ISO 2859-1 vocabulary; Montgomery, Introduction to
 * Statistical Quality Control, ch. 15, the type-B OC curve of a single plan).
 */
import { binomialSf } from '../acceptance/binomial.js';

/**
 * P(X ≥ k) for X ~ Binomial(n, p): the acceptance sampling module's upper tail
 * (`binomialSf`, summed term by term in log space), with the dossier's own
 * argument messages. k ≤ 0 gives 1, k > n gives 0.
 *
 * @example binomialUpperTail(6, 6, 0.8) // 0.262144 (= 0.8⁶)
 */
export function binomialUpperTail(n: number, k: number, p: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a whole number ≥ 0, got ${n}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`p must lie in [0, 1], got ${p}`);
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p === 0) return 0;
  if (p === 1) return 1;
  return binomialSf(Math.ceil(k) - 1, n, p);
}

/**
 * The least number of correct gold items out of `n` that meets `threshold`,
 * with the scorer's own comparison (`correct / n >= threshold`), so a threshold
 * such as 0.85 over 20 items is decided exactly as the scorer decides it.
 */
export function acceptanceMinimum(n: number, threshold: number): number {
  for (let k = 0; k <= n; k++) if (n > 0 && k / n >= threshold) return k;
  return n;
}

export interface AcceptanceRiskInput {
  /** Hidden gold items in a batch. */
  goldItems: number;
  /** The protocol's `thresholds.goldAccuracy`. */
  threshold: number;
  /** The protocol's `thresholds.minGoldItems`: below it a batch is accepted without a verdict. */
  minGoldItems: number;
  /** Acceptable quality level: item accuracy a good workforce works at. */
  aql: number;
  /** Rejectable quality level: item accuracy that should be turned away. */
  rql: number;
}

export interface OperatingPoint {
  accuracy: number;
  pAccept: number;
}

export interface AcceptanceRisk {
  goldItems: number;
  /** Correct gold answers needed to accept; null when the batch has too few gold items for a verdict. */
  acceptMinimum: number | null;
  /** Wrong gold answers a batch may have and still be accepted; null as above. */
  maxMisses: number | null;
  /** Producer's risk: P(reject | true accuracy = AQL). */
  pRejectAtAql: number;
  /** Consumer's risk: P(accept | true accuracy = RQL). */
  pAcceptAtRql: number;
  /** The operating-characteristic curve: P(accept) for true accuracy 0.50, 0.55, … 1.00. */
  oc: OperatingPoint[];
}

/** True accuracies of the OC curve: 0.50 to 1.00 in steps of 0.05. */
const OC_ACCURACIES: readonly number[] = Array.from({ length: 11 }, (_, i) => Math.round((0.5 + i * 0.05) * 100) / 100);

/**
 * Producer's and consumer's risk of the rule for one gold count, and its OC curve.
 *
 * @example acceptanceRisk({ goldItems: 6, threshold: 0.85, minGoldItems: 5, aql: 0.95, rql: 0.8 })
 *   // { acceptMinimum: 6, maxMisses: 0, pRejectAtAql: 0.2649…, pAcceptAtRql: 0.262144, … }
 */
export function acceptanceRisk(input: AcceptanceRiskInput): AcceptanceRisk {
  const n = input.goldItems;
  const verdict = n >= input.minGoldItems && n > 0;
  const k = verdict ? acceptanceMinimum(n, input.threshold) : null;
  const pAccept = (p: number): number => (k === null ? 1 : binomialUpperTail(n, k, p));
  return {
    goldItems: n,
    acceptMinimum: k,
    maxMisses: k === null ? null : n - k,
    pRejectAtAql: 1 - pAccept(input.aql),
    pAcceptAtRql: pAccept(input.rql),
    oc: OC_ACCURACIES.map((accuracy) => ({ accuracy, pAccept: pAccept(accuracy) })),
  };
}
