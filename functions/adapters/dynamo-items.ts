/** Small helpers the DynamoDB adapters share. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';

/** An item without its table and index keys: the record it stores. */
export const strip = <T extends Record<string, unknown>>(item: Record<string, unknown> | undefined): T | undefined => {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return rest as T;
};

/** Whether a write was refused by its condition (the SDK's class, or its name across SDK copies). */
export const isConditionFailure = (e: unknown): boolean =>
  e instanceof ConditionalCheckFailedException || (e as { name?: string })?.name === 'ConditionalCheckFailedException';

/** Puts `item` unless an item with its key exists (`attribute_not_exists(pk)`): a repeat is `exists`, never an overwrite. */
export async function putIfAbsent(doc: DynamoDBDocumentClient, table: string, item: Record<string, unknown>): Promise<'created' | 'exists'> {
  try {
    await doc.send(new PutCommand({ TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    return 'created';
  } catch (e) {
    if (isConditionFailure(e)) return 'exists';
    throw e;
  }
}

/** One item by its key, read consistently (undefined when there is none). */
export async function getItem(doc: DynamoDBDocumentClient, table: string, key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
  return (await doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
}
