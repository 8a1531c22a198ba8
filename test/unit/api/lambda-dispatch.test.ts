/** Dispatch through the DispatchRound function (AWS): the answer, and the use case's refusals as the same errors. */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { lambdaDispatcher } from '../../../functions/api/lambda-dispatch.js';
import { ConflictError, NotFoundError } from '../../../functions/use-cases/errors.js';

const lambda = mockClient(LambdaClient);
const input = { programId: 'prog-1', protocolId: 'chest-xray', version: 1, round: 2, actor: 'pm:alice' };
const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe('lambdaDispatcher', () => {
  afterEach(() => lambda.reset());

  it('invokes the function synchronously with the input and returns its result', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: bytes({ round: 2, batches: [] }) as never });
    const r = await lambdaDispatcher(new LambdaClient({}), 'goldline-DispatchRound')(input);
    expect(r).toEqual({ round: 2, batches: [] });
    const call = lambda.commandCalls(InvokeCommand)[0].args[0].input;
    expect(call).toMatchObject({ FunctionName: 'goldline-DispatchRound', InvocationType: 'RequestResponse' });
    expect(JSON.parse(new TextDecoder().decode(call.Payload as Uint8Array))).toEqual(input);
  });

  it("throws the use case's own error class for its refusals, and a plain error that keeps the message out otherwise", async () => {
    const dispatch = lambdaDispatcher(new LambdaClient({}), 'f');
    lambda
      .on(InvokeCommand)
      .resolvesOnce({ FunctionError: 'Unhandled', Payload: bytes({ errorType: 'NotFoundError', errorMessage: 'protocol chest-xray@9 not found' }) as never })
      .resolvesOnce({ FunctionError: 'Unhandled', Payload: bytes({ errorType: 'ConflictError', errorMessage: 'round 2 exists' }) as never })
      .resolvesOnce({ FunctionError: 'Unhandled', Payload: bytes({ errorType: 'TypeError', errorMessage: 'x is undefined at table t' }) as never });
    await expect(dispatch(input)).rejects.toEqual(new NotFoundError('protocol chest-xray@9 not found'));
    await expect(dispatch(input)).rejects.toBeInstanceOf(ConflictError);
    const e = await dispatch(input).catch((x: Error) => x);
    expect(e).not.toBeInstanceOf(NotFoundError);
    expect((e as Error).message).toBe('DispatchRound failed (Unhandled): TypeError');
  });
});
