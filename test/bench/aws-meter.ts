/**
 * The benches' meters on the embedded stack's SDK clients (read-only use of the
 * stack: middleware added to its clients, nothing else changed): DynamoDB calls
 * with the capacity DynamoDB would bill, S3 requests really sent, presigned URLs
 * handed out, and the demo harness's own reads kept apart from the system's.
 * Used by round-10k and cost-1m.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { RequestCounter } from '../../functions/adapters/request-counter.js';
import type { LocalStack } from '../../infra/local/stack.js';

const DATA_READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem']);
const DATA_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

type Next = (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>;
type Middleware = (next: Next, context: { commandName?: string }) => Next;
interface StackClient {
  middlewareStack: { add: (middleware: never, options: never) => void };
}
type Attr = Record<string, unknown>;

/** Byte size of a marshalled item, roughly as DynamoDB counts it (names + values). */
export function itemBytes(item: Record<string, Attr>): number {
  let n = 0;
  for (const [k, v] of Object.entries(item)) n += Buffer.byteLength(k) + Buffer.byteLength(JSON.stringify(v) ?? '');
  return n;
}
const writeUnitsOf = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));

/** Sum of ConsumedCapacity in an output (one object, or one per table for batch calls). */
function consumed(output: Record<string, unknown>): number {
  const cc = output.ConsumedCapacity as { CapacityUnits?: number } | { CapacityUnits?: number }[] | undefined;
  if (!cc) return 0;
  return (Array.isArray(cc) ? cc : [cc]).reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
}

/**
 * The bench's own meters on the stack's SDK clients (read-only use of the
 * stack: middleware added to its clients, nothing else changed).
 */
export class AwsMeter {
  /** DynamoDB calls by the system (harness excluded). */
  readonly dynamo = new RequestCounter();
  /** DynamoDB calls the demo harness makes only to watch the round. */
  readonly harness = new RequestCounter();
  /** S3 requests that left the process (presigning excluded). */
  readonly s3Sent = new RequestCounter();
  /** Measured capacity units by operation (system only). */
  readonly unitsByOp = new Map<string, number>();
  readUnits = 0;
  writeUnits = 0;
  gsiWriteUnits = 0;
  failedConditionalWrites = 0;
  harnessReadUnits = 0;
  readonly scope = new AsyncLocalStorage<'harness'>();
  /** Capacity units by the function whose handler made the call (`within`), system calls only. */
  readonly unitsByFn = new Map<string, { read: number; write: number }>();
  private readonly fn = new AsyncLocalStorage<string>();

  /** Runs a function's handler so that the units its calls consume are counted under its name. */
  within<T>(fn: string, work: () => Promise<T>): Promise<T> {
    return this.fn.run(fn, work);
  }

  private addByFn(read: number, write: number): void {
    const fn = this.fn.getStore();
    if (fn === undefined) return;
    const u = this.unitsByFn.get(fn) ?? { read: 0, write: 0 };
    this.unitsByFn.set(fn, { read: u.read + read, write: u.write + write });
  }

  attach(dynamo: DynamoDBClient, s3: S3Client): void {
    const measure: Middleware = (next, context) => async (args) => {
      const op = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
      const data = DATA_READS.has(op) || DATA_WRITES.has(op);
      const inHarness = this.scope.getStore() === 'harness';
      (inHarness ? this.harness : this.dynamo).add('dynamodb', op);
      if (!data) return next(args);
      const input = args.input;
      try {
        const result = await next({ ...args, input: { ...input, ReturnConsumedCapacity: 'TOTAL' } });
        const units = consumed(result.output);
        if (inHarness) {
          this.harnessReadUnits += units;
        } else if (DATA_READS.has(op)) {
          this.readUnits += units;
          this.addByFn(units, 0);
          this.unitsByOp.set(op, (this.unitsByOp.get(op) ?? 0) + units);
        } else {
          const gsi = this.indexWriteUnits(op, input, units);
          this.writeUnits += units + gsi;
          this.addByFn(0, units + gsi);
          this.gsiWriteUnits += gsi;
          this.unitsByOp.set(op, (this.unitsByOp.get(op) ?? 0) + units + gsi);
        }
        return result;
      } catch (e) {
        // A failed conditional write is billed as a write (1 WRU for a small item).
        if ((e as { name?: string }).name === 'ConditionalCheckFailedException' && !inHarness) {
          this.failedConditionalWrites += 1;
          this.writeUnits += 1;
          this.addByFn(0, 1);
          this.unitsByOp.set(op, (this.unitsByOp.get(op) ?? 0) + 1);
        }
        throw e;
      }
    };
    (dynamo as unknown as StackClient).middlewareStack.add(
      measure as never,
      { step: 'serialize', priority: 'high', name: 'benchCapacityMeter', override: true } as never,
    );
    // Presigning stops before signing (finalizeRequest): a deserialize-step
    // middleware sees only requests that are really sent, retries included.
    const sent: Middleware = (next, context) => async (args) => {
      this.s3Sent.add('s3', String(context.commandName ?? 'Unknown').replace(/Command$/, ''));
      return next(args);
    };
    (s3 as unknown as StackClient).middlewareStack.add(
      sent as never,
      { step: 'deserialize', priority: 'low', name: 'benchS3SentCounter', override: true } as never,
    );
  }

