import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Handler } from '../../../functions/adapters/handler.js';
import { LocalClock, LocalTaskCallbacks } from '../../../infra/local/callbacks.js';
import { functionOfState, LocalWorkflowRunner, loadAsl, UnboundTaskStateError } from '../../../infra/local/workflow-runner.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ASL = 'workflows/batch-lifecycle.asl.json';
const INPUT = { batchId: 'batch-1', slaSeconds: 3600, heartbeatSeconds: 600 };

type Behaviour = (payload: Record<string, unknown>, attempt: number) => unknown;

/** What each fake Lambda returns by default: the fields the ASL's ResultSelectors read. */
const DEFAULTS: Record<string, Behaviour> = {
  PrepareManifest: () => ({ manifestKey: 'batches/batch-1/manifest.json' }),
  AwaitSubmission: (p) => ({ batchId: p.batchId, slaDeadline: '2025-03-03T09:00:00.000Z' }),
  ValidateSubmission: () => ({ uploadId: 'up12345678', sha256Hex: 'a'.repeat(64) }),
  ScoreSubmission: () => ({ verdict: 'accepted', goldN: 10 }),
  // settled, finalized, no disagreement (unless a test says otherwise), rebalanced
  CompleteBatch: (p) => ({ status: p.verdict, needed: 0, adjudicationId: 'batch-1-adj', timeoutSeconds: 0, carried: [] }),
  Rebalance: () => ({ roundComplete: false }),
  MarkOverdue: () => ({ status: 'overdue' }),
  RecordFailure: () => ({ status: 'failed' }),
  RequestAdjudication: () => ({}),
  ApplyAdjudication: () => ({ applied: 0 }),
};

/** Every function the ASL's Task states invoke. */
const FUNCTIONS_IN_ASL = [
  ...new Set(
    Object.values(loadAsl(ROOT, ASL).States)
      .filter((st) => st.Type === 'Task')
      .map((st) => functionOfState(st))
      .filter((fn): fn is string => fn !== undefined),
  ),
];

/** Error as a Lambda would raise it: Step Functions matches on `name`. */
const namedError = (name: string, message: string): Error => Object.assign(new Error(message), { name });

function setup(behaviours: Partial<Record<string, Behaviour>> = {}, omit: string[] = []) {
  const calls: Record<string, Record<string, unknown>[]> = {};
  const handlers: Record<string, Handler<unknown>> = {};
  for (const name of FUNCTIONS_IN_ASL) {
    if (omit.includes(name)) continue;
    const behave = behaviours[name] ?? DEFAULTS[name] ?? (() => ({}));
    handlers[name] = async (event) => {
      const payload = event as Record<string, unknown>;
      calls[name] = [...(calls[name] ?? []), payload];
      return behave(payload, calls[name].length);
    };
  }
  const clock = new LocalClock();
  const callbacks = new LocalTaskCallbacks(clock);
  const runner = new LocalWorkflowRunner(loadAsl(ROOT, ASL), handlers, callbacks);
  return { runner, clock, callbacks, calls };
}

/** Waits until AwaitSubmission has run and returns the token it was given. */
async function awaitToken(calls: Record<string, Record<string, unknown>[]>): Promise<string> {
  await vi.waitFor(() => expect(calls.AwaitSubmission?.length).toBe(1), { timeout: 5000, interval: 5 });
  return calls.AwaitSubmission[0].taskToken as string;
}

const entered = (runner: LocalWorkflowRunner, name = 'batch-1') =>
  runner.executions.get(name)!.events.filter((e) => e.type === 'StateEntered').map((e) => e.state);

