/** The embedded S3 never shows half an object: a GET beside a PUT reads the old bytes or the new, whole. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomicObjectWrites } from '../../../infra/local/s3rver-atomic.js';

describe('atomicObjectWrites', () => {
  let dir: string;
  let server: S3rver;
  let url: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'goldline-atomic-'));
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: 'b' }] });
    atomicObjectWrites(server);
    const { port } = await server.run();
    url = `http://127.0.0.1:${port}/b/report.json`;
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Issue 9: polling an upload report over the API while ingest wrote it read a truncated JSON (500); s3rver wrote in place.
  it('serves the previous object while a new one is still being written, and the whole new one after', async () => {
    const store = (server as unknown as { store: { putObject(o: unknown): Promise<unknown> } }).store;
    await store.putObject({ bucket: 'b', key: 'report.json', content: Buffer.from('{"status":"old"}'), metadata: {} });
    const body = new PassThrough();
    const writing = store.putObject({ bucket: 'b', key: 'report.json', content: body, metadata: {} });
    body.write('{"status":"ne');
    await new Promise((r) => setTimeout(r, 50));
    expect(await (await fetch(url)).text()).toBe('{"status":"old"}');
    body.end('w"}');
    await writing;
    expect(await (await fetch(url)).text()).toBe('{"status":"new"}');
  });
});
