import { describe, expect, it } from 'vitest';
import { BatchScore } from '../../../functions/domain/index.js';
import { decideAdjudication } from '../../../functions/use-cases/adjudication.js';
import { batchKeyObject, goldSetObject, loadBatchKey, manifestObject } from '../../../functions/use-cases/batch-key.js';
import { completeDisputeRequest, completeDisputeRequests, getDispute, goldHistoryObject, listDisputes, listProgramDisputes, openDispute, resumeDisputes } from '../../../functions/use-cases/disputes.js';
import { record } from '../../../functions/use-cases/ledger.js';
import type { BatchRecord, Deps } from '../../../functions/use-cases/ports.js';
import { dispatchRound } from '../../../functions/use-cases/dispatch-round.js';
import { failLedgerOnce, program } from '../../support/scenario.js';
import { T0, makeFakeDeps, makeProtocol, makeWorkforce } from '../fakes.js';

const PROGRAM = 'prog-1';
const BATCH = 'prog-1-r1-vendor-b-1';
const ALIAS = { gold1: 'goldaaa1', gold2: 'goldaaa2', real: 'realaaa1' };

/** vendor-b's batch rejected on gold-1 (it said abnormal, the pool says normal); gold-2 passed. */
async function seed(status: BatchRecord['status'] = 'rejected') {
  const deps = makeFakeDeps();
  await deps.repo.putProtocolVersion(makeProtocol());
  await deps.repo.putWorkforce(PROGRAM, makeWorkforce('radiology-team', { kind: 'internal', qualifications: ['adjudicator'] }));
  await deps.repo.putWorkforce(PROGRAM, makeWorkforce('vendor-b'));
  await deps.repo.createBatch({
    batchId: BATCH, programId: PROGRAM, round: 1, protocol: 'chest-xray@1', workforceId: 'vendor-b', workforceKind: 'vendor',
    itemCount: 3, goldCount: 2, slaHours: 48, status, createdAt: T0,
  });
  await deps.repo.putScore(
    BatchScore.parse({
      batchId: BATCH, workforceId: 'vendor-b', protocol: 'chest-xray@1', goldN: 2, goldCorrect: 1, accuracy: 0.5, interval: null, kappa: null,
      verdict: 'rejected', notes: ['gold accuracy 0.500 (1/2) below threshold 0.8'],
      items: [
        { caseId: 'gold-1', correct: false, expected: 'normal', got: 'abnormal' },
        { caseId: 'gold-2', correct: true, expected: 'abnormal', got: 'abnormal' },
      ],
    }),
  );
  await deps.objects.putJson(deps.buckets.gold, batchKeyObject(BATCH), {
    batchId: BATCH, round: 1, protocol: 'chest-xray@1', workforceId: 'vendor-b', workforceKind: 'vendor', slaHours: 48, createdAt: T0,
    items: [
      { alias: ALIAS.gold1, caseId: 'gold-1', gold: true, imageKey: 'images/gold-1.dcm' },
      { alias: ALIAS.gold2, caseId: 'gold-2', gold: true, imageKey: 'images/gold-2.dcm' },
      { alias: ALIAS.real, caseId: 'case-1', gold: false, imageKey: 'images/case-1.dcm' },
    ],
  });
  // What the vendor received (images bucket): its aliases, no gold flag.
  await deps.objects.putJson(deps.buckets.images, manifestObject(BATCH), {
    items: Object.values(ALIAS).map((alias) => ({ alias, image: `images/batches/${BATCH}/${alias}.dcm` })),
  });
  await deps.objects.putJson(deps.buckets.gold, goldSetObject(PROGRAM, 'chest-xray'), {
    'gold-1': { caseId: 'gold-1', label: 'normal', expertId: 'dr-lee' },
    'gold-2': { caseId: 'gold-2', label: 'abnormal', expertId: 'dr-lee' },
  });
  await finalized(deps, BATCH, 'vendor-b');
  return deps;
}

/** FinalizeBatch's commit point: the rejection is final. */
const finalized = (deps: Deps, batchId: string, workforceId: string) =>
  record(deps, {
    eventId: `${batchId}:labels`, programId: PROGRAM, type: 'labels.recorded', actor: 'finalizer', protocol: 'chest-xray@1', subject: batchId,
    reason: 'labels kept as rejected; cases re-queued', data: { workforceId, labels: 1, submissionKey: `uploads/${workforceId}/${batchId}/u.jsonl`, sha256: 'a'.repeat(64), caseIds: [] },
  });

