/**
 * The one HTTP API application (`/v1`) every role uses. Written once, run in two
 * places: in Lambda behind API Gateway (functions/api.ts, `hono/aws-lambda`) and
 * on 127.0.0.1 by the embedded stack (infra/local/api-server.ts,
 * `@hono/node-server`). Routes are declared with zod request and response
 * schemas: the same schemas parse every body, query and path parameter and
 * produce the OpenAPI 3.1 document at `GET /v1/openapi.json`.
 *
 * Primary course of a request: authenticate (JWT) → body size limit → role
 * check → zod parse → one use case → JSON answer. Every refusal is
 * `application/problem+json` (problem.ts).
 */
import { randomUUID } from 'node:crypto';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { JWTVerifyGetKey } from 'jose';
import type { Deps } from '../use-cases/ports.js';
import { type AuthConfig, authenticate } from './auth.js';
import { type ApiApp, type ApiEnv, BEARER } from './context.js';
import type { RoundDispatcher } from './lambda-dispatch.js';
import { dispatchRound } from '../use-cases/dispatch-round.js';
import { dispatchRoundViaWorkflow } from '../use-cases/round-workflow.js';
import { errorProblem, makeProblem, problemResponses, sendProblem, zodProblem } from './problem.js';
import { registerAdjudicationRoutes } from './routes/adjudications.js';
import { registerContractRoutes } from './routes/contracts.js';
import { registerDisputeRoutes } from './routes/disputes.js';
import { registerDossierRoutes } from './routes/dossier.js';
import { registerHeldBatchRoutes } from './routes/held.js';
import { registerPmRoutes } from './routes/pm.js';
import { registerQaRoutes } from './routes/qa.js';
import { registerQualificationRoutes } from './routes/qualification.js';
import { registerQualityRoutes } from './routes/quality.js';
import { registerReleaseRoutes } from './routes/releases.js';
import { registerStatementRoutes } from './routes/statements.js';
import { registerWorkRoutes } from './routes/work.js';

export type { ApiApp, ApiEnv } from './context.js';
export { BEARER, requireRole } from './context.js';

/** Body limits: 1 MiB for any request, 8 MiB for case manifests. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
export const MANIFEST_BODY_LIMIT_BYTES = 8 * 1024 * 1024;
/** Routes whose bodies may be up to MANIFEST_BODY_LIMIT_BYTES. */
const MANIFEST_ROUTE = /^\/v1\/programs\/[^/]+\/cases(\/manifest)?$/;

export const OPENAPI_PATH = '/v1/openapi.json';

export interface ApiOptions {
  /** The use cases' dependencies (a function: built on first use, e.g. in Lambda). */
  deps: Deps | (() => Deps);
  auth: AuthConfig;
  /** Keys to verify tokens with instead of fetching `auth.jwksUrl` (tests). */
  keys?: JWTVerifyGetKey;
  /**
   * How a round is dispatched: in AWS by invoking the DispatchRound function
   * (lambda-dispatch.ts); by default the use case runs in process (the embedded stack).
   */
  dispatchRound?: RoundDispatcher;
  /** Where 500s are logged with their reference (never sent to the caller). */
  log?: (line: string) => void;
}

/** Creates the API application over the given dependencies and token issuer. */
export function createApi(opts: ApiOptions): ApiApp {
  const deps = typeof opts.deps === 'function' ? opts.deps : () => opts.deps as Deps;
  const log = opts.log ?? ((line: string) => console.error(line));
  const app: ApiApp = new OpenAPIHono<ApiEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return sendProblem(c, zodProblem(result.error, TARGET_NAMES[result.target] ?? result.target));
    },
  });

  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      if (err.status === 413) return sendProblem(c, makeProblem(413, 'payload-too-large', err.message));
      if (err.status < 500) return sendProblem(c, makeProblem(err.status, 'invalid-request', err.message || 'bad request', { errors: [] }));
    }
    const reference = randomUUID();
    const p = errorProblem(err, reference);
    if (p.status >= 500) log(`api ${c.req.method} ${c.req.path} failed (reference ${reference}): ${(err as Error)?.stack ?? String(err)}`);
    return sendProblem(c, p);
  });
  app.notFound((c) => sendProblem(c, makeProblem(404, 'not-found', `no route ${c.req.method} ${c.req.path}`)));

  const auth = authenticate(opts.auth, opts.keys);
  app.use('/v1/*', async (c, next) => (c.req.path === OPENAPI_PATH ? next() : auth(c, next)));
  const small = bodyLimit({ maxSize: BODY_LIMIT_BYTES, onError: (c) => tooLarge(c, BODY_LIMIT_BYTES) });
  const large = bodyLimit({ maxSize: MANIFEST_BODY_LIMIT_BYTES, onError: (c) => tooLarge(c, MANIFEST_BODY_LIMIT_BYTES) });
  app.use('/v1/*', async (c, next) => (MANIFEST_ROUTE.test(c.req.path) ? large(c, next) : small(c, next)));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/me',
      operationId: 'getMe',
      tags: ['identity'],
      summary: 'Who the token says you are',
      security: BEARER,
      responses: {
        200: {
          description: 'The caller',
          content: {
            'application/json': {
              schema: z
                .object({
                  username: z.string(),
                  roles: z.array(z.enum(['pm', 'qa', 'expert', 'vendor'])),
                  workforceId: z.string().optional(),
                  actor: z.string(),
                })
                .openapi('Me'),
            },
          },
        },
        ...problemResponses(401, 500),
      },
    }),
    (c) => {
      const p = c.get('principal');
      return c.json({ username: p.username, roles: p.roles, workforceId: p.workforceId, actor: `${p.roles[0]}:${p.username}` }, 200);
    },
  );

  registerWorkRoutes(app, deps);
  registerAdjudicationRoutes(app, deps);
  registerDisputeRoutes(app, deps);
  // The embedded stack runs the round-dispatch state machine (deps.rounds); without one, the same steps in process.
  registerPmRoutes(app, deps, opts.dispatchRound ?? ((input) => (deps().rounds ? dispatchRoundViaWorkflow(deps(), input) : dispatchRound(deps(), input))));
  registerQaRoutes(app, deps);
  registerQualificationRoutes(app, deps);
  registerHeldBatchRoutes(app, deps);
  registerQualityRoutes(app, deps);
  registerReleaseRoutes(app, deps);
  registerDossierRoutes(app, deps);
  registerContractRoutes(app, deps);
  registerStatementRoutes(app, deps);

  app.openAPIRegistry.registerPath({
    method: 'get',
    path: OPENAPI_PATH,
    operationId: 'getOpenApiDocument',
    tags: ['identity'],
    summary: 'This document (no token needed)',
    responses: { 200: { description: 'The OpenAPI 3.1 document', content: { 'application/json': { schema: z.looseObject({}) } } } },
  });
  app.doc31(OPENAPI_PATH, {
    openapi: '3.1.0',
    info: {
      title: 'Goldline API',
      version: '1',
      description:
        'One role-scoped API for PMs, vendors, experts and QA leads. Every route but this document needs a bearer JWT (Cognito ID token); errors are RFC 9457 problem+json.',
    },
  });
  return app;
}

const TARGET_NAMES: Record<string, string> = { json: 'body', query: 'query', param: 'path', header: 'header', form: 'body' };

function tooLarge(c: Parameters<typeof sendProblem>[0], limit: number): Response {
  return sendProblem(c, makeProblem(413, 'payload-too-large', `the request body is larger than ${limit} bytes`));
}
