import { describe, expect, it } from 'vitest';
import { ingestUpload } from '../../../functions/use-cases/ingest-upload.js';
import { scoreSubmission } from '../../../functions/use-cases/score-submission.js';
import { failLedgerOnce } from '../../support/scenario.js';
import { makeFakeDeps, seedUploadScenario } from '../fakes.js';

describe('Use case: scoreSubmission', () => {
  // Found in review: the stored score guarded the retry, so a crash before batch.scored was appended lost the batch's gold from the ledger and the scorecard under-counted it.
  it('records batch.scored in the ledger when retried after a crash between the score and the ledger write', async () => {
    const deps = makeFakeDeps();
    const s = await seedUploadScenario(deps);
    await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });
    failLedgerOnce(deps, 'batch.scored');
    await expect(scoreSubmission(deps, { batchId: s.batchId })).rejects.toThrow();
    await scoreSubmission(deps, { batchId: s.batchId }); // the state's Retry

    const ledger = await deps.repo.listLedger('prog-1');
    expect(ledger.filter((e) => e.type === 'batch.scored').map((e) => e.subject)).toEqual([s.batchId]);
  });
});
