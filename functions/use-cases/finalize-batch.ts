/**
 * Finalize a settled batch — primary course:
 * 1. Append `cases.requeued` (rejected batch) and `labels.recorded`: the
 *    commit point (deterministic ids: a retry appends nothing twice).
 * 2. Write one label per item with its lineage: workforce, annotator, protocol
 *    id@version, submission key and SHA-256 (deterministic keys: a retry
 *    rewrites the same items).
 * 3. Accepted batch: its real cases are labelled. Rejected: they go back to
 *    pending and are planned again next round.
 * A decision that settled carried batches (earlier inconclusive batches of the
 * same vendor, settle-batch.ts) finalizes each of them first, the same way:
 * the batch's own labels are recorded last, so the batch counts as finalized
 * (resume.ts) only once its carried batches are.
 */
import type { BatchItem, LabelLine, LedgerEventOf, RleMask3D, StoredLabel } from '../domain/index.js';
import { loadBatchAliases, loadBatchKey } from './batch-key.js';
import { ConflictError } from './errors.js';
import { record } from './ledger.js';
import { decidedCarried } from './settle-batch.js';
import type { BatchRecord, Deps } from './ports.js';
import { loadAcceptedSubmission, loadBatchProtocol } from './submission-file.js';

export async function finalizeBatch(deps: Deps, input: { batchId: string }): Promise<{ labels: number; status: string; carried: string[] }> {
  const carried = await finalizeCarried(deps, input.batchId);
  return { ...(await finalizeOne(deps, input.batchId)), carried };
}

/**
 * Finalizes the carried batches this batch's decision settled (those whose
 * `<id>:carried` event names it), each unless its finalize already completed.
 */
export async function finalizeCarried(deps: Deps, batchId: string, decidedWith: string = batchId): Promise<string[]> {
  const score = await deps.repo.getScore(batchId);
  const done: string[] = [];
  for (const id of score?.decision?.carried ?? []) {
    const b = await deps.repo.getBatch(id);
    if (!b) continue;
    if ((await decidedCarried(deps, b))?.data.decidedWith !== decidedWith) continue;
    await finalizeUnlessDone(deps, b);
    done.push(id);
  }
  return done;
}

/** Finalizes a settled batch unless its finalize already completed (its labels event and every write after it). */
export async function finalizeUnlessDone(deps: Deps, b: Pick<BatchRecord, 'batchId' | 'programId'>): Promise<void> {
  const recorded = await deps.repo.getLedgerEvent(b.programId, `${b.batchId}:labels`);
  if (recorded?.type !== 'labels.recorded' || !(await finalizeApplied(deps, b, recorded))) await finalizeOne(deps, b.batchId);
}

async function finalizeOne(deps: Deps, batchId: string): Promise<{ labels: number; status: string }> {
  const { batch, protocol } = await loadBatchProtocol(deps, batchId);
  if (batch.status !== 'accepted' && batch.status !== 'rejected') {
    throw new ConflictError(`batch ${batch.batchId} is ${batch.status}: only accepted or rejected batches are finalized`);
  }
  const key = await loadBatchKey(deps, batch.batchId);
  const { submission, labels, masks, lineOf } = await loadAcceptedSubmission(
    deps,
    batch,
    await loadBatchAliases(deps, batch.batchId),
    protocol,
  );
  const byAlias = new Map(labels.map((l, k) => [l.alias, { line: l, index: k }]));
  const now = deps.clock.now().toISOString();
  const stored: StoredLabel[] = key.items.map((item) => {
    const { line: l } = byAlias.get(item.alias)!;
    return {
      caseId: item.caseId,
      batchId: batch.batchId,
      ...labelContent(l, masks.get(item.alias), lineOf.get(item.alias) ?? 1),
      workforceId: batch.workforceId,
      annotatorId: l.annotator,
      ...(l.preLabel ? { preLabel: l.preLabel } : {}),
      protocol: batch.protocol,
      submissionKey: submission.key,
      submissionSha256: submission.sha256Hex,
      ...(submission.versionId ? { submissionVersionId: submission.versionId } : {}),
      gold: item.gold,
      status: batch.status as 'accepted' | 'rejected',
      createdAt: now,
    };
  });
  const real = key.items.filter((i) => !i.gold).map((i) => i.caseId);
  // The events first (the commit point; deterministic ids), then the labels and
  // the case states: a retry after a crash appends nothing twice and rewrites
  // the same items.
  const handOver = batch.status === 'rejected' ? await recordRequeued(deps, batch, key.items, 'finalizer', batch.workforceId) : [];
  await record(deps, {
    eventId: `${batch.batchId}:labels`,
    programId: batch.programId,
    type: 'labels.recorded',
    actor: 'finalizer',
    protocol: batch.protocol,
    subject: batch.batchId,
    reason:
      batch.status === 'accepted'
        ? `${real.length} labels accepted from ${submission.key}`
        : `${real.length} labels kept as rejected; cases re-queued`,
    data: {
      workforceId: batch.workforceId,
      labels: stored.length,
      submissionKey: submission.key,
      sha256: submission.sha256Hex,
      caseIds: batch.status === 'accepted' ? real : [],
    },
  });
  await deps.repo.putLabels(stored);
  if (batch.status === 'accepted') {
    await deps.repo.setCaseState(batch.programId, real, 'labelled', batch.batchId);
  } else {
    // Rejected: the cases are redone elsewhere — never by the same workforce.
    await deps.repo.requeueCases(batch.programId, real, { batchId: batch.batchId, exclude: batch.workforceId, handOver });
  }
  return { labels: stored.length, status: batch.status };
}

