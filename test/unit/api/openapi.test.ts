/** The OpenAPI 3.1 document the API serves: valid by a validator library, and listing every route of the route table. */
import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../../functions/api/app.js';
import { ROUTE_TABLE } from '../../../functions/api/route-table.js';
import { type LocalIssuer, startIssuer } from '../../../infra/local/issuer.js';
import { makeFakeDeps } from '../fakes.js';

describe('API: OpenAPI document', () => {
  let issuer: LocalIssuer;
  let doc: OpenAPIV3_1.Document;
  beforeAll(async () => {
    issuer = await startIssuer();
    const app = createApi({ deps: makeFakeDeps(), auth: issuer.config });
    const r = await app.request('/v1/openapi.json');
    expect(r.status).toBe(200);
    doc = (await r.json()) as OpenAPIV3_1.Document;
  });
  afterAll(() => issuer?.close());

  it('validates as OpenAPI 3.1', async () => {
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('lists every route of the route table, with its bearer requirement and problem responses', () => {
    const listed = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
      Object.keys(item ?? {})
        .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
        .map((m) => `${m} ${path}`),
    );
    expect(listed.sort()).toEqual(ROUTE_TABLE.map((r) => `${r.method} ${r.path}`).sort());
    for (const row of ROUTE_TABLE) {
      const paths: Record<string, unknown> = doc.paths ?? {};
      const op = paths[row.path] as Record<string, OpenAPIV3_1.OperationObject>;
      expect(op, row.path).toBeDefined();
      const operation = op[row.method];
      expect(operation.operationId, row.path).toBeTruthy();
      if (row.roles === 'public') continue;
      expect(operation.security, row.path).toEqual([{ bearer: [] }]);
      expect(Object.keys(operation.responses ?? {}), row.path).toContain('401');
    }
  });

  it('refuses what the validator refuses (the check is not empty)', async () => {
    const broken = structuredClone(doc) as unknown as { paths: Record<string, Record<string, { responses?: unknown }>> };
    broken.paths['/v1/me'].get.responses = { 200: { content: { 'application/json': { schema: { $ref: '#/components/schemas/NoSuchSchema' } } } } };
    await expect(SwaggerParser.validate(broken as never)).rejects.toThrow();
  });
});
