import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../functions/domain/csv.js';
import { frontierOf } from '../../../functions/domain/ledger-merge.js';
import type { StoredLabel } from '../../../functions/domain/model/index.js';
import { InvalidInputError } from '../../../functions/use-cases/errors.js';
import { exportAcceptedLabels, exportScorecards, getScorecards, queryLedger } from '../../../functions/use-cases/qa-queries.js';
import { type FakeDeps, makeCase, makeFakeDeps, makeLedgerEvent, makeScorecard, makeWorkforce, T0 } from '../fakes.js';
import { sampleData } from '../ledger-samples.js';

const label = (caseId: string, batchId: string, overrides: Partial<StoredLabel> = {}): StoredLabel => ({
  caseId,
  batchId,
  label: 'normal',
  workforceId: 'vendor-a',
  annotatorId: 'reader-1',
  protocol: 'chest-xray@1',
  submissionKey: `uploads/vendor-a/${batchId}/up00000001.jsonl`,
  submissionSha256: 'b'.repeat(64),
  gold: false,
  status: 'accepted',
  createdAt: T0,
  ...overrides,
});

async function seed(deps: FakeDeps) {
  await deps.repo.putWorkforce('prog-1', makeWorkforce('vendor-a'));
  await deps.repo.putWorkforce('prog-2', makeWorkforce('vendor-a'));
  await deps.repo.putCases('prog-1', [
    { ...makeCase('c-1'), goldPool: false },
    { ...makeCase('c-2'), goldPool: false },
  ]);
  await deps.repo.createRound({ programId: 'prog-1', protocolId: 'chest-xray', round: 1, batchIds: ['b-1'], settledBatchIds: [], createdAt: T0 });
  await deps.repo.createBatch({
    batchId: 'b-1',
    programId: 'prog-1',
    round: 1,
    protocol: 'chest-xray@1',
    workforceId: 'vendor-a',
    workforceKind: 'vendor',
    itemCount: 3,
    goldCount: 1,
    slaHours: 48,
    status: 'accepted',
    createdAt: T0,
  });
  await deps.repo.assignCases('prog-1', ['c-1', 'c-2'], 'b-1');
  await deps.repo.putLabels([
    label('c-1', 'b-1', { label: '=HYPERLINK("http://evil","click")' }),
    label('c-2', 'b-1', { status: 'superseded' }),
    label('g-1', 'b-1', { gold: true }),
    // The same case id in a batch of another program: not part of this trace.
    label('c-1', 'other-prog-batch'),
  ]);
  await deps.repo.createAdjudication({
    adjudicationId: 'b-1-adj',
    programId: 'prog-1',
    batchId: 'b-1',
    protocol: 'chest-xray@1',
    needs: [{ caseId: 'c-2', kind: 'overlap-disagreement', reason: 'disagree', labels: {} }],
    status: 'decided',
    decidedBy: 'radiology/dr-lead',
    decidedAt: T0,
    decisions: [{ caseId: 'c-2', label: 'abnormal' }],
    createdAt: T0,
  });
  await deps.repo.putLabels([label('c-2', 'b-1-adj', { label: 'abnormal', workforceId: 'radiology', annotatorId: 'dr-lead', adjudicationId: 'b-1-adj' })]);
  const events = [
    makeLedgerEvent({ eventId: 'c-1:assigned', type: 'case.assigned', programId: 'prog-1', subject: 'c-1', at: '2025-03-01T08:00:00.000Z', data: { caseId: 'c-1', workforceId: 'vendor-a' } }),
    makeLedgerEvent({ eventId: 'b-1:dispatched', type: 'batch.dispatched', programId: 'prog-1', subject: 'b-1', at: '2025-03-01T09:00:00.000Z', data: sampleData('batch.dispatched', { workforceId: 'vendor-a', caseIds: ['c-1'] }) }),
    makeLedgerEvent({ eventId: 'b-1:accepted', type: 'batch.accepted', programId: 'prog-1', subject: 'b-1', at: '2025-03-01T11:00:00.000Z', data: sampleData('batch.accepted', { workforceId: 'vendor-a' }) }),
    makeLedgerEvent({ eventId: 'b-1-adj:decided', type: 'adjudication.decided', programId: 'prog-1', subject: 'b-1-adj', at: '2025-03-01T12:00:00.000Z', data: { batchId: 'b-1', workforceId: 'radiology', expertId: 'dr-lead', decisions: [{ caseId: 'c-2', label: 'abnormal' }] } }),
    makeLedgerEvent({ eventId: 'other', type: 'batch.accepted', programId: 'prog-2', subject: 'b-9', at: '2025-03-01T10:00:00.000Z' }),
  ];
  for (const e of events) await deps.repo.appendLedger(e);
}

describe('Use case: getScorecards', () => {
  it('lists every scorecard of the program, by protocol then workforce', async () => {
    const deps = makeFakeDeps();
    await deps.repo.putScorecards('prog-1', [makeScorecard('vendor-b', { goldN: 6 }), makeScorecard('vendor-a', { goldN: 6 })]);

    const cards = await getScorecards(deps, { programId: 'prog-1' });

    expect(cards.items.map((c) => c.workforceId)).toEqual(['vendor-a', 'vendor-b']);
  });
});

