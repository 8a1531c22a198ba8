/**
 * s3rver writes an object in place (it truncates the file, then streams into
 * it, and answers before the stream has finished), so a GET running beside a
 * PUT of the same key can read an empty or half-written object. S3 never shows
 * a partial object. This makes the embedded S3's object writes atomic: the bytes
 * go to a temporary file beside the object, which is renamed over it once
 * complete (a rename within a directory is atomic).
 *
 * Found by the API test polling an upload report while ingest wrote it
 * (JSON.parse of a truncated report → 500).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, string>;
}

interface FilesystemStore {
  getResourcePath(bucket: string, key: string, kind: 'object'): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
}

/** Replaces the store's putObject of one s3rver instance with a write-then-rename. */
export function atomicObjectWrites(s3rver: unknown): void {
  const store = (s3rver as { store?: FilesystemStore }).store;
  if (!store || typeof store.putObject !== 'function') throw new Error('s3rver has no filesystem store to patch');
  store.putObject = async (object) => {
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    const tmp = `${objectPath}.${randomUUID()}.partial`;
    const md5 = createHash('md5');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        md5.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      if (Buffer.isBuffer(object.content)) {
        count.end(object.content);
        await pipeline(count, createWriteStream(tmp));
      } else {
        await pipeline(object.content, count, createWriteStream(tmp));
      }
      await rename(tmp, objectPath);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    const digest = md5.digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  };
}
