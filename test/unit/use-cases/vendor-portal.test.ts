import { describe, expect, it, vi } from 'vitest';
import { aliasImageObject, manifestObject, reportObject } from '../../../functions/use-cases/batch-key.js';
import { NotFoundError } from '../../../functions/use-cases/errors.js';
import {
  getImageUrls,
  getUploadReport,
  getVendorBatch,
  requestUploadSlot,
  sha256Hex,
} from '../../../functions/use-cases/vendor-portal.js';
import { type FakeDeps, makeFakeDeps, seedUploadScenario, T0, type UploadScenario } from '../fakes.js';

/** vendor-a's batch (with a slot and its manifest) and vendor-b's batch, side by side. */
async function twoVendors(): Promise<{ deps: FakeDeps; a: UploadScenario; otherBatchId: string }> {
  const deps = makeFakeDeps();
  const a = await seedUploadScenario(deps);
  await deps.objects.putJson(deps.buckets.images, manifestObject(a.batchId), {
    batchId: a.batchId,
    items: a.aliases.map((alias) => ({ alias, image: aliasImageObject(a.batchId, alias) })),
  });
  const otherBatchId = 'batch-0002';
  await deps.repo.createBatch({
    batchId: otherBatchId,
    programId: 'prog-1',
    round: 1,
    protocol: 'chest-xray@1',
    workforceId: 'vendor-b',
    workforceKind: 'vendor',
    itemCount: 3,
    goldCount: 1,
    slaHours: 48,
    status: 'awaiting-submission',
    createdAt: T0,
  });
  await deps.objects.putJson(deps.buckets.images, manifestObject(otherBatchId), {
    batchId: otherBatchId,
    items: [{ alias: 'b0b0b0b0b0b0', image: aliasImageObject(otherBatchId, 'b0b0b0b0b0b0') }],
  });
  await deps.repo.putUploadSlot({
    batchId: otherBatchId,
    uploadId: 'bbbbbbbbbbbb',
    key: `uploads/vendor-b/${otherBatchId}/bbbbbbbbbbbb.jsonl`,
    workforceId: 'vendor-b',
    sizeBytes: 10,
    sha256Hex: 'a'.repeat(64),
    expiresAt: T0,
  });
  return { deps, a, otherBatchId };
}

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);

