/**
 * An in-process dynalite on 127.0.0.1 for one test file, with a client to it
 * (tables made with infra/local/dynalite-tables.ts `createActiveTable`).
 */
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

export interface TestDynalite {
  client: DynamoDBClient;
  stop(): Promise<void>;
}

/** @example const dynamo = await startTestDynalite(); … await dynamo.stop(); */
export async function startTestDynalite(): Promise<TestDynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((res, rej) => server.listen(0, '127.0.0.1', (e?: Error) => (e ? rej(e) : res())));
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    client,
    async stop() {
      client.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
