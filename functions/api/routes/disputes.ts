/**
 * Vendor dispute routes: dispute a rejected batch (optionally one alias of it),
 * list and read one's own disputes. The workforce id always comes from the
 * token; another vendor's batch or dispute answers like one that does not exist.
 * The expert reviews a dispute through the adjudication routes.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { DisputeRequest } from '../../domain/index.js';
import { getDispute, listDisputes, listProgramDisputes, openDispute } from '../../use-cases/disputes.js';
import type { Deps } from '../../use-cases/ports.js';
import { type ApiApp, BEARER, requireRole } from '../context.js';
import { problemResponses } from '../problem.js';
import { ProgramParams, actorFor, json, workforceOf } from './common.js';

/** Path ids are only bounded here: the use case treats a malformed id like a missing one (same 404). */
const BatchParams = z.object({ batchId: z.string().min(1).max(256).openapi({ example: 'demo-cxr-r2-vendor-b-2' }) });
const DisputeParams = z.object({ disputeId: z.string().min(1).max(256).openapi({ example: 'demo-cxr-r2-vendor-b-2-dispute-1' }) });

const DisputeBody = z.strictObject(DisputeRequest.shape).openapi('DisputeRequest');
const Dispute = z
  .object({
    disputeId: z.string(),
    batchId: z.string(),
    alias: z.string().optional(),
    reason: z.string(),
    status: z.enum(['pending-review', 'declined', 'open', 'upheld', 'refused', 'expired']),
    openedAt: z.string(),
    deadline: z.string().optional(),
    decidedAt: z.string().optional(),
    outcome: z.string().optional(),
    rescore: z.object({ before: z.string(), after: z.string() }).optional(),
  })
  .openapi('Dispute');
const ProgramDispute = Dispute.extend({
  workforceId: z.string(),
  goldCaseIds: z.array(z.string()),
  decidedBy: z.string().optional(),
  ledgerReason: z.string().optional(),
}).openapi('ProgramDispute');

export function registerDisputeRoutes(app: ApiApp, deps: () => Deps): void {
  const tags = ['disputes (vendor)'];
  const middleware = requireRole('vendor');

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/batches/{batchId}/disputes',
      operationId: 'openDispute',
      tags,
      summary: 'Dispute the gold answers that rejected one of your batches (optionally one item, by alias), with a reason',
      security: BEARER,
      middleware,
      request: { params: BatchParams, body: { required: true, content: { 'application/json': { schema: DisputeBody } } } },
      responses: { 202: json('Recorded (pending-review): it is queued for an expert, whose deadline it then shows', Dispute), ...problemResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { batchId } = c.req.valid('param');
      const body = c.req.valid('json');
      return c.json(await openDispute(deps(), { ...body, batchId, workforceId: workforceOf(c), openedBy: actorFor(c) }), 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/disputes',
      operationId: 'listDisputes',
      tags,
      summary: 'Your disputes, newest first',
      security: BEARER,
      middleware,
      responses: { 200: json('Your disputes', z.object({ items: z.array(Dispute) }).openapi('Disputes')), ...problemResponses(401, 403) },
    }),
    async (c) => c.json(await listDisputes(deps(), { workforceId: workforceOf(c) }), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/disputes/{disputeId}',
      operationId: 'getDispute',
      tags,
      summary: 'One of your disputes: status, outcome and the re-score of its batch',
      security: BEARER,
      middleware,
      request: { params: DisputeParams },
      responses: { 200: json('The dispute', Dispute), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(await getDispute(deps(), { disputeId: c.req.valid('param').disputeId, workforceId: workforceOf(c) }), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/disputes',
      operationId: 'listProgramDisputes',
      tags: ['qa'],
      summary: "Every dispute of a program, newest first: who disputed, the gold items reviewed, status and the ledger's reason for the outcome",
      security: BEARER,
      middleware: requireRole('pm', 'qa'),
      request: { params: ProgramParams },
      responses: { 200: json('Disputes of the program', z.object({ items: z.array(ProgramDispute) }).openapi('ProgramDisputes')), ...problemResponses(400, 401, 403) },
    }),
    async (c) => c.json(await listProgramDisputes(deps(), c.req.valid('param')), 200),
  );
}
