/** Small helpers the DynamoDB adapters share. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/** An item without its table and index keys: the record it stores. */
export const strip = <T extends Record<string, unknown>>(item: Record<string, unknown> | undefined): T | undefined => {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return rest as T;
};

/** Whether a write was refused by its condition (the SDK's class, or its name across SDK copies). */
export const isConditionFailure = (e: unknown): boolean =>
  e instanceof ConditionalCheckFailedException || (e as { name?: string })?.name === 'ConditionalCheckFailedException';
