/**
 * Wald's sequential probability ratio test on gold answers pooled over a
 * vendor's consecutive batches (one protocol version), truncated at a maximum
 * number of gold items, with its exact operating characteristic.
 *
 * Hypotheses on the per-item wrong-answer rate p: H0 p = p0 = 1 − AQL (accept
 * the work) against H1 p = p1 = 1 − RQL (reject it). After t gold items with k
 * wrong the log-likelihood ratio is
 *   Λ(t, k) = k·ln(p1/p0) + (t − k)·ln((1 − p1)/(1 − p0)),
 * and Wald's boundaries (A. Wald, "Sequential Analysis", 1947) are
 *   reject when Λ ≥ a = ln((1 − β)/α),  accept when Λ ≤ b = ln(β/(1 − α)),
 * otherwise continue (the batch is inconclusive; its evidence is carried on).
 * In wrong-answer counts: reject when k ≥ h1 + s·t, accept when k ≤ −h0 + s·t with
 *   g1 = ln(p1/p0), g2 = ln((1 − p0)/(1 − p1)), s = g2/(g1 + g2),
 *   h1 = a/(g1 + g2), h0 = −b/(g1 + g2).
 *
 * Looks: the test looks once per batch, after `lookEvery` gold items (the
 * batch's gold), not after each item — an item order inside a batch must not
 * change a decision. The exact OC below is for that group-sequential schedule.
 *
 * Truncation rule (derived here): at the first look with t ≥ N the test must
 * decide: accept iff Λ < Λ*, where Λ* lies midway between Λ(N, c_N) and
 * Λ(N, c_N + 1) — at t = N exactly "accept iff k ≤ c_N". N and c_N are chosen
 * by exact dynamic programming over the states (t, k): N is the smallest look
 * at which some c_N gives exact P(reject | p0) ≤ α and P(accept | p1) ≤ β (c_N
 * the largest such, favouring the vendor within β). A decision settles every
 * batch it pooled, and rejections at AQL (acceptances at RQL) tend to come
 * after longer runs, so by default the same bounds must also hold per batch
 * settled: E[τ·1{reject}]/E[τ] ≤ α at p0 and E[τ·1{accept}]/E[τ] ≤ β at p1
 * (`perBatch: false` drops that second condition). Because every path stops
 * at min(τ, N), the expected gold per decision E[min(τ, N)] never falls as N
 * grows, so the smallest feasible N is also the cheapest. Effect on α/β: mass
 * that Wald's test would still carry past N is decided by c_N; the exact
 * truncated risks are reported beside those of the untruncated test (same
 * boundaries, run to exhaustion). Wald's boundaries only bound the risks
 * approximately (α' ≤ α/(1 − β)); when the exact risks cannot meet α and β
 * at any N up to 10 × the single plan's n, the nominal α and β behind the
 * boundaries are shrunk by 10% steps until they can, and the design records
 * the nominal values it used.
 */
import { binomialDistribution } from './binomial.js';
import { AcceptancePlanError, AcceptanceSpec, type AcceptanceSpecInput, OC_ACCURACIES, singleSamplingPlan } from './plan.js';

export interface SprtDesign {
  kind: 'sprt';
  spec: AcceptanceSpec;
  /** Gold items per look (per batch). */
  lookEvery: number;
  /** Truncation N: at the first look with this many items the test decides. */
  maxItems: number;
  /** At N: accept iff at most this many wrong answers. */
  terminalC: number;
  /** Λ* of the truncation rule (accept iff Λ < Λ*) for looks past N. */
  terminalLlr: number;
  /** The α and β behind Wald's boundaries (the spec's, or shrunk to meet them exactly). */
  nominal: { alpha: number; beta: number };
  /** Wald's boundaries on the log-likelihood ratio. */
  bounds: { accept: number; reject: number };
  /** Λ per right and per wrong answer. */
  steps: { right: number; wrong: number };
  /** The boundaries as lines in wrong-answer counts: k ≤ −h0 + s·t accepts, k ≥ h1 + s·t rejects. */
  lines: { slope: number; h0: number; h1: number };
  /** Exact risks of the truncated test at AQL and RQL, per decision. */
  risks: { alpha: number; beta: number };
  /**
   * Exact risks per batch settled: the long-run share of batches rejected at AQL
   * and accepted at RQL (a decision settles every batch it pooled).
   */
  batchRisks: { alpha: number; beta: number };
  /** Whether the design also holds α and β per batch settled (`batchRisks`), not only per decision. */
  perBatch: boolean;
  /** Exact risks of the same boundaries without truncation (the test truncation approximates). */
  untruncated: { alpha: number; beta: number };
  /** Expected gold items per decision at AQL and RQL (average sample number). */
  asn: { atAql: number; atRql: number };
}

