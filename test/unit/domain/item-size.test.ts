import { createRequire } from 'node:module';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  DYNAMO_ITEM_LIMIT,
  INGEST_CHUNK_CASES,
  LedgerEvent,
  MAX_BATCH_CASES,
  ProtocolVersion,
  chainEvent,
  chunkIngest,
  dynamoItemSize,
} from '../../../functions/domain/index.js';
import { makeProtocol } from '../fakes.js';

const dynalite = createRequire(import.meta.url)('dynalite/db/index.js') as { itemSize: (item: unknown) => number; MAX_SIZE: number };

// The longest values the writers can put in the event's common fields.
const id = (c: string) => c.repeat(64); // Identifier: at most 64 characters
const PROGRAM = id('p');
const WORKFORCE = id('w');
const BATCH = `${PROGRAM}-r999999-${WORKFORCE}-999999`;
const base = {
  v: 1 as const,
  eventId: 'e'.repeat(400),
  programId: PROGRAM,
  at: '2026-12-31T23:59:59.999Z',
  actor: 'a'.repeat(200), // API actors: at most 200 characters
  protocol: `${id('q')}@999999`,
  subject: BATCH,
  reason: 'r'.repeat(600),
};
const caseIds = (n: number) => Array.from({ length: n }, (_, i) => `${String(i).padStart(6, '0')}${'c'.repeat(58)}`);

/** The stored item as the adapter writes it: keys, the event, its chain fields. */
function storedSize(e: unknown): number {
  const chained = chainEvent(LedgerEvent.parse(e), 999_999_999_999, 'f'.repeat(64));
  return dynamoItemSize({ pk: `LEDGER#${PROGRAM}`, sk: 'SEQ#999999999999', ...chained });
}

describe('dynamoItemSize counts an item as DynamoDB does', () => {
  it('equals dynalite\'s count for strings, lists, maps, booleans and null, and is never below it for numbers', () => {
    const item = { pk: 'LEDGER#p', list: ['a', 'bc', ['d']], map: { x: 'y', z: { t: true, n: null } }, empty: [], ok: false };
    expect(dynamoItemSize(item)).toBe(dynalite.itemSize(marshall(item)));
    for (const n of [0, 1, 7, 12, 100, 123_456, 0.5, 2.5e-7, Math.PI, -42, 999_999_999_999, Number.MAX_SAFE_INTEGER]) {
      const mine = dynamoItemSize({ n });
      expect(mine, String(n)).toBeGreaterThanOrEqual(dynalite.itemSize(marshall({ n })));
      expect(mine - dynalite.itemSize(marshall({ n })), String(n)).toBeLessThanOrEqual(1);
    }
    expect(DYNAMO_ITEM_LIMIT).toBe(dynalite.MAX_SIZE);
  });

  it('counts a string by its UTF-8 bytes', () => {
    expect(dynamoItemSize({ s: 'é😀' })).toBe(1 + 2 + 4);
  });
});

describe('chunkIngest', () => {
  it('splits verdicts and cases awaiting their image in order into chunks of at most the size, at least one', () => {
    const v = (caseId: string) => ({ caseId, verdict: 'clear' as const });
    expect(chunkIngest([], [], 2)).toEqual([{ chunk: 0, chunks: 1, verdicts: [], awaitingImage: [] }]);
    expect(chunkIngest([v('a'), v('b'), v('c')], ['x'], 2)).toEqual([
      { chunk: 0, chunks: 2, verdicts: [v('a'), v('b')], awaitingImage: ['x'] },
      { chunk: 1, chunks: 2, verdicts: [v('c')], awaitingImage: [] },
    ]);
    expect(chunkIngest([v('a')], ['x', 'y', 'z'], 2).map((c) => [c.verdicts.length, c.awaitingImage])).toEqual([
      [1, ['x', 'y']],
      [0, ['z']],
    ]);
    expect(() => chunkIngest([], [], 0)).toThrow('chunk size must be a positive integer, got 0');
  });
});

describe('The worst-case event of each kind with a list of cases fits DynamoDB\'s item limit', () => {
  it('cases.ingested: a chunk of INGEST_CHUNK_CASES, every case held, as many awaiting their image, stays under half the limit', () => {
    const ids = caseIds(INGEST_CHUNK_CASES);
    const size = storedSize({
      ...base,
      type: 'cases.ingested',
      data: {
        ingestId: 'i'.repeat(64),
        cases: ids,
        gated: ids,
        awaitingImage: caseIds(INGEST_CHUNK_CASES),
        verdicts: ids.map((caseId) => ({ caseId, verdict: 'quarantined', findings: Number.MAX_SAFE_INTEGER })),
        chunk: 999_999,
        chunks: 1_000_000,
      },
    });
    expect(size).toBeLessThan(DYNAMO_ITEM_LIMIT / 2);
    // Without chunks, 10,000 such cases would not fit.
    expect(size * (10_000 / INGEST_CHUNK_CASES)).toBeGreaterThan(DYNAMO_ITEM_LIMIT);
  });

  it.each([
    ['batch.dispatched', { workforceId: WORKFORCE, items: 999_999, gold: 999_999, caseIds: caseIds(MAX_BATCH_CASES) }],
    ['labels.recorded', { workforceId: WORKFORCE, labels: 999_999, submissionKey: 'k'.repeat(400), sha256: 'f'.repeat(64), caseIds: caseIds(MAX_BATCH_CASES) }],
    ['cases.requeued', { workforceId: WORKFORCE, cases: 999_999, caseIds: caseIds(MAX_BATCH_CASES), exclude: WORKFORCE }],
  ])('%s of a batch of MAX_BATCH_CASES stays under 85%% of the limit', (type, data) => {
    expect(storedSize({ ...base, type, data })).toBeLessThan(DYNAMO_ITEM_LIMIT * 0.85);
  });

  it('a protocol\'s batchSize is at most MAX_BATCH_CASES, refused above with the bound named', () => {
    expect(makeProtocol({ batchSize: MAX_BATCH_CASES }).batchSize).toBe(MAX_BATCH_CASES);
    const refused = ProtocolVersion.safeParse({ ...makeProtocol(), batchSize: MAX_BATCH_CASES + 1 });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['batchSize', expect.stringContaining('5000')]]);
  });
});
