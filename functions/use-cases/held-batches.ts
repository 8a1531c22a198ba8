/**
 * Held batches no further batch will decide — primary course (a PM's command,
 * when a vendor gets no more work of a protocol version: the program ends, the
 * vendor is paused or its share fell to 0):
 * 1. Load the vendor's held (inconclusive) batches of the protocol version.
 * 2. Decide them together by the SPRT's truncation rule on the pooled gold
 *    (batch-verdict.ts `forcedDecision`, rule `sprt-forced`).
 * 3. Settle each as a carried batch (`<id>:carried`, decidedWith
 *    `forced:<program>:<vendor>:<last held batch>`) — the first of these events
 *    is the commit point: a re-run finds it (on a batch still held, or settled
 *    but not finalized) and completes that same decision instead of deciding
 *    again — then finalize each (labels, or re-queue away from the vendor with
 *    the penalty).
 */
import { type BatchDecisionRecord, forcedDecision, verdictOf } from '../domain/index.js';
import { ConflictError, NotFoundError } from './errors.js';
import { finalizeApplied, finalizeUnlessDone } from './finalize-batch.js';
import type { Deps } from './ports.js';
import { findProtocol } from './protocol-ref.js';
import { heldBatches } from './score-submission.js';
import { carriedEventId, decidedCarried, settleCarried } from './settle-batch.js';

export interface HeldDecision {
  decision: 'accepted' | 'rejected' | 'none';
  batches: string[];
  reason: string;
}

/**
 * @example await decideHeldBatches(deps, { programId: 'demo-cxr', workforceId: 'vendor-a', protocol: 'chest-xray@1' })
 */
export async function decideHeldBatches(
  deps: Deps,
  input: { programId: string; workforceId: string; protocol: string },
): Promise<HeldDecision> {
  const protocol = await findProtocol(deps, input.protocol);
  if (!protocol) throw new NotFoundError(`protocol ${input.protocol} not found`);
  // A forced decision committed before a crash (its first `<id>:carried` event) is completed, never made again.
  const unfinished = await unfinishedForcedDecision(deps, input);
  if (unfinished) return settleAndFinalize(deps, input.programId, unfinished.decision, unfinished.decidedWith);
  const held = await heldBatches(deps, input);
  if (held.length === 0) return { decision: 'none', batches: [], reason: `${input.workforceId} has no held batch of ${input.protocol}` };
  const gold = [];
  for (const b of held) {
    const s = await deps.repo.getScore(b.batchId);
    if (!s) throw new ConflictError(`held batch ${b.batchId} has no stored score`);
    gold.push({ batchId: b.batchId, n: s.goldN, wrong: s.goldN - s.goldCorrect });
  }
  const decision = forcedDecision(protocol, gold);
  return settleAndFinalize(deps, input.programId, decision, `forced:${input.programId}:${input.workforceId}:${held.at(-1)!.batchId}`);
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
  return { decision: verdict, batches: settled, reason: decision.reason };
}