  /**
   * GSI writes, which dynalite does not bill: items carrying gsi1 keys (batch
   * records and labels, docs/data-model.md) are written to the index too.
   */
  private indexWriteUnits(op: string, input: Record<string, unknown>, tableUnits: number): number {
    if (op === 'PutItem') return (input.Item as Attr | undefined)?.gsi1pk ? tableUnits : 0;
    if (op === 'UpdateItem') {
      // An update that moves an item to another index key (a case's state: gsi1 `CASESTATE#…`) deletes
      // the old index entry and writes the new one: two index writes.
      if ((input.ExpressionAttributeValues as Record<string, unknown> | undefined)?.[':gsi1pk'] !== undefined) return 2 * tableUnits;
      return (input.Key as { sk?: { S?: string } } | undefined)?.sk?.S === 'BATCH' ? tableUnits : 0;
    }
    if (op === 'BatchWriteItem') {
      let n = 0;
      for (const reqs of Object.values(input.RequestItems as Record<string, { PutRequest?: { Item: Record<string, Attr> } }[]>)) {
        for (const r of reqs) if (r.PutRequest?.Item.gsi1pk) n += writeUnitsOf(itemBytes(r.PutRequest.Item));
      }
      return n;
    }
    return 0;
  }

  /**
   * The client as another meter's `attach` sees it: middleware it adds is
   * skipped for the demo harness's own calls, as this meter's counts are.
   */
  skipHarness<C extends StackClient>(client: C): StackClient {
    const scope = this.scope;
    return {
      middlewareStack: {
        add: (middleware: never, options: never) => {
          const skipping: Middleware = (next, context) => {
            const inner = (middleware as unknown as Middleware)(next, context);
            return (args) => (scope.getStore() === 'harness' ? next(args) : inner(args));
          };
          client.middlewareStack.add(skipping as never, options);
        },
      },
    };
  }

  reset(): void {
    this.unitsByFn.clear();
    this.dynamo.reset();
    this.harness.reset();
    this.s3Sent.reset();
    this.unitsByOp.clear();
    this.readUnits = 0;
    this.writeUnits = 0;
    this.gsiWriteUnits = 0;
    this.failedConditionalWrites = 0;
    this.harnessReadUnits = 0;
  }
}

/**
 * The stack as `runRound` sees it: the same stack, but repository calls made
 * directly by the demo harness (run-demo.ts: status polling, the report) run
 * in the meter's harness scope. Calls from use cases it invokes (dispatch, the
 * vendor portal) are the system's and stay counted.
 */
export function harnessView(stack: LocalStack, meter: AwsMeter): LocalStack {
  const repo = new Proxy(stack.deps.repo, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const caller = new Error().stack?.split('\n')[2] ?? '';
        const call = () => (value as (...a: unknown[]) => unknown).apply(target, args);
        return caller.includes('run-demo.') ? meter.scope.run('harness', call) : call();
      };
    },
  });
  return { ...stack, deps: { ...stack.deps, repo } };
}

/**
 * Presigned URLs the stack hands out, counted where they are made: signing
 * sends no request, so no SDK middleware on the sending clients sees it.
 */
export function countPresigns(stack: LocalStack): { get: number; put: number } {
  const objects = stack.deps.objects;
  const counts = { get: 0, put: 0 };
  const presignGet = objects.presignGet.bind(objects);
  const presignPut = objects.presignPut.bind(objects);
  objects.presignGet = (...args) => {
    counts.get++;
    return presignGet(...args);
  };
  objects.presignPut = (...args) => {
    counts.put++;
    return presignPut(...args);
  };
  return counts;
}
