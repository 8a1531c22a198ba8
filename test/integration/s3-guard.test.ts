/**
 * The S3 guard in front of a real s3rver: it serves presigned URLs and refuses
 * what S3 would refuse (signature, expiry, unsigned x-amz headers, Content-Length,
 * If-None-Match, checksum). Real HTTP on loopback.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../functions/adapters/s3-object-store.js';
import { type S3Guard, startS3Guard } from '../../infra/local/s3-guard.js';

const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const BUCKET = 'guarded';
const enc = (s: string) => new TextEncoder().encode(s);
const sha256Base64 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');

describe('S3 guard: presigned requests checked as S3 checks them', () => {
  let dir: string;
  let s3rver: S3rver;
  let guard: S3Guard;
  let direct: S3Client;
  let upstream: string;
  const clients: S3Client[] = [];
  const presignerFor = (credentials = CREDENTIALS) => {
    const c = new S3Client({ endpoint: guard.endpoint, region: 'us-east-1', credentials, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'goldline-guard-'));
    s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: BUCKET }] });
    const { port } = (await s3rver.run()) as AddressInfo;
    upstream = `http://127.0.0.1:${port}`;
    guard = await startS3Guard({ upstream, credentials: CREDENTIALS });
    direct = new S3Client({ endpoint: upstream, region: 'us-east-1', credentials: CREDENTIALS, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    await direct.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'images/a.bin', Body: enc('image bytes') }));
  });
  afterAll(async () => {
    for (const c of [direct, ...clients]) c?.destroy();
    await guard?.close();
    await s3rver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a presigned GET from s3rver', async () => {
    const url = await getSignedUrl(presignerFor(), new GetObjectCommand({ Bucket: BUCKET, Key: 'images/a.bin' }), { expiresIn: 60 });
    const r = await fetch(url);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('image bytes');
  });

  it('stores a write-once PUT carrying its signed headers, then refuses a second one with 412', async () => {
    const body = enc('{"alias":"k3v9x2m7qa8d"}\n');
    const store = new S3ObjectStore(direct, presignerFor());
    const slot = await store.presignPut(BUCKET, 'uploads/v/b/once.jsonl', {
      sizeBytes: body.length,
      sha256Base64: sha256Base64(body),
      contentType: 'application/x-ndjson',
      expiresSeconds: 60,
    });
    expect((await fetch(slot.url, { method: 'PUT', headers: slot.headers, body })).status).toBe(200);
    expect(await store.getBytes(BUCKET, 'uploads/v/b/once.jsonl')).toEqual(body);
    const again = await fetch(slot.url, { method: 'PUT', headers: slot.headers, body });
    expect(again.status).toBe(412);
    expect(await again.text()).toMatch(/<Code>PreconditionFailed<\/Code>[\s\S]*<Condition>If-None-Match<\/Condition>/);
  });

  it('refuses a request without a query signature (403 AccessDenied)', async () => {
    const r = await fetch(`${guard.endpoint}/${BUCKET}/images/a.bin`);
    expect(r.status).toBe(403);
    expect(await r.text()).toMatch(/<Code>AccessDenied<\/Code>/);
  });

  it('refuses a URL signed with another secret (403 SignatureDoesNotMatch)', async () => {
    const forger = presignerFor({ accessKeyId: 'S3RVER', secretAccessKey: 'guessed' });
    const url = await getSignedUrl(forger, new GetObjectCommand({ Bucket: BUCKET, Key: 'images/a.bin' }), { expiresIn: 60 });
    const r = await fetch(url);
    expect(r.status).toBe(403);
    expect(await r.text()).toMatch(/<Code>SignatureDoesNotMatch<\/Code>/);
  });

  it('refuses a tampered URL: another key, or a longer expiry (403 SignatureDoesNotMatch)', async () => {
    await direct.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'images/b.bin', Body: enc('other') }));
    const url = await getSignedUrl(presignerFor(), new GetObjectCommand({ Bucket: BUCKET, Key: 'images/a.bin' }), { expiresIn: 60 });
    for (const tampered of [url.replace('/images/a.bin', '/images/b.bin'), url.replace('X-Amz-Expires=60', 'X-Amz-Expires=604800')]) {
      const r = await fetch(tampered);
      expect(r.status).toBe(403);
      expect(await r.text()).toMatch(/<Code>SignatureDoesNotMatch<\/Code>/);
    }
  });

  it('refuses an expired URL (403 AccessDenied)', async () => {
    const later = await startS3Guard({
      upstream,
      credentials: CREDENTIALS,
      now: () => new Date(Date.now() + 61_000),
    });
    try {
      const c = new S3Client({ endpoint: later.endpoint, region: 'us-east-1', credentials: CREDENTIALS, forcePathStyle: true });
      clients.push(c);
      const url = await getSignedUrl(c, new GetObjectCommand({ Bucket: BUCKET, Key: 'images/a.bin' }), { expiresIn: 60 });
      const r = await fetch(url);
      expect(r.status).toBe(403);
      expect(await r.text()).toMatch(/Request has expired/);
    } finally {
      await later.close();
    }
  });

  it('refuses a PUT without Content-Length (411 MissingContentLength) and stores nothing', async () => {
    const url = await getSignedUrl(presignerFor(), new PutObjectCommand({ Bucket: BUCKET, Key: 'uploads/v/b/chunked.jsonl' }), {
      expiresIn: 60,
    });
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(url);
      const req = request({ host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method: 'PUT' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('chunk one ');
      req.end('chunk two');
    });
    expect(status).toBe(411);
    const direct404 = await fetch(await getSignedUrl(presignerFor(), new GetObjectCommand({ Bucket: BUCKET, Key: 'uploads/v/b/chunked.jsonl' })));
    expect(direct404.status).toBe(404);
  });
});

describe('S3 guard: an upstream that closes kept-alive sockets', () => {
  // Issue 9: `npm start` failed with "the S3 guard failed: socket hang up" when s3rver closed an idle kept-alive socket the guard then reused.
  it('sends a GET again on a new socket when the reused one was closed under it', async () => {
    const requestsOn = new WeakMap<object, number>();
    const upstream = createServer((req, res) => {
      const n = (requestsOn.get(req.socket) ?? 0) + 1;
      requestsOn.set(req.socket, n);
      // What an idle-timeout close looks like to the next request on the socket: no answer at all.
      if (n > 1) return void req.socket.destroy();
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('image bytes');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const guard = await startS3Guard({ upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, credentials: CREDENTIALS });
    const client = new S3Client({ endpoint: guard.endpoint, region: 'us-east-1', credentials: CREDENTIALS, forcePathStyle: true });
    try {
      for (let i = 0; i < 3; i++) {
        const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: 'images/a.bin' }), { expiresIn: 60 });
        const r = await fetch(url);
        expect(await r.text()).toBe('image bytes');
        expect(r.status).toBe(200);
      }
    } finally {
      client.destroy();
      await guard.close();
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
});
