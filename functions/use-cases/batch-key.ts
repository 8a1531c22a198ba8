/**
 * What Goldline keeps about a dispatched batch, in the gold bucket (no vendor
 * path can read it), split by who needs it so each step reads only its part:
 * - `batch-aliases/<batchId>.json`: the aliases and each item's image grid —
 *   all that ingest and validation need; nothing that names a case or gold;
 * - `batch-keys/<batchId>.json`: alias → case, gold and overlap flags, image key;
 * - `batch-answers/<batchId>.json`: the hidden gold answers — read by scoring only.
 */
import { z } from 'zod';
import { BatchItem, type Case, GoldAnswer, ImageGrid, readNiftiGrid, type Workforce } from '../domain/index.js';
import { NotFoundError } from './errors.js';
import { OpaqueImageKey, opaqueImageKeyOf } from './opaque-images.js';
import type { Deps } from './ports.js';

export const BatchKeyItem = BatchItem.extend({
  imageKey: z.string(),
  /**
   * The case's opaque image key (see {@link opaqueImageKeyOf}), when it has one
   * for its current image: the manifest points vendors at it (presigned GETs)
   * instead of a per-batch copy.
   */
  opaqueImageKey: OpaqueImageKey.optional(),
  grid: ImageGrid.optional(),
});
export type BatchKeyItem = z.infer<typeof BatchKeyItem>;

export const BatchKey = z.object({
  batchId: z.string(),
  round: z.number().int().min(1),
  protocol: z.string(),
  workforceId: z.string(),
  workforceKind: z.enum(['internal', 'vendor']),
  slaHours: z.number().positive(),
  createdAt: z.iso.datetime(),
  items: z.array(BatchKeyItem),
  /** What the PM should know about this batch's gold (pool too small, gold reused). */
  note: z.string().optional(),
});
export type BatchKey = z.infer<typeof BatchKey>;

/**
 * A batch key item for an aliased item of case `c`: its image key, the case's
 * opaque image key where it has one for its current image, and its grid — the
 * same for a production batch and an exam, so their manifests cannot differ.
 */
export function keyItemOf<I extends BatchItem>(item: I, c: Pick<Case, 'imageKey' | 'opaqueImage' | 'grid'>): I & Pick<BatchKeyItem, 'imageKey' | 'opaqueImageKey' | 'grid'> {
  const opaqueImageKey = opaqueImageKeyOf(c);
  return { ...item, imageKey: c.imageKey, ...(opaqueImageKey ? { opaqueImageKey } : {}), ...(c.grid ? { grid: c.grid } : {}) };
}

/**
 * The key of a batch as dispatch and a qualification exam build it: the batch,
 * its workforce's terms, each aliased item with its case's image (keyItemOf; the
 * case `caseOf` names) and the gold answers.
 *
 * @example batchKeyOf({ batchId, round: 1, protocol: 'chest-xray@1', workforce: w, createdAt, items, caseOf: (id) => cases.get(id)!, answers: {} })
 */
export function batchKeyOf(b: {
  batchId: string;
  round: number;
  protocol: string;
  workforce: Pick<Workforce, 'workforceId' | 'kind' | 'slaHours'>;
  createdAt: string;
  items: readonly BatchItem[];
  caseOf: (caseId: string) => Pick<Case, 'imageKey' | 'opaqueImage' | 'grid'>;
  answers: Record<string, GoldAnswer>;
  note?: string;
}): DispatchedBatchKey {
  return {
    batchId: b.batchId,
    round: b.round,
    protocol: b.protocol,
    workforceId: b.workforce.workforceId,
    workforceKind: b.workforce.kind,
    slaHours: b.workforce.slaHours,
    createdAt: b.createdAt,
    items: b.items.map((i) => keyItemOf(i, b.caseOf(i.caseId))),
    answers: b.answers,
    ...(b.note ? { note: b.note } : {}),
  };
}

/** The aliases of a batch and what validation checks per alias (the image grid). */
export const BatchAliases = z.object({
  batchId: z.string(),
  protocol: z.string(),
  items: z.array(z.strictObject({ alias: BatchItem.shape.alias, grid: ImageGrid.optional() })),
});
export type BatchAliases = z.infer<typeof BatchAliases>;

/** The hidden gold answers of a batch: caseId → expert answer, gold items only. */
export const BatchAnswers = z.object({
  batchId: z.string(),
  answers: z.record(z.string(), GoldAnswer),
});
export type BatchAnswers = z.infer<typeof BatchAnswers>;

