/**
 * The case items of a program on the single table, sharded so that no key takes
 * a round's writes alone (docs/data-model.md, "Keys that scale"):
 * - the case at pk `PROGRAM#<p>#CASES#<shard>`, sk `CASE#<caseId>`, shard =
 *   shardOf(caseId, CASE_SHARDS): a GetItem by id finds it at once;
 * - while it is pending, its entry in gsi1 at `CASESTATE#<p>#pending#<shard>` /
 *   `CASE#<caseId>`, set by the same single-item write that sets `state` (no second
 *   item, so nothing to keep in step after a crash): the pending cases of a program
 *   are read without reading the others. The index is sparse: a write that moves a
 *   case out of pending REMOVEs its gsi1 keys (one index delete; an index entry per
 *   state moved on every change, a delete and a put), one that returns it to pending
 *   sets them. Items written before that carry gsi1 under `assigned`/`labelled`
 *   keys: no reader queries those, and the case's next state write drops them.
 * Before the shards, cases lived at `PROGRAM#<p>` / `CASE#<caseId>` with no index
 * keys: {@link DynamoCases.migrateLegacy} moves them (idempotent, crash-safe).
 */
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { CASE_SHARDS, Case, type CaseAssignment, Identifier, type QuarantineRelease, shardLabel, shardOf } from '../domain/index.js';
import type { Page, PageKey, PageRequest, RequeueOptions } from '../use-cases/ports.js';
import { InvalidInputError } from '../use-cases/errors.js';
import { isConditionFailure } from './dynamo-items.js';
import { queryAll } from './dynamo-query.js';

/** A case's work state: pending (to plan), assigned (in a batch), labelled (accepted). */
export type CaseWorkState = 'pending' | 'assigned' | 'labelled';
/** The one state the case-state index holds: what round planning reads. */
export type IndexedCaseState = 'pending';
const isIndexed = (state: string): state is IndexedCaseState => state === 'pending';
export type StoredCase = Case & { goldPool: boolean; state: string; batchId?: string };

const shardPk = (programId: string, shard: number) => `PROGRAM#${programId}#CASES#${shardLabel(shard)}`;
const statePk = (programId: string, state: string, shard: number) => `CASESTATE#${programId}#${state}#${shardLabel(shard)}`;

export const caseKeys = {
  item: (programId: string, caseId: string) => ({ pk: shardPk(programId, shardOf(caseId, CASE_SHARDS)), sk: `CASE#${caseId}` }),
  /** gsi1 keys of a case in `state` (only a pending case carries them: the index is sparse). */
  state: (programId: string, caseId: string, state: IndexedCaseState) => ({
    gsi1pk: statePk(programId, state, shardOf(caseId, CASE_SHARDS)),
    gsi1sk: `CASE#${caseId}`,
  }),
  /** The partition every case lived in before the shards. */
  legacy: (programId: string, caseId: string) => ({ pk: `PROGRAM#${programId}`, sk: `CASE#${caseId}` }),
};

/** A page cursor of {@link DynamoCases.listByState}: the last case id returned. */
const StateCursor = z.strictObject({ caseId: Identifier });

/** A stored case item as the domain's Case, with its work state. */
export function caseFromItem(i: Record<string, unknown>): StoredCase {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, excludedWorkforceSet, ...rest } = i;
  const excludedWorkforces = excludedWorkforceSet instanceof Set ? [...(excludedWorkforceSet as Set<string>)].sort() : [];
  return {
    ...Case.parse({ ...rest, excludedWorkforces }),
    goldPool: rest.goldPool === true,
    state: String(rest.state),
    ...(typeof rest.batchId === 'string' ? { batchId: rest.batchId } : {}),
  };
}

const byCaseId = (a: StoredCase, b: StoredCase) => (a.caseId < b.caseId ? -1 : a.caseId > b.caseId ? 1 : 0);

/**
 * The update expression of a write that sets `state` (`:s`) and `set`: a pending case
 * gets its index keys with it (`:gsi1pk`/`:gsi1sk`, computed per case), any other
 * state drops them (REMOVE of absent attributes is a no-op); `add` is an ADD clause.
 */
