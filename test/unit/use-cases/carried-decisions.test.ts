/**
 * Three-way batch decisions through the lifecycle (issue 11): an inconclusive
 * batch is held — never penalised, not paid yet, its cases still assigned — and
 * its gold is carried into the SPRT with the vendor's next batch, whose
 * conclusive decision settles it the same way, once, crash or no crash.
 */
import { describe, expect, it } from 'vitest';
import { finalizeBatch } from '../../../functions/use-cases/finalize-batch.js';
import { decideHeldBatches } from '../../../functions/use-cases/held-batches.js';
import { scoreSubmission } from '../../../functions/use-cases/score-submission.js';
import { settleBatch } from '../../../functions/use-cases/settle-batch.js';
import { getVendorBatch } from '../../../functions/use-cases/vendor-portal.js';
import { P, REAL, setup, submittedBatch } from '../../support/carried-batches.js';
import type { FakeDeps } from '../fakes.js';

/** Score → settle (→ finalize when conclusive), as the state machine runs them. */
async function lifecycle(deps: FakeDeps, batchId: string): Promise<string> {
  const { verdict } = await scoreSubmission(deps, { batchId });
  await settleBatch(deps, { batchId, verdict });
  if (verdict !== 'inconclusive') await finalizeBatch(deps, { batchId });
  return verdict;
}

const statusOf = async (deps: FakeDeps, id: string) => (await deps.repo.getBatch(id))!.status;
const casesOf = async (deps: FakeDeps, n: number) =>
  (await deps.repo.listCases(P)).filter((c) => c.caseId.startsWith(`case-${n}-`)).map((c) => [c.state, c.batchId]);
const ledgerOf = (deps: FakeDeps) => deps.repo.listLedger(P);

