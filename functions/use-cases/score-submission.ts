/**
 * Score a submission against its hidden gold — primary course:
 * 1. Load the batch, protocol, batch key, gold answers and the accepted submission.
 * 2. Score the gold items (accuracy with Wilson interval, κ) and decide the
 *    verdict by the protocol's threshold.
 * 3. Append `batch.scored` (deterministic id: once per batch; the commit point),
 *    then store the score (a retry computes the same score from the same inputs).
 */
import { internalBatchScore, scoreSubmissionAgainstGold } from '../domain/index.js';
import { loadBatchAliases, loadBatchAnswers, loadBatchKey } from './batch-key.js';
import { record } from './ledger.js';
import type { Deps } from './ports.js';
import { loadAcceptedSubmission, loadBatchProtocol } from './submission-file.js';

export async function scoreSubmission(
  deps: Deps,
  input: { batchId: string },
): Promise<{ verdict: 'accepted' | 'rejected' | 'inconclusive'; goldN: number; accuracy: number | null }> {
  const { batch, protocol } = await loadBatchProtocol(deps, input.batchId);
  // A retry finds the stored score, or computes the same one again; the event (same id) is appended once.
  const stored = await deps.repo.getScore(batch.batchId);
  let score = stored;
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
    // An internal team is measured by its blind gold, never rejected by it (not paid per case).
    if (batch.workforceKind === 'internal') score = internalBatchScore(score);
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
  if (!stored) await deps.repo.putScore(score);
  return { verdict: score.verdict, goldN: score.goldN, accuracy: score.accuracy };
}