type Boundaries = Pick<SprtDesign, 'bounds' | 'steps'>;

/** Λ(t, k); 0·∞ taken as 0 (AQL 1 or RQL 0 make one step infinite). */
export function logLikelihoodRatio(d: Pick<SprtDesign, 'steps'>, items: number, wrong: number): number {
  const w = wrong === 0 ? 0 : wrong * d.steps.wrong;
  const r = items - wrong === 0 ? 0 : (items - wrong) * d.steps.right;
  return w + r;
}

/** Wald's boundaries and steps for p0 = 1 − AQL, p1 = 1 − RQL at nominal α, β. */
export function waldBoundaries(spec: Pick<AcceptanceSpec, 'aql' | 'rql'>, alpha: number, beta: number): Boundaries & Pick<SprtDesign, 'lines'> {
  const p0 = 1 - spec.aql;
  const p1 = 1 - spec.rql;
  const wrong = Math.log(p1 / p0);
  const right = Math.log((1 - p1) / (1 - p0));
  const reject = Math.log((1 - beta) / alpha);
  const accept = Math.log(beta / (1 - alpha));
  const g = wrong - right;
  return {
    bounds: { accept, reject },
    steps: { right, wrong },
    lines: { slope: -right / g, h0: -accept / g, h1: reject / g },
  };
}

/** Most wrong answers that accept (−1: none), fewest that reject (t + 1: none), after t items (Λ rises with k). */
export function sprtCountBounds(d: Boundaries, t: number): { acceptMax: number; rejectMin: number } {
  const llr = (k: number) => logLikelihoodRatio(d, t, k);
  if (!Number.isFinite(d.steps.wrong) || !Number.isFinite(d.steps.right)) {
    // AQL 1 or RQL 0: one step is infinite; t is small in such designs.
    let acceptMax = -1;
    let rejectMin = t + 1;
    for (let k = 0; k <= t; k++) if (llr(k) <= d.bounds.accept) acceptMax = k;
    for (let k = t; k >= 0; k--) if (llr(k) >= d.bounds.reject) rejectMin = k;
    return { acceptMax, rejectMin };
  }
  // Closed form from the count lines, then settled on the exact Λ so that every caller agrees.
  const per = d.steps.wrong - d.steps.right;
  let acceptMax = Math.min(t, Math.max(-1, Math.floor((d.bounds.accept - t * d.steps.right) / per)));
  while (acceptMax >= 0 && llr(acceptMax) > d.bounds.accept) acceptMax--;
  while (acceptMax < t && llr(acceptMax + 1) <= d.bounds.accept) acceptMax++;
  let rejectMin = Math.min(t + 1, Math.max(0, Math.ceil((d.bounds.reject - t * d.steps.right) / per)));
  while (rejectMin <= t && llr(rejectMin) < d.bounds.reject) rejectMin++;
  while (rejectMin > 0 && llr(rejectMin - 1) >= d.bounds.reject) rejectMin--;
  return { acceptMax, rejectMin };
}

/**
 * One dynamic-programming walk over the looks: the distribution of wrong
 * counts among undecided paths. Only the band between the two lines can hold
 * mass, so the state is stored as that band (`cont[i]` is k = lo + i).
 */
class SprtWalk {
  cont: Float64Array = new Float64Array([1]);
  lo = 0;
  accepted = 0;
  rejected = 0;
  /** Σ items × P(stopped at that look), accumulated. */
  itemsUsed = 0;
  /** The same, over rejecting stops only. */
  itemsRejected = 0;
  /** The same, over accepting stops only. */
  itemsAccepted = 0;
  private readonly step: Float64Array;

  constructor(
    private readonly d: Boundaries,
    p: number,
    g: number,
  ) {
    this.step = binomialDistribution(g, p);
  }

  /** Advances to look t (items so far) and absorbs the boundary crossings. */
  advance(t: number): { acceptMax: number; rejectMin: number } {
    const b = sprtCountBounds(this.d, t);
    const wide = new Float64Array(this.cont.length + this.step.length - 1);
    for (let i = 0; i < this.cont.length; i++) {
      const x = this.cont[i];
      if (x === 0) continue;
      for (let j = 0; j < this.step.length; j++) wide[i + j] += x * this.step[j];
    }
    let lo = this.lo;
    let hi = this.lo + wide.length - 1;
    for (let k = lo; k <= hi; k++) {
      const x = wide[k - this.lo];
      if (x === 0) continue;
      if (k <= b.acceptMax) {
        this.accepted += x;
        this.itemsAccepted += t * x;
      } else if (k >= b.rejectMin) {
        this.rejected += x;
        this.itemsRejected += t * x;
      } else continue;
      this.itemsUsed += t * x;
    }
    lo = Math.max(lo, b.acceptMax + 1);
    hi = Math.min(hi, b.rejectMin - 1);
    this.cont = hi >= lo ? wide.slice(lo - this.lo, hi - this.lo + 1) : new Float64Array(0);
    this.lo = lo;
    return b;
  }

