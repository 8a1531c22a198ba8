/**
 * The quality report and exports on the embedded stack (issue 12, items 1 and 4):
 * the demo runs with overlap (seed 1, 200 cases, one round, single-plan acceptance), then every figure
 * of the report served over HTTP is recomputed here from what the repository
 * stores (labels, batch scores, the ledger) with the engine's functions, and
 * the exports written to the exports bucket are read back through their
 * presigned URLs, parsed, and matched with their `export.created` events.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BatchScore,
  type ChainedLedgerEvent,
  type ProtocolVersion,
  QualityReport,
  type StoredLabel,
  bootstrapInterval,
  cohenKappa,
  dawidSkene,
  gwetAC1,
  parseCsv,
  seededRandomSource,
  wilsonInterval,
} from '../../functions/domain/index.js';
import type { BatchRecord } from '../../functions/use-cases/ports.js';
import { type GoldlineIo, processIo } from '../../infra/cli/io.js';
import { runGoldline } from '../../infra/cli/program.js';
import { type ApiServer, startApiServer } from '../../infra/local/api-server.js';
import { PROGRAM_ID } from '../../infra/local/demo/example-program.js';
import { runDemo } from '../../infra/local/demo/run-demo.js';
import type { DEMO_USERS } from '../../infra/local/issuer.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';

describe('Quality report: every figure recomputed from the stored labels (embedded stack)', () => {
  let stack: LocalStack;
  let api: ApiServer;
  let protocol: ProtocolVersion;
  const batches: BatchRecord[] = [];
  const scores: BatchScore[] = [];
  const labels: StoredLabel[] = [];
  let events: ChainedLedgerEvent[] = [];

  beforeAll(async () => {
    // Seed 1, overlap 0.5, single-plan: every batch decided in round 1, so overlap labels meet (the SPRT holds 6-gold batches: none).
    stack = await startLocalStack({ random: seededRandomSource(1) });
    api = await startApiServer({ deps: stack.deps });
    await runDemo(stack, { rounds: 1, cases: 200, goldFraction: 0.1, seed: 1, overlapRate: 0.5, acceptance: 'single-plan', api });
    const repo = stack.deps.repo;
    for (const r of await repo.listRounds(PROGRAM_ID)) {
      for (const id of r.batchIds) {
        const b = await repo.getBatch(id);
        if (b) batches.push(b);
        const s = await repo.getScore(id);
        if (s) scores.push(s);
        labels.push(...(await repo.listBatchLabels(id)));
      }
    }
    const [protocolId, version] = batches[0].protocol.split('@');
    protocol = (await repo.getProtocolVersion(protocolId, Number(version))) as ProtocolVersion;
    events = await repo.listLedger(PROGRAM_ID);
  }, 300_000);
  afterAll(async () => {
    await api?.close();
    await stack?.stop();
  });

  const call = async (method: string, path: string, user: keyof typeof DEMO_USERS = 'qa') =>
    fetch(`${api.url}${path}`, { method, headers: { authorization: `Bearer ${await api.issuer.issueToken(user)}` } });
  const report = async (by: string) => {
    const r = await call('GET', `/v1/programs/${PROGRAM_ID}/quality?by=${encodeURIComponent(by)}`);
    expect(r.status).toBe(200);
    return QualityReport.parse(await r.json());
  };
  const wilson = (k: number, n: number) => {
    const w = wilsonInterval(k, n);
    return { k, n, value: n ? w.estimate.value : null, interval: n ? { lower: w.lower, upper: w.upper } : null, insufficient: n < protocol.thresholds.minGoldItems };
  };
  const classes = () => (protocol.task.type === 'classification' ? protocol.task.classes : []);

  it('gold accuracy, per-class sensitivity/specificity and the confusion per workforce equal a recount of the stored gold results', async () => {
    const r = await report('workforce');
    const workforces = [...new Set(scores.map((s) => s.workforceId))].sort();
    expect(r.groups.map((g) => g.key)).toEqual(workforces);
    for (const w of workforces) {
      const items = scores.filter((s) => s.workforceId === w).flatMap((s) => s.items);
      const g = r.groups.find((x) => x.key === w)?.classification;
      expect(g?.goldAccuracy, w).toEqual(wilson(items.filter((i) => i.correct).length, items.length));
      for (const [ci, c] of classes().entries()) {
        const pos = items.filter((i) => i.expected === c);
        const neg = items.filter((i) => i.expected !== undefined && i.expected !== c);
        const pc = g?.perClass.find((x) => x.class === c);
        expect(pc?.sensitivity, `${w} ${c}`).toEqual(wilson(pos.filter((i) => i.got === c).length, pos.length));
        expect(pc?.specificity, `${w} ${c}`).toEqual(wilson(neg.filter((i) => i.got !== c).length, neg.length));
        expect(g?.confusion.counts[ci]).toEqual(classes().map((d) => pos.filter((i) => i.got === d).length));
      }
    }
    expect(scores.flatMap((s) => s.items).length).toBeGreaterThan(0);
  });

  it('pairwise κ (with its bootstrap interval), AC1 and agreement on overlap cases, and Dawid–Skene, equal the engine run on the stored labels', async () => {
    const r = await report('workforce');
    // Each workforce's own answers: no gold item, no adjudication, its first label of a case.
    const answers = new Map<string, Map<string, string>>();
    for (const l of [...labels].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.batchId.localeCompare(b.batchId))) {
      if (l.gold || l.adjudicationId) continue;
      const m = answers.get(l.caseId) ?? new Map<string, string>();
      answers.set(l.caseId, m);
      if (!m.has(l.workforceId)) m.set(l.workforceId, l.label);
    }
    const overlap = [...answers.entries()].filter(([, m]) => m.size >= 2).sort(([a], [b]) => a.localeCompare(b));
    expect(r.agreement?.overlapCases).toBe(overlap.length);
    expect(overlap.length, 'the demo (seed 1, overlap 0.5, single-plan) produced no overlap case').toBeGreaterThan(5);
    expect(r.agreement?.pairs.length).toBeGreaterThan(0);
    const weights = protocol.task.type === 'classification' && protocol.task.ordinal ? 'quadratic' : 'none';
    for (const p of r.agreement?.pairs ?? []) {
      const both = overlap.filter(([, m]) => m.has(p.a) && m.has(p.b)).map(([, m]) => [m.get(p.a) as string, m.get(p.b) as string] as const);
      expect(p.n).toBe(both.length);
      expect(p.percentAgreement).toEqual(wilson(both.filter(([x, y]) => x === y).length, both.length));
      const kappa = (s: readonly (readonly [string, string])[]) => cohenKappa(s.map((x) => x[0]), s.map((x) => x[1]), { weights, labels: classes() });
      const k = kappa(both);
      expect(p.kappa.value).toBe(Number.isNaN(k.value) ? null : k.value);
      const b = bootstrapInterval(both, kappa, { seed: 1, resamples: 1000, confidence: 0.95 });
      if (p.kappa.interval) expect(p.kappa.interval).toEqual({ lower: b.lower, upper: b.upper });
      const ac1 = gwetAC1([both.map((x) => x[0]), both.map((x) => x[1])], { categories: classes() });
      expect(p.ac1.value).toBe(Number.isNaN(ac1.value) ? null : ac1.value);
    }
    const annotations = [...answers.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([caseId, m]) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([rater, label]) => ({ item: caseId, annotator: rater, label })));
    const ds = dawidSkene(annotations, { categories: classes() });
    for (const rater of r.dawidSkene?.raters ?? []) {
      const i = ds.annotators.indexOf(rater.rater);
      expect(rater.confusion).toEqual(ds.confusion[i]);
      expect(rater.answers).toBe(annotations.filter((a) => a.annotator === rater.rater).length);
    }
    expect(r.dawidSkene?.raters.map((x) => x.rater).sort()).toEqual([...ds.annotators].map(String).sort());
    expect(Object.values(r.dawidSkene?.consensusCounts ?? {}).reduce((s, x) => s + x, 0)).toBe(answers.size);
  });

  it('operations per workforce equal a fold of the ledger (money in cents)', async () => {
    const r = await report('workforce');
    for (const g of r.groups) {
      const ids = new Set(batches.filter((b) => b.workforceId === g.key).map((b) => b.batchId));
      const mine = events.filter((e) => ids.has(e.subject));
      const of = <T extends ChainedLedgerEvent['type']>(t: T) => mine.filter((e): e is Extract<ChainedLedgerEvent, { type: T }> => e.type === t);
      const revoked = of('batch.failed').flatMap((e) => (e.data.revokedAcceptance ? [e.data.revokedAcceptance] : []));
      const accepted = of('batch.accepted').length - revoked.length;
      const rejected = of('batch.rejected').length;
      const paid =
        [...of('batch.accepted'), ...of('batch.rejected')].reduce((s, e) => s + Math.round(e.data.charge * 100), 0) -
        revoked.reduce((s, x) => s + Math.round(x.charge * 100), 0);
      const cases = of('batch.accepted').reduce((s, e) => s + e.data.realItems, 0) - revoked.reduce((s, x) => s + x.realItems, 0);
      expect(g.operations, g.key).toMatchObject({ batches: ids.size, accepted, rejected, overdue: of('batch.overdue').length, paidMinor: paid, acceptedCases: cases });
      expect(g.operations?.costPerAcceptedCaseMinor).toBe(cases > 0 ? paid / cases : null);
      const overdue = of('batch.overdue').length;
      expect([g.operations?.slaAdherence.k, g.operations?.slaAdherence.n]).toEqual([accepted + rejected, accepted + rejected + overdue]);
      expect([g.operations?.rejectionRate.k, g.operations?.rejectionRate.n]).toEqual([rejected, accepted + rejected]);
      const dispatched = of('batch.dispatched').reduce((s, e) => s + e.data.caseIds.length, 0);
      const requeued = of('cases.requeued').reduce((s, e) => s + e.data.caseIds.length, 0);
      expect([g.operations?.reworkRate.k, g.operations?.reworkRate.n]).toEqual([Math.min(requeued, dispatched), dispatched]);
      const first = Math.min(...of('batch.dispatched').map((e) => Date.parse(e.at)));
      const last = Math.max(...[...of('batch.accepted'), ...of('batch.rejected')].map((e) => Date.parse(e.at)));
      const days = (last - first) / 86_400_000;
      expect(g.operations?.throughputCasesPerDay).toBe(Number.isFinite(days) && days > 0 ? cases / days : null);
    }
  });

  it('per annotator and per site, gold accuracy equals a recount through the annotator of each gold label and the case attribute', async () => {
    const byAnnotator = await report('annotator');
    const annotatorOf = new Map(labels.filter((l) => l.gold).map((l) => [`${l.batchId}/${l.caseId}`, l.annotatorId.startsWith(`${l.workforceId}/`) ? l.annotatorId : `${l.workforceId}/${l.annotatorId}`]));
    const rows = scores.flatMap((s) => s.items.map((i) => ({ key: annotatorOf.get(`${s.batchId}/${i.caseId}`), correct: i.correct })));
    for (const g of byAnnotator.groups) {
      const mine = rows.filter((x) => x.key === g.key);
      expect(g.classification?.goldAccuracy, g.key).toEqual(wilson(mine.filter((x) => x.correct).length, mine.length));
    }
    expect(byAnnotator.groups.reduce((s, g) => s + (g.classification?.goldAccuracy.n ?? 0), 0)).toBe(rows.length);
    const bySite = await report('subgroup:site');
    expect(bySite.subgroups?.correctionName).toMatch(/Holm/);
    expect(bySite.subgroups?.rows.reduce((s, r) => s + r.n, 0)).toBe(scores.reduce((s, x) => s + x.items.length, 0));
    const cases = new Map((await stack.deps.repo.listCases(PROGRAM_ID)).map((c) => [c.caseId, c.site]));
    for (const g of bySite.groups) {
      const mine = scores.flatMap((s) => s.items).filter((i) => cases.get(i.caseId) === g.key);
      expect(g.classification?.goldAccuracy, g.key).toEqual(wilson(mine.filter((i) => i.correct).length, mine.length));
    }
  });

  it('refuses an unknown grouping with the list of groupings, and a vendor', async () => {
    const bad = await call('GET', `/v1/programs/${PROGRAM_ID}/quality?by=vendor`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/workforce/);
    expect((await call('GET', `/v1/programs/${PROGRAM_ID}/quality`, 'vendor-a')).status).toBe(403);
  });

  it('writes each export once to the exports bucket; the presigned file parses back and its SHA-256 matches export.created', async () => {
    for (const [what, format] of [
      ['scorecards', 'csv'],
      ['gold-items', 'csv'],
      ['labels', 'json'],
    ] as const) {
      const res = await call('POST', `/v1/programs/${PROGRAM_ID}/exports/${what}?format=${format}`);
      expect(res.status, what).toBe(201);
      const created = (await res.json()) as { key: string; sha256: string; rows: number; url: string };
      expect(created.key).toMatch(new RegExp(`^exports/${PROGRAM_ID}/${what}/[0-9a-f]{16}\\.${format}$`));
      const file = new Uint8Array(await (await fetch(created.url)).arrayBuffer());
      expect(createHash('sha256').update(file).digest('hex')).toBe(created.sha256);
      const event = (await stack.deps.repo.listLedger(PROGRAM_ID)).find((e) => e.type === 'export.created' && e.data.key === created.key);
      expect(event?.type === 'export.created' && event.data).toMatchObject({ what, sha256: created.sha256, rows: created.rows });
      if (format === 'csv') {
        const parsed = parseCsv(file, { maxBytes: 50_000_000 });
        expect(parsed.rows).toHaveLength(created.rows);
        if (what === 'gold-items') {
          expect(created.rows).toBe(scores.reduce((s, x) => s + x.items.length, 0));
          const col = (name: string) => parsed.header.indexOf(name);
          const byKey = new Map(parsed.rows.map((r) => [`${r.cells[col('batchId')]}/${r.cells[col('caseId')]}`, r.cells]));
          for (const s of scores) for (const i of s.items) expect(byKey.get(`${s.batchId}/${i.caseId}`)?.[col('correct')]).toBe(String(i.correct));
        }
      } else {
        expect(JSON.parse(new TextDecoder().decode(file))).toHaveLength(created.rows);
      }
      // Exporting the same content again writes nothing new and records no second event.
      const again = (await (await call('POST', `/v1/programs/${PROGRAM_ID}/exports/${what}?format=${format}`)).json()) as { key: string };
      expect(again.key).toBe(created.key);
      expect((await stack.deps.repo.listLedger(PROGRAM_ID)).filter((e) => e.type === 'export.created' && e.data.key === created.key)).toHaveLength(1);
    }
  });

  it("serves round 1's printable HTML report: self-contained, escaped, with a print style and every workforce", async () => {
    const res = await call('GET', `/v1/programs/${PROGRAM_ID}/rounds/1/report.html`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toMatch(/@media print/);
    expect(html).not.toMatch(/<script|<link|https?:\/\//);
    for (const w of new Set(batches.filter((b) => b.round === 1).map((b) => b.workforceId))) expect(html).toContain(w);
    expect((await call('GET', `/v1/programs/${PROGRAM_ID}/rounds/99/report.html`)).status).toBe(404);
  });

  it('goldline qa quality prints the same report as the API (--json), the agreement matrix as a table, and qa round-report writes the HTML', async () => {
    const run = async (...args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const io: GoldlineIo = { ...processIo, out: (t) => out.push(t), err: (t) => err.push(t), errRaw: () => {}, errIsTTY: false, env: {} };
      const code = await runGoldline(['--endpoint', api.url, '--token', await api.issuer.issueToken('qa'), '--program', PROGRAM_ID, ...args], io);
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const json = await run('qa', 'quality', '--by', 'annotator', '--json');
    expect(json.code, json.err).toBe(0);
    expect(QualityReport.parse(JSON.parse(json.out))).toEqual(await report('annotator'));
    const text = await run('qa', 'quality');
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/agreement on \d+ overlap cases/);
    expect(text.out).toMatch(/Dawid–Skene/);
    const dir = await mkdtemp(join(tmpdir(), 'goldline-quality-'));
    try {
      const html = await run('qa', 'round-report', '1', '--out', join(dir, 'round-1.html'));
      expect(html.code, html.err).toBe(0);
      expect(await readFile(join(dir, 'round-1.html'), 'utf8')).toMatch(/^<!doctype html>[\s\S]*@media print/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
