import { describe, expect, it, vi } from 'vitest';
import { IntegrityError } from '../../../functions/use-cases/errors.js';
import { ingestUpload } from '../../../functions/use-cases/ingest-upload.js';
import { validateSubmission } from '../../../functions/use-cases/validate-submission.js';
import { labelFile, makeFakeDeps, seedUploadScenario } from '../fakes.js';

describe('The accepted submission, as every step after ingest reads it', () => {
  describe('Function: ingestUpload', () => {
    it('records the version of the object it read on the submission', async () => {
      // Arrange: the in-memory store is versioned like the uploads bucket
      const deps = makeFakeDeps();
      const s = await seedUploadScenario(deps);
      const { versionId } = (await deps.objects.getObject(deps.buckets.uploads, s.key))!;

      // Act
      await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });

      // Assert
      expect(deps.repo.submissions.get(`${s.batchId}/${s.uploadId}`)).toMatchObject({ status: 'valid', versionId });
    });

    it('reads the version the S3 event names, not whatever is latest', async () => {
      // Arrange: the event is about the first version; a second one landed before it was handled
      const deps = makeFakeDeps();
      const s = await seedUploadScenario(deps);
      const { versionId } = (await deps.objects.getObject(deps.buckets.uploads, s.key))!;
      await deps.objects.putBytes(deps.buckets.uploads, s.key, labelFile(s.aliases, 'abnormal'), 'application/x-ndjson');
      const read = vi.spyOn(deps.objects, 'getObject');

      // Act
      const r = await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key, versionId });

      // Assert
      expect(r).toEqual({ status: 'accepted', uploadId: s.uploadId });
      expect(read).toHaveBeenCalledWith(deps.buckets.uploads, s.key, versionId);
      expect(deps.repo.submissions.get(`${s.batchId}/${s.uploadId}`)).toMatchObject({ versionId, sha256Hex: s.sha256Hex });
    });
  });

  describe('Function: validateSubmission', () => {
    // Issue 7 finding 6: later steps read the latest object, so a re-upload after acceptance failed ValidateSubmission with an integrity error.
    it('validates the version ingest recorded, whatever was written to the key later', async () => {
      // Arrange
      const deps = makeFakeDeps();
      const s = await seedUploadScenario(deps);
      await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });
      await deps.objects.putBytes(deps.buckets.uploads, s.key, labelFile(s.aliases, 'abnormal'), 'application/x-ndjson');

      // Act
      const r = await validateSubmission(deps, { batchId: s.batchId });

      // Assert
      expect(r).toEqual({ uploadId: s.uploadId, sha256Hex: s.sha256Hex, labels: s.aliases.length });
    });

    it('refuses an object changed since ingest where the store kept no version (the SHA-256 is re-checked)', async () => {
      // Arrange: as on the embedded stack, no version id was recorded
      const deps = makeFakeDeps();
      const s = await seedUploadScenario(deps);
      await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });
      delete deps.repo.submissions.get(`${s.batchId}/${s.uploadId}`)!.versionId;
      await deps.objects.putBytes(deps.buckets.uploads, s.key, labelFile(s.aliases, 'abnormal'), 'application/x-ndjson');

      // Act
      const e = await validateSubmission(deps, { batchId: s.batchId }).catch((x: unknown) => x);

      // Assert
      expect(e).toBeInstanceOf(IntegrityError);
      expect((e as Error).message).toMatch(/changed since ingest/);
    });
  });
});
