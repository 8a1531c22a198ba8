import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchRecord } from '../../functions/use-cases/ports.js';
import { PROGRAM_ID } from '../../infra/local/demo/example-program.js';
import type { LocalStack } from '../../infra/local/stack.js';
import { expectProjectionsRebuilt } from '../support/projections.js';
import { stackWithOpenRound } from './helpers.js';

describe('Batch SLA on the embedded stack: AwaitSubmission', () => {
  let stack: LocalStack;
  let batches: BatchRecord[];

  beforeAll(async () => {
    ({ stack, batches } = await stackWithOpenRound({ cases: 40, seed: 3 }));
  });
  afterAll(async () => stack?.stop());

  // Found in review: AwaitSubmission timed out on protocol.heartbeatHours (24 h) though nothing sends heartbeats while a vendor labels, closing 48 h batches as overdue at 24 h.
  it('keeps a batch open until its SLA when the vendor has not uploaded yet', async () => {
    const b = batches.find((x) => x.workforceKind === 'vendor')!;
    expect(b.slaHours).toBe(48);
    stack.clock.advance(25 * 3600 * 1000); // a day and an hour in: well within the 48 h SLA
    expect(stack.callbacks.expire()).toBe(0); // no parked task times out at 25 h
    const now = await stack.deps.repo.getBatch(b.batchId);
    expect(now!.status).toBe('awaiting-submission');
    // At 49 h the SLA has passed: the 48 h batches are closed as overdue (the internal team has 72 h).
    stack.clock.advance(24 * 3600 * 1000);
    expect(stack.callbacks.expire()).toBe(batches.filter((x) => x.slaHours < 49).length);
    await stack.runner.finished(b.batchId);
    expect((await stack.deps.repo.getBatch(b.batchId))!.status).toBe('overdue');
  });

  it('rebuilds every projection from the ledger: overdue batches, re-queued cases, the internal batch still open', async () => {
    for (const x of batches.filter((y) => y.slaHours < 49)) await stack.runner.finished(x.batchId);
    await expectProjectionsRebuilt(stack.deps, PROGRAM_ID);
  });
});
