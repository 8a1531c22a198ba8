/**
 * Regression (second review; fixed): FinalizeBatch of a rejected batch writes the labels first and
 * re-queues the cases (excluding the vendor) after. If it fails in between
 * (retries exhausted), RecordFailure sees `rejected` with labels present, so it
 * takes the `status !== 'accepted'` branch and re-queues WITHOUT excluding the
 * vendor that failed the gold check: the next round may send the cases straight
 * back to it, and no `cases.requeued` event is written.
 */
import { describe, expect, it, vi } from 'vitest';
import { finalizeBatch } from '../../functions/use-cases/finalize-batch.js';
import { recordFailure } from '../../functions/use-cases/close-batch.js';
import { makeFakeDeps, seedUploadScenario } from '../unit/fakes.js';
import { ingestUpload } from '../../functions/use-cases/ingest-upload.js';

describe('second review: a rejected batch whose finalize failed after writing labels', () => {
  it('re-queues its cases away from the vendor that was rejected', async () => {
    const deps = makeFakeDeps();
    const s = await seedUploadScenario(deps);
    await deps.repo.putCases('prog-1', [0, 1].map((i) => ({
      caseId: `case-${i}`, imageKey: `images/case-${i}.dcm`, modality: 'CR', bodyPart: 'CHEST', site: 'a', deidentified: true,
      subgroup: {}, flags: {}, excludedWorkforces: [], deidentificationFindings: [], goldPool: false,
    })) as never);
    await deps.repo.assignCases('prog-1', ['case-0', 'case-1'], s.batchId);
    await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });
    await deps.repo.transitionBatch(s.batchId, ['submitted'], 'rejected');
    vi.spyOn(deps.repo, 'requeueCases').mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException'));
    await expect(finalizeBatch(deps, { batchId: s.batchId })).rejects.toThrow();
    await recordFailure(deps, { batchId: s.batchId, error: 'ProvisionedThroughputExceededException', cause: 'retries exhausted' });

    const cases = await deps.repo.listCases('prog-1');
    expect(cases.every((c) => c.state === 'pending')).toBe(true);
    expect(cases.every((c) => c.excludedWorkforces.includes(s.workforceId))).toBe(true);
  });
});
