/** Reads back the accepted submission of a batch and checks it is unchanged. */
import { createHash } from 'node:crypto';
import {
  type BatchScore,
  type LabelLine,
  type ProtocolVersion,
  type RleMask3D,
  type StoredLabel,
  type Submission,
  scoreSubmissionAgainstGold,
  validateLabelFile,
} from '../domain/index.js';
import { type BatchAliases, gridsOf, loadBatchAliases, loadBatchAnswers, loadBatchKey } from './batch-key.js';
import { IntegrityError, NotFoundError } from './errors.js';
import type { BatchRecord, Deps } from './ports.js';
import { findProtocol } from './protocol-ref.js';

export async function loadAcceptedSubmission(
  deps: Deps,
  batch: BatchRecord,
  aliases: BatchAliases,
  protocol: ProtocolVersion,
): Promise<{ submission: Submission; labels: LabelLine[]; masks: Map<string, RleMask3D[]>; lineOf: Map<string, number> }> {
  if (!batch.acceptedUploadId) throw new NotFoundError(`batch ${batch.batchId} has no accepted upload`);
  const submission = (await deps.repo.listSubmissions(batch.batchId)).find((s) => s.uploadId === batch.acceptedUploadId);
  if (!submission) throw new NotFoundError(`submission ${batch.acceptedUploadId} of batch ${batch.batchId} not found`);
  // Exactly the version ingest read; where the store keeps no versions the
  // hash check below is what binds these bytes to the ingested ones.
  const bytes = await deps.objects.getBytes(deps.buckets.uploads, submission.key, submission.versionId);
  if (!bytes) throw new IntegrityError(`submission object ${submission.key} is missing`);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== submission.sha256Hex || bytes.length !== submission.sizeBytes) {
    throw new IntegrityError(`submission object ${submission.key} changed since ingest (SHA-256 ${sha})`);
  }
  const v = validateLabelFile(bytes, { aliases: aliases.items.map((i) => i.alias), grids: gridsOf(aliases), protocol });
  if (!v.ok) throw new IntegrityError(`submission ${submission.key} no longer validates: ${v.problems[0].reason}`);
  return { submission, labels: v.labels, masks: v.masks, lineOf: v.lineOf };
}

/**
 * The uploaded file a stored label came from: the version ingest read (where the
 * store keeps versions), and the SHA-256 recorded on the label either way.
 */
export async function readLabelSubmission(
  deps: Deps,
  l: Pick<StoredLabel, 'submissionKey' | 'submissionVersionId' | 'submissionSha256'>,
): Promise<Uint8Array> {
  const bytes = await deps.objects.getBytes(deps.buckets.uploads, l.submissionKey, l.submissionVersionId);
  if (!bytes) throw new NotFoundError(`submission ${l.submissionKey} not found`);
  if (createHash('sha256').update(bytes).digest('hex') !== l.submissionSha256) {
    throw new IntegrityError(`submission object ${l.submissionKey} changed since ingest`);
  }
  return bytes;
}

/**
 * A batch's accepted submission scored against its hidden gold answers, by the
 * acceptance rule on this batch's gold alone: ScoreSubmission, and a dispute's
 * re-score after a gold correction — the only readers of `batch-answers/`.
 */
export async function scoreAcceptedSubmission(deps: Deps, batch: BatchRecord, protocol: ProtocolVersion): Promise<BatchScore> {
  const key = await loadBatchKey(deps, batch.batchId);
  const { labels, masks } = await loadAcceptedSubmission(deps, batch, await loadBatchAliases(deps, batch.batchId), protocol);
  return scoreSubmissionAgainstGold({
    batchId: batch.batchId,
    workforceId: batch.workforceId,
    protocol,
    items: key.items,
    lines: new Map(labels.map((l) => [l.alias, l])),
    masks,
    answers: await loadBatchAnswers(deps, batch.batchId),
  });
}

export async function loadBatchProtocol(deps: Deps, batchId: string): Promise<{ batch: BatchRecord; protocol: ProtocolVersion }> {
  const batch = await deps.repo.getBatch(batchId);
  if (!batch) throw new NotFoundError(`batch ${batchId} not found`);
  const protocol = await findProtocol(deps, batch.protocol);
  if (!protocol) throw new NotFoundError(`protocol ${batch.protocol} not found`);
  return { batch, protocol };
}
