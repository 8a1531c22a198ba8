/** Small pieces the route files share. */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { Identifier } from '../../domain/index.js';
import { ForbiddenError } from '../../use-cases/errors.js';
import { actorOf } from '../auth.js';
import type { ApiEnv } from '../context.js';

/** The `{programId}` path parameter of the program routes. */
export const ProgramParams = z.object({ programId: Identifier.clone().openapi({ example: 'demo-cxr' }) });

/** A 2xx JSON response for the OpenAPI document. */
export function json<S extends z.ZodType>(description: string, schema: S) {
  return { description, content: { 'application/json': { schema } } };
}

/** The caller's workforce id, from its token (vendors and experts always have one). */
export function workforceOf(c: Context<ApiEnv>): string {
  const id = c.get('principal').workforceId;
  if (!id) throw new ForbiddenError('your token names no workforce');
  return id;
}

/** The ledger actor for this request: `<role>:<username>`. */
export function actorFor(c: Context<ApiEnv>): string {
  return actorOf(c.get('principal'), c.get('role'));
}
