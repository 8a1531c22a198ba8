/**
 * Regression (found in review): AwaitSubmission set HeartbeatSecondsPath = protocol.heartbeatHours (24 h in
 * the demo) while the only SendTaskHeartbeat in the code is sent when a vendor
 * uploads a *bad* file (ingest-upload.ts). A vendor that is simply labelling —
 * 48 h SLA, no upload yet — is timed out at 24 h: the Catch sends
 * States.HeartbeatTimeout to MarkOverdue, which closes the batch as an SLA miss
 * ("no valid submission within the SLA of 48 h"), re-queues the work away from
 * the vendor and counts against its SLA adherence. The internal team (72 h SLA)
 * is hit the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchRecord } from '../../functions/use-cases/ports.js';
import type { LocalStack } from '../../infra/local/stack.js';
import { stackWithOpenRound } from '../integration/helpers.js';

describe('review: SLA vs heartbeat on AwaitSubmission', () => {
  let stack: LocalStack;
  let batches: BatchRecord[];

  beforeAll(async () => {
    ({ stack, batches } = await stackWithOpenRound({ cases: 40, seed: 3 }));
  });
  afterAll(async () => stack?.stop());

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
});
