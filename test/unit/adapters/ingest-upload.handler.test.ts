import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { makeHandler } from '../../../functions/ingest-upload.js';
import { makeFakeDeps, seedUploadScenario } from '../fakes.js';

/** An S3 "Object Created" event as EventBridge delivers it. */
const objectCreated = (bucket: string, key: string) => ({
  version: '0',
  id: 'f5f1e65c-dc3a-93ca-6c1e-b1647eac7963',
  'detail-type': 'Object Created',
  source: 'aws.s3',
  account: '123456789012',
  time: '2025-03-01T09:30:00Z',
  region: 'us-east-1',
  resources: [`arn:aws:s3:::${bucket}`],
  detail: {
    version: '0',
    bucket: { name: bucket },
    object: { key, size: 184, etag: '4e68adba0abe2dc8653dc3354e14c01d', sequencer: '006408CAD69598B05E' },
    'request-id': '57H08PA84AB1JZW0',
    requester: '123456789012',
    'source-ip-address': '34.252.34.74',
    reason: 'PutObject',
  },
});

describe('Handler: ingest-upload', () => {
  it('throws a ZodError for an event that is not an S3 Object Created event', async () => {
    // Arrange
    const deps = makeFakeDeps();
    const handler = makeHandler(() => deps);
    const malformed = { ...objectCreated('uploads', 'uploads/x'), detail: { bucket: {} } };

    // Act / Assert
    await expect(handler(malformed)).rejects.toBeInstanceOf(ZodError);
    await expect(handler({ Records: [] })).rejects.toBeInstanceOf(ZodError);
    expect(deps.repo.submissions.size).toBe(0);
  });

  it('returns "ignored" with the reason for a key outside uploads/', async () => {
    // Arrange
    const deps = makeFakeDeps();
    const handler = makeHandler(() => deps);

    // Act
    const r = await handler(objectCreated(deps.buckets.uploads, 'images/case-0001.dcm'));

    // Assert
    expect(r).toEqual({ status: 'ignored', reason: 'not an upload slot key: uploads/images/case-0001.dcm' });
    expect(deps.callbacks.calls).toEqual([]);
  });

  it('returns the use case outcome for a valid upload event, with the callback sent', async () => {
    // Arrange
    const deps = makeFakeDeps();
    const s = await seedUploadScenario(deps);
    const handler = makeHandler(() => deps);

    // Act
    const r = await handler(objectCreated(deps.buckets.uploads, s.key));

    // Assert
    expect(r).toEqual({ status: 'accepted', uploadId: s.uploadId });
    expect(deps.callbacks.successes.map((c) => c.token)).toEqual([s.token]);
  });

  it('ingests the version the event names (versioned bucket) and records it on the submission', async () => {
    // Arrange: the event is about the first version; another was written to the key since
    const deps = makeFakeDeps();
    const s = await seedUploadScenario(deps);
    const { versionId } = (await deps.objects.getObject(deps.buckets.uploads, s.key))!;
    await deps.objects.putBytes(deps.buckets.uploads, s.key, new TextEncoder().encode('not json\n'), 'application/x-ndjson');
    const event = objectCreated(deps.buckets.uploads, s.key);
    const handler = makeHandler(() => deps);

    // Act
    const r = await handler({ ...event, detail: { ...event.detail, object: { ...event.detail.object, 'version-id': versionId } } });

    // Assert
    expect(r).toEqual({ status: 'accepted', uploadId: s.uploadId });
    expect(deps.repo.submissions.get(`${s.batchId}/${s.uploadId}`)).toMatchObject({ versionId, sha256Hex: s.sha256Hex });
  });
});
