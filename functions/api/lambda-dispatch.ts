/**
 * Dispatching a round from the API in AWS: the API function invokes the
 * DispatchRound function (which alone may read gold sets and start batch
 * executions) and waits for its answer. A refusal of the use case comes back as
 * the same error class, so the API answers it with the same problem (404, 409,
 * 400) as when it runs the use case in process (the embedded stack).
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { z } from 'zod';
import type { DispatchRoundInput, DispatchRoundResult } from '../use-cases/dispatch-round.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../use-cases/errors.js';

export type RoundDispatcher = (input: DispatchRoundInput) => Promise<DispatchRoundResult>;

/** What Lambda returns for an error the function threw. */
const FunctionErrorPayload = z.object({ errorType: z.string().max(200), errorMessage: z.string().max(10_000) });

const PASSED_ON: Record<string, new (message: string) => Error> = {
  NotFoundError,
  ConflictError,
  InvalidInputError,
  ZodError: InvalidInputError,
};

/**
 * A dispatcher that invokes `functionName` synchronously.
 *
 * @example const dispatch = lambdaDispatcher(new LambdaClient({}), process.env.GOLDLINE_DISPATCH_ROUND_FUNCTION!);
 */
export function lambdaDispatcher(client: LambdaClient, functionName: string): RoundDispatcher {
  return async (input) => {
    const r = await client.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(input)) }),
    );
    const text = new TextDecoder().decode(r.Payload ?? new Uint8Array());
    if (r.FunctionError) {
      const e = FunctionErrorPayload.safeParse(safeJson(text));
      const Known = e.success ? PASSED_ON[e.data.errorType] : undefined;
      if (Known && e.success) throw new Known(e.data.errorMessage);
      throw new Error(`DispatchRound failed (${r.FunctionError}): ${e.success ? e.data.errorType : 'unreadable error'}`);
    }
    return JSON.parse(text) as DispatchRoundResult;
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
