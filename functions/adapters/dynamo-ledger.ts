/**
 * The ledger's storage on the single table, hash-chained per program
 * (functions/domain/ledger-chain.ts). Two kinds of item under `LEDGER#<p>`:
 * - the event at `SEQ#<12-digit seq>`: the event, `seq`, `prevHash`, `hash`;
 * - the key item at `KEY#<eventId>`: `{ eventId, seq, hash }`, so a repeat is found
 *   in one GetItem and deleting the last event leaves a trace.
 *
 * An append, with single-item conditional writes only (no transactions locally):
 * 1. GetItem KEY#eventId (consistent): present → 'duplicate', nothing written;
 * 2. read the head (Query SEQ# descending, Limit 1, consistent; first the head this
 *    instance last wrote, as a hint) and PutItem the event at head+1 with
 *    `attribute_not_exists`; a concurrent append took that seq → re-read the head
 *    and retry after a jittered backoff;
 * 3. PutItem KEY#eventId with `attribute_not_exists`; there already → a
 *    concurrent append of the same event won: 'duplicate'.
 * A crash between 2 and 3 leaves the event without its key item, and the retry
 * appends it again at a later seq. Readers keep the FIRST occurrence of each
 * eventId (one Query gives the order; duplicates are dropped as they are read),
 * and verify reports later copies as benign duplicates: nothing is lost, nothing
 * counted twice. Nothing but this module reads or writes ledger items.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  type ChainedLedgerEvent,
  GENESIS_HASH,
  LedgerEvent,
  type RawChainItem,
  type RawKeyItem,
  chainEvent,
  firstOccurrences,
} from '../domain/index.js';

const SEQ_WIDTH = 12;
const SEQ_PREFIX = 'SEQ#';
const KEY_PREFIX = 'KEY#';

export const ledgerKeys = {
  partition: (programId: string) => `LEDGER#${programId}`,
  event: (programId: string, seq: number) => ({ pk: `LEDGER#${programId}`, sk: `${SEQ_PREFIX}${String(seq).padStart(SEQ_WIDTH, '0')}` }),
  key: (programId: string, eventId: string) => ({ pk: `LEDGER#${programId}`, sk: `${KEY_PREFIX}${eventId}` }),
};

/** The envelope every stored ledger item has; the rest is checked by the reader that needs it. */
const StoredItem = z.looseObject({ pk: z.string(), sk: z.string() });
const SeqKey = z.string().regex(new RegExp(`^${SEQ_PREFIX}\\d{${SEQ_WIDTH}}$`));
const Head = z.looseObject({ sk: SeqKey, hash: z.string().catch('') });

/** Conflicts before an append gives up: each retry means another append won the seq, so progress is made. */
const MAX_ATTEMPTS = 200;

const isConditionFailure = (e: unknown): boolean =>
  e instanceof ConditionalCheckFailedException || (e as { name?: string })?.name === 'ConditionalCheckFailedException';

const body = (item: Record<string, unknown>): Record<string, unknown> => {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest;
};

const ChainFields = z.object({ seq: z.number().int().positive(), prevHash: z.string(), hash: z.string() });

/** A stored event as the domain's type: parsed by the event schema, chain fields kept. */
function toChained(item: Record<string, unknown>): ChainedLedgerEvent {
  const { seq, prevHash, hash, ...event } = body(item);
  const chain = ChainFields.parse({ seq, prevHash, hash });
  return { ...LedgerEvent.parse(event), ...chain } as ChainedLedgerEvent;
}

export interface LedgerPage {
  items: ChainedLedgerEvent[];
  /** The last seq read, when more events may follow (continue after it). */
  lastSeq?: number;
}