const open = (deps: Awaited<ReturnType<typeof seed>>, extra: { alias?: string; workforceId?: string } = {}) =>
  openDispute(deps, { workforceId: 'vendor-b', batchId: BATCH, reason: 'the film shows a clear opacity', openedBy: 'vendor:vendor-b', ...extra });
/** Opened by the vendor (WorkApi), then queued for the expert (the Api function). */
const openQueued = async (deps: Awaited<ReturnType<typeof seed>>, extra: { alias?: string } = {}) => {
  const d = await open(deps, extra);
  await completeDisputeRequests(deps);
  return getDispute(deps, { disputeId: d.disputeId });
};
const decide = (deps: Awaited<ReturnType<typeof seed>>, id: string, label: string, note?: string) =>
  decideAdjudication(deps, { adjudicationId: id, workforceId: 'radiology-team', expertId: 'dr-lead', decisions: [{ caseId: 'gold-1', label, ...(note ? { note } : {}) }] });

describe('Use case: openDispute', () => {
  it('refuses what cannot be disputed, each with its own answer', async () => {
    for (const [status, message] of [
      ['inconclusive', /inconclusive: never penalised/],
      ['accepted', /accepted: nothing to dispute/],
    ] as const) {
      await expect(open(await seed(status))).rejects.toThrow(message);
    }
    // Rejected but not finalized yet: its cases are not back in the queue.
    const closing = await seed();
    await closing.repo.createBatch({ ...(await closing.repo.getBatch(BATCH))!, batchId: 'closing-1' });
    await closing.objects.putJson(closing.buckets.gold, batchKeyObject('closing-1'), { ...(await closing.objects.getJson<object>(closing.buckets.gold, batchKeyObject(BATCH))), batchId: 'closing-1' });
    await expect(openDispute(closing, { workforceId: 'vendor-b', batchId: 'closing-1', reason: 'the film shows a clear opacity', openedBy: 'v' })).rejects.toThrow(
      'batch closing-1 is still being closed; dispute it once its rejection is final',
    );
    const deps = await seed();
    // Another vendor's batch and an alias the batch does not hold answer like missing ones.
    await expect(open(deps, { workforceId: 'vendor-a' })).rejects.toMatchObject({ name: 'NotFoundError', message: `batch ${BATCH} not found` });
    await expect(open(deps, { alias: 'zzzzzzzz' })).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(openDispute(deps, { workforceId: 'vendor-b', batchId: BATCH, reason: 'short', openedBy: 'v' })).rejects.toThrow('reason: say why, in at least 10 characters');
    expect((await deps.repo.listLedger(PROGRAM)).map((e) => e.type)).toEqual(['labels.recorded']);
  });

  it('records what the vendor said and answers the same for any alias of the batch; the Api function queues the review of the failed gold item once', async () => {
    const deps = await seed();
    const d = await open(deps, { alias: ALIAS.real });
    expect(d).toEqual({ disputeId: `${BATCH}-dispute-1`, batchId: BATCH, alias: ALIAS.real, reason: 'the film shows a clear opacity', status: 'pending-review', openedAt: T0 });
    // One pending request per (batch, alias); a gold alias gets the same answer as any other.
    await expect(open(deps, { alias: ALIAS.real })).rejects.toMatchObject({ name: 'ConflictError' });
    const g = await open(deps, { alias: ALIAS.gold1 });
    expect(g).toEqual({ ...d, disputeId: `${BATCH}-dispute-2`, alias: ALIAS.gold1 });
    expect((await deps.repo.listLedger(PROGRAM)).map((e) => e.type)).toEqual(['labels.recorded']);
    expect(await deps.repo.getAdjudication(d.disputeId)).toBeUndefined();

    // A crash between the claims and the events, then two completions: recorded once.
    failLedgerOnce(deps, 'adjudication.requested');
    await expect(completeDisputeRequest(deps, d.disputeId)).rejects.toThrow('ProvisionedThroughputExceededException');
    await completeDisputeRequests(deps);
    await completeDisputeRequests(deps);
    expect(await getDispute(deps, { disputeId: d.disputeId, workforceId: 'vendor-b' })).toMatchObject({ status: 'open', deadline: '2025-03-04T09:00:00.000Z' });
    const a = await deps.repo.getAdjudication(d.disputeId);
    expect(a?.needs.map((n) => [n.caseId, n.kind, n.labels])).toEqual([['gold-1', 'gold-dispute', { 'vendor-b': 'abnormal', 'gold@v1': 'normal' }]]);
    // The second one found gold-1 already under dispute: declined with the reason, nothing recorded for it.
    expect(await getDispute(deps, { disputeId: g.disputeId, workforceId: 'vendor-b' })).toMatchObject({ status: 'declined', outcome: `declined: item ${ALIAS.gold1} is already under dispute or was decided` });
    expect((await deps.repo.listLedger(PROGRAM)).map((e) => e.type)).toEqual(['labels.recorded', 'dispute.opened', 'adjudication.requested']);
    // The pending claim was released: the vendor may ask again (declined again while the review is open).
    expect(await open(deps, { alias: ALIAS.real })).toMatchObject({ disputeId: `${BATCH}-dispute-3`, status: 'pending-review' });
  });
});

