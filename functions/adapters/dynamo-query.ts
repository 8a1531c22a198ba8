/** Query helpers shared by the table's adapters (repository, cases, ledger). */
import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

/**
 * Every item a Query matches, following LastEvaluatedKey page after page.
 *
 * @example await queryAll(doc, table, { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'PROGRAMS' } })
 */
export async function queryAll(doc: DynamoDBDocumentClient, table: string, input: Omit<QueryCommandInput, 'TableName'>): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const r = await doc.send(new QueryCommand({ ...input, TableName: table, ExclusiveStartKey }));
    for (const item of r.Items ?? []) out.push(item);
    ExclusiveStartKey = r.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return out;
}
