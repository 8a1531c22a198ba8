/**
 * Cursor pagination: a cursor is the store's page key (DynamoDB's
 * LastEvaluatedKey), JSON in base64url. It is opaque to callers and never
 * trusted: on the way back in it is parsed by a zod schema (bounded size, a flat
 * record of strings and numbers), and the repository refuses a key that is not
 * one of its own for the listing asked for.
 */
import { z } from 'zod';
import { InvalidInputError } from './errors.js';
import type { PageKey, PageRequest } from './ports.js';

/** Longest cursor accepted, in characters. */
export const MAX_CURSOR_LENGTH = 2048;
export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 200;

/** A cursor as callers send it (routes reuse this schema for the query string). */
export const Cursor = z
  .string()
  .min(1)
  .max(MAX_CURSOR_LENGTH)
  .regex(/^[A-Za-z0-9_-]+$/, 'a cursor is the opaque `next` of a previous page');
export const PageLimit = z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT);

const StoredKey = z
  .record(z.string().min(1).max(64), z.union([z.string().max(1024), z.number().finite()]))
  .refine((r) => Object.keys(r).length >= 1 && Object.keys(r).length <= 8, 'a page key has 1 to 8 attributes');

/** The cursor for a page key. */
export function encodeCursor(key: PageKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The page key a cursor stands for; InvalidInputError when it is not a cursor this API issued. */
export function decodeCursor(cursor: string): PageKey {
  const bad = () => new InvalidInputError('cursor: not a cursor this API issued (pass the `next` of the previous page unchanged)');
  if (!Cursor.safeParse(cursor).success) throw bad();
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const key = StoredKey.safeParse(json);
  if (!key.success) throw bad();
  return key.data;
}

/** The page request for an optional cursor and limit. */
export function pageRequest(input: { cursor?: string; limit?: number }): PageRequest {
  return { limit: input.limit ?? DEFAULT_PAGE_LIMIT, ...(input.cursor ? { after: decodeCursor(input.cursor) } : {}) };
}
