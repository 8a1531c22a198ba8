/**
 * Held batches no further batch will decide — primary course (a PM's command,
 * `POST /v1/programs/{p}/held-batches/decide`, when a vendor gets no more work
 * of a protocol version: the program ends, the vendor is paused or its share
 * fell to 0). Runs in the Api function: finalizing reads the batches' keys and
 * aliases and their accepted uploads, which it holds already for disputes.
 * 1. Load the vendor's held (inconclusive) batches of the protocol version.
 * 2. Decide them together by the SPRT's truncation rule on the pooled gold
 *    (batch-verdict.ts `forcedDecision`, rule `sprt-forced`).
 * 3. Record who asked and why: `held-batches.decided`, whose id is the
 *    decision's (`forced:<program>:<vendor>:<last held batch>`): asked twice
 *    before it settles, it is recorded once.
 * 4. Settle each as a carried batch (`<id>:carried`, decidedWith that id) — the
 *    first of these events is the commit point: a re-run finds it (on a batch
 *    still held, or settled but not finalized) and completes that same decision
 *    instead of deciding again — then finalize each (labels, or re-queue away
 *    from the vendor with the penalty).
 */
import { z } from 'zod';
import { type BatchDecisionRecord, Identifier, forcedDecision, verdictOf } from '../domain/index.js';
import { ProtocolRef } from './assignments.js';
import { ConflictError, NotFoundError } from './errors.js';
import { finalizeApplied, finalizeUnlessDone } from './finalize-batch.js';
import { record } from './ledger.js';
import type { Deps } from './ports.js';
import { findProtocol } from './protocol-ref.js';
import { heldBatches } from './score-submission.js';
import { carriedEventId, decidedCarried, settleCarried } from './settle-batch.js';
import { parse } from './work-queries.js';

export const DecideHeldBatchesInput = z.strictObject({
  programId: Identifier,
  workforceId: Identifier,
  /** The protocol version the held batches ran under (`id@version`). */
  protocol: ProtocolRef,
  /** Why no further batch will decide them (kept in the ledger). */
  reason: z.string().trim().min(1).max(2000),
  /** Who asked (`pm:<user>`). */
  actor: z.string().min(1).max(200),
});

export interface HeldDecision {
  decision: 'accepted' | 'rejected' | 'none';
  /** The held batches it settled (none: nothing was held). */
  batches: string[];
  /** The rule's reason (none: why there was nothing to decide). */
  reason: string;
  /** The decision's id: its `held-batches.decided` event and the carried verdicts' `decidedWith`. */
  decisionId?: string;
}

/**
 * Decides a vendor's held batches of a protocol version now, by the SPRT's
 * truncation rule, and settles and finalizes each; idempotent (a repeat, or a
 * re-run after a crash at any line, decides them once).
 *
 * @example await decideHeldBatches(deps, { programId: 'demo-cxr', workforceId: 'vendor-a', protocol: 'chest-xray@1', reason: 'program closed', actor: 'pm:alice' })
 */
export async function decideHeldBatches(deps: Deps, input: z.input<typeof DecideHeldBatchesInput>): Promise<HeldDecision> {
  const req = parse(DecideHeldBatchesInput, input);
  const protocol = await findProtocol(deps, req.protocol);
  if (!protocol) throw new NotFoundError(`protocol ${req.protocol} not found`);
  if (!(await deps.repo.listWorkforces(req.programId)).some((w) => w.workforceId === req.workforceId)) {
    throw new NotFoundError(`workforce ${req.workforceId} not found in program ${req.programId}`);
  }
  // A forced decision committed before a crash (its first `<id>:carried` event) is completed, never made again.
  const unfinished = await unfinishedForcedDecision(deps, req);
  if (unfinished) return settleAndFinalize(deps, req.programId, unfinished.decision, unfinished.decidedWith);
  const held = await heldBatches(deps, req);
  if (held.length === 0) return { decision: 'none', batches: [], reason: `${req.workforceId} has no held batch of ${req.protocol}` };
  const gold = [];
  for (const b of held) {
    const s = await deps.repo.getScore(b.batchId);
    if (!s) throw new ConflictError(`held batch ${b.batchId} has no stored score`);
    gold.push({ batchId: b.batchId, n: s.goldN, wrong: s.goldN - s.goldCorrect });
  }
  const decision = forcedDecision(protocol, gold);
  const decidedWith = `forced:${req.programId}:${req.workforceId}:${held.at(-1)!.batchId}`;
  // Who asked and why, before the commit point: a crash here leaves the batches held, and the
  // repeat finds the same held batches, so the same id (recorded once) and the same decision.
  await record(deps, {
    eventId: decidedWith,
    programId: req.programId,
    type: 'held-batches.decided',
    actor: req.actor,
    protocol: req.protocol,
    subject: req.workforceId,
    reason: req.reason,
    data: { workforceId: req.workforceId, batchIds: held.map((b) => b.batchId), decision },
  });
  return settleAndFinalize(deps, req.programId, decision, decidedWith);
}

/**
 * A forced decision of this vendor some of whose batches are not settled and
 * finalized yet: a carried batch claimed by it still held, or settled without
 * its labels event (or with writes after it missing).
 */
async function unfinishedForcedDecision(
  deps: Deps,
  input: { programId: string; workforceId: string; protocol: string },
): Promise<{ decision: BatchDecisionRecord; decidedWith: string } | undefined> {
  let after: Parameters<Deps['repo']['listWorkforceBatches']>[1]['after'];
  do {
    const page = await deps.repo.listWorkforceBatches(input.workforceId, { limit: 100, ...(after ? { after } : {}) });
    for (const b of page.items) {
      if (b.programId !== input.programId || b.protocol !== input.protocol) continue;
      if (b.status !== 'inconclusive' && b.status !== 'accepted' && b.status !== 'rejected') continue;
      const claim = await decidedCarried(deps, b);
      if (!claim?.data.decision || !claim.data.decidedWith?.startsWith('forced:')) continue;
      const labels = await deps.repo.getLedgerEvent(b.programId, `${b.batchId}:labels`);
      const done = b.status !== 'inconclusive' && labels?.type === 'labels.recorded' && (await finalizeApplied(deps, b, labels));
      if (!done) return { decision: claim.data.decision, decidedWith: claim.data.decidedWith };
    }
    after = page.next;
  } while (after);
  return undefined;
}

async function settleAndFinalize(
  deps: Deps,
  programId: string,
  decision: BatchDecisionRecord,
  decidedWith: string,
): Promise<HeldDecision> {
  const verdict = verdictOf(decision.decision);
  if (verdict === 'inconclusive') throw new ConflictError('a forced decision cannot be inconclusive');
  await settleCarried(deps, { batchId: decidedWith, programId }, verdict, decision, decidedWith);
  const settled: string[] = [];
  for (const id of decision.carried) {
    const claim = await deps.repo.getLedgerEvent(programId, carriedEventId(id));
    if (claim?.type !== 'batch.accepted' && claim?.type !== 'batch.rejected') continue;
    if (claim.data.decidedWith !== decidedWith) continue;
    await finalizeUnlessDone(deps, { batchId: id, programId });
    settled.push(id);
  }
  return { decision: verdict, batches: settled, reason: decision.reason, decisionId: decidedWith };
}
