/**
 * Creating a table on dynalite and waiting until it serves.
 *
 * dynalite answers CreateTable while the table is still CREATING and flips it to ACTIVE
 * on a timer (even with `createTableMs: 0`) through a second LevelDB write; a request
 * that arrives before that write answers ResourceNotFoundException. On a loaded machine
 * the first Put after CreateTable can get there first, so wait as one waits on AWS.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';

/** Creates the table (an existing one is kept) and resolves once it and its indexes are ACTIVE. */
export async function createActiveTable(client: DynamoDBClient, input: CreateTableCommandInput, { attempts = 400, delayMs = 5 } = {}): Promise<void> {
  try {
    await client.send(new CreateTableCommand(input));
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e; // resumed from a data dir
  }
  for (let i = 0; i < attempts; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    const indexes = Table?.GlobalSecondaryIndexes ?? [];
    if (Table?.TableStatus === 'ACTIVE' && indexes.every((x) => x.IndexStatus === 'ACTIVE')) return;
    await new Promise((r) => setTimeout(r, delayMs));
  }
  throw new Error(`table ${input.TableName} did not become ACTIVE after ${attempts} checks`);
}
