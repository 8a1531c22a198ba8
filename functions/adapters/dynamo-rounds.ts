/**
 * Round records on the single table, for a round of any size (docs/scale.md,
 * "Rounds of any size"). The round item holds what does not grow with the round;
 * the ids that do live in items of their own, in the round's own partition:
 * - the round at pk `PROGRAM#<p>`, sk `ROUND#<round>`: protocol, creation time,
 *   the chunks' SHA-256s, `batchCount` and `idItems` (how many id items it has);
 * - its batch ids, in plan order, `ROUND_IDS_PER_ITEM` an item at pk
 *   `PROGRAM#<p>#ROUND#<round>`, sk `BATCHES#<i>`;
 * - one item per settled batch there, sk `SETTLED#<batchId>` (a put: settling
 *   twice is one item).
 * Before this, the round item listed every batch id and settled batch id
 * (`batchIds`, `settledBatchIds`): about 6,500 batches filled DynamoDB's 400 KB,
 * and each settle rewrote the whole item (its write units grew with the round).
 * Such a round is read as it is, its ids and settled set joined with any
 * `SETTLED#` items a later settle wrote (read both; nothing is rewritten).
 *
 * Commit point: the id items are written first, the round item last
 * (conditional), so a round item found always has all its id items; a crash
 * between them leaves id items the retry writes again, identical (the plan is
 * fixed by `round.planned` before the round record is created).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../use-cases/errors.js';
import type { RoundRecord } from '../use-cases/ports.js';
import { queryAll } from './dynamo-query.js';

/** Batch ids per id item: ≤ 250 × ~150-byte ids (two 64-character identifiers and the round) stays far below 400 KB. */
export const ROUND_IDS_PER_ITEM = 250;

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

export const roundKeys = {
  round: (programId: string, round: number) => ({ pk: `PROGRAM#${programId}`, sk: `ROUND#${pad(round, 4)}` }),
  /** The partition of a round's id items and settled marks. */
  ids: (programId: string, round: number) => `PROGRAM#${programId}#ROUND#${pad(round, 4)}`,
  batches: (programId: string, round: number, i: number) => ({ pk: roundKeys.ids(programId, round), sk: `BATCHES#${pad(i, 6)}` }),
  settled: (programId: string, round: number, batchId: string) => ({ pk: roundKeys.ids(programId, round), sk: `SETTLED#${batchId}` }),
};

const isConditionFailure = (e: unknown): boolean =>
  e instanceof ConditionalCheckFailedException || (e as { name?: string })?.name === 'ConditionalCheckFailedException';

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
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...roundKeys.round(r.programId, r.round),
            programId: r.programId,
            protocolId: r.protocolId,
            round: r.round,
            createdAt: r.createdAt,
            ...(r.chunkSha256s ? { chunkSha256s: r.chunkSha256s } : {}),
            batchCount: r.batchIds.length,
            idItems,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'created';
    } catch (e) {
      if (isConditionFailure(e)) return 'exists';
      throw e;
    }
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
   * Marks a batch settled and returns the round as it stands after the mark: the
   * mark is written before the round is read, so of two batches settling at once
   * at least the later reader sees both (rebalance's round-end work is idempotent).
   */
  async markSettled(programId: string, round: number, batchId: string): Promise<RoundRecord> {
    if (!(await this.item(programId, round))) throw new NotFoundError(`round ${round} of program ${programId} has no round record`);
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...roundKeys.settled(programId, round, batchId), batchId } }));
    const r = await this.get(programId, round);
    if (!r) throw new NotFoundError(`round ${round} of program ${programId} has no round record`);
    return r;
  }

  private async item(programId: string, round: number): Promise<Record<string, unknown> | undefined> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: roundKeys.round(programId, round), ConsistentRead: true }));
    return r.Item;
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
