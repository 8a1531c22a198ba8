/**
 * Disputes on the embedded stack, through the HTTP API and the CLI: one gold
 * item's answer is wrong; vendor-b labels it right and is rejected, vendor-a
 * labels it as the wrong gold says. Vendor-b disputes the item over HTTP, the
 * expert upholds it with the CLI (a crash while re-scoring is completed by
 * deciding again), both batches are re-scored — vendor-b's flips from rejected,
 * vendor-a's is scored down — and vendor-a's dispute of the same item, upheld
 * too, retires it from the gold pool. The projections rebuilt from the ledger
 * equal the store at the end.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type BatchScore, type LedgerEvent, type ProtocolVersion, scoreSubmissionAgainstGold, seededRandomSource } from '../../functions/domain/index.js';
import { type BatchKey, goldSetObject, loadBatchKey } from '../../functions/use-cases/batch-key.js';
import { dispatchRound } from '../../functions/use-cases/dispatch-round.js';
import { goldHistoryObject } from '../../functions/use-cases/disputes.js';
import { sha256Hex } from '../../functions/use-cases/vendor-portal.js';
import { ingestCases, registerProtocolVersion, registerWorkforce } from '../../functions/use-cases/setup-program.js';
import type { BatchRecord } from '../../functions/use-cases/ports.js';
import { runGoldline } from '../../infra/cli/program.js';
import { type GoldlineIo, processIo } from '../../infra/cli/io.js';
import { type ApiServer, startApiServer } from '../../infra/local/api-server.js';
import { chestXrayProtocol, readSyntheticImage, syntheticCases, workforces } from '../../infra/local/demo/example-program.js';
import { DEMO_USERS } from '../../infra/local/issuer.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';
import { expectProjectionsRebuilt } from '../support/projections.js';
import { until } from './helpers.js';

const PROGRAM = 'disputes';
const other = (c: string) => (c === 'normal' ? 'abnormal' : 'normal');

describe('Disputes: a wrong gold answer, disputed twice, on the embedded stack', () => {
  let stack: LocalStack;
  let api: ApiServer;
  let dir: string;
  let profile: string;
  let protocol: ProtocolVersion;
  let batchA: BatchRecord;
  let batchB: BatchRecord;
  let keyA: BatchKey;
  let keyB: BatchKey;
  /** The gold item both vendors saw, its true class (its image) and the wrong answer the gold pool holds. */
  let gold: { caseId: string; truth: 'normal' | 'abnormal'; wrong: 'normal' | 'abnormal' };

  const call = async (path: string, user: string, init: RequestInit = {}) =>
    fetch(`${api.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${await api.issuer.issueToken(user)}`, 'content-type': 'application/json' },
    });
  const post = (path: string, user: string, body: unknown) => call(path, user, { method: 'POST', body: JSON.stringify(body) });
  async function goldline(...args: string[]): Promise<string> {
    const out: string[] = [];
    const err: string[] = [];
    const io: GoldlineIo = { ...processIo, out: (t) => out.push(t), err: (t) => err.push(t), errRaw: () => {}, errIsTTY: false, env: {}, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 100))) };
    const code = await runGoldline(['--profile', profile, ...args], io);
    if (code !== 0) throw new Error(`goldline ${args.join(' ')} → exit ${code}\n${err.join('\n')}`);
    return out.join('\n');
  }
  const ledger = async (): Promise<LedgerEvent[]> => stack.deps.repo.listLedger(PROGRAM);
  const ofType = async (type: LedgerEvent['type']) => (await ledger()).filter((e) => e.type === type);
  const truthOf = async (item: BatchKey['items'][number]) => readSyntheticImage((await stack.deps.objects.getBytes(stack.deps.buckets.images, item.imageKey))!);
  const verdict = async (batchId: string) => (await stack.deps.repo.getBatch(batchId))!.status;

  /**
   * The fewest wrong gold answers that reject this batch, by the same scorer the
   * lifecycle runs (so the test follows the protocol's acceptance rule).
   */
  function wrongToReject(key: BatchKey): number {
    const goldItems = key.items.filter((i) => i.gold);
    const answers = new Map(goldItems.map((i) => [i.caseId, 'normal']));
    for (let w = 1; w <= goldItems.length; w++) {
      const lines = new Map(goldItems.map((i, k) => [i.alias, { alias: i.alias, label: k < w ? 'abnormal' : 'normal', annotator: 'x' }]));
      const s = scoreSubmissionAgainstGold({ batchId: key.batchId, workforceId: key.workforceId, protocol, items: goldItems, lines, answers });
      if (s.verdict === 'rejected') return w;
    }
    throw new Error(`no number of wrong answers rejects batch ${key.batchId}`);
  }

  /** Labels every item by its image, except the gold items in `wrongOn` (the other class) and the disputed item (`goldAnswer`). */
  async function submit(b: BatchRecord, key: BatchKey, user: string, goldAnswer: string, wrongOn: ReadonlySet<string>) {
    const lines: string[] = [];
    for (const item of key.items) {
      const truth = await truthOf(item);
      const label = item.caseId === gold.caseId ? goldAnswer : wrongOn.has(item.caseId) ? other(truth) : truth;
      lines.push(JSON.stringify({ alias: item.alias, label, annotator: `${user}/reader-1` }));
    }
    const body = new TextEncoder().encode(`${lines.join('\n')}\n`);
    const r = await post(`/v1/batches/${b.batchId}/uploads`, user, { sizeBytes: body.length, sha256Hex: sha256Hex(body) });
    expect(r.status).toBe(201);
    const slot = (await r.json()) as { url: string; headers: Record<string, string> };
    expect((await fetch(slot.url, { method: 'PUT', headers: slot.headers, body })).status).toBe(200);
  }

  /** Other gold items of the batch, besides the disputed one, answered wrong. */
  const otherGold = (key: BatchKey, n: number) => new Set(key.items.filter((i) => i.gold && i.caseId !== gold.caseId).slice(0, n).map((i) => i.caseId));

  beforeAll(async () => {
    stack = await startLocalStack({ random: seededRandomSource(3) });
    const { deps } = stack;
    // A single sampling plan (n=16, c=2 at AQL 0.95 / RQL 0.70) decides each batch alone.
    protocol = await registerProtocolVersion(deps, {
      ...chestXrayProtocol(new Date(Date.UTC(2026, 10, 1)).toISOString()),
      acceptance: { aql: 0.95, rql: 0.7, alpha: 0.05, beta: 0.1, rule: 'single-plan', internalGoldRate: 0 },
      goldRate: 0.3,
    });
    for (const w of workforces) await registerWorkforce(deps, PROGRAM, w);
    const data = syntheticCases(200, 0.5, seededRandomSource(3));
    for (const img of data.images) await deps.objects.putBytes(deps.buckets.images, img.key, img.bytes, 'image/x-portable-graymap');
    await ingestCases(deps, { programId: PROGRAM, protocolId: protocol.protocolId, protocolVersion: protocol.version, cases: data.cases, gold: data.gold });
    await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm:test' });
    const batches = await deps.repo.listRoundBatches(PROGRAM, 1);
    batchA = batches.find((b) => b.workforceId === 'vendor-a')!;
    batchB = batches.find((b) => b.workforceId === 'vendor-b')!;
    keyA = await loadBatchKey(deps, batchA.batchId);
    keyB = await loadBatchKey(deps, batchB.batchId);
    const shared = keyB.items.find((i) => i.gold && keyA.items.some((j) => j.gold && j.caseId === i.caseId))!;
    expect(shared).toBeDefined();
    const truth = await truthOf(shared);
    gold = { caseId: shared.caseId, truth, wrong: other(truth) };
    // The expert's answer at ingest was wrong: the pool and both batches' hidden answers hold it.
    const pool = (await deps.objects.getJson<Record<string, { label: string }>>(deps.buckets.gold, goldSetObject(PROGRAM, 'chest-xray')))!;
    pool[gold.caseId] = { ...pool[gold.caseId], label: gold.wrong };
    await deps.objects.putJson(deps.buckets.gold, goldSetObject(PROGRAM, 'chest-xray'), pool);
    for (const b of [batchA, batchB]) {
      const key = `batch-answers/${b.batchId}.json`;
      const answers = (await deps.objects.getJson<{ batchId: string; answers: Record<string, string> }>(deps.buckets.gold, key))!;
      answers.answers[gold.caseId] = gold.wrong;
      await deps.objects.putJson(deps.buckets.gold, key, answers);
    }

    api = await startApiServer({ deps });
    dir = await mkdtemp(join(tmpdir(), 'goldline-disputes-'));
    profile = join(dir, 'local.json');
    const tokens: Record<string, string> = {};
    for (const user of Object.keys(DEMO_USERS)) tokens[user] = await api.issuer.issueToken(user);
    await writeFile(profile, JSON.stringify({ endpoint: api.url, program: PROGRAM, tokens }));
    await until('vendor batches awaiting submission', async () => (await verdict(batchA.batchId)) === 'awaiting-submission' && (await verdict(batchB.batchId)) === 'awaiting-submission');

    // vendor-b: right on the disputed item (wrong by the gold), just enough other gold wrong to be rejected.
    // vendor-a: agrees with the wrong gold, one wrong answer short of a rejection.
    await submit(batchB, keyB, 'vendor-b', gold.truth, otherGold(keyB, wrongToReject(keyB) - 1));
    await submit(batchA, keyA, 'vendor-a', gold.wrong, otherGold(keyA, wrongToReject(keyA) - 1));
    const finalized = async (b: BatchRecord) => Boolean(await deps.repo.getLedgerEvent(PROGRAM, `${b.batchId}:labels`));
    await until('both vendor batches finalized', async () => (await finalized(batchA)) && (await finalized(batchB)), 60_000);
  }, 240_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    await api?.close();
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lets vendor-b dispute the gold item of its rejected batch over HTTP, without naming a case or a gold answer', async () => {
    expect(await verdict(batchB.batchId)).toBe('rejected');
    expect(await verdict(batchA.batchId)).not.toBe('rejected');
    const alias = keyB.items.find((i) => i.caseId === gold.caseId)!.alias;

    // Another vendor's batch answers like a missing one; a reason too short is named.
    expect((await post(`/v1/batches/${batchB.batchId}/disputes`, 'vendor-a', { reason: 'the image is clearly different', alias })).status).toBe(404);
    const short = await post(`/v1/batches/${batchB.batchId}/disputes`, 'vendor-b', { reason: 'wrong', alias });
    expect(short.status).toBe(400);
    expect(await short.text()).toContain('at least 10 characters');

    const r = await post(`/v1/batches/${batchB.batchId}/disputes`, 'vendor-b', { reason: 'no opacity in this film: the gold answer is wrong', alias });
    expect(r.status).toBe(202);
    const body = await r.text();
    expect(JSON.parse(body)).toMatchObject({ disputeId: `${batchB.batchId}-dispute-1`, batchId: batchB.batchId, alias, status: 'pending-review' });
    expect(body).not.toContain(gold.caseId);
    // One pending request per (batch, item).
    expect((await post(`/v1/batches/${batchB.batchId}/disputes`, 'vendor-b', { reason: 'the same item, disputed again', alias })).status).toBe(409);
    expect(await goldline('dispute', 'list', '--as', 'vendor-b')).toMatch(new RegExp(`${batchB.batchId}-dispute-1\\s+${batchB.batchId}\\s+${alias}\\s+pending-review`));
  });

  it("puts the item in the expert queue with the dispute's reason and the vendor's answer against the current gold", async () => {
    const id = `${batchB.batchId}-dispute-1`;
    const list = (await (await call('/v1/adjudications', 'expert')).json()) as { items: { adjudicationId: string; deadline?: string; cases: { caseId: string; kind: string; reason: string }[] }[] };
    const queued = list.items.find((a) => a.adjudicationId === id)!;
    expect(queued.deadline).toBeDefined();
    expect(queued.cases).toEqual([{ caseId: gold.caseId, kind: 'gold-dispute', reason: expect.stringContaining('no opacity in this film') }]);
    const one = (await (await call(`/v1/adjudications/${id}`, 'expert')).json()) as { needs: { labels: Record<string, string>; choices: string[] }[] };
    expect(one.needs[0].labels).toEqual({ 'vendor-b/vendor-b/reader-1': gold.truth, 'gold@v1': gold.wrong });
    expect(one.needs[0].choices).toEqual(['normal', 'abnormal']);
  });

  it('corrects the gold when the expert upholds it with the CLI, and re-scores every batch that saw it once, across a crash while re-scoring', async () => {
    const id = `${batchB.batchId}-dispute-1`;
    // The stand-in cannot fail an append: the second re-score's event fails once, after the upheld event.
    const append = stack.deps.repo.appendLedger.bind(stack.deps.repo);
    let rescores = 0;
    const spy = vi.spyOn(stack.deps.repo, 'appendLedger').mockImplementation(async (e) => {
      if (e.type === 'batch.rescored' && ++rescores === 2) throw new Error('ProvisionedThroughputExceededException');
      return append(e);
    });
    await expect(goldline('expert', 'adjudications', 'decide', id, '--label', `${gold.caseId}=${gold.truth}`, '--note', 'no opacity')).rejects.toThrow(/exit/);
    spy.mockRestore();
    expect((await ofType('dispute.upheld')).map((e) => e.subject)).toEqual([id]);
    // The expert's retry (or any re-run of the decision) completes the re-scoring, once.
    expect(await goldline('expert', 'adjudications', 'decide', id, '--label', `${gold.caseId}=${gold.truth}`)).toContain('was already decided');

    const rescored = (await ofType('batch.rescored')).filter((e) => e.type === 'batch.rescored' && e.data.disputeId === id);
    expect(rescored.map((e) => e.subject).sort()).toEqual([batchA.batchId, batchB.batchId].sort());
    const corrected = await ofType('gold.corrected');
    expect(corrected).toHaveLength(1);
    expect(corrected[0].data).toMatchObject({ goldCaseId: gold.caseId, fromVersion: 1, toVersion: 2, disputeId: id });

    // vendor-b: one wrong answer fewer — no longer rejected; its cases still pending take its labels.
    const b = rescored.find((e) => e.subject === batchB.batchId)!;
    if (b.type !== 'batch.rescored') throw new Error('typed');
    expect(b.data.before).toMatchObject({ decision: 'rejected' });
    expect(b.data.after.goldCorrect).toBe(b.data.before.goldCorrect + 1);
    expect(b.data.flipped).toBe(true);
    expect(await verdict(batchB.batchId)).toBe(b.data.decision);
    expect(((await stack.deps.repo.getScore(batchB.batchId)) as BatchScore).goldCorrect).toBe(b.data.after.goldCorrect);
    if (b.data.decision === 'accepted') {
      expect(b.data.labelledCaseIds.length + b.data.redoneElsewhereCaseIds.length).toBe(keyB.items.filter((i) => !i.gold && !i.overlapSecondary).length);
      const labels = await stack.deps.repo.listBatchLabels(batchB.batchId);
      expect(labels.filter((l) => b.data.labelledCaseIds.includes(l.caseId)).every((l) => l.status === 'accepted')).toBe(true);
      expect(b.data.settlement?.charge).toBeGreaterThan(b.data.settlement?.chargeBefore ?? Number.POSITIVE_INFINITY);
    }
    // vendor-a agreed with the wrong gold: scored down, now rejected.
    const a = rescored.find((e) => e.subject === batchA.batchId)!;
    if (a.type !== 'batch.rescored') throw new Error('typed');
    expect(a.data.after.goldCorrect).toBe(a.data.before.goldCorrect - 1);
    expect(a.data.decision).toBe('rejected');
    expect(await verdict(batchA.batchId)).toBe('rejected');

    // The old answer kept for lineage, the pool holds the new one.
    const history = await stack.deps.objects.getJson<{ versions: { version: number; answer: string }[] }>(stack.deps.buckets.gold, goldHistoryObject(PROGRAM, 'chest-xray', gold.caseId));
    expect(history?.versions.map((v) => [v.version, v.answer])).toEqual([
      [1, gold.wrong],
      [2, gold.truth],
    ]);
    const shown = await goldline('dispute', 'show', id, '--as', 'vendor-b');
    expect(shown).toContain('upheld: the gold answer was corrected');
    expect(shown).toContain(`batch re-scored: rejected → ${b.data.decision}`);
    await expectProjectionsRebuilt(stack.deps, PROGRAM);
  });

  it('retires the item after a second upheld dispute: the pool no longer holds it', async () => {
    const alias = keyA.items.find((i) => i.caseId === gold.caseId)!.alias;
    const r = await post(`/v1/batches/${batchA.batchId}/disputes`, 'vendor-a', { reason: 'borderline film: the first answer was right', alias });
    expect(r.status).toBe(202);
    const { disputeId } = (await r.json()) as { disputeId: string };
    const decided = await post(`/v1/adjudications/${disputeId}/decision`, 'expert', { decisions: [{ caseId: gold.caseId, label: gold.wrong }] });
    expect(decided.status).toBe(200);

    const retired = await ofType('gold.retired');
    expect(retired).toHaveLength(1);
    expect(retired[0].data).toMatchObject({ goldCaseId: gold.caseId, disputeIds: [`${batchB.batchId}-dispute-1`, disputeId], version: 3 });
    const pool = await stack.deps.objects.getJson<Record<string, unknown>>(stack.deps.buckets.gold, goldSetObject(PROGRAM, 'chest-xray'));
    expect(pool?.[gold.caseId]).toBeUndefined();
    expect(Object.keys(pool ?? {}).length).toBeGreaterThan(0);
    // Each batch re-scored once more, against v3.
    const second = (await ofType('batch.rescored')).filter((e) => e.type === 'batch.rescored' && e.data.disputeId === disputeId);
    expect(second.map((e) => e.subject).sort()).toEqual([batchA.batchId, batchB.batchId].sort());
    expect(await verdict(batchA.batchId)).not.toBe('rejected');

    // QA reads every dispute with its gold items and the ledger's reason; a vendor may not.
    const all = await goldline('dispute', 'all', '--as', 'qa');
    expect(all).toMatch(new RegExp(`${disputeId}\\s+vendor-a\\s+${gold.caseId}\\s+upheld\\s+radiology-team/dr-lead\\s+gold item ${gold.caseId}: "${gold.truth}" corrected to "${gold.wrong}"`));
    expect((await call(`/v1/programs/${PROGRAM}/disputes`, 'vendor-a')).status).toBe(403);
    // The case's trace keeps every answer it had, and the disputes in its ledger events.
    const trace = await goldline('trace', gold.caseId, '--as', 'qa');
    expect(trace).toContain(`Gold answer versions (chest-xray) · retired after disputes ${batchB.batchId}-dispute-1, ${disputeId}:`);
    expect(trace).toMatch(new RegExp(`v1  "${gold.wrong}" .*\\(as ingested\\)[\\s\\S]*v2  "${gold.truth}" .*\\(dispute ${batchB.batchId}-dispute-1\\)[\\s\\S]*v3  "${gold.wrong}" .*\\(dispute ${disputeId}\\)`));
    const traced = JSON.parse(await goldline('trace', gold.caseId, '--as', 'qa', '--json')) as { events: { type: string }[] };
    expect(traced.events.filter((e) => e.type === 'dispute.upheld')).toHaveLength(2);
    await expectProjectionsRebuilt(stack.deps, PROGRAM);
  });
});
