/**
 * Round records on the single table, for a round of any size (docs/scale.md,
 * "Rounds of any size"). The round item holds what does not grow with the round;
 * the ids that do live in items of their own, in the round's own partition:
 * - the round at pk `PROGRAM#<p>`, sk `ROUND#<round>`: protocol, creation time,
 *   the chunks' SHA-256s, `batchCount` and `idItems` (how many id items it has);
 * - its batch ids, in plan order, `ROUND_IDS_PER_ITEM` an item at pk
 *   `PROGRAM#<p>#ROUND#<round>`, sk `BATCHES#<i>`;
 * - its settle groups there, sk `GROUP#<k>`: the round's batch ids hashed into
 *   `settleBuckets` buckets of about `SETTLE_GROUP_SIZE`, each item holding the
 *   ids it expects (`expect`) and those settled so far (`settled`, a string set);
 *   the round item counts the groups whose every batch settled
 *   (`settledGroups`, a number set, against `settleGroups`).
 * A settle is constant-size whatever the round: an ADD to its group (refused
 * for an id the group does not expect), and, when that completes the group, an
 * ADD to the round item — each atomic and idempotent, each returning the set it
 * leaves, so of two batches settling at once the later sees both. Before this
 * (session 5), each settle wrote `SETTLED#<batchId>` and read the round's whole
 * partition back: 1,669 settles of a 100,000-case round read ~570 MB.
 * Before that, the round item listed every batch id and settled batch id
 * (`batchIds`, `settledBatchIds`): about 6,500 batches filled DynamoDB's 400 KB,
 * and each settle rewrote the whole item (its write units grew with the round).
 * Rounds recorded either earlier way are read and settled as they were
 * (`SETTLED#` items joined with any settled set; nothing is rewritten).
 *
 * Commit point: the id items and settle-group items are written first, the
 * round item last (conditional), so a round item found always has all of them; a
 * crash between them leaves items the retry writes again, identical (the plan is
 * fixed by `round.planned` before the round record is created).
 */
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../use-cases/errors.js';
import type { RoundRecord } from '../use-cases/ports.js';
import { getItem, isConditionFailure, putIfAbsent } from './dynamo-items.js';
import { queryAll } from './dynamo-query.js';

/** Batch ids per id item: ≤ 250 × ~150-byte ids (two 64-character identifiers and the round) stays far below 400 KB. */
export const ROUND_IDS_PER_ITEM = 250;
/** Batches per settle group, on average: a group item stays a few KB (a few write units per settle). */
export const SETTLE_GROUP_SIZE = 16;

/** The settle bucket of a batch id among `buckets` (stable: the first 4 bytes of its SHA-256). */
export const settleBucketOf = (batchId: string, buckets: number): number => createHash('sha256').update(batchId).digest().readUInt32BE(0) % buckets;

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

export const roundKeys = {
  round: (programId: string, round: number) => ({ pk: `PROGRAM#${programId}`, sk: `ROUND#${pad(round, 4)}` }),
  /** The partition of a round's id items and settled marks. */
  ids: (programId: string, round: number) => `PROGRAM#${programId}#ROUND#${pad(round, 4)}`,
  batches: (programId: string, round: number, i: number) => ({ pk: roundKeys.ids(programId, round), sk: `BATCHES#${pad(i, 6)}` }),
  settled: (programId: string, round: number, batchId: string) => ({ pk: roundKeys.ids(programId, round), sk: `SETTLED#${batchId}` }),
  group: (programId: string, round: number, k: number) => ({ pk: roundKeys.ids(programId, round), sk: `GROUP#${pad(k, 6)}` }),
};

/** The size of a set attribute as the document client returns it (absent: 0). */
const sizeOf = (v: unknown): number => (v instanceof Set ? v.size : 0);

