/**
 * Contract tests for the Repository port's query methods (issue 9): the same
 * suite runs against the DynamoDB adapter on dynalite (in process, 127.0.0.1)
 * and against the in-memory fake the use-case tests rely on, so what the fake
 * shows about pages, cursors and conditional updates holds for the real store;
 * issue 14 adds cases by work state and the sharded ledger.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseKeys } from '../../../functions/adapters/dynamo-cases.js';
import { ledgerKeys } from '../../../functions/adapters/dynamo-ledger.js';
import { DynamoRepository } from '../../../functions/adapters/dynamo-repository.js';
import { CASE_SHARDS, LEDGER_SHARDS, shardLabel, shardOf } from '../../../functions/domain/key-shards.js';
import { chainEvent, GENESIS_HASH, verifyLedgerChain } from '../../../functions/domain/ledger-chain.js';
import { frontierOf, type LedgerFrontier } from '../../../functions/domain/ledger-merge.js';
import type { LedgerEvent } from '../../../functions/domain/model/index.js';
import { InvalidInputError } from '../../../functions/use-cases/errors.js';
import type { BatchRecord, Repository } from '../../../functions/use-cases/ports.js';
import { MAIN_TABLE } from '../../../infra/definitions.js';
import { createActiveTable } from '../../../infra/local/dynalite-tables.js';
import { createTableInput } from '../../../infra/local/stack.js';
import { type TestDynalite, startTestDynalite } from '../../support/dynalite.js';
import { InMemoryRepository, makeCase, makeScorecard, makeWorkforce, T0 } from '../fakes.js';

/** A valid event (batch.overdue of batch `i`), as `record()` stamps it. */
const overdue = (i: number, programId = 'prog-1'): LedgerEvent =>
  ({
    v: 1,
    eventId: `batch-${i}:overdue`,
    programId,
    type: 'batch.overdue',
    at: T0,
    actor: 'system:overdue',
    protocol: 'chest-xray@1',
    subject: `batch-${i}`,
    reason: 'no submission within the SLA',
    data: { workforceId: 'vendor-a', slaHours: 48, timeout: 'States.Timeout' },
  }) as LedgerEvent;

const batch = (batchId: string, overrides: Partial<BatchRecord> = {}): BatchRecord => ({
  batchId,
  programId: 'prog-1',
  round: 1,
  protocol: 'chest-xray@1',
  workforceId: 'vendor-a',
  workforceKind: 'vendor',
  itemCount: 10,
  goldCount: 1,
  slaHours: 48,
  status: 'awaiting-submission',
  createdAt: T0,
  ...overrides,
});

let dynamo: TestDynalite;
let client: DynamoDBClient;
let tables = 0;

beforeAll(async () => {
  dynamo = await startTestDynalite();
  client = dynamo.client;
});

afterAll(() => dynamo?.stop());

/** A fresh DynamoDB table (same definition as the stack) per test. */
async function dynamoRepository(): Promise<Repository> {
  const name = `contract-${++tables}`;
  await createActiveTable(client, createTableInput(MAIN_TABLE, name));
  return new DynamoRepository(client, name);
}

const implementations: [string, () => Promise<Repository>][] = [
  ['DynamoRepository on dynalite', dynamoRepository],
  ['InMemoryRepository', async () => new InMemoryRepository()],
];

