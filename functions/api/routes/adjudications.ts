/**
 * Expert adjudication routes: the open adjudications, one with presigned URLs
 * to the competing labels and the images, and a decision. The expert's team is
 * its token's workforce; the expert id is its user name.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { AdjudicationDecision, decideAdjudication } from '../../use-cases/adjudication.js';
import { GetAdjudicationInput, ListOpenAdjudicationsInput, getAdjudication, listOpenAdjudications } from '../../use-cases/adjudication-queries.js';
import { completeDisputeRequest, completeDisputeRequests } from '../../use-cases/disputes.js';
import type { Deps } from '../../use-cases/ports.js';
import { type ApiApp, BEARER, requireRole } from '../context.js';
import { problemResponses } from '../problem.js';
import { json, workforceOf } from './common.js';

const Loose = z.looseObject({});
const DecisionBody = z.strictObject({ decisions: AdjudicationDecision.shape.decisions.max(10_000) }).openapi('AdjudicationDecision');

export function registerAdjudicationRoutes(app: ApiApp, deps: () => Deps): void {
  const tags = ['expert'];
  const expert = requireRole('expert');

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/adjudications',
      operationId: 'listOpenAdjudications',
      tags,
      summary: 'Open adjudications, oldest first (optionally of one program)',
      security: BEARER,
      middleware: expert,
      request: { query: ListOpenAdjudicationsInput },
      responses: { 200: json('Open adjudications', z.object({ items: z.array(Loose) }).openapi('Adjudications')), ...problemResponses(400, 401, 403) },
    }),
    async (c) => {
      // A vendor's dispute is recorded by WorkApi (no gold access); this function queues its review first.
      await completeDisputeRequests(deps(), c.req.valid('query'));
      return c.json((await listOpenAdjudications(deps(), c.req.valid('query'))) as unknown as { items: z.infer<typeof Loose>[] }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/adjudications/{adjudicationId}',
      operationId: 'getAdjudication',
      tags,
      summary: 'One adjudication: per case the competing labels (presigned GETs of their files), the image and the allowed choices',
      security: BEARER,
      middleware: expert,
      request: { params: GetAdjudicationInput },
      responses: { 200: json('The adjudication', Loose.openapi('Adjudication')), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      await completeDisputeRequest(deps(), c.req.valid('param').adjudicationId);
      return c.json((await getAdjudication(deps(), c.req.valid('param'))) as unknown as z.infer<typeof Loose>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/adjudications/{adjudicationId}/decision',
      operationId: 'decideAdjudication',
      tags,
      summary: 'Decide every case of an adjudication (once; a repeat changes nothing)',
      security: BEARER,
      middleware: expert,
      request: { params: GetAdjudicationInput, body: { required: true, content: { 'application/json': { schema: DecisionBody } } } },
      responses: {
        200: json('Decided (or already decided)', z.object({ status: z.enum(['decided', 'already-decided']), decidedBy: z.string() }).openapi('AdjudicationDecided')),
        ...problemResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { adjudicationId } = c.req.valid('param');
      const { decisions } = c.req.valid('json');
      await completeDisputeRequest(deps(), adjudicationId);
      const r = await decideAdjudication(deps(), { adjudicationId, workforceId: workforceOf(c), expertId: c.get('principal').username, decisions });
      return c.json(r, 200);
    },
  );
}