/** A batch key as dispatch builds it, answers included; stored split in three objects. */
export type DispatchedBatchKey = z.input<typeof BatchKey> & { answers: Record<string, GoldAnswer> };

export const batchAliasesObject = (batchId: string): string => `batch-aliases/${batchId}.json`;
export const batchKeyObject = (batchId: string): string => `batch-keys/${batchId}.json`;
export const batchAnswersObject = (batchId: string): string => `batch-answers/${batchId}.json`;
export const manifestObject = (batchId: string): string => `batches/${batchId}/manifest.json`;
export const aliasImageObject = (batchId: string, alias: string): string => `batches/${batchId}/images/${alias}`;
export const goldSetObject = (programId: string, protocolId: string): string => `gold-sets/${programId}/${protocolId}.json`;
export const reportObject = (workforceId: string, batchId: string, uploadId: string): string =>
  `reports/${workforceId}/${batchId}/${uploadId}.json`;

/** Bytes read from an image for its NIfTI header (NIfTI-2: 540; gzip adds its own header). */
const NIFTI_HEAD_BYTES = 4096;

/**
 * The grid of an image that is a NIfTI file (`.nii`, `.nii.gz`), from its header;
 * undefined for any other image or an unreadable header.
 */
export async function imageGridFromHeader(deps: Deps, imageKey: string): Promise<ImageGrid | undefined> {
  if (!/\.nii(\.gz)?$/i.test(imageKey)) return undefined;
  const head = await deps.objects.getHead(deps.buckets.images, imageKey, NIFTI_HEAD_BYTES);
  if (!head) return undefined;
  try {
    const parsed = ImageGrid.safeParse(readNiftiGrid(head));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // not a readable NIfTI header: the grid stays unknown
  }
}

/**
 * Stores a dispatched batch key as its three objects (aliases, key, answers).
 * With `imageGrids` (detection and segmentation: masks and findings are checked
 * against the grid), items without a grid get it from their image's NIfTI header
 * where there is one.
 */
export async function storeBatchKey(deps: Deps, full: DispatchedBatchKey, opts: { imageGrids?: boolean } = {}): Promise<void> {
  const { answers, ...rest } = full;
  const items = await Promise.all(
    rest.items.map(async (i) => {
      const grid = i.grid ?? (opts.imageGrids ? await imageGridFromHeader(deps, i.imageKey) : undefined);
      return grid ? { ...i, grid } : i;
    }),
  );
  const key: BatchKey = BatchKey.parse({ ...rest, items });
  const aliases: BatchAliases = {
    batchId: key.batchId,
    protocol: key.protocol,
    items: key.items.map((i) => (i.grid ? { alias: i.alias, grid: i.grid } : { alias: i.alias })),
  };
  await deps.objects.putJson(deps.buckets.gold, batchAliasesObject(key.batchId), aliases);
  await deps.objects.putJson(deps.buckets.gold, batchAnswersObject(key.batchId), { batchId: key.batchId, answers });
  await deps.objects.putJson(deps.buckets.gold, batchKeyObject(key.batchId), key);
}

/** The aliases of a batch with their image grids (what ingest and validation read). */
export async function loadBatchAliases(deps: Deps, batchId: string): Promise<BatchAliases> {
  const raw = await deps.objects.getJson<unknown>(deps.buckets.gold, batchAliasesObject(batchId));
  if (raw === undefined) throw new NotFoundError(`aliases of batch ${batchId} not found`);
  return BatchAliases.parse(raw);
}

/** alias → image grid, for the aliases whose grid is known. */
export const gridsOf = (aliases: BatchAliases): Map<string, ImageGrid> =>
  new Map(aliases.items.flatMap((i) => (i.grid ? [[i.alias, i.grid] as const] : [])));

/** The key of a batch: alias → case, gold and overlap flags, image key. No answers. */
export async function loadBatchKey(deps: Deps, batchId: string): Promise<BatchKey> {
  const raw = await deps.objects.getJson<unknown>(deps.buckets.gold, batchKeyObject(batchId));
  if (raw === undefined) throw new NotFoundError(`key of batch ${batchId} not found`);
  return BatchKey.parse(raw);
}

/** The hidden gold answers of a batch, caseId → answer (scoring only). */
export async function loadBatchAnswers(deps: Deps, batchId: string): Promise<Map<string, GoldAnswer>> {
  const raw = await deps.objects.getJson<unknown>(deps.buckets.gold, batchAnswersObject(batchId));
  if (raw === undefined) throw new NotFoundError(`gold answers of batch ${batchId} not found`);
  return new Map(Object.entries(BatchAnswers.parse(raw).answers));
}
