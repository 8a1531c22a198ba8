/**
 * A batch decision from an acceptance rule and the gold evidence: accept,
 * reject, or inconclusive (more evidence needed — never a penalty), with the
 * rule that decided, its figures, and the sentence a vendor reads.
 */
import { type AcceptanceSpec, type SinglePlan, acceptProbability, acceptanceNumberFor } from './plan.js';
import { type SprtDesign, sprtCountBounds, sprtLook } from './sprt.js';

export type BatchDecisionKind = 'accept' | 'reject' | 'inconclusive';

export type AcceptanceRule =
  | { kind: 'single-plan'; plan: SinglePlan }
  | { kind: 'sprt'; design: SprtDesign }
  /** Today's rule (protocol `thresholds`), kept for comparison and migration. */
  | { kind: 'fixed-threshold'; goldAccuracy: number; minGoldItems: number };

export interface GoldEvidence {
  /** Gold items scored: this batch's, or (SPRT) pooled since the vendor's last conclusive decision. */
  n: number;
  /** Of those, answered wrong (did not pass the task's per-item check). */
  wrong: number;
  /** Batches the evidence spans (SPRT pooling); default 1. */
  batches?: number;
  /** Findings that reject regardless of counts (a critical miss on a gold item). */
  blockers?: readonly string[];
}

export interface BatchDecision {
  decision: BatchDecisionKind;
  rule: 'single-plan' | 'single-plan-curtailed' | 'sprt' | 'sprt-truncated' | 'fixed-threshold' | 'blocker';
  evidence: {
    n: number;
    wrong: number;
    batches: number;
    /** Acceptance number applied (the SPRT's: most wrong answers accepted at this n), if any. */
    c: number | null;
    /** SPRT log-likelihood ratio of the pooled evidence. */
    llr: number | null;
    bounds: { accept: number; reject: number } | null;
  };
  reason: string;
}

/** 0.05 → "0.05", 0.1 → "0.10", 0.025 → "0.025". */
export function formatRisk(x: number): string {
  for (let d = 2; d <= 6; d++) if (Math.abs(Number(x.toFixed(d)) - x) < 1e-12) return x.toFixed(d);
  return String(x);
}

const llrText = (x: number): string => (x < 0 ? `−${(-x).toFixed(2)}` : x.toFixed(2));
const items = (n: number): string => `${n} gold item${n === 1 ? '' : 's'}`;
const risksText = (s: AcceptanceSpec): string =>
  `α=${formatRisk(s.alpha)} at AQL ${formatRisk(s.aql)}, β=${formatRisk(s.beta)} at RQL ${formatRisk(s.rql)}`;
const past = (d: BatchDecisionKind): string => (d === 'accept' ? 'accepted' : d === 'reject' ? 'rejected' : 'inconclusive');

function checkEvidence(e: GoldEvidence): void {
  if (!Number.isInteger(e.n) || e.n < 0) throw new RangeError(`gold items must be a whole number ≥ 0, got ${e.n}`);
  if (!Number.isInteger(e.wrong) || e.wrong < 0 || e.wrong > e.n) {
    throw new RangeError(`wrong gold answers must be a whole number in 0…${e.n}, got ${e.wrong}`);
  }
}

/**
 * Decides a batch.
 *
 * @example decideBatch({ kind: 'single-plan', plan }, { n: 38, wrong: 1 }).reason
 *   // 'accepted: 1 wrong of 38 gold items, plan n=38 c=4 (α=0.05 at AQL 0.95, β=0.10 at RQL 0.80)'
 */
export function decideBatch(rule: AcceptanceRule, e: GoldEvidence): BatchDecision {
  checkEvidence(e);
  const batches = e.batches ?? 1;
  const base = { n: e.n, wrong: e.wrong, batches };
  if (e.blockers && e.blockers.length > 0) {
    return {
      decision: 'reject',
      rule: 'blocker',
      evidence: { ...base, c: null, llr: null, bounds: null },
      reason: `rejected: ${e.blockers.join('; ')}`,
    };
  }
  switch (rule.kind) {
    case 'single-plan':
      return decideSingle(rule.plan, base);
    case 'sprt':
      return decideSprt(rule.design, base);
    case 'fixed-threshold':
      return decideFixed(rule, base);
  }
}

