import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ledgerKeys } from '../../../functions/adapters/dynamo-ledger.js';
import { DynamoRepository, keys } from '../../../functions/adapters/dynamo-repository.js';
import { shardLabel } from '../../../functions/domain/key-shards.js';
import { chainHash } from '../../../functions/domain/ledger-chain.js';
import type { Submission } from '../../../functions/domain/model/index.js';
import { makeCase, makeLedgerEvent, T0 } from '../fakes.js';

const TABLE = 'goldline-main';
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
const throttled = () =>
  new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded',
    $metadata: { httpStatusCode: 400 },
  });

const submission = (overrides: Partial<Submission> = {}): Submission => ({
  batchId: 'batch-1',
  uploadId: 'up12345678',
  key: 'uploads/vendor-a/batch-1/up12345678.jsonl',
  sha256Hex: 'a'.repeat(64),
  sizeBytes: 120,
  status: 'received',
  problems: [],
  receivedAt: T0,
  ...overrides,
});

describe('Class: DynamoRepository', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  let repo: DynamoRepository;

  beforeEach(() => {
    ddb.reset();
    repo = new DynamoRepository(new DynamoDBClient({ region: 'us-east-1' }), TABLE);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** The look for a pre-shard ledger (`LEDGER#<p>`, Limit 1) finds none. */
  const noLegacyLedger = () => ddb.on(QueryCommand, { KeyConditionExpression: 'pk = :pk', Limit: 1 }).resolves({ Items: [] });
  /** The head reads (a shard's last event: descending, Limit 1). */
  const headReads = () => ddb.commandCalls(QueryCommand).map((c) => c.args[0].input).filter((i) => i.ScanIndexForward === false);

  describe('Method: appendLedger', () => {
    it('returns "appended": the event at the next seq after the head, chained to its hash, then its key item, both conditional puts', async () => {
      // Arrange
      const headHash = 'c'.repeat(64);
      const shard = ledgerKeys.shardOf('batch-1:scored');
      ddb.on(GetCommand).resolves({});
      ddb.on(QueryCommand).resolves({ Items: [{ ...ledgerKeys.event('prog-1', 7, shard), seq: 7, hash: headHash, ord: 5 }] });
      noLegacyLedger();
      ddb.on(PutCommand).resolves({});
      const e = makeLedgerEvent({ eventId: 'batch-1:scored', type: 'batch.scored' });

      // Act
      const r = await repo.appendLedger(e);

      // Assert
      expect(r).toBe('appended');
      expect(ddb.commandCalls(GetCommand)[0].args[0].input).toMatchObject({ Key: ledgerKeys.key('prog-1', 'batch-1:scored'), ConsistentRead: true });
      const head = headReads()[0];
      expect(head).toMatchObject({ ExpressionAttributeValues: { ':pk': ledgerKeys.partition('prog-1', shardLabel(shard)) }, ScanIndexForward: false, Limit: 1, ConsistentRead: true });
      const [event, key] = ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
      expect(event.TableName).toBe(TABLE);
      expect(event.ConditionExpression).toBe('attribute_not_exists(pk)');
      expect(event.Item).toMatchObject({ ...ledgerKeys.event('prog-1', 8, shard), eventId: 'batch-1:scored', seq: 8, prevHash: headHash, shard });
      expect(event.Item?.ord).toBeGreaterThan(5);
      const { pk: _pk, sk: _sk, ...stored } = event.Item as Record<string, unknown>;
      expect(event.Item?.hash).toBe(chainHash(stored));
      expect(event.Item?.sk).toBe('SEQ#000000000008');
      expect(key.ConditionExpression).toBe('attribute_not_exists(pk)');
      expect(key.Item).toEqual({ ...ledgerKeys.key('prog-1', 'batch-1:scored'), eventId: 'batch-1:scored', seq: 8, hash: event.Item?.hash });
    });

    it('appends the next event of a shard after the head it wrote last there without reading the head again', async () => {
      // Arrange: two events of the same shard
      const other = [...Array(100)].map((_, i) => `e-${i + 2}`).find((id) => ledgerKeys.shardOf(id) === ledgerKeys.shardOf('e-1'))!;
      ddb.on(GetCommand).resolves({});
      ddb.on(QueryCommand).resolves({ Items: [] });
      ddb.on(PutCommand).resolves({});

      // Act
      await repo.appendLedger(makeLedgerEvent({ eventId: 'e-1', type: 'batch.scored' }));
      await repo.appendLedger(makeLedgerEvent({ eventId: other, type: 'batch.scored' }));

      // Assert: one head read, one look for a pre-shard ledger
      expect(headReads()).toHaveLength(1);
      expect(ddb.commandCalls(QueryCommand)).toHaveLength(2);
      const [first, , second] = ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item);
      expect(second).toMatchObject({ sk: 'SEQ#000000000002', seq: 2, prevHash: first?.hash });
    });

    it('returns "duplicate" and writes nothing when the event id already has its key item', async () => {
      // Arrange
      ddb.on(GetCommand).resolves({ Item: { ...ledgerKeys.key('prog-1', 'batch-1:scored'), seq: 3, hash: 'a'.repeat(64) } });

      // Act
      const r = await repo.appendLedger(makeLedgerEvent({ eventId: 'batch-1:scored', type: 'batch.scored' }));

      // Assert
      expect(r).toBe('duplicate');
      expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    });

    it('re-reads the head and takes the next seq when a concurrent append took this one', async () => {
      // Arrange
      ddb.on(GetCommand).resolves({});
      // The first head read finds the shard empty; by the second, another append took seq 1.
      let headRead = 0;
      ddb.on(QueryCommand).callsFake((input: { ScanIndexForward?: boolean }) =>
        input.ScanIndexForward === false && headRead++ > 0
          ? { Items: [{ ...ledgerKeys.event('prog-1', 1, ledgerKeys.shardOf('e-1')), seq: 1, hash: 'd'.repeat(64) }] }
          : { Items: [] },
      );
      ddb.on(PutCommand).rejectsOnce(conditionFailed()).resolves({});

      // Act
      const r = await repo.appendLedger(makeLedgerEvent({ eventId: 'e-1', type: 'batch.scored' }));

      // Assert
      expect(r).toBe('appended');
      const puts = ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item);
      expect(puts.map((i) => i?.sk)).toEqual(['SEQ#000000000001', 'SEQ#000000000002', 'KEY#e-1']);
      expect(puts[0]?.prevHash).toBe('0'.repeat(64));
      expect(puts[1]?.prevHash).toBe('d'.repeat(64));
    });

    it('returns "duplicate" when a concurrent append of the same event wrote the key item first', async () => {
      // Arrange
      ddb.on(GetCommand).resolves({});
      ddb.on(QueryCommand).resolves({ Items: [] });
      ddb.on(PutCommand).resolvesOnce({}).rejects(conditionFailed());

      // Act / Assert
      expect(await repo.appendLedger(makeLedgerEvent({ eventId: 'e-1', type: 'batch.scored' }))).toBe('duplicate');
    });

    it('throws ProvisionedThroughputExceededException so the caller can retry', async () => {
      // Arrange
      ddb.on(GetCommand).rejects(throttled());

      // Act / Assert
      await expect(repo.appendLedger(makeLedgerEvent({ eventId: 'e-1', type: 'batch.scored' }))).rejects.toBeInstanceOf(
        ProvisionedThroughputExceededException,
      );
    });
  });

  describe('Method: transitionBatch', () => {
    it('returns true and sends a status update conditioned on the allowed previous statuses', async () => {
      // Arrange
      ddb.on(UpdateCommand).resolves({});

      // Act
      const moved = await repo.transitionBatch('batch-1', ['awaiting-submission'], 'submitted', { acceptedUploadId: 'up12345678' });

      // Assert
      expect(moved).toBe(true);
      const input = ddb.commandCalls(UpdateCommand)[0].args[0].input;
      expect(input.Key).toEqual(keys.batch('batch-1'));
      expect(input.ConditionExpression).toBe('attribute_exists(pk) AND (#status = :from0)');
      expect(input.ExpressionAttributeValues).toMatchObject({ ':to': 'submitted', ':from0': 'awaiting-submission', ':f0': 'up12345678' });
      expect(input.ExpressionAttributeNames).toMatchObject({ '#status': 'status', '#f0': 'acceptedUploadId' });
    });

    it('returns false when the batch is not in one of the allowed statuses (ConditionalCheckFailedException)', async () => {
      // Arrange
      ddb.on(UpdateCommand).rejects(conditionFailed());

      // Act
      const moved = await repo.transitionBatch('batch-1', ['submitted', 'accepted'], 'accepted');

      // Assert
      expect(moved).toBe(false);
    });

    it('throws other DynamoDB errors', async () => {
      ddb.on(UpdateCommand).rejects(throttled());
      await expect(repo.transitionBatch('batch-1', ['planned'], 'awaiting-submission')).rejects.toThrow(/provisioned throughput/);
    });
  });

  describe('Method: createSubmission', () => {
    it('returns created with the new submission when none is stored', async () => {
      // Arrange
      ddb.on(PutCommand).resolves({});
      const s = submission();

      // Act
      const r = await repo.createSubmission(s);

      // Assert
      expect(r).toEqual({ created: true, current: s });
      expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
    });

    it('returns the stored submission, not the new one, when the upload was already recorded', async () => {
      // Arrange: the stored one was validated by the first delivery
      const stored = submission({ status: 'valid', receivedAt: '2025-03-01T08:00:00.000Z' });
      ddb.on(PutCommand).rejects(conditionFailed());
      ddb.on(GetCommand).resolves({ Item: { ...keys.submission('batch-1', 'up12345678'), ...stored } });

      // Act
      const r = await repo.createSubmission(submission());

      // Assert
      expect(r).toEqual({ created: false, current: stored });
      expect(ddb.commandCalls(GetCommand)[0].args[0].input).toMatchObject({
        Key: keys.submission('batch-1', 'up12345678'),
        ConsistentRead: true,
      });
    });
  });

  describe('Method: putCases (BatchWrite)', () => {
    const cases = (n: number) => Array.from({ length: n }, (_, i) => ({ ...makeCase(`case-${i}`), goldPool: false }));
    // putCases first reads which of its cases exist, by key (a repeated ingest changes nothing).
    beforeEach(() => {
      ddb.on(BatchGetCommand).resolves({ Responses: { [TABLE]: [] } });
    });

    it('skips cases that already exist', async () => {
      ddb.on(BatchGetCommand).resolves({ Responses: { [TABLE]: [{ caseId: 'case-0' }] } });
      ddb.on(BatchWriteCommand).resolves({ UnprocessedItems: {} });
      await repo.putCases('prog-1', cases(3));
      const written = ddb.commandCalls(BatchWriteCommand).flatMap((c) => c.args[0].input.RequestItems![TABLE].map((r) => r.PutRequest!.Item!.caseId));
      expect(written).toEqual(['case-1', 'case-2']);
    });

    it('writes in chunks of 25 items', async () => {
      // Arrange
      ddb.on(BatchWriteCommand).resolves({ UnprocessedItems: {} });

      // Act
      await repo.putCases('prog-1', cases(60));

      // Assert
      const sizes = ddb.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems![TABLE].length);
      expect(sizes).toEqual([25, 25, 10]);
    });

    it('retries the unprocessed items until every item is written', async () => {
      // Arrange: the first answer leaves two items unprocessed
      vi.spyOn(Math, 'random').mockReturnValue(0);
      const all = cases(5);
      ddb
        .on(BatchWriteCommand)
        .resolvesOnce({
          UnprocessedItems: {
            [TABLE]: [
              { PutRequest: { Item: { ...keys.case('prog-1', 'case-1'), caseId: 'case-1' } } },
              { PutRequest: { Item: { ...keys.case('prog-1', 'case-3'), caseId: 'case-3' } } },
            ],
          },
        })
        .resolves({ UnprocessedItems: {} });

      // Act
      await repo.putCases('prog-1', all);

      // Assert
      const calls = ddb.commandCalls(BatchWriteCommand);
      expect(calls).toHaveLength(2);
      const retried = calls[1].args[0].input.RequestItems![TABLE].map((r) => r.PutRequest!.Item!.caseId);
      expect(retried).toEqual(['case-1', 'case-3']);
    });

    it('throws after repeated answers that leave items unprocessed', async () => {
      // Arrange
      vi.spyOn(Math, 'random').mockReturnValue(0);
      ddb.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => ({
        UnprocessedItems: { [TABLE]: input.RequestItems[TABLE] },
      }));

      // Act / Assert
      await expect(repo.putCases('prog-1', cases(3))).rejects.toThrow('BatchWrite left 3 items unprocessed after retries');
      expect(ddb.commandCalls(BatchWriteCommand).length).toBeGreaterThan(2);
    });
  });
});
