import { describe, expect, it, vi } from 'vitest';
import type { LedgerEvent } from '../../../functions/domain/model/index.js';
import { loadBatchKey } from '../../../functions/use-cases/batch-key.js';
import { dispatchRound } from '../../../functions/use-cases/dispatch-round.js';
import { PROGRAM, program } from '../../support/scenario.js';

const input = { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm' };

describe('Use case: dispatchRound', () => {
  // Found in review: a dispatch retried after a crash re-planned from the pending cases while the round record kept the first plan's batch ids and answer keys, so listed batches were never created or started.
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

  // Found in review: gold for vendor batches was drawn from the whole gold pool, bypassing routing and the de-identification gate.
  it('never puts a gold case that may not leave the building into a vendor batch', async () => {
    const deps = await program({
      cases: 40,
      gold: 10,
      protocol: {
        routing: {
          rules: [{ id: 'sensitive-inside', when: [{ attribute: 'flags.sensitive', op: 'isTrue' }], route: { pool: 'internal' }, reason: 'kept inside' }],
          default: { pool: 'vendor' },
        },
      },
      // Every gold case fails the gate one way or another.
      goldCase: (i) =>
        i % 3 === 0
          ? { deidentified: false }
          : i % 3 === 1
            ? { deidentificationFindings: ['PatientName (0010,0010) present'] }
            : { flags: { sensitive: true } },
    });
    const r = await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm' });
    const leaked: string[] = [];
    for (const b of r.batches) {
      const key = await loadBatchKey(deps, b.batchId);
      leaked.push(...key.items.filter((i) => i.gold).map((i) => `${b.workforceId}:${i.caseId}`));
    }
    expect(leaked).toEqual([]);
  });

  // Second review: a re-run of a committed round re-assigned cases that a closed batch of the same round had re-queued, to that dead batch, so they were never labelled.
  it('leaves cases re-queued by a closed batch of the round pending when the round is dispatched again', async () => {
    const deps = await program({ cases: 40, gold: 10 });
    const first = await dispatchRound(deps, input);
    const closed = first.batches[0].batchId;
    // The batch misses its SLA: overdue, its real cases re-queued away from the vendor.
    await deps.repo.transitionBatch(closed, ['planned'], 'overdue');
    const real = (await loadBatchKey(deps, closed)).items.filter((i) => !i.gold).map((i) => i.caseId);
    await deps.repo.requeueCases(PROGRAM, real, { batchId: closed, exclude: first.batches[0].workforceId });
    expect((await deps.repo.listCases(PROGRAM)).filter((c) => real.includes(c.caseId)).every((c) => c.state === 'pending')).toBe(true);

    await dispatchRound(deps, input); // a retried / repeated dispatch of the committed round

    const states = (await deps.repo.listCases(PROGRAM)).filter((c) => real.includes(c.caseId)).map((c) => c.state);
    expect(states.every((s) => s === 'pending')).toBe(true);
  });
});
