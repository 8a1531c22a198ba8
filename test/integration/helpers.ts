/** Shared set-up for integration tests on the embedded stack. */
import { seededRandomSource } from '../../functions/domain/index.js';
import { dispatchRound } from '../../functions/use-cases/dispatch-round.js';
import type { BatchRecord } from '../../functions/use-cases/ports.js';
import { type DemoAcceptance, PROGRAM_ID } from '../../infra/local/demo/example-program.js';
import { setUpDemoProgram } from '../../infra/local/demo/run-demo.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';

export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A stack with the demo program set up and round 1 dispatched; batches await submissions. */
export async function stackWithOpenRound(opts: { cases?: number; seed?: number; limit?: number; acceptance?: DemoAcceptance } = {}): Promise<{
  stack: LocalStack;
  batches: BatchRecord[];
}> {
  const seed = opts.seed ?? 11;
  const stack = await startLocalStack({ random: seededRandomSource(seed) });
  await setUpDemoProgram(stack, { cases: opts.cases ?? 200, goldFraction: 0.1, seed, acceptance: opts.acceptance });
  await dispatchRound(stack.deps, {
    programId: PROGRAM_ID,
    protocolId: 'chest-xray',
    version: 1,
    round: 1,
    limit: opts.limit,
    actor: 'pm:test',
  });
  const batches = await stack.deps.repo.listRoundBatches(PROGRAM_ID, 1);
  await until('batches awaiting submission', async () => {
    const all = await Promise.all(batches.map((b) => stack.deps.repo.getBatch(b.batchId)));
    return all.every((b) => b?.status === 'awaiting-submission');
  });
  return { stack, batches: await stack.deps.repo.listRoundBatches(PROGRAM_ID, 1) };
}
