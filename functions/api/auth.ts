/**
 * Who is calling: every request but the OpenAPI document carries a bearer
 * token (a Cognito ID token, or the embedded issuer's). The application verifies
 * it itself — signature against the issuer's JWKS, issuer, audience, expiry and
 * RS256 only (`alg: none` and HS* are refused) — so the local server and Lambda
 * behind API Gateway's own JWT authorizer enforce the same rules.
 *
 * A vendor's or expert's workforce id comes from the token (`custom:workforceId`),
 * never from the request.
 */
import type { MiddlewareHandler } from 'hono';
import { type JWTVerifyGetKey, createRemoteJWKSet, jwtVerify } from 'jose';
import { z } from 'zod';
import { Identifier } from '../domain/index.js';
import type { ApiEnv } from './context.js';
import { makeProblem, sendProblem } from './problem.js';

export interface AuthConfig {
  /** The `iss` every token must carry (Cognito: https://cognito-idp.<region>.amazonaws.com/<poolId>). */
  issuer: string;
  /** The app client id (`aud` of an ID token). */
  audience: string;
  /** Where the issuer's public keys are served (`<issuer>/.well-known/jwks.json`). */
  jwksUrl: string;
}

export const ROLES = ['pm', 'qa', 'expert', 'vendor'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  sub: string;
  username: string;
  roles: Role[];
  /** For vendors and experts: the workforce they act for (from the token). */
  workforceId?: string;
}

/** Seconds of clock skew tolerated on `exp`/`nbf`/`iat`. */
export const CLOCK_TOLERANCE_SECONDS = 5;

/** The claims of a Cognito ID token Goldline reads. */
const Claims = z
  .object({
    sub: z.string().min(1),
    token_use: z.literal('id'),
    'cognito:groups': z.array(z.string()).min(1),
    'cognito:username': z.string().min(1).max(128).optional(),
    email: z.string().max(254).optional(),
    'custom:workforceId': Identifier.optional(),
  })
  .transform((c, ctx) => {
    const roles = c['cognito:groups'].filter((g): g is Role => (ROLES as readonly string[]).includes(g));
    if (roles.length === 0) ctx.addIssue({ code: 'custom', message: 'no Goldline group (pm, qa, expert or vendor)', path: ['cognito:groups'] });
    const workforceId = c['custom:workforceId'];
    if ((roles.includes('vendor') || roles.includes('expert')) && !workforceId) {
      ctx.addIssue({ code: 'custom', message: 'vendors and experts need a workforce id', path: ['custom:workforceId'] });
    }
    return { sub: c.sub, username: c['cognito:username'] ?? c.email ?? c.sub, roles, workforceId } satisfies Principal;
  });

export type AuthVariables = { principal: Principal };

/** The JWT verifier for one issuer: resolves the caller or says why not. */
export function tokenVerifier(config: AuthConfig, keys?: JWTVerifyGetKey) {
  const jwks = keys ?? createRemoteJWKSet(new URL(config.jwksUrl), { cooldownDuration: 30_000, timeoutDuration: 5_000 });
  return async (token: string): Promise<{ ok: true; principal: Principal } | { ok: false; reason: string }> => {
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: ['RS256'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      const claims = Claims.safeParse(payload);
      if (!claims.success) return { ok: false, reason: `token claims: ${claims.error.issues[0]?.message ?? 'invalid'}` };
      return { ok: true, principal: claims.data };
    } catch (e) {
      return { ok: false, reason: verifyFailure(e) };
    }
  };
}

/** A short, safe reason (jose's codes), never the token or a stack. */
function verifyFailure(e: unknown): string {
  const code = (e as { code?: string }).code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'the token has expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return `the token's ${(e as { claim?: string }).claim ?? 'claims'} claim is not accepted`;
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'the token algorithm is not accepted (RS256 only)';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'the token signature does not verify';
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JOSE_GENERIC':
      return 'the token could not be verified';
    default:
      return 'the token is not valid';
  }
}

/** Middleware: a valid bearer token or 401 problem; sets `principal`. */
export function authenticate(config: AuthConfig, keys?: JWTVerifyGetKey): MiddlewareHandler<ApiEnv> {
  const verify = tokenVerifier(config, keys);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/.exec(header);
    if (!m) {
      c.header('www-authenticate', 'Bearer');
      return sendProblem(c, makeProblem(401, 'unauthenticated', header ? 'the Authorization header is not a bearer JWT' : 'no bearer token'));
    }
    const r = await verify(m[1]);
    if (!r.ok) {
      c.header('www-authenticate', 'Bearer error="invalid_token"');
      return sendProblem(c, makeProblem(401, 'unauthenticated', r.reason));
    }
    c.set('principal', r.principal);
    await next();
  };
}

/** The actor recorded in the ledger: `<group>:<username>`. */
export function actorOf(p: Principal, role: Role): string {
  return `${role}:${p.username}`;
}
