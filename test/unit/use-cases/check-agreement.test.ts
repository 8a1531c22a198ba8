import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StoredLabel } from '../../../functions/domain/index.js';
import { checkAgreement } from '../../../functions/use-cases/adjudication.js';
import { storeBatchKey } from '../../../functions/use-cases/batch-key.js';
import { IntegrityError } from '../../../functions/use-cases/errors.js';
import { type FakeDeps, makeFakeDeps, makeLedgerEvent, makeProtocol, T0 } from '../fakes.js';
import { sampleData } from '../ledger-samples.js';

const PROTOCOL = 'liver-seg@1';
const CASE = 'case-7';
const DIMS = [4, 4, 1];

/** One segmentation line: label 1 on the voxel run [start, start + length). */
const maskLine = (alias: string, start: number, length: number) =>
  `${JSON.stringify({
    alias,
    annotator: 'reader-1',
    mask: { format: 'goldline-rle3d/1', dims: DIMS, spacing: [1, 1, 1], labels: [{ label: 1, runs: [start, length] }] },
  })}\n`;

/**
 * Two accepted batches label overlap case-7 with the same mask; each label points
 * at line 1 of its uploaded file and the version that was ingested.
 */
async function overlapPair(): Promise<{ deps: FakeDeps; labels: StoredLabel[] }> {
  const deps = makeFakeDeps();
  await deps.repo.putProtocolVersion(
    makeProtocol({
      protocolId: 'liver-seg',
      task: { type: 'segmentation', labels: { '1': 'liver' }, minDice: 0.8, maxHd95Mm: 5 },
      overlapRate: 0.5,
    }),
  );
  const labels: StoredLabel[] = [];
  for (const [batchId, workforceId, alias] of [
    ['batch-a', 'vendor-a', 'aaaaaaaaaaaa'],
    ['batch-b', 'vendor-b', 'bbbbbbbbbbbb'],
  ] as const) {
    await deps.repo.createBatch({
      batchId,
      programId: 'prog-1',
      round: 1,
      protocol: PROTOCOL,
      workforceId,
      workforceKind: 'vendor',
      itemCount: 1,
      goldCount: 0,
      slaHours: 48,
      status: 'accepted',
      createdAt: T0,
    });
    await storeBatchKey(deps, {
      batchId,
      round: 1,
      protocol: PROTOCOL,
      workforceId,
      workforceKind: 'vendor',
      slaHours: 48,
      createdAt: T0,
      items: [{ alias, caseId: CASE, gold: false, overlap: true, overlapSecondary: workforceId === 'vendor-b', imageKey: 'images/case-7.nii' }],
      answers: {},
    });
    const key = `uploads/${workforceId}/${batchId}/up${workforceId.slice(-1).repeat(10)}.jsonl`;
    const file = new TextEncoder().encode(maskLine(alias, 0, 8));
    await deps.objects.putBytes(deps.buckets.uploads, key, file, 'application/x-ndjson');
    const { versionId } = (await deps.objects.getObject(deps.buckets.uploads, key))!;
    const label: StoredLabel = {
      caseId: CASE,
      batchId,
      label: 'mask',
      maskRef: { line: 1, format: 'goldline-rle3d/1', voxels: 8 },
      workforceId,
      annotatorId: 'reader-1',
      protocol: PROTOCOL,
      submissionKey: key,
      submissionSha256: createHash('sha256').update(file).digest('hex'),
      ...(versionId ? { submissionVersionId: versionId } : {}),
      gold: false,
      status: 'accepted',
      createdAt: T0,
    };
    labels.push(label);
  }
  await deps.repo.putLabels(labels);
  return { deps, labels };
}

describe('Function: checkAgreement', () => {
  // Issue 7 finding 6: later steps read the latest object, so a file written to the key after ingest changed what CheckAgreement compared.
  it('compares overlap masks from the ingested versions of the uploads, not from later writes to the keys', async () => {
    // Arrange: vendor-b's key later holds a disjoint mask (a re-upload that S3's write-once rule would refuse)
    const { deps, labels } = await overlapPair();
    await deps.objects.putBytes(deps.buckets.uploads, labels[1].submissionKey, new TextEncoder().encode(maskLine('bbbbbbbbbbbb', 8, 8)), 'application/x-ndjson');

    // Act
    const r = await checkAgreement(deps, { batchId: 'batch-a' });

    // Assert: the ingested masks are identical, so no adjudication is needed
    expect(r.needed).toBe(0);
  });

  it('refuses a mask file changed since ingest when no version was recorded (the SHA-256 is re-checked)', async () => {
    // Arrange: as on the embedded stack, no version ids
    const { deps, labels } = await overlapPair();
    const unversioned = labels.map(({ submissionVersionId: _, ...l }) => l);
    await deps.repo.putLabels(unversioned);
    await deps.objects.putBytes(deps.buckets.uploads, labels[1].submissionKey, new TextEncoder().encode(maskLine('bbbbbbbbbbbb', 8, 8)), 'application/x-ndjson');

    // Act
    const e = await checkAgreement(deps, { batchId: 'batch-a' }).catch((x: unknown) => x);

    // Assert
    expect(e).toBeInstanceOf(IntegrityError);
    expect((e as Error).message).toBe(`submission object ${labels[1].submissionKey} changed since ingest`);
  });
});