describe('Use case: queryLedger', () => {
  it('returns the program\'s events in time order, filtered, in pages that neither skip nor repeat', async () => {
    const deps = makeFakeDeps();
    await seed(deps);

    const all = await queryLedger(deps, { programId: 'prog-1' });
    const first = await queryLedger(deps, { programId: 'prog-1', limit: 2 });
    const rest = await queryLedger(deps, { programId: 'prog-1', limit: 2, cursor: first.next });

    expect(all.items.map((e) => e.eventId)).toEqual(['c-1:assigned', 'b-1:dispatched', 'b-1:accepted', 'b-1-adj:decided']);
    expect([...first.items, ...rest.items].map((e) => e.eventId)).toEqual(all.items.map((e) => e.eventId));
    expect(rest.next).toBeUndefined();
  });

  it('fills a filtered page past the events it reads per query, and continues after what it read with events appended meanwhile', async () => {
    // Arrange: 450 events, every 50th of vendor-b
    const deps = makeFakeDeps();
    for (let i = 1; i <= 450; i++) {
      await deps.repo.appendLedger(
        makeLedgerEvent({ eventId: `b-${i}:dispatched`, type: 'batch.dispatched', programId: 'prog-1', subject: `b-${i}`, data: { workforceId: i % 50 === 0 ? 'vendor-b' : 'vendor-a', items: 1, gold: 0, caseIds: [] } }),
      );
    }

    // Act
    const first = await queryLedger(deps, { programId: 'prog-1', workforceId: 'vendor-b', limit: 5 });
    await deps.repo.appendLedger(makeLedgerEvent({ eventId: 'late:dispatched', type: 'batch.dispatched', programId: 'prog-1', subject: 'late', data: { workforceId: 'vendor-b', items: 1, gold: 0, caseIds: [] } }));
    const second = await queryLedger(deps, { programId: 'prog-1', workforceId: 'vendor-b', limit: 5, cursor: first.next });

    // Assert
    expect(first.items.map((e) => e.eventId)).toEqual(['b-50:dispatched', 'b-100:dispatched', 'b-150:dispatched', 'b-200:dispatched', 'b-250:dispatched']);
    expect(second.items.map((e) => e.eventId)).toEqual(['b-300:dispatched', 'b-350:dispatched', 'b-400:dispatched', 'b-450:dispatched', 'late:dispatched']);
    // The cursor is the frontier of what the first page read (the last seq per ledger chain): nothing repeated.
    expect(JSON.parse(Buffer.from(first.next!, 'base64url').toString())).toEqual(frontierOf((await deps.repo.listLedger('prog-1')).slice(0, 250)));
    expect(second.next).toBeUndefined();
  });

  it('filters by case, batch, workforce and kind together', async () => {
    const deps = makeFakeDeps();
    await seed(deps);

    const ids = async (f: Record<string, string>) => (await queryLedger(deps, { programId: 'prog-1', ...f })).items.map((e) => e.eventId);

    expect(await ids({ caseId: 'c-2' })).toEqual(['b-1-adj:decided']);
    expect(await ids({ batchId: 'b-1', kind: 'batch' })).toEqual(['b-1:dispatched', 'b-1:accepted']);
    expect(await ids({ workforceId: 'vendor-a', kind: 'case.assigned' })).toEqual(['c-1:assigned']);
  });

  it('refuses an unknown kind, naming the kinds there are, and a cursor of another shape', async () => {
    const deps = makeFakeDeps();
    await expect(queryLedger(deps, { programId: 'prog-1', kind: 'batch.acepted' })).rejects.toThrow(/kind: an event type \(batch.dispatched/);
    const cursor = Buffer.from(JSON.stringify({ pk: 'LEDGER#prog-2' })).toString('base64url');
    await expect(queryLedger(deps, { programId: 'prog-1', cursor })).rejects.toBeInstanceOf(InvalidInputError);
  });
});

// traceCase: test/unit/use-cases/case-trace.test.ts.

describe('Use case: exportAcceptedLabels', () => {
  it('exports the dataset — accepted, non-gold labels and adjudicated ones — as CSV a spreadsheet will not execute', async () => {
    const deps = makeFakeDeps();
    await seed(deps);

    const file = await exportAcceptedLabels(deps, { programId: 'prog-1', format: 'csv' });

    expect(file.filename).toBe('prog-1-accepted-labels.csv');
    const csv = parseCsv(new TextEncoder().encode(file.body), { maxBytes: 1e6 });
    const col = (name: string) => csv.header.indexOf(name);
    expect(csv.rows.map((r) => [r.cells[col('caseId')], r.cells[col('batchId')]])).toEqual([
      ['c-1', 'b-1'],
      ['c-2', 'b-1-adj'],
    ]);
    expect(csv.rows[0].cells[col('label')]).toBe('\'=HYPERLINK("http://evil","click")');
    expect(csv.rows[1].cells[col('adjudicationId')]).toBe('b-1-adj');
  });

  it('exports the same labels as JSON, values untouched', async () => {
    const deps = makeFakeDeps();
    await seed(deps);

    const file = await exportAcceptedLabels(deps, { programId: 'prog-1', format: 'json' });

    const labels = JSON.parse(file.body) as StoredLabel[];
    expect(labels.map((l) => l.label)).toEqual(['=HYPERLINK("http://evil","click")', 'abnormal']);
  });
});

describe('Use case: exportScorecards', () => {
  it('writes one CSV row per scorecard with its interval bounds', async () => {
    const deps = makeFakeDeps();
    await deps.repo.putScorecards('prog-1', [makeScorecard('vendor-a', { goldN: 12, goldCorrect: 11, lower: 0.646, upper: 0.985 })]);

    const file = await exportScorecards(deps, { programId: 'prog-1', format: 'csv' });

    const csv = parseCsv(new TextEncoder().encode(file.body), { maxBytes: 1e6 });
    expect(csv.rows).toHaveLength(1);
    expect(csv.rows[0].cells[csv.header.indexOf('intervalLower')]).toBe('0.646');
    expect(csv.rows[0].cells[csv.header.indexOf('goldCorrect')]).toBe('11');
  });
});
