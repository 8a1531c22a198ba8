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
import { getQualityReport } from '../../use-cases/quality-report.js';
import { type ApiApp, BEARER, requireRole } from '../context.js';
import { problemResponses } from '../problem.js';
import { json } from './common.js';

// Clones: domain schemas may be built before @hono/zod-openapi extends zod (see qa.ts).
const ProgramParams = z.object({ programId: Identifier.clone().openapi({ example: 'demo-cxr' }) });
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
}
