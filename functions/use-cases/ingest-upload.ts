/**
 * Ingest an uploaded label file — primary course:
 * 1. Map the object key to its upload slot (server-chosen keys only).
 * 2. Record the submission once (conditional put on the upload id); a repeated
 *    S3 event for a finished submission stops here.
 * 3. Verify size and SHA-256 against the slot (the local S3 checks no signature).
 * 4. Validate the file: JSON Lines, one label per alias, labels in the schema.
 * 5. Bad file: mark the submission rejected with per-line reasons, keep the raw
 *    object, write a report for the vendor, send a heartbeat; the batch waits on.
 * 6. Good file: the first valid submission moves the batch to submitted
 *    (conditional) and sends the task token back; a later one is superseded.
 */
import { createHash } from 'node:crypto';
import { UPLOAD_PREFIX } from '../../infra/definitions.js';
import { type LineProblem, validateLabelFile } from '../domain/index.js';
import { gridsOf, loadBatchAliases, reportObject } from './batch-key.js';
import { record } from './ledger.js';
import type { Deps } from './ports.js';
import { findProtocol } from './protocol-ref.js';

export type IngestOutcome =
  | { status: 'ignored'; reason: string }
  | { status: 'duplicate'; uploadId: string }
  | { status: 'rejected'; uploadId: string; problems: LineProblem[] }
  | { status: 'superseded'; uploadId: string; reason: string }
  | { status: 'accepted'; uploadId: string };

/** `uploads/<workforceId>/<batchId>/<uploadId>.jsonl` */
export const uploadObject = (workforceId: string, batchId: string, uploadId: string): string =>
  `${UPLOAD_PREFIX}${workforceId}/${batchId}/${uploadId}.jsonl`;

const KEY = /^uploads\/([a-z0-9][a-z0-9._-]*)\/([a-z0-9][a-z0-9._-]*)\/([a-z0-9]{8,40})\.jsonl$/;

export interface UploadReport {
  batchId: string;
  uploadId: string;
  status: 'rejected' | 'accepted' | 'superseded';
  problems: LineProblem[];
  checkedAt: string;
}

/**
 * @param input the object the S3 event names; `versionId` (from the event, in a
 *   versioned bucket) pins the exact version that was created.
 */
