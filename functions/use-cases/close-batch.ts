/**
 * Closing a batch that produced no labels: an SLA miss (overdue) or a recorded
 * failure. The ledger event comes first (its id is deterministic, so a retry
 * re-appends nothing); then the batch status; then its real cases still
 * assigned to it go back to the queue. The batch counts as settled in its round
 * once Rebalance runs after it.
 */
import { loadBatchKey } from './batch-key.js';
import { settleUnderContract } from './contracts.js';
import { NotFoundError } from './errors.js';
import { finalizeApplied, finalizeBatch, recordRequeued } from './finalize-batch.js';
import { record } from './ledger.js';
import type { BatchItem } from '../domain/index.js';
import type { BatchRecord, Deps, RequeueOptions } from './ports.js';

const OPEN = ['planned', 'awaiting-submission', 'submitted'] as const;

/**
 * What a workforce is paid for a batch, under the contract in force at its
 * dispatch (functions/domain/contracts.ts `settlementLine`: every item, gold
 * included; a rejected one less the contract's penalty; a late one less its
 * credit). `price`, `penalty` (a share) and `charge` are in dollars, as the
 * ledger's verdict events have always carried them; `contract`, `amountCents`
 * and `rule` are the contract's line, recorded beside them.
 */
export async function batchCharge(
  deps: Deps,
  batch: BatchRecord,
  verdict: 'accepted' | 'rejected',
): Promise<{ price: number; penalty: number; charge: number; contract: string; amountCents: number; rule: string }> {
  const { contract, line } = await settleUnderContract(deps, batch, verdict);
  return {
    price: contract.terms.pricePerAcceptedCaseCents / 100,
    penalty: line.grossCents > 0 ? line.penaltyCents / line.grossCents : verdict === 'rejected' ? 1 : 0,
    charge: Math.max(0, line.amountCents) / 100,
    contract: line.contract,
    amountCents: line.amountCents,
    rule: line.rule,
  };
}

export async function markOverdue(
  deps: Deps,
  input: { batchId: string; timeout?: string },
): Promise<{ status: string }> {
  const batch = await deps.repo.getBatch(input.batchId);
  if (!batch) throw new NotFoundError(`batch ${input.batchId} not found`);
  const silent = input.timeout === 'States.HeartbeatTimeout';
  // The miss costs a vendor this work: it goes to another workforce. An internal
  // team keeps it (it may be the only one allowed to do it).
  const exclude = batch.workforceKind === 'vendor' ? batch.workforceId : undefined;
  await record(deps, {
    eventId: `${batch.batchId}:overdue`,
    programId: batch.programId,
    type: 'batch.overdue',
    actor: 'sla-timer',
    protocol: batch.protocol,
    subject: batch.batchId,
    reason:
      (silent
        ? `no sign of life (an upload attempt or a slot request) within the heartbeat window`
        : `no valid submission within the SLA of ${batch.slaHours} h (deadline ${batch.slaDeadline ?? 'unknown'})`) +
      (exclude ? '; cases re-queued to another workforce' : '; cases re-queued'),
    data: { workforceId: batch.workforceId, slaHours: batch.slaHours, timeout: input.timeout ?? 'States.Timeout' },
  });
  // 'submitted' too: a valid upload that arrived as the timer fired is too late —
  // in AWS its SendTaskSuccess is refused (the task timed out) — so the batch is overdue.
  await deps.repo.transitionBatch(batch.batchId, ['awaiting-submission', 'planned', 'submitted', 'overdue'], 'overdue');
  await requeue(deps, batch, exclude);
  return { status: 'overdue' };
}

/**
 * Records a failed lifecycle. What happens to the cases depends on how far the
 * batch got: open → failed, cases back to the queue; rejected → cases back to
 * the queue away from that workforce; accepted but never finalized (no labels
 * written) → failed, the acceptance withdrawn in the ledger if it was recorded
 * there (so scorecards do not count it), cases back; accepted and finalized →
 * the labels stand; inconclusive (held) → stays held, its cases assigned to it,
 * for the vendor's next decision to settle.
 */
export async function recordFailure(
  deps: Deps,
  input: { batchId: string; error?: string; cause?: string },
): Promise<{ status: string }> {
  const batch = await deps.repo.getBatch(input.batchId);
  if (!batch) throw new NotFoundError(`batch ${input.batchId} not found`);
  // A batch closed before its lifecycle failed (a PM moved its work, manual-control.ts) keeps that cause.
  const failure = batch.status === 'failed' && batch.failure ? batch.failure : `${input.error ?? 'Error'}: ${(input.cause ?? '').slice(0, 1000)}`;
  // Finalized = its `labels.recorded` is in the ledger (the commit point of finalize);
  // labels it did not get to write are written now, and then they stand.
  const labelsEvent = await deps.repo.getLedgerEvent(batch.programId, `${batch.batchId}:labels`);
  const finalized = labelsEvent?.type === 'labels.recorded';
  if (finalized && !(await finalizeApplied(deps, batch, labelsEvent))) await finalizeBatch(deps, { batchId: batch.batchId });
  // An acceptance is revoked only if the ledger holds it (settle may have moved
  // the status but failed to record the event): scorecards never go below zero.
  const acceptedInLedger = Boolean(await deps.repo.getLedgerEvent(batch.programId, `${batch.batchId}:accepted`));
  const unfinishedAccept = batch.status === 'accepted' && !finalized;
  const revokedAcceptance =
    unfinishedAccept && acceptedInLedger
      ? { realItems: batch.itemCount - batch.goldCount, charge: (await batchCharge(deps, batch, 'accepted')).charge }
      : undefined;
  await record(deps, {
    eventId: `${batch.batchId}:failed`,
    programId: batch.programId,
    type: 'batch.failed',
    actor: 'workflow',
    protocol: batch.protocol,
    subject: batch.batchId,
    reason: unfinishedAccept ? `${failure}; accepted but never finalized: acceptance withdrawn, cases re-queued` : failure,
    data: { workforceId: batch.workforceId, statusBefore: batch.status, ...(revokedAcceptance ? { revokedAcceptance } : {}) },
  });
  if (batch.status === 'rejected') {
    // Rejected stays rejected; its cases go elsewhere, whether or not the labels were written.
    const exclude = batch.workforceKind === 'vendor' ? batch.workforceId : undefined;
    const items = await keyItems(deps, batch);
    const handOver = await recordRequeued(deps, batch, items, 'workflow', exclude);
    await requeue(deps, batch, exclude, handOver);
    return { status: 'rejected' };
  }
  if (batch.status === 'accepted' && finalized) return { status: 'accepted' }; // the labels stand
  if (batch.status === 'inconclusive') return { status: 'inconclusive' }; // held: a later decision settles it and its cases
  await deps.repo.transitionBatch(batch.batchId, [...OPEN, 'failed', 'accepted'], 'failed', { failure });
  await requeue(deps, batch);
  return { status: 'failed' };
}

/** The batch's items, from its answer key; none when the key was never written. */
async function keyItems(deps: Deps, batch: BatchRecord): Promise<BatchItem[]> {
  try {
    return (await loadBatchKey(deps, batch.batchId)).items;
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
    return [];
  }
}

async function requeue(deps: Deps, batch: BatchRecord, exclude?: string, handOver?: RequeueOptions['handOver']): Promise<void> {
  const real = (await keyItems(deps, batch)).filter((i) => !i.gold).map((i) => i.caseId);
  if (real.length > 0) await deps.repo.requeueCases(batch.programId, real, { batchId: batch.batchId, exclude, handOver });
}
