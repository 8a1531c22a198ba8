import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { goldCountFor, internalBatchScore } from '../../../functions/domain/index.js';
import { loadBatchAnswers, loadBatchKey, storeBatchKey } from '../../../functions/use-cases/batch-key.js';
import { dispatchRound } from '../../../functions/use-cases/dispatch-round.js';
import { ingestUpload, uploadObject } from '../../../functions/use-cases/ingest-upload.js';
import { scoreSubmission } from '../../../functions/use-cases/score-submission.js';
import { PROGRAM, program } from '../../support/scenario.js';
import { T0, labelFile, makeFakeDeps, makeProtocol, makeWorkforce } from '../fakes.js';

describe('Every workforce measured: internal blind gold', () => {
  it('dispatches an internal team blind gold at acceptance.internalGoldRate, aliased like vendor gold, and remembers it for the reuse cap', async () => {
    const deps = await program({
      cases: 100,
      gold: 20,
      protocol: { batchSize: 50, routing: { rules: [], default: { pool: 'internal' } }, acceptance: { internalGoldRate: 0.1 } },
      workforces: [makeWorkforce('radiology', { kind: 'internal', capacityPerRound: 1000 })],
    });
    const r = await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm' });
    expect(r.batches.map((b) => b.workforceId)).toEqual(['radiology', 'radiology']);
    for (const b of r.batches) {
      const key = await loadBatchKey(deps, b.batchId);
      const gold = key.items.filter((i) => i.gold);
      expect(gold).toHaveLength(goldCountFor(50, 0.1));
      expect([...(await loadBatchAnswers(deps, b.batchId)).keys()].sort()).toEqual(gold.map((g) => g.caseId).sort());
      // Blinded as a vendor's: every item, gold or not, carries an opaque alias that does not name the case.
      for (const i of key.items) {
        expect(i.alias).toMatch(/^[a-z0-9]{8,}$/);
        expect(i.alias).not.toContain(i.caseId);
      }
    }
    const team = (await deps.repo.listWorkforces(PROGRAM)).find((w) => w.workforceId === 'radiology')!;
    expect(team.goldSeen).toHaveLength(2 * goldCountFor(50, 0.1));
    // The two batches drew distinct gold (the reuse cap applies to internal teams too).
    expect(new Set(team.goldSeen).size).toBe(team.goldSeen.length);
  });

  it('gives an internal team no gold when the protocol sets internalGoldRate 0', async () => {
    const deps = await program({
      cases: 50,
      gold: 10,
      protocol: { batchSize: 50, routing: { rules: [], default: { pool: 'internal' } }, acceptance: { internalGoldRate: 0 } },
      workforces: [makeWorkforce('radiology', { kind: 'internal', capacityPerRound: 1000 })],
    });
    const r = await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm' });
    expect(r.batches.map((b) => b.gold)).toEqual([0]);
  });

  // One wrong gold answer is not enough to reject by the default SPRT (issue 11): a vendor batch is held, an internal one accepted.
  it.each([
    ['vendor', 'inconclusive'],
    ['internal', 'accepted'],
  ] as const)('scores a %s batch whose gold answer is wrong against gold, %s', async (kind, verdict) => {
    const deps = makeFakeDeps();
    const protocol = makeProtocol({ thresholds: { goldAccuracy: 0.8, minGoldItems: 1 } });
    await deps.repo.putProtocolVersion(protocol);
    const batchId = 'batch-0001';
    const workforceId = kind === 'vendor' ? 'vendor-a' : 'radiology';
    const aliases = ['k3v9x2m7qa8d', 'p4w8h2n6tr5e', 'z7c3b9f2gu4s'];
    await deps.repo.createBatch({
      batchId,
      programId: 'prog-1',
      round: 1,
      protocol: 'chest-xray@1',
      workforceId,
      workforceKind: kind,
      itemCount: 3,
      goldCount: 1,
      slaHours: 48,
      status: 'awaiting-submission',
      createdAt: T0,
      taskToken: 'task-token',
    });
    await storeBatchKey(deps, {
      batchId,
      round: 1,
      protocol: 'chest-xray@1',
      workforceId,
      workforceKind: kind,
      slaHours: 48,
      createdAt: T0,
      items: aliases.map((alias, i) => ({ alias, caseId: `case-${i}`, gold: i === 2, imageKey: `images/case-${i}.dcm` })),
      answers: { 'case-2': 'normal' },
    });
    const file = labelFile(aliases, 'abnormal');
    const key = uploadObject(workforceId, batchId, 'up12345678');
    const sha256Hex = createHash('sha256').update(file).digest('hex');
    await deps.repo.putUploadSlot({ batchId, uploadId: 'up12345678', key, workforceId, sizeBytes: file.length, sha256Hex, expiresAt: '2025-03-01T10:00:00.000Z' });
    await deps.objects.putBytes(deps.buckets.uploads, key, file, 'application/x-ndjson');
    await ingestUpload(deps, { bucket: deps.buckets.uploads, key });

    const r = await scoreSubmission(deps, { batchId });
    expect(r).toMatchObject({ verdict, goldN: 1, accuracy: 0 });
    const scored = (await deps.repo.listLedger('prog-1')).find((e) => e.type === 'batch.scored')!;
    expect(scored.data).toMatchObject({ workforceId, goldN: 1, goldCorrect: 0, verdict });
    if (kind === 'internal') {
      expect(scored.reason).toMatch(/^internal team: measured, not paid per case — gold 0\/1 passed; never rejected by its gold \(a vendor batch would have been inconclusive\)/);
    }
  });

  it('keeps the measured figures of an internal score and only changes the verdict and the reason', () => {
    const score = { verdict: 'rejected', goldN: 6, goldCorrect: 4, accuracy: 4 / 6, notes: ['gold accuracy 0.667 (4/6) below threshold 0.85'] };
    expect(internalBatchScore(score)).toEqual({
      verdict: 'accepted',
      goldN: 6,
      goldCorrect: 4,
      accuracy: 4 / 6,
      notes: [
        'internal team: measured, not paid per case — gold 4/6 passed; never rejected by its gold (a vendor batch would have been rejected)',
        'gold accuracy 0.667 (4/6) below threshold 0.85',
      ],
    });
  });
});
