/**
 * The Repository port over one DynamoDB table (single-table design; the key
 * layout and access patterns are in docs/data-model.md). No transactions: every
 * write that must happen once is a single-item conditional write on a
 * deterministic key.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  BatchScore,
  type Case,
  type CaseAssignment,
  type LedgerEvent,
  type LedgerFrontier,
  ProtocolVersion,
  type QuarantineRelease,
  Scorecard,
  Shares,
  StoredLabel,
  Submission,
  UploadSlot,
  Workforce,
} from '../domain/index.js';
import { InvalidInputError } from '../use-cases/errors.js';
import type {
  BatchRecord,
  Page,
  PageKey,
  PageRequest,
  Repository,
  RequeueOptions,
  RoundRecord,
  WorkforceTermsPatch,
} from '../use-cases/ports.js';
import { adjudicationKeys, DynamoAdjudications } from './dynamo-adjudications.js';
import { type CaseWorkState, caseKeys, DynamoCases, type IndexedCaseState } from './dynamo-cases.js';
import { getItem, isConditionFailure, putIfAbsent, strip } from './dynamo-items.js';
import { DynamoLedger } from './dynamo-ledger.js';
import { queryAll } from './dynamo-query.js';
import { DynamoRounds, roundKeys } from './dynamo-rounds.js';

const pad = (n: number, width = 6): string => String(n).padStart(width, '0');

export const keys = {
  protocol: (id: string, v: number) => ({ pk: `PROTOCOL#${id}`, sk: `V#${pad(v)}` }),
  workforce: (programId: string, id: string) => ({ pk: `PROGRAM#${programId}`, sk: `WORKFORCE#${id}` }),
  /** Sharded: the case items' keys are in dynamo-cases.ts. */
  case: caseKeys.item,
  batch: (batchId: string) => ({ pk: `BATCH#${batchId}`, sk: 'BATCH' }),
  slot: (batchId: string, uploadId: string) => ({ pk: `BATCH#${batchId}`, sk: `SLOT#${uploadId}` }),
  submission: (batchId: string, uploadId: string) => ({ pk: `BATCH#${batchId}`, sk: `SUBMISSION#${uploadId}` }),
  score: (batchId: string) => ({ pk: `BATCH#${batchId}`, sk: 'SCORE' }),
  label: (caseId: string, batchId: string) => ({ pk: `CASE#${caseId}`, sk: `LABEL#${batchId}` }),
  round: roundKeys.round,
  scorecard: (programId: string, protocolId: string, workforceId: string) => ({
    pk: `PROGRAM#${programId}`,
    sk: `SCORECARD#${protocolId}#${workforceId}`,
  }),
  adjudication: adjudicationKeys.adjudication,
  disputeRequest: adjudicationKeys.disputeRequest,
  adjudicationClaim: adjudicationKeys.claim,
  shares: (programId: string, protocolId: string, round: number) => ({
    pk: `PROGRAM#${programId}`,
    sk: `SHARES#${protocolId}#${pad(round, 4)}`,
  }),
  /** The program registry: one item per program, written with its workforces. */
  program: (programId: string) => ({ pk: 'PROGRAMS', sk: `PROGRAM#${programId}` }),
  /** A workforce's batches across programs, newest first (a pointer: the batch item holds the record). */
  workforceBatch: (workforceId: string, createdAt: string, batchId: string) => ({
    pk: `WORKFORCE#${workforceId}`,
    sk: `BATCH#${createdAt}#${batchId}`,
  }),
};

/**
 * A page's start key, checked to be one this listing itself returned: exactly
 * these attributes, strings, and `expected` where given (the partition of the
 * listing — a cursor from another workforce's listing is refused).
 */
function checkPageKey(after: PageKey | undefined, expected: Record<string, string | RegExp>): Record<string, string> | undefined {
  if (after === undefined) return undefined;
  const names = Object.keys(expected).sort();
  const given = Object.keys(after).sort();
  const ok =
    names.length === given.length &&
    names.every((n, i) => {
      const v = after[given[i]];
      const want = expected[n];
      return n === given[i] && typeof v === 'string' && (typeof want === 'string' ? v === want : want.test(v));
    });
  if (!ok) throw new InvalidInputError('the cursor does not belong to this listing');
  return after as Record<string, string>;
}

