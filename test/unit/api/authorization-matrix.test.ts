/**
 * The authorization matrix, generated from the route table: every route × every
 * kind of caller (the five demo users, no token, an expired token, a token of
 * another issuer, an unsigned `alg: none` token) answers with the status the
 * table implies. The routes the application serves must be exactly the table's:
 * a new route without its row fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiApp, createApi } from '../../../functions/api/app.js';
import type { Role } from '../../../functions/api/auth.js';
import { ROUTE_TABLE, type RouteRow } from '../../../functions/api/route-table.js';
import { DEMO_USERS, type LocalIssuer, startIssuer } from '../../../infra/local/issuer.js';
import { makeFakeDeps, seedUploadScenario } from '../fakes.js';
import { concretePath } from './sample-requests.js';

const CALLERS = ['pm', 'qa', 'expert', 'vendor-a', 'vendor-b', 'no token', 'expired token', 'other issuer', 'alg none'] as const;
type Caller = (typeof CALLERS)[number];

function expected(row: RouteRow, caller: Caller): 'allowed' | 401 | 403 {
  if (row.roles === 'public') return 'allowed';
  if (!(caller in DEMO_USERS)) return 401;
  if (row.roles === 'any') return 'allowed';
  const groups: readonly Role[] = DEMO_USERS[caller as keyof typeof DEMO_USERS].groups;
  return groups.some((g) => (row.roles as readonly Role[]).includes(g)) ? 'allowed' : 403;
}

describe('API: authorization matrix (from the route table)', () => {
  let issuer: LocalIssuer;
  let foreign: LocalIssuer;
  let app: ApiApp;
  const tokens = new Map<Caller, string | undefined>();

  beforeAll(async () => {
    issuer = await startIssuer();
    foreign = await startIssuer();
    const deps = makeFakeDeps();
    await seedUploadScenario(deps);
    app = createApi({ deps, auth: issuer.config, log: () => undefined });
    for (const u of Object.keys(DEMO_USERS)) tokens.set(u as Caller, await issuer.issueToken(u));
    tokens.set('no token', undefined);
    tokens.set('expired token', await issuer.issueToken('pm', { expiresIn: -120 }));
    tokens.set('other issuer', await foreign.issueToken('pm'));
    const payload = (await issuer.issueToken('pm')).split('.')[1];
    tokens.set('alg none', `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`);
  });
  afterAll(async () => {
    await issuer?.close();
    await foreign?.close();
  });

  it('serves exactly the routes of the table (a route without its row fails)', () => {
    const served = app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    const table = ROUTE_TABLE.map((r) => `${r.method} ${r.path}`);
    expect([...new Set(served)].sort()).toEqual([...table].sort());
    expect(new Set(table).size).toBe(table.length);
  });

  for (const row of ROUTE_TABLE) {
    it(`${row.method.toUpperCase()} ${row.path}: ${CALLERS.map((c) => `${c} → ${expected(row, c)}`).join(', ')}`, async () => {
      for (const caller of CALLERS) {
        const token = tokens.get(caller);
        const r = await app.request(concretePath(row.path), {
          method: row.method.toUpperCase(),
          headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
          ...(row.method === 'get' ? {} : { body: '{}' }),
        });
        const want = expected(row, caller);
        const text = await r.text();
        const where = `${caller}: ${r.status} ${text.slice(0, 200)}`;
        if (want === 'allowed') {
          expect([401, 403], where).not.toContain(r.status);
          expect(r.status, where).toBeLessThan(500);
          expect(text, where).not.toMatch(/"no route /);
        } else {
          expect(r.status, where).toBe(want);
          expect(r.headers.get('content-type'), where).toBe('application/problem+json');
          expect(JSON.parse(text).type, where).toBe(want === 401 ? 'urn:goldline:problem:unauthenticated' : 'urn:goldline:problem:forbidden');
        }
      }
    });
  }
});
