/**
 * Round records on dynalite (functions/adapters/dynamo-rounds.ts): a round of any
 * size fits (its batch ids in items of their own), settles are counted once, and a
 * round recorded the old way (every id on the round item) is read as it was.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRepository } from '../../../functions/adapters/dynamo-repository.js';
import { roundKeys } from '../../../functions/adapters/dynamo-rounds.js';
import type { RoundRecord } from '../../../functions/use-cases/ports.js';
import { MAIN_TABLE } from '../../../infra/definitions.js';
import { createActiveTable } from '../../../infra/local/dynalite-tables.js';
import { createTableInput } from '../../../infra/local/stack.js';
import { type TestDynalite, startTestDynalite } from '../../support/dynalite.js';
import { T0 } from '../fakes.js';

let dynamo: TestDynalite;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let tables = 0;

beforeAll(async () => {
  dynamo = await startTestDynalite();
  client = dynamo.client;
  doc = DynamoDBDocumentClient.from(client);
});

afterAll(() => dynamo?.stop());

async function freshTable(): Promise<{ repo: DynamoRepository; table: string }> {
  const table = `rounds-${++tables}`;
  await createActiveTable(client, createTableInput(MAIN_TABLE, table));
  return { repo: new DynamoRepository(client, table), table };
}

/** `n` batch ids of the longest shape an id takes: 64-character program and workforce ids. */
const longIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `${'p'.repeat(64)}-r1-${'w'.repeat(64)}-${String(i).padStart(5, '0')}`);

const round = (batchIds: string[], extra: Partial<RoundRecord> = {}): RoundRecord => ({
  programId: 'prog-1',
  protocolId: 'chest-xray',
  round: 1,
  batchIds,
  settledBatchIds: [],
  createdAt: T0,
  ...extra,
});

describe('Adapter: DynamoRounds (round records)', () => {
  describe('Method: createRound / getRound', () => {
    it('keeps a round whose batch ids exceed one item (3,000 ids of 140 characters: 420 KB), in plan order', async () => {
      // Arrange: the old round item held every id, so this round could not have been recorded (DynamoDB's 400 KB item limit).
      const { repo, table } = await freshTable();
      const ids = longIds(3_000);
      expect(ids.join('').length).toBeGreaterThan(400 * 1024);
      await expect(doc.send(new PutCommand({ TableName: table, Item: { ...roundKeys.round('prog-1', 9), batchIds: ids } }))).rejects.toThrow(
        /Item size has exceeded the maximum allowed size/,
      );

      // Act
      const created = await repo.createRound(round(ids, { chunkSha256s: ['a'.repeat(64), 'b'.repeat(64)] }));
      const read = await repo.getRound('prog-1', 1);

      // Assert
      expect(created).toBe('created');
      expect(read).toEqual(round(ids, { chunkSha256s: ['a'.repeat(64), 'b'.repeat(64)] }));
      const item = (await doc.send(new GetCommand({ TableName: table, Key: roundKeys.round('prog-1', 1) }))).Item;
      expect(item?.batchIds).toBeUndefined();
      expect(JSON.stringify(item).length).toBeLessThan(1_000);
    });

    it('answers exists for a round created before and leaves its batch ids as they were', async () => {
      const { repo } = await freshTable();
      await repo.createRound(round(['b-1', 'b-2']));

      const again = await repo.createRound(round(['b-9']));

      expect(again).toBe('exists');
      expect((await repo.getRound('prog-1', 1))?.batchIds).toEqual(['b-1', 'b-2']);
    });

    it('refuses to assemble a round whose id items do not give the count its record names', async () => {
      // A round item without its id items cannot come from createRound (ids first, the round item last): the store was altered.
      const { repo, table } = await freshTable();
      await doc.send(
        new PutCommand({ TableName: table, Item: { ...roundKeys.round('prog-1', 1), programId: 'prog-1', protocolId: 'chest-xray', round: 1, createdAt: T0, batchCount: 2, idItems: 1 } }),
      );

      await expect(repo.getRound('prog-1', 1)).rejects.toThrow(/0 batch ids in 0 id items, its record names 2 in 1/);
    });
  });

  describe('Method: markRoundBatchSettled', () => {
    it('counts a batch settled twice once and returns the round after the mark', async () => {
      const { repo } = await freshTable();
      await repo.createRound(round(['b-1', 'b-2']));

      await repo.markRoundBatchSettled('prog-1', 1, 'b-2');
      const twice = await repo.markRoundBatchSettled('prog-1', 1, 'b-2');
      const both = await repo.markRoundBatchSettled('prog-1', 1, 'b-1');

      expect(twice.settledBatchIds).toEqual(['b-2']);
      expect(both.settledBatchIds).toEqual(['b-1', 'b-2']);
      expect((await repo.listRounds('prog-1')).map((r) => r.settledBatchIds)).toEqual([['b-1', 'b-2']]);
    });

    it('refuses a round that has no record', async () => {
      const { repo } = await freshTable();
      await expect(repo.markRoundBatchSettled('prog-1', 4, 'b-1')).rejects.toThrow(/round 4 of program prog-1 has no round record/);
    });
  });

  describe('Migration: a round recorded with its ids on the round item', () => {
    it('is read as it was, and settles written since are joined with its settled set', async () => {
      // Arrange: the item as createRound wrote it before the id items, with one batch settled then.
      const { repo, table } = await freshTable();
      await doc.send(
        new PutCommand({
          TableName: table,
          Item: { ...roundKeys.round('prog-1', 2), programId: 'prog-1', protocolId: 'chest-xray', round: 2, createdAt: T0, batchIds: ['b-1', 'b-2', 'b-3'], settledBatchIds: new Set(['b-1']) },
        }),
      );
      await repo.createRound(round(['b-4'], { round: 1 }));

      // Act
      const settled = await repo.markRoundBatchSettled('prog-1', 2, 'b-3');
      const rounds = await repo.listRounds('prog-1');

      // Assert
      expect(settled).toEqual({ programId: 'prog-1', protocolId: 'chest-xray', round: 2, batchIds: ['b-1', 'b-2', 'b-3'], settledBatchIds: ['b-1', 'b-3'], createdAt: T0 });
      expect(rounds.map((r) => [r.round, r.batchIds, r.settledBatchIds])).toEqual([
        [1, ['b-4'], []],
        [2, ['b-1', 'b-2', 'b-3'], ['b-1', 'b-3']],
      ]);
    });
  });
});
