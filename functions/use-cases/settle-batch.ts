/**
 * Settle a batch's decision — primary course:
 * 1. Check the batch is submitted (or already settled with this verdict: a retry).
 * 2. Append the decision event — `batch.accepted` / `batch.rejected` with the
 *    rule, the (pooled) evidence and the charge, or `batch.inconclusive` (held:
 *    no charge, no penalty) — the commit point (a deterministic id: a retry
 *    appends nothing).
 * 3. A conclusive decision that pooled earlier inconclusive batches of the same
 *    vendor (`decision.carried`) settles each of them the same way: one
 *    `batch.accepted` / `batch.rejected` with id `<carried>:carried` naming this
 *    batch (`decidedWith`), charged at the carried batch's own price, then its
 *    status. That id claims the carried batch: if another decision claimed it
 *    first (two batches of one vendor decided at once), that one stands.
 * 4. Move the batch from submitted to its verdict (conditional; a retry finds
 *    it already there). The lifecycle runs one step at a time, so nothing else
 *    moves the batch between 1 and 4; a crash anywhere is resumed by running
 *    this again (every write is idempotent).
 */
import type { BatchDecisionRecord, LedgerEventOf } from '../domain/index.js';
import { ConflictError, NotFoundError } from './errors.js';
import { batchCharge } from './close-batch.js';
import { record } from './ledger.js';
import type { BatchRecord, Deps } from './ports.js';

export type SettleVerdict = 'accepted' | 'rejected' | 'inconclusive';

export async function settleBatch(deps: Deps, input: { batchId: string; verdict: SettleVerdict }): Promise<{ status: SettleVerdict }> {
  const batch = await deps.repo.getBatch(input.batchId);
  if (!batch) throw new NotFoundError(`batch ${input.batchId} not found`);
  const score = await deps.repo.getScore(input.batchId);
  if (!score) throw new NotFoundError(`batch ${input.batchId} has no score`);
  if (score.verdict !== input.verdict) {
    throw new ConflictError(`verdict ${input.verdict} contradicts the stored score (${score.verdict})`);
  }
  return settleDecision(deps, batch, {
    verdict: input.verdict,
    decision: score.decision,
    goldN: score.goldN,
    accuracy: score.accuracy,
    reason: score.notes.join('; '),
  });
}

export interface DecisionToSettle {
  verdict: SettleVerdict;
  /** Absent only for scores stored before decisions were recorded (then nothing is carried). */
  decision?: BatchDecisionRecord;
  goldN: number;
  accuracy: number | null;
  /** The sentence in the ledger and the vendor's report: the decision's reason first. */
  reason: string;
}

/**
 * Records a decided batch and everything its decision settles (the carried
 * batches), then moves the statuses: the entry point for any path that decides
 * a submitted batch from its gold (the lifecycle, an exam, a re-score).
 *
 * @example await settleDecision(deps, batch, { verdict: 'accepted', decision, goldN: 6, accuracy: 1, reason: decision.reason })
 */
export async function settleDecision(deps: Deps, batch: BatchRecord, d: DecisionToSettle): Promise<{ status: SettleVerdict }> {
  const { verdict } = d;
  if (batch.status !== 'submitted' && batch.status !== verdict) {
    throw new ConflictError(`batch ${batch.batchId} is ${batch.status}, cannot become ${verdict}`);
  }
  const items = { items: batch.itemCount, realItems: batch.itemCount - batch.goldCount };
  if (verdict === 'inconclusive') {
    if (!d.decision) throw new ConflictError(`batch ${batch.batchId} is inconclusive without a recorded decision`);
    const { price } = await batchCharge(deps, batch, 'accepted');
    await record(deps, {
      eventId: `${batch.batchId}:inconclusive`,
      programId: batch.programId,
      type: 'batch.inconclusive',
      actor: 'gold-check',
      protocol: batch.protocol,
      subject: batch.batchId,
      reason: `${d.reason}; held: not paid and not penalised until the vendor's next decision settles it`,
      data: { workforceId: batch.workforceId, goldN: d.goldN, accuracy: d.accuracy, ...items, pricePerCase: price, decision: d.decision },
    });
  } else {
    await recordVerdict(deps, batch, verdict, { eventId: `${batch.batchId}:${verdict}`, goldN: d.goldN, accuracy: d.accuracy, reason: d.reason, decision: d.decision });
    if (d.decision) await settleCarried(deps, batch, verdict, d.decision);
  }
  const moved = await deps.repo.transitionBatch(batch.batchId, ['submitted', verdict], verdict);
  if (!moved) throw new ConflictError(`batch ${batch.batchId} changed while it was settled: it cannot become ${verdict}`);
  return { status: verdict };
}

