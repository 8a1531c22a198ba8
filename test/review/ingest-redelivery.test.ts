/**
 * Regression (found in review; fixed): ingest-upload.ts at-least-once gaps not covered by the existing tests:
 *  1. Two deliveries of the same S3 event in flight together (EventBridge does
 *     duplicate): the second read the batch before the first claimed it, its
 *     own transition fails, and it marks the *accepted* upload "superseded" and
 *     overwrites the vendor's report with "this upload is not used" while the
 *     workflow goes on to score and finalize that very upload.
 *  2. A bad file whose first delivery dies after updateSubmission('rejected')
 *     but before the report / ledger: the redelivery takes the duplicate
 *     branch, so the vendor never gets its per-line reasons and the ledger
 *     never records submission.rejected.
 */
import { describe, expect, it, vi } from 'vitest';
import { reportObject } from '../../functions/use-cases/batch-key.js';
import { ingestUpload, type UploadReport } from '../../functions/use-cases/ingest-upload.js';
import { makeFakeDeps, seedUploadScenario } from '../unit/fakes.js';

describe('review: ingestUpload under duplicate delivery', () => {
  it('two concurrent deliveries of one valid upload: neither calls it superseded', async () => {
    const deps = makeFakeDeps();
    const s = await seedUploadScenario(deps);
    const outcomes = await Promise.all([
      ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key }),
      ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key }),
    ]);
    expect(await deps.repo.getBatch(s.batchId)).toMatchObject({ status: 'submitted', acceptedUploadId: s.uploadId });
    const report = await deps.objects.getJson<UploadReport>(deps.buckets.exports, reportObject(s.workforceId, s.batchId, s.uploadId));
    expect({
      submission: deps.repo.submissions.get(`${s.batchId}/${s.uploadId}`)!.status,
      report: report!.status,
      outcomes: outcomes.map((o) => o.status),
    }).toEqual({ submission: 'valid', report: 'accepted', outcomes: expect.arrayContaining(['accepted']) });
    expect(outcomes.map((o) => o.status)).not.toContain('superseded');
    // One resume reaches the workflow (a second SendTaskSuccess would be refused as stale).
    expect(deps.callbacks.successes.length).toBeGreaterThanOrEqual(1);
  });

  it('a bad file whose first delivery crashed before the report: the redelivery writes report and ledger', async () => {
    const deps = makeFakeDeps();
    const s = await seedUploadScenario(deps, { file: new TextEncoder().encode('not json\n') });
    const putJson = deps.objects.putJson.bind(deps.objects);
    vi.spyOn(deps.objects, 'putJson').mockRejectedValueOnce(new Error('SlowDown')).mockImplementation(putJson);
    await expect(ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key })).rejects.toThrow('SlowDown');

    await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key }); // Lambda async retry

    const report = await deps.objects.getJson<UploadReport>(deps.buckets.exports, reportObject(s.workforceId, s.batchId, s.uploadId));
    expect(report?.status).toBe('rejected');
    const ledger = await deps.repo.listLedger('prog-1');
    expect(ledger.map((e) => e.type)).toContain('submission.rejected');
  });
});
