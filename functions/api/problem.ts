/**
 * RFC 9457 problem details (`application/problem+json`): every refusal of the
 * API has a stable `type` per kind of error, a `title`, the HTTP `status`, a
 * human `detail`, and — for bad input — the zod field paths in `errors`.
 * Types are URNs (`urn:goldline:problem:<slug>`), never a foreign host.
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError } from 'zod';
import { ConflictError, ForbiddenError, IntegrityError, InvalidInputError, NotFoundError } from '../use-cases/errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const PROBLEM_SLUGS = [
  'invalid-request',
  'unauthenticated',
  'forbidden',
  'not-found',
  'conflict',
  'payload-too-large',
  'unsupported-media-type',
  'internal',
] as const;
export type ProblemSlug = (typeof PROBLEM_SLUGS)[number];

const TITLES: Record<ProblemSlug, string> = {
  'invalid-request': 'The request is not valid',
  unauthenticated: 'A valid bearer token is required',
  forbidden: 'Your role may not do this',
  'not-found': 'Not found',
  conflict: 'The request conflicts with the current state',
  'payload-too-large': 'The request body is too large',
  'unsupported-media-type': 'Unsupported media type',
  internal: 'Internal error',
};

export const FieldError = z.object({ path: z.string(), message: z.string() }).openapi('FieldError');

export const Problem = z
  .object({
    type: z.string().openapi({ example: 'urn:goldline:problem:invalid-request' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(FieldError).optional(),
  })
  .passthrough()
  .openapi('Problem');
export type Problem = z.infer<typeof Problem>;

export const problemType = (slug: ProblemSlug): string => `urn:goldline:problem:${slug}`;

/** A zod issue path as `a.b[2].c` (the root is `(body)`). */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

export function makeProblem(status: number, slug: ProblemSlug, detail: string, extra: Record<string, unknown> = {}): Problem {
  return { type: problemType(slug), title: TITLES[slug], status, detail, ...extra };
}

/** The problem for a zod error: 400 with one `{ path, message }` per issue (`where` prefixes the path: body, query, path). */
export function zodProblem(error: ZodError, where?: string): Problem {
  const at = (path: readonly PropertyKey[]) => (where ? (path.length ? `${where}.${fieldPath(path)}` : where) : fieldPath(path));
  // An unknown field is named in the path itself, one error per field.
  const errors = error.issues
    .flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((k) => ({ path: at([...i.path, k]), message: `unknown field ${JSON.stringify(k.slice(0, 64))}` }))
        : [{ path: at(i.path), message: i.message }],
    )
    .slice(0, 50);
  const first = errors[0];
  const detail = first ? `${first.path}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}` : 'invalid input';
  return makeProblem(400, 'invalid-request', detail, { errors });
}

/** A refusal a route builds itself (e.g. a 409 carrying a diff): sent as it is. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

/**
 * Maps what a use case throws to a problem. Client errors keep their message
 * (they say what was wrong); anything else is a 500 that says nothing of its
 * internals (the caller gets a reference to quote, the log gets the error).
 */
export function errorProblem(err: unknown, reference: string): Problem {
  if (err instanceof ProblemError) return err.problem;
  if (err instanceof ZodError) return zodProblem(err);
  if (err instanceof NotFoundError) return makeProblem(404, 'not-found', err.message);
  if (err instanceof ConflictError) return makeProblem(409, 'conflict', err.message);
  if (err instanceof ForbiddenError) return makeProblem(403, 'forbidden', err.message);
  if (err instanceof InvalidInputError) return makeProblem(400, 'invalid-request', err.message, { errors: inputErrors(err.message) });
  if (err instanceof IntegrityError) return makeProblem(409, 'conflict', err.message);
  return makeProblem(500, 'internal', `internal error (reference ${reference})`);
}

/**
 * A use case's refusal as field errors: use cases say `field: what is wrong`
 * (several joined by `; `); without a field name the request as a whole is named.
 */
export function inputErrors(message: string): { path: string; message: string }[] {
  const parts = message.split('; ').slice(0, 50);
  return parts.map((part) => {
    const m = /^([A-Za-z_][\w.[\]-]{0,100}): (.+)$/s.exec(part);
    return m ? { path: m[1], message: m[2] } : { path: 'request', message: part };
  });
}

export function sendProblem(c: Context, p: Problem): Response {
  return c.body(JSON.stringify(p), p.status as ContentfulStatusCode, { 'content-type': PROBLEM_CONTENT_TYPE });
}

/** The shared responses every route may give, for the OpenAPI document. */
export function problemResponses(...statuses: number[]) {
  const out: Record<number, { description: string; content: Record<string, { schema: typeof Problem }> }> = {};
  for (const s of statuses) {
    out[s] = { description: DESCRIPTIONS[s] ?? 'Problem', content: { [PROBLEM_CONTENT_TYPE]: { schema: Problem } } };
  }
  return out;
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (zod field paths in `errors`)',
  401: 'Missing, expired or invalid bearer token',
  403: 'The caller’s role may not use this route',
  404: 'Not found (or not the caller’s: same answer)',
  409: 'Conflicts with the current state',
  413: 'Body too large',
  415: 'Unsupported media type',
  500: 'Internal error',
};
