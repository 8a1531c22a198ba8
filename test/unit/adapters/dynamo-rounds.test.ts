/**
 * Round records on dynalite (functions/adapters/dynamo-rounds.ts): a round of any
 * size fits (its batch ids in items of their own), settles are counted once, and a
 * round recorded the old way (every id on the round item) is read as it was.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRepository } from '../../../functions/adapters/dynamo-repository.js';
import { roundKeys, SETTLE_GROUP_SIZE, settleBucketOf } from '../../../functions/adapters/dynamo-rounds.js';
import type { RoundRecord } from '../../../functions/use-cases/ports.js';
import { MAIN_TABLE } from '../../../infra/definitions.js';
import { createActiveTable } from '../../../infra/local/dynalite-tables.js';
import { createTableInput } from '../../../infra/local/stack.js';
import { startTestDynalite, type TestDynalite } from '../../support/dynalite.js';
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

/** Settle buckets no id hashes into (the round has no group item for them). */
const emptyBuckets = (ids: string[]): number => {
  const buckets = Math.ceil(ids.length / SETTLE_GROUP_SIZE);
  return buckets - new Set(ids.map((id) => settleBucketOf(id, buckets))).size;
};

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
    it('counts a batch settled twice once and says when the round is complete', async () => {
      const { repo } = await freshTable();
      await repo.createRound(round(['b-1', 'b-2']));

      const first = await repo.markRoundBatchSettled('prog-1', 1, 'b-2');
      const twice = await repo.markRoundBatchSettled('prog-1', 1, 'b-2');
      const both = await repo.markRoundBatchSettled('prog-1', 1, 'b-1');

      expect([first, twice, both]).toEqual([{ roundComplete: false }, { roundComplete: false }, { roundComplete: true }]);
      expect((await repo.listRounds('prog-1')).map((r) => r.settledBatchIds)).toEqual([['b-1', 'b-2']]);
    });

    it('completes a round of 1,000 batches settled 50 at a time when the last settle lands, reading none of the round back', async () => {
      // Each settle touches its group (about SETTLE_GROUP_SIZE ids) and, when that group completes, the round item: never a Query of the round's partition.
      const { repo } = await freshTable();
      const ids = longIds(1_000);
      await repo.createRound(round(ids));
      const sent: string[] = [];
      client.middlewareStack.add(
        (next, context) => async (args) => {
          sent.push(String(context.commandName));
          return next(args);
        },
        { step: 'initialize', name: 'settle-commands' },
      );

      const outcomes: boolean[] = [];
      try {
        for (let i = 0; i < ids.length; i += 50) {
          const part = await Promise.all(ids.slice(i, i + 50).map((id) => repo.markRoundBatchSettled('prog-1', 1, id)));
          outcomes.push(...part.map((o) => o.roundComplete));
        }
      } finally {
        client.middlewareStack.remove('settle-commands');
      }

      expect(new Set(sent)).toEqual(new Set(['GetItemCommand', 'UpdateItemCommand']));
      expect(sent.filter((c) => c === 'UpdateItemCommand').length).toBe(1_000 + Math.ceil(1_000 / SETTLE_GROUP_SIZE) - emptyBuckets(ids));

      expect(outcomes.slice(0, -50).some(Boolean)).toBe(false);
      expect(outcomes.slice(-50).filter(Boolean).length).toBeGreaterThanOrEqual(1);
      expect((await repo.markRoundBatchSettled('prog-1', 1, ids[0])).roundComplete).toBe(true);
      expect((await repo.getRound('prog-1', 1))?.settledBatchIds).toEqual([...ids].sort());
    });

    it('refuses a batch that is not in the round, and a round that has no record', async () => {
      const { repo } = await freshTable();
      await repo.createRound(round(['b-1', 'b-2']));
      await expect(repo.markRoundBatchSettled('prog-1', 1, 'b-9')).rejects.toThrow(/batch b-9 is not in round 1 of program prog-1/);
      await expect(repo.markRoundBatchSettled('prog-1', 4, 'b-1')).rejects.toThrow(/round 4 of program prog-1 has no round record/);
      expect((await repo.getRound('prog-1', 1))?.settledBatchIds).toEqual([]);
    });

    it('completes the round on the retry of a last settle that died between its group and the round item', async () => {
      // Arrange: every batch but the last settled; the last one's group ADD written, its round-item ADD lost with the process.
      const { repo, table } = await freshTable();
      const ids = longIds(40);
      await repo.createRound(round(ids));
      for (const id of ids.slice(0, -1)) expect((await repo.markRoundBatchSettled('prog-1', 1, id)).roundComplete).toBe(false);
      const item = (await doc.send(new GetCommand({ TableName: table, Key: roundKeys.round('prog-1', 1) }))).Item!;
      const last = ids[39];
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: roundKeys.group('prog-1', 1, settleBucketOf(last, item.settleBuckets)),
          UpdateExpression: 'ADD settled :id',
          ExpressionAttributeValues: { ':id': new Set([last]) },
        }),
      );

      // Act: the step's retry.
      const retried = await repo.markRoundBatchSettled('prog-1', 1, last);

      // Assert
      expect(retried).toEqual({ roundComplete: true });
      expect((await repo.getRound('prog-1', 1))?.settledBatchIds).toEqual([...ids].sort());
    });
  });

  describe('Migration: a round recorded with one SETTLED# item per settled batch (session 5)', () => {
    it('settles as it did: the mark, then the round read back', async () => {
      const { repo, table } = await freshTable();
      await repo.createRound(round(['b-1', 'b-2'], { round: 3 }));
      // The round item as session 5 wrote it: no settle groups.
      await doc.send(
        new UpdateCommand({ TableName: table, Key: roundKeys.round('prog-1', 3), UpdateExpression: 'REMOVE settleBuckets, settleGroups' }),
      );
      await doc.send(new PutCommand({ TableName: table, Item: { ...roundKeys.settled('prog-1', 3, 'b-1'), batchId: 'b-1' } }));

      expect(await repo.markRoundBatchSettled('prog-1', 3, 'b-2')).toEqual({ roundComplete: true });
      expect((await repo.getRound('prog-1', 3))?.settledBatchIds).toEqual(['b-1', 'b-2']);
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
      expect(settled).toEqual({ roundComplete: false });
      expect(rounds.map((r) => [r.round, r.batchIds, r.settledBatchIds])).toEqual([
        [1, ['b-4'], []],
        [2, ['b-1', 'b-2', 'b-3'], ['b-1', 'b-3']],
      ]);
    });
  });
});