export class DynamoRounds {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly idsPerItem = ROUND_IDS_PER_ITEM,
  ) {}

  /** The round's id items, then (conditional) its round item: `exists` when the round was created before, its ids untouched. */
  async create(r: RoundRecord): Promise<'created' | 'exists'> {
    if (await this.item(r.programId, r.round)) return 'exists';
    const idItems = Math.ceil(r.batchIds.length / this.idsPerItem);
    for (let i = 0; i < idItems; i++) {
      const batchIds = r.batchIds.slice(i * this.idsPerItem, (i + 1) * this.idsPerItem);
      await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...roundKeys.batches(r.programId, r.round, i), batchIds } }));
    }
    const settleBuckets = Math.max(1, Math.ceil(r.batchIds.length / SETTLE_GROUP_SIZE));
    const groups = new Map<number, string[]>();
    for (const id of r.batchIds) {
      const k = settleBucketOf(id, settleBuckets);
      const ids = groups.get(k) ?? [];
      ids.push(id);
      groups.set(k, ids);
    }
    // Written before the round item (the commit point): no settle reaches a group before its round exists.
    for (const [k, ids] of groups) {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...roundKeys.group(r.programId, r.round, k), expect: new Set(ids) } }));
    }
    return putIfAbsent(this.doc, this.table, {
      ...roundKeys.round(r.programId, r.round),
      programId: r.programId,
      protocolId: r.protocolId,
      round: r.round,
      createdAt: r.createdAt,
      ...(r.chunkSha256s ? { chunkSha256s: r.chunkSha256s } : {}),
      batchCount: r.batchIds.length,
      idItems,
      settleBuckets,
      settleGroups: groups.size,
    });
  }

  async get(programId: string, round: number): Promise<RoundRecord | undefined> {
    const item = await this.item(programId, round);
    return item && this.assemble(item);
  }

  /** Every round of a program, oldest first: the round items, then each round's ids. */
  async list(programId: string): Promise<RoundRecord[]> {
    const items = await queryAll(this.doc, this.table, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': `PROGRAM#${programId}`, ':p': 'ROUND#' },
      ConsistentRead: true,
    });
    const out: RoundRecord[] = [];
    for (const item of items) out.push(await this.assemble(item));
    return out;
  }

  /**
   * Marks a batch settled; `roundComplete` when every batch of the round is.
   * Idempotent, and constant-size for a round recorded with settle groups: the
   * mark is an atomic ADD that returns the group as it leaves it, so of two
   * batches settling at once at least the later sees both (rebalance's
   * round-end work is idempotent). A crash between the group's ADD and the
   * round item's is repaired by the retry, which finds the group complete.
   */
  async markSettled(programId: string, round: number, batchId: string): Promise<{ roundComplete: boolean }> {
    const item = await this.item(programId, round);
    if (!item) throw new NotFoundError(`round ${round} of program ${programId} has no round record`);
    if (typeof item.settleBuckets !== 'number') {
      // A round recorded before settle groups: one item per settled batch, then the whole round read back.
      await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...roundKeys.settled(programId, round, batchId), batchId } }));
      const r = await this.assemble(item);
      const settled = new Set(r.settledBatchIds);
      return { roundComplete: r.batchIds.every((id) => settled.has(id)) };
    }
    const k = settleBucketOf(batchId, item.settleBuckets);
    let group: Record<string, unknown> | undefined;
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: roundKeys.group(programId, round, k),
          UpdateExpression: 'ADD settled :id',
          ConditionExpression: 'contains(expect, :batchId)',
          ExpressionAttributeValues: { ':id': new Set([batchId]), ':batchId': batchId },
          ReturnValues: 'ALL_NEW',
        }),
      );
      group = out.Attributes;
    } catch (e) {
      if (isConditionFailure(e)) throw new NotFoundError(`batch ${batchId} is not in round ${round} of program ${programId}`);
      throw e;
    }
    if (sizeOf(group?.settled) < sizeOf(group?.expect)) return { roundComplete: false };
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: roundKeys.round(programId, round),
        UpdateExpression: 'ADD settledGroups :k',
        ExpressionAttributeValues: { ':k': new Set([k]) },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return { roundComplete: sizeOf(out.Attributes?.settledGroups) >= Number(item.settleGroups) };
  }

  private item(programId: string, round: number): Promise<Record<string, unknown> | undefined> {
    return getItem(this.doc, this.table, roundKeys.round(programId, round));
  }

  /** The round record from its item and its partition's id items and settled marks (either way of recording them). */
  private async assemble(item: Record<string, unknown>): Promise<RoundRecord> {
    const programId = String(item.programId);
    const round = Number(item.round);
    const rows = await queryAll(this.doc, this.table, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': roundKeys.ids(programId, round) },
      ConsistentRead: true,
    });
    const idRows = rows.filter((x) => String(x.sk).startsWith('BATCHES#'));
    const settled = new Set(rows.filter((x) => String(x.sk).startsWith('SETTLED#')).map((x) => String(x.batchId)));
    for (const g of rows.filter((x) => String(x.sk).startsWith('GROUP#'))) if (g.settled instanceof Set) for (const id of g.settled as Set<string>) settled.add(id);
    let batchIds: string[];
    if (Array.isArray(item.batchIds)) {
      // Recorded before the id items: the ids and settled set on the round item itself.
      batchIds = item.batchIds.map(String);
      if (item.settledBatchIds instanceof Set) for (const id of item.settledBatchIds as Set<string>) settled.add(id);
    } else {
      // Query returns the id items in sort-key order: the plan's order.
      batchIds = idRows.flatMap((x) => (x.batchIds as unknown[]).map(String));
      if (idRows.length !== Number(item.idItems) || batchIds.length !== Number(item.batchCount)) {
        throw new Error(
          `round ${round} of program ${programId}: ${batchIds.length} batch ids in ${idRows.length} id items, its record names ${item.batchCount} in ${item.idItems}`,
        );
      }
    }
    return {
      programId,
      protocolId: String(item.protocolId),
      round,
      batchIds,
      settledBatchIds: [...settled].sort(),
      createdAt: String(item.createdAt),
      ...(Array.isArray(item.chunkSha256s) ? { chunkSha256s: item.chunkSha256s.map(String) } : {}),
    };
  }
}
