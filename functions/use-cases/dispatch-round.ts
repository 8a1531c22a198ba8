/**
 * Dispatch a round — primary course (the steps of workflows/round-dispatch.asl.json):
 * 1. PlanRound (plan-round.ts): shares, a paged plan with hidden gold and
 *    aliases, written as chunk objects; `round.planned`; the round record
 *    (the commit point); each workforce's gold history.
 * 2. DispatchChunk (dispatch-chunk.ts), per chunk: batch keys, `batch.dispatched`,
 *    batch records, case states, one lifecycle execution per batch (by name).
 *
 * In AWS the state machine runs the steps, each chunk in its own invocation.
 * `dispatchRound` runs the same steps in one process, one chunk after another:
 * for rounds small enough (tests, the CLI's offline tools) and as the
 * reference the workflow must equal.
 */
import type { RoutingDecision, Shares } from '../domain/index.js';
import { type DispatchedChunk, dispatchRoundChunk } from './dispatch-chunk.js';
import { type DispatchRoundInput, type PlannedRound, planRoundChunks } from './plan-round.js';
import type { Deps } from './ports.js';

export { batchExecutionInput } from './dispatch-chunk.js';
export { batchIdFor, type DispatchRoundInput } from './plan-round.js';

export interface DispatchRoundResult {
  round: number;
  shares: Shares;
  routing: Record<string, number>;
  excluded: RoutingDecision[];
  deferred: { caseId: string; reason: string }[];
  batches: { batchId: string; workforceId: string; items: number; gold: number }[];
  overlaps: { caseId: string; primary: string; secondary: string }[];
  /**
   * A retry after the commit point (the round record) reconciles the store with
   * it: the batch records it had to rebuild from their stored answer keys.
   */
  rebuiltBatchRecords: string[];
  /** A PM's explicit assignments (assignments.ts) this plan honoured, and those it could not, with why (absent on a retry). */
  assignments?: { honoured: { caseId: string; workforceId: string }[]; ignored: { caseId: string; workforceId: string; reason: string }[] };
  /** How many chunks the round's dispatch took. */
  chunks?: number;
}

/**
 * The answer of a round's dispatch, from its plan and its dispatched chunks.
 * Routing of a round found committed is counted from its batches (real items).
 */
export function dispatchRoundResult(plan: PlannedRound, chunks: readonly DispatchedChunk[]): DispatchRoundResult {
  const batches = chunks.flatMap((c) => c.batches);
  let routing = plan.routing;
  if (Object.keys(routing).length === 0) {
    routing = {};
    for (const b of batches) routing[b.workforceId] = (routing[b.workforceId] ?? 0) + b.items - b.gold;
  }
  return {
    round: plan.round,
    shares: plan.shares,
    routing,
    excluded: plan.excluded,
    deferred: plan.deferred,
    overlaps: plan.overlaps,
    ...(plan.assignments ? { assignments: plan.assignments } : {}),
    rebuiltBatchRecords: chunks.flatMap((c) => c.rebuiltBatchRecords),
    batches,
    chunks: plan.chunks.length,
  };
}

/**
 * Plans and dispatches a round in this process (PlanRound, then every chunk in order).
 *
 * @example await dispatchRound(deps, { programId: 'demo-cxr', protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm:ana' })
 */
export async function dispatchRound(deps: Deps, input: DispatchRoundInput): Promise<DispatchRoundResult> {
  const plan = await planRoundChunks(deps, input);
  const done: DispatchedChunk[] = [];
  for (const ref of plan.chunks) done.push(await dispatchRoundChunk(deps, ref));
  return dispatchRoundResult(plan, done);
}
