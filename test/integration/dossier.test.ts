/**
 * The regulatory dossier of a release on the embedded stack: a short demo
 * (two rounds with overlap and single-plan acceptance, so an expert adjudicates) ends with a release; the
 * QA lead exports its dossier through the HTTP API; the HTML is rendered to PDF
 * in Debian's Chromium and read back as a person would read it.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dossier } from '../../functions/domain/dossier/index.js';
import { type LedgerEventOf, seededRandomSource } from '../../functions/domain/index.js';
import type { DossierExport } from '../../functions/use-cases/dossier.js';
import { listReleases } from '../../functions/use-cases/releases.js';
import { ApiClient, ApiProblemError } from '../../infra/cli/client.js';
import { type GoldlineIo, processIo } from '../../infra/cli/io.js';
import { runGoldline } from '../../infra/cli/program.js';
import { type ApiServer, startApiServer } from '../../infra/local/api-server.js';
import { PROGRAM_ID } from '../../infra/local/demo/example-program.js';
import { runDemo } from '../../infra/local/demo/run-demo.js';
import { type LocalStack, ROOT, startLocalStack } from '../../infra/local/stack.js';
import { CHROMIUM_INSTALL_COMMAND, countPdfPages, withChromiumPage } from '../support/chromium.js';

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

describe('Dossier of a release: export through the API, render to PDF in Chromium', () => {
  let stack: LocalStack;
  let api: ApiServer;
  let qa: ApiClient;
  let releaseId: string;
  let made: DossierExport;
  let path: string;

  beforeAll(async () => {
    // single-plan: batches decided within their round, so overlap pairs meet an expert (the SPRT held them: no adjudication).
    stack = await startLocalStack({ random: seededRandomSource(7) });
    api = await startApiServer({ deps: stack.deps });
    await runDemo(stack, { rounds: 2, cases: 300, goldFraction: 0.1, seed: 7, overlapRate: 0.3, acceptance: 'single-plan', api });
    const releases = await listReleases(stack.deps, { programId: PROGRAM_ID });
    releaseId = releases.items.at(-1)!.releaseId;
    qa = new ApiClient(api.url, await api.issuer.issueToken('qa'), { fetch });
    path = `/v1/programs/${PROGRAM_ID}/releases/${releaseId}/dossier`;
    made = await qa.call<DossierExport>('POST', path);
  }, 240_000);
  afterAll(async () => {
    await api?.close();
    await stack?.stop();
  });

  it('writes dossier.json and dossier.html to the exports bucket with the SHA-256s it answers, and records both in the ledger', async () => {
    const { deps } = stack;
    const json = await deps.objects.getBytes(deps.buckets.exports, `dossiers/${releaseId}/dossier.json`);
    const html = await deps.objects.getBytes(deps.buckets.exports, `dossiers/${releaseId}/dossier.html`);
    expect(made.json.sha256).toBe(sha256(json!));
    expect(made.html.sha256).toBe(sha256(html!));
    const dossier = Dossier.parse(JSON.parse(new TextDecoder().decode(json)));
    expect(dossier.release.releaseId).toBe(releaseId);
    expect(dossier.ledger).toMatchObject({ verified: true, anchorHolds: true });
    // The demo exported one too; these are the test's.
    const ours = new Set([made.json.sha256, made.html.sha256]);
    const exports = (await deps.repo.listLedger(PROGRAM_ID)).filter(
      (e): e is typeof e & LedgerEventOf<'export.created'> => e.type === 'export.created' && e.subject === releaseId && ours.has(e.data.sha256),
    );
    expect(exports.map((e) => e.data).sort((a, b) => String(a.key).localeCompare(String(b.key)))).toEqual([
      { what: 'dossier', key: made.html.key, sha256: made.html.sha256, rows: dossier.release.labels, releaseId },
      { what: 'dossier', key: made.json.key, sha256: made.json.sha256, rows: dossier.release.labels, releaseId },
    ]);
  });

  it('states what the demo did: every workforce, an adjudication with its decision record, gold with intervals, the acceptance risks', async () => {
    const json = await stack.deps.objects.getBytes(stack.deps.buckets.exports, made.json.key);
    const d = Dossier.parse(JSON.parse(new TextDecoder().decode(json)));
    await mkdir(join(ROOT, 'test-artifacts'), { recursive: true });
    await writeFile(join(ROOT, 'test-artifacts', 'dossier.json'), json!);
    expect(d.workforces.map((w) => w.workforceId)).toEqual(['radiology-team', 'vendor-a', 'vendor-b']);
    // Every adjudication of the protocol version, each decided one with the SHA-256 of its stored decision record.
    const stored = (await stack.deps.repo.listAdjudications(PROGRAM_ID)).filter((a) => a.protocol === d.release.protocol);
    expect(d.adjudications.map((a) => a.adjudicationId).sort()).toEqual(stored.map((a) => a.adjudicationId).sort());
    expect(d.adjudications.filter((a) => a.status === 'decided').length).toBeGreaterThan(0);
    for (const a of d.adjudications.filter((x) => x.status === 'decided')) {
      const record = await stack.deps.objects.getBytes(stack.deps.buckets.exports, `adjudications/${a.adjudicationId}.json`);
      expect(a.recordSha256).toBe(sha256(record!));
      expect(a.expert).toMatch(/^radiology-team\//);
    }
    const vendorA = d.quality.find((q) => q.workforceId === 'vendor-a')!;
    expect(vendorA.gold.n).toBeGreaterThan(0);
    expect(vendorA.gold.interval!.lower).toBeLessThanOrEqual(vendorA.gold.accuracy!);
    expect(d.acceptance.plans[0].pRejectAtAql).toBeGreaterThan(0);
    // The demo overlaps 30% of vendor cases: the two vendors' agreement on them is measured.
    const vendors = d.agreement.pairs.find((p) => p.workforceA === 'vendor-a' && p.workforceB === 'vendor-b');
    expect(vendors?.n).toBeGreaterThan(0);
    expect(vendors!.agreements).toBeLessThan(vendors!.n);
    expect(d.deidentification.counts.cases).toBe((await stack.deps.repo.listCases(PROGRAM_ID)).length);
  });

  it('renders to a PDF of several pages in Chromium whose text names the release and every workforce', async () => {
    const html = await qa.call<string>('GET', path);
    expect(typeof html).toBe('string');
    expect(sha256(html)).toBe(made.html.sha256);
    const { pdf, text } = await withChromiumPage(async (page) => {
      // No network: the document must be self-contained.
      await page.route('**/*', (route) => route.abort());
      await page.setContent(html, { waitUntil: 'load' });
      const text = (await page.textContent('body')) ?? '';
      return { pdf: await page.pdf({ format: 'A4', printBackground: true }), text };
    });
    const pages = countPdfPages(pdf);
    expect(pages).toBeGreaterThanOrEqual(2);
    const dir = join(ROOT, 'test-artifacts');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'dossier.pdf'), pdf);
    expect(text).toContain(releaseId);
    for (const w of ['radiology-team', 'vendor-a', 'vendor-b']) expect(text).toContain(w);
    expect(text).toContain('Acceptance rule and its error rates');
  }, 120_000);

  it('fails, never skips, naming the install command, when Chromium is not where it is looked for', async () => {
    const saved = process.env.GOLDLINE_CHROMIUM;
    process.env.GOLDLINE_CHROMIUM = join(tmpdir(), 'no-such-chromium');
    try {
      await expect(withChromiumPage(async () => 'rendered')).rejects.toThrow(CHROMIUM_INSTALL_COMMAND);
    } finally {
      if (saved === undefined) delete process.env.GOLDLINE_CHROMIUM;
      else process.env.GOLDLINE_CHROMIUM = saved;
    }
  });

  it('answers the JSON as stored, and refuses a vendor and a release of no program', async () => {
    const json = await qa.call<unknown>('GET', path, { query: { format: 'json' } });
    expect(sha256(`${JSON.stringify(json, null, 2)}\n`)).toBe(made.json.sha256);
    const vendor = new ApiClient(api.url, await api.issuer.issueToken('vendor-a'), { fetch });
    await expect(vendor.call('POST', path)).rejects.toMatchObject({ status: 403 });
    await expect(qa.call('POST', `/v1/programs/${PROGRAM_ID}/releases/rel-0000000000000000/dossier`)).rejects.toBeInstanceOf(ApiProblemError);
    await expect(qa.call('POST', `/v1/programs/${PROGRAM_ID}/releases/rel-0000000000000000/dossier`)).rejects.toMatchObject({ status: 404 });
  });

  // Last: the command exports the dossier again (a new generation time), so the files above are replaced.
  it('goldline release dossier writes dossier.json and dossier.html locally, byte for byte the export it recorded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'goldline-dossier-'));
    try {
      const out: string[] = [];
      const err: string[] = [];
      const io: GoldlineIo = { ...processIo, out: (t) => out.push(t), err: (t) => err.push(t), env: {} };
      const exportsOf = async () => (await stack.deps.repo.listLedger(PROGRAM_ID)).filter((e) => e.type === 'export.created' && e.subject === releaseId).length;
      const before = await exportsOf();
      const token = await api.issuer.issueToken('qa');
      const args = ['--endpoint', api.url, '--token', token, '--program', PROGRAM_ID, '--json', 'release', 'dossier', releaseId, '--out', dir];
      expect(await runGoldline(args, io), err.join('\n')).toBe(0);
      const printed = JSON.parse(out.join('\n')) as DossierExport & { written: { file: string; matches: boolean }[] };
      expect(sha256(await readFile(join(dir, 'dossier.json')))).toBe(printed.json.sha256);
      expect(sha256(await readFile(join(dir, 'dossier.html')))).toBe(printed.html.sha256);
      expect(printed.written.map((w) => w.matches)).toEqual([true, true]);
      expect(await exportsOf()).toBe(before + 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