function stateUpdate(state: CaseWorkState, set: readonly string[], add?: string): string {
  const assignments = ['#s = :s', ...(isIndexed(state) ? ['gsi1pk = :gsi1pk', 'gsi1sk = :gsi1sk'] : []), ...set].join(', ');
  return `SET ${assignments}${isIndexed(state) ? '' : ' REMOVE gsi1pk, gsi1sk'}${add ? ` ADD ${add}` : ''}`;
}

export class DynamoCases {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** New cases only: an existing case keeps its state, batch and exclusions (a repeated ingest changes nothing). */
  async put(programId: string, cases: readonly (Case & { goldPool: boolean })[]): Promise<void> {
    const existing = await this.existing(programId, cases.map((c) => c.caseId));
    const fresh = cases.filter((c) => !existing.has(c.caseId));
    await this.batchWrite(
      fresh.map(({ excludedWorkforces, ...c }) => ({
        PutRequest: {
          Item: {
            ...caseKeys.item(programId, c.caseId),
            ...caseKeys.state(programId, c.caseId, 'pending'),
            ...c,
            // A string set: adding the same workforce twice (a retried requeue) counts once.
            ...(excludedWorkforces.length ? { excludedWorkforceSet: new Set(excludedWorkforces) } : {}),
            state: 'pending',
          },
        },
      })),
    );
  }

  /** Every case of a program, by case id (one Query per shard). */
  async list(programId: string): Promise<StoredCase[]> {
    const shards = await Promise.all(
      Array.from({ length: CASE_SHARDS }, (_, s) =>
        this.queryAll({
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': shardPk(programId, s), ':p': 'CASE#' },
          ConsistentRead: true,
        }),
      ),
    );
    return shards.flat().map(caseFromItem).sort(byCaseId);
  }

