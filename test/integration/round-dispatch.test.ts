/**
 * A round's dispatch in chunks on the embedded stack: the round-dispatch state
 * machine (workflows/round-dispatch.asl.json) run by the local runner — PlanRound,
 * an inline Map over chunks, DispatchChunk — with two batches a chunk, so a
 * few hundred cases make at least three chunks.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandomSource } from '../../functions/domain/index.js';
import type { PlannedRound } from '../../functions/use-cases/plan-round.js';
import { dispatchRoundViaWorkflow, roundExecutionName } from '../../functions/use-cases/round-workflow.js';
import { verifyLedger } from '../../functions/use-cases/ledger-verify.js';
import { PROGRAM_ID } from '../../infra/local/demo/example-program.js';
import { setUpDemoProgram } from '../../infra/local/demo/run-demo.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';
import { until } from './helpers.js';

const input = { programId: PROGRAM_ID, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm:test', chunkBatches: 2 };

async function programStack(): Promise<LocalStack> {
  const stack = await startLocalStack({ random: seededRandomSource(23) });
  // 300 work cases: the internal team and two vendors, batches of at most 60 → 6 batches.
  await setUpDemoProgram(stack, { cases: 334, goldFraction: 0.1, seed: 23 });
  return stack;
}

/** What a round's dispatch left in the store: each problem named (empty: every batch dispatched and started once). */
async function dispatchProblems(stack: LocalStack): Promise<string[]> {
  const { repo } = stack.deps;
  const round = (await repo.getRound(PROGRAM_ID, 1))!;
  const problems: string[] = [];
  const ledger = await repo.listLedger(PROGRAM_ID);
  const dispatched = ledger.filter((e) => e.type === 'batch.dispatched').map((e) => e.subject);
  if (dispatched.length !== round.batchIds.length || new Set(dispatched).size !== dispatched.length) {
    problems.push(`batch.dispatched for ${dispatched.length} batches (${new Set(dispatched).size} distinct), round lists ${round.batchIds.length}`);
  }
  const assigned = new Map<string, string>();
  for (const id of round.batchIds) {
    const b = await repo.getBatch(id);
    if (!b) problems.push(`${id}: no batch record`);
    if (!stack.runner.executions.has(id)) problems.push(`${id}: no execution`);
    const e = ledger.find((x) => x.eventId === `${id}:dispatched`);
    for (const c of e?.type === 'batch.dispatched' ? e.data.caseIds : []) {
      if (assigned.has(c)) problems.push(`${c} in ${assigned.get(c)} and ${id}`);
      assigned.set(c, id);
    }
  }
  for (const name of stack.runner.executions.keys()) if (!round.batchIds.includes(name)) problems.push(`execution ${name} is no batch of the round`);
  for (const c of await repo.listCases(PROGRAM_ID)) {
    if (c.state === 'assigned' && assigned.get(c.caseId) !== c.batchId) problems.push(`${c.caseId} assigned to ${c.batchId}, dispatched in ${assigned.get(c.caseId)}`);
  }
  // PrepareManifest ran once per batch execution (one execution per name, never a second start).
  await until('manifests of every batch', async () => (await Promise.all(round.batchIds.map((id) => repo.getBatch(id)))).every((b) => b?.status === 'awaiting-submission'), 60_000);
  for (const [name, rec] of stack.runner.executions) {
    const prepared = rec.events.filter((e) => e.type === 'StateEntered' && e.state === 'PrepareManifest').length;
    if (prepared !== 1) problems.push(`${name}: PrepareManifest entered ${prepared} times`);
  }
  const chain = await verifyLedger(stack.deps, { programId: PROGRAM_ID });
  problems.push(...chain.problems.filter((p) => p.kind !== 'duplicate').map((p) => `ledger: ${p.message}`));
  return problems;
}

describe('Round dispatch in chunks (workflows/round-dispatch.asl.json) on the embedded stack', () => {
  let stack: LocalStack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it('dispatches a round split into three or more chunks, every batch once, through PlanRound, the Map and DispatchChunk', async () => {
    stack = await programStack();
    const result = await dispatchRoundViaWorkflow(stack.deps, input);

    const round = (await stack.deps.repo.getRound(PROGRAM_ID, 1))!;
    expect(result.chunks).toBeGreaterThanOrEqual(3);
    expect(round.chunkSha256s).toHaveLength(result.chunks!);
    expect(result.batches.map((b) => b.batchId)).toEqual(round.batchIds);
    const execution = stack.roundRunner.executions.get(roundExecutionName(PROGRAM_ID, 1))!;
    expect(execution.status).toBe('SUCCEEDED');
    const out = execution.output as { plan: PlannedRound; dispatched: { chunk: number; batches: number }[] };
    expect(out.dispatched.map((d) => d.chunk)).toEqual(out.plan.chunks.map((c) => c.chunk));
    expect(out.dispatched.reduce((s, d) => s + d.batches, 0)).toBe(round.batchIds.length);
    expect(out.dispatched.every((d) => d.batches <= 2)).toBe(true);
    expect(await dispatchProblems(stack)).toEqual([]);
  }, 240_000);

  it('completes a round whose dispatch died after the round record and one chunk, starting no batch twice and keeping the plan', async () => {
    stack = await programStack();
    const { handlers } = stack;
    // The first dispatch: PlanRound and the first chunk's DispatchChunk, as its execution ran them; then the process dies.
    const plan = (await handlers.PlanRound(input)) as PlannedRound;
    expect(plan.chunks.length).toBeGreaterThanOrEqual(3);
    await handlers.DispatchChunk(plan.chunks[0]);
    const keyOf = async (id: string) =>
      createHash('sha256')
        .update(JSON.stringify(await stack!.deps.objects.getJson(stack!.deps.buckets.gold, `batch-keys/${id}.json`)))
        .digest('hex');
    const round = (await stack.deps.repo.getRound(PROGRAM_ID, 1))!;
    const firstKeys = await Promise.all(round.batchIds.slice(0, 2).map(keyOf));

    const result = await dispatchRoundViaWorkflow(stack.deps, input);

    expect(result.batches.map((b) => b.batchId)).toEqual(round.batchIds);
    // The batches the first run never reached are reported rebuilt from the committed plan; the first chunk's are not.
    expect(result.rebuiltBatchRecords).toEqual(round.batchIds.slice(2));
    expect(await Promise.all(round.batchIds.slice(0, 2).map(keyOf))).toEqual(firstKeys);
    expect((await stack.deps.repo.listLedger(PROGRAM_ID)).filter((e) => e.type === 'round.planned')).toHaveLength(1);
    expect(await dispatchProblems(stack)).toEqual([]);
  }, 240_000);
});
