/**
 * Closing a batch that produced no labels: an SLA miss (overdue) or a recorded
 * failure. Its real cases go back to pending, the miss or failure is written to
 * the ledger, and the batch counts as settled in its round.
 */
import { loadBatchKey } from './batch-key.js';
import { NotFoundError } from './errors.js';
import { record } from './ledger.js';
import type { Deps } from './ports.js';

const OPEN = ['planned', 'awaiting-submission', 'submitted'] as const;

export async function markOverdue(deps: Deps, input: { batchId: string }): Promise<{ status: string }> {
  const batch = await deps.repo.getBatch(input.batchId);
  if (!batch) throw new NotFoundError(`batch ${input.batchId} not found`);
  // 'submitted' too: a valid upload that arrived as the timer fired is too late —
  // in AWS its SendTaskSuccess is refused (the task timed out) — so the batch is overdue.
  await deps.repo.transitionBatch(batch.batchId, ['awaiting-submission', 'planned', 'submitted', 'overdue'], 'overdue');
  // The SLA miss costs the workforce this work: it goes to another one.
  await requeue(deps, batch.batchId, batch.programId, batch.workforceId);
  await record(deps, {
    eventId: `${batch.batchId}:overdue`,
    programId: batch.programId,
    type: 'batch.overdue',
    actor: 'sla-timer',
    protocol: batch.protocol,
    subject: batch.batchId,
    reason: `no valid submission within the SLA of ${batch.slaHours} h (deadline ${batch.slaDeadline ?? 'unknown'}); cases re-queued to another workforce`,
    data: { workforceId: batch.workforceId, slaHours: batch.slaHours },
  });
  return { status: 'overdue' };
}

export async function recordFailure(
  deps: Deps,
  input: { batchId: string; error?: string; cause?: string },
): Promise<{ status: string }> {
  const batch = await deps.repo.getBatch(input.batchId);
  if (!batch) throw new NotFoundError(`batch ${input.batchId} not found`);
  const failure = `${input.error ?? 'Error'}: ${(input.cause ?? '').slice(0, 1000)}`;
  await deps.repo.transitionBatch(batch.batchId, [...OPEN, 'failed'], 'failed', { failure });
  // Accepted labels stay accepted even if a later step failed.
  if (batch.status !== 'accepted') await requeue(deps, batch.batchId, batch.programId);
  await record(deps, {
    eventId: `${batch.batchId}:failed`,
    programId: batch.programId,
    type: 'batch.failed',
    actor: 'workflow',
    protocol: batch.protocol,
    subject: batch.batchId,
    reason: failure,
    data: { workforceId: batch.workforceId },
  });
  return { status: 'failed' };
}

async function requeue(deps: Deps, batchId: string, programId: string, exclude?: string): Promise<void> {
  try {
    const key = await loadBatchKey(deps, batchId);
    const real = key.items.filter((i) => !i.gold).map((i) => i.caseId);
    if (exclude) await deps.repo.requeueCases(programId, real, exclude);
    else await deps.repo.setCaseState(programId, real, 'pending', batchId);
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
  }
}