describe('Use case: resolveDispute', () => {
  it('records why a refused dispute was refused and changes no gold and no batch', async () => {
    const deps = await seed();
    const { disputeId } = await openQueued(deps);
    await decide(deps, disputeId, 'normal', 'the opacity is a nipple shadow');
    const refused = (await deps.repo.listLedger(PROGRAM)).find((e) => e.type === 'dispute.refused');
    expect(refused?.reason).toBe('gold item gold-1: the expert confirmed the gold answer (the opacity is a nipple shadow)');
    expect((await deps.repo.getBatch(BATCH))?.status).toBe('rejected');
    expect(await deps.objects.getJson(deps.buckets.gold, goldHistoryObject(PROGRAM, 'chest-xray', 'gold-1'))).toBeUndefined();
    const view = await getDispute(deps, { disputeId, workforceId: 'vendor-b' });
    expect(view).toMatchObject({ status: 'refused', outcome: 'refused: the expert confirmed the gold answer (the opacity is a nipple shadow)' });
    expect(JSON.stringify(view)).not.toContain('gold-1');
    await expect(getDispute(deps, { disputeId, workforceId: 'vendor-a' })).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('completes an upheld dispute once when re-run after a crash just after its upheld event', async () => {
    const deps = await seed();
    const { disputeId } = await openQueued(deps);
    failLedgerOnce(deps, 'gold.corrected');
    await expect(decide(deps, disputeId, 'abnormal')).rejects.toThrow('ProvisionedThroughputExceededException');
    expect((await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'dispute.upheld')).toHaveLength(1);
    await resumeDisputes(deps, { programId: PROGRAM });
    await resumeDisputes(deps, { programId: PROGRAM });
    const ledger = await deps.repo.listLedger(PROGRAM);
    expect(ledger.filter((e) => e.type === 'gold.corrected').map((e) => e.data)).toEqual([
      { goldCaseId: 'gold-1', fromVersion: 1, toVersion: 2, answerSha256: expect.stringMatching(/^[0-9a-f]{64}$/), disputeId },
    ]);
    const history = await deps.objects.getJson<{ versions: { version: number; answer: string }[] }>(deps.buckets.gold, goldHistoryObject(PROGRAM, 'chest-xray', 'gold-1'));
    expect(history?.versions.map((v) => [v.version, v.answer])).toEqual([
      [1, 'normal'],
      [2, 'abnormal'],
    ]);
    const pool = await deps.objects.getJson<Record<string, { label: string; version?: number }>>(deps.buckets.gold, goldSetObject(PROGRAM, 'chest-xray'));
    expect(pool?.['gold-1']).toMatchObject({ label: 'abnormal', version: 2 });
  });

  it('expires unanswered past its deadline like an adjudication: a late decision is refused and the vendor may dispute again', async () => {
    const deps = await seed();
    const { disputeId } = await openQueued(deps);
    let now = Date.parse(T0) + 73 * 3600_000;
    deps.clock = { now: () => new Date(now) };
    await expect(decide(deps, disputeId, 'abnormal')).rejects.toMatchObject({ name: 'ConflictError' });
    expect((await listDisputes(deps, { workforceId: 'vendor-b' })).items.map((d) => [d.disputeId, d.status])).toEqual([[disputeId, 'expired']]);
    // The vendor's read runs in WorkApi, which may not delete the claims an expiry releases: it only shows the expiry;
    // the Api function's read (here the PM's list) records it, once.
    expect((await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'dispute.expired')).toHaveLength(0);
    await listProgramDisputes(deps, { programId: PROGRAM });
    await listProgramDisputes(deps, { programId: PROGRAM });
    expect((await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'dispute.expired')).toHaveLength(1);
    now += 1000;
    const again = await openQueued(deps);
    expect(again).toMatchObject({ disputeId: `${BATCH}-dispute-2`, status: 'open' });
  });
});

describe('Use case: resolveDispute retires a gold item', () => {
  /** A rejected batch of `workforceId` that failed gold-0000 (no round: nothing to re-score). */
  async function rejectedOn(deps: Awaited<ReturnType<typeof program>>, batchId: string, workforceId: string) {
    await deps.repo.createBatch({
      batchId, programId: PROGRAM, round: 1, protocol: 'chest-xray@1', workforceId, workforceKind: 'vendor',
      itemCount: 1, goldCount: 1, slaHours: 48, status: 'rejected', createdAt: T0,
    });
    await deps.repo.putScore(
      BatchScore.parse({
        batchId, workforceId, protocol: 'chest-xray@1', goldN: 1, goldCorrect: 0, accuracy: 0, interval: null, kappa: null, verdict: 'rejected', notes: [],
        items: [{ caseId: 'gold-0000', correct: false, expected: 'normal', got: 'abnormal' }],
      }),
    );
    await deps.objects.putJson(deps.buckets.gold, batchKeyObject(batchId), {
      batchId, round: 1, protocol: 'chest-xray@1', workforceId, workforceKind: 'vendor', slaHours: 48, createdAt: T0,
      items: [{ alias: 'goldaaa1', caseId: 'gold-0000', gold: true, imageKey: 'images/gold-0000.dcm' }],
    });
    await finalized(deps, batchId, workforceId);
    const { disputeId } = await openDispute(deps, { workforceId, batchId, reason: 'the gold answer is wrong here', openedBy: `vendor:${workforceId}` });
    await completeDisputeRequest(deps, disputeId);
    return disputeId;
  }

  it('after its second upheld dispute: no later batch draws it, though its case stays in the gold pool flag', async () => {
    const deps = await program({
      cases: 40,
      gold: 3,
      protocol: { goldRate: 0.3 },
      workforces: [makeWorkforce('vendor-a'), makeWorkforce('vendor-b'), makeWorkforce('radiology-team', { kind: 'internal', qualifications: ['adjudicator'] })],
    });
    const expert = { workforceId: 'radiology-team', expertId: 'dr-lead' };
    const first = await rejectedOn(deps, 'old-b-1', 'vendor-b');
    await decideAdjudication(deps, { adjudicationId: first, ...expert, decisions: [{ caseId: 'gold-0000', label: 'abnormal' }] });
    expect((await deps.repo.listLedger(PROGRAM)).some((e) => e.type === 'gold.retired')).toBe(false);
    const second = await rejectedOn(deps, 'old-a-1', 'vendor-a');
    await decideAdjudication(deps, { adjudicationId: second, ...expert, decisions: [{ caseId: 'gold-0000', label: 'normal' }] });
    const retired = (await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'gold.retired');
    expect(retired.map((e) => e.data)).toEqual([{ goldCaseId: 'gold-0000', disputeIds: [first, second], version: 3 }]);

    // Two gold items left, and each vendor batch wants more: every item left is drawn, the retired one never.
    await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm:test' });
    const dispatched = (await deps.repo.listRoundBatches(PROGRAM, 1)).filter((b) => !b.batchId.startsWith('old-'));
    expect(dispatched.length).toBeGreaterThan(0);
    const keys = await Promise.all(dispatched.map((b) => loadBatchKey(deps, b.batchId)));
    const drawn = new Set(keys.flatMap((k) => k.items.filter((i) => i.gold).map((i) => i.caseId)));
    expect([...drawn].sort()).toEqual(['gold-0001', 'gold-0002']);
  });
});
