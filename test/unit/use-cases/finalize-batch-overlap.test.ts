import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { projectProgram } from '../../../functions/domain/projections.js';
import { loadBatchKey } from '../../../functions/use-cases/batch-key.js';
import { recordFailure } from '../../../functions/use-cases/close-batch.js';
import { dispatchRound } from '../../../functions/use-cases/dispatch-round.js';
import { finalizeBatch } from '../../../functions/use-cases/finalize-batch.js';
import { ingestUpload, uploadObject } from '../../../functions/use-cases/ingest-upload.js';
import { PROGRAM, program } from '../../support/scenario.js';
import type { FakeDeps } from '../fakes.js';

/** Uploads an all-'normal' answer file for a dispatched batch and ingests it: the batch is then submitted. */
async function submitAll(deps: FakeDeps, batchId: string, workforceId: string): Promise<void> {
  await deps.repo.transitionBatch(batchId, ['planned'], 'awaiting-submission');
  const key = await loadBatchKey(deps, batchId);
  const file = new TextEncoder().encode(`${key.items.map((i) => JSON.stringify({ alias: i.alias, label: 'normal', annotator: 'reader-07' })).join('\n')}\n`);
  const object = uploadObject(workforceId, batchId, 'up12345678');
  const sha256Hex = createHash('sha256').update(file).digest('hex');
  await deps.repo.putUploadSlot({ batchId, uploadId: 'up12345678', key: object, workforceId, sizeBytes: file.length, sha256Hex, expiresAt: '2025-03-01T10:00:00.000Z' });
  await deps.objects.putBytes(deps.buckets.uploads, object, file, 'application/x-ndjson');
  await ingestUpload(deps, { bucket: deps.buckets.uploads, key: object });
}

/** Round 1 with overlap copies: the first pair's primary batch rejected, its secondary's batch held inconclusive. */
async function rejectedBesideHeld() {
  const deps = await program({ cases: 40, gold: 10, protocol: { overlapRate: 0.25, overlapWith: 'vendor' } });
  const r1 = await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm' });
  const pair = r1.overlaps[0];
  const batchOf = async (workforceId: string) => {
    for (const b of r1.batches.filter((x) => x.workforceId === workforceId)) {
      if ((await loadBatchKey(deps, b.batchId)).items.some((i) => i.caseId === pair.caseId)) return b.batchId;
    }
    throw new Error(`no batch of ${workforceId} holds ${pair.caseId}`);
  };
  const rejected = await batchOf(pair.primary);
  const held = await batchOf(pair.secondary);
  await submitAll(deps, rejected, pair.primary);
  await submitAll(deps, held, pair.secondary);
  await deps.repo.transitionBatch(held, ['submitted'], 'inconclusive');
  await deps.repo.transitionBatch(rejected, ['submitted'], 'rejected');
  return { deps, pair, rejected, held };
}

async function caseOf(deps: FakeDeps, caseId: string) {
  const stored = (await deps.repo.listCases(PROGRAM)).find((c) => c.caseId === caseId)!;
  const rebuilt = projectProgram(await deps.repo.listLedger(PROGRAM)).cases[caseId];
  return { stored: { state: stored.state, batchId: stored.batchId, excluded: stored.excludedWorkforces }, rebuilt: { state: rebuilt.state, batchId: rebuilt.batchId, excluded: rebuilt.excludedWorkforces } };
}

describe('Use case: finalizeBatch (rejected batch beside an overlap copy)', () => {
  // Found by the demo (600 cases, 2 rounds, seed 5, overlap 0.5): a rejected batch re-queued an overlap case whose second copy sat in a held batch, the same vendor got it again next round, and its held batch's later acceptance labelled it twice ("decided twice: case-00190").
  it('hands an overlap case to the held batch holding its other copy instead of re-queueing it, so that workforce labels it once', async () => {
    const { deps, pair, rejected, held } = await rejectedBesideHeld();
    await finalizeBatch(deps, { batchId: rejected });

    const expected = { state: 'assigned', batchId: held, excluded: [pair.primary] };
    expect(await caseOf(deps, pair.caseId)).toEqual({ stored: expected, rebuilt: expected });
    const requeued = await deps.repo.getLedgerEvent(PROGRAM, `${rejected}:requeued`);
    expect(requeued?.type === 'cases.requeued' && requeued.data.handedOver).toContainEqual({ caseId: pair.caseId, batchId: held });

    // Not planned again while its other copy is undecided.
    const r2 = await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 2, actor: 'pm' });
    for (const b of r2.batches) expect((await loadBatchKey(deps, b.batchId)).items.map((i) => i.caseId)).not.toContain(pair.caseId);

    // The held batch's acceptance labels it, once.
    await deps.repo.transitionBatch(held, ['inconclusive'], 'accepted');
    await finalizeBatch(deps, { batchId: held });
    const accepted = (await deps.repo.listCaseLabels(pair.caseId)).filter((l) => l.status === 'accepted');
    expect(accepted.map((l) => l.batchId)).toEqual([held]);
    expect((await caseOf(deps, pair.caseId)).stored).toEqual({ state: 'labelled', batchId: held, excluded: [pair.primary] });
  });

  it('hands it over the same way when RecordFailure re-queues the rejected batch, and a rejection of the held batch then re-queues it away from both', async () => {
    const { deps, pair, rejected, held } = await rejectedBesideHeld();
    // (The stored state only: this ledger has no batch.rejected, so its batch.failed reads as an open batch's.)
    await recordFailure(deps, { batchId: rejected, error: 'States.Timeout', cause: 'FinalizeBatch timed out' });
    expect((await caseOf(deps, pair.caseId)).stored).toEqual({ state: 'assigned', batchId: held, excluded: [pair.primary] });

    await deps.repo.transitionBatch(held, ['inconclusive'], 'rejected');
    await finalizeBatch(deps, { batchId: held });
    expect((await caseOf(deps, pair.caseId)).stored).toEqual({ state: 'pending', batchId: held, excluded: [pair.primary, pair.secondary].sort() });
  });
});
