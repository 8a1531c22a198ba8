/** TaskCallbacks and WorkflowStarter over AWS Step Functions. */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { RoundExecution, RoundWorkflow, TaskCallbacks, WorkflowStarter } from '../use-cases/ports.js';

/** A token that already completed or timed out: the callback is a repeat. */
const isStale = (e: unknown): boolean =>
  ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'].includes((e as { name?: string })?.name ?? '');

export class SfnTaskCallbacks implements TaskCallbacks {
  constructor(private readonly sfn: SFNClient) {}

  async success(token: string, output: unknown) {
    try {
      await this.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
      return 'sent' as const;
    } catch (e) {
      if (isStale(e)) return 'stale' as const;
      throw e;
    }
  }

  async heartbeat(token: string) {
    try {
      await this.sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
      return 'sent' as const;
    } catch (e) {
      if (isStale(e)) return 'stale' as const;
      throw e;
    }
  }
}

export class SfnWorkflowStarter implements WorkflowStarter {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async startBatch(name: string, input: unknown) {
    try {
      // Standard workflows: the same name and input starts one execution only.
      await this.sfn.send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }),
      );
    } catch (e) {
      if (e instanceof ExecutionAlreadyExists || (e as { name?: string })?.name === 'ExecutionAlreadyExists') return;
      throw e;
    }
  }
}

/** Error as a Lambda task reports it in an execution's `cause`: `{ errorType, errorMessage }`. */
function failure(error: string | undefined, cause: string | undefined): RoundExecution['error'] {
  try {
    const c = JSON.parse(cause ?? '') as { errorType?: unknown; errorMessage?: unknown };
    if (typeof c.errorMessage === 'string') return { name: typeof c.errorType === 'string' ? c.errorType : (error ?? 'Error'), message: c.errorMessage };
  } catch {
    // not JSON: the cause as it is
  }
  return { name: error ?? 'Error', message: cause ?? '' };
}

/** The round-dispatch state machine (workflows/round-dispatch.asl.json) over Step Functions. */
export class SfnRoundWorkflow implements RoundWorkflow {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async startRound(name: string, input: unknown) {
    await new SfnWorkflowStarter(this.sfn, this.stateMachineArn).startBatch(name, input);
  }

  async roundExecution(name: string, waitSeconds: number): Promise<RoundExecution> {
    // Execution ARN: the state machine's, with `:stateMachine:` → `:execution:` and the name appended.
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      let r: DescribeExecutionCommandOutput;
      try {
        r = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      } catch (e) {
        if (e instanceof ExecutionDoesNotExist || (e as { name?: string })?.name === 'ExecutionDoesNotExist') return { status: 'MISSING' };
        throw e;
      }
      if (r.status === 'SUCCEEDED') return { status: 'SUCCEEDED', output: r.output ? (JSON.parse(r.output) as unknown) : undefined };
      if (r.status !== 'RUNNING' && r.status !== 'PENDING_REDRIVE') return { status: 'FAILED', error: failure(r.error ?? r.status, r.cause) };
      if (Date.now() >= deadline) return { status: 'RUNNING' };
      await this.sleep(1000);
    }
  }
}
