/**
 * A PM decides a vendor's held (inconclusive) batches that no further batch
 * will decide (functions/use-cases/held-batches.ts; docs/acceptance-sampling.md,
 * The lifecycle): the SPRT's truncation rule on their pooled gold, recorded with
 * who asked and why, and applied like any decision (settled, finalized, billed).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { Identifier } from '../../domain/index.js';
import { decideHeldBatches } from '../../use-cases/held-batches.js';
import type { Deps } from '../../use-cases/ports.js';
import { type ApiApp, BEARER, requireRole } from '../context.js';
import { problemResponses } from '../problem.js';
import { actorFor, json, ProgramParams } from './common.js';

// Domain schemas may be built before @hono/zod-openapi extends zod: the request shapes are declared here.
const HeldDecisionRequest = z
  .strictObject({
    workforceId: Identifier.clone().openapi({ example: 'vendor-a' }),
    protocol: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}@[1-9]\d{0,5}$/, 'a protocol version as id@version, e.g. chest-xray@1')
      .openapi({ example: 'chest-xray@1' }),
    reason: z.string().trim().min(1).max(2000).openapi({ description: 'Why no further batch will decide them (kept in the ledger)', example: 'program closed' }),
  })
  .openapi('HeldDecisionRequest');
const HeldDecision = z
  .object({
    decision: z.enum(['accepted', 'rejected', 'none']),
    batches: z.array(z.string()).openapi({ description: 'The held batches it settled' }),
    reason: z.string().openapi({ description: "The rule's reason, or why there was nothing to decide" }),
    decisionId: z.string().optional().openapi({ description: 'Its held-batches.decided event, and the decidedWith of each carried verdict' }),
  })
  .openapi('HeldDecision');

export function registerHeldBatchRoutes(app: ApiApp, deps: () => Deps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/held-batches/decide',
      operationId: 'decideHeldBatches',
      tags: ['pm'],
      summary:
        "Decide a vendor's held (inconclusive) batches of a protocol version now, by the SPRT's truncation rule, when no further batch will (asked twice: decided once)",
      security: BEARER,
      middleware: requireRole('pm'),
      request: { params: ProgramParams, body: { content: { 'application/json': { schema: HeldDecisionRequest } }, required: true } },
      responses: { 200: json('The decision and the batches it settled (none: nothing held)', HeldDecision), ...problemResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const r = await decideHeldBatches(deps(), { programId: c.req.valid('param').programId, ...c.req.valid('json'), actor: actorFor(c) });
      return c.json(r, 200);
    },
  );
}
