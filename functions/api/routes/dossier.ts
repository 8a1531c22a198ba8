/**
 * The regulatory dossier of a release (QA leads and PMs): export it (JSON and
 * printable HTML to the exports bucket, recorded in the ledger) and read the
 * exported HTML back.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { Identifier, ReleaseId } from '../../domain/index.js';
import { exportDossier, readDossierFile } from '../../use-cases/dossier.js';
import { NotFoundError } from '../../use-cases/errors.js';
import type { Deps } from '../../use-cases/ports.js';
import { type ApiApp, BEARER, requireRole } from '../context.js';
import { problemResponses } from '../problem.js';
import { actorFor, json } from './common.js';

// Clones: domain schemas may be built before @hono/zod-openapi extends zod (see qa.ts).
const Params = z.object({
  programId: Identifier.clone().openapi({ example: 'demo-cxr' }),
  releaseId: ReleaseId.clone().openapi({ example: 'rel-0123456789abcdef' }),
});
const File = z.object({ key: z.string(), sha256: z.string(), bytes: z.number().int() });
const DossierExport = z
  .object({
    releaseId: z.string(),
    programId: z.string(),
    protocol: z.string(),
    generatedAt: z.string(),
    json: File,
    html: File,
    ledger: z.object({ verified: z.boolean(), anchorHolds: z.boolean(), head: z.object({ seq: z.number(), hash: z.string() }).nullable() }),
  })
  .openapi('DossierExport');

export function registerDossierRoutes(app: ApiApp, deps: () => Deps): void {
  const tags = ['qa'];
  const qa = requireRole('qa', 'pm');

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/releases/{releaseId}/dossier',
      operationId: 'exportDossier',
      tags,
      summary:
        'Export the regulatory dossier of a release (protocol versions and diffs, workforces, gold and agreement statistics with ' +
        'intervals, acceptance rule and its error rates, adjudications, de-identification results, re-annotation history, ledger ' +
        'verification) as dossier.json and printable dossier.html in the exports bucket; answers their keys and SHA-256s',
      security: BEARER,
      middleware: qa,
      request: { params: Params },
      responses: { 200: json('The exported files', DossierExport), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { programId, releaseId } = c.req.valid('param');
      return c.json(await exportDossier(deps(), { programId, releaseId, actor: actorFor(c) }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/releases/{releaseId}/dossier',
      operationId: 'getDossierHtml',
      tags,
      summary: 'The last exported dossier of a release: its printable HTML document (default) or its JSON (`format=json`)',
      security: BEARER,
      middleware: qa,
      request: { params: Params, query: z.object({ format: z.enum(['html', 'json']).optional() }) },
      responses: {
        200: { description: 'The document', content: { 'text/html': { schema: z.string() }, 'application/json': { schema: z.looseObject({}) } } },
        ...problemResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { programId, releaseId } = c.req.valid('param');
      const format = c.req.valid('query').format ?? 'html';
      const file = await readDossierFile(deps(), { programId, releaseId, format });
      if (!file) throw new NotFoundError(`release ${releaseId} has no exported dossier: POST this path to export one`);
      const type = format === 'json' ? 'application/json' : 'text/html; charset=utf-8';
      return c.body(new TextDecoder().decode(file), 200, { 'content-type': type });
    },
  );
}