  /**
   * One page of the cases in `state` (pending: the only state indexed), in case-id order, from the N index shards:
   * each shard is read from the cursor on (`gsi1sk > CASE#<after>`) for about
   * limit/N items, and the merge keeps only what is certain — items up to the
   * smallest last id of a shard that has more — so no case is skipped or repeated
   * and a page reads about `limit` items, not N × limit. `next` (the last case id)
   * is absent on the last page. The index is eventually consistent: a case whose
   * state changed a moment ago may still be listed under its old state, so a
   * reader that acts on it does so with a conditional write (as assignCases does).
   * Only cases whose item says `state` are returned (the key already implies it: every
   * write that sets a pending key sets `state` with it).
   *
   * @example const { items, next } = await cases.listByState('demo-cxr', 'pending', { limit: 1000 })
   */
  async listByState(programId: string, state: IndexedCaseState, page: PageRequest): Promise<Page<StoredCase>> {
    if (!isIndexed(state)) throw new InvalidInputError(`cases are listed by state only while pending (the index holds no '${state}' cases)`);
    if (!Number.isInteger(page.limit) || page.limit < 1) throw new InvalidInputError(`limit must be a positive integer, got ${page.limit}`);
    let after: string | undefined;
    if (page.after !== undefined) {
      const c = StateCursor.safeParse(page.after);
      if (!c.success) throw new InvalidInputError('the cursor does not belong to this listing');
      after = c.data.caseId;
    }
    const perShard = Math.ceil(page.limit / CASE_SHARDS) + 8;
    const reads = await Promise.all(
      Array.from({ length: CASE_SHARDS }, async (_, s) => {
        const r = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: 'gsi1',
            KeyConditionExpression: after === undefined ? 'gsi1pk = :pk AND begins_with(gsi1sk, :p)' : 'gsi1pk = :pk AND gsi1sk > :after',
            ExpressionAttributeValues: { ':pk': statePk(programId, state, s), ...(after === undefined ? { ':p': 'CASE#' } : { ':after': `CASE#${after}` }) },
            Limit: perShard,
          }),
        );
        const items = (r.Items ?? []).map(caseFromItem);
        return { items, more: r.LastEvaluatedKey !== undefined && items.length > 0 };
      }),
    );
    // Certain up to the smallest last id among shards that have more: beyond it, a shard may hold smaller ids unread.
    const bounds = reads.filter((r) => r.more).map((r) => r.items.at(-1)!.caseId);
    const bound = bounds.sort()[0];
    const merged = reads
      .flatMap((r) => r.items)
      .filter((c) => c.state === state && (bound === undefined || c.caseId <= bound))
      .sort(byCaseId);
    const items = merged.slice(0, page.limit);
    const more = bound !== undefined || merged.length > page.limit;
    return { items, ...(more && items.length ? { next: { caseId: items.at(-1)!.caseId } satisfies PageKey } : {}) };
  }

  async get(programId: string, caseId: string): Promise<StoredCase | undefined> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: caseKeys.item(programId, caseId), ConsistentRead: true }));
    return r.Item && caseFromItem(r.Item);
  }

  replaceImage(programId: string, caseId: string, set: { from: string; imageKey: string; deidentificationFindings: string[] }) {
    return this.conditionalUpdate(programId, caseId, {
      UpdateExpression: 'SET imageKey = :to, deidentificationFindings = :f REMOVE quarantineRelease',
      ConditionExpression: 'attribute_exists(pk) AND #s = :pending AND imageKey = :from',
      ExpressionAttributeNames: { '#s': 'state' },
      ExpressionAttributeValues: { ':to': set.imageKey, ':f': set.deidentificationFindings, ':pending': 'pending', ':from': set.from },
    });
  }

  release(programId: string, caseId: string, release: QuarantineRelease) {
    return this.conditionalUpdate(programId, caseId, {
      UpdateExpression: 'SET quarantineRelease = :r',
      ConditionExpression: 'attribute_exists(pk) AND #s = :pending AND imageKey = :image',
      ExpressionAttributeNames: { '#s': 'state' },
      ExpressionAttributeValues: { ':r': release, ':pending': 'pending', ':image': release.imageKey },
    });
  }

  /** A PM's override of the shares, on a pending case only. */
  setAssignment(programId: string, caseId: string, assignment: CaseAssignment) {
    return this.conditionalUpdate(programId, caseId, {
      UpdateExpression: 'SET assignment = :a',
      ConditionExpression: 'attribute_exists(pk) AND #s = :pending',
      ExpressionAttributeNames: { '#s': 'state' },
      ExpressionAttributeValues: { ':a': assignment, ':pending': 'pending' },
    });
  }

  /** pending → assigned to `batchId` (a case no longer pending is left as it is). */
  assign(programId: string, caseIds: readonly string[], batchId: string): Promise<void> {
    return this.updateEach(programId, caseIds, 'assigned', {
      UpdateExpression: stateUpdate('assigned', ['batchId = :b']),
      ConditionExpression: 'attribute_exists(pk) AND #s = :pending',
      ExpressionAttributeNames: { '#s': 'state' },
      ExpressionAttributeValues: { ':pending': 'pending', ':b': batchId },
    });
  }

  /**
   * assigned to `batchId` → pending, optionally excluding a workforce (a case moved on is left as it is);
   * a case `handOver` names stays assigned, to the batch holding its overlap second copy.
   */
  async requeue(programId: string, caseIds: readonly string[], opts: RequeueOptions): Promise<void> {
    const handOver = opts.handOver ?? [];
    for (const to of new Set(handOver.map((h) => h.batchId))) {
      const ids = handOver.filter((h) => h.batchId === to).map((h) => h.caseId);
      await this.updateEach(programId, ids, 'assigned', {
        UpdateExpression: stateUpdate('assigned', ['batchId = :to'], opts.exclude ? 'excludedWorkforceSet :w' : undefined),
        ConditionExpression: 'attribute_exists(pk) AND #s = :assigned AND batchId = :b',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':assigned': 'assigned', ':b': opts.batchId, ':to': to, ...(opts.exclude ? { ':w': new Set([opts.exclude]) } : {}) },
      });
    }
    const handed = new Set(handOver.map((h) => h.caseId));
    const rest = handed.size ? caseIds.filter((id) => !handed.has(id)) : caseIds;
    return this.updateEach(programId, rest, 'pending', {
      UpdateExpression: stateUpdate('pending', [], opts.exclude ? 'excludedWorkforceSet :w' : undefined),
      ConditionExpression: 'attribute_exists(pk) AND #s = :assigned AND batchId = :b',
      ExpressionAttributeNames: { '#s': 'state' },
      ExpressionAttributeValues: { ':assigned': 'assigned', ':b': opts.batchId, ...(opts.exclude ? { ':w': new Set([opts.exclude]) } : {}) },
    });
  }

  /** Unconditional: the state and batch a decision set (finalize, adjudication). */
  setState(programId: string, caseIds: readonly string[], state: CaseWorkState, batchId: string): Promise<void> {
    return this.updateEach(programId, caseIds, state, {
      UpdateExpression: stateUpdate(state, ['batchId = :b']),
      ExpressionAttributeNames: { '#s': 'state' },
      ExpressionAttributeValues: { ':b': batchId },
    });
  }

  /**
   * Moves the program's cases from the pre-shard partition (`PROGRAM#<p>` /
   * `CASE#<id>`) to their shard, a pending one with its index keys: conditional put of each,
   * then delete of the old item. Idempotent and crash-safe — a case already moved
   * is not overwritten (its newer state wins) and its old copy is deleted; a crash
   * between the two writes leaves an old copy the next run deletes. Run it before
   * the program is used again (the embedded stack runs it at start for every program
   * in the registry; in AWS, once per program after the deploy). Returns how many
   * old items it found.
   */
  async migrateLegacy(programId: string): Promise<number> {
    const old = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': `PROGRAM#${programId}`, ':p': 'CASE#' },
      ConsistentRead: true,
    });
    for (const item of old) {
      const caseId = String(item.caseId);
      const state = typeof item.state === 'string' ? item.state : 'pending';
      const { pk: _pk, sk: _sk, ...rest } = item;
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...rest, ...caseKeys.item(programId, caseId), ...(isIndexed(state) ? caseKeys.state(programId, caseId, state) : {}) },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
      await this.doc.send(new DeleteCommand({ TableName: this.table, Key: caseKeys.legacy(programId, caseId) }));
    }
    return old.length;
  }

  /** The ids among `caseIds` that are stored (BatchGetItem, 100 keys a request). */
  async existing(programId: string, caseIds: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const ids = [...new Set(caseIds)];
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Record<string, unknown>[] = ids.slice(i, i + 100).map((id) => caseKeys.item(programId, id));
      for (let attempt = 0; keys.length > 0; attempt++) {
        const r = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true, ProjectionExpression: 'caseId' } } }),
        );
        for (const item of r.Responses?.[this.table] ?? []) found.add(String(item.caseId));
        keys = (r.UnprocessedKeys?.[this.table]?.Keys ?? []) as Record<string, unknown>[];
        if (keys.length > 0) await this.backoff(attempt, `BatchGet left ${keys.length} keys`);
      }
    }
    return found;
  }

  /** One conditional case update; false when its condition does not hold. */
  private async conditionalUpdate(programId: string, caseId: string, update: Omit<UpdateCommandInput, 'TableName' | 'Key'>) {
    try {
      await this.doc.send(new UpdateCommand({ ...update, TableName: this.table, Key: caseKeys.item(programId, caseId) }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /**
   * The update for each id, 16 in flight (dynalite serves ~1,500 writes/s at 32), with
   * its own index keys when `state` is indexed; a failed condition means "leave it".
   */
  private async updateEach(programId: string, caseIds: readonly string[], state: CaseWorkState, update: Omit<UpdateCommandInput, 'TableName' | 'Key'>) {
    const queue = caseIds.slice();
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const index = isIndexed(state) ? caseKeys.state(programId, id, state) : undefined;
        try {
          await this.doc.send(
            new UpdateCommand({
              ...update,
              TableName: this.table,
              Key: caseKeys.item(programId, id),
              ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':s': state, ...(index ? { ':gsi1pk': index.gsi1pk, ':gsi1sk': index.gsi1sk } : {}) },
            }),
          );
        } catch (e) {
          if (!isConditionFailure(e)) throw e;
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
  }

  private async batchWrite(requests: { PutRequest: { Item: Record<string, unknown> } }[]): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      let pending = requests.slice(i, i + 25);
      for (let attempt = 0; pending.length > 0; attempt++) {
        const r = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
        pending = (r.UnprocessedItems?.[this.table] ?? []) as typeof pending;
        if (pending.length > 0) await this.backoff(attempt, `BatchWrite left ${pending.length} items`);
      }
    }
  }

  private async backoff(attempt: number, what: string): Promise<void> {
    if (attempt >= 8) throw new Error(`${what} unprocessed after retries`);
    await new Promise((res) => setTimeout(res, Math.random() * 50 * 2 ** attempt));
  }

  private queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Record<string, unknown>[]> {
    return queryAll(this.doc, this.table, input);
  }
}
