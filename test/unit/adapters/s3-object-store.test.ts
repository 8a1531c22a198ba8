import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../../functions/adapters/s3-object-store.js';

const body = (bytes: Uint8Array) => sdkStreamMixin(Readable.from([Buffer.from(bytes)]));

describe('Class: S3ObjectStore', () => {
  const s3 = mockClient(S3Client);
  let store: S3ObjectStore;

  beforeEach(() => {
    s3.reset();
    store = new S3ObjectStore(new S3Client({ region: 'us-east-1' }));
  });

  describe('Method: getBytes', () => {
    it('returns the object bytes read from the response stream', async () => {
      // Arrange
      const bytes = new Uint8Array([0x7b, 0x7d, 0x0a, 0x00, 0xff]);
      s3.on(GetObjectCommand, { Bucket: 'uploads', Key: 'uploads/vendor-a/batch-1/up12345678.jsonl' }).resolves({
        Body: body(bytes),
      });

      // Act
      const r = await store.getBytes('uploads', 'uploads/vendor-a/batch-1/up12345678.jsonl');

      // Assert
      expect(r).toEqual(bytes);
    });

    it('returns undefined when the key does not exist (NoSuchKey)', async () => {
      // Arrange
      s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));

      // Act / Assert
      expect(await store.getBytes('uploads', 'missing.jsonl')).toBeUndefined();
    });

    it('throws other errors (access denied is not "missing")', async () => {
      // Arrange
      s3.on(GetObjectCommand).rejects(
        new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'Access Denied', $metadata: { httpStatusCode: 403 } }),
      );

      // Act / Assert
      await expect(store.getBytes('gold', 'batch-keys/batch-1.json')).rejects.toThrow('Access Denied');
    });
  });

  describe('Method: getJson', () => {
    it('returns the parsed document', async () => {
      s3.on(GetObjectCommand).resolves({ Body: body(new TextEncoder().encode('{"batchId":"batch-1","n":3}')) });
      expect(await store.getJson('gold', 'batch-keys/batch-1.json')).toEqual({ batchId: 'batch-1', n: 3 });
    });

    it('returns undefined when the key does not exist', async () => {
      s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no', $metadata: {} }));
      expect(await store.getJson('gold', 'batch-keys/none.json')).toBeUndefined();
    });
  });

  describe('Method: putJson', () => {
    it('writes the document as UTF-8 JSON with the JSON content type', async () => {
      // Arrange
      s3.on(PutObjectCommand).resolves({});

      // Act
      await store.putJson('exports', 'reports/r.json', { ok: true, note: 'é' });

      // Assert
      const input = s3.commandCalls(PutObjectCommand)[0].args[0].input;
      expect(input).toMatchObject({ Bucket: 'exports', Key: 'reports/r.json', ContentType: 'application/json' });
      expect(new TextDecoder().decode(input.Body as Uint8Array)).toBe('{"ok":true,"note":"é"}');
    });
  });
});
