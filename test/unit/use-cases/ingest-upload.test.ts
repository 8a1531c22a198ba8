import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { reportObject } from '../../../functions/use-cases/batch-key.js';
import { ingestUpload, type UploadReport } from '../../../functions/use-cases/ingest-upload.js';
import { type FakeDeps, labelFile, makeFakeDeps, seedUploadScenario, type UploadScenario } from '../fakes.js';

const reportOf = (deps: FakeDeps, s: UploadScenario, uploadId = s.uploadId) =>
  deps.objects.getJson<UploadReport>(deps.buckets.exports, reportObject(s.workforceId, s.batchId, uploadId));

const ledgerTypes = async (deps: FakeDeps) => (await deps.repo.listLedger('prog-1')).map((e) => `${e.type} ${e.eventId}`);

describe('Function: ingestUpload', () => {
  describe('a valid label file', () => {
    it('returns "accepted", claims the batch and sends the task token back once', async () => {
      // Arrange
      const deps = makeFakeDeps();
      const s = await seedUploadScenario(deps);

      // Act
      const r = await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });

      // Assert
      expect(r).toEqual({ status: 'accepted', uploadId: s.uploadId });
      expect(await deps.repo.getBatch(s.batchId)).toMatchObject({ status: 'submitted', acceptedUploadId: s.uploadId });
      expect(deps.repo.submissions.get(`${s.batchId}/${s.uploadId}`)).toMatchObject({ status: 'valid', sha256Hex: s.sha256Hex });
      expect(deps.callbacks.successes).toEqual([
        { kind: 'success', token: s.token, output: { uploadId: s.uploadId, key: s.key, sha256Hex: s.sha256Hex } },
      ]);
      expect(await reportOf(deps, s)).toMatchObject({ status: 'accepted', problems: [] });
      expect(await ledgerTypes(deps)).toEqual([`submission.accepted ${s.batchId}:submission:${s.uploadId}:accepted`]);
    });
  });

  describe('repeated deliveries', () => {
    it('returns "duplicate" and sends no second callback once the batch has moved on', async () => {
      // Arrange: first delivery done; the workflow has since settled the batch
      const deps = makeFakeDeps();
      const s = await seedUploadScenario(deps);
      await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });
      await deps.repo.transitionBatch(s.batchId, ['submitted'], 'accepted');

      // Act
      const r = await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });

      // Assert
      expect(r).toEqual({ status: 'duplicate', uploadId: s.uploadId });
      expect(deps.callbacks.successes).toHaveLength(1);
    });

    it('returns "duplicate" and sends no second callback when the event repeats right after completion [PRODUCTION BUG]', async () => {
      // Arrange: first delivery completed (callback sent); the batch is still
      // `submitted` while the workflow validates and scores it.
      const deps = makeFakeDeps();
      const s = await seedUploadScenario(deps);
      await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });

      // Act: S3/EventBridge delivers the same event again (at-least-once)
      const r = await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });

      // Assert: ingest-upload.ts (duplicate branch) cannot tell "crashed before the
      // callback" from "callback already sent", so it sends SendTaskSuccess again.
      expect(r).toEqual({ status: 'duplicate', uploadId: s.uploadId });
      expect(deps.callbacks.successes).toHaveLength(1);
    });

    it('sends the callback on redelivery when the first delivery crashed after claiming the batch, before the callback', async () => {
      // Arrange: the first delivery dies while sending the token back
      const deps = makeFakeDeps();
      const s = await seedUploadScenario(deps);
      vi.spyOn(deps.callbacks, 'success').mockRejectedValueOnce(new Error('Task timed out after 60.00 seconds'));
      await expect(ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key })).rejects.toThrow('Task timed out');
      expect(await deps.repo.getBatch(s.batchId)).toMatchObject({ status: 'submitted', acceptedUploadId: s.uploadId });

      // Act
      const r = await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });

      // Assert
      expect(r).toEqual({ status: 'duplicate', uploadId: s.uploadId });
      expect(deps.callbacks.successes).toEqual([
        { kind: 'success', token: s.token, output: { uploadId: s.uploadId, key: s.key, sha256Hex: s.sha256Hex } },
      ]);
    });

    it('finishes the work on redelivery when the first delivery crashed after claiming the batch, before marking the file valid', async () => {
      // Arrange
      const deps = makeFakeDeps();
      const s = await seedUploadScenario(deps);
      const update = deps.repo.updateSubmission.bind(deps.repo);
      vi.spyOn(deps.repo, 'updateSubmission')
        .mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException'))
        .mockImplementation(update);
      await expect(ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key })).rejects.toThrow();
      expect(deps.repo.submissions.get(`${s.batchId}/${s.uploadId}`)!.status).toBe('received');

      // Act
      const r = await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });

      // Assert
      expect(r).toEqual({ status: 'accepted', uploadId: s.uploadId });
      expect(deps.repo.submissions.get(`${s.batchId}/${s.uploadId}`)!.status).toBe('valid');
      expect(deps.callbacks.successes.map((c) => c.token)).toEqual([s.token]);
    });

    it('writes the vendor report and the ledger event on redelivery when the first delivery crashed before writing them [PRODUCTION BUG]', async () => {
      // Arrange: the first delivery marks the file valid, then dies writing the report
      const deps = makeFakeDeps();
      const s = await seedUploadScenario(deps);
      const putJson = deps.objects.putJson.bind(deps.objects);
      vi.spyOn(deps.objects, 'putJson').mockRejectedValueOnce(new Error('SlowDown')).mockImplementation(putJson);
      await expect(ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key })).rejects.toThrow('SlowDown');

      // Act
      await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });

      // Assert: the duplicate branch of ingest-upload.ts only resends the callback;
      // the vendor never gets a validation report and the ledger never records
      // submission.accepted for this upload.
      expect(deps.callbacks.successes.map((c) => c.token)).toEqual([s.token]);
      expect(await reportOf(deps, s)).toMatchObject({ status: 'accepted' });
      expect(await ledgerTypes(deps)).toContain(`submission.accepted ${s.batchId}:submission:${s.uploadId}:accepted`);
    });
  });

  describe('a bad label file', () => {
    it('returns "rejected" with per-line problems, keeps the batch waiting and sends a heartbeat', async () => {
      // Arrange: the second line labels an alias with a class the protocol lacks
      const deps = makeFakeDeps();
      const aliases = ['k3v9x2m7qa8d', 'p4w8h2n6tr5e', 'z7c3b9f2gu4s'];
      const lines = [
        JSON.stringify({ alias: aliases[0], label: 'normal', annotator: 'r' }),
        JSON.stringify({ alias: aliases[1], label: 'pneumonia', annotator: 'r' }),
        JSON.stringify({ alias: aliases[2], label: 'normal', annotator: 'r' }),
      ];
      const s = await seedUploadScenario(deps, { file: new TextEncoder().encode(lines.join('\n')) });

      // Act
      const r = await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });

      // Assert
      expect(r).toMatchObject({ status: 'rejected', uploadId: s.uploadId });
      expect(r.status === 'rejected' && r.problems).toEqual([
        { line: 2, reason: 'label "pneumonia" is not in the protocol\'s classes [normal, abnormal]' },
      ]);
      expect((await deps.repo.getBatch(s.batchId))!.status).toBe('awaiting-submission');
      expect(deps.repo.submissions.get(`${s.batchId}/${s.uploadId}`)).toMatchObject({ status: 'rejected' });
      expect(deps.callbacks.calls).toEqual([{ kind: 'heartbeat', token: s.token }]);
      expect(await reportOf(deps, s)).toMatchObject({ status: 'rejected', problems: [{ line: 2 }] });
      expect(await ledgerTypes(deps)).toEqual([`submission.rejected ${s.batchId}:submission:${s.uploadId}:rejected`]);
    });

    it('returns "rejected" when the object differs from the size and SHA-256 declared for the slot', async () => {
      // Arrange
      const deps = makeFakeDeps();
      const s = await seedUploadScenario(deps, { declared: { sizeBytes: 10, sha256Hex: 'f'.repeat(64) } });

      // Act
      const r = await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });

      // Assert
      expect(r.status).toBe('rejected');
      const reasons = r.status === 'rejected' ? r.problems.map((p) => p.reason) : [];
      expect(reasons).toEqual([
        `size ${s.file.length} bytes differs from the declared 10`,
        `SHA-256 ${s.sha256Hex} differs from the declared ${'f'.repeat(64)}`,
      ]);
      expect(deps.callbacks.successes).toEqual([]);
    });
  });

  describe('a huge label file', () => {
    /** DynamoDB's item size limit; JSON text is an upper bound of an item's size. */
    const ITEM_LIMIT = 400 * 1024;
    const sizeOf = (x: unknown) => Buffer.byteLength(JSON.stringify(x));

    // Issue 7 finding 4: a 49 MB giant-alias line was quoted verbatim into the submission and ledger items; every ingest attempt failed, no submission.rejected.
    it.each([
      ['a 49 MB single line with a giant alias', () => JSON.stringify({ alias: 'k'.repeat(49 * 1024 * 1024), label: 'normal', annotator: 'r' })],
      ['200 lines with 200 KB labels', () => Array.from({ length: 200 }, () => JSON.stringify({ alias: 'k3v9x2m7qa8d', label: 'x'.repeat(200_000), annotator: 'r' })).join('\n')],
    ])('rejects %s and records the refusal in items that fit DynamoDB', async (_what, text) => {
      // Arrange: correctly declared (size and SHA-256 match the slot)
      const deps = makeFakeDeps();
      const s = await seedUploadScenario(deps, { file: new TextEncoder().encode(text()) });

      // Act
      const r = await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });

      // Assert: rejected; the status, the report and the ledger event are all written, each small
      expect(r.status).toBe('rejected');
      const submission = deps.repo.submissions.get(`${s.batchId}/${s.uploadId}`);
      expect(submission?.status).toBe('rejected');
      expect(sizeOf(submission)).toBeLessThan(ITEM_LIMIT);
      const [event] = (await deps.repo.listLedger('prog-1')).filter((e) => e.type === 'submission.rejected');
      expect(event).toBeDefined();
      expect(sizeOf(event)).toBeLessThan(ITEM_LIMIT);
      const report = await reportOf(deps, s);
      expect(report?.status).toBe('rejected');
      expect(sizeOf(report)).toBeLessThan(ITEM_LIMIT);
    });
  });

  describe('a second valid upload', () => {
    it('returns "superseded" and sends no callback when another upload already claimed the batch', async () => {
      // Arrange
      const deps = makeFakeDeps();
      const s = await seedUploadScenario(deps);
      await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });
      const later = labelFile(s.aliases, 'abnormal');
      const key2 = s.key.replace(s.uploadId, 'up87654321');
      await deps.repo.putUploadSlot({
        ...(await deps.repo.getUploadSlot(s.batchId, s.uploadId))!,
        uploadId: 'up87654321',
        key: key2,
        sizeBytes: later.length,
        sha256Hex: createHash('sha256').update(later).digest('hex'),
      });
      await deps.objects.putBytes(deps.buckets.uploads, key2, later, 'application/x-ndjson');

      // Act
      const r = await ingestUpload(deps, { bucket: deps.buckets.uploads, key: key2 });

      // Assert
      expect(r).toMatchObject({ status: 'superseded', uploadId: 'up87654321' });
      expect(deps.callbacks.successes).toHaveLength(1);
      expect((await deps.repo.getBatch(s.batchId))!.acceptedUploadId).toBe(s.uploadId);
    });
  });

  describe('keys that are not upload slots', () => {
    it('returns "ignored" for a key outside uploads/', async () => {
      const deps = makeFakeDeps();
      const r = await ingestUpload(deps, { bucket: deps.buckets.uploads, key: 'reports/vendor-a/batch-1/x.json' });
      expect(r).toEqual({ status: 'ignored', reason: 'not an upload slot key: uploads/reports/vendor-a/batch-1/x.json' });
    });

    it('returns "ignored" for an upload key in another bucket', async () => {
      const deps = makeFakeDeps();
      const s = await seedUploadScenario(deps);
      const r = await ingestUpload(deps, { bucket: deps.buckets.images, key: s.key });
      expect(r.status).toBe('ignored');
      expect(deps.repo.submissions.size).toBe(0);
    });

    it('returns "ignored" for a well-formed key with no upload slot', async () => {
      const deps = makeFakeDeps();
      const r = await ingestUpload(deps, { bucket: deps.buckets.uploads, key: 'uploads/vendor-a/batch-0001/abcdefgh12.jsonl' });
      expect(r).toEqual({ status: 'ignored', reason: 'no upload slot for uploads/vendor-a/batch-0001/abcdefgh12.jsonl' });
    });

    it('returns "ignored" when the slot belongs to another vendor than the key says', async () => {
      // Arrange: vendor-b writes under its own prefix using vendor-a's batch and upload id
      const deps = makeFakeDeps();
      const s = await seedUploadScenario(deps);
      const forged = s.key.replace('uploads/vendor-a/', 'uploads/vendor-b/');
      await deps.objects.putBytes(deps.buckets.uploads, forged, s.file, 'application/x-ndjson');

      // Act
      const r = await ingestUpload(deps, { bucket: deps.buckets.uploads, key: forged });

      // Assert
      expect(r.status).toBe('ignored');
      expect(deps.callbacks.calls).toEqual([]);
    });
  });
});

describe('Function: ingestUpload, delivered twice or after a crash', () => {
  // Found in review: the second of two concurrent deliveries lost the claim race and marked the accepted upload superseded, overwriting the vendor's report.
  it('calls neither of two concurrent deliveries of one valid upload superseded', async () => {
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

  // Found in review: a bad file whose first delivery died after 'rejected' but before the report took the duplicate branch on redelivery: no reasons, no submission.rejected.
  it('writes the report and submission.rejected on redelivery of a bad file whose first delivery crashed before the report', async () => {
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
