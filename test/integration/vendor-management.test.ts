/**
 * Issue 13's acceptance scenario on the embedded stack, through the HTTP API:
 * a new vendor (vendor-b) signs a contract, takes its qualification exam,
 * fails, retakes, qualifies; works two rounds — round 1 delivered past its
 * contract's 24 h SLA (a late-day credit), round 2 with one batch rejected on a
 * wrong gold answer (a penalty) — disputes that gold item and wins (the batch
 * is re-scored and accepted). Its statement shows the credit, the penalty, the
 * re-scored batch and the right total; every issued statement recomputed from
 * the ledger equals the stored one to the cent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LedgerEvent,
  type ProtocolVersion,
  type Statement,
  scoreSubmissionAgainstGold,
  seededRandomSource,
} from '../../functions/domain/index.js';
import { type BatchKey, goldSetObject, loadBatchKey } from '../../functions/use-cases/batch-key.js';
import { dispatchRound } from '../../functions/use-cases/dispatch-round.js';
import { startExam, waiveQualification } from '../../functions/use-cases/exams.js';
import type { BatchRecord } from '../../functions/use-cases/ports.js';
import { ingestCases, registerProtocolVersion, registerWorkforce } from '../../functions/use-cases/setup-program.js';
import { recomputeStatements } from '../../functions/use-cases/statements.js';
import { sha256Hex } from '../../functions/use-cases/vendor-portal.js';
import { type ApiServer, startApiServer } from '../../infra/local/api-server.js';
import { chestXrayProtocol, readSyntheticImage, syntheticCases, workforces } from '../../infra/local/demo/example-program.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';
import { expectProjectionsRebuilt } from '../support/projections.js';
import { until } from './helpers.js';

const PROGRAM = 'vendor-mgmt';
const HOUR = 3_600_000;
const other = (c: string) => (c === 'normal' ? 'abnormal' : 'normal');
/** vendor-b's contract: 50 ¢ a case (re-dos too), 24 h SLA, $5 + $1 a late day, half the price withheld on rejection. */
const TERMS = {
  pricePerAcceptedCaseCents: 50,
  pricePerReworkCents: 50,
  slaHours: 24,
  lateCredit: { perLateBatchCents: 500, perLateDayCents: 100 },
  rejection: { rule: 'withhold-share', basisPoints: 5_000 },
};