describe('Function: checkAgreement (held batches accepted with a later decision)', () => {
  /** vendor-b's label of case-7 a disjoint mask; batch-c of vendor-a (no overlap item) scored, its decision pooling batch-a. */
  async function carriedDisagreement(settled: boolean): Promise<FakeDeps> {
    const { deps, labels } = await overlapPair();
    const file = new TextEncoder().encode(maskLine('bbbbbbbbbbbb', 8, 8));
    const key = 'uploads/vendor-b/batch-b/upbbbbbbbbb2.jsonl';
    await deps.objects.putBytes(deps.buckets.uploads, key, file, 'application/x-ndjson');
    const { versionId } = (await deps.objects.getObject(deps.buckets.uploads, key))!;
    const { submissionVersionId: _, ...b } = labels[1];
    await deps.repo.putLabels([{ ...b, submissionKey: key, submissionSha256: createHash('sha256').update(file).digest('hex'), ...(versionId ? { submissionVersionId: versionId } : {}) }]);
    await deps.repo.createBatch({
      batchId: 'batch-c', programId: 'prog-1', round: 2, protocol: PROTOCOL, workforceId: 'vendor-a', workforceKind: 'vendor',
      itemCount: 1, goldCount: 0, slaHours: 48, status: 'accepted', createdAt: T0,
    });
    await storeBatchKey(deps, {
      batchId: 'batch-c', round: 2, protocol: PROTOCOL, workforceId: 'vendor-a', workforceKind: 'vendor', slaHours: 48, createdAt: T0,
      items: [{ alias: 'cccccccccccc', caseId: 'case-8', gold: false, imageKey: 'images/case-8.nii' }], answers: {},
    });
    const decision = { decision: 'accept' as const, rule: 'sprt' as const, evidence: { n: 18, wrong: 0, batches: 2, c: 0, llr: -3.1, bounds: { accept: -2.25, reject: 2.89 } }, carried: ['batch-a'], reason: 'accepted' };
    await deps.repo.putScore({
      batchId: 'batch-c', workforceId: 'vendor-a', protocol: PROTOCOL, taskType: 'segmentation', goldN: 12, goldCorrect: 12,
      accuracy: 1, interval: null, kappa: null, summary: {}, verdict: 'accepted', decision, notes: [], items: [],
    });
    if (settled) {
      await deps.repo.appendLedger(
        makeLedgerEvent({ eventId: 'batch-a:carried', type: 'batch.accepted', subject: 'batch-a', protocol: PROTOCOL, data: sampleData('batch.accepted', { decision, decidedWith: 'batch-c' }) }),
      );
    }
    return deps;
  }

  // Issue 11: a held batch is finalized inside the deciding batch's FinalizeBatch and has no CheckAgreement of its own.
  it("compares the overlap items of a held batch the decision accepted, in the deciding batch's check", async () => {
    const deps = await carriedDisagreement(true);

    const r = await checkAgreement(deps, { batchId: 'batch-c' });

    expect(r.needed).toBe(1);
    expect((await deps.repo.getAdjudication(r.adjudicationId))?.needs.map((n) => [n.caseId, n.kind])).toEqual([[CASE, 'overlap-disagreement']]);
  });

  it('leaves alone a batch the decision pooled but did not settle (another decision claimed it)', async () => {
    const deps = await carriedDisagreement(false);

    expect((await checkAgreement(deps, { batchId: 'batch-c' })).needed).toBe(0);
  });
});

describe('Function: checkAgreement (critical misses)', () => {
  // Issue 10: the check matched the words 'missed a ' of a message written by gold scoring; rewording it would have turned the check off.
  it('opens a critical-miss review from the scorer\'s structured misses, whatever the words of the reasons', async () => {
    // Arrange
    const deps = makeFakeDeps();
    await deps.repo.putProtocolVersion(
      makeProtocol({ task: { type: 'detection', finding: 'nodule', criticalDiameterMm: 4, minSensitivity: 0.5, maxFalsePositivesPerItem: 2 } } as never),
    );
    await deps.repo.createBatch({
      batchId: 'b-d', programId: 'prog-1', round: 1, protocol: 'chest-xray@1', workforceId: 'vendor-a', workforceKind: 'vendor',
      itemCount: 2, goldCount: 2, slaHours: 48, status: 'rejected', createdAt: T0,
    });
    await deps.repo.putScore({
      batchId: 'b-d', workforceId: 'vendor-a', protocol: 'chest-xray@1', taskType: 'detection', goldN: 2, goldCorrect: 0,
      accuracy: 0, interval: { lower: 0, upper: 0.66 }, kappa: null, summary: {}, verdict: 'rejected', notes: [],
      items: [
        // Reworded reasons, structured miss: reviewed.
        { caseId: 'g-1', correct: false, metrics: { tp: 0, fn: 1 }, reasons: ['Knoten von 9 mm übersehen'],
          criticalMisses: [{ finding: 'nodule', diameterMm: 9, criticalDiameterMm: 4 }] },
        // The old words without a structured miss: not a critical miss.
        { caseId: 'g-2', correct: false, metrics: { tp: 0, fn: 1 }, reasons: ['missed a 9.0 mm nodule (critical size 4 mm)'] },
      ],
    });

    // Act
    const r = await checkAgreement(deps, { batchId: 'b-d' });

    // Assert
    expect(r.needed).toBe(1);
    const a = await deps.repo.getAdjudication(r.adjudicationId);
    expect(a?.needs.map((n) => [n.caseId, n.kind])).toEqual([['g-1', 'critical-miss']]);
    expect(a?.needs[0].reason).toContain('missed a 9.0 mm nodule (critical size 4 mm)');
  });
});
