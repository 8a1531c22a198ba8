/**
 * Park a batch on its callback token — primary course:
 * 1. Store the task token and the SLA deadline on the batch.
 * 2. Move the batch from planned to awaiting-submission (a retry finds it there).
 * The execution then waits until ingest sends the token back, or the SLA ends.
 * A batch that already holds its valid upload (an execution re-driven after a
 * stop, or a retried state) resumes at once.
 */
import { ConflictError, NotFoundError } from './errors.js';
import type { Deps } from './ports.js';

export async function awaitSubmission(
  deps: Deps,
  input: { batchId: string; taskToken: string; slaSeconds: number },
): Promise<{ batchId: string; slaDeadline: string }> {
  const batch = await deps.repo.getBatch(input.batchId);
  if (!batch) throw new NotFoundError(`batch ${input.batchId} not found`);
  // Withdrawn before its wait (a PM moved its work, manual-control.ts): nothing to wait for; RecordFailure closes it.
  if (batch.status === 'failed') throw new ConflictError(`batch ${input.batchId} was closed before its wait: ${batch.failure ?? 'failed'}`);
  const slaDeadline = new Date(deps.clock.now().getTime() + input.slaSeconds * 1000).toISOString();
  await deps.repo.setTaskToken(input.batchId, input.taskToken, slaDeadline);
  await deps.repo.transitionBatch(input.batchId, ['planned', 'awaiting-submission'], 'awaiting-submission');
  if (batch.status === 'submitted' && batch.acceptedUploadId) {
    const s = (await deps.repo.listSubmissions(batch.batchId)).find((x) => x.uploadId === batch.acceptedUploadId);
    if (s) await deps.callbacks.success(input.taskToken, { uploadId: s.uploadId, key: s.key, sha256Hex: s.sha256Hex });
  }
  return { batchId: input.batchId, slaDeadline };
}