describe('Use case: three-way decisions, carried batches', () => {
  it('holds a 6/6 batch inconclusive (no charge, cases kept), then settles it with the next batch whose pooled gold accepts both', async () => {
    const deps = await setup();
    const b1 = await submittedBatch(deps, 1, 6, 0);

    expect(await lifecycle(deps, b1)).toBe('inconclusive');
    expect(await statusOf(deps, b1)).toBe('inconclusive');
    expect(await casesOf(deps, 1)).toEqual(Array.from({ length: REAL }, () => ['assigned', b1]));
    const held = (await ledgerOf(deps)).find((e) => e.type === 'batch.inconclusive')!;
    expect(held.data).toMatchObject({ goldN: 6, pricePerCase: 2, decision: { decision: 'inconclusive', rule: 'sprt', evidence: { n: 6, wrong: 0, batches: 1 } } });
    expect((await ledgerOf(deps)).some((e) => e.type === 'batch.accepted' || e.type === 'batch.rejected')).toBe(false);
    // The vendor's view of its batch says which rule held it and on what evidence.
    expect((await getVendorBatch(deps, { workforceId: 'vendor-a', batchId: b1 })).decision).toMatchObject({
      outcome: 'inconclusive',
      rule: 'sprt',
      reason: expect.stringMatching(/^inconclusive: 0 wrong of 6 gold items over 1 batch/),
    });

    const b2 = await submittedBatch(deps, 2, 12, 0);
    expect(await lifecycle(deps, b2)).toBe('accepted');

    const ledger = await ledgerOf(deps);
    const own = ledger.find((e) => e.eventId === `${b2}:accepted`)!;
    expect(own.type === 'batch.accepted' && own.data.decision).toMatchObject({ decision: 'accept', rule: 'sprt', evidence: { n: 18, wrong: 0, batches: 2 }, carried: [b1] });
    const carried = ledger.find((e) => e.eventId === `${b1}:carried`)!;
    expect(carried).toMatchObject({ type: 'batch.accepted', data: { decidedWith: b2, penalty: 0, charge: (REAL + 6) * 2, decision: { carried: [b1] } } });
    expect(carried.reason).toMatch(new RegExp(`^accepted with ${b2}: accepted: 0 wrong of 18 gold items over 2 batches`));
    expect([await statusOf(deps, b1), await statusOf(deps, b2)]).toEqual(['accepted', 'accepted']);
    expect(await casesOf(deps, 1)).toEqual(Array.from({ length: REAL }, () => ['labelled', b1]));
    expect((await deps.repo.listBatchLabels(b1)).every((l) => l.status === 'accepted')).toBe(true);
    expect((await getVendorBatch(deps, { workforceId: 'vendor-a', batchId: b1 })).decision).toMatchObject({ outcome: 'accept', settledWith: b2, reason: expect.stringMatching(new RegExp(`^accepted with ${b2}: accepted: 0 wrong of 18`)) });
    expect(ledger.find((e) => e.eventId === `${b1}:labels`)).toMatchObject({ type: 'labels.recorded', data: { caseIds: Array.from({ length: REAL }, (_, i) => `case-1-${i}`) } });
  });

  it('rejects two carried batches with the batch that crosses the reject bound: penalty applied, cases re-queued away from the vendor', async () => {
    const deps = await setup();
    const b1 = await submittedBatch(deps, 1, 6, 1);
    const b2 = await submittedBatch(deps, 2, 6, 1);
    expect(await lifecycle(deps, b1)).toBe('inconclusive');
    expect(await lifecycle(deps, b2)).toBe('inconclusive');
    const b3 = await submittedBatch(deps, 3, 6, 2);

    expect(await lifecycle(deps, b3)).toBe('rejected');

    const ledger = await ledgerOf(deps);
    const own = ledger.find((e) => e.eventId === `${b3}:rejected`)!;
    expect(own.type === 'batch.rejected' && own.data.decision).toMatchObject({ decision: 'reject', evidence: { n: 18, wrong: 4, batches: 3 }, carried: [b1, b2] });
    for (const [n, id] of [[1, b1], [2, b2]] as const) {
      expect(await statusOf(deps, id)).toBe('rejected');
      expect(ledger.find((e) => e.eventId === `${id}:carried`)).toMatchObject({ type: 'batch.rejected', data: { decidedWith: b3, penalty: 1, charge: 0 } });
      expect(ledger.find((e) => e.eventId === `${id}:requeued`)).toMatchObject({ data: { exclude: 'vendor-a', cases: REAL } });
      expect(await casesOf(deps, n)).toEqual(Array.from({ length: REAL }, () => ['pending', id]));
    }
  });

  it('carries held batches only into the first batch of the next round, so batches decided at once never share evidence', async () => {
    const deps = await setup();
    const b1 = await submittedBatch(deps, 1, 6, 0);
    await lifecycle(deps, b1);
    const first = await submittedBatch(deps, 2, 12, 0, 2);
    const second = await submittedBatch(deps, 3, 12, 0, 2);

    // Scored in either order, the second batch of round 2 decides on its own 12 gold items.
    expect(await lifecycle(deps, second)).toBe('inconclusive');
    expect(await lifecycle(deps, first)).toBe('accepted');

    expect((await deps.repo.getScore(second))?.decision).toMatchObject({ evidence: { n: 12, batches: 1 }, carried: [] });
    expect((await deps.repo.getScore(first))?.decision).toMatchObject({ evidence: { n: 18, batches: 2 }, carried: [b1] });
    expect([await statusOf(deps, b1), await statusOf(deps, second)]).toEqual(['accepted', 'inconclusive']);
  });

  it('settles a held batch once when its deciding batch is resumed after a crash between its decision event and the carried settlement', async () => {
    const deps = await setup();
    const b1 = await submittedBatch(deps, 1, 6, 0);
    await lifecycle(deps, b1);
    const b2 = await submittedBatch(deps, 2, 12, 0);
    const { verdict } = await scoreSubmission(deps, { batchId: b2 });
    // The crash: b2's decision (the commit point) is appended, the carried batch's settlement is not.
    const appendOnce = deps.repo.appendLedger.bind(deps.repo);
    let own = false;
    deps.repo.appendLedger = async (e) => {
      if (e.eventId === `${b2}:accepted`) own = true;
      else if (own && e.eventId === `${b1}:carried`) throw new Error('process killed');
      return appendOnce(e);
    };
    await expect(settleBatch(deps, { batchId: b2, verdict })).rejects.toThrow('process killed');
    expect((await ledgerOf(deps)).map((e) => e.eventId)).toContain(`${b2}:accepted`);
    expect([await statusOf(deps, b1), await statusOf(deps, b2)]).toEqual(['inconclusive', 'submitted']);

    // Resume: the state's retry runs settle again, then finalize; a second finalize (another retry) changes nothing.
    deps.repo.appendLedger = appendOnce;
    await settleBatch(deps, { batchId: b2, verdict });
    await finalizeBatch(deps, { batchId: b2 });
    await finalizeBatch(deps, { batchId: b2 });

    const ledger = await ledgerOf(deps);
    const count = (id: string) => ledger.filter((e) => e.eventId === id).length;
    expect([count(`${b2}:accepted`), count(`${b1}:carried`), count(`${b1}:labels`), count(`${b2}:labels`)]).toEqual([1, 1, 1, 1]);
    expect(await statusOf(deps, b1)).toBe('accepted');
    expect(await casesOf(deps, 1)).toEqual(Array.from({ length: REAL }, () => ['labelled', b1]));
    expect(await deps.repo.listBatchLabels(b1)).toHaveLength(REAL + 6);
  });

  it('completes the finalize of a carried batch when resumed after a crash between its labels event and its labels', async () => {
    const deps = await setup();
    const b1 = await submittedBatch(deps, 1, 6, 0);
    await lifecycle(deps, b1);
    const b2 = await submittedBatch(deps, 2, 12, 0);
    const { verdict } = await scoreSubmission(deps, { batchId: b2 });
    await settleBatch(deps, { batchId: b2, verdict });
    const putLabels = deps.repo.putLabels.bind(deps.repo);
    deps.repo.putLabels = async () => {
      throw new Error('process killed');
    };
    await expect(finalizeBatch(deps, { batchId: b2 })).rejects.toThrow();
    deps.repo.putLabels = putLabels;

    await finalizeBatch(deps, { batchId: b2 });

    expect(await casesOf(deps, 1)).toEqual(Array.from({ length: REAL }, () => ['labelled', b1]));
    expect(await deps.repo.listBatchLabels(b1)).toHaveLength(REAL + 6);
    expect((await ledgerOf(deps)).filter((e) => e.eventId === `${b1}:labels`)).toHaveLength(1);
  });

  it('takes the decision recorded before a crash when scoring is retried, not a new one on a pool that moved', async () => {
    const deps = await setup();
    const b1 = await submittedBatch(deps, 1, 6, 0);
    await lifecycle(deps, b1);
    const b2 = await submittedBatch(deps, 2, 12, 0);
    const putScore = deps.repo.putScore.bind(deps.repo);
    deps.repo.putScore = async () => {
      throw new Error('process killed');
    };
    await expect(scoreSubmission(deps, { batchId: b2 })).rejects.toThrow();
    deps.repo.putScore = putScore;
    // Meanwhile the held batch leaves the pool (as if another decision had settled it).
    await deps.repo.transitionBatch(b1, ['inconclusive'], 'accepted');

    const r = await scoreSubmission(deps, { batchId: b2 });

    expect(r.verdict).toBe('accepted');
    expect((await deps.repo.getScore(b2))?.decision).toMatchObject({ evidence: { n: 18, batches: 2 }, carried: [b1] });
  });

  it('decides held batches no further batch will decide by the SPRT truncation rule, once, when a PM asks (re-run after a crash: the same decision)', async () => {
    const deps = await setup();
    const b1 = await submittedBatch(deps, 1, 6, 0);
    const b2 = await submittedBatch(deps, 2, 6, 0);
    await lifecycle(deps, b1);
    // b2 pools b1 (12 of 12 right) and is still inconclusive: both held.
    expect(await lifecycle(deps, b2)).toBe('inconclusive');
    const held = [b1, b2];
    const append = deps.repo.appendLedger.bind(deps.repo);
    let carried = 0;
    deps.repo.appendLedger = async (e) => {
      if (e.eventId.endsWith(':carried') && ++carried === 2) throw new Error('process killed');
      return append(e);
    };
    const ask = { programId: P, workforceId: 'vendor-a', protocol: 'chest-xray@1', reason: 'program closed', actor: 'pm:alice' };
    await expect(decideHeldBatches(deps, ask)).rejects.toThrow('process killed');
    deps.repo.appendLedger = append;

    const r = await decideHeldBatches(deps, ask);
    const again = await decideHeldBatches(deps, { ...ask, reason: 'asked again', actor: 'pm:bob' });

    expect(r.decision).toBe('accepted');
    expect(r.batches).toEqual(held);
    expect(r.reason).toMatch(/^accepted without further gold: 0 wrong of \d+ gold items over \d held batch/);
    expect(again).toEqual({ decision: 'none', batches: [], reason: `vendor-a has no held batch of chest-xray@1` });
    const ledger = await ledgerOf(deps);
    // Who asked and why, once, under the decision's id.
    const asked = ledger.filter((e) => e.type === 'held-batches.decided');
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ eventId: r.decisionId, actor: 'pm:alice', reason: 'program closed', subject: 'vendor-a', data: { batchIds: held, decision: { rule: 'sprt-forced', decision: 'accept' } } });
    for (const id of held) {
      expect(ledger.filter((e) => e.eventId === `${id}:carried`)).toHaveLength(1);
      expect(ledger.find((e) => e.eventId === `${id}:carried`)).toMatchObject({ data: { decision: { rule: 'sprt-forced' }, decidedWith: `forced:${P}:vendor-a:${held.at(-1)}` } });
      expect(await statusOf(deps, id)).toBe('accepted');
    }
    expect(await casesOf(deps, 1)).toEqual(Array.from({ length: REAL }, () => ['labelled', b1]));
    expect(await casesOf(deps, 2)).toEqual(Array.from({ length: REAL }, () => ['labelled', b2]));
  });

  it('decides held batches once when two PMs ask at the same time: one held-batches.decided, one carried verdict per batch', async () => {
    const deps = await setup();
    const b1 = await submittedBatch(deps, 1, 6, 0);
    await lifecycle(deps, b1);
    const ask = { programId: P, workforceId: 'vendor-a', protocol: 'chest-xray@1', actor: 'pm:alice' };

    const both = await Promise.all([decideHeldBatches(deps, { ...ask, reason: 'program closed' }), decideHeldBatches(deps, { ...ask, reason: 'vendor out of work' })]);

    expect(both.map((r) => r.decision)).toEqual(['accepted', 'accepted']);
    const ledger = await ledgerOf(deps);
    expect(ledger.filter((e) => e.type === 'held-batches.decided')).toHaveLength(1);
    expect(ledger.filter((e) => e.eventId === `${b1}:carried`)).toHaveLength(1);
    expect(ledger.filter((e) => e.eventId === `${b1}:labels`)).toHaveLength(1);
    expect(await statusOf(deps, b1)).toBe('accepted');
  });

  it('refuses a held-batch decision without a reason, or for a workforce the program does not have, before deciding anything', async () => {
    const deps = await setup();
    const b1 = await submittedBatch(deps, 1, 6, 0);
    await lifecycle(deps, b1);
    const ask = { programId: P, workforceId: 'vendor-a', protocol: 'chest-xray@1', actor: 'pm:alice', reason: 'program closed' };

    await expect(decideHeldBatches(deps, { ...ask, reason: ' ' })).rejects.toThrow(/^reason: /);
    await expect(decideHeldBatches(deps, { ...ask, workforceId: 'vendor-x' })).rejects.toThrow(`workforce vendor-x not found in program ${P}`);
    await expect(decideHeldBatches(deps, { ...ask, protocol: 'chest-xray' })).rejects.toThrow(/^protocol: a protocol version as id@version/);

    expect((await ledgerOf(deps)).some((e) => e.type === 'held-batches.decided' || e.eventId === `${b1}:carried`)).toBe(false);
    expect(await statusOf(deps, b1)).toBe('inconclusive');
  });
});
