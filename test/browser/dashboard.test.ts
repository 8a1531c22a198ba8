/**
 * The QA dashboard in Debian's Chromium, from a fresh `npm start -- --serve`
 * (the demo in its own process, as a user starts it): sign-in with the qa token
 * of the profile it writes; every page loads and its chart's marks carry the
 * API's figures (the test fetches the same routes with the same token); the
 * scorecard table's numbers are the API's; Tab and Enter work; axe-core finds
 * no serious or critical violation; the strict CSP refuses nothing the page
 * does. Screenshots go to test-artifacts/dashboard/.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumExecutable } from '../support/chromium.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = join(ROOT, 'test-artifacts/dashboard');
const PROGRAM = 'demo-cxr';

const fmt = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(3));
const fmtInterval = (i: { lower: number; upper: number } | null) => (i ? `[${fmt(i.lower)}, ${fmt(i.upper)}]` : '—');

let child: ChildProcessWithoutNullStreams | undefined;
let browser: Browser | undefined;
let page: Page;
let dashboardUrl: string;
let endpoint: string;
let token: string;
let workDir: string;
const consoleErrors: string[] = [];

/** Starts the demo with --serve; resolves with its stdout once it serves. */
function startServingDemo(profile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // --acceptance single-plan: batches decided within their round, so overlap pairs reach the agreement page (the SPRT held them: 0 pairs).
    const c = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', join(ROOT, 'infra/local/demo.ts'), '--serve', '--profile', profile],
        ...['--cases', '200', '--rounds', '2', '--overlap', '0.2', '--acceptance', 'single-plan'],
      ],
      { cwd: ROOT, env: { ...process.env, GOLDLINE_CRASH_AT: '', GOLDLINE_CRASH_AFTER_WRITES: '' } },
    );
    child = c;
    let out = '';
    c.stdout.on('data', (d) => {
      out += d;
      if (out.includes('Press Ctrl-C to stop.')) resolve(out);
    });
    c.stderr.on('data', (d) => (out += d));
    c.on('exit', (code) => reject(new Error(`the demo exited (${code}) before serving:\n${out}`)));
  });
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${endpoint}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

async function allPages<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const p = await api<{ items: T[]; next?: string }>(`${path}?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...p.items);
    cursor = p.next;
  } while (cursor);
  return items;
}

/** Opens a page of the dashboard and returns the <title>s of its chart's marks (sorted). */
async function chartTitles(name: string, selector = `figure[data-chart="${name}"] svg[aria-label]`): Promise<string[]> {
  await page.goto(`${dashboardUrl}#/${name}`);
  await page.locator(selector).first().waitFor();
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  // Every mark's <title> in the chart's own svg (the legend's svg has no aria-label); facets nest them a level deeper.
  const titles = await page.locator(`figure[data-chart="${name}"] svg[aria-label] g[aria-label] title`).allTextContents();
  return titles.sort();
}

