/**
 * Re-scoring after an upheld dispute, through the lifecycle on the fakes: a
 * vendor batch rejected on a wrong gold answer flips to accepted; its cases
 * still pending take its labels, a case another batch took meanwhile stays
 * with it (paid, listed as re-done elsewhere).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decideAdjudication } from '../../../functions/use-cases/adjudication.js';
import { goldSetObject, loadBatchKey, manifestObject, storeBatchKey } from '../../../functions/use-cases/batch-key.js';
import { completeDisputeRequest, loadGoldHistory, openDispute } from '../../../functions/use-cases/disputes.js';
import { finalizeBatch } from '../../../functions/use-cases/finalize-batch.js';
import { ingestUpload, uploadObject } from '../../../functions/use-cases/ingest-upload.js';
import { record } from '../../../functions/use-cases/ledger.js';
import { scoreSubmission } from '../../../functions/use-cases/score-submission.js';
import { settleBatch } from '../../../functions/use-cases/settle-batch.js';
import { type FakeDeps, T0, makeCase, makeFakeDeps, makeProtocol, makeWorkforce } from '../fakes.js';

const P = 'prog-1';
const B = 'batch-0001';
const REAL = ['case-0', 'case-1', 'case-2', 'case-3'];

/** The fakes with the protocol and workforces: a single sampling plan decides each batch alone (n=16, c=2 at AQL 0.95 / RQL 0.70). */
async function programDeps(): Promise<FakeDeps> {
  const deps = makeFakeDeps();
  await deps.repo.putProtocolVersion(makeProtocol({ acceptance: { aql: 0.95, rql: 0.7, rule: 'single-plan' } } as never));
  await deps.repo.putWorkforce(P, makeWorkforce('vendor-a', { pricePerCase: 2 }));
  await deps.repo.putWorkforce(P, makeWorkforce('vendor-b', { pricePerCase: 2 }));
  await deps.repo.putWorkforce(P, makeWorkforce('radiology-team', { kind: 'internal', qualifications: ['adjudicator'] }));
  return deps;
}

/**
 * A vendor's batch of 4 real cases and the 16 gold items gold-0…15, 3 of them
 * (gold-0, 1, 2) answered "abnormal" where the gold says "normal": rejected.
 */
async function rejectedBatch(deps?: FakeDeps, batchId = B, workforceId = 'vendor-a', real = REAL): Promise<FakeDeps> {
  deps ??= await programDeps();
  const n = batchId.slice(-1);
  const items = [
    ...real.map((caseId) => ({ caseId, gold: false })),
    ...Array.from({ length: 16 }, (_, i) => ({ caseId: `gold-${i}`, gold: true })),
  ].map((x, i) => ({ ...x, alias: `alias${n}${String(i).padStart(4, '0')}`, imageKey: `images/${x.caseId}.dcm` }));
  await deps.repo.putCases(P, items.map((i) => ({ ...makeCase(i.caseId), goldPool: i.gold })));
  await deps.repo.createBatch({
    batchId, programId: P, round: 1, protocol: 'chest-xray@1', workforceId, workforceKind: 'vendor',
    itemCount: items.length, goldCount: 16, slaHours: 48, status: 'awaiting-submission', createdAt: T0, taskToken: `token-${n}`,
  });
  await record(deps, {
    eventId: `${batchId}:dispatched`, programId: P, type: 'batch.dispatched', actor: 'pm', protocol: 'chest-xray@1', subject: batchId, reason: 'round 1',
    data: { workforceId, items: items.length, gold: 16, caseIds: real },
  });
  await deps.repo.assignCases(P, real, batchId);
  await storeBatchKey(deps, {
    batchId, round: 1, protocol: 'chest-xray@1', workforceId, workforceKind: 'vendor', slaHours: 48, createdAt: T0, items,
    answers: Object.fromEntries(items.filter((i) => i.gold).map((i) => [i.caseId, 'normal'])),
  });
  // The manifest the vendor received (images bucket): the aliases a dispute may name.
  await deps.objects.putJson(deps.buckets.images, manifestObject(batchId), { items: items.map((i) => ({ alias: i.alias, image: `batches/${batchId}/${i.alias}.dcm` })) });
  const wrong = new Set(['gold-0', 'gold-1', 'gold-2']);
  const file = new TextEncoder().encode(
    `${items.map((i) => JSON.stringify({ alias: i.alias, label: wrong.has(i.caseId) ? 'abnormal' : 'normal', annotator: 'reader-07' })).join('\n')}\n`,
  );
  const uploadId = `up${n}2345678`;
  const key = uploadObject(workforceId, batchId, uploadId);
  const sha256Hex = createHash('sha256').update(file).digest('hex');
  await deps.repo.putUploadSlot({ batchId, uploadId, key, workforceId, sizeBytes: file.length, sha256Hex, expiresAt: '2025-03-01T10:00:00.000Z' });
  await deps.objects.putBytes(deps.buckets.uploads, key, file, 'application/x-ndjson');
  await ingestUpload(deps, { bucket: deps.buckets.uploads, key });
  const { verdict } = await scoreSubmission(deps, { batchId });
  await settleBatch(deps, { batchId, verdict });
  await finalizeBatch(deps, { batchId });
  return deps;
}