export async function ingestUpload(deps: Deps, input: { bucket: string; key: string; versionId?: string }): Promise<IngestOutcome> {
  const m = KEY.exec(input.key);
  if (input.bucket !== deps.buckets.uploads || !m) {
    return { status: 'ignored', reason: `not an upload slot key: ${input.bucket}/${input.key}` };
  }
  const [, workforceId, batchId, uploadId] = m;
  const slot = await deps.repo.getUploadSlot(batchId, uploadId);
  if (!slot || slot.workforceId !== workforceId || slot.key !== input.key) {
    return { status: 'ignored', reason: `no upload slot for ${input.key}` };
  }
  // The version read here is recorded: every later step reads exactly it.
  const object = await deps.objects.getObject(deps.buckets.uploads, input.key, input.versionId);
  if (object === undefined) return { status: 'ignored', reason: `object ${input.key} is gone` };
  const { bytes, versionId } = object;
  const sha256Hex = createHash('sha256').update(bytes).digest('hex');

  const { created, current } = await deps.repo.createSubmission({
    batchId,
    uploadId,
    key: input.key,
    sha256Hex,
    sizeBytes: bytes.length,
    ...(versionId ? { versionId } : {}),
    status: 'received',
    problems: [],
    receivedAt: deps.clock.now().toISOString(),
  });
  const batch = await deps.repo.getBatch(batchId);
  if (!batch) return { status: 'ignored', reason: `batch ${batchId} not found` };
  const report = async (status: UploadReport['status'], problems: LineProblem[]) => {
    const r: UploadReport = { batchId, uploadId, status, problems, checkedAt: deps.clock.now().toISOString() };
    await deps.objects.putJson(deps.buckets.exports, reportObject(workforceId, batchId, uploadId), r);
  };
  const accepted = async () => {
    // Each step is safe to repeat: a redelivery after a crash finishes the job.
    await report('accepted', []);
    await record(deps, {
      eventId: `${batchId}:submission:${uploadId}:accepted`,
      programId: batch.programId,
      type: 'submission.accepted',
      actor: 'ingest',
      protocol: batch.protocol,
      subject: batchId,
      reason: 'valid label file: one label per alias, all within the schema',
      data: { workforceId, uploadId, key: input.key, sha256Hex },
    });
    const fresh = await deps.repo.getBatch(batchId);
    if (fresh?.taskToken && fresh.status === 'submitted' && !current.callbackSentAt) {
      await deps.callbacks.success(fresh.taskToken, { uploadId, key: input.key, sha256Hex });
      await deps.repo.updateSubmission(batchId, uploadId, { callbackSentAt: deps.clock.now().toISOString() });
    }
  };
  const rejectedEvent = (problems: LineProblem[]) =>
    record(deps, {
      eventId: `${batchId}:submission:${uploadId}:rejected`,
      programId: batch.programId,
      type: 'submission.rejected',
      actor: 'ingest',
      protocol: batch.protocol,
      subject: batchId,
      reason: `${problems.length} problem(s): ${problems.slice(0, 3).map((p) => (p.line ? `line ${p.line}: ` : '') + p.reason).join('; ')}`,
      data: { workforceId, uploadId, key: input.key, sha256Hex },
    });
  // A repeat of an event whose processing finished: nothing to do — unless the
  // first delivery crashed between claiming the batch and resuming it.
  if (!created && current.status !== 'received') {
    if (current.status === 'valid' && batch.status === 'submitted' && batch.acceptedUploadId === uploadId && !current.callbackSentAt) {
      await accepted();
    }
    if (current.status === 'rejected' && !(await deps.objects.getHead(deps.buckets.exports, reportObject(workforceId, batchId, uploadId), 1))) {
      // The first delivery crashed before its report: write it (and the event) now.
      await report('rejected', current.problems);
      await rejectedEvent(current.problems);
    }
    return { status: 'duplicate', uploadId };
  }

  const problems: LineProblem[] = [];
  if (bytes.length !== slot.sizeBytes) {
    problems.push({ line: 0, reason: `size ${bytes.length} bytes differs from the declared ${slot.sizeBytes}` });
  }
  if (sha256Hex !== slot.sha256Hex) {
    problems.push({ line: 0, reason: `SHA-256 ${sha256Hex} differs from the declared ${slot.sha256Hex}` });
  }
  const protocol = await findProtocol(deps, batch.protocol);
  if (!protocol) throw new Error(`protocol ${batch.protocol} not found for batch ${batchId}`);
  // The batch's aliases and image grids only: ingest never reads case ids or gold answers.
  const aliases = await loadBatchAliases(deps, batchId);
  if (problems.length === 0) {
    const v = validateLabelFile(bytes, { aliases: aliases.items.map((i) => i.alias), grids: gridsOf(aliases), protocol });
    if (!v.ok) problems.push(...v.problems);
  }

  if (problems.length > 0) {
    // The report and the ledger event first, the status last: the status marks
    // the work as done, so a redelivery after a crash finishes it.
    await report('rejected', problems);
    await rejectedEvent(problems);
    await deps.repo.updateSubmission(batchId, uploadId, { status: 'rejected', problems });
    if (batch.status === 'awaiting-submission' && batch.taskToken) await deps.callbacks.heartbeat(batch.taskToken);
    return { status: 'rejected', uploadId, problems };
  }

  let claimed = await deps.repo.transitionBatch(batchId, ['awaiting-submission'], 'submitted', { acceptedUploadId: uploadId });
  if (!claimed) {
    // Another delivery of this same upload may have claimed the batch meanwhile.
    const now = await deps.repo.getBatch(batchId);
    claimed = now?.status === 'submitted' && now.acceptedUploadId === uploadId;
    if (!claimed) {
      const reason = `batch is ${now?.status}${now?.acceptedUploadId ? ` with upload ${now.acceptedUploadId}` : ''}: this upload is not used`;
      const mine = (await deps.repo.listSubmissions(batchId)).find((x) => x.uploadId === uploadId);
      if (mine?.status === 'received') {
        await report('superseded', [{ line: 0, reason }]);
        await deps.repo.updateSubmission(batchId, uploadId, { status: 'superseded', problems: [{ line: 0, reason }] });
      }
      return { status: 'superseded', uploadId, reason };
    }
  }
  await deps.repo.updateSubmission(batchId, uploadId, { status: 'valid' });
  await accepted();
  return { status: 'accepted', uploadId };
}