beforeAll(async () => {
  const executablePath = chromiumExecutable(); // fails with the apt-get command when Chromium is missing
  mkdirSync(ARTIFACTS, { recursive: true });
  workDir = mkdtempSync(join(tmpdir(), 'goldline-dashboard-'));
  const profile = join(workDir, 'local.json');
  const out = await startServingDemo(profile);
  dashboardUrl = /QA dashboard: (http:\/\/127\.0\.0\.1:\d+\/dashboard\/)/.exec(out)?.[1] ?? '';
  expect(dashboardUrl, out).not.toBe('');
  const written = JSON.parse(readFileSync(profile, 'utf8')) as { endpoint: string; tokens: Record<string, string> };
  endpoint = written.endpoint;
  token = written.tokens.qa ?? '';
  browser = await chromium.launch({ executablePath, args: [...CHROMIUM_ARGS], timeout: 60_000 });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => {
    // Errors, and warnings too: Observable Plot reports data it could not draw with console.warn.
    if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('requestfailed', (r) => consoleErrors.push(`request failed: ${r.url()}`));
  page.on('response', (r) => {
    if (r.status() >= 400) consoleErrors.push(`${r.status()} ${r.url()}`);
  });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('QA dashboard (Chromium, from npm start -- --serve)', () => {
  it('serves the dashboard with its content types and a strict CSP', async () => {
    const html = await fetch(dashboardUrl);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = html.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe');
    const js = await fetch(`${dashboardUrl}app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${dashboardUrl}nothing.js`)).status).toBe(404);
  });

  it('signs in with the pasted qa token (Enter submits) and names the user', async () => {
    await page.goto(dashboardUrl);
    await page.locator('#token').fill(token);
    await page.locator('#program').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#who').textContent()).toContain('Signed in as quinn (qa)');
    await page.locator('figure[data-chart="scorecards"] svg[aria-label]').waitFor();
  });

  it('shows the scorecards of the API: the table numbers and the chart marks', async () => {
    const { items } = await api<{
      items: { workforceId: string; accuracy: number | null; interval: { lower: number; upper: number } | null; goldN: number; insufficient: boolean; batchesAccepted: number; batchesRejected: number }[];
    }>(`/v1/programs/${PROGRAM}/scorecards`);
    const titles = await chartTitles('scorecards');
    expect(titles).toEqual(
      items
        .filter((c) => c.accuracy !== null)
        .map((c) => `${c.workforceId}: ${fmt(c.accuracy)} ${fmtInterval(c.interval)} n=${c.goldN}`)
        .sort(),
    );
    const rows = await page.locator('table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent ?? '')));
    expect(rows.map((r) => r.slice(0, 6))).toEqual(
      items.map((c) => [
        c.workforceId,
        c.insufficient ? `${fmt(c.accuracy)} (insufficient)` : fmt(c.accuracy),
        fmtInterval(c.interval),
        String(c.goldN),
        String(c.batchesAccepted),
        String(c.batchesRejected),
      ]),
    );
    expect(items.some((c) => c.insufficient)).toBe(true); // the internal team has no gold: the mark is exercised
    expect(await page.locator('td.insufficient').count()).toBe(items.filter((c) => c.insufficient).length);
  });

  it('plots gold accuracy per batch over time, with every scored batch of the API', async () => {
    const batches = await allPages<{ batchId: string; workforceId: string; score?: { goldN: number; goldCorrect: number } }>(`/v1/programs/${PROGRAM}/batches`);
    const expected = batches.filter((b) => b.score && b.score.goldN > 0).map((b) => `${b.workforceId} ${b.batchId}: ${b.score?.goldCorrect}/${b.score?.goldN}`);
    const ledger = await allPages<{ type: string; subject: string; reason: string; data: { batchId?: string } }>(`/v1/programs/${PROGRAM}/ledger`);
    const alarms = ledger.filter((e) => e.type === 'alarm.raised');
    const scored = new Set(batches.filter((b) => b.score && b.score.goldN > 0).map((b) => b.batchId));
    const alarmMarks = alarms.filter((e) => e.data.batchId && scored.has(e.data.batchId)).map((e) => `alarm ${e.subject}: ${e.reason}`);
    const titles = await chartTitles('trends');
    expect(expected.length).toBeGreaterThan(0);
    expect(titles).toEqual([...expected, ...alarmMarks].sort());
    expect(await page.locator('table', { has: page.locator('caption', { hasText: 'Drift alarms' }) }).locator('tbody tr').count()).toBe(alarms.length);
    expect(await page.getByText(`drift alarms from the ledger: ${alarms.length}.`).count()).toBe(1);
  });

  it('draws each workforce confusion matrix with the counts of the quality report', async () => {
    const report = await api<{
      groups: { key: string; classification: { confusion: { classes: string[]; counts: number[][] } } | null }[];
      dawidSkene: { raters: { rater: string; answers: number; worstConfusion: { trueClass: string; answered: string; probability: number } | null }[] } | null;
    }>(
      `/v1/programs/${PROGRAM}/quality?by=workforce`,
    );
    const expected = report.groups.flatMap((g) =>
      g.classification ? g.classification.confusion.classes.flatMap((gold, i) => g.classification?.confusion.classes.map((given, j) => `${g.key}: gold ${gold} → ${given}: ${g.classification?.confusion.counts[i]?.[j]}`) ?? []) : [],
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(await chartTitles('confusion')).toEqual(expected.sort());
    // Dawid–Skene: which class each rater confuses most, as the report says.
    const raters = report.dawidSkene?.raters ?? [];
    const ds = await page
      .locator('table', { has: page.locator('caption', { hasText: 'Dawid–Skene' }) })
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent ?? '')));
    expect(ds).toEqual(
      raters.map((r) => [r.rater, String(r.answers), r.worstConfusion?.trueClass ?? '—', r.worstConfusion?.answered ?? '—', fmt(r.worstConfusion?.probability)]),
    );
  });

  it('draws the annotator agreement matrix with the κ, AC1 and n of each pair', async () => {
    const report = await api<{ agreement: { pairs: { a: string; b: string; n: number; kappa: { value: number | null }; ac1: { value: number | null } }[] } | null }>(
      `/v1/programs/${PROGRAM}/quality?by=annotator`,
    );
    const pairs = report.agreement?.pairs ?? [];
    expect(pairs.length).toBeGreaterThan(0);
    const expected = pairs.flatMap((p) => [
      `${p.a} × ${p.b}: κ ${fmt(p.kappa.value)} AC1 ${fmt(p.ac1.value)} n=${p.n}`,
      `${p.b} × ${p.a}: κ ${fmt(p.kappa.value)} AC1 ${fmt(p.ac1.value)} n=${p.n}`,
    ]);
    expect(await chartTitles('agreement')).toEqual(expected.sort());
  });

  it('draws the subgroup heat map per site from the quality report', async () => {
    type P = { n: number; value: number | null; insufficient: boolean };
    type Row = { unit: string; value: string; n: number; correct: number; accuracy: number | null; adjustedPValue: number | null; flagged: boolean; insufficient: boolean };
    const report = await api<{
      groups: { key: string; classification: { goldAccuracy: P; perClass: { class: string; sensitivity: P }[] } | null }[];
      subgroups: { correctionName: string; tests: number; rows: Row[] } | null;
    }>(
      `/v1/programs/${PROGRAM}/quality?by=subgroup:site`,
    );
    const t = (key: string, metric: string, p: P) => `${key} · ${metric}: ${fmt(p.value)} n=${p.n}${p.insufficient ? ' (insufficient)' : ''}`;
    const expected = report.groups.flatMap((g) =>
      g.classification ? [t(g.key, 'gold accuracy', g.classification.goldAccuracy), ...g.classification.perClass.map((p) => t(g.key, `sensitivity ${p.class}`, p.sensitivity))] : [],
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(await chartTitles('subgroups')).toEqual(expected.sort());
    // The diagnosis: each workforce's subgroups against its own rest, flagged after the correction the report names.
    const rows = report.subgroups?.rows ?? [];
    expect(rows.length).toBeGreaterThan(0);
    const diagnosis = await page.locator(`figure[data-chart="subgroup-diagnosis"] svg[aria-label] g[aria-label] title`).allTextContents();
    expect(diagnosis.sort()).toEqual(
      rows
        .map(
          (r) =>
            `${r.unit} · ${r.value}: ${fmt(r.accuracy)} (${r.correct}/${r.n}) adjusted p ${fmt(r.adjustedPValue)}${r.flagged ? ' flagged' : ''}${r.insufficient ? ' (insufficient)' : ''}`,
        )
        .sort(),
    );
    expect(await page.getByText(`${report.subgroups?.correctionName} correction over ${report.subgroups?.tests} tests`).count()).toBe(1);
  });

  it('charts the vendor shares of each round as the ledger recorded them', async () => {
    const ledger = await allPages<{ type: string; data: { round: number; workforceId: string; to: number } }>(`/v1/programs/${PROGRAM}/ledger`);
    const last = new Map<string, string>();
    for (const e of ledger.filter((x) => x.type === 'shares.changed')) last.set(`${e.data.round}|${e.data.workforceId}`, `round ${e.data.round} · ${e.data.workforceId}: ${(e.data.to * 100).toFixed(1)}%`);
    expect(last.size).toBeGreaterThan(0);
    expect(await chartTitles('shares')).toEqual([...last.values()].sort());
  });

  it('counts the batch pipeline by round and status as the API lists the batches', async () => {
    const batches = await allPages<{ round: number; status: string }>(`/v1/programs/${PROGRAM}/batches`);
    const counts = new Map<string, number>();
    for (const b of batches) counts.set(`round ${b.round} · ${b.status}`, (counts.get(`round ${b.round} · ${b.status}`) ?? 0) + 1);
    expect(await chartTitles('pipeline')).toEqual([...counts].map(([k, n]) => `${k}: ${n}`).sort());
  });

  it('lists the open adjudications: requested in the ledger and not yet decided or expired', async () => {
    const ledger = await allPages<{ type: string; data: { batchId?: string; cases?: string[]; decisions?: { caseId: string }[] } }>(`/v1/programs/${PROGRAM}/ledger`);
    const open = new Set<string>();
    for (const e of ledger) {
      if (e.type === 'adjudication.requested') for (const c of e.data.cases ?? []) open.add(`${c}|${e.data.batchId}`);
      if (e.type === 'adjudication.decided') for (const d of e.data.decisions ?? []) open.delete(`${d.caseId}|${e.data.batchId}`);
      if (e.type === 'adjudication.expired') for (const c of e.data.cases ?? []) open.delete(`${c}|${e.data.batchId}`);
    }
    await page.goto(`${dashboardUrl}#/adjudications`);
    await page.getByRole('heading', { name: 'Open adjudications' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'adjudications.png'), fullPage: true });
    const rows = await page.locator('table tbody tr').evaluateAll((trs) => trs.map((tr) => `${tr.children[0]?.textContent}|${tr.children[1]?.textContent}`));
    expect(rows.sort()).toEqual([...open].sort());
    expect(await page.getByText(`${open.size} case(s) wait for the expert`).count()).toBe(1);
  });

  it('works from the keyboard: Tab reaches the nav links and the table, Enter opens a page', async () => {
    await page.goto(`${dashboardUrl}#/scorecards`);
    await page.locator('figure[data-chart="scorecards"] svg[aria-label]').waitFor();
    await page.locator('body').focus();
    const focused: string[] = [];
    for (let i = 0; i < 14; i++) {
      await page.keyboard.press('Tab');
      // A string evaluated in the page (the test's tsconfig has no DOM types).
      focused.push(await page.evaluate<string>("document.activeElement?.tagName + ':' + (document.activeElement?.textContent?.trim().slice(0, 40) ?? '')"));
    }
    expect(focused).toContain('A:Agreement');
    expect(focused).toContain('BUTTON:Sign out');
    expect(focused.some((f) => f.startsWith('DIV:Scorecards per workforce'))).toBe(true);
    await page.locator('nav a', { hasText: 'Agreement' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('figure[data-chart="agreement"] svg[aria-label]').waitFor();
    expect(new URL(page.url()).hash).toBe('#/agreement');
    expect(await page.locator('nav a[aria-current="page"]').textContent()).toBe('Agreement');
  });

  it('has no serious or critical accessibility violation (axe-core) on any page, and the CSP refused nothing', async () => {
    const axe = readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
    const serious: string[] = [];
    for (const name of ['scorecards', 'trends', 'confusion', 'agreement', 'subgroups', 'shares', 'pipeline', 'adjudications']) {
      await page.goto(`${dashboardUrl}#/${name}`);
      await page.locator('#page h2').waitFor();
      await page.locator('#page:not([aria-busy])').waitFor({ state: 'attached' }); // (waitForFunction would eval in the page: the CSP refuses it)
      await page.evaluate(axe);
      const violations = await page.evaluate<{ id: string; impact: string | null; nodes: string }[]>(
        'axe.run().then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: JSON.stringify(v.nodes.map((n) => n.html.slice(0, 120))) })))',
      );
      for (const v of violations) if (v.impact === 'serious' || v.impact === 'critical') serious.push(`${name}: ${v.id} (${v.impact}, ${v.nodes} nodes)`);
    }
    expect(serious).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
