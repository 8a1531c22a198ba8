/**
 * Regression (second review; fixed): adjudication paths that lose an expert's decision.
 *
 * 1. applyAdjudication (detection / segmentation) finds the label the expert
 *    chose among the case's labels that are still `accepted`. It writes the
 *    superseded copies first and the adjudicated label last, with putLabels
 *    (BatchWrite: chunks of 25, not atomic). A failure after the supersedes land
 *    but before the adjudicated label does (throttling, UnprocessedItems,
 *    timeout) is retried by Step Functions — and the retry no longer finds the
 *    chosen label (it is `superseded` now), skips the case, and returns
 *    applied: 0. The case ends with no accepted label at all.
 *
 * 2. ExpireAdjudication appends `adjudication.expired` before the conditional
 *    open → expired, and ignores a lost race: the decision stored in the window
 *    between the Step Functions timeout and the Lambda-computed deadline (set a
 *    little later, when RequestAdjudication runs) is answered `decided`, its
 *    callback is stale, and the execution goes ExpireAdjudication → Rebalance:
 *    the decision is never applied and the ledger says both decided and expired.
 */
import { describe, expect, it, vi } from 'vitest';
import type { StoredLabel } from '../../functions/domain/index.js';
import { applyAdjudication, decideAdjudication, expireAdjudication } from '../../functions/use-cases/adjudication.js';
import { makeFakeDeps, makeProtocol, makeWorkforce, T0 } from '../unit/fakes.js';

const PROGRAM = 'prog-1';
const detectionProtocol = () =>
  makeProtocol({
    task: { type: 'detection', finding: 'nodule', criticalDiameterMm: 4, minSensitivity: 0.5, maxFalsePositivesPerItem: 2 },
  } as never);

async function seed(protocol = detectionProtocol()) {
  const deps = makeFakeDeps();
  await deps.repo.putProtocolVersion(protocol);
  await deps.repo.putWorkforce(PROGRAM, makeWorkforce('radiology-team', { kind: 'internal', qualifications: ['adjudicator'] }));
  await deps.repo.createBatch({
    batchId: 'b-b', programId: PROGRAM, round: 1, protocol: 'chest-xray@1', workforceId: 'vendor-b', workforceKind: 'vendor',
    itemCount: 3, goldCount: 0, slaHours: 48, status: 'accepted', createdAt: T0,
  });
  const label = (batchId: string, workforceId: string, x: number): StoredLabel => ({
    caseId: 'case-7', batchId, label: '1 finding(s)', findings: [{ x, y: 0, z: 0, probability: 0.9 }], workforceId, annotatorId: 'r1',
    protocol: 'chest-xray@1', submissionKey: `uploads/${workforceId}/${batchId}/x.jsonl`, submissionSha256: 'a'.repeat(64), gold: false,
    status: 'accepted', createdAt: T0,
  });
  await deps.repo.putLabels([label('b-a', 'vendor-a', 0), label('b-b', 'vendor-b', 40)]);
  await deps.repo.claimAdjudication('chest-xray@1', 'case-7', 'b-b-adj');
  await deps.repo.createAdjudication({
    adjudicationId: 'b-b-adj', programId: PROGRAM, batchId: 'b-b', protocol: 'chest-xray@1', status: 'open', createdAt: T0,
    needs: [{ caseId: 'case-7', kind: 'overlap-disagreement', reason: 'unpaired', labels: { 'vendor-a/r1': '1 finding(s)', 'vendor-b/r1': '1 finding(s)' } }],
  });
  return deps;
}

describe('second review: adjudication', () => {
  it('applyAdjudication retried after a partial label write still leaves the chosen label accepted', async () => {
    const deps = await seed();
    await deps.repo.setAdjudicationToken('b-b-adj', 'tok', '2025-03-04T09:00:00.000Z');
    await decideAdjudication(deps, {
      adjudicationId: 'b-b-adj', workforceId: 'radiology-team', expertId: 'dr-lead', decisions: [{ caseId: 'case-7', label: 'vendor-a/r1' }],
    });
    // The first attempt: the superseded copies land, the adjudicated label does not.
    const put = deps.repo.putLabels.bind(deps.repo);
    const spy = vi.spyOn(deps.repo, 'putLabels').mockImplementationOnce(async (labels) => {
      await put(labels.filter((l) => l.status === 'superseded'));
      throw new Error('BatchWrite left 1 items unprocessed after retries');
    });
    await expect(applyAdjudication(deps, { batchId: 'b-b', adjudicationId: 'b-b-adj' })).rejects.toThrow();
    spy.mockRestore();
    await applyAdjudication(deps, { batchId: 'b-b', adjudicationId: 'b-b-adj' }); // Step Functions retry

    const accepted = (await deps.repo.listCaseLabels('case-7')).filter((l) => l.status === 'accepted');
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatchObject({ adjudicationId: 'b-b-adj', findings: [{ x: 0, y: 0, z: 0, probability: 0.9 }] });
  });

  it('a decision stored before ExpireAdjudication runs is not silently dropped (ledger says decided and expired)', async () => {
    const deps = await seed(makeProtocol());
    // Deadline computed by RequestAdjudication (a little after the Step Functions timer started): not yet passed.
    await deps.repo.setAdjudicationToken('b-b-adj', 'tok', '2025-03-01T09:00:02.000Z');
    // Step Functions already timed the callback out: SendTaskSuccess is refused.
    vi.spyOn(deps.callbacks, 'success').mockResolvedValue('stale' as never);
    const r = await decideAdjudication(deps, {
      adjudicationId: 'b-b-adj', workforceId: 'radiology-team', expertId: 'dr-lead', decisions: [{ caseId: 'case-7', label: 'abnormal' }],
    });
    expect(r.status).toBe('decided');
    // The execution's Catch(States.Timeout) → ExpireAdjudication → Rebalance (ApplyAdjudication never runs).
    const out = await expireAdjudication(deps, { batchId: 'b-b', adjudicationId: 'b-b-adj' });
    const types = (await deps.repo.listLedger(PROGRAM)).filter((e) => e.subject === 'b-b-adj').map((e) => e.type);
    const applied = (await deps.repo.listCaseLabels('case-7')).some((l) => l.adjudicationId === 'b-b-adj');
    // Either the expiry reports the decision (so the workflow can apply it) or the ledger does not claim both outcomes.
    expect(out.status === 'decided' || applied || !(types.includes('adjudication.decided') && types.includes('adjudication.expired'))).toBe(true);
  });
});
