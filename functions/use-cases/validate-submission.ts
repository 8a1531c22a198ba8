/**
 * Validate the submission the batch resumed with — primary course:
 * 1. Re-read the object; its size and SHA-256 must equal what ingest recorded.
 * 2. Re-validate it against the batch (a changed object is an integrity failure,
 *    not retried; the Catch records it).
 */
import { loadBatchAliases } from './batch-key.js';
import type { Deps } from './ports.js';
import { loadAcceptedSubmission, loadBatchProtocol } from './submission-file.js';

export async function validateSubmission(
  deps: Deps,
  input: { batchId: string },
): Promise<{ uploadId: string; sha256Hex: string; labels: number }> {
  const { batch, protocol } = await loadBatchProtocol(deps, input.batchId);
  // The aliases only: validation never reads the case ids or the gold answers.
  const aliases = await loadBatchAliases(deps, batch.batchId);
  const { submission, labels } = await loadAcceptedSubmission(deps, batch, aliases, protocol);
  return { uploadId: submission.uploadId, sha256Hex: submission.sha256Hex, labels: labels.length };
}
