/** TaskCallbacks and WorkflowStarter over AWS Step Functions. */
import {
  ExecutionAlreadyExists,
  type SFNClient,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { TaskCallbacks, WorkflowStarter } from '../use-cases/ports.js';

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
