/**
 * Regression (found in review; fixed): A dispatch retried after a crash re-plans from the cases still pending, but
 * the round record (written once, first run) keeps the first plan's batch ids
 * and the stored answer keys keep the first plan's items. Batches of the first
 * plan that the re-plan no longer produces are never created nor started (the
 * round can never complete), and a batch whose key was stored before the crash
 * gets its record (itemCount, goldCount → price, realItems) from the re-plan.
 */
import { describe, expect, it, vi } from 'vitest';
import type { LedgerEvent } from '../../functions/domain/model/index.js';
import { loadBatchKey } from '../../functions/use-cases/batch-key.js';
import { dispatchRound } from '../../functions/use-cases/dispatch-round.js';
import { PROGRAM, program } from './scenario.js';

const input = { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm' };

describe('review: dispatchRound retried after a crash', () => {
  it.each([
    ['the 2nd createBatch (record from the re-plan, key from the first plan)', 2],
    ['the 4th createBatch (the re-plan no longer has that batch)', 4],
  ])('creates and starts every batch the round record lists, each matching its answer key — crash on %s', async (_what, crashAt) => {
    // 200 cases, batches of 50, two vendors at 50 % → 2 batches each.
    const deps = await program({ cases: 200, gold: 40 });
    // The first run dies on a batch's createBatch (after that batch's key and the
    // earlier batches' case states were written): a Lambda timeout or throttle.
    const create = deps.repo.createBatch.bind(deps.repo);
    let calls = 0;
    vi.spyOn(deps.repo, 'createBatch').mockImplementation(async (b) => {
      if (++calls === crashAt) throw new Error('ProvisionedThroughputExceededException');
      return create(b);
    });
    await expect(dispatchRound(deps, input)).rejects.toThrow();

    await dispatchRound(deps, input); // the retry

    const round = (await deps.repo.getRound(PROGRAM, 1))!;
    const problems: string[] = [];
    for (const id of round.batchIds) {
      const b = await deps.repo.getBatch(id);
      if (!b) {
        problems.push(`${id}: listed in the round, never created`);
        continue;
      }
      if (!deps.workflows.started.some((s) => s.name === id)) problems.push(`${id}: never started`);
      const key = await loadBatchKey(deps, id);
      const gold = key.items.filter((i) => i.gold).length;
      if (b.itemCount !== key.items.length || b.goldCount !== gold) {
        problems.push(`${id}: record says ${b.itemCount} items / ${b.goldCount} gold, answer key has ${key.items.length} / ${gold}`);
      }
    }
    // Every case the retry left 'assigned' belongs to a batch that exists.
    const cases = await deps.repo.listCases(PROGRAM);
    for (const c of cases.filter((x) => x.state === 'assigned')) {
      const batchId = (c as unknown as { batchId: string }).batchId;
      if (!(await deps.repo.getBatch(batchId))) problems.push(`${c.caseId}: assigned to missing batch ${batchId}`);
    }
    expect(problems).toEqual([]);
    const ledger: LedgerEvent[] = await deps.repo.listLedger(PROGRAM);
    expect(ledger.filter((e) => e.type === 'batch.dispatched')).toHaveLength(round.batchIds.length);
  });
});
