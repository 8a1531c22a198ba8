/**
 * The whole loop on the embedded stack, as `npm start` runs it: two rounds,
 * an internal team and two vendors of different quality.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandomSource } from '../../functions/domain/index.js';
import { recomputeStatements } from '../../functions/use-cases/statements.js';
import { PROGRAM_ID } from '../../infra/local/demo/example-program.js';
import { type RoundReport, formatRound, runDemo } from '../../infra/local/demo/run-demo.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';
import { expectProjectionsRebuilt } from '../support/projections.js';

describe('Demo loop: two rounds on the embedded stack', () => {
  let stack: LocalStack;
  let reports: RoundReport[];

  beforeAll(async () => {
    stack = await startLocalStack({ random: seededRandomSource(1) });
    reports = await runDemo(stack, { rounds: 2, cases: 600, goldFraction: 0.1, seed: 1 });
  }, 120_000);
  afterAll(async () => stack?.stop());

  // Issue 9: the README showed output no run of the demo printed any more; it is now the default run's, kept equal here.
  it("prints exactly the README's sample output (the default run: seed 1, 600 cases, 2 rounds)", async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const sample = /<!-- demo-sample:start[^>]*-->\n```text\n([\s\S]*?)```\n<!-- demo-sample:end -->/.exec(readme);
    expect(sample, 'README.md has no demo-sample block').not.toBeNull();
    // Upload ids are drawn while the simulated workforces upload concurrently, so which draw an upload gets varies
    // from run to run; every other figure is fixed by the seed.
    const uploadIds = (text: string) => text.replace(/upload [a-z0-9]{24} /g, 'upload <id> ');
    const printed = reports.map(formatRound).join('\n').trim();
    expect(uploadIds(sample![1].trim()), 'README sample output differs from the default run: paste the rounds `npm start` prints').toBe(uploadIds(printed));
  });

    it('moves work from the poor vendor to the good one', () => {
    const first = reports[0];
    const last = reports[reports.length - 1];
    expect(first.sharesBefore['vendor-a']).toBeCloseTo(0.5);
    expect(first.sharesBefore['vendor-b']).toBeCloseTo(0.5);
    expect(last.sharesAfter['vendor-a']).toBeGreaterThan(first.sharesBefore['vendor-a']);
    expect(last.sharesAfter['vendor-b']).toBeLessThan(first.sharesBefore['vendor-b']);
    // Round 2 routing follows round 1's new shares (issue 11: with internal blind gold the seed-7 round 1 gives both vendors 12/12 gold, so cost decides round 1's shares).
    // Issue 11: round-1 batches are held (no accepted case yet, so no cost per accepted case either) and the shares may not move: then the routing splits evenly.
    const [more, less] = first.sharesAfter['vendor-a'] > first.sharesAfter['vendor-b'] ? ['vendor-a', 'vendor-b'] : ['vendor-b', 'vendor-a'];
    if (first.sharesAfter[more] === first.sharesAfter[less]) expect(Math.abs(reports[1].dispatch.routing[more] - reports[1].dispatch.routing[less])).toBeLessThanOrEqual(1);
    else expect(reports[1].dispatch.routing[more]).toBeGreaterThan(reports[1].dispatch.routing[less]);
  });

  it('finishes every batch and every execution (a held batch is settled for its round)', () => {
    for (const r of reports) {
      for (const b of r.batches) expect(['accepted', 'rejected', 'inconclusive']).toContain(b.status);
    }
    for (const e of stack.runner.executions.values()) expect(e.status).toBe('SUCCEEDED');
  });

  // Issue 11: one or two misses in six gold items rejected the careful vendor-a (0.85 threshold); batches are now decided by the SPRT, pooled across held batches.
  it('never rejects or tightens the careful vendor, decides every vendor batch by its evidence, and prints each decision with its rule and evidence', async () => {
    const vendorBatches = reports.flatMap((r) => r.batches).filter((b) => b.workforceId !== 'radiology-team');
    for (const b of vendorBatches.filter((x) => x.workforceId === 'vendor-a')) expect(b.status).not.toBe('rejected');
    // The sloppy vendor-b (74% accurate) is caught in the default run: rejected on its pooled evidence, then tightened.
    // (With --seed 7 its gold happens to be 23 of 24 right and it is rightly not rejected.) Every decision follows the
    // SPRT's bounds on the pooled evidence.
    expect(vendorBatches.filter((x) => x.workforceId === 'vendor-b' && x.status === 'rejected').length).toBeGreaterThan(0);
    for (const b of vendorBatches) {
      expect(b.decision).toMatchObject({ rule: 'sprt', evidence: { n: expect.any(Number), llr: expect.any(Number) } });
      const { llr, bounds } = b.decision!.evidence;
      const expected = llr! <= bounds!.accept ? 'accepted' : llr! >= bounds!.reject ? 'rejected' : 'inconclusive';
      expect(b.status).toBe(expected);
    }
    const text = reports.map(formatRound).join('\n');
    expect(text).toMatch(/sprt: 0 wrong of 6 gold over 1 batch, LLR −1\.03 \(accept ≤ −2\.25, reject ≥ 2\.89\) → inconclusive: held, not paid or penalised yet/);
    expect(text).toMatch(/→ accepted, settling held demo-cxr-r1-vendor-a-1, demo-cxr-r1-vendor-a-2/);
    const ledger = await stack.deps.repo.listLedger(PROGRAM_ID);
    const switched = ledger.filter((e) => e.type === 'workforce.inspection-switched');
    expect(switched.filter((e) => e.subject === 'vendor-a')).toEqual([]);
    expect(switched.filter((e) => e.subject === 'vendor-b').map((e) => e.type === 'workforce.inspection-switched' && e.data.to)).toContain('tightened');
    // Every held batch a later decision settled carries that decision, with the deciding batch named.
    for (const b of vendorBatches.filter((x) => x.decision?.carried.length)) {
      for (const id of b.decision!.carried) {
        expect(ledger.find((e) => e.eventId === `${id}:carried`)).toMatchObject({ data: { decidedWith: b.batchId, decision: b.decision } });
        expect((await stack.deps.repo.getBatch(id))?.status).toBe(b.status);
      }
    }
  });

  it('ranks the vendors by gold accuracy in the scorecards', () => {
    const cards = Object.fromEntries(reports[1].scorecards.map((c) => [c.workforceId, c]));
    expect(cards['vendor-a'].accuracy!).toBeGreaterThan(cards['vendor-b'].accuracy!);
    expect(cards['vendor-a'].goldN).toBeGreaterThanOrEqual(10);
    expect(cards['vendor-a'].interval!.lower).toBeLessThanOrEqual(cards['vendor-a'].accuracy!);
  });

  // Issue 11: the internal team got no gold, so its scorecard was always "n/a"; it now gets blind gold and a real figure.
  it('gives the internal team a scorecard with a gold figure, its n and interval', async () => {
    const internal = (await stack.deps.repo.listWorkforces(PROGRAM_ID)).filter((w) => w.kind === 'internal').map((w) => w.workforceId);
    expect(internal.length).toBeGreaterThan(0);
    const cards = reports[1].scorecards.filter((c) => internal.includes(c.workforceId));
    expect(cards.length).toBeGreaterThan(0);
    for (const c of cards) {
      expect(c.goldN).toBeGreaterThan(0);
      expect(c.accuracy).not.toBeNull();
      expect(c.interval!.lower).toBeLessThanOrEqual(c.accuracy!);
      expect(c.batchesRejected).toBe(0);
    }
  });

  it('stores every label with workforce, annotator, protocol id@version and submission key + SHA-256', async () => {
    let checked = 0;
    for (const r of reports) {
      for (const b of r.batches) {
        // A batch still held has no labels yet (they are recorded when a later decision settles it).
        if ((await stack.deps.repo.getBatch(b.batchId))?.status === 'inconclusive') continue;
        const labels = await stack.deps.repo.listBatchLabels(b.batchId);
        expect(labels).toHaveLength(b.items);
        const bytesByKey = new Map<string, string>();
        for (const l of labels) {
          expect(l.workforceId).toBe(b.workforceId);
          expect(l.annotatorId).toMatch(new RegExp(`^${b.workforceId}/annotator-\\d$`));
          expect(l.protocol).toBe('chest-xray@1');
          expect(l.submissionKey).toMatch(new RegExp(`^uploads/${b.workforceId}/${b.batchId}/[a-z0-9]+\\.jsonl$`));
          if (!bytesByKey.has(l.submissionKey)) {
            const bytes = await stack.deps.objects.getBytes(stack.deps.buckets.uploads, l.submissionKey);
            bytesByKey.set(l.submissionKey, createHash('sha256').update(bytes!).digest('hex'));
          }
          expect(l.submissionSha256).toBe(bytesByKey.get(l.submissionKey));
          checked++;
        }
      }
    }
    // Two round-2 vendor-a batches (134 items) are still held when the default run ends: no labels yet.
    expect(checked).toBeGreaterThan(400);
  });

  it('keeps a ledger from which every stored projection is rebuilt: batches, cases, shares, scorecards, workforces', async () => {
    const ledger = await stack.deps.repo.listLedger(PROGRAM_ID);
    expect(ledger.filter((e) => e.type === 'shares.changed').length).toBeGreaterThanOrEqual(2);
    await expectProjectionsRebuilt(stack.deps, PROGRAM_ID);
  });

  it("issues each vendor its statement for the run, and the ledger reproduces every one to the cent", async () => {
    const issued = (await stack.deps.repo.listLedger(PROGRAM_ID)).filter((e) => e.type === 'statement.issued');
    expect(issued.map((e) => e.subject).sort()).toEqual(['vendor-a', 'vendor-b']);
    const checks = await recomputeStatements(stack.deps, PROGRAM_ID);
    expect(checks).toHaveLength(2);
    for (const c of checks) expect(c).toMatchObject({ hashMatches: true, recomputedMatches: true, recomputedTotalCents: c.storedTotalCents });
  });
});
