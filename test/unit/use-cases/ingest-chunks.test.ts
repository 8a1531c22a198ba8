import { describe, expect, it, vi } from 'vitest';
import { INGEST_CHUNK_CASES, isLedgerEvent, projectProgram } from '../../../functions/domain/index.js';
import { ingestCases } from '../../../functions/use-cases/setup-program.js';
import { buildPng, tEXt } from '../../support/images.js';
import { makeFakeDeps, makeProtocol } from '../fakes.js';

const PROGRAM = 'prog-1';
const N = 12_000;

async function bigIngest() {
  const deps = makeFakeDeps();
  await deps.repo.putProtocolVersion(makeProtocol());
  const clean = buildPng([]);
  const marked = buildPng([tEXt('Author', 'DOE^JANE')]);
  const rows: { caseId: string; imageKey: string; modality: string; bodyPart: string; site: string; deidentified: boolean }[] = [];
  for (let i = 0; i < N; i++) {
    const caseId = `case-${String(i).padStart(5, '0')}`;
    // Every 97th case carries a burnt-in name: the gate holds it.
    await deps.objects.putBytes(deps.buckets.images, `images/${caseId}.png`, i % 97 === 0 ? marked : clean, 'image/png');
    rows.push({ caseId, imageKey: `images/${caseId}.png`, modality: 'CR', bodyPart: 'CHEST', site: 's', deidentified: true });
  }
  const ingest = () => ingestCases(deps, { programId: PROGRAM, protocolId: 'chest-xray', protocolVersion: 1, cases: rows, gold: [], actor: 'pm:ana' });
  return { deps, rows, ingest };
}

describe('Use case: ingestCases records a large ingest in chunks that fit the item limit', () => {
  // History: one cases.ingested event per ingest carried every case and verdict; 10,000 cases broke DynamoDB's 400 KB item limit (round-10k bench setup failed).
  it('records 12,000 cases as chunks of at most INGEST_CHUNK_CASES, every case and verdict once, across a crash between chunks and a retry', async () => {
    const { deps, ingest } = await bigIngest();
    const append = deps.repo.appendLedger.bind(deps.repo);
    let appends = 0;
    vi.spyOn(deps.repo, 'appendLedger').mockImplementation(async (e) => {
      if (++appends === 4) throw new Error('crash');
      return append(e);
    });
    await expect(ingest()).rejects.toThrow('crash');
    expect(await deps.repo.listCases(PROGRAM)).toEqual([]);

    const result = await ingest();

    const chunks = Math.ceil(N / INGEST_CHUNK_CASES);
    const events = (await deps.repo.listLedger(PROGRAM)).filter(isLedgerEvent('cases.ingested'));
    expect(events.map((e) => [e.data.chunk, e.data.chunks])).toEqual(Array.from({ length: chunks }, (_, i) => [i, chunks]));
    expect(new Set(events.map((e) => e.eventId)).size).toBe(chunks);
    expect(events.every((e) => e.eventId.endsWith(`:chunk:${e.data.chunk}`))).toBe(true);
    expect(Math.max(...events.map((e) => e.data.cases.length))).toBe(INGEST_CHUNK_CASES);
    const recorded = events.flatMap((e) => e.data.cases);
    expect(recorded).toHaveLength(N);
    expect(new Set(recorded).size).toBe(N);
    const gated = events.flatMap((e) => e.data.gated);
    expect(gated).toHaveLength(Math.ceil(N / 97));
    expect(result.gated).toBe(gated.length);
    expect(events.flatMap((e) => e.data.verdicts.filter((v) => v.verdict === 'quarantined').map((v) => v.caseId))).toEqual(gated);
    // The fold over the chunks knows every case, as the stored items do.
    const projected = projectProgram(await deps.repo.listLedger(PROGRAM));
    expect(Object.keys(projected.cases)).toHaveLength(N);
    expect((await deps.repo.listCases(PROGRAM)).map((c) => c.caseId).sort()).toEqual(Object.keys(projected.cases).sort());
  });

  it('an ingest repeated after it completed records nothing more', async () => {
    const { deps, ingest } = await bigIngest();
    await ingest();
    const before = (await deps.repo.listLedger(PROGRAM)).length;

    await ingest();

    expect((await deps.repo.listLedger(PROGRAM)).length).toBe(before);
  });

  it('the fake ledger refuses an event over 400 KB as DynamoDB does (the unchunked event would have failed here)', async () => {
    const deps = makeFakeDeps();
    const ids = Array.from({ length: N }, (_, i) => `case-${String(i).padStart(5, '0')}`);
    const e = {
      eventId: `${PROGRAM}:ingest:setup:unchunked`,
      programId: PROGRAM,
      type: 'cases.ingested' as const,
      at: '2026-01-01T00:00:00.000Z',
      actor: 'pm:ana',
      protocol: 'chest-xray@1',
      subject: `ingest of ${N} case(s)`,
      reason: 'unchunked',
      v: 1 as const,
      data: { cases: ids, gated: [], verdicts: ids.map((caseId) => ({ caseId, verdict: 'clear' as const, findings: 0 })) },
    };

    await expect(deps.repo.appendLedger(e)).rejects.toThrow('Item size has exceeded the maximum allowed size');
    expect(await deps.repo.listLedger(PROGRAM)).toEqual([]);
  });
});