/** A batch not yet decided (open, or held inconclusive): a case handed to it is settled by its decision. */
const UNDECIDED: ReadonlySet<string> = new Set(['planned', 'awaiting-submission', 'submitted', 'inconclusive']);

/**
 * Records a rejected batch's `cases.requeued` (deterministic id) and returns the cases
 * to hand over instead of re-queueing: an overlap case whose second copy sits in another
 * workforce's batch not yet decided goes to that batch, whose decision then settles it
 * (accepted → labelled once; rejected → re-queued away from that workforce too). Re-queued,
 * it would be planned again and that workforce could label it twice. A retry uses the
 * hand-over its first run recorded, so the case writes match the ledger.
 */
export async function recordRequeued(
  deps: Deps,
  batch: BatchRecord,
  items: readonly BatchItem[],
  actor: 'finalizer' | 'workflow',
  exclude: string | undefined,
): Promise<{ caseId: string; batchId: string }[]> {
  const real = items.filter((i) => !i.gold).map((i) => i.caseId);
  const handedOver = await overlapHandOver(deps, batch, items);
  const eventId = `${batch.batchId}:requeued`;
  const appended = await record(deps, {
    eventId,
    programId: batch.programId,
    type: 'cases.requeued',
    actor,
    protocol: batch.protocol,
    subject: batch.batchId,
    reason:
      `batch rejected: ${real.length - handedOver.length} case(s) back to the queue${exclude ? `, excluded from ${exclude}` : ''}` +
      (handedOver.length ? `; ${handedOver.length} handed to the batch holding their overlap copy` : ''),
    data: { workforceId: batch.workforceId, cases: real.length, caseIds: real, ...(exclude ? { exclude } : {}), ...(handedOver.length ? { handedOver } : {}) },
  });
  if (appended === 'appended') return handedOver;
  const stored = await deps.repo.getLedgerEvent(batch.programId, eventId);
  return stored?.type === 'cases.requeued' ? (stored.data.handedOver ?? []) : handedOver;
}

/** The batch of another workforce, same round, not yet decided, holding the second copy of each of this batch's overlap cases. */
async function overlapHandOver(deps: Deps, batch: BatchRecord, items: readonly BatchItem[]): Promise<{ caseId: string; batchId: string }[]> {
  const want = new Set(items.filter((i) => !i.gold && i.overlap && !i.overlapSecondary).map((i) => i.caseId));
  if (want.size === 0) return [];
  const others = (await deps.repo.listRoundBatches(batch.programId, batch.round)).filter((b) => b.workforceId !== batch.workforceId && UNDECIDED.has(b.status));
  const out: { caseId: string; batchId: string }[] = [];
  for (const b of others) {
    if (want.size === 0) break;
    for (const i of (await loadBatchKey(deps, b.batchId)).items) {
      if (i.overlapSecondary && want.delete(i.caseId)) out.push({ caseId: i.caseId, batchId: b.batchId });
    }
  }
  return out.sort((x, y) => (x.caseId < y.caseId ? -1 : x.caseId > y.caseId ? 1 : 0));
}

/**
 * Whether a finalize whose `labels.recorded` is in the ledger got to write what
 * follows it: every label, and no case of the batch left assigned to it. A crash
 * between the event and these writes leaves it false; finalizing again then
 * completes them (and is safe: nothing supersedes the labels before
 * CheckAgreement, which runs after finalize).
 */
export async function finalizeApplied(deps: Deps, batch: Pick<BatchRecord, 'batchId' | 'programId'>, recorded: LedgerEventOf<'labels.recorded'>): Promise<boolean> {
  const labels = await deps.repo.listBatchLabels(batch.batchId);
  if (labels.length < recorded.data.labels) return false;
  // The batch's own cases (its labels name each one), not the program's case list: that read grew with the program.
  const cases = await Promise.all([...new Set(labels.map((l) => l.caseId))].map((id) => deps.repo.getCase(batch.programId, id)));
  return !cases.some((c) => c?.state === 'assigned' && c.batchId === batch.batchId);
}

/** The stored form of a label line: the class, the findings, or a pointer to the mask. */
function labelContent(l: LabelLine, masks: RleMask3D[] | undefined, line: number): Pick<StoredLabel, 'label' | 'findings' | 'maskRef'> {
  if ('label' in l) return { label: l.label };
  if ('findings' in l) {
    return { label: `${l.findings.length} finding(s)`, findings: l.findings };
  }
  const voxels = (masks ?? []).reduce((s, m) => {
    let n = 0;
    for (let k = 1; k < m.runs.length; k += 2) n += m.runs[k];
    return s + n;
  }, 0);
  return { label: 'mask', maskRef: { line, format: l.mask.format, voxels } };
}
