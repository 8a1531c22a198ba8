// A fresh table on dynalite answers ResourceNotFoundException until its CREATING → ACTIVE
// timer has written; CI once failed repository-contract's first Put on a loaded machine
// (session 4's last submission). createActiveTable waits as one waits on AWS.
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, PutItemCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActiveTable } from '../../../infra/local/dynalite-tables.js';

let server: ReturnType<typeof dynalite>;
let client: DynamoDBClient;

beforeAll(async () => {
  // A slow CREATING → ACTIVE flip makes the window the loaded machine opened by chance.
  server = dynalite({ createTableMs: 150 });
  await new Promise<void>((res, rej) => server.listen(0, '127.0.0.1', (e?: Error) => (e ? rej(e) : res())));
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'us-east-1', credentials });
});

afterAll(async () => {
  client?.destroy();
  await new Promise<void>((res) => server.close(() => res()));
});

const table = (name: string) => ({
  TableName: name,
  BillingMode: 'PAY_PER_REQUEST' as const,
  AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' as const }],
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' as const }],
});
const put = (name: string) => client.send(new PutItemCommand({ TableName: name, Item: { pk: { S: 'x' } } }));

describe('Local stack: creating a dynalite table', () => {
  it('serves the first write once createActiveTable resolves, where a write right after CreateTable is refused', async () => {
    await createActiveTable(client, table('waited'));
    await expect(put('waited')).resolves.toBeDefined();

    await client.send(new CreateTableCommand(table('unwaited')));
    await expect(put('unwaited')).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('keeps a table that already exists (a resumed data dir) and still waits for it', async () => {
    await createActiveTable(client, table('twice'));
    await createActiveTable(client, table('twice'));
    await expect(put('twice')).resolves.toBeDefined();
  });
});
