/**
 * Regression (found in review; fixed): The same shape as in rebalance.ts, in two more use cases: the first write is
 * also the "already done" guard, and the ledger event / callback come after it.
 * A crash (timeout, throttling) between them and the retry returns early:
 *  - scoreSubmission: putScore, then record(batch.scored). Retry → getScore
 *    exists → return. The batch's gold (n, correct) never reaches the ledger,
 *    so the scorecard projection (built from batch.scored) under-counts it.
 *  - decideAdjudication: decideAdjudication (open → decided), then record, then
 *    SendTaskSuccess. The expert's retry gets "already-decided": no ledger
 *    event, no callback; the lifecycle waits until the adjudication SLA, whose
 *    Catch skips ApplyAdjudication — the decision is never applied.
 */
import { describe, expect, it, vi } from 'vitest';
import type { LedgerEvent } from '../../functions/domain/model/index.js';
import { decideAdjudication } from '../../functions/use-cases/adjudication.js';
import { ingestUpload } from '../../functions/use-cases/ingest-upload.js';
import { scoreSubmission } from '../../functions/use-cases/score-submission.js';
import { type FakeDeps, makeFakeDeps, makeProtocol, makeWorkforce, seedUploadScenario, T0 } from '../unit/fakes.js';

function failLedgerOnce(deps: FakeDeps, type: LedgerEvent['type']) {
  const append = deps.repo.appendLedger.bind(deps.repo);
  let failed = false;
  vi.spyOn(deps.repo, 'appendLedger').mockImplementation(async (e) => {
    if (!failed && e.type === type) {
      failed = true;
      throw new Error('ProvisionedThroughputExceededException');
    }
    return append(e);
  });
}

describe('review: retries after a crash between the guarding write and the ledger', () => {
  it('scoreSubmission retried: batch.scored is in the ledger', async () => {
    const deps = makeFakeDeps();
    const s = await seedUploadScenario(deps);
    await ingestUpload(deps, { bucket: deps.buckets.uploads, key: s.key });
    failLedgerOnce(deps, 'batch.scored');
    await expect(scoreSubmission(deps, { batchId: s.batchId })).rejects.toThrow();
    await scoreSubmission(deps, { batchId: s.batchId }); // the state's Retry

    const ledger = await deps.repo.listLedger('prog-1');
    expect(ledger.filter((e) => e.type === 'batch.scored').map((e) => e.subject)).toEqual([s.batchId]);
  });

  it('decideAdjudication retried by the expert: the ledger has the decision and the lifecycle is resumed', async () => {
    const deps = makeFakeDeps();
    await deps.repo.putProtocolVersion(makeProtocol());
    await deps.repo.putWorkforce('prog-1', makeWorkforce('radiology-team', { kind: 'internal', qualifications: ['adjudicator'] }));
    await deps.repo.createAdjudication({
      adjudicationId: 'b-adj', programId: 'prog-1', batchId: 'b', protocol: 'chest-xray@1', status: 'open', createdAt: T0,
      needs: [{ caseId: 'case-7', kind: 'overlap-disagreement', reason: 'disagree', labels: {} }],
    });
    await deps.repo.setAdjudicationToken('b-adj', 'tok-adj', '2025-03-04T09:00:00.000Z');
    const decision = { adjudicationId: 'b-adj', workforceId: 'radiology-team', expertId: 'dr-lead', decisions: [{ caseId: 'case-7', label: 'abnormal' }] };
    failLedgerOnce(deps, 'adjudication.decided');
    await expect(decideAdjudication(deps, decision)).rejects.toThrow();
    await decideAdjudication(deps, decision); // the expert's tool retries

    expect((await deps.repo.listLedger('prog-1')).map((e) => e.type)).toContain('adjudication.decided');
    expect(deps.callbacks.successes.map((c) => c.token)).toEqual(['tok-adj']);
  });
});
