/**
 * A PM decides a vendor's held batches at the end of its work, end to end on the
 * embedded stack: the demo's default SPRT holds vendor-a's round-1 batches (6 gold
 * each cannot decide alone) and no next round comes; the PM runs `goldline program
 * decide-held` against the API served on 127.0.0.1; the decision is in the ledger
 * (who asked and why, each batch's carried verdict), the batches are settled and
 * finalized, a second ask decides nothing, and the vendor's statement bills them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LedgerEvent, type Statement, seededRandomSource } from '../../functions/domain/index.js';
import type { BatchRecord } from '../../functions/use-cases/ports.js';
import { type GoldlineIo, processIo } from '../../infra/cli/io.js';
import { runGoldline } from '../../infra/cli/program.js';
import { type ApiServer, startApiServer } from '../../infra/local/api-server.js';
import { PROGRAM_ID } from '../../infra/local/demo/example-program.js';
import { runDemo } from '../../infra/local/demo/run-demo.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';

describe('Held batches decided by a PM over HTTP (embedded stack)', () => {
  let stack: LocalStack;
  let api: ApiServer;
  let held: BatchRecord[];

  beforeAll(async () => {
    stack = await startLocalStack({ random: seededRandomSource(1) });
    api = await startApiServer({ deps: stack.deps });
    await runDemo(stack, { rounds: 1, cases: 150, goldFraction: 0.1, seed: 1, api });
    held = [];
    for (const b of await stack.deps.repo.listRoundBatches(PROGRAM_ID, 1)) {
      const batch = await stack.deps.repo.getBatch(b.batchId);
      if (batch?.workforceId === 'vendor-a' && batch.status === 'inconclusive') held.push(batch);
    }
  }, 300_000);
  afterAll(async () => {
    await api?.close();
    await stack?.stop();
  });

  const goldline = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: GoldlineIo = { ...processIo, out: (t) => out.push(t), err: (t) => err.push(t), errRaw: () => {}, errIsTTY: false, env: {} };
    const code = await runGoldline(['--endpoint', api.url, '--token', await api.issuer.issueToken('pm'), '--program', PROGRAM_ID, ...args], io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const post = async (body: unknown) =>
    fetch(`${api.url}/v1/programs/${PROGRAM_ID}/held-batches/decide`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await api.issuer.issueToken('pm')}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const statement = async (): Promise<Statement> => {
    const day = 86_400_000;
    const from = new Date(Math.floor(Date.now() / day) * day - day).toISOString();
    const to = new Date(Math.floor(Date.now() / day) * day + 2 * day).toISOString();
    const r = await fetch(`${api.url}/v1/programs/${PROGRAM_ID}/workforces/vendor-a/statement?from=${from}&to=${to}`, {
      headers: { authorization: `Bearer ${await api.issuer.issueToken('pm')}` },
    });
    expect(r.status).toBe(200);
    return (await r.json()) as Statement;
  };
  const ledger = (): Promise<LedgerEvent[]> => stack.deps.repo.listLedger(PROGRAM_ID);

  it('settles, finalizes and bills them once: the CLI command, the decision events, a second ask that decides nothing, the statement', async () => {
    expect(held.length, 'the demo (seed 1, 150 cases, one round) held no vendor-a batch').toBeGreaterThan(0);
    const ids = held.map((b) => b.batchId).sort();
    const before = await statement();
    expect(before.lines.filter((l) => ids.includes(l.batchId)).map((l) => [l.batchId, l.kind, l.billed])).toEqual(ids.map((id) => [id, 'pending', false]));

    const r = await goldline('program', 'decide-held', 'vendor-a', '--protocol', 'chest-xray@1', '--reason', 'program closed: no further batch for vendor-a');
    expect(r.code, r.err).toBe(0);
    const decision = /held batch\(es\) (accepted|rejected) — /.exec(r.out)?.[1] as 'accepted' | 'rejected';
    expect(decision, r.out).toBeDefined();

    const events = await ledger();
    const asked = events.filter((e) => e.type === 'held-batches.decided');
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ actor: 'pm:alice', reason: 'program closed: no further batch for vendor-a', subject: 'vendor-a', protocol: 'chest-xray@1' });
    expect(asked[0].type === 'held-batches.decided' && [...asked[0].data.batchIds].sort()).toEqual(ids);
    for (const id of ids) {
      const carried = events.filter((e) => e.eventId === `${id}:carried`);
      expect(carried, id).toHaveLength(1);
      expect(carried[0]).toMatchObject({ type: `batch.${decision}`, data: { decidedWith: asked[0].eventId, decision: { rule: 'sprt-forced' } } });
      expect((await stack.deps.repo.getBatch(id))?.status, id).toBe(decision);
      // Finalized: labels recorded (accepted) or the cases re-queued away from the vendor (rejected).
      expect(events.some((e) => e.eventId === `${id}:labels` && e.type === 'labels.recorded'), id).toBe(true);
    }

    // Asked again (the same PM retrying): nothing held, nothing recorded.
    const again = await post({ workforceId: 'vendor-a', protocol: 'chest-xray@1', reason: 'retry' });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ decision: 'none', batches: [], reason: 'vendor-a has no held batch of chest-xray@1' });
    expect((await ledger()).length).toBe(events.length);

    // The statement bills each as a settlement of the forced decision, no longer pending.
    const after = await statement();
    const lines = after.lines.filter((l) => ids.includes(l.batchId));
    expect(lines.map((l) => [l.batchId, l.kind, l.outcome, l.billed]).sort()).toEqual(ids.map((id) => [id, 'settlement', decision, true]));
    for (const l of lines) expect(l.eventId).toBe(`${l.batchId}:carried`);
    const pendingBefore = before.lines.filter((l) => ids.includes(l.batchId)).reduce((s, l) => s + l.grossCents, 0);
    expect(after.totals.pendingCents).toBe(before.totals.pendingCents - pendingBefore);
    expect(after.totals.totalCents - before.totals.totalCents).toBe(lines.reduce((s, l) => s + l.amountCents, 0));
    if (decision === 'accepted') expect(lines.every((l) => l.amountCents > 0)).toBe(true);
  }, 120_000);
});
