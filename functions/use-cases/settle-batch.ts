/**
 * Settle a batch's verdict — primary course:
 * 1. Check the batch is submitted (or already settled with this verdict: a retry).
 * 2. Append `batch.accepted` / `batch.rejected` with the scorer's reasons and
 *    the charge: the commit point (a deterministic id: a retry appends nothing).
 * 3. Move the batch from submitted to its verdict (conditional; a retry finds
 *    it already there). The lifecycle runs one step at a time, so nothing else
 *    moves the batch between 1 and 3.
 */
import { ConflictError, NotFoundError } from './errors.js';
import { batchCharge } from './close-batch.js';
import { record } from './ledger.js';
import type { Deps } from './ports.js';

export async function settleBatch(
  deps: Deps,
  input: { batchId: string; verdict: 'accepted' | 'rejected' },
): Promise<{ status: 'accepted' | 'rejected' }> {
  const batch = await deps.repo.getBatch(input.batchId);
  if (!batch) throw new NotFoundError(`batch ${input.batchId} not found`);
  const score = await deps.repo.getScore(input.batchId);
  if (!score) throw new NotFoundError(`batch ${input.batchId} has no score`);
  if (score.verdict !== input.verdict) {
    throw new ConflictError(`verdict ${input.verdict} contradicts the stored score (${score.verdict})`);
  }
  if (batch.status !== 'submitted' && batch.status !== input.verdict) {
    throw new ConflictError(`batch ${input.batchId} is ${batch.status}, cannot become ${input.verdict}`);
  }
  const { price, penalty, charge, contract, amountCents, rule } = await batchCharge(deps, batch, input.verdict);
  await record(deps, {
    eventId: `${input.batchId}:${input.verdict}`,
    programId: batch.programId,
    type: input.verdict === 'accepted' ? 'batch.accepted' : 'batch.rejected',
    actor: 'gold-check',
    protocol: batch.protocol,
    subject: input.batchId,
    reason: score.notes.join('; ') + (penalty > 0 ? `; penalty: ${penalty * 100}% of the batch price withheld` : ''),
    data: {
      workforceId: batch.workforceId,
      goldN: score.goldN,
      accuracy: score.accuracy,
      items: batch.itemCount,
      realItems: batch.itemCount - batch.goldCount,
      pricePerCase: price,
      penalty,
      charge,
      contract,
      amountCents,
      rule,
    },
  });
  const moved = await deps.repo.transitionBatch(input.batchId, ['submitted', input.verdict], input.verdict);
  if (!moved) throw new ConflictError(`batch ${input.batchId} changed while it was settled: it cannot become ${input.verdict}`);
  return { status: input.verdict };
}
