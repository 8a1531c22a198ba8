/** The request context every route shares: who is calling and as which role. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { AuthVariables, Role } from './auth.js';
import { makeProblem, sendProblem } from './problem.js';

export type ApiEnv = { Variables: AuthVariables & { role: Role } };
export type ApiApp = OpenAPIHono<ApiEnv>;

/** Role check for one route: 403 problem unless the caller holds one of `roles`; sets `role` (the one it acts as). */
export function requireRole(...roles: Role[]): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const p = c.get('principal');
    const role = roles.find((r) => p.roles.includes(r));
    if (!role) return sendProblem(c, makeProblem(403, 'forbidden', `this route is for ${roles.join(' or ')}`));
    c.set('role', role);
    await next();
  };
}

/** The security requirement every authenticated route declares in the document. */
export const BEARER = [{ bearer: [] as string[] }];
