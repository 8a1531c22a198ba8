/**
 * Scoring a submission against its hidden gold items, and the batch verdict by
 * the protocol's threshold.
 */
import type { BatchItem, BatchScore, GoldItemScore, ProtocolVersion } from './model/index.js';
import { protocolRef } from './model/index.js';
import { cohenKappa, isDefined, wilsonInterval } from './scoring/index.js';

export interface ScoreInput {
  batchId: string;
  workforceId: string;
  protocol: ProtocolVersion;
  items: readonly BatchItem[];
  /** alias → submitted label */
  labels: ReadonlyMap<string, string>;
  /** caseId → gold answer (only the batch's gold items are needed) */
  answers: ReadonlyMap<string, string>;
}

/**
 * Classification scoring: accuracy on gold items with a Wilson 95% interval and
 * Cohen's κ against the expert answers (labels = the protocol's classes, so
 * unused classes do not change weighted κ). Verdict: accepted when the gold
 * accuracy reaches the protocol's threshold; with fewer gold items than the
 * protocol's minimum the batch is accepted and the figure marked insufficient.
 */
export function scoreClassificationSubmission(input: ScoreInput): BatchScore {
  const { protocol } = input;
  const notes: string[] = [];
  const items: GoldItemScore[] = [];
  for (const item of input.items) {
    if (!item.gold) continue;
    const expected = input.answers.get(item.caseId);
    if (expected === undefined) throw new Error(`gold answer missing for case ${item.caseId} in batch ${input.batchId}`);
    const got = input.labels.get(item.alias);
    if (got === undefined) throw new Error(`label missing for alias ${item.alias} in batch ${input.batchId}`);
    items.push({ caseId: item.caseId, expected, got, correct: got === expected });
  }
  const n = items.length;
  const correct = items.filter((i) => i.correct).length;
  const w = wilsonInterval(correct, n);
  const kappa = cohenKappa(
    items.map((i) => i.got),
    items.map((i) => i.expected),
    { labels: protocol.task.classes, weights: protocol.task.ordinal ? 'quadratic' : 'none' },
  );
  if (!isDefined(w.estimate)) notes.push(`accuracy undefined: ${w.estimate.reason}`);
  if (!isDefined(kappa)) notes.push(`κ undefined: ${kappa.reason}`);

  const threshold = protocol.thresholds.goldAccuracy;
  let verdict: 'accepted' | 'rejected';
  if (n < protocol.thresholds.minGoldItems) {
    verdict = 'accepted';
    notes.push(
      `insufficient gold: n=${n} < minimum ${protocol.thresholds.minGoldItems}; accepted without a quality verdict`,
    );
  } else if (w.estimate.value >= threshold) {
    verdict = 'accepted';
    notes.push(`gold accuracy ${w.estimate.value.toFixed(3)} (${correct}/${n}) meets threshold ${threshold}`);
  } else {
    verdict = 'rejected';
    notes.push(`gold accuracy ${w.estimate.value.toFixed(3)} (${correct}/${n}) below threshold ${threshold}`);
  }
  return {
    batchId: input.batchId,
    workforceId: input.workforceId,
    protocol: protocolRef(protocol),
    goldN: n,
    goldCorrect: correct,
    accuracy: isDefined(w.estimate) ? w.estimate.value : null,
    interval: isDefined(w.estimate) ? { lower: w.lower, upper: w.upper } : null,
    kappa: isDefined(kappa) ? kappa.value : null,
    verdict,
    notes,
    items,
  };
}