describe('Class: LocalWorkflowRunner', () => {
  const open: { runner: LocalWorkflowRunner; clock: LocalClock; callbacks: LocalTaskCallbacks }[] = [];
  const started = (s: ReturnType<typeof setup>) => {
    open.push(s);
    return s;
  };

  afterEach(async () => {
    // Release anything still parked so no execution outlives its test.
    for (const { runner, clock, callbacks } of open.splice(0)) {
      clock.advance(365 * 24 * 3600 * 1000);
      callbacks.expire();
      await runner.idle();
    }
  });

  describe('constructor', () => {
    it('throws UnboundTaskStateError naming the Task state that has no handler', () => {
      // Act
      const build = () => setup({}, ['ScoreSubmission']);

      // Assert
      expect(build).toThrow(UnboundTaskStateError);
      expect(build).toThrow(/^Task state\(s\) without a local handler: ScoreSubmission \([^)]*ScoreSubmissionFunctionArn\)$/);
    });

    it('throws naming every state bound to a missing function', () => {
      // Act
      let error: unknown;
      try {
        setup({}, ['Rebalance']);
      } catch (e) {
        error = e;
      }

      // Assert
      expect(error).toBeInstanceOf(UnboundTaskStateError);
      expect((error as Error).name).toBe('UnboundTaskStateError');
      for (const state of ['Rebalance (', 'RebalanceAfterOverdue (', 'RebalanceAfterFailure (']) {
        expect((error as Error).message).toContain(state);
      }
    });
  });

  describe('Method: startBatch', () => {
    it('runs the batch lifecycle to Done on the happy path', async () => {
      // Arrange
      const { runner, callbacks, calls } = started(setup());

      // Act
      await runner.startBatch('batch-1', INPUT);
      const token = await awaitToken(calls);
      expect(await callbacks.success(token, { uploadId: 'up12345678' })).toBe('sent');
      await runner.idle();

      // Assert
      const rec = runner.executions.get('batch-1')!;
      expect(rec.status).toBe('SUCCEEDED');
      // Issue 14: 7 state transitions (11 before: Verdict, AcceptBatch, FinalizeBatch, CheckAgreement and Rebalance are one state now).
      expect(entered(runner)).toEqual(['PrepareManifest', 'AwaitSubmission', 'ValidateSubmission', 'ScoreSubmission', 'CompleteBatch', 'NeedsAdjudication', 'Done']);
      expect(calls.CompleteBatch).toEqual([{ batchId: 'batch-1', verdict: 'accepted' }]);
      expect(calls.Rebalance).toBeUndefined();
      expect(rec.output).toMatchObject({
        batchId: 'batch-1',
        manifest: { manifestKey: 'batches/batch-1/manifest.json' },
        submission: { uploadId: 'up12345678' },
        score: { verdict: 'accepted', goldN: 10 },
      });
    });

    it.each(['rejected', 'inconclusive'])('hands CompleteBatch the verdict "%s" and ends in the same 7 states', async (verdict) => {
      // Arrange
      const { runner, callbacks, calls } = started(setup({ ScoreSubmission: () => ({ verdict, goldN: 10 }) }));

      // Act
      await runner.startBatch('batch-1', INPUT);
      await callbacks.success(await awaitToken(calls), {});
      await runner.idle();

      // Assert
      expect(runner.executions.get('batch-1')!.status).toBe('SUCCEEDED');
      expect(calls.CompleteBatch).toEqual([{ batchId: 'batch-1', verdict }]);
      // A held batch walked Verdict, HoldBatch, Rebalance and Done after its score (8 transitions), a rejected one 11.
      expect(entered(runner)).toEqual(['PrepareManifest', 'AwaitSubmission', 'ValidateSubmission', 'ScoreSubmission', 'CompleteBatch', 'NeedsAdjudication', 'Done']);
    });

    it('waits for the expert when CompleteBatch needs one, applies the decision, then rebalances (no Succeed state after it)', async () => {
      // Arrange
      const { runner, callbacks, calls } = started(
        setup({ CompleteBatch: (p) => ({ status: p.verdict, needed: 2, adjudicationId: 'batch-1-adj', timeoutSeconds: 3600, carried: [] }) }),
      );

      // Act
      await runner.startBatch('batch-1', INPUT);
      await callbacks.success(await awaitToken(calls), {});
      await vi.waitFor(() => expect(calls.RequestAdjudication?.length).toBe(1), { timeout: 5000, interval: 5 });
      await callbacks.success(calls.RequestAdjudication[0].taskToken as string, { decided: true });
      await runner.idle();

      // Assert
      expect(runner.executions.get('batch-1')!.status).toBe('SUCCEEDED');
      expect(calls.RequestAdjudication[0]).toMatchObject({ batchId: 'batch-1', adjudicationId: 'batch-1-adj', timeoutSeconds: 3600 });
      expect(calls.ApplyAdjudication).toEqual([{ batchId: 'batch-1', adjudicationId: 'batch-1-adj' }]);
      expect(calls.Rebalance).toEqual([{ batchId: 'batch-1' }]);
      expect(entered(runner).slice(4)).toEqual(['CompleteBatch', 'NeedsAdjudication', 'AwaitAdjudication', 'ApplyAdjudication', 'Rebalance']);
    });

    it('gives the AwaitSubmission handler the minted token and the SLA, and parks until the token comes back', async () => {
      // Arrange
      const { runner, callbacks, calls } = started(setup());

      // Act
      await runner.startBatch('batch-1', INPUT);
      const token = await awaitToken(calls);
      await new Promise((r) => setTimeout(r, 30));

      // Assert: parked
      expect(calls.AwaitSubmission[0]).toEqual({ batchId: 'batch-1', taskToken: token, slaSeconds: 3600 });
      expect(token).toMatch(/^local-task-token-/);
      expect(callbacks.waiting).toBe(1);
      expect(runner.executions.get('batch-1')!.status).toBe('RUNNING');
      expect(calls.ValidateSubmission).toBeUndefined();

      // Act: the token comes back
      await callbacks.success(token, { uploadId: 'up12345678' });
      await runner.idle();

      // Assert: resumed
      expect(calls.ValidateSubmission).toHaveLength(1);
      expect(runner.executions.get('batch-1')!.status).toBe('SUCCEEDED');
      expect(await callbacks.success(token, {})).toBe('stale');
    });

    it('goes to MarkOverdue when the clock passes the SLA and parked tasks are expired', async () => {
      // Arrange
      const { runner, clock, callbacks, calls } = started(setup());
      await runner.startBatch('batch-1', { ...INPUT, heartbeatSeconds: INPUT.slaSeconds });
      await awaitToken(calls);

      // Act
      clock.advance((INPUT.slaSeconds - 10) * 1000);
      expect(callbacks.expire()).toBe(0);
      clock.advance(20 * 1000);
      const expired = callbacks.expire();
      await runner.idle();

      // Assert
      expect(expired).toBe(1);
      const rec = runner.executions.get('batch-1')!;
      expect(rec.status).toBe('SUCCEEDED');
      expect(calls.MarkOverdue).toEqual([{ batchId: 'batch-1', timeout: 'States.Timeout' }]);
      expect(calls.ValidateSubmission).toBeUndefined();
      expect(entered(runner).slice(-3)).toEqual(['MarkOverdue', 'RebalanceAfterOverdue', 'Overdue']);
      expect(rec.output).toMatchObject({ timeout: { Error: 'States.Timeout' } });
    });

    it('goes to MarkOverdue when no heartbeat arrives within the heartbeat window', async () => {
      // Arrange
      const { runner, clock, callbacks, calls } = started(setup());
      await runner.startBatch('batch-1', INPUT);
      const token = await awaitToken(calls);

      // Act: a heartbeat at 500 s keeps it alive; silence after that ends it
      clock.advance(500 * 1000);
      await callbacks.heartbeat(token);
      clock.advance(500 * 1000);
      expect(callbacks.expire()).toBe(0);
      clock.advance(200 * 1000);
      expect(callbacks.expire()).toBe(1);
      await runner.idle();

      // Assert
      expect(calls.MarkOverdue).toHaveLength(1);
      expect(runner.executions.get('batch-1')!.output).toMatchObject({ timeout: { Error: 'States.HeartbeatTimeout' } });
    });

    it('records the failure and FAILS the execution through the Failed state when a handler throws a non-retryable error', async () => {
      // Arrange
      const { runner, callbacks, calls } = started(
        setup({
          ScoreSubmission: () => {
            throw namedError('IntegrityError', 'submission object changed since ingest');
          },
        }),
      );

      // Act
      await runner.startBatch('batch-1', INPUT);
      await callbacks.success(await awaitToken(calls), {});
      await runner.idle();

      // Assert
      const rec = runner.executions.get('batch-1')!;
      expect(rec.status).toBe('FAILED');
      expect(rec.error).toContain('The batch lifecycle failed');
      expect(calls.ScoreSubmission).toHaveLength(1); // not retried
      expect(calls.RecordFailure).toHaveLength(1);
      expect(calls.RecordFailure[0]).toMatchObject({ batchId: 'batch-1', error: 'IntegrityError' });
      expect(String(calls.RecordFailure[0].cause)).toContain('submission object changed since ingest');
      expect(calls.RebalanceAfterFailure ?? calls.Rebalance).toHaveLength(1);
      expect(entered(runner).slice(-3)).toEqual(['RecordFailure', 'RebalanceAfterFailure', 'Failed']);
      expect(calls.CompleteBatch).toBeUndefined();
    });

    it('reports the Fail state\'s error name, BatchFailed, on the failed execution [PRODUCTION BUG]', async () => {
      // Arrange
      const { runner, calls } = started(
        setup({
          PrepareManifest: () => {
            throw namedError('NotFoundError', 'batch batch-1 not found');
          },
        }),
      );

      // Act
      await runner.startBatch('batch-1', INPUT);
      await runner.idle();

      // Assert: Step Functions reports error "BatchFailed" for this execution. The
      // engine wraps the Fail state's error in an ExecutionError (the original is its
      // `cause`), and workflow-runner.ts records the wrapper's name, so the record
      // reads "ExecutionError: Execution has failed with the following error: …".
      expect(calls.RecordFailure).toHaveLength(1);
      expect(runner.executions.get('batch-1')!.error).toBe(
        'BatchFailed: The batch lifecycle failed; the cause is recorded in the ledger (batch.failed)',
      );
    });

    it('retries a transient error and carries on when the retry succeeds', async () => {
      // Arrange: the first two attempts are throttled
      const { runner, callbacks, calls } = started(
        setup({
          PrepareManifest: (_, attempt) => {
            if (attempt <= 2) throw namedError('ProvisionedThroughputExceededException', 'throttled');
            return { manifestKey: 'batches/batch-1/manifest.json' };
          },
        }),
      );

      // Act
      await runner.startBatch('batch-1', INPUT);
      await callbacks.success(await awaitToken(calls), {});
      await runner.idle();

      // Assert
      const rec = runner.executions.get('batch-1')!;
      expect(calls.PrepareManifest).toHaveLength(3);
      expect(rec.events.filter((e) => e.type === 'StateRetried')).toHaveLength(2);
      expect(calls.RecordFailure).toBeUndefined();
      expect(rec.status).toBe('SUCCEEDED');
    });

    it('records the failure when a transient error outlasts the retries', async () => {
      // Arrange
      const { runner, calls } = started(
        setup({
          PrepareManifest: () => {
            throw namedError('ThrottlingException', 'Rate exceeded');
          },
        }),
      );

      // Act
      await runner.startBatch('batch-1', INPUT);
      await runner.idle();

      // Assert: 1 attempt + MaxAttempts (4) retries, then the Catch
      expect(calls.PrepareManifest).toHaveLength(5);
      expect(calls.RecordFailure[0]).toMatchObject({ error: 'ThrottlingException' });
      expect(runner.executions.get('batch-1')!.status).toBe('FAILED');
      expect(calls.AwaitSubmission).toBeUndefined();
    });

    it('starts one execution only when the same batch is started twice', async () => {
      // Arrange
      const { runner, callbacks, calls } = started(setup());

      // Act
      await runner.startBatch('batch-1', INPUT);
      await runner.startBatch('batch-1', INPUT);
      await callbacks.success(await awaitToken(calls), {});
      await runner.idle();

      // Assert
      expect(runner.executions.size).toBe(1);
      expect(calls.PrepareManifest).toHaveLength(1);
    });
  });
});

