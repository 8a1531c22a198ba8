/**
 * Lambda entry of the HTTP API (API Gateway HTTP API, payload 2.0): the same
 * application the embedded stack serves on 127.0.0.1 (functions/api/app.ts).
 * API Gateway's JWT authorizer checks the token first; the application checks
 * it again against the user pool's JWKS (issuer, audience, expiry, RS256).
 *
 * Environment (names in infra/definitions.ts `API.env`, set by infra/api-construct.ts):
 * GOLDLINE_JWT_ISSUER (https://cognito-idp.<region>.amazonaws.com/<poolId>),
 * GOLDLINE_JWT_AUDIENCE (the app client id), optionally GOLDLINE_JWKS_URL (default
 * `<issuer>/.well-known/jwks.json`), and the tables and buckets of deps.ts.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { handle } from 'hono/aws-lambda';
import { z } from 'zod';
import { API } from '../infra/definitions.js';
import { defaultDeps } from './adapters/deps.js';
import type { Handler } from './adapters/handler.js';
import { createApi } from './api/app.js';
import type { AuthConfig } from './api/auth.js';
import { type RoundDispatcher, lambdaDispatcher } from './api/lambda-dispatch.js';
import type { Deps } from './use-cases/ports.js';

const AuthEnv = z.object({
  [API.env.issuer]: z.url(),
  [API.env.audience]: z.string().min(1),
  [API.env.jwksUrl]: z.url().optional(),
});

/** The token issuer the API trusts, from the environment the CDK stack sets. */
export function authFromEnv(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const e = AuthEnv.parse(env);
  const issuer = e[API.env.issuer];
  return { issuer, audience: e[API.env.audience], jwksUrl: e[API.env.jwksUrl] ?? `${issuer}/.well-known/jwks.json` };
}

/**
 * The API as a Lambda handler; the app (and its JWKS cache) is built on the
 * first request and kept. Rounds are dispatched by `dispatcher` when given
 * (in AWS: by invoking DispatchRound), else in process (the embedded stack).
 */
export function makeHandler(deps: () => Deps = defaultDeps, dispatcher?: () => RoundDispatcher | undefined): Handler<unknown> {
  let lambda: ReturnType<typeof handle> | undefined;
  return async (event) => {
    lambda ??= handle(createApi({ deps, auth: authFromEnv(), dispatchRound: dispatcher?.() }));
    return lambda(event as Parameters<typeof lambda>[0]);
  };
}

/** Names the DispatchRound function the dispatch route invokes (set by the stack). */
export const DISPATCH_FUNCTION_ENV = 'GOLDLINE_DISPATCH_ROUND_FUNCTION';

/**
 * DispatchRound, invoked by name, so the API function itself need not read gold
 * or start executions; without the variable the use case runs in process.
 */
function dispatcherFromEnv(env: NodeJS.ProcessEnv = process.env): RoundDispatcher | undefined {
  const name = env[DISPATCH_FUNCTION_ENV];
  return name ? lambdaDispatcher(new LambdaClient({}), name) : undefined;
}

export const handler = makeHandler(defaultDeps, dispatcherFromEnv);
