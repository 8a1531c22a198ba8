/**
 * QA lead routes (PMs may read them too): a program's batches with their scores
 * (accuracy, Wilson interval, κ, per-gold-item results).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { Identifier } from '../../domain/index.js';
import { ListProgramBatchesInput, listProgramBatches } from '../../use-cases/work-queries.js';
import type { Deps } from '../../use-cases/ports.js';
import { type ApiApp, BEARER, requireRole } from '../context.js';
import { problemResponses } from '../problem.js';
import { json } from './common.js';

const Loose = z.looseObject({});
// Domain schemas may be built before @hono/zod-openapi extends zod (the Lambda entry and the embedded stack load
// the domain first) and then have no .openapi: describe a clone made here.
const ProgramParams = z.object({ programId: Identifier.clone().openapi({ example: 'demo-cxr' }) });
const BatchesQuery = ListProgramBatchesInput.omit({ programId: true });

export function registerQaRoutes(app: ApiApp, deps: () => Deps): void {
  const tags = ['qa'];
  const qa = requireRole('qa', 'pm');

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/batches',
      operationId: 'listProgramBatches',
      tags,
      summary: "A program's batches with their scores, round by round (cursor pagination)",
      security: BEARER,
      middleware: qa,
      request: { params: ProgramParams, query: BatchesQuery },
      responses: {
        200: json('A page of batches; `next` is the cursor of the next page', z.object({ items: z.array(Loose), next: z.string().optional() }).openapi('ScoredBatches')),
        ...problemResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { programId } = c.req.valid('param');
      const r = await listProgramBatches(deps(), { programId, ...c.req.valid('query') });
      return c.json(r as unknown as { items: z.infer<typeof Loose>[]; next?: string }, 200);
    },
  );
}