export class DynamoLedger {
  /** The last head seen per program (a hint, checked by the conditional put). */
  private readonly heads = new Map<string, { seq: number; hash: string }>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((res) => setTimeout(res, ms)),
  ) {}

  async append(e: LedgerEvent): Promise<'appended' | 'duplicate'> {
    const key = ledgerKeys.key(e.programId, e.eventId);
    if (await this.get(key)) return 'duplicate';
    let stored: ChainedLedgerEvent | undefined;
    for (let attempt = 0; !stored; attempt++) {
      // The last head this instance saw is a hint (a warm Lambda appends to the same program again): the
      // conditional put refuses it when it is stale, and the head is then read. Stored events never change,
      // so a put that succeeds after the hinted event links to its real predecessor.
      const head = (attempt === 0 && this.heads.get(e.programId)) || (await this.head(e.programId));
      const next = chainEvent(e, head.seq + 1, head.hash);
      if (await this.putIfAbsent({ ...ledgerKeys.event(e.programId, next.seq), ...next })) stored = next;
      else if (attempt + 1 >= MAX_ATTEMPTS) {
        throw new Error(`ledger append of ${e.eventId}: seq #${next.seq} taken ${MAX_ATTEMPTS} times in a row by concurrent appends`);
      } else {
        // Full jitter, capped: concurrent appenders spread out instead of colliding again.
        await this.sleep(Math.random() * Math.min(40, 2 * 2 ** Math.min(attempt, 5)));
      }
    }
    this.heads.set(e.programId, { seq: stored.seq, hash: stored.hash });
    const created = await this.putIfAbsent({ ...key, eventId: e.eventId, seq: stored.seq, hash: stored.hash });
    return created ? 'appended' : 'duplicate';
  }

  /** The event appended under this id (through its key item), or undefined. */
  async getEvent(programId: string, eventId: string): Promise<ChainedLedgerEvent | undefined> {
    const k = z.object({ seq: z.number().int().positive() }).safeParse(await this.get(ledgerKeys.key(programId, eventId)));
    if (!k.success) return undefined;
    const item = await this.get(ledgerKeys.event(programId, k.data.seq));
    return item && item.eventId === eventId ? toChained(item) : undefined;
  }

  /** Every event in seq order, each eventId once (its first occurrence). */
  async list(programId: string): Promise<ChainedLedgerEvent[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': ledgerKeys.partition(programId), ':p': SEQ_PREFIX },
      ConsistentRead: true,
    });
    return firstOccurrences(items.map(toChained));
  }

  /**
   * Up to `limit` events after `afterSeq`, in seq order (one Query page). A
   * copy of an event already read on this page is dropped; a retried copy
   * whose first occurrence was on an earlier page shows again on its own page.
   */
  async page(programId: string, page: { afterSeq?: number; limit: number }): Promise<LedgerPage> {
    const from = ledgerKeys.event(programId, (page.afterSeq ?? 0) + 1).sk;
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': ledgerKeys.partition(programId), ':from': from, ':to': `${SEQ_PREFIX}${'9'.repeat(SEQ_WIDTH)}` },
        ConsistentRead: true,
        Limit: page.limit,
      }),
    );
    const items = firstOccurrences((r.Items ?? []).map(toChained));
    const last = (r.Items ?? []).at(-1);
    return { items, ...(r.LastEvaluatedKey && last ? { lastSeq: Number(String(last.sk).slice(SEQ_PREFIX.length)) } : {}) };
  }

  /**
   * The raw items of a program's ledger for verify: event items in seq order and
   * key items, unparsed beyond their envelope (a tampered item is reported, not thrown).
   */
  async readChain(programId: string): Promise<{ items: RawChainItem[]; keys: RawKeyItem[] }> {
    const all = await this.queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': ledgerKeys.partition(programId) },
      ConsistentRead: true,
    });
    const items: RawChainItem[] = [];
    const keys: RawKeyItem[] = [];
    for (const raw of all) {
      const item = StoredItem.safeParse(raw);
      if (!item.success) continue;
      const { sk } = item.data;
      if (SeqKey.safeParse(sk).success) items.push({ keySeq: Number(sk.slice(SEQ_PREFIX.length)), body: body(item.data) });
      else if (sk.startsWith(KEY_PREFIX)) keys.push({ eventId: sk.slice(KEY_PREFIX.length), body: body(item.data) });
    }
    return { items, keys };
  }

  /** The last event's seq and hash (seq 0 and the genesis hash for an empty ledger). */
  private async head(programId: string): Promise<{ seq: number; hash: string }> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': ledgerKeys.partition(programId), ':p': SEQ_PREFIX },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: 1,
      }),
    );
    const top = Head.safeParse(r.Items?.[0]);
    if (!top.success) return { seq: 0, hash: GENESIS_HASH };
    return { seq: Number(top.data.sk.slice(SEQ_PREFIX.length)), hash: top.data.hash };
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

  private async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(new QueryCommand({ ...input, TableName: this.table, ExclusiveStartKey }));
      out.push(...(r.Items ?? []));
      ExclusiveStartKey = r.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
  }
}