/** Appends a batch's `batch.accepted` / `batch.rejected`, charged under its contract (the reason gets the penalty, if any). */
async function recordVerdict(
  deps: Deps,
  batch: BatchRecord,
  verdict: 'accepted' | 'rejected',
  e: { eventId: string; goldN: number; accuracy: number | null; reason: string; decision?: BatchDecisionRecord; decidedWith?: string },
): Promise<void> {
  const { price, penalty, charge, contract, amountCents, rule } = await batchCharge(deps, batch, verdict);
  await record(deps, {
    eventId: e.eventId,
    programId: batch.programId,
    type: verdict === 'accepted' ? 'batch.accepted' : 'batch.rejected',
    actor: 'gold-check',
    protocol: batch.protocol,
    subject: batch.batchId,
    reason: e.reason + penaltyText(penalty),
    data: {
      workforceId: batch.workforceId,
      goldN: e.goldN,
      accuracy: e.accuracy,
      items: batch.itemCount,
      realItems: batch.itemCount - batch.goldCount,
      pricePerCase: price,
      penalty,
      charge,
      contract,
      amountCents,
      rule,
      ...(e.decision ? { decision: e.decision } : {}),
      ...(e.decidedWith ? { decidedWith: e.decidedWith } : {}),
    },
  });
}

const penaltyText = (penalty: number): string => (penalty > 0 ? `; penalty: ${penalty * 100}% of the batch price withheld` : '');

/** The event id that settles a carried batch (and claims it: one decision per carried batch). */
export const carriedEventId = (batchId: string): string => `${batchId}:carried`;

/**
 * Settles each carried batch of a conclusive decision (idempotent: a retry finds
 * the events and the statuses already there). `decidedWith`: the batch whose
 * decision it is (or, for a forced decision, what forced it).
 */
export async function settleCarried(
  deps: Deps,
  by: Pick<BatchRecord, 'batchId' | 'programId'>,
  verdict: 'accepted' | 'rejected',
  decision: BatchDecisionRecord,
  decidedWith: string = by.batchId,
): Promise<string[]> {
  const settled: string[] = [];
  for (const id of decision.carried) {
    const carried = await deps.repo.getBatch(id);
    if (!carried) throw new NotFoundError(`carried batch ${id} of ${by.batchId} not found`);
    const claim = await decidedCarried(deps, carried);
    if (claim && claim.data.decidedWith !== decidedWith) continue; // settled by another decision first: that one stands
    const score = await deps.repo.getScore(id);
    await recordVerdict(deps, carried, verdict, {
      eventId: carriedEventId(id),
      goldN: score?.goldN ?? 0,
      accuracy: score?.accuracy ?? null,
      reason: `${verdict} with ${decidedWith}: ${decision.reason}`,
      decision,
      decidedWith,
    });
    // The claim may have been won by another decision between the read and the append.
    const stood = await decidedCarried(deps, carried);
    if (stood?.data.decidedWith !== decidedWith) continue;
    const to = stood.type === 'batch.accepted' ? 'accepted' : 'rejected';
    await deps.repo.transitionBatch(id, ['inconclusive', to], to);
    settled.push(id);
  }
  return settled;
}

/** The decision that settled a carried batch, if one did. */
export async function decidedCarried(
  deps: Deps,
  b: Pick<BatchRecord, 'batchId' | 'programId'>,
): Promise<LedgerEventOf<'batch.accepted'> | LedgerEventOf<'batch.rejected'> | undefined> {
  const e = await deps.repo.getLedgerEvent(b.programId, carriedEventId(b.batchId));
  return e?.type === 'batch.accepted' || e?.type === 'batch.rejected' ? e : undefined;
}
