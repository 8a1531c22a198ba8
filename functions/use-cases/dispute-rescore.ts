/**
 * Re-scoring after a gold correction (an upheld dispute): the batches that hold
 * the corrected item as gold, their answers objects rewritten, and each scored
 * batch scored again against the corrected answers and re-decided with the
 * protocol's acceptance rule.
 *
 * Primary course of rescoreBatch:
 * 1. Score the accepted submission again against the (rewritten) answers.
 * 2. Append `batch.rescored` (id `<disputeId>:rescored:<batchId>`): before and
 *    after figures, the new decision, the flip, the settlement and — on a
 *    reject → accept flip — which cases now take this batch's labels (those
 *    still pending) and which were re-done elsewhere meanwhile (paid, their
 *    other labels stay). The commit point: a re-run follows this event.
 * 3. Then the projections: the score, the batch status (on a flip), the labels
 *    and case states (reject → accept). An accept → reject flip withholds the
 *    penalty but leaves the accepted labels in place (releases may cite them;
 *    the event names the batch for a QA lead to re-label explicitly).
 */
import {
  type BatchScore,
  type CarriedGold,
  type GoldAnswer,
  type LedgerEventOf,
  figuresOf,
  flipOf,
  internalBatchScore,
  scoredAgainstOldAnswer,
  withCarriedEvidence,
} from '../domain/index.js';
import type { ProtocolVersion } from '../domain/index.js';
import { BatchAnswers, batchAnswersObject, loadBatchKey } from './batch-key.js';
import { batchCharge } from './close-batch.js';
import { record } from './ledger.js';
import type { BatchRecord, Deps } from './ports.js';
import { loadBatchProtocol, scoreAcceptedSubmission } from './submission-file.js';

/**
 * Every batch of the program (any workforce, production or exam) whose key holds
 * one of the cases as a gold item: the ledger's `batch.dispatched` names them all.
 */
export async function batchesHoldingGold(deps: Deps, programId: string, caseIds: readonly string[]): Promise<string[]> {
  const wanted = new Set(caseIds);
  const dispatched = new Set((await deps.repo.listLedger(programId)).filter((e) => e.type === 'batch.dispatched').map((e) => e.subject));
  const out: string[] = [];
  for (const batchId of dispatched) {
    const key = await loadBatchKey(deps, batchId);
    if (key.items.some((i) => i.gold && wanted.has(i.caseId))) out.push(batchId);
  }
  return out;
}

/** The batch's hidden answers with the corrected ones in place (written only when one differs). */
export async function rewriteBatchAnswer(deps: Deps, batchId: string, corrected: ReadonlyMap<string, GoldAnswer>): Promise<void> {
  const raw = await deps.objects.getJson<unknown>(deps.buckets.gold, batchAnswersObject(batchId));
  if (raw === undefined) return;
  const stored = BatchAnswers.parse(raw);
  let changed = false;
  for (const [caseId, answer] of corrected) {
    if (!(caseId in stored.answers) || JSON.stringify(stored.answers[caseId]) === JSON.stringify(answer)) continue;
    stored.answers[caseId] = answer;
    changed = true;
  }
  if (changed) await deps.objects.putJson(deps.buckets.gold, batchAnswersObject(batchId), stored);
}

/**
 * The batch's score against its current answers, decided as ScoreSubmission
 * decides it: an internal team measured only; a vendor's batch by the acceptance
 * rule, pooled with the same held batches its stored decision pooled (their
 * current scores), which keep their own decisions.
 */
async function scoreAgain(deps: Deps, batch: BatchRecord, protocol: ProtocolVersion, stored: BatchScore): Promise<BatchScore> {
  const score = await scoreAcceptedSubmission(deps, batch, protocol);
  if (batch.workforceKind === 'internal') {
    const { decision: _own, ...measured } = internalBatchScore(score);
    return measured;
  }
  const carried: CarriedGold[] = [];
  for (const batchId of stored.decision?.carried ?? []) {
    const s = await deps.repo.getScore(batchId);
    if (s) carried.push({ batchId, n: s.goldN, wrong: s.goldN - s.goldCorrect });
  }
  return withCarriedEvidence(score, protocol, carried);
}

type Rescored = LedgerEventOf<'batch.rescored'>['data'];
const SETTLED = ['accepted', 'rejected', 'inconclusive'] as const;
const settledAs = (status: string, score: BatchScore): Rescored['decision'] =>
  (SETTLED as readonly string[]).includes(status) ? (status as Rescored['decision']) : score.verdict;

/**
 * Re-scores one batch for a dispute; false when the batch was not scored, or
 * was scored against the corrected answers already (nothing to do).
 */
