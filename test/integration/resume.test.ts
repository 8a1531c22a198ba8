/**
 * `npm start -- --data-dir D`: the embedded stack keeps its state on disk, so a
 * demo stopped mid-round can be inspected and resumed: open batches are
 * re-driven (every lifecycle step is idempotent) and the round completes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandomSource } from '../../functions/domain/index.js';
import { loadBatchKey } from '../../functions/use-cases/batch-key.js';
import { dispatchRound } from '../../functions/use-cases/dispatch-round.js';
import { decideHeldBatches } from '../../functions/use-cases/held-batches.js';
import { PROGRAM_ID } from '../../infra/local/demo/example-program.js';
import { DemoResumeError, runDemo, setUpDemoProgram } from '../../infra/local/demo/run-demo.js';
import { startLocalStack } from '../../infra/local/stack.js';
import { expectProjectionsRebuilt } from '../support/projections.js';
import { until } from './helpers.js';

describe('Embedded stack: state kept in a data directory', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'goldline-resume-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('resumes a round that was stopped while its batches awaited uploads', async () => {
    // First run: set up, dispatch round 1, stop before any vendor uploads.
    const first = await startLocalStack({ dataDir, random: seededRandomSource(3) });
    await setUpDemoProgram(first, { cases: 200, goldFraction: 0.1, seed: 3 });
    await dispatchRound(first.deps, { programId: PROGRAM_ID, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm:test' });
    const batches = await first.deps.repo.listRoundBatches(PROGRAM_ID, 1);
    await until('awaiting', async () =>
      (await Promise.all(batches.map((b) => first.deps.repo.getBatch(b.batchId)))).every((b) => b?.status === 'awaiting-submission'),
    );
    await first.stop();

    // Second run on the same directory: the state is there, and the round finishes.
    const second = await startLocalStack({ dataDir, random: seededRandomSource(4) });
    try {
      const before = await second.deps.repo.listRoundBatches(PROGRAM_ID, 1);
      expect(before.map((b) => b.status)).toEqual(batches.map(() => 'awaiting-submission'));
      const lines: string[] = [];
      const reports = await runDemo(second, { rounds: 2, cases: 200, goldFraction: 0.1, seed: 3, log: (l) => lines.push(l) });
      expect(lines[0]).toMatch(/Resuming the program/);
      // Issue 11: a round ends with each batch decided or held (inconclusive until a later decision of its vendor settles it).
      for (const b of reports[0].batches) expect(['accepted', 'rejected', 'inconclusive']).toContain(b.status);
      expect(reports[0].batches.map((b) => b.batchId).sort()).toEqual(batches.map((b) => b.batchId).sort());
      expect(reports).toHaveLength(2);
      for (const e of second.runner.executions.values()) expect(e.status).toBe('SUCCEEDED');
      // Held batches survive the restart with their cases assigned, and the PM's end-of-program decision (the SPRT's truncation rule) settles each.
      const held = reports[0].batches.filter((b) => b.status === 'inconclusive');
      expect(held.length).toBeGreaterThan(0); // 4 gold a vendor batch: the demo's SPRT cannot decide one alone
      const cases = new Map((await second.deps.repo.listCases(PROGRAM_ID)).map((c) => [c.caseId, c]));
      for (const h of held) {
        for (const i of (await loadBatchKey(second.deps, h.batchId)).items.filter((x) => !x.gold)) {
          expect(cases.get(i.caseId), i.caseId).toMatchObject({ state: 'assigned', batchId: h.batchId });
        }
      }
      for (const w of new Set(held.map((h) => h.workforceId))) {
        const ids = held.filter((h) => h.workforceId === w).map((h) => h.batchId);
        const forced = await decideHeldBatches(second.deps, { programId: PROGRAM_ID, workforceId: w, protocol: 'chest-xray@1', reason: 'end of the program', actor: 'pm:alice' });
        expect(forced.batches.sort()).toEqual(ids.sort());
        expect(['accepted', 'rejected']).toContain(forced.decision);
        for (const id of ids) expect((await second.deps.repo.getBatch(id))?.status, id).toBe(forced.decision);
      }
      await expectProjectionsRebuilt(second.deps, PROGRAM_ID);
    } finally {
      await second.stop();
    }
  }, 120_000);

  it('refuses to resume a program set up with other options, says which, and changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldline-resume-options-'));
    try {
      const first = await startLocalStack({ dataDir: dir, random: seededRandomSource(5) });
      await runDemo(first, { rounds: 1, cases: 20, goldFraction: 0.1, seed: 5 }).finally(() => first.stop());

      const second = await startLocalStack({ dataDir: dir, random: seededRandomSource(5) });
      try {
        const ledgerBefore = (await second.deps.repo.listLedger(PROGRAM_ID)).length;
        const resumed = runDemo(second, { rounds: 1, cases: 30, goldFraction: 0.1, seed: 5 });
        await expect(resumed).rejects.toThrow(DemoResumeError);
        await expect(resumed).rejects.toThrow('the data directory holds the program set up with --cases 20 --seed 5 --overlap 0');
        expect(await second.deps.repo.listCases(PROGRAM_ID)).toHaveLength(20);
        expect(await second.deps.repo.listLedger(PROGRAM_ID)).toHaveLength(ledgerBefore);
        await expectProjectionsRebuilt(second.deps, PROGRAM_ID);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
