/**
 * The bench's by-caller count (test/bench/caller-meter.ts) on dynalite: a
 * request is named by its adapter method and the use case above it, and a read
 * that returns the round is told apart from one that returns an item.
 */
import { GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN_TABLE } from '../../infra/definitions.js';
import { createActiveTable } from '../../infra/local/dynalite-tables.js';
import { createTableInput } from '../../infra/local/stack.js';
import { startTestDynalite, type TestDynalite } from '../support/dynalite.js';
import { CallerMeter, callerOf, formatCallerRows } from './caller-meter.js';

const STACK = `Error
    at <anonymous> (/work/main/test/bench/caller-meter.ts:53:32)
    at <anonymous> (/work/main/functions/adapters/request-counter.ts:28:14)
    at queryAll (/work/main/functions/adapters/dynamo-query.ts:13:25)
    at DynamoRepository.queryAll (/work/main/functions/adapters/dynamo-repository.ts:150:12)
    at DynamoRepository.listRoundBatches (/work/main/functions/adapters/dynamo-repository.ts:424:30)
    at async carriesHeld (/work/main/functions/use-cases/score-submission.ts:73:19)
    at async scoreSubmission (/work/main/functions/use-cases/score-submission.ts:46:7)`;

describe('Bench: CallerMeter (DynamoDB requests by caller)', () => {
  describe('Function: callerOf', () => {
    it('names the outermost adapter method (the port method) and the use case above it, passing over the counters and query helpers', () => {
      expect(callerOf(STACK)).toBe('DynamoRepository.listRoundBatches (adapters/dynamo-repository.ts:424:30) <= carriesHeld (use-cases/score-submission.ts:73:19)');
    });

    it('names a harness step under infra/, and says so when no frame is Goldline code', () => {
      expect(callerOf('Error\n    at DynamoRepository.get (/x/functions/adapters/dynamo-repository.ts:145:30)\n    at async waitFor (/x/infra/local/demo/run-demo.ts:247:75)')).toBe(
        'DynamoRepository.get (adapters/dynamo-repository.ts:145:30) <= waitFor (local/demo/run-demo.ts:247:75)',
      );
      expect(callerOf('Error\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)')).toBe('(outside Goldline)');
    });
  });

  describe('Class: CallerMeter', () => {
    let dynamo: TestDynalite;
    beforeAll(async () => {
      dynamo = await startTestDynalite();
    });
    afterAll(() => dynamo?.stop());

    it('counts calls, items and bytes per command and caller', async () => {
      await createActiveTable(dynamo.client, createTableInput(MAIN_TABLE, 'callers'));
      const meter = new CallerMeter();
      meter.attach(dynamo.client);
      for (let i = 0; i < 5; i++) {
        await dynamo.client.send(new PutItemCommand({ TableName: 'callers', Item: { pk: { S: 'round' }, sk: { S: `b-${i}` }, pad: { S: 'x'.repeat(100) } } }));
      }
      await dynamo.client.send(new QueryCommand({ TableName: 'callers', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'round' } } }));
      await dynamo.client.send(new GetItemCommand({ TableName: 'callers', Key: { pk: { S: 'round' }, sk: { S: 'b-0' } } }));

      const rows = meter.snapshot();
      const byCommand = Object.fromEntries(rows.map((r) => [r.command, r]));
      expect(rows[0].command).toBe('Query');
      expect(byCommand.Query).toMatchObject({ calls: 1, items: 5 });
      expect(byCommand.Query.bytes).toBeGreaterThan(5 * 100);
      expect(byCommand.GetItem).toMatchObject({ calls: 1, items: 1 });
      expect(byCommand.PutItem).toMatchObject({ calls: 5, items: 0, bytes: 0 });
      expect(formatCallerRows(rows, 1)[0]).toMatch(/^\s+1 calls\s+5 items \(\s+5\.0 a call\)/);
    });
  });
});
