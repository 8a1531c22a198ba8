/**
 * Dispatching a round through its state machine (workflows/round-dispatch.asl.json):
 * what the DispatchRound function does when the API's dispatch route invokes it.
 * Primary course:
 * 1. Find the round's execution by its deterministic name (`<program>-r<round>`;
 *    after a finished one, `-a2`, `-a3`, …): join it while it runs, else start
 *    the next one. A dispatch asked again for a dispatched round runs again and
 *    reconciles the store with the round record (or is refused, as dispatchRound is).
 * 2. Wait for it; a refusal of PlanRound (no protocol, another protocol's round,
 *    no workforces) comes back as the same error class.
 * 3. Answer with the plan's summary and the round's batches (read from the store).
 */
import { dispatchRoundResult, type DispatchRoundResult } from './dispatch-round.js';
import { ConflictError, InvalidInputError, NotFoundError } from './errors.js';
import type { DispatchRoundInput, PlannedRound } from './plan-round.js';
import type { Deps, RoundExecution } from './ports.js';

/** How long the dispatch waits for the execution (the function's timeout is 300 s; API Gateway's 30 s comes first for the API). */
export const ROUND_WAIT_SECONDS = 240;
/** Executions under one round's name before the dispatch gives up: each finished execution keeps its name. */
const MAX_ATTEMPTS = 100;

export class RoundDispatchFailedError extends Error {
  override readonly name = 'RoundDispatchFailedError';
}

const PASSED_ON: Record<string, new (message: string) => Error> = { NotFoundError, ConflictError, InvalidInputError, ZodError: InvalidInputError };

/** The name of a round's n-th dispatch execution (Step Functions: at most 80 of [A-Za-z0-9-_]). */
export const roundExecutionName = (programId: string, round: number, attempt = 1): string =>
  `${programId}-r${round}${attempt > 1 ? `-a${attempt}` : ''}`;

interface ExecutionOutput {
  plan: PlannedRound;
  dispatched: { chunk: number; batches: number; rebuiltBatchRecords: string[]; started: number }[];
}

/**
 * Starts (or finds) the round's dispatch execution, waits for it and answers as dispatchRound does.
 *
 * @example await dispatchRoundViaWorkflow(deps, { programId: 'demo-cxr', protocolId: 'chest-xray', version: 1, round: 2, actor: 'pm:ana' })
 */
export async function dispatchRoundViaWorkflow(deps: Deps, input: DispatchRoundInput, waitSeconds = ROUND_WAIT_SECONDS): Promise<DispatchRoundResult> {
  const rounds = deps.rounds;
  if (!rounds) throw new Error('no round-dispatch state machine is configured (GOLDLINE_ROUND_STATE_MACHINE_ARN)');
  let name: string | undefined;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS && !name; attempt++) {
    const candidate = roundExecutionName(input.programId, input.round, attempt);
    const seen = await rounds.roundExecution(candidate, 0);
    if (seen.status === 'FAILED' || seen.status === 'SUCCEEDED') continue;
    if (seen.status === 'MISSING') await rounds.startRound(candidate, input);
    name = candidate;
  }
  if (!name) throw new RoundDispatchFailedError(`round ${input.round} of program ${input.programId}: ${MAX_ATTEMPTS} dispatch executions ran already`);
  const outcome: RoundExecution = await rounds.roundExecution(name, waitSeconds);
  if (outcome.status === 'FAILED') {
    const Known = outcome.error ? PASSED_ON[outcome.error.name] : undefined;
    if (Known && outcome.error) throw new Known(outcome.error.message);
    throw new RoundDispatchFailedError(`round dispatch ${name} failed: ${outcome.error?.name ?? 'unknown error'}: ${outcome.error?.message ?? ''}`);
  }
  if (outcome.status !== 'SUCCEEDED') {
    throw new RoundDispatchFailedError(`round dispatch ${name} is still running after ${waitSeconds} s: see GET /v1/programs/${input.programId}/rounds/${input.round}`);
  }
  const out = outcome.output as ExecutionOutput;
  // The round's batches in the plan's order (the round record lists them so).
  const order = new Map(((await deps.repo.getRound(input.programId, input.round))?.batchIds ?? []).map((id, i) => [id, i]));
  const batches = (await deps.repo.listRoundBatches(input.programId, input.round)).sort(
    (a, b) => (order.get(a.batchId) ?? Number.MAX_SAFE_INTEGER) - (order.get(b.batchId) ?? Number.MAX_SAFE_INTEGER),
  );
  const result = dispatchRoundResult(out.plan, [
    {
      chunk: 0,
      batches: batches.map((b) => ({ batchId: b.batchId, workforceId: b.workforceId, items: b.itemCount, gold: b.goldCount })),
      rebuiltBatchRecords: out.dispatched.flatMap((d) => d.rebuiltBatchRecords),
      started: out.dispatched.reduce((s, d) => s + d.started, 0),
    },
  ]);
  return { ...result, chunks: out.plan.chunks.length };
}