  /** P(still undecided). */
  mass(): number {
    let s = 0;
    for (const x of this.cont) s += x;
    return s;
  }

  /** Mass of undecided paths with k ≤ c (accepted by a terminal rule c). */
  massAtMost(c: number): number {
    let s = 0;
    for (let i = 0; i < this.cont.length && this.lo + i <= c; i++) s += this.cont[i];
    return s;
  }

  /** Undecided mass per wrong count k. */
  *states(): Generator<[k: number, mass: number]> {
    for (let i = 0; i < this.cont.length; i++) if (this.cont[i] !== 0) yield [this.lo + i, this.cont[i]];
  }
}

const EXHAUSTED = 1e-14;
const MAX_ITEMS = 20_000;

/**
 * Designs the truncated SPRT for a spec, looking after every `lookEvery` gold
 * items (the gold of one batch).
 *
 * @example sprtDesign({ aql: 0.95, rql: 0.8 }, 6).maxItems // N, a multiple of 6
 */
export function sprtDesign(input: AcceptanceSpecInput, lookEvery: number, options: { perBatch?: boolean } = {}): SprtDesign {
  const perBatch = options.perBatch ?? true;
  const spec = AcceptanceSpec.parse(input);
  if (!Number.isInteger(lookEvery) || lookEvery < 1) throw new RangeError(`lookEvery must be a whole number ≥ 1, got ${lookEvery}`);
  const p0 = 1 - spec.aql;
  const p1 = 1 - spec.rql;
  // No test with at most N items beats the best fixed-size test of N items, so N ≥ the
  // single plan's n; a truncation beyond 10 such samples would only hide a poor spec.
  const { maxGoldPerBatch: _perBatch, ...pooled } = spec;
  const limit = 10 * singleSamplingPlan(pooled).n;
  for (let shrink = 0; shrink < 30; shrink++) {
    const alpha = spec.alpha * 0.9 ** shrink;
    const beta = spec.beta * 0.9 ** shrink;
    const wald = waldBoundaries(spec, alpha, beta);
    const at0 = new SprtWalk(wald, p0, lookEvery);
    const at1 = new SprtWalk(wald, p1, lookEvery);
    for (let t = lookEvery; t < limit + lookEvery; t += lookEvery) {
      const { acceptMax, rejectMin } = at0.advance(t);
      at1.advance(t);
      // Candidate truncation here: the largest terminal c within β, then check α
      // (per decision, and per batch settled when asked: both monotone in c).
      const betaHolds = (c: number): boolean => {
        const terminal = at1.massAtMost(c);
        if (at1.accepted + terminal > spec.beta) return false;
        if (!perBatch) return true;
        return at1.itemsAccepted + t * terminal <= spec.beta * (at1.itemsUsed + t * at1.mass());
      };
      const alphaHolds = (c: number): boolean => {
        const terminal = at0.mass() - at0.massAtMost(c);
        if (at0.rejected + terminal > spec.alpha) return false;
        if (!perBatch) return true;
        return at0.itemsRejected + t * terminal <= spec.alpha * (at0.itemsUsed + t * at0.mass());
      };
      let chosen: number | undefined;
      for (let c = Math.max(acceptMax, rejectMin - 1); c >= acceptMax; c--) {
        if (betaHolds(c)) {
          chosen = c;
          break;
        }
      }
      if (chosen !== undefined && alphaHolds(chosen)) {
        const terminalLlr = (logLikelihoodRatio(wald, t, chosen) + logLikelihoodRatio(wald, t, chosen + 1)) / 2;
        const design: SprtDesign = {
          kind: 'sprt',
          spec,
          lookEvery,
          maxItems: t,
          terminalC: chosen,
          terminalLlr,
          nominal: { alpha, beta },
          ...wald,
          risks: { alpha: Number.NaN, beta: Number.NaN },
          batchRisks: { alpha: Number.NaN, beta: Number.NaN },
          perBatch,
          untruncated: { alpha: Number.NaN, beta: Number.NaN },
          asn: { atAql: Number.NaN, atRql: Number.NaN },
        };
        const ocAql = sprtOperatingCharacteristic(design, spec.aql);
        const ocRql = sprtOperatingCharacteristic(design, spec.rql);
        design.risks = { alpha: ocAql.pReject, beta: ocRql.pAccept };
        design.batchRisks = { alpha: ocAql.rejectedWorkShare, beta: ocRql.acceptedWorkShare };
        design.asn = { atAql: ocAql.expectedItems, atRql: ocRql.expectedItems };
        design.untruncated = {
          alpha: untruncatedRisk(wald, p0, lookEvery, 'reject'),
          beta: untruncatedRisk(wald, p1, lookEvery, 'accept'),
        };
        return design;
      }
      if (at0.mass() < EXHAUSTED && at1.mass() < EXHAUSTED) break;
    }
  }
  throw new AcceptancePlanError(
    `no truncated SPRT within ${limit} gold items (10 × the single plan's n) meets AQL ${spec.aql} / RQL ${spec.rql} with α=${spec.alpha}, β=${spec.beta}`,
  );
}