function decideSingle(plan: SinglePlan, e: { n: number; wrong: number; batches: number }): BatchDecision {
  const { spec } = plan;
  const of = `${e.wrong} wrong of ${items(e.n)}`;
  const planText = `plan n=${plan.n} c=${plan.c} (${risksText(spec)})`;
  const evidence = (c: number) => ({ ...e, c, llr: null, bounds: null });
  if (e.n >= plan.n) {
    // More gold than planned: the acceptance number for this n that keeps β (α only improves).
    const c = e.n === plan.n ? plan.c : Math.max(plan.c, acceptanceNumberFor(spec, e.n, plan.c));
    const decision = e.wrong <= c ? 'accept' : 'reject';
    const at = e.n === plan.n ? planText : `c=${c} for ${items(e.n)} (plan n=${plan.n} c=${plan.c}; exact α=${formatRisk(1 - acceptProbability(e.n, c, spec.aql))}, β=${formatRisk(acceptProbability(e.n, c, spec.rql))})`;
    return { decision, rule: 'single-plan', evidence: evidence(c), reason: `${past(decision)}: ${of}, ${at}` };
  }
  // Fewer gold items than planned (a short gold pool): curtailed inspection —
  // decide only when the full sample could not change the outcome.
  const missing = plan.n - e.n;
  if (e.wrong > plan.c) {
    return {
      decision: 'reject',
      rule: 'single-plan-curtailed',
      evidence: evidence(plan.c),
      reason: `rejected: ${of} already exceeds c=${plan.c} of ${planText}`,
    };
  }
  if (e.wrong + missing <= plan.c) {
    return {
      decision: 'accept',
      rule: 'single-plan-curtailed',
      evidence: evidence(plan.c),
      reason: `accepted: ${of}; even ${missing} more wrong would meet c=${plan.c} of ${planText}`,
    };
  }
  return {
    decision: 'inconclusive',
    rule: 'single-plan-curtailed',
    evidence: evidence(plan.c),
    reason: `inconclusive: ${of}, but ${planText} needs ${missing} more gold item${missing === 1 ? '' : 's'}; more gold decides`,
  };
}

function decideSprt(d: SprtDesign, e: { n: number; wrong: number; batches: number }): BatchDecision {
  const look = sprtLook(d, e.n, e.wrong);
  const bounds = { accept: d.bounds.accept, reject: d.bounds.reject };
  // The most wrong answers this n accepts (on or below the accept line), for the vendor's report.
  const c = sprtCountBounds(d, e.n).acceptMax;
  const evidence = { ...e, c: c >= 0 ? c : null, llr: look.llr, bounds };
  const of = `${e.wrong} wrong of ${items(e.n)} over ${e.batches} batch${e.batches === 1 ? '' : 'es'}`;
  const tail = `(${risksText(d.spec)}; SPRT truncated at ${d.maxItems} items)`;
  const llr = `SPRT log-likelihood ratio ${llrText(look.llr)}`;
  if (look.truncated) {
    const decision = look.outcome === 'accept' ? 'accept' : 'reject';
    return {
      decision,
      rule: 'sprt-truncated',
      evidence: { ...evidence, c: d.terminalC },
      reason: `${past(decision)} at the truncation: ${of}; at ${d.maxItems} items at most ${d.terminalC} wrong accept ${tail}`,
    };
  }
  if (look.outcome === 'accept') {
    return { decision: 'accept', rule: 'sprt', evidence, reason: `accepted: ${of}, ${llr} ≤ accept bound ${llrText(bounds.accept)} ${tail}` };
  }
  if (look.outcome === 'reject') {
    return { decision: 'reject', rule: 'sprt', evidence, reason: `rejected: ${of}, ${llr} ≥ reject bound ${llrText(bounds.reject)} ${tail}` };
  }
  return {
    decision: 'inconclusive',
    rule: 'sprt',
    evidence,
    reason: `inconclusive: ${of}, ${llr} between the accept bound ${llrText(bounds.accept)} and the reject bound ${llrText(bounds.reject)}; the vendor's next gold decides ${tail}`,
  };
}

function decideFixed(
  rule: { goldAccuracy: number; minGoldItems: number },
  e: { n: number; wrong: number; batches: number },
): BatchDecision {
  const evidence = { ...e, c: null, llr: null, bounds: null };
  if (e.n < rule.minGoldItems) {
    return {
      decision: 'accept',
      rule: 'fixed-threshold',
      evidence,
      reason: `accepted without a quality verdict: ${items(e.n)} < minimum ${rule.minGoldItems}`,
    };
  }
  const accuracy = (e.n - e.wrong) / e.n;
  const decision = accuracy >= rule.goldAccuracy ? 'accept' : 'reject';
  return {
    decision,
    rule: 'fixed-threshold',
    evidence,
    reason: `${past(decision)}: gold accuracy ${accuracy.toFixed(3)} (${e.n - e.wrong}/${e.n}) ${decision === 'accept' ? 'meets' : 'below'} threshold ${rule.goldAccuracy}`,
  };
}

/**
 * Whether accepted evidence would also pass the tightened rule — the "well on
 * the accept side" test of the switching score (ISO 2859-1: the lot would have
 * been accepted with the acceptance number one step tighter): at most the
 * acceptance number that keeps the tightened spec's β *for the n actually
 * taken* — one gold sample for a single plan, the pooled evidence for the SPRT
 * (whose accept decisions stop at the first crossing, so asking the tightened
 * SPRT itself would almost never say yes).
 *
 * @example passesTightened(tightenedSpec, { n: 38, wrong: 3 }) // true (tightened c = 3 at n = 38)
 */
export function passesTightened(tightened: AcceptanceSpec, e: GoldEvidence): boolean {
  checkEvidence(e);
  if (e.blockers && e.blockers.length > 0) return false;
  return e.wrong <= acceptanceNumberFor(tightened, e.n);
}
