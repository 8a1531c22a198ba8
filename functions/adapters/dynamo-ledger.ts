/**
 * The ledger's storage on the single table: each program's ledger in
 * LEDGER_SHARDS (8) shard partitions `LEDGER#<p>#<shard>`, each a hash chain of
 * its own (functions/domain/ledger-chain.ts), so appends of one program spread
 * over 8 keys instead of one. An event's shard is fixed by its eventId
 * (shardOf), so a retry lands in the same shard. Two kinds of item per shard:
 * - the event at `SEQ#<12-digit seq>`: the event, `seq`, `prevHash`, `shard`,
 *   `ord` (its time-order key, functions/domain/ledger-merge.ts), `hash`;
 * - the key item at `KEY#<eventId>`: `{ eventId, seq, hash }`, so a repeat is found
 *   in one GetItem and deleting the last event leaves a trace.
 *
 * An append, with single-item conditional writes only (no transactions locally):
 * 1. GetItem KEY#eventId in its shard (consistent): present → 'duplicate'. (A
 *    program with a pre-shard ledger also has its legacy key item looked up.)
 * 2. read the shard's head (Query SEQ# descending, Limit 1, consistent; first the
 *    head this instance last wrote there, as a hint) and PutItem the event at
 *    head+1 with `attribute_not_exists`, its `ord` above the head's; a concurrent
 *    append took that seq → re-read the head and retry after a jittered backoff;
 * 3. PutItem KEY#eventId with `attribute_not_exists`; there already → a
 *    concurrent append of the same event won: 'duplicate'.
 * A crash between 2 and 3 leaves the event without its key item, and the retry
 * appends it again at a later seq of the same shard. Readers keep the FIRST
 * occurrence of each eventId in time order, and verify reports later copies as
 * benign duplicates: nothing is lost, nothing counted twice.
 *
 * The pre-shard ledger (`LEDGER#<p>`, one chain, no `shard`/`ord`) is read as the
 * legacy chain, before every shard; nothing is appended to it any more. Nothing but
 * this module reads or writes ledger items.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  type ChainedLedgerEvent,
  GENESIS_HASH,
  LEDGER_SHARDS,
  LEGACY_CHAIN,
  LedgerEvent,
  type LedgerFrontier,
  type RawChainItem,
  type RawKeyItem,
  chainEvent,
  chainOf,
  compareLedgerOrder,
  firstOccurrences,
  frontierOf,
  mergeLedgerChains,
  shardLabel,
  shardOf,
} from '../domain/index.js';
import { isConditionFailure } from './dynamo-items.js';
import { queryAll } from './dynamo-query.js';

const SEQ_WIDTH = 12;
const SEQ_PREFIX = 'SEQ#';
const KEY_PREFIX = 'KEY#';
const seqKey = (seq: number) => `${SEQ_PREFIX}${String(seq).padStart(SEQ_WIDTH, '0')}`;

/** Every chain of a program: the legacy one, then the shards. */
const CHAINS = [LEGACY_CHAIN, ...Array.from({ length: LEDGER_SHARDS }, (_, s) => shardLabel(s))];

export const ledgerKeys = {
  /** The shard an event is appended to. */
  shardOf: (eventId: string) => shardOf(eventId, LEDGER_SHARDS),
  /** A chain's partition: a shard's (`00`…`07`), or the legacy single partition. */
  partition: (programId: string, chain: string) => (chain === LEGACY_CHAIN ? `LEDGER#${programId}` : `LEDGER#${programId}#${chain}`),
  /** The event item at `seq` of a chain (a shard number, or the legacy chain when undefined). */
  event: (programId: string, seq: number, shard?: number) => ({
    pk: ledgerKeys.partition(programId, shard === undefined ? LEGACY_CHAIN : shardLabel(shard)),
    sk: seqKey(seq),
  }),
  /** The key item of an event, in its shard (`legacy`: in the pre-shard partition). */
  key: (programId: string, eventId: string, legacy = false) => ({
    pk: ledgerKeys.partition(programId, legacy ? LEGACY_CHAIN : shardLabel(ledgerKeys.shardOf(eventId))),
    sk: `${KEY_PREFIX}${eventId}`,
  }),
};

/** The envelope every stored ledger item has; the rest is checked by the reader that needs it. */
const StoredItem = z.looseObject({ pk: z.string(), sk: z.string() });
const SeqKey = z.string().regex(new RegExp(`^${SEQ_PREFIX}\\d{${SEQ_WIDTH}}$`));
const Head = z.looseObject({ sk: SeqKey, hash: z.string().catch(''), ord: z.number().catch(0) });
const KeyItem = z.object({ seq: z.number().int().positive() });

/** Conflicts before an append gives up: each retry means another append won the seq, so progress is made. */
const MAX_ATTEMPTS = 200;

const body = (item: Record<string, unknown>): Record<string, unknown> => {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest;
};

