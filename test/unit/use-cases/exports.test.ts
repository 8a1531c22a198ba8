import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../functions/domain/csv.js';
import type { BatchScore, StoredLabel } from '../../../functions/domain/model/index.js';
import { NotFoundError } from '../../../functions/use-cases/errors.js';
import { createExport } from '../../../functions/use-cases/exports.js';
import { failLedgerOnce } from '../../support/scenario.js';
import { type FakeDeps, T0, makeFakeDeps, makeProtocol } from '../fakes.js';

const P = 'prog-1';

async function seed(deps: FakeDeps) {
  await deps.repo.putProtocolVersion(makeProtocol());
  await deps.repo.createRound({ programId: P, protocolId: 'chest-xray', round: 1, batchIds: ['b-1'], settledBatchIds: [], createdAt: T0 });
  await deps.repo.createBatch({ batchId: 'b-1', programId: P, round: 1, protocol: 'chest-xray@1', workforceId: 'vendor-a', workforceKind: 'vendor', itemCount: 3, goldCount: 2, slaHours: 48, status: 'accepted', createdAt: T0 });
  const score: BatchScore = {
    batchId: 'b-1',
    workforceId: 'vendor-a',
    protocol: 'chest-xray@1',
    taskType: 'classification',
    goldN: 2,
    goldCorrect: 1,
    accuracy: 0.5,
    interval: null,
    kappa: null,
    summary: {},
    verdict: 'accepted',
    notes: [],
    items: [
      { caseId: 'g-1', correct: true, expected: 'normal', got: 'normal' },
      // A label text a spreadsheet would run as a formula.
      { caseId: 'g-2', correct: false, expected: 'abnormal', got: '=HYPERLINK("http://evil","x")', reasons: ['wrong, "quoted"'] },
    ],
  };
  await deps.repo.putScore(score);
  const label = (caseId: string, gold: boolean): StoredLabel => ({
    caseId,
    batchId: 'b-1',
    label: 'normal',
    workforceId: 'vendor-a',
    annotatorId: 'vendor-a/reader-1',
    protocol: 'chest-xray@1',
    submissionKey: 'uploads/vendor-a/b-1/u.jsonl',
    submissionSha256: 'b'.repeat(64),
    gold,
    status: 'accepted',
    createdAt: T0,
  });
  await deps.repo.putLabels([label('g-1', true), label('g-2', true), label('c-1', false)]);
}

describe('Use case: createExport', () => {
  it('writes per-gold-item results once to the exports bucket; the CSV parses back, formula text defused, its SHA-256 in export.created', async () => {
    const deps = makeFakeDeps();
    await seed(deps);
    const r = await createExport(deps, { programId: P, what: 'gold-items', format: 'csv', actor: 'qa:lee' });
    expect(r.key).toMatch(/^exports\/prog-1\/gold-items\/[0-9a-f]{16}\.csv$/);
    const bytes = (await deps.objects.getBytes(deps.buckets.exports, r.key)) as Uint8Array;
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(r.sha256);
    const csv = parseCsv(bytes, { maxBytes: 1_000_000 });
    expect(csv.rows.map((x) => x.cells[csv.header.indexOf('caseId')])).toEqual(['g-1', 'g-2']);
    expect(csv.rows[1].cells[csv.header.indexOf('got')]).toBe(`'=HYPERLINK("http://evil","x")`);
    expect(csv.rows[1].cells[csv.header.indexOf('annotatorId')]).toBe('vendor-a/reader-1');
    const events = (await deps.repo.listLedger(P)).filter((e) => e.type === 'export.created');
    expect(events.map((e) => e.type === 'export.created' && e.data)).toEqual([{ what: 'gold-items', key: r.key, sha256: r.sha256, rows: 2 }]);
    expect(r.url).toEqual(expect.any(String));
  });

  it('records the export once when the ledger write failed after the file was written and the call is retried', async () => {
    const deps = makeFakeDeps();
    await seed(deps);
    failLedgerOnce(deps, 'export.created');
    await expect(createExport(deps, { programId: P, what: 'scorecards', format: 'json', actor: 'qa:lee' })).rejects.toThrow(/Throughput/);
    const r = await createExport(deps, { programId: P, what: 'scorecards', format: 'json', actor: 'qa:lee' });
    const again = await createExport(deps, { programId: P, what: 'scorecards', format: 'json', actor: 'qa:lee' });
    expect(again.key).toBe(r.key);
    expect((await deps.repo.listLedger(P)).filter((e) => e.type === 'export.created')).toHaveLength(1);
  });

  it('says there is nothing to export for a program without rounds, and refuses an unknown kind by name', async () => {
    const deps = makeFakeDeps();
    await expect(createExport(deps, { programId: 'empty', what: 'labels', format: 'csv', actor: 'qa:lee' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(createExport(deps, { programId: P, what: 'everything' as 'labels', format: 'csv', actor: 'qa:lee' })).rejects.toThrow(/what: .*scorecards.*gold-items.*labels/);
  });
});
