/** The ObjectStore port over S3 (and the embedded s3rver, which speaks the same API). */
import {
  CopyObjectCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createHash } from 'node:crypto';
import type { ObjectStore } from '../use-cases/ports.js';

const isMissing = (e: unknown): boolean =>
  e instanceof NoSuchKey || ['NoSuchKey', 'NotFound'].includes((e as { name?: string })?.name ?? '');

/** The headers every write-once upload PUT carries; all of them are signed, none hoisted into the query. */
const ONCE_SIGNED_HEADERS = ['content-length', 'content-md5', 'content-type', 'if-none-match', 'x-amz-checksum-sha256'] as const;
/** The headers every write-once upload PUT carries; all of them are signed, none hoisted into the query. */
const UPLOAD_SIGNED_HEADERS = ['content-length', 'content-type', 'if-none-match', 'x-amz-checksum-sha256'] as const;

export class S3ObjectStore implements ObjectStore {
  /**
   * @param s3 the client for every request this store sends
   * @param presigner the client that signs URLs handed to vendors (default: `s3`);
   *   the embedded stack points it at its S3 guard, which enforces what s3rver does not
   */
  constructor(
    private readonly s3: S3Client,
    private readonly presigner: S3Client = s3,
  ) {}

  async putBytes(bucket: string, key: string, body: Uint8Array, contentType: string) {
    await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  }

  /**
   * A conditional PUT, sent through a URL this store presigns: S3 refuses it
   * when the key exists (412) and stores it only with the signed MD5 and SHA-256;
   * the embedded stack's presigner points at the S3 guard, which enforces both
   * where s3rver does not, so the one path is write-once in AWS and locally.
   * (Object Lock buckets also require the MD5 or a checksum on every PUT.)
   */
  async putOnce(bucket: string, key: string, body: Uint8Array, contentType: string) {
    const headers: Record<(typeof ONCE_SIGNED_HEADERS)[number], string> = {
      'content-length': String(body.byteLength),
      'content-md5': createHash('md5').update(body).digest('base64'),
      'content-type': contentType,
      'if-none-match': '*',
      'x-amz-checksum-sha256': createHash('sha256').update(body).digest('base64'),
    };
    const url = await getSignedUrl(
      this.presigner,
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        ContentLength: body.byteLength,
        ContentMD5: headers['content-md5'],
        ContentType: contentType,
        IfNoneMatch: '*',
        ChecksumSHA256: headers['x-amz-checksum-sha256'],
      }),
      { expiresIn: 300, signableHeaders: new Set(ONCE_SIGNED_HEADERS), unhoistableHeaders: new Set(['x-amz-checksum-sha256']) },
    );
    const res = await fetch(url, { method: 'PUT', headers, body });
    if (res.status === 412) return 'exists' as const;
    if (!res.ok) throw new Error(`S3 refused the write-once PUT of ${bucket}/${key}: ${res.status} ${(await res.text()).replace(/\s+/g, ' ').slice(0, 300)}`);
    return 'created' as const;
  }

  async getBytes(bucket: string, key: string, versionId?: string) {
    return (await this.getObject(bucket, key, versionId))?.bytes;
  }

  async getObject(bucket: string, key: string, versionId?: string) {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
      const bytes = r.Body ? await r.Body.transformToByteArray() : new Uint8Array();
      // S3 answers "null" for an object written before versioning was enabled: no id to pin.
      return { bytes, versionId: r.VersionId && r.VersionId !== 'null' ? r.VersionId : undefined };
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

  presignGet(bucket: string, key: string, expiresSeconds: number, versionId?: string, opts: { neutralHeaders?: boolean } = {}) {
    return getSignedUrl(
      this.presigner,
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(versionId ? { VersionId: versionId } : {}),
        // response-* overrides: the answer carries these, not what the object was stored with.
        ...(opts.neutralHeaders ? { ResponseContentType: 'application/octet-stream', ResponseContentDisposition: 'attachment' } : {}),
      }),
      { expiresIn: expiresSeconds },
    );
  }

  async presignPut(
    bucket: string,
    key: string,
    opts: { sizeBytes: number; sha256Base64: string; contentType: string; expiresSeconds: number },
  ) {
    // Signed as headers, not hoisted into the query string: S3 then verifies the
    // body against x-amz-checksum-sha256 (400 BadDigest), checks the length, and
    // refuses a second PUT to the key (412 PreconditionFailed). A hoisted checksum
    // is only part of the signature, and a slot URL would take a second, different file.
    const headers: Record<(typeof UPLOAD_SIGNED_HEADERS)[number], string> = {
      'content-length': String(opts.sizeBytes),
      'content-type': opts.contentType,
      'if-none-match': '*',
      'x-amz-checksum-sha256': opts.sha256Base64,
    };
    const url = await getSignedUrl(
      this.presigner,
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        ContentLength: opts.sizeBytes,
        ContentType: opts.contentType,
        IfNoneMatch: '*',
        ChecksumSHA256: opts.sha256Base64,
      }),
      {
        expiresIn: opts.expiresSeconds,
        signableHeaders: new Set(UPLOAD_SIGNED_HEADERS),
        unhoistableHeaders: new Set(['x-amz-checksum-sha256']),
      },
    );
    return { url, headers };
  }
}
