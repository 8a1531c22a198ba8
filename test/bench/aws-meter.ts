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
/** Single-item writes whose old item the meter asks for (ALL_OLD, kept from the caller) to see the index entry they replace. */
const SINGLE_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

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

/** A string attribute as the meter sees it: plain (document client: the SDK marshals after this step) or marshalled (`{ S: … }`). */
function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const s = (v as { S?: unknown } | undefined)?.S;
  return typeof s === 'string' ? s : undefined;
}

/** An item's gsi1 entry key (gsi1pk and gsi1sk, a newline between), undefined when the item is not in the index. */
function indexEntry(item: Record<string, Attr> | undefined): string | undefined {
  const pk = text(item?.gsi1pk);
  const sk = text(item?.gsi1sk);
  return typeof pk === 'string' && typeof sk === 'string' ? `${pk}\n${sk}` : undefined;
}

/**
 * The gsi1 entry key an UpdateItem leaves: the values its SET clause gives gsi1pk and
 * gsi1sk (names resolved through ExpressionAttributeNames), none when its REMOVE
 * clause drops them, else the old one.
 */
function updatedIndexEntry(input: Record<string, unknown>, before: string | undefined): string | undefined {
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, Attr>;
  const expr = String(input.UpdateExpression ?? '').replace(/#[A-Za-z0-9_]+/g, (n) => names[n] ?? n);
  const clause = (kw: string) => expr.match(new RegExp(`\\b${kw}\\b([\\s\\S]*?)(?=\\b(?:SET|REMOVE|ADD|DELETE)\\b|$)`, 'i'))?.[1] ?? '';
  if (/\bgsi1pk\b/.test(clause('REMOVE'))) return undefined;
  const set = clause('SET');
  const setTo = (attr: string) => {
    const m = set.match(new RegExp(`(?:^|,)\\s*${attr}\\s*=\\s*(:[A-Za-z0-9_]+)`));
    return m ? text(values[m[1]]) : undefined;
  };
  const [pk, sk] = [setTo('gsi1pk'), setTo('gsi1sk')];
  if (pk === undefined && sk === undefined) return before;
  const [oldPk, oldSk] = before?.split('\n') ?? [];
  const key = [pk ?? oldPk, sk ?? oldSk];
  return typeof key[0] === 'string' && typeof key[1] === 'string' ? `${key[0]}\n${key[1]}` : undefined;
}

/** What kind of item a write touched: its keys' prefixes up to the first `#` (`PROGRAM/CASE` a case, `CASE/LABEL` a label, `LEDGER/SEQ` a ledger event). */
function sortKeyPrefix(key: Record<string, Attr> | undefined): string {
  const prefix = (v: unknown) => (typeof v === 'string' ? v.split('#')[0] : '?');
  return `${prefix(text(key?.pk))}/${prefix(text(key?.sk))}`;
}

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

  /**
   * Write units by function and by what was written: `<operation> <key prefixes>`
   * (`UpdateItem PROGRAM/CASE`, `BatchWriteItem CASE/LABEL`, `PutItem LEDGER/SEQ`: a ledger event), its
   * index writes as `… gsi1`, failed conditions as `… failed`. A BatchWriteItem's units
   * are split over its items by their sizes.
   */
  readonly writesByFnKind = new Map<string, Map<string, number>>();

  private addKind(kind: string, units: number): void {
    const fn = this.fn.getStore();
    if (fn === undefined || units === 0) return;
    const kinds = this.writesByFnKind.get(fn) ?? new Map<string, number>();
    kinds.set(kind, (kinds.get(kind) ?? 0) + units);
    this.writesByFnKind.set(fn, kinds);
  }

  private addWriteKinds(op: string, input: Record<string, unknown>, units: number, gsi: number): void {
    if (op !== 'BatchWriteItem') {
      const kind = `${op} ${sortKeyPrefix((input.Key ?? input.Item) as Record<string, Attr> | undefined)}`;
      this.addKind(kind, units);
      this.addKind(`${kind} gsi1`, gsi);
      return;
    }
    const items = Object.values(input.RequestItems as Record<string, { PutRequest?: { Item: Record<string, Attr> }; DeleteRequest?: { Key: Record<string, Attr> } }[]>)
      .flat()
      .map((r) => r.PutRequest?.Item ?? r.DeleteRequest?.Key ?? {});
    const sizes = items.map((i) => writeUnitsOf(itemBytes(i)));
    const total = sizes.reduce((a, b) => a + b, 0) || 1;
    items.forEach((item, k) => {
      const kind = `${op} ${sortKeyPrefix(item)}`;
      this.addKind(kind, (units * sizes[k]) / total);
      if (item.gsi1pk) this.addKind(`${kind} gsi1`, sizes[k]);
    });
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
      // The old item (for the gsi1 entry a write replaces), unless the caller asked for its own return values.
      const askOld = SINGLE_WRITES.has(op) && (input.ReturnValues === undefined || input.ReturnValues === 'NONE') && !inHarness;
      try {
        const result = await next({ ...args, input: { ...input, ReturnConsumedCapacity: 'TOTAL', ...(askOld ? { ReturnValues: 'ALL_OLD' } : {}) } });
        const units = consumed(result.output);
        const old = askOld ? (result.output.Attributes as Record<string, Attr> | undefined) : undefined;
        if (askOld) delete result.output.Attributes;
        if (inHarness) {
          this.harnessReadUnits += units;
        } else if (DATA_READS.has(op)) {
          this.readUnits += units;
          this.addByFn(units, 0);
          this.unitsByOp.set(op, (this.unitsByOp.get(op) ?? 0) + units);
        } else {
          const gsi = this.indexWriteUnits(op, input, units, askOld ? { known: true, item: old } : { known: false });
          this.writeUnits += units + gsi;
          this.addByFn(0, units + gsi);
          this.gsiWriteUnits += gsi;
          this.addWriteKinds(op, input, units, gsi);
          this.unitsByOp.set(op, (this.unitsByOp.get(op) ?? 0) + units + gsi);
        }
        return result;
      } catch (e) {
        // A failed conditional write is billed as a write (1 WRU for a small item).
        if ((e as { name?: string }).name === 'ConditionalCheckFailedException' && !inHarness) {
          this.failedConditionalWrites += 1;
          this.writeUnits += 1;
          this.addByFn(0, 1);
          this.addKind(`${op} ${sortKeyPrefix((input.Key ?? input.Item) as Record<string, Attr> | undefined)} failed`, 1);
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
   * GSI writes, which dynalite does not bill. gsi1 projects every attribute, so a
   * write of an item that is in the index before or after it writes the index too,
   * as DynamoDB bills it: an entry added or removed is one index write, one kept
   * under the same key is one (its copy is rewritten), one moved to another key is
   * two (a delete and a put) — each of the item's size. The old entry comes from the
   * old item (ALL_OLD); where the caller asked for other return values it is
   * unknown and an item that ends in the index counts one write.
   */
  private indexWriteUnits(op: string, input: Record<string, unknown>, tableUnits: number, old: { known: boolean; item?: Record<string, Attr> }): number {
    const before = old.known ? indexEntry(old.item) : undefined;
    if (op === 'PutItem' || op === 'UpdateItem') {
      const after = op === 'PutItem' ? indexEntry(input.Item as Record<string, Attr> | undefined) : updatedIndexEntry(input, old.known ? before : undefined);
      if (!old.known) return after === undefined ? 0 : tableUnits;
      if (before === undefined && after === undefined) return 0;
      return before !== undefined && after !== undefined && before !== after ? 2 * tableUnits : tableUnits;
    }
    if (op === 'DeleteItem') return before === undefined ? 0 : tableUnits;
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
    this.writesByFnKind.clear();
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
