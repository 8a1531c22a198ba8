/**
 * Regression (found in review; fixed): AwaitAdjudication's Catch sends States.Timeout straight to Rebalance, but the
 * adjudication record stays `open` (and keeps its per-case claim). An expert
 * who decides after the deadline gets `decided`, the ledger records
 * adjudication.decided with the new label, SendTaskSuccess is stale, and
 * nothing ever applies the decision: the ledger says the expert decided, the
 * stored accepted labels still say the vendors' disagreeing labels.
 */
import { describe, expect, it, vi } from 'vitest';
import { decideAdjudication } from '../../functions/use-cases/adjudication.js';
import { makeFakeDeps, makeProtocol, makeWorkforce, T0 } from '../unit/fakes.js';

const PROGRAM = 'prog-1';

describe('review: an adjudication decided after its callback timed out', () => {
  it('either refuses the late decision or applies it', async () => {
    const deps = makeFakeDeps();
    await deps.repo.putProtocolVersion(makeProtocol());
    await deps.repo.putWorkforce(PROGRAM, makeWorkforce('radiology-team', { kind: 'internal', qualifications: ['adjudicator'] }));
    const label = (batchId: string, workforceId: string, l: string) => ({
      caseId: 'case-7', batchId, label: l, workforceId, annotatorId: 'r1', protocol: 'chest-xray@1',
      submissionKey: `uploads/${workforceId}/${batchId}/x.jsonl`, submissionSha256: 'a'.repeat(64), gold: false,
      status: 'accepted' as const, createdAt: T0,
    });
    await deps.repo.putLabels([label('b-a', 'vendor-a', 'normal'), label('b-b', 'vendor-b', 'abnormal')]);
    await deps.repo.claimAdjudication('chest-xray@1', 'case-7', 'b-b-adj');
    await deps.repo.createAdjudication({
      adjudicationId: 'b-b-adj', programId: PROGRAM, batchId: 'b-b', protocol: 'chest-xray@1', status: 'open', createdAt: T0,
      needs: [{ caseId: 'case-7', kind: 'overlap-disagreement', reason: 'disagree', labels: { 'vendor-a/r1': 'normal', 'vendor-b/r1': 'abnormal' } }],
    });
    // The callback state parked with a 72 h deadline, which has passed: the execution went on to Rebalance.
    await deps.repo.setAdjudicationToken('b-b-adj', 'tok-adj', '2025-02-25T09:00:00.000Z');
    vi.spyOn(deps.callbacks, 'success').mockResolvedValue('stale' as never);

    let outcome: string;
    try {
      outcome = (await decideAdjudication(deps, {
        adjudicationId: 'b-b-adj', workforceId: 'radiology-team', expertId: 'dr-lead', decisions: [{ caseId: 'case-7', label: 'abnormal' }],
      })).status;
    } catch {
      outcome = 'refused';
    }
    const accepted = (await deps.repo.listCaseLabels('case-7')).filter((l) => l.status === 'accepted');
    const decidedInLedger = (await deps.repo.listLedger(PROGRAM)).some((e) => e.type === 'adjudication.decided');
    // Refused: nothing recorded. Accepted: applied (one accepted label, the expert's).
    if (outcome === 'refused') expect(decidedInLedger).toBe(false);
    else expect(accepted.map((l) => `${l.workforceId}:${l.label}`)).toEqual(['radiology-team:abnormal']);
  });
});
