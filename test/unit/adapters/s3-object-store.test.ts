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

  describe('Method: getObject', () => {
    it('returns the bytes with the version id S3 answered', async () => {
      // Arrange
      s3.on(GetObjectCommand).resolves({ Body: body(new Uint8Array([1, 2])), VersionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY' });

      // Act
      const r = await store.getObject('uploads', 'uploads/vendor-a/batch-1/up12345678.jsonl');

      // Assert
      expect(r).toEqual({ bytes: new Uint8Array([1, 2]), versionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY' });
      expect(s3.commandCalls(GetObjectCommand)[0].args[0].input.VersionId).toBeUndefined();
    });

    it('reads exactly the version asked for', async () => {
      // Arrange
      s3.on(GetObjectCommand, { VersionId: 'v-ingested' }).resolves({ Body: body(new Uint8Array([7])), VersionId: 'v-ingested' });
      s3.on(GetObjectCommand, { VersionId: undefined }).resolves({ Body: body(new Uint8Array([9])), VersionId: 'v-later' });

      // Act
      const pinned = await store.getBytes('uploads', 'uploads/vendor-a/batch-1/up12345678.jsonl', 'v-ingested');

      // Assert
      expect(pinned).toEqual(new Uint8Array([7]));
      expect(s3.commandCalls(GetObjectCommand)[0].args[0].input).toMatchObject({ Key: 'uploads/vendor-a/batch-1/up12345678.jsonl', VersionId: 'v-ingested' });
    });

    it('reports no version id for an unversioned object ("null") or a store without versions', async () => {
      s3.on(GetObjectCommand).resolvesOnce({ Body: body(new Uint8Array([1])), VersionId: 'null' }).resolvesOnce({ Body: body(new Uint8Array([1])) });
      expect((await store.getObject('uploads', 'a'))?.versionId).toBeUndefined();
      expect((await store.getObject('uploads', 'a'))?.versionId).toBeUndefined();
    });
  });

  describe('Method: presignPut', () => {
    const presign = () =>
      new S3ObjectStore(
        new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }),
      ).presignPut('goldline-uploads', 'uploads/vendor-a/batch-1/up12345678.jsonl', {
        sizeBytes: 1234,
        sha256Base64: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=',
        contentType: 'application/x-ndjson',
        expiresSeconds: 900,
      });

    // Issue 7 finding 6: the SHA-256 checksum was hoisted into the query string, so a slot URL took a second, different file.
    it('signs the checksum, the content length and if-none-match as headers and keeps the checksum out of the query string', async () => {
      // Act
      const { url } = await presign();

      // Assert
      const q = new URL(url).searchParams;
      expect(q.get('X-Amz-SignedHeaders')?.split(';')).toEqual(
        expect.arrayContaining(['content-length', 'content-type', 'host', 'if-none-match', 'x-amz-checksum-sha256']),
      );
      expect(q.get('X-Amz-Expires')).toBe('900');
      expect([...q.keys()].map((k) => k.toLowerCase())).not.toContain('x-amz-checksum-sha256');
      expect(url).not.toContain('n4bQgYhMfWWaL');
      expect(url).not.toContain(encodeURIComponent('n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg='));
    });

    it('returns exactly the headers it signed, with the values the PUT must carry', async () => {
      // Act
      const { url, headers } = await presign();

      // Assert
      expect(headers).toEqual({
        'content-length': '1234',
        'content-type': 'application/x-ndjson',
        'if-none-match': '*',
        'x-amz-checksum-sha256': 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=',
      });
      const signed = new URL(url).searchParams.get('X-Amz-SignedHeaders')?.split(';') ?? [];
      expect(signed.filter((h) => h !== 'host').sort()).toEqual(Object.keys(headers).sort());
    });

    it('signs with the presigner client when one is given (the embedded stack points it at its S3 guard)', async () => {
      // Arrange
      const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
      const guarded = new S3ObjectStore(
        new S3Client({ region: 'us-east-1', credentials, endpoint: 'http://127.0.0.1:1', forcePathStyle: true }),
        new S3Client({ region: 'us-east-1', credentials, endpoint: 'http://127.0.0.1:2', forcePathStyle: true }),
      );

      // Act
      const put = await guarded.presignPut('b', 'k', { sizeBytes: 1, sha256Base64: 'x', contentType: 't', expiresSeconds: 60 });
      const get = await guarded.presignGet('b', 'k', 60);

      // Assert
      expect(new URL(put.url).host).toBe('127.0.0.1:2');
      expect(new URL(get).host).toBe('127.0.0.1:2');
    });

    it('signs neutral response headers into a GET only when asked (vendor image URLs)', async () => {
      const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
      const local = new S3ObjectStore(new S3Client({ region: 'us-east-1', credentials, endpoint: 'http://127.0.0.1:1', forcePathStyle: true }));

      const neutral = new URL(await local.presignGet('images', 'opaque/abcdefghjkmnpqrstuvwxyz2.png', 3600, undefined, { neutralHeaders: true })).searchParams;
      const plain = new URL(await local.presignGet('images', 'opaque/abcdefghjkmnpqrstuvwxyz2.png', 3600)).searchParams;

      expect([neutral.get('response-content-type'), neutral.get('response-content-disposition')]).toEqual(['application/octet-stream', 'attachment']);
      expect([plain.get('response-content-type'), plain.get('response-content-disposition')]).toEqual([null, null]);
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
