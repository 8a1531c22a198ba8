import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionLimitExceeded,
  InvalidToken,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SfnRoundWorkflow, SfnTaskCallbacks, SfnWorkflowStarter } from '../../../functions/adapters/sfn.js';

const meta = { $metadata: { httpStatusCode: 400 } };
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:BatchLifecycle';

describe('Class: SfnTaskCallbacks', () => {
  const sfn = mockClient(SFNClient);
  let callbacks: SfnTaskCallbacks;

  beforeEach(() => {
    sfn.reset();
    callbacks = new SfnTaskCallbacks(new SFNClient({ region: 'us-east-1' }));
  });

  describe('Method: success', () => {
    it('returns "sent" and sends the token with the output as JSON', async () => {
      // Arrange
      sfn.on(SendTaskSuccessCommand).resolves({});

      // Act
      const r = await callbacks.success('token-1', { uploadId: 'up12345678', sha256Hex: 'ab' });

      // Assert
      expect(r).toBe('sent');
      expect(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input).toEqual({
        taskToken: 'token-1',
        output: '{"uploadId":"up12345678","sha256Hex":"ab"}',
      });
    });

    it.each([
      ['TaskTimedOut', () => new TaskTimedOut({ message: 'Task Timed Out', ...meta })],
      ['TaskDoesNotExist', () => new TaskDoesNotExist({ message: 'Task does not exist', ...meta })],
      ['InvalidToken', () => new InvalidToken({ message: 'Invalid Token', ...meta })],
    ])('returns "stale" when Step Functions answers %s (the callback is a repeat)', async (_, error) => {
      // Arrange
      sfn.on(SendTaskSuccessCommand).rejects(error());

      // Act
      const r = await callbacks.success('token-1', {});

      // Assert
      expect(r).toBe('stale');
    });

    it('throws any other error', async () => {
      // Arrange
      sfn.on(SendTaskSuccessCommand).rejects(new ExecutionLimitExceeded({ message: 'limit', ...meta }));

      // Act / Assert
      await expect(callbacks.success('token-1', {})).rejects.toBeInstanceOf(ExecutionLimitExceeded);
    });
  });

  describe('Method: heartbeat', () => {
    it('returns "sent" for a live token and "stale" for a finished one', async () => {
      // Arrange
      sfn
        .on(SendTaskHeartbeatCommand)
        .resolvesOnce({})
        .rejects(new TaskTimedOut({ message: 'Task Timed Out', ...meta }));

      // Act / Assert
      expect(await callbacks.heartbeat('token-1')).toBe('sent');
      expect(await callbacks.heartbeat('token-1')).toBe('stale');
      expect(sfn.commandCalls(SendTaskHeartbeatCommand)[0].args[0].input).toEqual({ taskToken: 'token-1' });
    });

    it('throws any other error', async () => {
      sfn.on(SendTaskHeartbeatCommand).rejects(new Error('socket hang up'));
      await expect(callbacks.heartbeat('token-1')).rejects.toThrow('socket hang up');
    });
  });
});

describe('Class: SfnWorkflowStarter', () => {
  const sfn = mockClient(SFNClient);
  let starter: SfnWorkflowStarter;

  beforeEach(() => {
    sfn.reset();
    starter = new SfnWorkflowStarter(new SFNClient({ region: 'us-east-1' }), STATE_MACHINE);
  });

  describe('Method: startBatch', () => {
    it('starts one execution named after the batch, with the input as JSON', async () => {
      // Arrange
      sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE}:batch-1`, startDate: new Date() });

      // Act
      await starter.startBatch('batch-1', { batchId: 'batch-1', slaSeconds: 3600, heartbeatSeconds: 600 });

      // Assert
      expect(sfn.commandCalls(StartExecutionCommand)[0].args[0].input).toEqual({
        stateMachineArn: STATE_MACHINE,
        name: 'batch-1',
        input: '{"batchId":"batch-1","slaSeconds":3600,"heartbeatSeconds":600}',
      });
    });

    it('resolves when an execution with that name already exists (a repeated start)', async () => {
      // Arrange
      sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', ...meta }));

      // Act / Assert
      await expect(starter.startBatch('batch-1', { batchId: 'batch-1' })).resolves.toBeUndefined();
    });

    it('throws any other error', async () => {
      sfn.on(StartExecutionCommand).rejects(new ExecutionLimitExceeded({ message: 'limit', ...meta }));
      await expect(starter.startBatch('batch-1', {})).rejects.toBeInstanceOf(ExecutionLimitExceeded);
    });
  });
});

describe('Class: SfnRoundWorkflow', () => {
  const sfn = mockClient(SFNClient);
  const ROUNDS = 'arn:aws:states:us-east-1:123456789012:stateMachine:RoundDispatch';
  let sleeps: number;
  let rounds: SfnRoundWorkflow;

  beforeEach(() => {
    sfn.reset();
    sleeps = 0;
    rounds = new SfnRoundWorkflow(new SFNClient({ region: 'us-east-1' }), ROUNDS, async () => {
      sleeps++;
    });
  });

  describe('Method: roundExecution', () => {
    it('asks for the execution by its ARN and answers MISSING when there is none', async () => {
      sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'none', ...meta }));
      expect(await rounds.roundExecution('p-r1', 0)).toEqual({ status: 'MISSING' });
      expect(sfn.commandCalls(DescribeExecutionCommand)[0].args[0].input.executionArn).toBe(
        'arn:aws:states:us-east-1:123456789012:execution:RoundDispatch:p-r1',
      );
    });

    it('polls a running execution until it succeeds and returns its output parsed', async () => {
      sfn
        .on(DescribeExecutionCommand)
        .resolvesOnce({ status: 'RUNNING' })
        .resolvesOnce({ status: 'RUNNING' })
        .resolves({ status: 'SUCCEEDED', output: '{"plan":{"round":1}}' });
      expect(await rounds.roundExecution('p-r1', 60)).toEqual({ status: 'SUCCEEDED', output: { plan: { round: 1 } } });
      expect(sleeps).toBe(2);
    });

    it("passes a failed task's error class and message on, from the Lambda error in the cause", async () => {
      sfn.on(DescribeExecutionCommand).resolves({
        status: 'FAILED',
        error: 'NotFoundError',
        cause: JSON.stringify({ errorType: 'NotFoundError', errorMessage: 'protocol cxr@9 not found', trace: [] }),
      });
      expect(await rounds.roundExecution('p-r1', 0)).toEqual({ status: 'FAILED', error: { name: 'NotFoundError', message: 'protocol cxr@9 not found' } });
    });

    it('answers RUNNING without waiting when asked to wait 0 s', async () => {
      sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
      expect(await rounds.roundExecution('p-r1', 0)).toEqual({ status: 'RUNNING' });
      expect(sleeps).toBe(0);
    });
  });
});
