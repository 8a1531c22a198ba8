/**
 * Cases by work state without reading the program (issue 14): the sharded
 * case-state index on dynalite, and the in-memory fake held to the same contract;
 * the migration of case items written before the shards.
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseKeys } from '../../../functions/adapters/dynamo-cases.js';
import { DynamoRepository } from '../../../functions/adapters/dynamo-repository.js';
import { CASE_SHARDS, shardOf } from '../../../functions/domain/index.js';
import { InvalidInputError } from '../../../functions/use-cases/errors.js';
import type { Repository } from '../../../functions/use-cases/ports.js';
import { MAIN_TABLE } from '../../../infra/definitions.js';
import { createTableInput } from '../../../infra/local/stack.js';
import { InMemoryRepository, makeCase } from '../fakes.js';

let server: ReturnType<typeof dynalite>;
let client: DynamoDBClient;
let tables = 0;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((res, rej) => server.listen(0, '127.0.0.1', (e?: Error) => (e ? rej(e) : res())));
  client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  client?.destroy();
  await new Promise<void>((res) => server.close(() => res()));
});

async function freshTable(): Promise<string> {
  const name = `cases-${++tables}`;
  await client.send(new CreateTableCommand(createTableInput(MAIN_TABLE, name)));
  return name;
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `case-${String(i).padStart(4, '0')}`);

/** Every page of a state, following `next`, with the page sizes. */
async function allPages(repo: Repository, state: 'pending' | 'assigned' | 'labelled', limit: number) {
  const seen: string[] = [];
  const sizes: number[] = [];
  let after: Record<string, string | number> | undefined;
  do {
    const page = await repo.listCasesByState('prog-1', state, { limit, ...(after ? { after } : {}) });
    seen.push(...page.items.map((c) => c.caseId));
    sizes.push(page.items.length);
    after = page.next;
  } while (after);
  return { seen, sizes };
}

const implementations: [string, () => Promise<Repository>][] = [
  ['DynamoRepository on dynalite', async () => new DynamoRepository(client, await freshTable())],
  ['InMemoryRepository', async () => new InMemoryRepository()],
];

describe.each(implementations)('Method: listCasesByState — %s', (_name, make) => {
  it('pages through exactly the cases in the state, in case-id order, each once, whatever the page size', async () => {
    const repo = await make();
    await repo.putCases('prog-1', ids(230).map((id) => ({ ...makeCase(id), goldPool: false })));
    await repo.putCases('prog-2', ids(5).map((id) => ({ ...makeCase(id), goldPool: false })));
    await repo.assignCases('prog-1', ids(230).filter((_, i) => i % 3 === 0), 'b-1');
    await repo.setCaseState('prog-1', ['case-0001', 'case-0002'], 'labelled', 'b-0');
    await repo.requeueCases('prog-1', ['case-0003'], { batchId: 'b-1', exclude: 'vendor-a' });

    const assigned = ids(230).filter((_, i) => i % 3 === 0 && i !== 3);
    const pending = ids(230).filter((id) => !assigned.includes(id) && id !== 'case-0001' && id !== 'case-0002');
    for (const limit of [1, 7, 50, 1000]) {
      const p = await allPages(repo, 'pending', limit);
      expect(p.seen).toEqual(pending);
      expect(Math.max(...p.sizes)).toBeLessThanOrEqual(limit);
    }
    expect((await allPages(repo, 'assigned', 25)).seen).toEqual(assigned);
    expect((await allPages(repo, 'labelled', 25)).seen).toEqual(['case-0001', 'case-0002']);
    const requeued = (await repo.listCasesByState('prog-1', 'pending', { limit: 1, after: { caseId: 'case-0002' } })).items[0];
    expect(requeued).toMatchObject({ caseId: 'case-0003', state: 'pending', excludedWorkforces: ['vendor-a'] });
  });

  it('answers an empty state with one empty last page', async () => {
    const repo = await make();
    await repo.putCases('prog-1', ids(3).map((id) => ({ ...makeCase(id), goldPool: false })));
    expect(await repo.listCasesByState('prog-1', 'labelled', { limit: 10 })).toEqual({ items: [] });
  });
});

describe('Class: DynamoCases (keys)', () => {
  it('spreads case items and their state index over CASE_SHARDS keys, none holding more than twice its share', async () => {
    const table = await freshTable();
    const repo = new DynamoRepository(client, table);
    await repo.putCases('prog-1', ids(1600).map((id) => ({ ...makeCase(id), goldPool: false })));
    const perShard = new Map<number, number>();
    for (const id of ids(1600)) perShard.set(shardOf(id, CASE_SHARDS), (perShard.get(shardOf(id, CASE_SHARDS)) ?? 0) + 1);
    expect(perShard.size).toBe(CASE_SHARDS);
    expect(Math.max(...perShard.values())).toBeLessThan((2 * 1600) / CASE_SHARDS);
    const doc = DynamoDBDocumentClient.from(client);
    const one = (await doc.send(new GetCommand({ TableName: table, Key: caseKeys.item('prog-1', 'case-0007') }))).Item;
    expect(one).toMatchObject({ ...caseKeys.state('prog-1', 'case-0007', 'pending'), state: 'pending' });
    await repo.assignCases('prog-1', ['case-0007'], 'b-1');
    const moved = (await doc.send(new GetCommand({ TableName: table, Key: caseKeys.item('prog-1', 'case-0007') }))).Item;
    expect(moved).toMatchObject({ ...caseKeys.state('prog-1', 'case-0007', 'assigned'), state: 'assigned', batchId: 'b-1' });
  });

  it('refuses a cursor that is not a case id of this listing', async () => {
    const repo = new DynamoRepository(client, await freshTable());
    await expect(repo.listCasesByState('prog-1', 'pending', { limit: 5, after: { pk: 'LEDGER#x' } })).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('Method: migrateLegacyKeys', () => {
  it('moves pre-shard case items to their shard with their state, once, keeping a case already moved', async () => {
    const table = await freshTable();
    const doc = DynamoDBDocumentClient.from(client);
    const repo = new DynamoRepository(client, table);
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
    expect((await repo.listCasesByState('prog-1', 'labelled', { limit: 10 })).items.map((c) => c.caseId)).toEqual(['case-0002', 'case-0003']);
  });
});