describe('Vendor management: contract, exam, late and rejected work, a won dispute, the statement to the cent', () => {
  let stack: LocalStack;
  let api: ApiServer;
  let protocol: ProtocolVersion;
  const exams: { batchId: string; outcome?: string }[] = [];
  const batchesOf: Record<number, BatchRecord[]> = {};
  let rejected: BatchRecord;
  let disputeId: string;
  let period: { from: string; to: string };

  const call = async (path: string, user: string, init: RequestInit = {}) =>
    fetch(`${api.url}${path}`, { ...init, headers: { authorization: `Bearer ${await api.issuer.issueToken(user)}`, 'content-type': 'application/json' } });
  const post = (path: string, user: string, body: unknown) => call(path, user, { method: 'POST', body: JSON.stringify(body) });
  const ledger = (): Promise<LedgerEvent[]> => stack.deps.repo.listLedger(PROGRAM);
  const truthOf = async (item: BatchKey['items'][number]) => readSyntheticImage((await stack.deps.objects.getBytes(stack.deps.buckets.images, item.imageKey))!);
  const done = (batchId: string) => stack.runner.executions.get(batchId)?.status !== 'RUNNING';

  /** The vendor labels its batch over HTTP: every item by its image, except `wrong` (the other class) and `answer` overrides. */
  async function submit(b: Pick<BatchRecord, 'batchId' | 'workforceId'>, user: string, opts: { wrong?: ReadonlySet<string>; all?: 'wrong'; answer?: Record<string, string> } = {}) {
    const key = await loadBatchKey(stack.deps, b.batchId);
    const lines: string[] = [];
    for (const item of key.items) {
      const truth = await truthOf(item);
      const label = opts.answer?.[item.caseId] ?? (opts.all === 'wrong' || opts.wrong?.has(item.caseId) ? other(truth) : truth);
      lines.push(JSON.stringify({ alias: item.alias, label, annotator: `${b.workforceId}/reader-1` }));
    }
    const body = new TextEncoder().encode(`${lines.join('\n')}\n`);
    const r = await post(`/v1/batches/${b.batchId}/uploads`, user, { sizeBytes: body.length, sha256Hex: sha256Hex(body) });
    expect(r.status, await r.clone().text()).toBe(201);
    const slot = (await r.json()) as { url: string; headers: Record<string, string> };
    expect((await fetch(slot.url, { method: 'PUT', headers: slot.headers, body })).status).toBe(200);
  }
  const userOf = (workforceId: string) => (workforceId === 'radiology-team' ? 'expert' : workforceId);
  const awaiting = async (batches: readonly BatchRecord[]) => {
    const statuses = async () => Promise.all(batches.map(async (b) => `${b.batchId} ${(await stack.deps.repo.getBatch(b.batchId))?.status}`));
    await until('batches awaiting submission', async () => (await statuses()).every((s) => s.endsWith(' awaiting-submission'))).catch(async (e) => {
      throw new Error(`${(e as Error).message}: ${(await statuses()).join(', ')}`);
    });
  };

  async function exam(answers: 'wrong' | 'right'): Promise<{ batchId: string; outcome?: string }> {
    const started = await startExam(stack.deps, { programId: PROGRAM, workforceId: 'vendor-b', protocol: 'chest-xray@1', actor: 'pm:alice' });
    const b = (await stack.deps.repo.getBatch(started.batchId))!;
    await awaiting([b]);
    await submit(b, 'vendor-b', answers === 'wrong' ? { all: 'wrong' } : {});
    let decided: LedgerEvent | undefined;
    await until(`exam ${b.batchId} decided`, async () => {
      decided = (await ledger()).find((e) => e.type === 'exam.decided' && e.data.batchId === b.batchId);
      return Boolean(decided);
    }, 60_000);
    return { batchId: b.batchId, outcome: decided?.type === 'exam.decided' ? decided.data.outcome : undefined };
  }

  /** The fewest wrong gold answers that reject this batch, by the lifecycle's own scorer. */
  function wrongToReject(key: BatchKey): number {
    const gold = key.items.filter((i) => i.gold);
    const answers = new Map(gold.map((i) => [i.caseId, 'normal']));
    for (let w = 1; w <= gold.length; w++) {
      const lines = new Map(gold.map((i, k) => [i.alias, { alias: i.alias, label: k < w ? 'abnormal' : 'normal', annotator: 'x' }]));
      if (scoreSubmissionAgainstGold({ batchId: key.batchId, workforceId: key.workforceId, protocol, items: gold, lines, answers }).verdict === 'rejected') return w;
    }
    throw new Error(`no number of wrong answers rejects ${key.batchId}`);
  }

  async function round(n: number, before?: (batches: BatchRecord[]) => Promise<void>) {
    // Part of the queue per round, so round 2 has fresh work for every workforce.
    await dispatchRound(stack.deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: n, limit: 90, actor: 'pm:alice' });
    // Exam batches carry the round number they were given too (the next one at the time): production only here.
    batchesOf[n] = (await stack.deps.repo.listRoundBatches(PROGRAM, n)).filter((b) => b.kind !== 'exam');
    await awaiting(batchesOf[n]);
    await before?.(batchesOf[n]);
  }

  beforeAll(async () => {
    stack = await startLocalStack({ random: seededRandomSource(13) });
    const { deps } = stack;
    const start = deps.clock.now();
    period = { from: new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() - 1)).toISOString(), to: new Date(start.getTime() + 60 * 24 * HOUR).toISOString() };
    // A single sampling plan (n=7, c=1) decides each batch alone; vendors qualify by a 7-item exam.
    protocol = await registerProtocolVersion(deps, {
      ...chestXrayProtocol(new Date(start.getTime() - 24 * HOUR).toISOString()),
      acceptance: { aql: 0.95, rql: 0.5, alpha: 0.05, beta: 0.1, rule: 'single-plan', internalGoldRate: 0 },
      goldRate: 0.3,
      qualification: { required: 'vendors' },
    });
    for (const w of workforces) await registerWorkforce(deps, PROGRAM, w);
    const data = syntheticCases(300, 0.5, seededRandomSource(13));
    for (const img of data.images) await deps.objects.putBytes(deps.buckets.images, img.key, img.bytes, 'image/x-portable-graymap');
    await ingestCases(deps, { programId: PROGRAM, protocolId: protocol.protocolId, protocolVersion: protocol.version, cases: data.cases, gold: data.gold });
    api = await startApiServer({ deps });

    // The PM signs vendor-b's contract; vendor-a has worked for years: its exam is waived.
    const signed = await post(`/v1/programs/${PROGRAM}/contracts`, 'pm', { workforceId: 'vendor-b', protocolId: 'chest-xray', validFrom: period.from, terms: TERMS, reason: 'new vendor' });
    expect(signed.status, await signed.clone().text()).toBe(201);
    await waiveQualification(deps, { programId: PROGRAM, workforceId: 'vendor-a', protocol: 'chest-xray@1', reason: 'qualified on the previous program', actor: 'pm:alice' });

    // Exam: fails, retakes, qualifies.
    exams.push(await exam('wrong'));
    exams.push(await exam('right'));

    // Round 1: everyone delivers; vendor-b 30 h after dispatch (its contract says 24 h, the workflow's SLA is 48 h).
    await round(1, async (batches) => {
      for (const b of batches.filter((x) => x.workforceId !== 'vendor-b')) await submit(b, userOf(b.workforceId));
      stack.clock.advance(30 * HOUR);
      for (const b of batches.filter((x) => x.workforceId === 'vendor-b')) await submit(b, 'vendor-b');
    });
    await until('round 1 finished', () => batchesOf[1].every((b) => done(b.batchId)), 90_000);

    // Round 2: one gold item of vendor-b's first batch holds a wrong answer; vendor-b answers it right and just enough other gold wrong to be rejected.
    await round(2, async (batches) => {
      rejected = batches.find((b) => b.workforceId === 'vendor-b')!;
      const key = await loadBatchKey(deps, rejected.batchId);
      const item = key.items.find((i) => i.gold)!;
      const truth = await truthOf(item);
      const pool = (await deps.objects.getJson<Record<string, { label: string }>>(deps.buckets.gold, goldSetObject(PROGRAM, 'chest-xray')))!;
      pool[item.caseId] = { ...pool[item.caseId], label: other(truth) };
      await deps.objects.putJson(deps.buckets.gold, goldSetObject(PROGRAM, 'chest-xray'), pool);
      for (const b of batches) {
        const answersKey = `batch-answers/${b.batchId}.json`;
        const answers = (await deps.objects.getJson<{ answers: Record<string, string> }>(deps.buckets.gold, answersKey))!;
        if (item.caseId in answers.answers) {
          answers.answers[item.caseId] = other(truth);
          await deps.objects.putJson(deps.buckets.gold, answersKey, answers);
        }
      }
      const wrong = new Set(key.items.filter((i) => i.gold && i.caseId !== item.caseId).slice(0, wrongToReject(key) - 1).map((i) => i.caseId));
      for (const b of batches) await submit(b, userOf(b.workforceId), b.batchId === rejected.batchId ? { wrong, answer: { [item.caseId]: truth } } : {});
      await until(`${rejected.batchId} rejected and closed`, async () => done(rejected.batchId) && (await deps.repo.getBatch(rejected.batchId))?.status === 'rejected', 60_000);
      // vendor-b disputes the item over HTTP, by its alias; the expert upholds it.
      const r = await post(`/v1/batches/${rejected.batchId}/disputes`, 'vendor-b', { reason: 'no opacity on this film: the gold answer is wrong', alias: item.alias });
      expect(r.status, await r.clone().text()).toBe(202);
      disputeId = ((await r.json()) as { disputeId: string }).disputeId;
      const decided = await post(`/v1/adjudications/${disputeId}/decision`, 'expert', { decisions: [{ caseId: item.caseId, label: truth }] });
      expect(decided.status, await decided.clone().text()).toBe(200);
    });
    await until('round 2 finished', () => batchesOf[2].every((b) => done(b.batchId)), 90_000);
  }, 480_000);

  afterAll(async () => {
    await api?.close();
    await stack?.stop();
  });

  /** A PM reads any workforce's statement; a vendor its own, under /v1/statements (its workforce is its token's). */
  const statementOf = async (workforceId: string, user = 'pm'): Promise<Statement> => {
    const q = `from=${period.from}&to=${period.to}`;
    const r = await call(user === 'pm' ? `/v1/programs/${PROGRAM}/workforces/${workforceId}/statement?${q}` : `/v1/statements?programId=${PROGRAM}&${q}`, user);
    expect(r.status, await r.clone().text()).toBe(200);
    return (await r.json()) as Statement;
  };

  it('qualifies the new vendor on its second exam, and keeps exams off its statement', async () => {
    expect(exams.map((e) => e.outcome)).toEqual(['failed', 'passed']);
    const s = await statementOf('vendor-b', 'vendor-b');
    for (const e of exams) expect(s.lines.some((l) => l.batchId === e.batchId)).toBe(false);
  });

  it("settles every vendor-b batch under its contract and records the contract version on the settlement", async () => {
    const events = await ledger();
    const settled = events.filter((e) => (e.type === 'batch.accepted' || e.type === 'batch.rejected') && e.data.workforceId === 'vendor-b' && !exams.some((x) => x.batchId === e.subject));
    expect(settled.length).toBeGreaterThanOrEqual(2);
    for (const e of settled) if (e.type === 'batch.accepted' || e.type === 'batch.rejected') expect(e.data.contract).toBe('vendor-b.chest-xray@1');
    // vendor-a had no contract: its workforce terms became version 1 (the migration), recorded once.
    const migrated = events.filter((e) => e.type === 'contract.registered' && e.data.workforceId === 'vendor-a');
    expect(migrated).toHaveLength(1);
    expect(migrated[0].data).toMatchObject({ origin: 'workforce-terms', terms: { pricePerAcceptedCaseCents: 180, rejection: { rule: 'withhold-share', basisPoints: 10_000 } } });
  });

  it('states the late credit, the penalty, the re-scored batch and the right total, to the cent', async () => {
    const s = await statementOf('vendor-b', 'vendor-b');
    const vendorB = (n: number) => batchesOf[n].filter((b) => b.workforceId === 'vendor-b');
    // Round 1, 30 h against a 24 h SLA: one late day, $5 + $1 credited per batch.
    for (const b of vendorB(1)) {
      const line = s.lines.find((l) => l.batchId === b.batchId && l.kind === 'settlement')!;
      expect(line).toMatchObject({ outcome: 'accepted', slaMiss: true, lateDays: 1, creditCents: 600, amountCents: b.itemCount * 50 - 600 });
    }
    // Round 2: rejected, half withheld; then re-scored after the upheld dispute: the other half, naming the rejection.
    const original = s.lines.find((l) => l.batchId === rejected.batchId && l.kind === 'settlement')!;
    expect(original).toMatchObject({ outcome: 'rejected', penaltyCents: rejected.itemCount * 25, amountCents: rejected.itemCount * 25 });
    const adjustment = s.lines.find((l) => l.batchId === rejected.batchId && l.kind === 'adjustment')!;
    expect(adjustment).toMatchObject({ outcome: 'accepted', amountCents: rejected.itemCount * 25, adjusts: original.eventId });
    expect(adjustment.rule).toContain(`dispute ${disputeId}`);
    // Every item of every vendor-b batch paid at 50 ¢, less the round-1 credits.
    const items = [...vendorB(1), ...vendorB(2)].reduce((n, b) => n + b.itemCount, 0);
    expect(s.totals.totalCents).toBe(items * 50 - 600 * vendorB(1).length);
    expect(s.totals.creditCents).toBe(600 * vendorB(1).length);
    expect(s.totals.pendingCents).toBe(0);
  });

  it("lets a vendor read its own statements only: the program routes answer a vendor 403 whatever workforce it names", async () => {
    expect((await statementOf('vendor-b', 'vendor-b')).workforceId).toBe('vendor-b');
    expect((await statementOf('vendor-a', 'vendor-a')).workforceId).toBe('vendor-a');
    const q = `from=${period.from}&to=${period.to}`;
    const foreign = await call(`/v1/programs/${PROGRAM}/workforces/vendor-b/statement?${q}`, 'vendor-a');
    const missing = await call(`/v1/programs/${PROGRAM}/workforces/vendor-z/statement?${q}`, 'vendor-a');
    expect([foreign.status, missing.status]).toEqual([403, 403]);
    expect(await foreign.text()).toBe(await missing.text());
  });

  it('issues every workforce its statement, and each recomputed from the ledger equals the stored one to the cent', async () => {
    for (const w of workforces) {
      const r = await post(`/v1/programs/${PROGRAM}/workforces/${w.workforceId}/statements`, 'pm', period);
      expect(r.status, await r.clone().text()).toBe(201);
    }
    const checks = await recomputeStatements(stack.deps, PROGRAM);
    expect(checks).toHaveLength(workforces.length);
    for (const c of checks) expect(c).toMatchObject({ hashMatches: true, recomputedMatches: true, recomputedTotalCents: c.storedTotalCents });
    // The statement's settlement lines equal what settlement recorded.
    const events = await ledger();
    for (const w of workforces) {
      const s = await statementOf(w.workforceId);
      for (const l of s.lines.filter((x) => x.kind === 'settlement')) {
        const e = events.find((x) => x.eventId === l.eventId);
        if (e?.type === 'batch.accepted' || e?.type === 'batch.rejected') expect(l.amountCents).toBe(e.data.amountCents);
      }
    }
    await expectProjectionsRebuilt(stack.deps, PROGRAM);
  });
});