/** The vendor disputes gold-0 of its batch by its alias; the Api function queues the review. */
async function disputeGold0(deps: FakeDeps, batchId: string, workforceId: string): Promise<string> {
  const alias = (await loadBatchKey(deps, batchId)).items.find((i) => i.caseId === 'gold-0')!.alias;
  const { disputeId } = await openDispute(deps, { workforceId, batchId, alias, reason: 'this film is abnormal, not normal', openedBy: `vendor:${workforceId}` });
  await completeDisputeRequest(deps, disputeId);
  return disputeId;
}

describe('Use case: rescoreBatch (an upheld dispute)', () => {
  it('flips a batch rejected on a wrong gold answer to accepted: pending cases take its labels, a case re-done elsewhere stays there', async () => {
    const deps = await rejectedBatch();
    expect((await deps.repo.getBatch(B))?.status).toBe('rejected');
    // Meanwhile case-0 went to another batch.
    await deps.repo.assignCases(P, ['case-0'], 'batch-elsewhere');

    const disputeId = await disputeGold0(deps, B, 'vendor-a');
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

  // Two upheld disputes of one gold item decided at the same moment both wrote gold version 2: the versions were counted from the ledger before either was recorded.
  it('numbers two upheld disputes of the same gold item decided at once 2 and 3, keeps both versions, and re-scores each batch once', async () => {
    const deps = await rejectedBatch();
    await rejectedBatch(deps, 'batch-0002', 'vendor-b', ['case-4', 'case-5', 'case-6', 'case-7']);
    const [first, second] = [await disputeGold0(deps, B, 'vendor-a'), await disputeGold0(deps, 'batch-0002', 'vendor-b')];
    const decide = (adjudicationId: string) =>
      decideAdjudication(deps, { adjudicationId, workforceId: 'radiology-team', expertId: 'dr-lead', decisions: [{ caseId: 'gold-0', label: 'abnormal' }] });

    // Both decisions and their resolutions run interleaved, step by step.
    await Promise.all([decide(first), decide(second)]);

    const ledger = await deps.repo.listLedger(P);
    const corrected = ledger.flatMap((e) => (e.type === 'gold.corrected' ? [[e.data.disputeId, e.data.fromVersion, e.data.toVersion]] : []));
    expect(corrected.map(([, from, to]) => [from, to]).sort()).toEqual([[1, 2], [2, 3]]);
    expect(new Set(corrected.map(([id]) => id))).toEqual(new Set([first, second]));
    const history = await loadGoldHistory(deps, P, 'chest-xray', 'gold-0');
    expect(history?.versions.map((v) => [v.version, v.answer])).toEqual([[1, 'normal'], [2, 'abnormal'], [3, 'abnormal']]);
    // Upheld twice: retired at version 3, out of the pool.
    expect(ledger.filter((e) => e.type === 'gold.retired').map((e) => e.data)).toEqual([{ goldCaseId: 'gold-0', disputeIds: expect.arrayContaining([first, second]), version: 3 }]);
    expect(history?.retired?.disputeIds.sort()).toEqual([first, second].sort());
    expect((await deps.objects.getJson<Record<string, unknown>>(deps.buckets.gold, goldSetObject(P, 'chest-xray')))?.['gold-0']).toBeUndefined();
    // The answer changed once (normal → abnormal): each batch re-scored once, both flipped to accepted.
    for (const batchId of [B, 'batch-0002']) {
      const rescored = ledger.filter((e) => e.type === 'batch.rescored' && e.subject === batchId);
      expect(rescored, batchId).toHaveLength(1);
      expect(rescored[0].data).toMatchObject({ before: { goldCorrect: 13, decision: 'rejected' }, after: { goldCorrect: 14, decision: 'accepted' }, flipped: true });
      expect((await deps.repo.getBatch(batchId))?.status, batchId).toBe('accepted');
      expect((await deps.objects.getJson<{ answers: Record<string, string> }>(deps.buckets.gold, `batch-answers/${batchId}.json`))?.answers['gold-0']).toBe('abnormal');
    }

    // Deciding both again completes nothing twice.
    await Promise.all([decide(first), decide(second)]);
    expect((await deps.repo.listLedger(P)).length).toBe(ledger.length);
  });
});
