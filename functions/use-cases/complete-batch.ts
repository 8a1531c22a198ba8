/**
 * Complete a scored batch in one Lambda (the CompleteBatch state) — primary course:
 * 1. Settle the score's verdict (settle-batch.ts): accepted, rejected, or held
 *    (inconclusive). Skipped when the batch record already carries it (settle's
 *    last write), or when a held batch was meanwhile settled as carried.
 * 2. Held: rebalance (the batch is settled for its round) and stop.
 * 3. Decided: finalize the carried batches this decision settled and the batch
 *    itself (finalize-batch.ts), each unless its finalize already completed.
 * 4. Check agreement (adjudication.ts): overlap disagreements and critical misses.
 * 5. No expert needed: rebalance. Needed: the workflow waits for the expert
 *    (AwaitAdjudication) and rebalances after the adjudication.
 *
 * The parts were four states (SettleBatch, FinalizeBatch, CheckAgreement,
 * Rebalance) and are one now, to cut Step Functions state transitions (issue 14);
 * the use cases are unchanged and each is idempotent. Step Functions retries the
 * whole task from the top after a failure at any write, so a part whose work is
 * complete is not run again where a second run could undo later work: a
 * re-finalize would make labels an overlap adjudication superseded meanwhile
 * accepted again, and a held batch carried by another decision since cannot be
 * held again. The ledger, not the execution history, records each part.
 */
import { adjudicationIdFor, checkAgreement } from './adjudication.js';
import { finalizeCarried, finalizeUnlessDone } from './finalize-batch.js';
import { NotFoundError } from './errors.js';
import type { Deps } from './ports.js';
import { rebalanceAfterBatch } from './rebalance.js';
import { decidedCarried, type SettleVerdict, settleBatch } from './settle-batch.js';

/** The parts of CompleteBatch, by the names they ran under as functions of their own (the embedded stack's crash points still name them). */
export type CompletePart = 'SettleBatch' | 'FinalizeBatch' | 'CheckAgreement' | 'Rebalance';

/** Runs one part; the default runs it as it is. The embedded stack passes one that names the part for its crash points and meters. */
export type PartRunner = <T>(part: CompletePart, work: () => Promise<T>) => Promise<T>;

const runPart: PartRunner = (_part, work) => work();

export interface CompleteBatchResult {
  status: SettleVerdict;
  /** Cases an expert must decide (0: none, the round was rebalanced). */
  needed: number;
  adjudicationId: string;
  /** The adjudication SLA in seconds when one is needed, else 0. */
  timeoutSeconds: number;
  /** Carried batches finalized with this one. */
  carried: string[];
  /** Present once rebalanced: whether this batch completed its round. */
  roundComplete?: boolean;
}

/**
 * @example await completeBatch(deps, { batchId: 'demo-cxr-r1-vendor-a-1', verdict: 'accepted' })
 */
export async function completeBatch(
  deps: Deps,
  input: { batchId: string; verdict: SettleVerdict },
  part: PartRunner = runPart,
): Promise<CompleteBatchResult> {
  const { batchId } = input;
  const adjudicationId = adjudicationIdFor(batchId);
  const status = await part('SettleBatch', () => settleUnlessDone(deps, input));
  if (status === 'inconclusive') {
    const { roundComplete } = await part('Rebalance', () => rebalanceAfterBatch(deps, { batchId }));
    return { status, needed: 0, adjudicationId, timeoutSeconds: 0, carried: [], roundComplete };
  }
  const carried = await part('FinalizeBatch', async () => {
    const done = await finalizeCarried(deps, batchId);
    const batch = await deps.repo.getBatch(batchId);
    if (!batch) throw new NotFoundError(`batch ${batchId} not found`);
    await finalizeUnlessDone(deps, batch);
    return done;
  });
  const agreement = await part('CheckAgreement', () => checkAgreement(deps, { batchId }));
  if (agreement.needed > 0) return { status, ...agreement, carried };
  const { roundComplete } = await part('Rebalance', () => rebalanceAfterBatch(deps, { batchId }));
  return { status, ...agreement, timeoutSeconds: 0, carried, roundComplete };
}

/**
 * Settles the verdict unless the batch already carries it: the status change is
 * settle's last write, so a batch at its verdict was settled completely. A held
 * batch that another batch's decision settled since (its `<id>:carried` event)
 * was held first: its own settle is complete too.
 */
async function settleUnlessDone(deps: Deps, input: { batchId: string; verdict: SettleVerdict }): Promise<SettleVerdict> {
  const batch = await deps.repo.getBatch(input.batchId);
  if (batch?.status === input.verdict) return input.verdict;
  if (input.verdict === 'inconclusive' && (batch?.status === 'accepted' || batch?.status === 'rejected') && (await decidedCarried(deps, batch))) {
    return input.verdict;
  }
  return (await settleBatch(deps, input)).status;
}
