/** The ObjectStore port over S3 (and the embedded s3rver, which speaks the same API). */
import {
  CopyObjectCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ObjectStore } from '../use-cases/ports.js';

const isMissing = (e: unknown): boolean =>
  e instanceof NoSuchKey || ['NoSuchKey', 'NotFound'].includes((e as { name?: string })?.name ?? '');

export class S3ObjectStore implements ObjectStore {
  constructor(private readonly s3: S3Client) {}

  async putBytes(bucket: string, key: string, body: Uint8Array, contentType: string) {
    await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async getBytes(bucket: string, key: string) {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return r.Body ? await r.Body.transformToByteArray() : new Uint8Array();
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  async getHead(bucket: string, key: string, length: number) {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${length - 1}` }));
      return r.Body ? await r.Body.transformToByteArray() : new Uint8Array();
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  async putJson(bucket: string, key: string, value: unknown) {
    await this.putBytes(bucket, key, new TextEncoder().encode(JSON.stringify(value)), 'application/json');
  }

  async getJson<T>(bucket: string, key: string) {
    const bytes = await this.getBytes(bucket, key);
    return bytes === undefined ? undefined : (JSON.parse(new TextDecoder().decode(bytes)) as T);
  }

  async copy(fromBucket: string, fromKey: string, toBucket: string, toKey: string) {
    // REPLACE drops the source's metadata (which may name the case) from the copy.
    await this.s3.send(
      new CopyObjectCommand({
        Bucket: toBucket,
        Key: toKey,
        CopySource: `${fromBucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}`,
        MetadataDirective: 'REPLACE',
        ContentType: 'application/octet-stream',
      }),
    );
  }

  presignGet(bucket: string, key: string, expiresSeconds: number) {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresSeconds });
  }

  presignPut(
    bucket: string,
    key: string,
    opts: { sizeBytes: number; sha256Base64: string; contentType: string; expiresSeconds: number },
  ) {
    // Content-Length and x-amz-checksum-sha256 are signed into the URL, so S3
    // refuses an upload of another size or content. (The embedded s3rver does
    // not check signatures; ingest verifies size and hash again.)
    return getSignedUrl(
      this.s3,
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        ContentLength: opts.sizeBytes,
        ChecksumSHA256: opts.sha256Base64,
        ContentType: opts.contentType,
      }),
      { expiresIn: opts.expiresSeconds, signableHeaders: new Set(['content-length', 'content-type', 'x-amz-checksum-sha256']) },
    );
  }
}