function untruncatedRisk(d: Boundaries, p: number, g: number, side: 'accept' | 'reject'): number {
  const walk = new SprtWalk(d, p, g);
  for (let t = g; t <= MAX_ITEMS && walk.mass() >= EXHAUSTED; t += g) walk.advance(t);
  return side === 'accept' ? walk.accepted : walk.rejected;
}

export type SprtOutcome = 'accept' | 'reject' | 'continue';

export interface SprtLook {
  outcome: SprtOutcome;
  llr: number;
  /** The decision was forced by the truncation rule. */
  truncated: boolean;
}

/**
 * One look of the test at the pooled evidence (items, wrong) since the vendor's
 * last conclusive decision.
 *
 * @example sprtLook(design, 14, 0) // { outcome: 'accept', llr: -2.41…, truncated: false }
 */
export function sprtLook(d: SprtDesign, items: number, wrong: number): SprtLook {
  if (!Number.isInteger(items) || items < 0) throw new RangeError(`gold items must be a whole number ≥ 0, got ${items}`);
  if (!Number.isInteger(wrong) || wrong < 0 || wrong > items) {
    throw new RangeError(`wrong answers must be a whole number in 0…${items}, got ${wrong}`);
  }
  const llr = logLikelihoodRatio(d, items, wrong);
  if (llr >= d.bounds.reject) return { outcome: 'reject', llr, truncated: false };
  if (llr <= d.bounds.accept) return { outcome: 'accept', llr, truncated: false };
  if (items >= d.maxItems) return { outcome: llr < d.terminalLlr ? 'accept' : 'reject', llr, truncated: true };
  return { outcome: 'continue', llr, truncated: false };
}

export interface SprtOc {
  accuracy: number;
  pAccept: number;
  pReject: number;
  /** Expected gold items until the decision. */
  expectedItems: number;
  /**
   * E[items · 1{reject}] / E[items]: the long-run share of batches rejected when a
   * decision settles every batch it pooled (rejections late in a long run weigh more).
   */
  rejectedWorkShare: number;
  /** E[items · 1{accept}] / E[items]: the long-run share of batches accepted. */
  acceptedWorkShare: number;
}

/**
 * The exact operating characteristic of the truncated test at a true accuracy,
 * by dynamic programming over (t, k) at the design's looks — no simulation.
 */
export function sprtOperatingCharacteristic(d: SprtDesign, accuracy: number): SprtOc {
  const walk = new SprtWalk(d, 1 - accuracy, d.lookEvery);
  for (let t = d.lookEvery; ; t += d.lookEvery) {
    walk.advance(t);
    if (t >= d.maxItems) {
      // Truncation: Λ < Λ* accepts; at t = N that is k ≤ c_N.
      for (const [k, x] of walk.states()) {
        if (logLikelihoodRatio(d, t, k) < d.terminalLlr) {
          walk.accepted += x;
          walk.itemsAccepted += t * x;
        } else {
          walk.rejected += x;
          walk.itemsRejected += t * x;
        }
        walk.itemsUsed += t * x;
      }
      return {
        accuracy,
        pAccept: walk.accepted,
        pReject: walk.rejected,
        expectedItems: walk.itemsUsed,
        rejectedWorkShare: walk.itemsRejected / walk.itemsUsed,
        acceptedWorkShare: walk.itemsAccepted / walk.itemsUsed,
      };
    }
  }
}

/** The OC curve of the truncated test over accuracies 0.50…1.00. */
export const sprtOcCurve = (d: SprtDesign, accuracies: readonly number[] = OC_ACCURACIES): SprtOc[] =>
  accuracies.map((a) => sprtOperatingCharacteristic(d, a));
