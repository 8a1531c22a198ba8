/**
 * Re-scoring after an upheld dispute, through the lifecycle on the fakes: a
 * vendor batch rejected on a wrong gold answer flips to accepted; its cases
 * still pending take its labels, a case another batch took meanwhile stays
 * with it (paid, listed as re-done elsewhere).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decideAdjudication } from '../../../functions/use-cases/adjudication.js';
import { loadBatchKey, manifestObject, storeBatchKey } from '../../../functions/use-cases/batch-key.js';
import { completeDisputeRequest, openDispute } from '../../../functions/use-cases/disputes.js';
import { finalizeBatch } from '../../../functions/use-cases/finalize-batch.js';
import { ingestUpload, uploadObject } from '../../../functions/use-cases/ingest-upload.js';
import { record } from '../../../functions/use-cases/ledger.js';
import { scoreSubmission } from '../../../functions/use-cases/score-submission.js';
import { settleBatch } from '../../../functions/use-cases/settle-batch.js';
import { type FakeDeps, T0, makeCase, makeFakeDeps, makeProtocol, makeWorkforce } from '../fakes.js';

const P = 'prog-1';
const B = 'batch-0001';
const REAL = ['case-0', 'case-1', 'case-2', 'case-3'];

/** vendor-a's batch: 4 real cases and 16 gold items, 3 of them answered "abnormal" where the gold says "normal". */
async function rejectedBatch(): Promise<FakeDeps> {
  const deps = makeFakeDeps();
  // A single sampling plan decides each batch alone: n=16, c=2 at AQL 0.95 / RQL 0.70.
  await deps.repo.putProtocolVersion(makeProtocol({ acceptance: { aql: 0.95, rql: 0.7, rule: 'single-plan' } } as never));
  await deps.repo.putWorkforce(P, makeWorkforce('vendor-a', { pricePerCase: 2 }));
  await deps.repo.putWorkforce(P, makeWorkforce('radiology-team', { kind: 'internal', qualifications: ['adjudicator'] }));
  const items = [
    ...REAL.map((caseId) => ({ caseId, gold: false })),
    ...Array.from({ length: 16 }, (_, i) => ({ caseId: `gold-${i}`, gold: true })),
  ].map((x, i) => ({ ...x, alias: `alias${String(i).padStart(4, '0')}`, imageKey: `images/${x.caseId}.dcm` }));
  await deps.repo.putCases(P, items.map((i) => ({ ...makeCase(i.caseId), goldPool: i.gold })));
  await deps.repo.createBatch({
    batchId: B, programId: P, round: 1, protocol: 'chest-xray@1', workforceId: 'vendor-a', workforceKind: 'vendor',
    itemCount: items.length, goldCount: 16, slaHours: 48, status: 'awaiting-submission', createdAt: T0, taskToken: 'token-1',
  });
  await record(deps, {
    eventId: `${B}:dispatched`, programId: P, type: 'batch.dispatched', actor: 'pm', protocol: 'chest-xray@1', subject: B, reason: 'round 1',
    data: { workforceId: 'vendor-a', items: items.length, gold: 16, caseIds: REAL },
  });
  await deps.repo.assignCases(P, REAL, B);
  await storeBatchKey(deps, {
    batchId: B, round: 1, protocol: 'chest-xray@1', workforceId: 'vendor-a', workforceKind: 'vendor', slaHours: 48, createdAt: T0, items,
    answers: Object.fromEntries(items.filter((i) => i.gold).map((i) => [i.caseId, 'normal'])),
  });
  // The manifest the vendor received (images bucket): the aliases a dispute may name.
  await deps.objects.putJson(deps.buckets.images, manifestObject(B), { items: items.map((i) => ({ alias: i.alias, image: `batches/${B}/${i.alias}.dcm` })) });
  const wrong = new Set(['gold-0', 'gold-1', 'gold-2']);
  const file = new TextEncoder().encode(
    `${items.map((i) => JSON.stringify({ alias: i.alias, label: wrong.has(i.caseId) ? 'abnormal' : 'normal', annotator: 'reader-07' })).join('\n')}\n`,
  );
  const key = uploadObject('vendor-a', B, 'up12345678');
  const sha256Hex = createHash('sha256').update(file).digest('hex');
  await deps.repo.putUploadSlot({ batchId: B, uploadId: 'up12345678', key, workforceId: 'vendor-a', sizeBytes: file.length, sha256Hex, expiresAt: '2025-03-01T10:00:00.000Z' });
  await deps.objects.putBytes(deps.buckets.uploads, key, file, 'application/x-ndjson');
  await ingestUpload(deps, { bucket: deps.buckets.uploads, key });
  const { verdict } = await scoreSubmission(deps, { batchId: B });
  await settleBatch(deps, { batchId: B, verdict });
  await finalizeBatch(deps, { batchId: B });
  return deps;
}

