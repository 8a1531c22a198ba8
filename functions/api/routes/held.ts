/**
 * A PM decides a vendor's held (inconclusive) batches that no further batch
 * will decide (functions/use-cases/held-batches.ts; docs/acceptance-sampling.md,
 * The lifecycle): the SPRT's truncation rule on their pooled gold, recorded and
 * applied like any decision.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { Identifier } from '../../domain/index.js';
import { decideHeldBatches } from '../../use-cases/held-batches.js';
import type { Deps } from '../../use-cases/ports.js';
import { type ApiApp, BEARER, requireRole } from '../context.js';
import { problemResponses } from '../problem.js';
import { json } from './common.js';

// Domain schemas may be built before @hono/zod-openapi extends zod: the request shapes are declared here.
const Params = z.object({ programId: Identifier.clone(), workforceId: Identifier.clone() });
const HeldDecisionRequest = z
  .strictObject({
    protocol: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}@[1-9]\d{0,5}$/, 'a protocol version as id@version, e.g. chest-xray@1')
      .openapi({ example: 'chest-xray@1' }),
  })
  .openapi('HeldDecisionRequest');
const HeldDecision = z
  .object({
    decision: z.enum(['accepted', 'rejected', 'none']),
    batches: z.array(z.string()),
    reason: z.string(),
  })
  .openapi('HeldDecision');

export function registerHeldBatchRoutes(app: ApiApp, deps: () => Deps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/workforces/{workforceId}/held-decision',
      operationId: 'decideHeldBatches',
      tags: ['pm'],
      summary: "Decide a vendor's held (inconclusive) batches of a protocol version by the SPRT's truncation rule, when no further batch will decide them",
      security: BEARER,
      middleware: requireRole('pm'),
      request: { params: Params, body: { content: { 'application/json': { schema: HeldDecisionRequest } }, required: true } },
      responses: { 200: json('The decision and the batches it settled (none: nothing held)', HeldDecision), ...problemResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { programId, workforceId } = c.req.valid('param');
      const { protocol } = c.req.valid('json');
      return c.json(await decideHeldBatches(deps(), { programId, workforceId, protocol }), 200);
    },
  );
}