describe.each(implementations)('Port: Repository (queries) — %s', (_name, make) => {
  describe('Method: listWorkforceBatches', () => {
    it('pages through only this workforce\'s batches, newest first, and refuses another workforce\'s cursor', async () => {
      // Arrange
      const repo = await make();
      for (let i = 0; i < 5; i++) await repo.createBatch(batch(`b-a-${i}`, { createdAt: `2025-03-0${i + 1}T09:00:00.000Z` }));
      await repo.createBatch(batch('b-b-0', { workforceId: 'vendor-b' }));

      // Act
      const seen: string[] = [];
      let after: Record<string, string | number> | undefined;
      let pages = 0;
      do {
        const page = await repo.listWorkforceBatches('vendor-a', { limit: 2, ...(after ? { after } : {}) });
        seen.push(...page.items.map((b) => b.batchId));
        after = page.next;
        pages++;
      } while (after && pages < 10);
      const first = await repo.listWorkforceBatches('vendor-a', { limit: 2 });

      // Assert
      expect(seen).toEqual(['b-a-4', 'b-a-3', 'b-a-2', 'b-a-1', 'b-a-0']);
      expect(first.next).toBeDefined();
      await expect(repo.listWorkforceBatches('vendor-b', { limit: 2, after: first.next })).rejects.toBeInstanceOf(InvalidInputError);
      await expect(repo.listWorkforceBatches('vendor-a', { limit: 2, after: { pk: 'WORKFORCE#vendor-a' } })).rejects.toBeInstanceOf(InvalidInputError);
    });

    it('lists a batch created twice (a retried dispatch) once', async () => {
      const repo = await make();
      await repo.createBatch(batch('b-1'));
      await repo.createBatch(batch('b-1'));

      const page = await repo.listWorkforceBatches('vendor-a', { limit: 10 });

      expect(page.items.map((b) => b.batchId)).toEqual(['b-1']);
    });
  });

  describe('Method: listRoundBatchesPage', () => {
    it('pages through a round\'s batches by id and refuses a cursor of another round', async () => {
      const repo = await make();
      for (const id of ['b-3', 'b-1', 'b-2']) await repo.createBatch(batch(id));
      await repo.createBatch(batch('b-9', { round: 2 }));

      const p1 = await repo.listRoundBatchesPage('prog-1', 1, { limit: 2 });
      const p2 = await repo.listRoundBatchesPage('prog-1', 1, { limit: 2, after: p1.next });

      expect(p1.items.map((b) => b.batchId)).toEqual(['b-1', 'b-2']);
      expect(p2.items.map((b) => b.batchId)).toEqual(['b-3']);
      expect(p2.next).toBeUndefined();
      await expect(repo.listRoundBatchesPage('prog-1', 2, { limit: 2, after: p1.next })).rejects.toBeInstanceOf(InvalidInputError);
    });
  });

  describe('Method: listPrograms / listRounds / listProgramScorecards', () => {
    it('lists the programs with workforces, their rounds in order and every scorecard of a program', async () => {
      const repo = await make();
      await repo.putWorkforce('prog-2', makeWorkforce('vendor-a'));
      await repo.putWorkforce('prog-1', makeWorkforce('vendor-a'));
      await repo.putWorkforce('prog-1', makeWorkforce('vendor-b'));
      for (const round of [2, 1]) {
        await repo.createRound({ programId: 'prog-1', protocolId: 'chest-xray', round, batchIds: [`b-${round}`], settledBatchIds: [], createdAt: T0 });
      }
      await repo.markRoundBatchSettled('prog-1', 1, 'b-1');
      await repo.putScorecards('prog-1', [makeScorecard('vendor-a', { goldN: 6 }), { ...makeScorecard('vendor-b', { goldN: 6 }), protocolId: 'knee' }]);

      expect(await repo.listPrograms()).toEqual(['prog-1', 'prog-2']);
      const rounds = await repo.listRounds('prog-1');
      expect(rounds.map((r) => [r.round, r.settledBatchIds])).toEqual([
        [1, ['b-1']],
        [2, []],
      ]);
      expect((await repo.listProgramScorecards('prog-1')).map((c) => `${c.protocolId}/${c.workforceId}`).sort()).toEqual([
        'chest-xray/vendor-a',
        'knee/vendor-b',
      ]);
    });
  });

  describe('Method: updateWorkforceTerms', () => {
    it('changes only the named terms, keeps status and gold history, and answers undefined for an unknown workforce', async () => {
      const repo = await make();
      await repo.putWorkforce('prog-1', makeWorkforce('vendor-a', { status: 'probation', goldSeen: ['g-1'] }));

      const updated = await repo.updateWorkforceTerms('prog-1', 'vendor-a', { pricePerCase: 3.5, paused: true });
      const missing = await repo.updateWorkforceTerms('prog-1', 'vendor-x', { pricePerCase: 1 });

      expect(updated).toMatchObject({ pricePerCase: 3.5, paused: true, status: 'probation', goldSeen: ['g-1'], capacityPerRound: 1000 });
      expect((await repo.listWorkforces('prog-1'))[0]).toEqual(updated);
      expect(missing).toBeUndefined();
      expect(await repo.listWorkforces('prog-1')).toHaveLength(1);
    });
  });

  describe('Method: setCaseAssignment', () => {
    it('records an assignment on a pending case only', async () => {
      const repo = await make();
      await repo.putCases('prog-1', [
        { ...makeCase('c-1'), goldPool: false },
        { ...makeCase('c-2'), goldPool: false },
      ]);
      await repo.assignCases('prog-1', ['c-2'], 'b-1');
      const assignment = { workforceId: 'vendor-b', reason: 'sharper on pediatric films', by: 'pm:alice', at: T0 };

      expect(await repo.setCaseAssignment('prog-1', 'c-1', assignment)).toBe(true);
      expect(await repo.setCaseAssignment('prog-1', 'c-2', assignment)).toBe(false);
      expect(await repo.setCaseAssignment('prog-1', 'c-404', assignment)).toBe(false);

      expect((await repo.getCase('prog-1', 'c-1'))?.assignment).toEqual(assignment);
      expect((await repo.getCase('prog-1', 'c-2'))?.assignment).toBeUndefined();
      expect((await repo.getCase('prog-1', 'c-2'))?.batchId).toBe('b-1');
      expect(await repo.getCase('prog-1', 'c-404')).toBeUndefined();
    });
  });

  describe('Method: listAdjudications', () => {
    it('lists a program\'s adjudications whatever their status', async () => {
      const repo = await make();
      for (const id of ['a-1', 'a-2']) {
        await repo.createAdjudication({ adjudicationId: id, programId: 'prog-1', batchId: 'b-1', protocol: 'chest-xray@1', needs: [], status: 'open', createdAt: T0 });
      }
      await repo.decideAdjudication('a-1', { decidedBy: 'radiology/dr-lead', decidedAt: T0, decisions: [] });

      const all = await repo.listAdjudications('prog-1');

      expect(all.map((a) => [a.adjudicationId, a.status]).sort()).toEqual([
        ['a-1', 'decided'],
        ['a-2', 'open'],
      ]);
      expect(await repo.listAdjudications('prog-2')).toEqual([]);
    });
  });

  describe('Ledger: appendLedger / listLedger / listLedgerPage / getLedgerEvent / readLedgerChain', () => {
    it("lists a program's events in append order across its shards, each shard numbered 1, 2, 3 and chained by hash", async () => {
      const repo = await make();
      const order = [3, 1, 2, 7, 5, 4, 6, 8, 9, 10];
      for (const i of order) expect(await repo.appendLedger(overdue(i))).toBe('appended');
      await repo.appendLedger(overdue(11, 'prog-2'));

      const events = await repo.listLedger('prog-1');

      expect(events.map((e) => e.eventId)).toEqual(order.map((i) => `batch-${i}:overdue`));
      for (const e of events) expect(e.shard).toBe(shardOf(e.eventId, LEDGER_SHARDS));
      expect(new Set(events.map((e) => e.shard)).size).toBeGreaterThan(1);
      for (const shard of new Set(events.map((e) => e.shard))) {
        const chain = events.filter((e) => e.shard === shard);
        expect(chain.map((e) => e.seq)).toEqual(chain.map((_, i) => i + 1));
        expect(chain.map((e) => e.prevHash)).toEqual([GENESIS_HASH, ...chain.slice(0, -1).map((e) => e.hash)]);
      }
      expect((await repo.listLedger('prog-2')).map((e) => e.seq)).toEqual([1]);
      expect(await repo.getLedgerEvent('prog-1', 'batch-1:overdue')).toEqual(events[1]);
      expect(await repo.getLedgerEvent('prog-1', 'batch-404:overdue')).toBeUndefined();
    });

    it('changes nothing on a repeated event id, even when the repeats race', async () => {
      const repo = await make();
      await repo.appendLedger(overdue(1));

      const results = await Promise.all([...Array(6)].map(() => repo.appendLedger(overdue(2))));
      const again = await repo.appendLedger({ ...overdue(1), reason: 'a second time' });

      expect(results.filter((r) => r === 'appended')).toHaveLength(1);
      expect(again).toBe('duplicate');
      expect((await repo.listLedger('prog-1')).map((e) => e.eventId)).toEqual(['batch-1:overdue', 'batch-2:overdue']);
      const { items, keys } = await repo.readLedgerChain('prog-1');
      expect(verifyLedgerChain(items, keys).ok).toBe(true);
    });

    it('gives concurrent appends of different events consecutive seqs in their shards with no gap and intact chains', async () => {
      const repo = await make();

      await Promise.all([...Array(24)].map((_, i) => repo.appendLedger(overdue(i + 1))));

      const events = await repo.listLedger('prog-1');
      expect(new Set(events.map((e) => e.eventId)).size).toBe(24);
      for (const shard of new Set(events.map((e) => e.shard))) {
        expect(events.filter((e) => e.shard === shard).map((e) => e.seq).sort((a, b) => a - b)).toEqual(events.filter((e) => e.shard === shard).map((_, i) => i + 1));
      }
      const { items, keys } = await repo.readLedgerChain('prog-1');
      const verdict = verifyLedgerChain(items, keys);
      expect(verdict).toMatchObject({ ok: true, events: 24, problems: [] });
      expect(verdict.head.heads?.reduce((n, h) => n + h.seq, 0)).toBe(24);
    });

    it('pages through the events after a frontier, in order, each once, and says when the end is reached', async () => {
      const repo = await make();
      for (let i = 1; i <= 30; i++) await repo.appendLedger(overdue(i));
      const all = (await repo.listLedger('prog-1')).map((e) => e.eventId);

      const seen: string[] = [];
      let after: LedgerFrontier | undefined;
      let pages = 0;
      do {
        const page = await repo.listLedgerPage('prog-1', { limit: 4, ...(after ? { after } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(4);
        seen.push(...page.items.map((e) => e.eventId));
        after = page.next;
        pages++;
        // An event appended between pages comes on a later page.
        if (pages === 2) await repo.appendLedger(overdue(31));
      } while (after !== undefined && pages < 40);

      expect(seen).toEqual([...all, 'batch-31:overdue']);
      const end = frontierOf(await repo.listLedger('prog-1'));
      expect(await repo.listLedgerPage('prog-1', { after: end, limit: 2 })).toEqual({ items: [] });
    });
  });
});

describe('Port: Repository (ledger appended by several instances) — DynamoRepository on dynalite', () => {
  it('chains correctly when another instance appended since this one last did (its head hint is stale)', async () => {
    const a = await dynamoRepository();
    const b = new DynamoRepository(client, `contract-${tables}`);

    for (const [repo, i] of [[a, 1], [a, 2], [b, 3], [a, 4], [b, 5], [a, 6]] as const) expect(await repo.appendLedger(overdue(i))).toBe('appended');

    const events = await a.listLedger('prog-1');
    expect(events.map((e) => e.eventId)).toEqual([1, 2, 3, 4, 5, 6].map((i) => `batch-${i}:overdue`));
    const { items, keys } = await b.readLedgerChain('prog-1');
    expect(verifyLedgerChain(items, keys)).toMatchObject({ ok: true, events: 6, problems: [] });
  });
});

// A crash between the event write and its key write (no transactions): the retry appends the event again.
describe('Port: Repository (ledger after a crash mid-append) — DynamoRepository on dynalite', () => {
  it('keeps the first occurrence for readers and verify calls the later copy a benign duplicate', async () => {
    const repo = await dynamoRepository();
    const table = `contract-${tables}`;
    await repo.appendLedger(overdue(1));
    const shard = ledgerKeys.shardOf('batch-2:overdue');
    const [first] = await repo.listLedger('prog-1');
    const head = first.shard === shard ? first : undefined;
    const orphanSeq = (head?.seq ?? 0) + 1;
    const orphan = chainEvent({ ...overdue(2), at: T0 }, orphanSeq, head?.hash ?? GENESIS_HASH, { shard, ord: (first.ord ?? 0) + 1 });
    await DynamoDBDocumentClient.from(client).send(new PutCommand({ TableName: table, Item: { ...ledgerKeys.event('prog-1', orphanSeq, shard), ...orphan } }));

    const retried = await repo.appendLedger({ ...overdue(2), at: '2025-03-01T09:05:00.000Z' });

    expect(retried).toBe('appended');
    const events = await repo.listLedger('prog-1');
    expect(events.map((e) => [e.eventId, e.at])).toEqual([
      ['batch-1:overdue', T0],
      ['batch-2:overdue', T0],
    ]);
    const { items, keys } = await repo.readLedgerChain('prog-1');
    const verdict = verifyLedgerChain(items, keys);
    expect(verdict.ok).toBe(true);
    expect(verdict.problems.map((p) => [p.chain, p.seq, p.kind, p.eventId])).toEqual([[shardLabel(shard), orphanSeq + 1, 'duplicate', 'batch-2:overdue']]);
    expect(await repo.appendLedger(overdue(2))).toBe('duplicate');
  });
});

// A ledger written before the shards (one partition, LEDGER#<p>) read, verified and appended to after the upgrade.
describe('Port: Repository (a pre-shard ledger) — DynamoRepository on dynalite', () => {
  it('reads the old chain first, verifies it beside the shards, and never appends a recorded event again', async () => {
    const repo = await dynamoRepository();
    const doc = DynamoDBDocumentClient.from(client);
    const old1 = chainEvent(overdue(1), 1, GENESIS_HASH);
    const old2 = chainEvent(overdue(2), 2, old1.hash);
    for (const e of [old1, old2]) {
      await doc.send(new PutCommand({ TableName: `contract-${tables}`, Item: { ...ledgerKeys.event('prog-1', e.seq), ...e } }));
      await doc.send(new PutCommand({ TableName: `contract-${tables}`, Item: { ...ledgerKeys.key('prog-1', e.eventId, true), eventId: e.eventId, seq: e.seq, hash: e.hash } }));
    }

    expect(await repo.appendLedger(overdue(2))).toBe('duplicate');
    expect(await repo.appendLedger(overdue(3))).toBe('appended');

    expect((await repo.listLedger('prog-1')).map((e) => [e.eventId, e.shard])).toEqual([
      ['batch-1:overdue', undefined],
      ['batch-2:overdue', undefined],
      ['batch-3:overdue', shardOf('batch-3:overdue', LEDGER_SHARDS)],
    ]);
    expect(await repo.getLedgerEvent('prog-1', 'batch-1:overdue')).toEqual(old1);
    const { items, keys } = await repo.readLedgerChain('prog-1');
    const verdict = verifyLedgerChain(items, keys, [{ seq: 2, hash: old2.hash }]);
    expect(verdict).toMatchObject({ ok: true, events: 3, problems: [] });
    expect(verdict.head.heads?.map((h) => h.chain)).toEqual([shardLabel(shardOf('batch-3:overdue', LEDGER_SHARDS)), 'legacy']);
  });
});

const ids = (n: number) => Array.from({ length: n }, (_, i) => `case-${String(i).padStart(4, '0')}`);

/** Every page of the pending cases, following `next`, with the page sizes. */
async function allPages(repo: Repository, limit: number) {
  const seen: string[] = [];
  const sizes: number[] = [];
  let after: Record<string, string | number> | undefined;
  do {
    const page = await repo.listCasesByState('prog-1', 'pending', { limit, ...(after ? { after } : {}) });
    seen.push(...page.items.map((c) => c.caseId));
    sizes.push(page.items.length);
    after = page.next;
  } while (after);
  return { seen, sizes };
}


describe.each(implementations)('Port: Repository (cases by work state, issue 14) — %s', (_name, make) => {
  it('pages through exactly the pending cases, in case-id order, each once, whatever the page size', async () => {
    const repo = await make();
    await repo.putCases('prog-1', ids(230).map((id) => ({ ...makeCase(id), goldPool: false })));
    await repo.putCases('prog-2', ids(5).map((id) => ({ ...makeCase(id), goldPool: false })));
    await repo.assignCases('prog-1', ids(230).filter((_, i) => i % 3 === 0), 'b-1');
    await repo.setCaseState('prog-1', ['case-0001', 'case-0002'], 'labelled', 'b-0');
    await repo.requeueCases('prog-1', ['case-0003'], { batchId: 'b-1', exclude: 'vendor-a' });

    const assigned = ids(230).filter((_, i) => i % 3 === 0 && i !== 3);
    const pending = ids(230).filter((id) => !assigned.includes(id) && id !== 'case-0001' && id !== 'case-0002');
    for (const limit of [1, 7, 50, 1000]) {
      const p = await allPages(repo, limit);
      expect(p.seen).toEqual(pending);
      expect(Math.max(...p.sizes)).toBeLessThanOrEqual(limit);
    }
    const states = new Map((await repo.listCases('prog-1')).map((c) => [c.caseId, c.state]));
    expect(assigned.every((id) => states.get(id) === 'assigned')).toBe(true);
    expect([states.get('case-0001'), states.get('case-0002')]).toEqual(['labelled', 'labelled']);
    const requeued = (await repo.listCasesByState('prog-1', 'pending', { limit: 1, after: { caseId: 'case-0002' } })).items[0];
    expect(requeued).toMatchObject({ caseId: 'case-0003', state: 'pending', excludedWorkforces: ['vendor-a'] });
  });

  it('answers a program with no pending case with one empty last page', async () => {
    const repo = await make();
    await repo.putCases('prog-1', ids(3).map((id) => ({ ...makeCase(id), goldPool: false })));
    await repo.assignCases('prog-1', ids(3), 'b-1');
    expect(await repo.listCasesByState('prog-1', 'pending', { limit: 10 })).toEqual({ items: [] });
  });

  it('lists a case again once it returns to pending: requeued, or set pending by a decision', async () => {
    const repo = await make();
    await repo.putCases('prog-1', ids(4).map((id) => ({ ...makeCase(id), goldPool: false })));
    await repo.assignCases('prog-1', ids(4), 'b-1');
    expect((await allPages(repo, 10)).seen).toEqual([]);

    await repo.requeueCases('prog-1', ['case-0000', 'case-0001'], { batchId: 'b-1', handOver: [{ caseId: 'case-0001', batchId: 'b-2' }] });
    await repo.setCaseState('prog-1', ['case-0002'], 'pending', 'b-1');

    expect((await allPages(repo, 10)).seen).toEqual(['case-0000', 'case-0002']);
    expect(await repo.getCase('prog-1', 'case-0001')).toMatchObject({ state: 'assigned', batchId: 'b-2' });
    await repo.assignCases('prog-1', ['case-0000'], 'b-3');
    expect((await allPages(repo, 10)).seen).toEqual(['case-0002']);
  });

  it('refuses a state the index does not hold (only pending cases are indexed)', async () => {
    const repo = await make();
    await repo.putCases('prog-1', ids(2).map((id) => ({ ...makeCase(id), goldPool: false })));
    await repo.setCaseState('prog-1', ['case-0000'], 'labelled', 'b-0');
    for (const state of ['assigned', 'labelled'] as const) {
      await expect(repo.listCasesByState('prog-1', state as never, { limit: 10 })).rejects.toBeInstanceOf(InvalidInputError);
    }
  });
});

describe.each(implementations)('Port: Repository (case ids by id, issue 14) — %s', (_name, make) => {
  describe('Method: existingCaseIds', () => {
    it("names exactly the asked ids this program has, whatever their state, past 100 ids and with repeats", async () => {
      const repo = await make();
      await repo.putCases('prog-1', ids(230).filter((_, i) => i % 2 === 0).map((id) => ({ ...makeCase(id), goldPool: false })));
      await repo.putCases('prog-2', ids(230).map((id) => ({ ...makeCase(id), goldPool: false })));
      await repo.assignCases('prog-1', ['case-0000'], 'b-1');
      await repo.setCaseState('prog-1', ['case-0002'], 'labelled', 'b-0');

      const asked = [...ids(230).slice(0, 150), 'case-0000', 'case-9999'];
      const found = await repo.existingCaseIds('prog-1', asked);

      expect([...found].sort()).toEqual(ids(150).filter((_, i) => i % 2 === 0));
      expect(await repo.existingCaseIds('prog-3', asked)).toEqual(new Set());
      expect(await repo.existingCaseIds('prog-1', [])).toEqual(new Set());
    });
  });
});

describe('Port: Repository (case keys) — DynamoRepository on dynalite', () => {
  it('spreads case items and their state index over CASE_SHARDS keys, none holding more than twice its share', async () => {
    const repo = await dynamoRepository();
    const table = `contract-${tables}`;
    await repo.putCases('prog-1', ids(1600).map((id) => ({ ...makeCase(id), goldPool: false })));
    const perShard = new Map<number, number>();
    for (const id of ids(1600)) perShard.set(shardOf(id, CASE_SHARDS), (perShard.get(shardOf(id, CASE_SHARDS)) ?? 0) + 1);
    expect(perShard.size).toBe(CASE_SHARDS);
    expect(Math.max(...perShard.values())).toBeLessThan((2 * 1600) / CASE_SHARDS);
    const doc = DynamoDBDocumentClient.from(client);
    const one = (await doc.send(new GetCommand({ TableName: table, Key: caseKeys.item('prog-1', 'case-0007') }))).Item;
    expect(one).toMatchObject({ ...caseKeys.state('prog-1', 'case-0007', 'pending'), state: 'pending' });
  });

  it('keeps a case in the state index only while it is pending: assigned or labelled, it has no index entry', async () => {
    const repo = await dynamoRepository();
    const table = `contract-${tables}`;
    const doc = DynamoDBDocumentClient.from(client);
    await repo.putCases('prog-1', ids(3).map((id) => ({ ...makeCase(id), goldPool: false })));
    await repo.assignCases('prog-1', ['case-0000', 'case-0001'], 'b-1');
    await repo.setCaseState('prog-1', ['case-0001'], 'labelled', 'b-1');
    const item = async (id: string) => (await doc.send(new GetCommand({ TableName: table, Key: caseKeys.item('prog-1', id) }))).Item!;
    /** Every gsi1 entry of the program's cases, as the index holds them: one Query per shard and state key. */
    const indexed = async () => {
      const out: string[] = [];
      for (const state of ['pending', 'assigned', 'labelled']) {
        for (let s = 0; s < CASE_SHARDS; s++) {
          const r = await doc.send(
            new QueryCommand({ TableName: table, IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': `CASESTATE#prog-1#${state}#${shardLabel(s)}` } }),
          );
          out.push(...(r.Items ?? []).map((i) => `${state}:${i.caseId}`));
        }
      }
      return out.sort();
    };

    expect(await indexed()).toEqual(['pending:case-0002']);
    expect(await item('case-0000')).toMatchObject({ state: 'assigned', batchId: 'b-1' });
    expect(await item('case-0000')).not.toHaveProperty('gsi1pk');
    expect(await item('case-0001')).not.toHaveProperty('gsi1sk');

    await repo.requeueCases('prog-1', ['case-0000'], { batchId: 'b-1', exclude: 'vendor-a' });
    expect(await item('case-0000')).toMatchObject({ ...caseKeys.state('prog-1', 'case-0000', 'pending'), state: 'pending' });
    expect(await indexed()).toEqual(['pending:case-0000', 'pending:case-0002']);
  });

  // Items written before the index was sparse carry gsi1 under assigned/labelled keys: never listed as pending, dropped at their next state write.
  it('drops a stale index entry of a case written before the index was sparse at its next state write', async () => {
    const repo = await dynamoRepository();
    const table = `contract-${tables}`;
    const doc = DynamoDBDocumentClient.from(client);
    const stale = (id: string, state: string) => ({
      ...caseKeys.item('prog-1', id),
      gsi1pk: `CASESTATE#prog-1#${state}#${shardLabel(shardOf(id, CASE_SHARDS))}`,
      gsi1sk: `CASE#${id}`,
      ...makeCase(id),
      goldPool: false,
      state,
      batchId: 'b-0',
    });
    await doc.send(new PutCommand({ TableName: table, Item: stale('case-0000', 'assigned') }));
    await doc.send(new PutCommand({ TableName: table, Item: stale('case-0001', 'labelled') }));

    expect((await allPages(repo, 10)).seen).toEqual([]);
    await repo.requeueCases('prog-1', ['case-0000'], { batchId: 'b-0' });
    await repo.setCaseState('prog-1', ['case-0001'], 'labelled', 'b-0');

    expect((await allPages(repo, 10)).seen).toEqual(['case-0000']);
    const labelled = (await doc.send(new GetCommand({ TableName: table, Key: caseKeys.item('prog-1', 'case-0001') }))).Item!;
    expect(labelled).toMatchObject({ state: 'labelled' });
    expect(labelled).not.toHaveProperty('gsi1pk');
  });

  it('refuses a cursor that is not a case id of this listing', async () => {
    const repo = await dynamoRepository();
    await expect(repo.listCasesByState('prog-1', 'pending', { limit: 5, after: { pk: 'LEDGER#x' } })).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('Port: Repository (case items written before the shards) — DynamoRepository on dynalite', () => {
  it('moves pre-shard case items to their shard with their state, once, keeping a case already moved', async () => {
    const repo = (await dynamoRepository()) as DynamoRepository;
    const table = `contract-${tables}`;
    const doc = DynamoDBDocumentClient.from(client);
    const legacy = (id: string, state: string) => ({ ...caseKeys.legacy('prog-1', id), ...makeCase(id), goldPool: false, state, batchId: 'b-0' });
    await doc.send(new PutCommand({ TableName: table, Item: legacy('case-0001', 'assigned') }));
    await doc.send(new PutCommand({ TableName: table, Item: legacy('case-0002', 'labelled') }));
    // A crash after the copy of case-0003 and before its delete: the copy moved on since (labelled).
    await doc.send(new PutCommand({ TableName: table, Item: legacy('case-0003', 'pending') }));
    await repo.putCases('prog-1', [{ ...makeCase('case-0003'), goldPool: false }]);
    await repo.setCaseState('prog-1', ['case-0003'], 'labelled', 'b-9');

    expect(await repo.migrateLegacyKeys('prog-1')).toBe(3);
    expect(await repo.migrateLegacyKeys('prog-1')).toBe(0);

    const old = await doc.send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'PROGRAM#prog-1' } }),
    );
    expect(old.Items).toEqual([]);
    expect((await repo.getCase('prog-1', 'case-0001'))?.state).toBe('assigned');
    expect((await repo.getCase('prog-1', 'case-0003'))).toMatchObject({ state: 'labelled', batchId: 'b-9' });
    expect((await repo.getCase('prog-1', 'case-0002'))?.state).toBe('labelled');
    // Moved without an index entry: the index holds pending cases only.
    const moved = (await doc.send(new GetCommand({ TableName: table, Key: caseKeys.item('prog-1', 'case-0001') }))).Item;
    expect(moved).not.toHaveProperty('gsi1pk');
    expect(await repo.listCasesByState('prog-1', 'pending', { limit: 10 })).toEqual({ items: [] });
  });
});