export class DynamoRepository implements Repository {
  private readonly doc: DynamoDBDocumentClient;
  /** The hash-chained ledger items (their own module: the only reader and writer of `LEDGER#` keys). */
  private readonly ledger: DynamoLedger;
  /** The case items, sharded, with their case-state index keys. */
  private readonly cases: DynamoCases;
  /** The round records, their batch ids in items of their own. */
  private readonly rounds: DynamoRounds;
  private readonly adjudications: DynamoAdjudications;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.ledger = new DynamoLedger(this.doc, table);
    this.cases = new DynamoCases(this.doc, table);
    this.rounds = new DynamoRounds(this.doc, table);
    this.adjudications = new DynamoAdjudications(this.doc, table);
  }

  private putIfAbsent(item: Record<string, unknown>): Promise<'created' | 'exists'> {
    return putIfAbsent(this.doc, this.table, item);
  }

  private get(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
    return getItem(this.doc, this.table, key);
  }

  private queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Record<string, unknown>[]> {
    return queryAll(this.doc, this.table, input);
  }

  private queryPrefix(pk: string, prefix: string) {
    return this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': pk, ':p': prefix },
      ConsistentRead: true,
    });
  }

  private async batchPut(items: Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < items.length; i += 25) {
      let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        const r = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
        pending = (r.UnprocessedItems?.[this.table] ?? []) as typeof pending;
        if (pending.length > 0) {
          if (attempt >= 8) throw new Error(`BatchWrite left ${pending.length} items unprocessed after retries`);
          await new Promise((res) => setTimeout(res, Math.random() * 50 * 2 ** attempt));
        }
      }
    }
  }

  putProtocolVersion(p: ProtocolVersion) {
    return this.putIfAbsent({ ...keys.protocol(p.protocolId, p.version), ...p });
  }

  async getProtocolVersion(protocolId: string, version: number) {
    const item = strip(await this.get(keys.protocol(protocolId, version)));
    return item ? ProtocolVersion.parse(item) : undefined;
  }

  async putWorkforce(programId: string, w: Workforce) {
    // The registry entry first (a repeat overwrites it with the same item).
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...keys.program(programId), programId } }));
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...keys.workforce(programId, w.workforceId), ...w } }));
  }

  async updateWorkforceGold(programId: string, workforceId: string, gold: Pick<Workforce, 'recentGold' | 'goldSeen'>) {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.workforce(programId, workforceId),
        UpdateExpression: 'SET recentGold = :r, goldSeen = :g',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':r': gold.recentGold, ':g': gold.goldSeen },
      }),
    );
  }

  async updateWorkforceStatus(programId: string, workforceId: string, status: Workforce['status']) {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.workforce(programId, workforceId),
        UpdateExpression: 'SET #s = :s',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': status },
      }),
    );
  }

  async listWorkforces(programId: string) {
    const items = await this.queryPrefix(`PROGRAM#${programId}`, 'WORKFORCE#');
    return items.map((i) => Workforce.parse(strip(i)));
  }

  putCases(programId: string, cases: readonly (Case & { goldPool: boolean })[]) {
    return this.cases.put(programId, cases);
  }

  listCases(programId: string) {
    return this.cases.list(programId);
  }

  listCasesByState(programId: string, state: IndexedCaseState, page: PageRequest) {
    return this.cases.listByState(programId, state, page);
  }

  existingCaseIds(programId: string, caseIds: readonly string[]) {
    return this.cases.existing(programId, caseIds);
  }

  getCase(programId: string, caseId: string) {
    return this.cases.get(programId, caseId);
  }

  replaceCaseImage(programId: string, caseId: string, set: { from: string; imageKey: string; deidentificationFindings: string[] }) {
    return this.cases.replaceImage(programId, caseId, set);
  }

  releaseCase(programId: string, caseId: string, release: QuarantineRelease) {
    return this.cases.release(programId, caseId, release);
  }

  assignCases(programId: string, caseIds: readonly string[], batchId: string) {
    return this.cases.assign(programId, caseIds, batchId);
  }

  requeueCases(programId: string, caseIds: readonly string[], opts: RequeueOptions) {
    return this.cases.requeue(programId, caseIds, opts);
  }

  /**
   * Moves a program's items from keys an earlier version wrote to the current ones
   * (cases before the shards: `DynamoCases.migrateLegacy`). Idempotent; returns the
   * number of items moved. The ledger needs none: its pre-shard partition is read as it is.
   */
  migrateLegacyKeys(programId: string) {
    return this.cases.migrateLegacy(programId);
  }

  // Adjudications and dispute requests: their own module (dynamo-adjudications.ts).
  claimAdjudication: Repository['claimAdjudication'] = (...a) => this.adjudications.claimAdjudication(...a);
  createAdjudication: Repository['createAdjudication'] = (...a) => this.adjudications.createAdjudication(...a);
  getAdjudication: Repository['getAdjudication'] = (...a) => this.adjudications.getAdjudication(...a);
  setAdjudicationToken: Repository['setAdjudicationToken'] = (...a) => this.adjudications.setAdjudicationToken(...a);
  decideAdjudication: Repository['decideAdjudication'] = (...a) => this.adjudications.decideAdjudication(...a);
  expireAdjudication: Repository['expireAdjudication'] = (...a) => this.adjudications.expireAdjudication(...a);
  releaseAdjudicationClaim: Repository['releaseAdjudicationClaim'] = (...a) => this.adjudications.releaseAdjudicationClaim(...a);
  putDisputeRequest: Repository['putDisputeRequest'] = (...a) => this.adjudications.putDisputeRequest(...a);
  getDisputeRequest: Repository['getDisputeRequest'] = (...a) => this.adjudications.getDisputeRequest(...a);
  listDisputeRequests: Repository['listDisputeRequests'] = (...a) => this.adjudications.listDisputeRequests(...a);
  closeDisputeRequest: Repository['closeDisputeRequest'] = (...a) => this.adjudications.closeDisputeRequest(...a);
  listOpenAdjudications: Repository['listOpenAdjudications'] = (...a) => this.adjudications.listOpenAdjudications(...a);
  listAdjudications: Repository['listAdjudications'] = (...a) => this.adjudications.listAdjudications(...a);

  async listShareRounds(programId: string, protocolId: string) {
    const items = await this.queryPrefix(`PROGRAM#${programId}`, `SHARES#${protocolId}#`);
    return items.map((i) => ({ round: Number(i.round), shares: Shares.parse(i.shares) }));
  }

  setCaseState(programId: string, caseIds: readonly string[], state: CaseWorkState, batchId: string) {
    return this.cases.setState(programId, caseIds, state, batchId);
  }

  async createBatch(b: BatchRecord) {
    // The workforce's pointer first: a retry after a crash writes the same item again.
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { ...keys.workforceBatch(b.workforceId, b.createdAt, b.batchId), batchId: b.batchId } }),
    );
    return this.putIfAbsent({
      ...keys.batch(b.batchId),
      gsi1pk: `PROGRAM#${b.programId}#ROUND#${pad(b.round, 4)}`,
      gsi1sk: `BATCH#${b.batchId}`,
      ...b,
    });
  }

  async getBatch(batchId: string) {
    return strip<BatchRecord & Record<string, unknown>>(await this.get(keys.batch(batchId)));
  }

  async listRoundBatches(programId: string, round: number) {
    const items = await this.queryAll({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': `PROGRAM#${programId}#ROUND#${pad(round, 4)}` },
    });
    return items.map((i) => strip<BatchRecord & Record<string, unknown>>(i)!);
  }

  async transitionBatch(batchId: string, from: readonly string[], to: string, set: Partial<BatchRecord> = {}) {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':to': to };
    const sets = ['#status = :to'];
    Object.entries(set).forEach(([k, v], i) => {
      if (v === undefined) return;
      names[`#f${i}`] = k;
      values[`:f${i}`] = v;
      sets.push(`#f${i} = :f${i}`);
    });
    const conds = from.map((s, i) => {
      values[`:from${i}`] = s;
      return `#status = :from${i}`;
    });
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.batch(batchId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(pk) AND (${conds.join(' OR ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  async setTaskToken(batchId: string, token: string, slaDeadline: string) {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.batch(batchId),
        UpdateExpression: 'SET taskToken = :t, slaDeadline = :d',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':t': token, ':d': slaDeadline },
      }),
    );
  }

  async putUploadSlot(slot: UploadSlot) {
    const r = await this.putIfAbsent({ ...keys.slot(slot.batchId, slot.uploadId), ...slot });
    if (r === 'exists') throw new Error(`upload slot ${slot.uploadId} already exists`);
  }

  async getUploadSlot(batchId: string, uploadId: string) {
    const item = strip(await this.get(keys.slot(batchId, uploadId)));
    return item ? UploadSlot.parse(item) : undefined;
  }

  async createSubmission(s: Submission) {
    const r = await this.putIfAbsent({ ...keys.submission(s.batchId, s.uploadId), ...s });
    if (r === 'created') return { created: true, current: s };
    const current = Submission.parse(strip(await this.get(keys.submission(s.batchId, s.uploadId))));
    return { created: false, current };
  }

  async updateSubmission(batchId: string, uploadId: string, set: Partial<Submission>) {
    const entries = Object.entries(set).filter(([, v]) => v !== undefined);
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.submission(batchId, uploadId),
        UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :f${i}`).join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: Object.fromEntries(entries.map(([k], i) => [`#f${i}`, k])),
        ExpressionAttributeValues: Object.fromEntries(entries.map(([, v], i) => [`:f${i}`, v])),
      }),
    );
  }

  async listSubmissions(batchId: string) {
    const items = await this.queryPrefix(`BATCH#${batchId}`, 'SUBMISSION#');
    return items.map((i) => Submission.parse(strip(i)));
  }

  async putScore(s: BatchScore) {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...keys.score(s.batchId), ...s } }));
  }

  async getScore(batchId: string) {
    const item = strip(await this.get(keys.score(batchId)));
    return item ? BatchScore.parse(item) : undefined;
  }

  async putLabels(labels: readonly StoredLabel[]) {
    // Deterministic keys (case, batch): writing the same labels again overwrites
    // them with identical content, so a retried finalize changes nothing.
    await this.batchPut(
      labels.map((l) => ({
        ...keys.label(l.caseId, l.batchId),
        gsi1pk: `BATCH#${l.batchId}#LABELS`,
        gsi1sk: `CASE#${l.caseId}`,
        ...l,
      })),
    );
  }

  async listBatchLabels(batchId: string) {
    const items = await this.queryAll({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': `BATCH#${batchId}#LABELS` },
    });
    return items.map((i) => StoredLabel.parse(strip(i)));
  }

  async listCaseLabels(caseId: string) {
    const items = await this.queryPrefix(`CASE#${caseId}`, 'LABEL#');
    return items.map((i) => StoredLabel.parse(strip(i)));
  }

  appendLedger(e: LedgerEvent) {
    return this.ledger.append(e);
  }

  getLedgerEvent(programId: string, eventId: string) {
    return this.ledger.getEvent(programId, eventId);
  }

  listLedger(programId: string) {
    return this.ledger.list(programId);
  }

  listLedgerPage(programId: string, page: { after?: LedgerFrontier; limit: number }) {
    return this.ledger.page(programId, page);
  }

  readLedgerChain(programId: string) {
    return this.ledger.readChain(programId);
  }

  createRound(r: RoundRecord) {
    return this.rounds.create(r);
  }

  getRound(programId: string, round: number) {
    return this.rounds.get(programId, round);
  }

  markRoundBatchSettled(programId: string, round: number, batchId: string) {
    return this.rounds.markSettled(programId, round, batchId);
  }

  async putScorecards(programId: string, cards: readonly Scorecard[]) {
    await this.batchPut(cards.map((c) => ({ ...keys.scorecard(programId, c.protocolId, c.workforceId), ...c })));
  }

  async listScorecards(programId: string, protocolId: string) {
    const items = await this.queryPrefix(`PROGRAM#${programId}`, `SCORECARD#${protocolId}#`);
    return items.map((i) => Scorecard.parse(strip(i)));
  }

  createShares(programId: string, protocolId: string, round: number, shares: Shares) {
    return this.putIfAbsent({ ...keys.shares(programId, protocolId, round), shares, round, protocolId });
  }

  async getShares(programId: string, protocolId: string, round: number) {
    const item = await this.get(keys.shares(programId, protocolId, round));
    return item ? Shares.parse(item.shares) : undefined;
  }

  async listPrograms() {
    const items = await this.queryPrefix('PROGRAMS', 'PROGRAM#');
    return items.map((i) => String(i.programId)).sort();
  }

  listRounds(programId: string) {
    return this.rounds.list(programId);
  }

  /** One Query page; `next` only when DynamoDB says there may be more. */
  private async queryPage(input: Omit<QueryCommandInput, 'TableName'>, page: PageRequest, start: Record<string, string> | undefined) {
    const r = await this.doc.send(
      new QueryCommand({ ...input, TableName: this.table, Limit: page.limit, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    return { items: r.Items ?? [], next: r.LastEvaluatedKey as PageKey | undefined };
  }

  async listWorkforceBatches(workforceId: string, page: PageRequest): Promise<Page<BatchRecord>> {
    const pk = `WORKFORCE#${workforceId}`;
    const start = checkPageKey(page.after, { pk, sk: /^BATCH#/ });
    const r = await this.queryPage(
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': pk, ':p': 'BATCH#' },
        ScanIndexForward: false,
        ConsistentRead: true,
      },
      page,
      start,
    );
    const batches = await Promise.all(r.items.map((i) => this.getBatch(String(i.batchId))));
    // A pointer whose batch record is not written yet (a dispatch in progress) is skipped.
    const items: BatchRecord[] = [];
    for (const b of batches) if (b?.workforceId === workforceId) items.push(b);
    return { items, ...(r.next ? { next: r.next } : {}) };
  }

  async listRoundBatchesPage(programId: string, round: number, page: PageRequest): Promise<Page<BatchRecord>> {
    const gsi1pk = `PROGRAM#${programId}#ROUND#${pad(round, 4)}`;
    const start = checkPageKey(page.after, { pk: /^BATCH#/, sk: /^BATCH$/, gsi1pk, gsi1sk: /^BATCH#/ });
    const r = await this.queryPage(
      { IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': gsi1pk } },
      page,
      start,
    );
    return { items: r.items.map((i) => strip<BatchRecord & Record<string, unknown>>(i)!), ...(r.next ? { next: r.next } : {}) };
  }

  async listProgramScorecards(programId: string) {
    const items = await this.queryPrefix(`PROGRAM#${programId}`, 'SCORECARD#');
    return items.map((i) => Scorecard.parse(strip(i)));
  }

  async updateWorkforceTerms(programId: string, workforceId: string, patch: WorkforceTermsPatch) {
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return (await this.listWorkforces(programId)).find((w) => w.workforceId === workforceId);
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.workforce(programId, workforceId),
          UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :f${i}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: Object.fromEntries(entries.map(([k], i) => [`#f${i}`, k])),
          ExpressionAttributeValues: Object.fromEntries(entries.map(([, v], i) => [`:f${i}`, v])),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Workforce.parse(strip(r.Attributes));
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      throw e;
    }
  }

  setCaseAssignment(programId: string, caseId: string, assignment: CaseAssignment) {
    return this.cases.setAssignment(programId, caseId, assignment);
  }
}
