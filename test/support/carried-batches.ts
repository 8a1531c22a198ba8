/**
 * Vendor batches ready to score, for the three-way decisions (issue 11): a
 * vendor-a batch with `gold` gold items (`wrong` of them answered wrong) and 4
 * real cases, dispatched, uploaded and ingested, on the in-memory fakes.
 */
import { createHash } from 'node:crypto';
import { storeBatchKey } from '../../functions/use-cases/batch-key.js';
import { ingestUpload, uploadObject } from '../../functions/use-cases/ingest-upload.js';
import { batchIdFor } from '../../functions/use-cases/plan-round.js';
import { type FakeDeps, makeCase, makeFakeDeps, makeProtocol, makeWorkforce, T0 } from '../unit/fakes.js';

export const P = 'prog-1';
export const REAL = 4;

/**
 * A vendor-a batch of `gold` gold items (`wrong` of them answered wrong) and 4
 * real cases, dispatched, uploaded and ingested: ready to score.
 */
export async function submittedBatch(deps: FakeDeps, n: number, gold: number, wrong: number, round = n): Promise<string> {
  // Numbered as the planner numbers a workforce's batches in a round: the first (…-1) is the one held batches are carried into.
  const k = (await deps.repo.listRoundBatches(P, round)).filter((b) => b.workforceId === 'vendor-a').length;
  const batchId = batchIdFor(P, round, 'vendor-a', k);
  const items = [
    ...Array.from({ length: REAL }, (_, i) => ({ caseId: `case-${n}-${i}`, gold: false })),
    ...Array.from({ length: gold }, (_, i) => ({ caseId: `gold-${n}-${i}`, gold: true })),
  ].map((x, i) => ({ ...x, alias: `b${n}alias${String(i).padStart(4, '0')}`, imageKey: `images/${x.caseId}.dcm` }));
  await deps.repo.putCases(P, items.map((i) => ({ ...makeCase(i.caseId), goldPool: i.gold })));
  await deps.repo.createBatch({
    batchId, programId: P, round, protocol: 'chest-xray@1', workforceId: 'vendor-a', workforceKind: 'vendor',
    itemCount: items.length, goldCount: gold, slaHours: 48, status: 'awaiting-submission', createdAt: T0, taskToken: `token-${n}`,
  });
  await deps.repo.assignCases(P, items.filter((i) => !i.gold).map((i) => i.caseId), batchId);
  const answers = Object.fromEntries(items.filter((i) => i.gold).map((i) => [i.caseId, 'normal']));
  await storeBatchKey(deps, { batchId, round, protocol: 'chest-xray@1', workforceId: 'vendor-a', workforceKind: 'vendor', slaHours: 48, createdAt: T0, items, answers });
  const goldAliases = new Set(items.filter((i) => i.gold).slice(0, wrong).map((i) => i.alias));
  const file = new TextEncoder().encode(
    `${items.map((i) => JSON.stringify({ alias: i.alias, label: goldAliases.has(i.alias) ? 'abnormal' : 'normal', annotator: 'reader-07' })).join('\n')}\n`,
  );
  const key = uploadObject('vendor-a', batchId, 'up12345678');
  const sha256Hex = createHash('sha256').update(file).digest('hex');
  await deps.repo.putUploadSlot({ batchId, uploadId: 'up12345678', key, workforceId: 'vendor-a', sizeBytes: file.length, sha256Hex, expiresAt: '2025-03-01T10:00:00.000Z' });
  await deps.objects.putBytes(deps.buckets.uploads, key, file, 'application/x-ndjson');
  await ingestUpload(deps, { bucket: deps.buckets.uploads, key });
  return batchId;
}

export async function setup(): Promise<FakeDeps> {
  const deps = makeFakeDeps();
  await deps.repo.putProtocolVersion(makeProtocol());
  await deps.repo.putWorkforce(P, makeWorkforce('vendor-a', { pricePerCase: 2 }));
  return deps;
}

