/**
 * The benches' DynamoDB meter (aws-meter.ts) against dynalite, which bills no
 * GSI writes: the meter adds them as DynamoDB bills them for gsi1 (projection
 * ALL) — an entry added or removed is one write, one kept under its key is one
 * (its copy is rewritten), one moved to another key is two — and it hands the
 * caller exactly the output it asked for.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRepository } from '../../functions/adapters/dynamo-repository.js';
import { MAIN_TABLE } from '../../infra/definitions.js';
import { createActiveTable } from '../../infra/local/dynalite-tables.js';
import { createTableInput } from '../../infra/local/stack.js';
import { type TestDynalite, startTestDynalite } from '../support/dynalite.js';
import { makeCase } from '../unit/fakes.js';
import { AwsMeter } from './aws-meter.js';

let dynamo: TestDynalite;
let client: DynamoDBClient;
const s3 = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });

beforeAll(async () => {
  dynamo = await startTestDynalite();
  client = dynamo.client;
  await createActiveTable(client, createTableInput(MAIN_TABLE, 'meter'));
});

afterAll(async () => {
  s3.destroy();
  await dynamo?.stop();
});

describe('AwsMeter: gsi1 write units', () => {
  // The meter read `{ S: … }` keys the document client never passes at this step, so batch records' index writes went uncounted (issue 14).
  it('bills an index write where DynamoDB does: added, removed or kept one, moved two, absent none', async () => {
    const meter = new AwsMeter();
    meter.attach(client, s3);
    const repo = new DynamoRepository(client, 'meter');
    const doc = DynamoDBDocumentClient.from(client);
    const gsi = async (fn: string, work: () => Promise<unknown>) => {
      await meter.within(fn, work);
      return [...(meter.writesByFnKind.get(fn) ?? [])].filter(([k]) => k.endsWith(' gsi1')).reduce((s, [, u]) => s + u, 0);
    };
    await repo.putCases('p', ['c-1', 'c-2'].map((id) => ({ ...makeCase(id), goldPool: false })));

    expect(await gsi('assign', () => repo.assignCases('p', ['c-1', 'c-2'], 'b-1'))).toBe(2);
    expect(await gsi('label', () => repo.setCaseState('p', ['c-1'], 'labelled', 'b-1'))).toBe(0);
    expect(await gsi('requeue', () => repo.requeueCases('p', ['c-2'], { batchId: 'b-1' }))).toBe(1);
    expect(await gsi('override', () => repo.setCaseAssignment('p', 'c-2', { workforceId: 'vendor-a', reason: 'r', actor: 'pm:a', at: '2026-01-01T00:00:00.000Z' } as never))).toBe(1);
    await doc.send(new PutCommand({ TableName: 'meter', Item: { pk: 'ADJ#1', sk: 'ADJ', gsi1pk: 'P#ADJ', gsi1sk: 'open#1' } }));
    const moved = () => doc.send(new UpdateCommand({ TableName: 'meter', Key: { pk: 'ADJ#1', sk: 'ADJ' }, UpdateExpression: 'SET gsi1sk = :g', ExpressionAttributeValues: { ':g': 'decided#1' } }));
    expect(await gsi('move', moved)).toBe(2);
    expect(meter.gsiWriteUnits).toBe(2 + 6 + 1); // with the two new cases and the adjudication put into the index
  });

  it('gives the caller the output it asked for: no old item it did not ask for, the new one it did', async () => {
    const meter = new AwsMeter();
    meter.attach(client, s3);
    const doc = DynamoDBDocumentClient.from(client);
    await doc.send(new PutCommand({ TableName: 'meter', Item: { pk: 'X', sk: 'X', n: 1 } }));

    const plain = await doc.send(new UpdateCommand({ TableName: 'meter', Key: { pk: 'X', sk: 'X' }, UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': 2 } }));
    const asked = await doc.send(
      new UpdateCommand({ TableName: 'meter', Key: { pk: 'X', sk: 'X' }, UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': 3 }, ReturnValues: 'ALL_NEW' }),
    );

    expect(plain.Attributes).toBeUndefined();
    expect(asked.Attributes).toEqual({ pk: 'X', sk: 'X', n: 3 });
  });
});
