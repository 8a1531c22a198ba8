/**
 * Faults on the embedded stack: throttled DynamoDB calls are retried (Step
 * Functions Retry with backoff, the local EventBridge's redelivery) and the
 * batch completes once; a non-retryable failure is caught, recorded in the
 * ledger, and its cases go back to the queue.
 */
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchAnswersObject, loadBatchKey } from '../../functions/use-cases/batch-key.js';
import type { BatchRecord } from '../../functions/use-cases/ports.js';
import { PROGRAM_ID } from '../../infra/local/demo/example-program.js';
import { uploadLabelFile } from '../../infra/local/demo/simulated-workforce.js';
import type { LocalStack } from '../../infra/local/stack.js';
import { expectProjectionsRebuilt } from '../support/projections.js';
import { stackWithOpenRound } from './helpers.js';

const enc = new TextEncoder();

describe('Faults: throttling and failures during the lifecycle', () => {
  let stack: LocalStack;
  let batches: BatchRecord[];
  let injected = 0;
  let throttle = false;

  beforeAll(async () => {
    // The demo's single plan decides each batch within its round, so the retried batch goes through finalize (labels) too.
    ({ stack, batches } = await stackWithOpenRound({ cases: 120, seed: 9, acceptance: 'single-plan' }));
    // While `throttle` is on, three DynamoDB calls (spaced apart) fail as throttled,
    // as if the SDK's own retries had run out: Step Functions' Retry must cope.
    let calls = 0;
    stack.dynamo.middlewareStack.add(
      (next) => async (args) => {
        if (throttle && injected < 3 && ++calls % 7 === 0) {
          injected++;
          throw new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput', $metadata: {} });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectThrottling' },
    );
  });
  afterAll(async () => stack?.stop());

  const labels = async (b: BatchRecord) => {
    const key = await loadBatchKey(stack.deps, b.batchId);
    return `${key.items.map((i) => JSON.stringify({ alias: i.alias, label: 'normal', annotator: 'a-1' })).join('\n')}\n`;
  };

  it('retries throttled calls and finishes the batch once', async () => {
    const b = batches.find((x) => x.workforceKind === 'vendor')!;
    const body = enc.encode(await labels(b));
    await uploadLabelFile(stack.deps, b.workforceId, b.batchId, body);
    await stack.ingestIdle();
    throttle = true;
    const rec = await stack.runner.finished(b.batchId);
    throttle = false;
    expect(injected).toBe(3);
    expect(rec.status).toBe('SUCCEEDED');
    expect(rec.events.some((e) => e.type === 'StateRetried')).toBe(true);
    expect(['accepted', 'rejected']).toContain((await stack.deps.repo.getBatch(b.batchId))!.status);
    const ledger = (await stack.deps.repo.listLedger(PROGRAM_ID)).filter((e) => e.subject === b.batchId);
    expect(ledger.filter((e) => e.type === 'batch.scored')).toHaveLength(1);
    expect(ledger.filter((e) => e.type === 'labels.recorded')).toHaveLength(1);
    expect(await stack.deps.repo.listBatchLabels(b.batchId)).toHaveLength(b.itemCount);
  });

  it('catches a non-retryable failure, records it and re-queues the cases', async () => {
    const b = batches.filter((x) => x.workforceKind === 'vendor')[1];
    const body = enc.encode(await labels(b));
    const key = await loadBatchKey(stack.deps, b.batchId);
    // The answer key lost its gold answers after dispatch: scoring cannot go on.
    await stack.deps.objects.putJson(stack.deps.buckets.gold, batchAnswersObject(b.batchId), { batchId: b.batchId, answers: {} });
    await uploadLabelFile(stack.deps, b.workforceId, b.batchId, body);
    const rec = await stack.runner.finished(b.batchId);
    expect(rec.status).toBe('FAILED');
    expect(rec.error).toMatch(/^BatchFailed/);
    expect(rec.events.map((e) => e.state)).toContain('RecordFailure');
    const failed = (await stack.deps.repo.listLedger(PROGRAM_ID)).find((e) => e.type === 'batch.failed' && e.subject === b.batchId)!;
    expect(failed.reason).toMatch(/gold answer missing for case/);
    expect((await stack.deps.repo.getBatch(b.batchId))!.status).toBe('failed');
    const state = new Map((await stack.deps.repo.listCases(PROGRAM_ID)).map((c) => [c.caseId, c.state]));
    for (const i of key.items.filter((x) => !x.gold)) expect(state.get(i.caseId)).toBe('pending');
  });

  it('rebuilds every projection from the ledger after the retried and the failed batch', async () => {
    await expectProjectionsRebuilt(stack.deps, PROGRAM_ID);
  });
});