describe('Use case: vendor portal', () => {
  describe('Function: getImageUrls', () => {
    it('presigns the aliased image key of each requested alias of the own batch', async () => {
      // Arrange
      const { deps, a } = await twoVendors();

      // Act
      const urls = await getImageUrls(deps, { workforceId: a.workforceId, batchId: a.batchId, aliases: a.aliases.slice(0, 2) });

      // Assert
      expect(urls).toEqual({
        [a.aliases[0]]: `memory://images/${aliasImageObject(a.batchId, a.aliases[0])}?get&expires=3600`,
        [a.aliases[1]]: `memory://images/${aliasImageObject(a.batchId, a.aliases[1])}?get&expires=3600`,
      });
    });

    // Issue 7 finding 5: an image key `batches/<own>/images/../../<other>/manifest.json` passed the prefix check and presigned another vendor's manifest.
    it('answers a path trick in an image key or alias exactly like an image that does not exist, and presigns nothing', async () => {
      // Arrange
      const { deps, a, otherBatchId } = await twoVendors();
      const presign = vi.spyOn(deps.objects, 'presignGet');
      const ask = (alias: string) => failure(getImageUrls(deps, { workforceId: a.workforceId, batchId: a.batchId, aliases: [alias] }));
      const missing = await ask('zzzzzzzzzzzz');

      // Act
      const tricks = [
        `batches/${a.batchId}/images/../../${otherBatchId}/manifest.json`,
        `${a.aliases[0]}/../../../${otherBatchId}/manifest.json`,
        `../../${otherBatchId}/images/b0b0b0b0b0b0`,
        'b0b0b0b0b0b0', // a well-formed alias of vendor-b's batch
      ];
      const answers = await Promise.all(tricks.map(ask));

      // Assert
      expect(missing).toBeInstanceOf(NotFoundError);
      expect(missing?.message).toBe('image zzzzzzzzzzzz not found');
      tricks.forEach((trick, i) => {
        expect(answers[i]).toBeInstanceOf(NotFoundError);
        expect(answers[i]?.message).toBe(missing?.message.replace('zzzzzzzzzzzz', trick.length > 64 ? `${trick.slice(0, 64)}…` : trick));
      });
      expect(presign).not.toHaveBeenCalled();
    });

    it('answers a batch id with path segments exactly like a batch that does not exist', async () => {
      // Arrange
      const { deps, a, otherBatchId } = await twoVendors();
      const presign = vi.spyOn(deps.objects, 'presignGet');

      // Act
      const trick = await failure(
        getImageUrls(deps, { workforceId: a.workforceId, batchId: `${a.batchId}/../${otherBatchId}`, aliases: ['b0b0b0b0b0b0'] }),
      );
      const foreign = await failure(getImageUrls(deps, { workforceId: a.workforceId, batchId: otherBatchId, aliases: ['b0b0b0b0b0b0'] }));
      const missing = await failure(getImageUrls(deps, { workforceId: a.workforceId, batchId: 'no-such-batch', aliases: ['b0b0b0b0b0b0'] }));

      // Assert
      for (const e of [trick, foreign, missing]) expect(e).toBeInstanceOf(NotFoundError);
      expect(trick?.message).toBe(`batch ${a.batchId}/../${otherBatchId} not found`);
      expect(foreign?.message).toBe(`batch ${otherBatchId} not found`);
      expect(missing?.message).toBe('batch no-such-batch not found');
      expect(presign).not.toHaveBeenCalled();
    });
  });

  describe('Function: getUploadReport', () => {
    it('returns "pending" for an own slot with no report yet, then the stored report', async () => {
      // Arrange
      const { deps, a } = await twoVendors();
      const input = { workforceId: a.workforceId, batchId: a.batchId, uploadId: a.uploadId };
      const before = await getUploadReport(deps, input);
      const report = { batchId: a.batchId, uploadId: a.uploadId, status: 'rejected', problems: [{ line: 2, reason: 'not valid JSON' }], checkedAt: T0 };

      // Act
      await deps.objects.putJson(deps.buckets.exports, reportObject(a.workforceId, a.batchId, a.uploadId), report);
      const after = await getUploadReport(deps, input);

      // Assert
      expect(before).toEqual({ status: 'pending' });
      expect(after).toEqual(report);
    });

    // Issue 7 finding 5: getUploadReport built the report key from an unvalidated uploadId (`../../vendor-a/…` read another vendor's report).
    it('answers a foreign, malformed or path-trick upload id exactly like an upload that does not exist', async () => {
      // Arrange: a report exists for vendor-b's upload
      const { deps, a, otherBatchId } = await twoVendors();
      await deps.objects.putJson(deps.buckets.exports, reportObject('vendor-b', otherBatchId, 'bbbbbbbbbbbb'), { status: 'accepted' });
      const read = vi.spyOn(deps.objects, 'getJson');
      const ask = (uploadId: string) => failure(getUploadReport(deps, { workforceId: a.workforceId, batchId: a.batchId, uploadId }));
      const missing = await ask('nosuchupload1');

      // Act
      const tricks = [
        'bbbbbbbbbbbb', // vendor-b's upload id
        `../../../vendor-b/${otherBatchId}/bbbbbbbbbbbb`,
        `${a.uploadId}/../../../vendor-b/${otherBatchId}/bbbbbbbbbbbb`,
        'UPPER-case',
      ];
      const answers = await Promise.all(tricks.map(ask));

      // Assert
      expect(missing).toBeInstanceOf(NotFoundError);
      expect(missing?.message).toBe('upload nosuchupload1 not found');
      tricks.forEach((trick, i) => {
        expect(answers[i]).toBeInstanceOf(NotFoundError);
        expect(answers[i]?.message).toBe(`upload ${trick} not found`);
      });
      expect(read).not.toHaveBeenCalled();
    });

    it("answers vendor-b asking for vendor-a's batch exactly like a batch that does not exist", async () => {
      // Arrange
      const { deps, a } = await twoVendors();

      // Act
      const foreign = await failure(getUploadReport(deps, { workforceId: 'vendor-b', batchId: a.batchId, uploadId: a.uploadId }));
      const missing = await failure(getUploadReport(deps, { workforceId: 'vendor-b', batchId: 'no-such-batch', uploadId: a.uploadId }));

      // Assert
      expect(foreign).toBeInstanceOf(NotFoundError);
      expect(missing).toBeInstanceOf(NotFoundError);
      expect(foreign?.message.replace(a.batchId, 'X')).toBe(missing?.message.replace('no-such-batch', 'X'));
    });
  });

  describe('Function: requestUploadSlot', () => {
    it('grants a write-once slot: the PUT must carry the declared size, the checksum, the content type and if-none-match', async () => {
      // Arrange
      const { deps, a } = await twoVendors();
      const body = new TextEncoder().encode('{"alias":"k3v9x2m7qa8d"}\n');

      // Act
      const grant = await requestUploadSlot(deps, { workforceId: a.workforceId, batchId: a.batchId, sizeBytes: body.length, sha256Hex: sha256Hex(body) });

      // Assert
      expect(grant.headers).toEqual({
        'content-length': String(body.length),
        'content-type': 'application/x-ndjson',
        'if-none-match': '*',
        'x-amz-checksum-sha256': Buffer.from(sha256Hex(body), 'hex').toString('base64'),
      });
      const slot = await deps.repo.getUploadSlot(a.batchId, grant.uploadId);
      expect(slot).toMatchObject({ key: `uploads/${a.workforceId}/${a.batchId}/${grant.uploadId}.jsonl`, sizeBytes: body.length });
    });

    it('answers a malformed batch id exactly like a batch that does not exist, and records no slot', async () => {
      // Arrange
      const { deps, a } = await twoVendors();
      const put = vi.spyOn(deps.repo, 'putUploadSlot');

      // Act
      const e = await failure(
        requestUploadSlot(deps, { workforceId: a.workforceId, batchId: `../${a.batchId}`, sizeBytes: 10, sha256Hex: 'a'.repeat(64) }),
      );

      // Assert
      expect(e).toBeInstanceOf(NotFoundError);
      expect(e?.message).toBe(`batch ../${a.batchId} not found`);
      expect(put).not.toHaveBeenCalled();
    });
  });

  describe('Function: getVendorBatch', () => {
    it('quotes at most a short prefix of an unknown batch id', async () => {
      // Arrange
      const { deps } = await twoVendors();

      // Act
      const e = await failure(getVendorBatch(deps, { workforceId: 'vendor-a', batchId: 'x'.repeat(10_000) }));

      // Assert
      expect(e).toBeInstanceOf(NotFoundError);
      expect(e?.message).toBe(`batch ${'x'.repeat(64)}… not found`);
    });
  });
});
