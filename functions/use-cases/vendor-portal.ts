/**
 * What a vendor can do: read its own batch's manifest and ask for an upload slot,
 * then read the validation report of an upload. A vendor asking for another
 * vendor's batch gets the same answer as for a batch that does not exist.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Alias, Identifier, LineProblem, UploadId, UploadSlot } from '../domain/index.js';
import { aliasImageObject, manifestObject, reportObject } from './batch-key.js';
import { ConflictError, NotFoundError } from './errors.js';
import { isOpaqueImageKey } from './opaque-images.js';
import { type UploadReport, uploadObject } from './ingest-upload.js';
import { decidedCarried } from './settle-batch.js';
import type { BatchRecord, Deps } from './ports.js';

export const MANIFEST_URL_SECONDS = 3600;
export const UPLOAD_URL_SECONDS = 900;
/** Label files above this size are refused before a slot is issued. */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

/**
 * A caller's string as quoted back in an error: a bounded prefix. It is never
 * used for anything else: every key is built from ids that parsed and were found.
 */
const quoted = (s: string): string => (s.length > 64 ? `${s.slice(0, 64)}…` : s);

// One answer for "does not exist", "not yours" and "not even a valid id": a
// caller learns nothing from which of them it was.
const batchNotFound = (batchId: string) => new NotFoundError(`batch ${quoted(batchId)} not found`);
const imageNotFound = (alias: string) => new NotFoundError(`image ${quoted(alias)} not found`);
const uploadNotFound = (uploadId: string) => new NotFoundError(`upload ${quoted(uploadId)} not found`);

async function ownBatch(deps: Deps, workforceId: string, batchId: string): Promise<BatchRecord> {
  const id = Identifier.safeParse(batchId);
  const who = Identifier.safeParse(workforceId);
  if (!id.success || !who.success) throw batchNotFound(batchId);
  const batch = await deps.repo.getBatch(id.data);
  if (!batch || batch.workforceId !== who.data) throw batchNotFound(batchId);
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
  /**
   * How the batch was decided from its hidden gold (issue 11): outcome, the rule and
   * its sentence with the evidence (gold counts, never which items); for a held
   * batch settled later, the decision that settled it and the batch it came with.
   */
  decision?: { outcome: 'accept' | 'reject' | 'inconclusive'; rule: string; reason: string; settledWith?: string };
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
    ...(await vendorDecision(deps, b)),
  };
}

async function vendorDecision(deps: Deps, b: BatchRecord): Promise<Pick<VendorBatchView, 'decision'>> {
  const settled = await decidedCarried(deps, b);
  if (settled?.data.decision) {
    const d = settled.data.decision;
    return { decision: { outcome: d.decision, rule: d.rule, reason: settled.reason, ...(settled.data.decidedWith ? { settledWith: settled.data.decidedWith } : {}) } };
  }
  const d = b.workforceKind === 'vendor' ? (await deps.repo.getScore(b.batchId))?.decision : undefined;
  return d ? { decision: { outcome: d.decision, rule: d.rule, reason: d.reason } } : {};
}

/** The part of a stored manifest that says which aliases the batch holds, and each one's image object. */
const ManifestAliases = z.object({ items: z.array(z.object({ alias: Alias, image: z.string() })) });

/**
 * Presigned GET URLs for images of the vendor's own batch, by alias (alias → URL).
 * Each alias must parse as an alias and be an item of the batch's own manifest;
 * only then is its image presigned: the object the manifest names for it, which
 * must be the case's opaque key or the batch's aliased copy (`aliasImageObject`
 * of the stored batch id and that alias). Anything else answers like an image
 * that does not exist.
 *
 * @example
 * const urls = await getImageUrls(deps, { workforceId: 'vendor-a', batchId, aliases: manifest.items.map((i) => i.alias) });
 */
export async function getImageUrls(
  deps: Deps,
  input: { workforceId: string; batchId: string; aliases: readonly string[] },
): Promise<Record<string, string>> {
  const b = await ownBatch(deps, input.workforceId, input.batchId);
  const requested = [...new Set(input.aliases)];
  const bad = requested.find((a) => !Alias.safeParse(a).success);
  if (bad !== undefined) throw imageNotFound(bad);
  const manifest = await deps.objects.getJson<unknown>(deps.buckets.images, manifestObject(b.batchId));
  // alias → image object, for the objects a vendor may be given (written by PrepareManifest; checked again here).
  const items = new Map(
    (manifest === undefined ? [] : ManifestAliases.parse(manifest).items)
      .filter((i) => i.image === aliasImageObject(b.batchId, i.alias) || isOpaqueImageKey(i.image))
      .map((i) => [i.alias, i.image]),
  );
  const unknown = requested.find((a) => !items.has(a));
  if (unknown !== undefined) throw imageNotFound(unknown);
  const out: Record<string, string> = {};
  for (const alias of requested) {
    // Neutral headers: an opaque key is the uploaded object itself, which keeps any Content-Disposition its uploader sent.
    out[alias] = await deps.objects.presignGet(deps.buckets.images, items.get(alias)!, MANIFEST_URL_SECONDS, undefined, { neutralHeaders: true });
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
  /** The exact headers the PUT must carry: they are signed into the URL (any other value is refused). */
  headers: Record<string, string>;
  expiresAt: string;
}

/**
 * Issues an upload slot: a server-chosen unique key and a short-lived, write-once
 * PUT URL bound to the declared size and SHA-256 (a second PUT to it is refused).
 */
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
  const uploadId = UploadId.parse(deps.random.token(24));
  const key = uploadObject(b.workforceId, b.batchId, uploadId);
  const expiresAt = new Date(deps.clock.now().getTime() + UPLOAD_URL_SECONDS * 1000).toISOString();
  const slot = UploadSlot.parse({ batchId: b.batchId, uploadId, key, workforceId: b.workforceId, ...req, expiresAt });
  await deps.repo.putUploadSlot(slot);
  const { url, headers } = await deps.objects.presignPut(deps.buckets.uploads, key, {
    sizeBytes: req.sizeBytes,
    sha256Base64: Buffer.from(req.sha256Hex, 'hex').toString('base64'),
    contentType: 'application/x-ndjson',
    expiresSeconds: UPLOAD_URL_SECONDS,
  });
  return { uploadId, url, headers, expiresAt };
}

/** A stored report, parsed as it is read back. */
const StoredUploadReport = z.object({
  batchId: z.string(),
  uploadId: z.string(),
  status: z.enum(['rejected', 'accepted', 'superseded']),
  problems: z.array(LineProblem),
  checkedAt: z.string(),
});

/**
 * The validation report of one upload (never contains gold answers): only for an
 * upload slot issued for this batch and this workforce; anything else answers
 * exactly like an upload that does not exist.
 */
export async function getUploadReport(
  deps: Deps,
  input: { workforceId: string; batchId: string; uploadId: string },
): Promise<UploadReport | { status: 'pending' }> {
  const b = await ownBatch(deps, input.workforceId, input.batchId);
  const id = UploadId.safeParse(input.uploadId);
  const slot = id.success ? await deps.repo.getUploadSlot(b.batchId, id.data) : undefined;
  if (!slot || slot.batchId !== b.batchId || slot.workforceId !== b.workforceId) throw uploadNotFound(input.uploadId);
  const r = await deps.objects.getJson<unknown>(deps.buckets.exports, reportObject(slot.workforceId, slot.batchId, slot.uploadId));
  return r === undefined ? { status: 'pending' } : StoredUploadReport.parse(r);
}

/** SHA-256 of bytes as lowercase hex: what a vendor declares for a slot. */
export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
