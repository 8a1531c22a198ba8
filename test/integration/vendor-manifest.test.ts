/**
 * What a vendor can see: the manifest as downloaded through its presigned URL
 * must hold no real case id and nothing that tells gold items from the rest.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NotFoundError } from '../../functions/use-cases/errors.js';
import type { BatchRecord } from '../../functions/use-cases/ports.js';
import { getImageUrls, getUploadReport, getVendorBatch } from '../../functions/use-cases/vendor-portal.js';
import { loadBatchKey } from '../../functions/use-cases/batch-key.js';
import { downloadManifest } from '../../infra/local/demo/simulated-workforce.js';
import type { LocalStack } from '../../infra/local/stack.js';
import { stackWithOpenRound } from './helpers.js';

describe('Vendor manifest: blinded and gold-free', () => {
  let stack: LocalStack;
  let batches: BatchRecord[];

  beforeAll(async () => {
    ({ stack, batches } = await stackWithOpenRound({ cases: 300 }));
  });
  afterAll(async () => stack?.stop());

  it('holds no real case id, image key or gold marker, and gold items look like the rest', async () => {
    const vendorBatches = batches.filter((b) => b.workforceKind === 'vendor');
    expect(vendorBatches.length).toBeGreaterThan(0);
    const cases = await stack.deps.repo.listCases('demo-cxr');
    for (const b of vendorBatches) {
      const manifest = await downloadManifest(stack.deps, b.workforceId, b.batchId);
      const text = JSON.stringify(manifest);
      const key = await loadBatchKey(stack.deps, b.batchId);
      expect(key.items.some((i) => i.gold)).toBe(true);
      expect(text).not.toMatch(/case-\d+/);
      expect(text).not.toMatch(/gold/i);
      expect(text).not.toMatch(/images\/case/);
      for (const c of cases) expect(text).not.toContain(c.caseId);
      // Every item has exactly the same shape: alias + image key.
      // Issue 14: the image key is the case's opaque key (was a per-batch copy's key; same bytes either way, docs/blinding.md).
      for (const item of manifest.items) {
        expect(Object.keys(item).sort()).toEqual(['alias', 'image']);
        expect(item.image).toMatch(/^opaque\/[a-z0-9]{24}\.pgm$/);
      }
      expect(new Set(manifest.items.map((i) => i.image)).size).toBe(manifest.items.length);
      expect(manifest.items).toHaveLength(b.itemCount);
      // Gold items are not grouped at the start or the end: aliases are random
      // and the order is shuffled, so positions of gold items vary.
      const goldPositions = key.items.flatMap((i, k) => (i.gold ? [k] : []));
      expect(goldPositions).not.toEqual(goldPositions.map((_, k) => k));
    }
  });

  it('serves the images through presigned GETs on their opaque keys, the bytes of the case image, with no case metadata', async () => {
    const b = batches.find((x) => x.workforceKind === 'vendor')!;
    const manifest = await downloadManifest(stack.deps, b.workforceId, b.batchId);
    const key = await loadBatchKey(stack.deps, b.batchId);
    const urls = await getImageUrls(stack.deps, { workforceId: b.workforceId, batchId: b.batchId, aliases: [manifest.items[0].alias] });
    expect(new URL(urls[manifest.items[0].alias]).pathname).toBe(`/${stack.deps.buckets.images}/${manifest.items[0].image}`);
    const r = await fetch(urls[manifest.items[0].alias]);
    expect(r.status).toBe(200);
    const headers = [...r.headers.entries()].map(([k, v]) => `${k}:${v}`).join('\n');
    expect(headers).not.toMatch(/case-\d+/);
    // The object is the case image itself now (no copy with replaced metadata): S3 answers neutral headers instead.
    expect([r.headers.get('content-type'), r.headers.get('content-disposition')]).toEqual(['application/octet-stream', 'attachment']);
    const bytes = new Uint8Array(await r.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(256);
    expect(bytes).toEqual(await stack.deps.objects.getBytes(stack.deps.buckets.images, key.items[0].imageKey));
    // The URL expires: a vendor keeps no standing access to the image.
    expect(new URL(urls[manifest.items[0].alias]).searchParams.get('X-Amz-Expires')).toBe('3600');
  });

  // Issue 7 finding 5: vendor-b asking for `batches/<own>/images/../../<vendor-a batch>/manifest.json` received vendor-a's manifest.
  it("answers path tricks toward another vendor's batch like a missing batch or image, and never presigns a foreign key", async () => {
    const mine = batches.find((x) => x.workforceId === 'vendor-b')!;
    const theirs = batches.find((x) => x.workforceId === 'vendor-a')!;
    const presign = vi.spyOn(stack.deps.objects, 'presignGet');
    const presigned = () => presign.mock.calls.map(([, key]) => key);
    const images = (batchId: string, aliases: string[]) =>
      getImageUrls(stack.deps, { workforceId: 'vendor-b', batchId, aliases }).then(() => undefined, (e: Error) => e);
    const reports = (batchId: string, uploadId: string) =>
      getUploadReport(stack.deps, { workforceId: 'vendor-b', batchId, uploadId }).then(() => undefined, (e: Error) => e);

    const missingImage = await images(mine.batchId, ['zzzzzzzzzzzz']);
    const missingBatch = await images('no-such-batch', ['zzzzzzzzzzzz']);
    const missingUpload = await reports(mine.batchId, 'nosuchupload1');
    const answers = [
      [await images(mine.batchId, [`batches/${mine.batchId}/images/../../${theirs.batchId}/manifest.json`]), missingImage],
      [await images(mine.batchId, [`../../${theirs.batchId}/manifest.json`]), missingImage],
      [await images(`${mine.batchId}/../${theirs.batchId}`, ['zzzzzzzzzzzz']), missingBatch],
      [await images(theirs.batchId, ['zzzzzzzzzzzz']), missingBatch],
      [await reports(mine.batchId, `../../vendor-a/${theirs.batchId}/x`), missingUpload],
      [await reports(`../../vendor-a/${theirs.batchId}`, 'nosuchupload1'), missingBatch],
    ];
    for (const [trick, missing] of answers) {
      expect(trick).toBeInstanceOf(NotFoundError);
      expect(missing).toBeInstanceOf(NotFoundError);
      expect(trick!.message.replace(/^(\w+) .* not found$/, '$1 X not found')).toBe(missing!.message.replace(/^(\w+) .* not found$/, '$1 X not found'));
    }
    expect(presigned()).toEqual([]);
    // Its own images still work, and only its own keys are presigned.
    const manifest = await downloadManifest(stack.deps, 'vendor-b', mine.batchId);
    presign.mockClear();
    expect(await images(mine.batchId, manifest.items.map((i) => i.alias))).toBeUndefined();
    expect(presigned()).toEqual(manifest.items.map((i) => i.image));
    presign.mockRestore();
  });

  it("answers a vendor asking for another vendor's batch exactly as for a batch that does not exist", async () => {
    const b = batches.find((x) => x.workforceId === 'vendor-a')!;
    const other = await getVendorBatch(stack.deps, { workforceId: 'vendor-b', batchId: b.batchId }).catch((e) => e);
    const missing = await getVendorBatch(stack.deps, { workforceId: 'vendor-b', batchId: 'no-such-batch' }).catch((e) => e);
    expect(other).toBeInstanceOf(NotFoundError);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(other.message.replace(b.batchId, 'X')).toBe(missing.message.replace('no-such-batch', 'X'));
  });
});
