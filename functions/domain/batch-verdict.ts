/**
 * A scored batch's decision by its protocol's acceptance rule (issue 11):
 * accept, reject, or inconclusive — the SPRT pooling the vendor's earlier
 * inconclusive batches of the same protocol version (the "carried" batches),
 * which the decision then settles too. Pure: the caller loads the carried
 * batches' gold figures. docs/acceptance-sampling.md, "The lifecycle".
 */
import { type AcceptanceRule, type BatchDecision, decideBatch, sprtLook } from './acceptance/index.js';
import { acceptanceOf } from './acceptance-protocol.js';
import type { BatchDecisionRecord, BatchScore, ProtocolVersion } from './model/index.js';

/** An earlier inconclusive batch of the same vendor and protocol version: its own gold figures. */
export interface CarriedGold {
  batchId: string;
  n: number;
  wrong: number;
}

export type BatchVerdict = BatchScore['verdict'];

/** 'accept' → 'accepted', … (the batch status a decision leads to). */
export const verdictOf = (d: BatchDecisionRecord['decision']): BatchVerdict =>
  d === 'accept' ? 'accepted' : d === 'reject' ? 'rejected' : 'inconclusive';

const recordOf = (d: BatchDecision, carried: readonly string[]): BatchDecisionRecord => ({
  decision: d.decision,
  rule: d.rule,
  evidence: d.evidence,
  carried: [...carried],
  reason: d.reason,
});

/**
 * Decides one batch's gold, pooled with the carried batches' (oldest first).
 * A blocker (a critical miss) rejects this batch alone: the carried batches'
 * evidence was not that bad, so they stay held for the next decision.
 *
 * @example decideGold(protocol, { n: 6, wrong: 0 }, [{ batchId: 'b-1', n: 6, wrong: 0 }]).evidence.n // 12
 */
export function decideGold(
  protocol: ProtocolVersion,
  own: { n: number; wrong: number; blockers?: readonly string[] },
  carried: readonly CarriedGold[] = [],
  rule: AcceptanceRule = acceptanceOf(protocol).decision,
): BatchDecisionRecord {
  if (own.blockers && own.blockers.length > 0) return recordOf(decideBatch(rule, own), []);
  const n = carried.reduce((s, c) => s + c.n, own.n);
  const wrong = carried.reduce((s, c) => s + c.wrong, own.wrong);
  return recordOf(decideBatch(rule, { n, wrong, batches: carried.length + 1 }), carried.map((c) => c.batchId));
}

/** The critical findings that reject a batch whatever the counts (detection: a missed critical-size finding on a gold item). */
export function blockersOf(score: Pick<BatchScore, 'items'>): string[] {
  return score.items.flatMap((i) =>
    (i.criticalMisses ?? []).map(
      (m) => `critical miss on gold item ${i.caseId}: missed a ${m.diameterMm.toFixed(1)} mm ${m.finding} (critical size ${m.criticalDiameterMm} mm)`,
    ),
  );
}

/**
 * The score decided again with the carried batches' evidence pooled in: the
 * verdict, the decision record and its reason (first note) replaced.
 */
export function withCarriedEvidence(score: BatchScore, protocol: ProtocolVersion, carried: readonly CarriedGold[]): BatchScore {
  if (carried.length === 0) return score;
  const decision = decideGold(protocol, { n: score.goldN, wrong: score.goldN - score.goldCorrect, blockers: blockersOf(score) }, carried);
  const previous = score.decision?.reason;
  return {
    ...score,
    verdict: verdictOf(decision.decision),
    decision,
    notes: [decision.reason, ...score.notes.filter((n) => n !== previous)],
  };
}

/**
 * Held batches that no further batch will decide (the vendor gets no more work
 * of this protocol version): decided now by the SPRT's truncation rule on the
 * evidence in hand — accept iff the pooled log-likelihood ratio is below the
 * truncation threshold Λ* (at the truncation N exactly: at most c_N wrong).
 * Short of N the risks are larger than α and β; the reason says so.
 *
 * @example forcedDecision(protocol, [{ batchId: 'b-1', n: 6, wrong: 0 }]).decision // 'accept'
 */
export function forcedDecision(protocol: ProtocolVersion, carried: readonly CarriedGold[]): BatchDecisionRecord {
  if (carried.length === 0) throw new RangeError('no held batch to decide');
  const a = acceptanceOf(protocol);
  const n = carried.reduce((s, c) => s + c.n, 0);
  const wrong = carried.reduce((s, c) => s + c.wrong, 0);
  const d = a.sprt;
  const look = sprtLook(d, n, wrong);
  const decided = look.outcome === 'continue' ? (look.llr < d.terminalLlr ? 'accept' : 'reject') : look.outcome;
  const past = decided === 'accept' ? 'accepted' : 'rejected';
  const llr = look.llr < 0 ? `−${(-look.llr).toFixed(2)}` : look.llr.toFixed(2);
  return {
    decision: decided,
    rule: 'sprt-forced',
    evidence: { n, wrong, batches: carried.length, c: d.terminalC, llr: look.llr, bounds: { accept: d.bounds.accept, reject: d.bounds.reject } },
    carried: carried.map((c) => c.batchId),
    reason:
      `${past} without further gold: ${wrong} wrong of ${n} gold items over ${carried.length} held batch${carried.length === 1 ? '' : 'es'}, ` +
      `SPRT log-likelihood ratio ${llr} ${decided === 'accept' ? '<' : '≥'} the truncation threshold ${d.terminalLlr.toFixed(2)} ` +
      `(the rule at ${d.maxItems} items: at most ${d.terminalC} wrong accept; decided early, so the risks exceed α and β)`,
  };
}
