/**
 * The quality report (QA leads and PMs): every figure the scoring engine
 * computes — gold accuracy and per-class sensitivity/specificity with Wilson
 * intervals, confusion against gold, κ/AC1/Fleiss/α with bootstrap intervals,
 * the annotator agreement matrix, Dawid–Skene confusions, segmentation and
 * detection distributions, operations — grouped as asked.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { Identifier, QualityReport } from '../../domain/index.js';
import type { Deps } from '../../use-cases/ports.js';
import { EXPORT_KINDS, createExport, renderRoundReport } from '../../use-cases/exports.js';
import { getQualityReport } from '../../use-cases/quality-report.js';
import { type ApiApp, BEARER, requireRole } from '../context.js';
import { problemResponses } from '../problem.js';
import { actorFor, json, ProgramParams } from './common.js';

// Clones: domain schemas may be built before @hono/zod-openapi extends zod (see qa.ts).
const QualityQuery = z.object({
  protocol: Identifier.clone().optional().openapi({ description: "The protocol id; omitted: the program's only protocol", example: 'chest-xray' }),
  by: z
    .string()
    .regex(/^(workforce|annotator|round|protocol|subgroup:[A-Za-z][A-Za-z0-9_.-]{0,63})$/)
    .optional()
    .openapi({
      description:
        'Group figures by workforce (default), annotator, round, protocol version, or a case attribute: subgroup:site, subgroup:modality, ' +
        'subgroup:bodyPart, subgroup:scanner, subgroup:flags.<flag>, subgroup:<subgroup key>',
      example: 'workforce',
    }),
  correction: z
    .enum(['holm', 'benjamini-hochberg'])
    .optional()
    .openapi({ description: 'By subgroup: the multiplicity correction of the subgroup-versus-rest tests (default holm)' }),
});

const ExportParams = z.object({
  programId: Identifier.clone().openapi({ example: 'demo-cxr' }),
  what: z.enum(EXPORT_KINDS).openapi({ description: 'scorecards, gold-items (per gold item results) or labels (accepted labels with their lineage)' }),
});
const ExportFormat = z.object({ format: z.enum(['csv', 'json']).openapi({ example: 'csv' }) });
const CreatedExport = z
  .object({
    what: z.enum(EXPORT_KINDS),
    format: z.enum(['csv', 'json']),
    bucket: z.string(),
    key: z.string().openapi({ example: 'exports/demo-cxr/scorecards/0123456789abcdef.csv' }),
    sha256: z.string(),
    rows: z.number().int(),
    bytes: z.number().int(),
    url: z.string().openapi({ description: 'Presigned GET of the object' }),
    expiresInSeconds: z.number().int(),
  })
  .openapi('CreatedExport');
const RoundParams = z.object({
  programId: Identifier.clone().openapi({ example: 'demo-cxr' }),
  round: z.string().regex(/^[1-9]\d{0,5}$/, 'a round number').openapi({ example: '1' }),
});

export function registerQualityRoutes(app: ApiApp, deps: () => Deps): void {
  const tags = ['qa'];
  const qa = requireRole('qa', 'pm');

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/quality',
      operationId: 'getQualityReport',
      tags,
      summary:
        "A protocol's quality report per workforce, annotator, round, protocol version or case attribute: each figure with n, " +
        'interval and "insufficient" below the protocol minimum; agreement matrix, Dawid–Skene confusions, operations',
      security: BEARER,
      middleware: qa,
      request: { params: ProgramParams, query: QualityQuery },
      responses: { 200: json('The quality report', QualityReport.clone().openapi('QualityReport')), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(await getQualityReport(deps(), { ...c.req.valid('param'), ...c.req.valid('query') }), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/exports/{what}',
      operationId: 'createExport',
      tags,
      summary:
        'Write scorecards, per-gold-item results or accepted labels with their lineage as CSV or JSON to the exports bucket ' +
        '(exports/<programId>/<what>/<sha256 prefix>.<format>), record export.created, and answer a presigned GET',
      security: BEARER,
      middleware: qa,
      request: { params: ExportParams, query: ExportFormat },
      responses: { 201: json('The export written', CreatedExport), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(await createExport(deps(), { ...c.req.valid('param'), ...c.req.valid('query'), actor: actorFor(c) }), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/rounds/{round}/report.html',
      operationId: 'getRoundReportHtml',
      tags,
      summary: "A round's quality report as a printable, self-contained HTML page (per workforce: gold results, confusion, agreement, Dawid–Skene, operations)",
      security: BEARER,
      middleware: qa,
      request: { params: RoundParams },
      responses: { 200: { description: 'The HTML page', content: { 'text/html': { schema: z.string() } } }, ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { programId, round } = c.req.valid('param');
      return c.html(await renderRoundReport(deps(), { programId, round: Number(round) }), 200);
    },
  );
}
