/**
 * What a vendor can do: read its own batch's manifest and ask for an upload slot,
 * then read the validation report of an upload. A vendor asking for another
 * vendor's batch gets the same answer as for a batch that does not exist.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { UploadSlot } from '../domain/index.js';
import { manifestObject, reportObject } from './batch-key.js';
import { ConflictError, NotFoundError } from './errors.js';
import { type UploadReport, uploadObject } from './ingest-upload.js';
import type { BatchRecord, Deps } from './ports.js';

export const MANIFEST_URL_SECONDS = 3600;
export const UPLOAD_URL_SECONDS = 900;
/** Label files above this size are refused before a slot is issued. */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

async function ownBatch(deps: Deps, workforceId: string, batchId: string): Promise<BatchRecord> {
  const batch = await deps.repo.getBatch(batchId);
  if (!batch || batch.workforceId !== workforceId) throw new NotFoundError(`batch ${batchId} not found`);
  return batch;
}

/** A vendor working on a waiting batch is a sign of life: the lifecycle's heartbeat. */
async function signOfLife(deps: Deps, batch: BatchRecord): Promise<void> {
  if (batch.status === 'awaiting-submission' && batch.taskToken) await deps.callbacks.heartbeat(batch.taskToken);
}

export interface VendorBatchView {
  batchId: string;
  status: string;
  protocol: string;
  items: number;
  slaDeadline?: string;
  manifestUrl: string;
}

/** The batch as its vendor sees it, with a presigned GET for the manifest. */
export async function getVendorBatch(deps: Deps, input: { workforceId: string; batchId: string }): Promise<VendorBatchView> {
  const b = await ownBatch(deps, input.workforceId, input.batchId);
  await signOfLife(deps, b);
  return {
    batchId: b.batchId,
    status: b.status,
    protocol: b.protocol,
    items: b.itemCount,
    slaDeadline: b.slaDeadline,
    manifestUrl: await deps.objects.presignGet(deps.buckets.images, manifestObject(b.batchId), MANIFEST_URL_SECONDS),
  };
}

/** Presigned GET URLs for the aliased images of a batch (alias → URL). */
export async function getImageUrls(
  deps: Deps,
  input: { workforceId: string; batchId: string; images: readonly string[] },
): Promise<Record<string, string>> {
  const b = await ownBatch(deps, input.workforceId, input.batchId);
  const prefix = `batches/${b.batchId}/images/`;
  const out: Record<string, string> = {};
  for (const key of input.images) {
    if (!key.startsWith(prefix)) throw new NotFoundError(`image ${key} not found`);
    out[key] = await deps.objects.presignGet(deps.buckets.images, key, MANIFEST_URL_SECONDS);
  }
  return out;
}

export const UploadSlotRequest = z.object({
  sizeBytes: z.number().int().min(1).max(MAX_UPLOAD_BYTES),
  sha256Hex: z.string().regex(/^[0-9a-f]{64}$/, 'sha256Hex must be 64 lowercase hex digits'),
});

export interface UploadSlotGrant {
  uploadId: string;
  url: string;
  /** Headers the PUT must carry: they are signed into the URL. */
  headers: Record<string, string>;
  expiresAt: string;
}

/** Issues an upload slot: a server-chosen unique key, a short-lived PUT URL bound to size and hash. */
export async function requestUploadSlot(
  deps: Deps,
  input: { workforceId: string; batchId: string } & z.input<typeof UploadSlotRequest>,
): Promise<UploadSlotGrant> {
  const req = UploadSlotRequest.parse({ sizeBytes: input.sizeBytes, sha256Hex: input.sha256Hex });
  const b = await ownBatch(deps, input.workforceId, input.batchId);
  if (b.status !== 'awaiting-submission') {
    throw new ConflictError(`batch ${b.batchId} is ${b.status}: it does not take uploads`);
  }
  await signOfLife(deps, b);
  const uploadId = deps.random.token(24);
  const key = uploadObject(b.workforceId, b.batchId, uploadId);
  const expiresAt = new Date(deps.clock.now().getTime() + UPLOAD_URL_SECONDS * 1000).toISOString();
  const slot = UploadSlot.parse({ batchId: b.batchId, uploadId, key, workforceId: b.workforceId, ...req, expiresAt });
  await deps.repo.putUploadSlot(slot);
  const sha256Base64 = Buffer.from(req.sha256Hex, 'hex').toString('base64');
  const contentType = 'application/x-ndjson';
  const url = await deps.objects.presignPut(deps.buckets.uploads, key, {
    sizeBytes: req.sizeBytes,
    sha256Base64,
    contentType,
    expiresSeconds: UPLOAD_URL_SECONDS,
  });
  return { uploadId, url, headers: { 'content-type': contentType, 'x-amz-checksum-sha256': sha256Base64 }, expiresAt };
}

/** The validation report of one upload (never contains gold answers). */
export async function getUploadReport(
  deps: Deps,
  input: { workforceId: string; batchId: string; uploadId: string },
): Promise<UploadReport | { status: 'pending' }> {
  await ownBatch(deps, input.workforceId, input.batchId);
  const r = await deps.objects.getJson<UploadReport>(
    deps.buckets.exports,
    reportObject(input.workforceId, input.batchId, input.uploadId),
  );
  return r ?? { status: 'pending' };
}

/** SHA-256 of bytes as lowercase hex: what a vendor declares for a slot. */
export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
