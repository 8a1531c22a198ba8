/**
 * Qualification exams and manual control on the embedded stack, through the
 * HTTP API with real tokens, presigned GETs and presigned upload PUTs (issue 13):
 * a vendor fails its exam, is refused production work, retakes with fresh gold
 * and qualifies; a waiver qualifies another with its reason; a share cap holds in
 * the next round; an open batch is moved to another workforce, its execution
 * ends and its cases go there next round. The projections rebuilt from the
 * ledger equal the stored ones at the end.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProtocolVersionInput, projectProgram, seededRandomSource } from '../../functions/domain/index.js';
import { loadBatchAnswers, loadBatchKey } from '../../functions/use-cases/batch-key.js';
import { dispatchRound } from '../../functions/use-cases/dispatch-round.js';
import type { VendorManifest } from '../../functions/use-cases/prepare-manifest.js';
import { registerProtocolVersion } from '../../functions/use-cases/setup-program.js';
import { type ApiServer, startApiServer } from '../../infra/local/api-server.js';
import { PROGRAM_ID, chestXrayProtocol } from '../../infra/local/demo/example-program.js';
import { setUpDemoProgram } from '../../infra/local/demo/run-demo.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';
import { expectProjectionsRebuilt } from '../support/projections.js';
import { until } from './helpers.js';

const V2 = 'chest-xray@2';
// Version 2 gates production work on an exam, decided by a single plan (AQL 0.95 / RQL 0.70: n 16, c 2).
const gatedProtocol = (): ProtocolVersionInput => ({
  ...chestXrayProtocol('2026-11-02T00:00:00.000Z'),
  version: 2,
  acceptance: { aql: 0.95, rql: 0.7, alpha: 0.05, beta: 0.1, rule: 'single-plan', internalGoldRate: 0.02 },
  qualification: {},
});

describe('Integration: qualification exams and manual control over the API', () => {
  let stack: LocalStack;
  let api: ApiServer;
  const call = async (method: string, path: string, user: string, body?: unknown) => {
    const token = await api.issuer.issueToken(user);
    const r = await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> & { items?: Record<string, unknown>[] } };
  };
  const programPath = (rest: string) => `/v1/programs/${PROGRAM_ID}${rest}`;

  /** The vendor's side: the manifest through its presigned GET, labels through a slot and a presigned PUT. */
  async function work(batchId: string, vendor: string, answer: 'right' | 'wrong'): Promise<VendorManifest> {
    await until(`${batchId} awaiting its upload`, async () => (await stack.deps.repo.getBatch(batchId))?.status === 'awaiting-submission');
    const batch = await call('GET', `/v1/batches/${batchId}`, vendor);
    expect(batch.status).toBe(200);
    const manifest = (await (await fetch(batch.body.manifestUrl as string)).json()) as VendorManifest;
    // The test knows the answers (the vendor never does): right or wrong on purpose.
    const key = await loadBatchKey(stack.deps, batchId);
    const answers = await loadBatchAnswers(stack.deps, batchId);
    const caseOf = new Map(key.items.map((i) => [i.alias, i.caseId]));
    const lines = manifest.items.map((i) => {
      const gold = answers.get(caseOf.get(i.alias)!);
      const label = gold === undefined ? 'normal' : answer === 'right' ? gold : gold === 'normal' ? 'abnormal' : 'normal';
      return JSON.stringify({ alias: i.alias, label, annotator: `${vendor}/reader-1` });
    });
    const file = new TextEncoder().encode(`${lines.join('\n')}\n`);
    const slot = await call('POST', `/v1/batches/${batchId}/uploads`, vendor, { sizeBytes: file.length, sha256Hex: createHash('sha256').update(file).digest('hex') });
    expect(slot.status).toBe(201);
    const put = await fetch(slot.body.url as string, { method: 'PUT', headers: slot.body.headers as Record<string, string>, body: file });
    expect(put.status).toBe(200);
    return manifest;
  }

  const decided = async (batchId: string) => {
    await until(`the decision of exam ${batchId}`, async () => (await stack.deps.repo.getLedgerEvent(PROGRAM_ID, `${batchId}:exam-decided`)) !== undefined, 60_000);
    const e = await stack.deps.repo.getLedgerEvent(PROGRAM_ID, `${batchId}:exam-decided`);
    if (e?.type !== 'exam.decided') throw new Error('not an exam decision');
    return e;
  };
  const qualification = async (workforceId: string) =>
    (await call('GET', programPath(`/qualifications?protocol=${V2}&workforceId=${workforceId}`), 'qa')).body.items![0];

  beforeAll(async () => {
    stack = await startLocalStack({ random: seededRandomSource(13) });
    await setUpDemoProgram(stack, { cases: 200, goldFraction: 0.3, seed: 13 });
    await registerProtocolVersion(stack.deps, gatedProtocol());
    api = await startApiServer({ deps: stack.deps });
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await stack?.stop();
  });

  let firstExam: string;
  let firstItems: string[];
  let examManifest: VendorManifest;

  it('fails an exam answered wrong, leaving the vendor without production work and with why', async () => {
    const started = await call('POST', programPath('/exams'), 'pm', { workforceId: 'vendor-b', protocol: V2 });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ workforceId: 'vendor-b', protocol: V2, attempt: 1, items: 16, planned: 16, rule: 'single-plan', started: true });
    firstExam = started.body.batchId as string;
    // A second start while it is open resumes it: one exam, one execution.
    expect((await call('POST', programPath('/exams'), 'pm', { workforceId: 'vendor-b', protocol: V2 })).body).toMatchObject({ batchId: firstExam, started: false });
    expect((await call('POST', programPath('/exams'), 'vendor-b', { workforceId: 'vendor-b', protocol: V2 })).status).toBe(403);

    examManifest = await work(firstExam, 'vendor-b', 'wrong');
    firstItems = (await loadBatchKey(stack.deps, firstExam)).items.map((i) => i.caseId);
    expect((await loadBatchKey(stack.deps, firstExam)).items.every((i) => i.gold)).toBe(true);
    const e = await decided(firstExam);
    expect(e.data).toMatchObject({ outcome: 'failed', rule: 'single-plan', evidence: { n: 16, wrong: 16, attempts: 1, c: 2 } });
    expect(await qualification('vendor-b')).toMatchObject({ qualified: false, status: 'failed', attempts: 1 });

    const preview = await call('GET', programPath(`/round-preview?protocol=${V2}`), 'pm');
    expect(preview.status).toBe(200);
    const ineligible = preview.body.ineligible as { workforceId: string; reason: string }[];
    expect(ineligible.map((x) => x.workforceId).sort()).toEqual(['vendor-a', 'vendor-b']);
    expect(ineligible.find((x) => x.workforceId === 'vendor-b')!.reason).toMatch(/not qualified on chest-xray@2: failed exam attempt 1/);
    // The ledger's fold says the same as the API.
    expect(projectProgram(await stack.deps.repo.listLedger(PROGRAM_ID)).qualifications['vendor-b'][V2].status).toBe('failed');
  }, 120_000);

  it('qualifies on a retake with gold the vendor has not seen, and qualifies another vendor by a waiver with its reason', async () => {
    const retake = await call('POST', programPath('/exams'), 'pm', { workforceId: 'vendor-b', protocol: V2 });
    expect(retake.body).toMatchObject({ attempt: 2, items: 16 });
    const batchId = retake.body.batchId as string;
    const items = (await loadBatchKey(stack.deps, batchId)).items.map((i) => i.caseId);
    expect(items.filter((id) => firstItems.includes(id))).toEqual([]);
    await work(batchId, 'vendor-b', 'right');
    expect((await decided(batchId)).data).toMatchObject({ outcome: 'passed', evidence: { n: 16, wrong: 0, attempts: 1 } });
    expect(await qualification('vendor-b')).toMatchObject({ qualified: true, status: 'qualified', basis: 'exam', attempts: 2 });
    // Qualified: a further exam is refused.
    expect((await call('POST', programPath('/exams'), 'pm', { workforceId: 'vendor-b', protocol: V2 })).status).toBe(409);

    const refused = await call('POST', programPath('/qualifications/waivers'), 'pm', { workforceId: 'vendor-a', protocol: V2 });
    expect(refused.status).toBe(400);
    const waived = await call('POST', programPath('/qualifications/waivers'), 'pm', { workforceId: 'vendor-a', protocol: V2, reason: 'audited on site, same team as version 1' });
    expect(waived.body).toMatchObject({ qualified: true, basis: 'waiver' });
    expect(waived.body.reason).toMatch(/waived by pm:alice: audited on site/);
  }, 120_000);

  let round1: { batchId: string; workforceId: string; items: number; gold: number }[];

  it('holds a share cap in the next round, the exam manifest shaped like a production one', async () => {
    const cap = await call('PUT', programPath('/workforces/vendor-b/share-cap'), 'pm', { cap: 0.2, reason: 'new vendor: ramp up slowly' });
    expect(cap.body).toMatchObject({ workforceId: 'vendor-b', cap: 0.2, from: null, changed: true });
    const r = await dispatchRound(stack.deps, { programId: PROGRAM_ID, protocolId: 'chest-xray', version: 2, round: 1, actor: 'pm:alice' });
    round1 = r.batches;
    const vendorCases = (r.routing['vendor-a'] ?? 0) + (r.routing['vendor-b'] ?? 0);
    expect(vendorCases).toBeGreaterThan(50);
    expect(r.routing['vendor-b']).toBeGreaterThan(0);
    expect(r.routing['vendor-b']).toBeLessThanOrEqual(Math.floor(0.2 * vendorCases));

    const production = round1.find((b) => b.workforceId === 'vendor-b')!;
    await until('vendor-b round 1 batch waiting', async () => (await stack.deps.repo.getBatch(production.batchId))?.status === 'awaiting-submission');
    const batch = await call('GET', `/v1/batches/${production.batchId}`, 'vendor-b');
    const manifest = (await (await fetch(batch.body.manifestUrl as string)).json()) as VendorManifest;
    expect(Object.keys(examManifest).sort()).toEqual(Object.keys(manifest).sort());
    expect(Object.keys(examManifest.items[0]).sort()).toEqual(Object.keys(manifest.items[0]).sort());
    expect(examManifest.task).toEqual(manifest.task);
    expect(examManifest.items.every((i) => /^[a-z0-9]{12}$/.test(i.alias))).toBe(true);
  }, 120_000);

  it('moves an open batch to another workforce: its execution ends, its cases go there next round', async () => {
    const open = round1.find((b) => b.workforceId === 'vendor-b')!;
    const key = await loadBatchKey(stack.deps, open.batchId);
    const real = key.items.filter((i) => !i.gold && !i.overlapSecondary).map((i) => i.caseId).sort();
    const moved = await call('POST', programPath('/moves'), 'pm', { from: 'vendor-b', to: 'vendor-a', batchId: open.batchId, reason: 'vendor-b lost its readers this week' });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ batchId: open.batchId, refused: [] });
    expect((moved.body.moved as string[]).sort()).toEqual(real);
    // The execution ends through RecordFailure: batch.failed recorded, the round settles the batch.
    await until('the moved batch closed', async () => (await stack.deps.repo.getLedgerEvent(PROGRAM_ID, `${open.batchId}:failed`)) !== undefined, 60_000);
    expect((await stack.deps.repo.getBatch(open.batchId))?.status).toBe('failed');
    expect((await stack.deps.repo.getLedgerEvent(PROGRAM_ID, `${open.batchId}:failed`))?.reason).toBe('moved to vendor-a by pm:alice: vendor-b lost its readers this week');
    const event = await stack.deps.repo.getLedgerEvent(PROGRAM_ID, `${open.batchId}:moved`);
    expect(event).toMatchObject({ type: 'work.moved', actor: 'pm:alice', reason: 'vendor-b lost its readers this week', data: { from: 'vendor-b', to: 'vendor-a', caseIds: real } });
    // Moving it again is refused (it is no longer open); the move is in the ledger once.
    expect((await call('POST', programPath('/moves'), 'pm', { from: 'vendor-b', to: 'radiology-team', batchId: open.batchId, reason: 'again' })).status).toBe(409);

    await dispatchRound(stack.deps, { programId: PROGRAM_ID, protocolId: 'chest-xray', version: 2, round: 2, actor: 'pm:alice' });
    const round2 = await stack.deps.repo.listRoundBatches(PROGRAM_ID, 2);
    const toA = new Set<string>();
    for (const b of round2.filter((x) => x.workforceId === 'vendor-a')) for (const i of (await loadBatchKey(stack.deps, b.batchId)).items) toA.add(i.caseId);
    expect(real.filter((id) => !toA.has(id))).toEqual([]);
    await expectProjectionsRebuilt(stack.deps, PROGRAM_ID);
  }, 180_000);
});