describe('Method: startBatch with startAt (an execution lost with the process)', () => {
  it('restarts the lifecycle at the given state and runs it to the end from there', async () => {
    // Arrange
    const { runner, calls } = setup();

    // Act
    await runner.startBatch('batch-1', INPUT, { startAt: 'ValidateSubmission' });
    const rec = await runner.finished('batch-1');

    // Assert
    expect(rec.status).toBe('SUCCEEDED');
    expect(entered(runner)[0]).toBe('ValidateSubmission');
    expect(calls.PrepareManifest).toBeUndefined();
    expect(calls.AwaitSubmission).toBeUndefined();
    expect(calls.CompleteBatch).toHaveLength(1);
  });

  it('refuses a state the machine does not have', async () => {
    // Arrange
    const { runner } = setup();

    // Act / Assert
    await expect(runner.startBatch('batch-1', INPUT, { startAt: 'NoSuchState' })).rejects.toThrow('no state NoSuchState in the state machine');
  });

  describe('Method: abortAll', () => {
    // Found in CI: the embedded stack closed dynalite while an aborted execution's MarkOverdue was still writing ("Database is closed", an unhandled error that failed the run).
    it('waits for a handler the aborted execution was running before it resolves', async () => {
      // Arrange
      let finishManifest!: () => void;
      let manifestDone = false;
      const { runner, calls } = setup({
        PrepareManifest: () =>
          new Promise((resolve) => {
            finishManifest = () => {
              manifestDone = true;
              resolve({ manifestKey: 'batches/batch-1/manifest.json' });
            };
          }),
      });
      await runner.startBatch('batch-1', INPUT);
      await vi.waitFor(() => expect(calls.PrepareManifest?.length).toBe(1), { timeout: 5000, interval: 5 });

      // Act
      const aborted = runner.abortAll();
      let settled = false;
      void aborted.then(() => {
        settled = true;
      });
      await new Promise((r) => setTimeout(r, 20));
      const settledBeforeHandler = settled;
      finishManifest();
      await aborted;

      // Assert
      expect(settledBeforeHandler).toBe(false);
      expect(manifestDone).toBe(true);
      expect(runner.executions.get('batch-1')!.status).toBe('FAILED');
    });
  });
});
