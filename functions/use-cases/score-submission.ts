/**
 * Score a submission against its hidden gold — primary course:
 * 1. Load the batch, protocol, batch key, gold answers and the accepted submission.
 * 2. Score the gold items (accuracy with Wilson interval, κ) and decide the
 *    verdict by the protocol's threshold.
 * 3. Store the score and append `batch.scored` (deterministic id: once per batch).
 */
import { scoreSubmissionAgainstGold } from '../domain/index.js';
import { loadBatchAliases, loadBatchAnswers, loadBatchKey } from './batch-key.js';
import { record } from './ledger.js';
import type { Deps } from './ports.js';
import { loadAcceptedSubmission, loadBatchProtocol } from './submission-file.js';

export async function scoreSubmission(
  deps: Deps,
  input: { batchId: string },
): Promise<{ verdict: 'accepted' | 'rejected'; goldN: number; accuracy: number | null }> {
  const { batch, protocol } = await loadBatchProtocol(deps, input.batchId);
  // A retry after the score was stored still appends its event (same id).
  let score = await deps.repo.getScore(batch.batchId);
  if (!score) {
    const key = await loadBatchKey(deps, batch.batchId);
    const { labels, masks } = await loadAcceptedSubmission(deps, batch, await loadBatchAliases(deps, batch.batchId), protocol);
    score = scoreSubmissionAgainstGold({
      batchId: batch.batchId,
      workforceId: batch.workforceId,
      protocol,
      items: key.items,
      lines: new Map(labels.map((l) => [l.alias, l])),
      masks,
      // The only step that reads the hidden answers.
      answers: await loadBatchAnswers(deps, batch.batchId),
    });
    await deps.repo.putScore(score);
  }
  await record(deps, {
    eventId: `${batch.batchId}:scored`,
    programId: batch.programId,
    type: 'batch.scored',
    actor: 'scorer',
    protocol: score.protocol,
    subject: batch.batchId,
    reason: score.notes.join('; '),
    data: {
      workforceId: batch.workforceId,
      goldN: score.goldN,
      goldCorrect: score.goldCorrect,
      accuracy: score.accuracy,
      kappa: score.kappa,
      verdict: score.verdict,
    },
  });
  return { verdict: score.verdict, goldN: score.goldN, accuracy: score.accuracy };
}
