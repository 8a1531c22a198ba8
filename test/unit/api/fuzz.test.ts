/**
 * fast-check over every route of the table, as a caller the route is for:
 * arbitrary JSON bodies and query strings never get a 5xx, and every refusal is
 * problem+json; a 400 names each field it refuses.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiApp, createApi } from '../../../functions/api/app.js';
import type { Role } from '../../../functions/api/auth.js';
import { ROUTE_TABLE, type RouteRow } from '../../../functions/api/route-table.js';
import { DEMO_USERS, type LocalIssuer, startIssuer } from '../../../infra/local/issuer.js';
import { makeFakeDeps, makeProtocol, seedUploadScenario } from '../fakes.js';
import { concretePath } from './sample-requests.js';

/** A demo user the route is for. */
function callerFor(row: RouteRow): keyof typeof DEMO_USERS {
  if (row.roles === 'public' || row.roles === 'any') return 'pm';
  const roles = row.roles as readonly Role[];
  return (Object.keys(DEMO_USERS) as (keyof typeof DEMO_USERS)[]).find((u) =>
    (DEMO_USERS[u].groups as readonly Role[]).some((g) => roles.includes(g)),
  )!;
}

/** Field names the routes know, so generated objects often get past "unknown field" into the values. */
const KNOWN_KEYS = [
  'aliases', 'sizeBytes', 'sha256Hex', 'decisions', 'caseId', 'label', 'note', 'document', 'filename', 'protocol', 'protocolId',
  'protocolVersion', 'version', 'round', 'limit', 'cursor', 'cases', 'gold', 'kind', 'name', 'capacityPerRound', 'pricePerCase',
  'slaHours', 'qualifications', 'paused', 'reason', 'programId', 'from', 'to', 'format', 'workforceId', 'batchId', 'imageKey',
];
const key = fc.oneof(fc.constantFrom(...KNOWN_KEYS), fc.string({ maxLength: 12 }));
const scalar = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', 'chest-xray@1', 'a'.repeat(64), 'batch-0001', '../../x', 'case-00001', '-1', '1e9'),
  fc.integer(),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.constant(null),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 6 }),
})).value;
const query = fc.dictionary(key, fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('1', '0', '-5', 'csv', 'json', '!!', 'chest-xray@1')), { maxKeys: 4 });

describe('API: fuzzed bodies and queries (fast-check)', () => {
  let issuer: LocalIssuer;
  let app: ApiApp;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    issuer = await startIssuer();
    const deps = makeFakeDeps();
    await seedUploadScenario(deps);
    await deps.repo.putProtocolVersion(makeProtocol());
    app = createApi({ deps, auth: issuer.config, log: () => undefined });
    for (const u of Object.keys(DEMO_USERS)) tokens.set(u, await issuer.issueToken(u));
  });
  afterAll(() => issuer?.close());

  for (const row of ROUTE_TABLE) {
    it(`${row.method.toUpperCase()} ${row.path}: no 5xx, every refusal a problem naming its fields`, async () => {
      const token = tokens.get(callerFor(row))!;
      await fc.assert(
        fc.asyncProperty(json, query, async (body, q) => {
          const qs = new URLSearchParams(q).toString();
          const r = await app.request(`${concretePath(row.path)}${qs ? `?${qs}` : ''}`, {
            method: row.method.toUpperCase(),
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            ...(row.method === 'get' ? {} : { body: JSON.stringify(body) }),
          });
          const text = await r.text();
          expect(r.status, text).toBeLessThan(500);
          if (r.status >= 400) {
            expect(r.headers.get('content-type'), text).toBe('application/problem+json');
            const p = JSON.parse(text) as { type: string; status: number; errors?: { path: string; message: string }[] };
            expect(p.status).toBe(r.status);
            expect(p.type).toMatch(/^urn:goldline:problem:/);
            if (r.status === 400) {
              expect(p.errors?.length, text).toBeGreaterThan(0);
              // zod's refusals carry where the field is; a use case's refusal names the field as it knows it.
              for (const e of p.errors ?? []) expect(e.path, text).toMatch(/^((body|query|path)(\.|\[|$)|[A-Za-z_][\w.[\]-]*$)/);
            }
          }
        }),
        { numRuns: 60, seed: 9 },
      );
    });
  }
});
