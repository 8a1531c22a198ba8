/**
 * Records, per DynamoDB request, which partition keys it touched and with how
 * many capacity units, for the per-key rate report (functions/domain/key-rates.ts).
 * An SDK middleware for benches and tests: it asks for `ReturnConsumedCapacity:
 * 'TOTAL'` (dynalite computes it from item sizes, as DynamoDB does), which changes
 * no result. GSI writes are charged to the index key the request names (an item's
 * `gsi1pk`, or an update's `:gsi1pk` value) at the item's units; an update that
 * leaves the index key as it is, or moves it from a key it does not name, is not
 * charged to the index (an undercount of index writes, never of table keys).
 */
import type { KeyRequest } from '../domain/key-rates.js';

type Attr = Record<string, unknown>;
type Next = (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>;
type Middleware = (next: Next, context: { commandName?: string }) => Next;
interface MiddlewareClient {
  middlewareStack: { add: (middleware: never, options: never) => void };
}

/** A marshalled (`{ S: … }`) or plain string. */
function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const s = (v as { S?: unknown } | undefined)?.S;
  return typeof s === 'string' ? s : undefined;
}

/** Bytes of a marshalled item, roughly as DynamoDB counts (attribute names + values). */
function itemBytes(item: Attr): number {
  let n = 0;
  for (const [k, v] of Object.entries(item)) n += Buffer.byteLength(k) + Buffer.byteLength(JSON.stringify(v) ?? '');
  return n;
}

const units = (output: Record<string, unknown>): number => {
  const cc = output.ConsumedCapacity as { CapacityUnits?: number } | { CapacityUnits?: number }[] | undefined;
  if (!cc) return 0;
  return (Array.isArray(cc) ? cc : [cc]).reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
};

/** The partition key value in a key condition (`pk = :pk …` or `gsi1pk = :x …`). */
function queryKey(input: Record<string, unknown>): string | undefined {
  const m = /^\s*(#?\w+)\s*=\s*(:\w+)/.exec(String(input.KeyConditionExpression ?? ''));
  return m ? str((input.ExpressionAttributeValues as Attr | undefined)?.[m[2]]) : undefined;
}

const READS = new Set(['GetItem', 'Query', 'BatchGetItem', 'Scan']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

export class KeyRateMeter {
  private readonly log: KeyRequest[] = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Adds the meter to a DynamoDB client (low-level or document); returns the client. */
  attach<C extends MiddlewareClient>(client: C): C {
    const middleware: Middleware = (next, context) => async (args) => {
      const op = String(context.commandName ?? '').replace(/Command$/, '');
      if (!READS.has(op) && !WRITES.has(op)) return next(args);
      const input = args.input;
      const t = this.now();
      try {
        const result = await next({ ...args, input: { ...input, ReturnConsumedCapacity: 'TOTAL' } });
        this.note(t, op, input, units(result.output));
        return result;
      } catch (e) {
        // A failed conditional write is billed as a write (1 WCU for an item under 1 KB).
        if ((e as { name?: string }).name === 'ConditionalCheckFailedException') this.note(t, op, input, 1);
        throw e;
      }
    };
    client.middlewareStack.add(middleware as never, { step: 'serialize', priority: 'high', name: 'goldlineKeyRateMeter', override: true } as never);
    return client;
  }

  /** What was recorded so far. */
  records(): readonly KeyRequest[] {
    return this.log;
  }

  reset(): void {
    this.log.length = 0;
  }

  private push(t: number, key: string | undefined, wcu: number, rcu: number): void {
    if (key !== undefined) this.log.push({ t, key, wcu, rcu });
  }

  private note(t: number, op: string, input: Record<string, unknown>, consumed: number): void {
    const write = WRITES.has(op);
    const w = (u: number) => (write ? u : 0);
    const r = (u: number) => (write ? 0 : u);
    if (op === 'Query' || op === 'Scan') {
      const key = queryKey(input);
      this.push(t, key && (typeof input.IndexName === 'string' ? `${input.IndexName}:${key}` : key), 0, consumed);
      return;
    }
    if (op === 'BatchWriteItem' || op === 'BatchGetItem') {
      // Units spread over the items by size (writes) or evenly (reads).
      const requests = Object.values((input.RequestItems ?? {}) as Record<string, unknown>).flatMap((v) =>
        Array.isArray(v) ? (v as { PutRequest?: { Item?: Attr }; DeleteRequest?: { Key?: Attr } }[]) : ((v as { Keys?: Attr[] }).Keys ?? []).map((Key) => ({ DeleteRequest: { Key } })),
      );
      const items = requests.map((q) => q.PutRequest?.Item ?? q.DeleteRequest?.Key ?? {});
      const sizes = items.map(itemBytes);
      const total = sizes.reduce((s, x) => s + x, 0) || 1;
      items.forEach((item, i) => {
        const share = op === 'BatchWriteItem' ? Math.max(1, (consumed * sizes[i]) / total) : consumed / items.length;
        this.push(t, str(item.pk), w(share), r(share));
        if (op === 'BatchWriteItem' && str(item.gsi1pk)) this.push(t, `gsi1:${str(item.gsi1pk)}`, share, 0);
      });
      return;
    }
    const item = (input.Item ?? input.Key ?? {}) as Attr;
    this.push(t, str(item.pk), w(consumed), r(consumed));
    if (!write) return;
    const index = str(item.gsi1pk) ?? (op === 'UpdateItem' ? str((input.ExpressionAttributeValues as Attr | undefined)?.[':gsi1pk']) : undefined);
    if (index) this.push(t, `gsi1:${index}`, Math.max(1, consumed), 0);
  }
}
