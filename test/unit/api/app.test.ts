/**
 * The API application's front: who may call (JWT rules), and what every refusal
 * looks like (problem+json). Tokens come from the embedded issuer on 127.0.0.1;
 * the use cases run over the in-memory fakes.
 */
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiApp, createApi } from '../../../functions/api/app.js';
import { type LocalIssuer, startIssuer } from '../../../infra/local/issuer.js';
import { type FakeDeps, makeFakeDeps, seedUploadScenario } from '../fakes.js';

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('API: authentication and problem details', () => {
  let issuer: LocalIssuer;
  let other: LocalIssuer;
  let deps: FakeDeps;
  let app: ApiApp;
  const logged: string[] = [];

  beforeAll(async () => {
    issuer = await startIssuer();
    other = await startIssuer();
    deps = makeFakeDeps();
    await seedUploadScenario(deps);
    app = createApi({ deps, auth: issuer.config, log: (l) => logged.push(l) });
  });
  afterAll(async () => {
    await issuer?.close();
    await other?.close();
  });

  const call = (path: string, token?: string, init: RequestInit = {}) =>
    app.request(path, { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) } });

  async function expectProblem(r: Response, status: number, slug: string) {
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    const body = (await r.json()) as { type: string; title: string; status: number; detail: string };
    expect(body).toMatchObject({ type: `urn:goldline:problem:${slug}`, status });
    expect(body.title.length).toBeGreaterThan(0);
    expect(body.detail.length).toBeGreaterThan(0);
    return body;
  }

  it('says who the token names', async () => {
    const r = await call('/v1/me', await issuer.issueToken('vendor-a'));
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ username: 'vendor-a', roles: ['vendor'], workforceId: 'vendor-a', actor: 'vendor:vendor-a' });
  });

  it('refuses a request without a token, or with a header that is not a bearer JWT', async () => {
    expect((await expectProblem(await call('/v1/me'), 401, 'unauthenticated')).detail).toBe('no bearer token');
    await expectProblem(await call('/v1/me', undefined, { headers: { authorization: 'Basic YWxpY2U6eA==' } }), 401, 'unauthenticated');
  });

  it('refuses an expired token', async () => {
    const body = await expectProblem(await call('/v1/me', await issuer.issueToken('pm', { expiresIn: -60 })), 401, 'unauthenticated');
    expect(body.detail).toBe('the token has expired');
  });

  it('refuses a token from another issuer', async () => {
    await expectProblem(await call('/v1/me', await other.issueToken('pm')), 401, 'unauthenticated');
  });

  it("refuses a token signed with another key under this issuer's name", async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ token_use: 'id', 'cognito:groups': ['pm'], 'cognito:username': 'mallory' })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(issuer.config.issuer)
      .setAudience(issuer.config.audience)
      .setSubject('x')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    await expectProblem(await call('/v1/me', forged), 401, 'unauthenticated');
  });

  it('refuses alg none and HS256 (the JWKS public key used as an HMAC secret)', async () => {
    const good = await issuer.issueToken('pm');
    const [, payload] = good.split('.');
    const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    await expectProblem(await call('/v1/me', none), 401, 'unauthenticated');
    const jwks = await (await fetch(issuer.config.jwksUrl)).text();
    const hs = await new SignJWT(JSON.parse(Buffer.from(payload, 'base64url').toString()))
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(jwks));
    const body = await expectProblem(await call('/v1/me', hs), 401, 'unauthenticated');
    expect(body.detail).toMatch(/algorithm|signature|not valid/);
  });

  it('refuses a token for another audience, an access token, and a vendor token without a workforce', async () => {
    await expectProblem(await call('/v1/me', await issuer.issueToken('pm', { claims: { aud: 'someone-else' } })), 401, 'unauthenticated');
    await expectProblem(await call('/v1/me', await issuer.issueToken('pm', { claims: { token_use: 'access' } })), 401, 'unauthenticated');
    const noWorkforce = await issuer.issueToken('vendor-a', { claims: { 'custom:workforceId': undefined } });
    const body = await expectProblem(await call('/v1/me', noWorkforce), 401, 'unauthenticated');
    expect(body.detail).toMatch(/workforce/);
  });

  it('serves the OpenAPI document without a token', async () => {
    const r = await call('/v1/openapi.json');
    expect(r.status).toBe(200);
    const doc = (await r.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/v1/me');
  });

  it('answers an unknown route with a 404 problem', async () => {
    await expectProblem(await call('/v1/no-such-thing', await issuer.issueToken('pm')), 404, 'not-found');
  });

  it('refuses a role the route is not for with a 403 problem', async () => {
    await expectProblem(await call('/v1/batches/batch-0001', await issuer.issueToken('qa')), 403, 'forbidden');
  });

  it('answers bad input with a 400 naming each field, and refuses unknown fields', async () => {
    const token = await issuer.issueToken('vendor-a');
    const post = (body: unknown) =>
      call('/v1/batches/batch-0001/uploads', token, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const body = (await expectProblem(await post({ sizeBytes: -1, sha256Hex: 'XYZ' }), 400, 'invalid-request')) as unknown as {
      errors: { path: string; message: string }[];
    };
    expect(body.errors.map((e) => e.path).sort()).toEqual(['body.sha256Hex', 'body.sizeBytes']);
    const extra = (await expectProblem(await post({ sizeBytes: 10, sha256Hex: 'a'.repeat(64), key: 'x' }), 400, 'invalid-request')) as unknown as {
      errors: { path: string; message: string }[];
    };
    expect(extra.errors).toEqual([{ path: 'body.key', message: 'unknown field "key"' }]);
  });

  it('answers a body that is not JSON with a 400 problem', async () => {
    const r = await call('/v1/batches/batch-0001/uploads', await issuer.issueToken('vendor-a'), {
      method: 'POST',
      body: '{"sizeBytes":',
      headers: { 'content-type': 'application/json' },
    });
    await expectProblem(r, 400, 'invalid-request');
  });

  it('refuses a body over the limit with a 413 problem before parsing it', async () => {
    const r = await call('/v1/batches/batch-0001/image-urls', await issuer.issueToken('vendor-a'), {
      method: 'POST',
      body: JSON.stringify({ aliases: ['a'.repeat(2 * 1024 * 1024)] }),
      headers: { 'content-type': 'application/json' },
    });
    await expectProblem(r, 413, 'payload-too-large');
  });

  it("answers another workforce's batch exactly like a missing one", async () => {
    const token = await issuer.issueToken('vendor-b');
    const theirs = await call('/v1/batches/batch-0001', token);
    const missing = await call('/v1/batches/batch-0002', token);
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
    expect((await theirs.text()).replace('batch-0001', 'X')).toBe((await missing.text()).replace('batch-0002', 'X'));
  });

  it('answers an internal failure with a 500 problem that says nothing of its internals, and logs it', async () => {
    const failing = makeFakeDeps();
    failing.repo.getBatch = () => Promise.reject(new Error('dynamo exploded at table goldline-main'));
    const broken = createApi({
      deps: failing,
      auth: issuer.config,
      log: (l) => logged.push(l),
    });
    const r = await broken.request('/v1/batches/batch-0001', { headers: { authorization: `Bearer ${await issuer.issueToken('vendor-a')}` } });
    const body = await expectProblem(r, 500, 'internal');
    expect(JSON.stringify(body)).not.toMatch(/dynamo|goldline-main|Error/);
    const reference = /reference ([0-9a-f-]{36})/.exec(body.detail)?.[1];
    expect(logged.some((l) => reference && l.includes(reference) && l.includes('dynamo exploded'))).toBe(true);
  });
});