const ChainFields = z.object({
  seq: z.number().int().positive(),
  prevHash: z.string(),
  hash: z.string(),
  shard: z.number().int().min(0).optional(),
  ord: z.number().optional(),
});

/** A stored event as the domain's type: parsed by the event schema, chain fields kept. */
function toChained(item: Record<string, unknown>): ChainedLedgerEvent {
  const { seq, prevHash, hash, shard, ord, ...event } = body(item);
  const chain = ChainFields.parse({ seq, prevHash, hash, shard, ord });
  return { ...LedgerEvent.parse(event), ...chain } as ChainedLedgerEvent;
}

export interface LedgerPage {
  items: ChainedLedgerEvent[];
  /** Where the next page starts (the last seq read per chain), when more events may follow. */
  next?: LedgerFrontier;
}

export class DynamoLedger {
  /** The last head seen per program and shard (a hint, checked by the conditional put). */
  private readonly heads = new Map<string, { seq: number; hash: string; ord: number }>();
  /** Whether a program has a pre-shard ledger (it never gains one: nothing writes it any more). */
  private readonly legacy = new Map<string, Promise<boolean>>();
  /** The hybrid logical clock behind `ord` (µs): never behind anything this instance read or wrote. */
  private clock = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((res) => setTimeout(res, ms)),
    // Wall-clock microseconds at sub-millisecond resolution: appends one after another in a process never tie.
    private readonly wallMicros: () => number = () => Math.floor((performance.timeOrigin + performance.now()) * 1000),
  ) {}

  async append(e: LedgerEvent): Promise<'appended' | 'duplicate'> {
    const shard = ledgerKeys.shardOf(e.eventId);
    const key = ledgerKeys.key(e.programId, e.eventId);
    if (await this.get(key)) return 'duplicate';
    if ((await this.hasLegacy(e.programId)) && (await this.get(ledgerKeys.key(e.programId, e.eventId, true)))) return 'duplicate';
    const hint = `${e.programId}#${shard}`;
    let stored: ChainedLedgerEvent | undefined;
    for (let attempt = 0; !stored; attempt++) {
      // The last head this instance saw is a hint (a warm Lambda appends to the same program again): the
      // conditional put refuses it when it is stale, and the head is then read. Stored events never change,
      // so a put that succeeds after the hinted event links to its real predecessor.
      const head = (attempt === 0 && this.heads.get(hint)) || (await this.head(e.programId, shard));
      const next = chainEvent(e, head.seq + 1, head.hash, { shard, ord: this.tick(head.ord) });
      if (await this.putIfAbsent({ ...ledgerKeys.event(e.programId, next.seq, shard), ...next })) stored = next;
      else if (attempt + 1 >= MAX_ATTEMPTS) {
        throw new Error(`ledger append of ${e.eventId}: seq #${next.seq} of shard ${shardLabel(shard)} taken ${MAX_ATTEMPTS} times in a row by concurrent appends`);
      } else {
        // Full jitter, capped: concurrent appenders spread out instead of colliding again.
        await this.sleep(Math.random() * Math.min(40, 2 * 2 ** Math.min(attempt, 5)));
      }
    }
    this.heads.set(hint, { seq: stored.seq, hash: stored.hash, ord: stored.ord ?? 0 });
    const created = await this.putIfAbsent({ ...key, eventId: e.eventId, seq: stored.seq, hash: stored.hash });
    return created ? 'appended' : 'duplicate';
  }

  /** The event appended under this id (through its key item), or undefined. */
  async getEvent(programId: string, eventId: string): Promise<ChainedLedgerEvent | undefined> {
    const found =
      (await this.eventThroughKey(programId, eventId, false)) ??
      ((await this.hasLegacy(programId)) ? await this.eventThroughKey(programId, eventId, true) : undefined);
    if (found) this.observe([found]);
    return found;
  }

  /** Every event in time order (legacy chain, then the shards merged by ord), each eventId once (its first occurrence). */
  async list(programId: string): Promise<ChainedLedgerEvent[]> {
    const chains = await Promise.all(
      CHAINS.map((c) =>
        this.queryAll({
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': ledgerKeys.partition(programId, c), ':p': SEQ_PREFIX },
          ConsistentRead: true,
        }),
      ),
    );
    const events = mergeLedgerChains(chains.map((items) => items.map(toChained)));
    this.observe(events);
    return events;
  }

  /**
   * Up to `limit` events after the frontier `after`, in time order: each chain is
   * read from its frontier on for about limit/chains events, and only what is
   * certain is returned — events up to the earliest last-read event of a chain that
   * has more — so a page reads about `limit` events, none is skipped, and an event
   * that lands late (an earlier `ord` in a chain already read past) comes on a later
   * page rather than never. A copy of an event already on this page is dropped; a
   * retried copy whose first occurrence was on an earlier page shows again on its own page.
   */
  async page(programId: string, page: { after?: LedgerFrontier; limit: number }): Promise<LedgerPage> {
    const perChain = Math.ceil(page.limit / CHAINS.length) + 8;
    const reads = await Promise.all(
      CHAINS.map(async (c) => {
        const r = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: {
              ':pk': ledgerKeys.partition(programId, c),
              ':from': seqKey((page.after?.[c] ?? 0) + 1),
              ':to': `${SEQ_PREFIX}${'9'.repeat(SEQ_WIDTH)}`,
            },
            ConsistentRead: true,
            Limit: perChain,
          }),
        );
        const items = (r.Items ?? []).map(toChained);
        return { items, more: r.LastEvaluatedKey !== undefined && items.length > 0 };
      }),
    );
    const bounds = reads.filter((r) => r.more).map((r) => r.items.at(-1)!);
    const bound = bounds.sort(compareLedgerOrder)[0];
    const certain = reads
      .flatMap((r) => r.items)
      .filter((e) => !bound || compareLedgerOrder(e, bound) <= 0)
      .sort(compareLedgerOrder);
    const taken = certain.slice(0, page.limit);
    this.observe(taken);
    const more = bound !== undefined || certain.length > page.limit;
    return { items: firstOccurrences(taken), ...(more ? { next: frontierOf(taken, page.after) } : {}) };
  }

  /**
   * The raw items of a program's ledger for verify: each chain's event items in seq
   * order and its key items, unparsed beyond their envelope (a tampered item is reported, not thrown).
   */
  async readChain(programId: string): Promise<{ items: RawChainItem[]; keys: RawKeyItem[] }> {
    const items: RawChainItem[] = [];
    const keys: RawKeyItem[] = [];
    const all = await Promise.all(
      CHAINS.map((c) => this.queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': ledgerKeys.partition(programId, c) }, ConsistentRead: true })),
    );
    all.forEach((raws, i) => {
      const chain = CHAINS[i];
      for (const raw of raws) {
        const item = StoredItem.safeParse(raw);
        if (!item.success) continue;
        const { sk } = item.data;
        if (SeqKey.safeParse(sk).success) items.push({ chain, keySeq: Number(sk.slice(SEQ_PREFIX.length)), body: body(item.data) });
        else if (sk.startsWith(KEY_PREFIX)) keys.push({ chain, eventId: sk.slice(KEY_PREFIX.length), body: body(item.data) });
      }
    });
    return { items, keys };
  }

  private async eventThroughKey(programId: string, eventId: string, legacy: boolean): Promise<ChainedLedgerEvent | undefined> {
    const k = KeyItem.safeParse(await this.get(ledgerKeys.key(programId, eventId, legacy)));
    if (!k.success) return undefined;
    const item = await this.get(ledgerKeys.event(programId, k.data.seq, legacy ? undefined : ledgerKeys.shardOf(eventId)));
    return item && item.eventId === eventId ? toChained(item) : undefined;
  }

  /** Does the program have a pre-shard ledger? One Query per program and instance. */
  private hasLegacy(programId: string): Promise<boolean> {
    let known = this.legacy.get(programId);
    if (!known) {
      known = (async () => {
        const r = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': ledgerKeys.partition(programId, LEGACY_CHAIN) },
            ConsistentRead: true,
            Limit: 1,
          }),
        );
        return (r.Items ?? []).length > 0;
      })();
      known.catch(() => this.legacy.delete(programId));
      this.legacy.set(programId, known);
    }
    return known;
  }

  /** The next `ord`: the wall clock, but past everything seen and past the shard head's. */
  private tick(headOrd: number): number {
    this.clock = Math.max(this.wallMicros(), this.clock + 1, headOrd + 1);
    return this.clock;
  }

  /** A read moves the clock past what it saw: what is appended after reading an event is ordered after it. */
  private observe(events: readonly ChainedLedgerEvent[]): void {
    for (const e of events) if (chainOf(e) !== LEGACY_CHAIN && (e.ord ?? 0) > this.clock) this.clock = e.ord ?? 0;
  }

  /** A shard's last event: seq, hash and ord (seq 0 and the genesis hash for an empty shard). */
  private async head(programId: string, shard: number): Promise<{ seq: number; hash: string; ord: number }> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': ledgerKeys.partition(programId, shardLabel(shard)), ':p': SEQ_PREFIX },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: 1,
      }),
    );
    const top = Head.safeParse(r.Items?.[0]);
    if (!top.success) return { seq: 0, hash: GENESIS_HASH, ord: 0 };
    return { seq: Number(top.data.sk.slice(SEQ_PREFIX.length)), hash: top.data.hash, ord: top.data.ord };
  }

  private async get(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
    return (await this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }))).Item;
  }

  private async putIfAbsent(item: Record<string, unknown>): Promise<boolean> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  private queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Record<string, unknown>[]> {
    return queryAll(this.doc, this.table, input);
  }
}
