/**
 * The answer key of a batch: alias → case, gold flags and the hidden gold
 * answers. Stored in the gold bucket, which no vendor path can read.
 */
import { z } from 'zod';
import { BatchItem, GoldAnswer } from '../domain/index.js';
import { NotFoundError } from './errors.js';
import type { Deps } from './ports.js';

export const BatchKey = z.object({
  batchId: z.string(),
  round: z.number().int().min(1),
  protocol: z.string(),
  workforceId: z.string(),
  workforceKind: z.enum(['internal', 'vendor']),
  slaHours: z.number().positive(),
  createdAt: z.iso.datetime(),
  items: z.array(BatchItem.extend({ imageKey: z.string() })),
  /** What the PM should know about this batch's gold (pool too small, gold reused). */
  note: z.string().optional(),
  /** caseId → expert answer, for the gold items only. */
  answers: z.record(z.string(), GoldAnswer),
});
export type BatchKey = z.infer<typeof BatchKey>;

export const batchKeyObject = (batchId: string): string => `batch-keys/${batchId}.json`;
export const manifestObject = (batchId: string): string => `batches/${batchId}/manifest.json`;
export const aliasImageObject = (batchId: string, alias: string): string => `batches/${batchId}/images/${alias}`;
export const goldSetObject = (programId: string, protocolId: string): string => `gold-sets/${programId}/${protocolId}.json`;
export const reportObject = (workforceId: string, batchId: string, uploadId: string): string =>
  `reports/${workforceId}/${batchId}/${uploadId}.json`;

export async function loadBatchKey(deps: Deps, batchId: string): Promise<BatchKey> {
  const raw = await deps.objects.getJson<unknown>(deps.buckets.gold, batchKeyObject(batchId));
  if (raw === undefined) throw new NotFoundError(`answer key of batch ${batchId} not found`);
  return BatchKey.parse(raw);
}
