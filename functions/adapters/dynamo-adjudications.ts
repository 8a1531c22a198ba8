/**
 * Adjudications and vendors' dispute requests on the single table (part of
 * DynamoRepository; docs/data-model.md): an adjudication item per request for an
 * expert, a claim item per protocol and case (so one case is never in two open
 * adjudications), and a dispute request item per vendor dispute, each listed
 * through gsi1 by program. Every state change is one conditional update.
 */
import { DeleteCommand, type DynamoDBDocumentClient, type QueryCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AdjudicationRecord, DisputeRequestRecord } from '../use-cases/ports.js';
import { getItem, isConditionFailure, putIfAbsent, strip } from './dynamo-items.js';
import { queryAll } from './dynamo-query.js';

export const adjudicationKeys = {
  adjudication: (id: string) => ({ pk: `ADJUDICATION#${id}`, sk: 'ADJUDICATION' }),
  disputeRequest: (id: string) => ({ pk: `DISPUTE-REQUEST#${id}`, sk: 'DISPUTE-REQUEST' }),
  claim: (protocol: string, caseId: string) => ({ pk: `ADJUDICATION-CLAIM#${protocol}`, sk: `CASE#${caseId}` }),
};

export class DynamoAdjudications {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private putIfAbsent(item: Record<string, unknown>): Promise<'created' | 'exists'> {
    return putIfAbsent(this.doc, this.table, item);
  }

  private get(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
    return getItem(this.doc, this.table, key);
  }

  private queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Record<string, unknown>[]> {
    return queryAll(this.doc, this.table, input);
  }

  async claimAdjudication(protocol: string, caseId: string, adjudicationId: string) {
    const r = await this.putIfAbsent({ ...adjudicationKeys.claim(protocol, caseId), adjudicationId });
    if (r === 'created') return true;
    const item = await this.get(adjudicationKeys.claim(protocol, caseId));
    return item?.adjudicationId === adjudicationId; // a retry of the same claim
  }

  createAdjudication(a: AdjudicationRecord) {
    return this.putIfAbsent({ ...adjudicationKeys.adjudication(a.adjudicationId), gsi1pk: `PROGRAM#${a.programId}#ADJUDICATIONS`, gsi1sk: `${a.status}#${a.adjudicationId}`, ...a });
  }

  async getAdjudication(id: string) {
    return strip<AdjudicationRecord & Record<string, unknown>>(await this.get(adjudicationKeys.adjudication(id)));
  }

  async setAdjudicationToken(id: string, token: string, deadline: string) {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: adjudicationKeys.adjudication(id),
        UpdateExpression: 'SET taskToken = :t, deadline = :d',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':t': token, ':d': deadline },
      }),
    );
  }

  async decideAdjudication(id: string, d: Pick<AdjudicationRecord, 'decidedBy' | 'decidedAt' | 'decisions'>) {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: adjudicationKeys.adjudication(id),
          UpdateExpression: 'SET #s = :decided, decidedBy = :by, decidedAt = :at, decisions = :d, gsi1sk = :g',
          ConditionExpression: 'attribute_exists(pk) AND #s = :open',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':decided': 'decided',
            ':open': 'open',
            ':by': d.decidedBy,
            ':at': d.decidedAt,
            ':d': d.decisions,
            ':g': `decided#${id}`,
          },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  async expireAdjudication(id: string) {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: adjudicationKeys.adjudication(id),
          UpdateExpression: 'SET #s = :expired, gsi1sk = :g',
          ConditionExpression: 'attribute_exists(pk) AND #s = :open',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':expired': 'expired', ':open': 'open', ':g': `expired#${id}` },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  async releaseAdjudicationClaim(protocol: string, claim: string, adjudicationId: string) {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: adjudicationKeys.claim(protocol, claim),
          ConditionExpression: 'adjudicationId = :a',
          ExpressionAttributeValues: { ':a': adjudicationId },
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }

  putDisputeRequest(r: DisputeRequestRecord) {
    return this.putIfAbsent({ ...adjudicationKeys.disputeRequest(r.disputeId), gsi1pk: `PROGRAM#${r.programId}#DISPUTE-REQUESTS`, gsi1sk: r.disputeId, ...r });
  }

  async getDisputeRequest(id: string) {
    return strip<DisputeRequestRecord & Record<string, unknown>>(await this.get(adjudicationKeys.disputeRequest(id)));
  }

  async listDisputeRequests(programId: string) {
    const items = await this.queryAll({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': `PROGRAM#${programId}#DISPUTE-REQUESTS` },
    });
    return items.map((i) => strip<DisputeRequestRecord & Record<string, unknown>>(i)!);
  }

  async closeDisputeRequest(id: string, outcome: { status: 'queued' | 'declined'; note?: string }) {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: adjudicationKeys.disputeRequest(id),
          UpdateExpression: outcome.note === undefined ? 'SET #s = :to' : 'SET #s = :to, note = :n',
          ConditionExpression: 'attribute_exists(pk) AND #s = :pending',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':to': outcome.status, ':pending': 'pending', ...(outcome.note === undefined ? {} : { ':n': outcome.note }) },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  async listOpenAdjudications(programId: string) {
    const items = await this.queryAll({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :open)',
      ExpressionAttributeValues: { ':pk': `PROGRAM#${programId}#ADJUDICATIONS`, ':open': 'open#' },
    });
    return items.map((i) => strip<AdjudicationRecord & Record<string, unknown>>(i)!);
  }

  async listAdjudications(programId: string) {
    const items = await this.queryAll({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': `PROGRAM#${programId}#ADJUDICATIONS` },
    });
    return items.map((i) => strip<AdjudicationRecord & Record<string, unknown>>(i)!);
  }
}
