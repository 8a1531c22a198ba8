/**
 * Regression (found in review; fixed): markOverdue (close-batch.ts) re-queues with excludeWorkforceId = the batch's
 * workforce for every batch, internal ones included. Cases the protocol keeps
 * inside (sensitive, rare, gated) have only the internal team as candidates, so
 * after one missed SLA by that team (or the early heartbeat timeout) they are
 * deferred in every later round: "no active internal workforce has
 * qualifications [...] (excluded: radiology-team)" — never labelled.
 */
import { describe, expect, it } from 'vitest';
import { markOverdue } from '../../functions/use-cases/close-batch.js';
import { dispatchRound } from '../../functions/use-cases/dispatch-round.js';
import { makeWorkforce } from '../unit/fakes.js';
import { PROGRAM, program } from './scenario.js';

describe('review: an internal batch that misses its SLA', () => {
  it('can be planned again for the internal team next round', async () => {
    const deps = await program({
      cases: 10,
      gold: 0,
      protocol: { routing: { rules: [], default: { pool: 'internal' } } },
      workforces: [makeWorkforce('radiology-team', { kind: 'internal', slaHours: 72 }), makeWorkforce('vendor-a')],
    });
    const r1 = await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm' });
    const internal = r1.batches.find((b) => b.workforceId === 'radiology-team')!;
    await deps.repo.transitionBatch(internal.batchId, ['planned'], 'awaiting-submission');
    await markOverdue(deps, { batchId: internal.batchId });

    const r2 = await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 2, actor: 'pm' });
    expect(r2.deferred.map((d) => d.reason)).toEqual([]);
    expect(r2.routing['radiology-team']).toBe(10);
  });
});