export async function rescoreBatch(
  deps: Deps,
  input: { batchId: string; disputeId: string; corrected: ReadonlyMap<string, GoldAnswer>; corrections: readonly { goldCaseId: string; toVersion: number }[] },
): Promise<boolean> {
  const { batch, protocol } = await loadBatchProtocol(deps, input.batchId);
  // A qualification exam is decided by the exam rule, not as production work: its answers are corrected, its decision stands.
  if (batch.kind === 'exam') return false;
  const eventId = `${input.disputeId}:rescored:${batch.batchId}`;
  const recorded = await deps.repo.getLedgerEvent(batch.programId, eventId);
  const stored = await deps.repo.getScore(batch.batchId);
  if (!stored) return false;
  if (recorded?.type !== 'batch.rescored' && !scoredAgainstOldAnswer(stored, input.corrected)) return false;
  // Scored but not yet settled: its lifecycle settles the verdict it scored; re-run
  // the resolution (resumeDisputes) once it has settled.
  if (recorded?.type !== 'batch.rescored' && !(SETTLED as readonly string[]).includes(batch.status)) return false;
  const fresh = await scoreAgain(deps, batch, protocol, stored);
  let data: Rescored;
  if (recorded?.type === 'batch.rescored') {
    data = recorded.data;
  } else {
    const before = figuresOf(stored, settledAs(batch.status, stored));
    const after = figuresOf(fresh, fresh.verdict);
    const flip = flipOf(batch.status, after.decision);
    const mine = new Set(input.corrected.keys());
    data = {
      workforceId: batch.workforceId,
      disputeId: input.disputeId,
      corrections: input.corrections.filter((c) => mine.has(c.goldCaseId) && stored.items.some((i) => i.caseId === c.goldCaseId)),
      before,
      after,
      decision: flip ?? before.decision,
      flipped: flip !== undefined,
      ...(flip ? { settlement: await settlementOf(deps, batch, before.decision, after.decision) } : {}),
      ...(await labelsOnFlip(deps, batch, flip === 'accepted' && before.decision === 'rejected')),
    };
    await record(deps, {
      eventId,
      programId: batch.programId,
      type: 'batch.rescored',
      actor: 'scorer',
      protocol: batch.protocol,
      subject: batch.batchId,
      reason:
        `re-scored against corrected gold (dispute ${input.disputeId}): gold ${before.goldCorrect}/${before.goldN} → ${after.goldCorrect}/${after.goldN}` +
        (flip ? `; ${before.decision} → ${after.decision}` : `; still ${after.decision}`) +
        (data.redoneElsewhereCaseIds.length ? `; ${data.redoneElsewhereCaseIds.length} case(s) already re-done elsewhere: paid, their labels stay` : '') +
        `; ${fresh.notes[0] ?? ''}`,
      data,
    });
  }
  // Projections, each idempotent.
  await deps.repo.putScore(fresh);
  if (data.flipped) await deps.repo.transitionBatch(batch.batchId, [data.before.decision, data.decision], data.decision);
  if (data.labelledCaseIds.length > 0) {
    const take = new Set(data.labelledCaseIds);
    const labels = (await deps.repo.listBatchLabels(batch.batchId)).filter((l) => take.has(l.caseId));
    await deps.repo.putLabels(labels.map((l) => ({ ...l, status: 'accepted' as const })));
    await deps.repo.setCaseState(batch.programId, data.labelledCaseIds, 'labelled', batch.batchId);
  }
  return true;
}

/** What the old and the new decision charge (an inconclusive batch is held: no charge, no penalty). */
async function settlementOf(deps: Deps, batch: BatchRecord, before: Rescored['decision'], after: Rescored['decision']): Promise<NonNullable<Rescored['settlement']>> {
  const charge = async (d: Rescored['decision']) => (d === 'inconclusive' ? { price: 0, penalty: 0, charge: 0 } : batchCharge(deps, batch, d));
  const b = await charge(before);
  const a = await charge(after);
  return {
    items: batch.itemCount,
    realItems: batch.itemCount - batch.goldCount,
    pricePerCase: Math.max(a.price, b.price),
    penaltyBefore: b.penalty,
    penalty: a.penalty,
    chargeBefore: b.charge,
    charge: a.charge,
  };
}

/**
 * Reject → accept: the batch's real cases still pending take its labels; the
 * ones another batch took (or labelled) meanwhile are re-done elsewhere.
 */
async function labelsOnFlip(deps: Deps, batch: BatchRecord, rejectToAccept: boolean): Promise<Pick<Rescored, 'labelledCaseIds' | 'redoneElsewhereCaseIds'>> {
  if (!rejectToAccept) return { labelledCaseIds: [], redoneElsewhereCaseIds: [] };
  const key = await loadBatchKey(deps, batch.batchId);
  const real = key.items.filter((i) => !i.gold && !i.overlapSecondary).map((i) => i.caseId);
  const labelledCaseIds: string[] = [];
  const redoneElsewhereCaseIds: string[] = [];
  for (const caseId of real) {
    const c = await deps.repo.getCase(batch.programId, caseId);
    // Still pending, or already labelled by this very batch (an earlier flip): its labels stand.
    if (c?.state === 'pending' || (c?.state === 'labelled' && c.batchId === batch.batchId)) labelledCaseIds.push(caseId);
    else redoneElsewhereCaseIds.push(caseId);
  }
  return { labelledCaseIds, redoneElsewhereCaseIds };
}