describe('Use case: rescoreBatch (an upheld dispute)', () => {
  it('flips a batch rejected on a wrong gold answer to accepted: pending cases take its labels, a case re-done elsewhere stays there', async () => {
    const deps = await rejectedBatch();
    expect((await deps.repo.getBatch(B))?.status).toBe('rejected');
    // Meanwhile case-0 went to another batch.
    await deps.repo.assignCases(P, ['case-0'], 'batch-elsewhere');

    const alias = (await loadBatchKey(deps, B)).items.find((i) => i.caseId === 'gold-0')!.alias;
    const { disputeId } = await openDispute(deps, { workforceId: 'vendor-a', batchId: B, alias, reason: 'this film is abnormal, not normal', openedBy: 'vendor:vendor-a' });
    await completeDisputeRequest(deps, disputeId);
    await decideAdjudication(deps, { adjudicationId: disputeId, workforceId: 'radiology-team', expertId: 'dr-lead', decisions: [{ caseId: 'gold-0', label: 'abnormal' }] });

    const rescored = (await deps.repo.listLedger(P)).filter((e) => e.type === 'batch.rescored');
    expect(rescored).toHaveLength(1);
    expect(rescored[0].data).toMatchObject({
      disputeId,
      corrections: [{ goldCaseId: 'gold-0', toVersion: 2 }],
      before: { goldN: 16, goldCorrect: 13, decision: 'rejected' },
      after: { goldN: 16, goldCorrect: 14, decision: 'accepted' },
      decision: 'accepted',
      flipped: true,
      labelledCaseIds: ['case-1', 'case-2', 'case-3'],
      redoneElsewhereCaseIds: ['case-0'],
    });
    const s = rescored[0].type === 'batch.rescored' ? rescored[0].data.settlement : undefined;
    expect(s && s.charge > s.chargeBefore).toBe(true);
    expect((await deps.repo.getBatch(B))?.status).toBe('accepted');
    expect((await deps.repo.getScore(B))?.goldCorrect).toBe(14);
    const states = Object.fromEntries((await deps.repo.listCases(P)).filter((c) => REAL.includes(c.caseId)).map((c) => [c.caseId, [c.state, c.batchId]]));
    expect(states).toEqual({
      'case-0': ['assigned', 'batch-elsewhere'],
      'case-1': ['labelled', B],
      'case-2': ['labelled', B],
      'case-3': ['labelled', B],
    });
    const labels = Object.fromEntries((await deps.repo.listBatchLabels(B)).filter((l) => !l.gold).map((l) => [l.caseId, l.status]));
    expect(labels).toEqual({ 'case-0': 'rejected', 'case-1': 'accepted', 'case-2': 'accepted', 'case-3': 'accepted' });

    // Deciding again re-runs the resolution: nothing recorded twice.
    await decideAdjudication(deps, { adjudicationId: disputeId, workforceId: 'radiology-team', expertId: 'dr-lead', decisions: [{ caseId: 'gold-0', label: 'abnormal' }] });
    expect((await deps.repo.listLedger(P)).filter((e) => e.type === 'batch.rescored' || e.type === 'gold.corrected')).toHaveLength(2);
  });
});
