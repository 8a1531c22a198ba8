/**
 * Vendor and expert work routes: a workforce's own batches, a batch with its
 * manifest URL, presigned image URLs by alias, upload slots and upload reports.
 * The workforce id always comes from the token; another workforce's batch,
 * upload or report answers exactly like one that does not exist (404, the use
 * cases' own NotFoundError).
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Deps } from '../../use-cases/ports.js';
import { ListWorkforceBatchesInput, listWorkforceBatches } from '../../use-cases/work-queries.js';
import { UploadSlotRequest, getImageUrls, getUploadReport, getVendorBatch, requestUploadSlot } from '../../use-cases/vendor-portal.js';
import type { Role } from '../auth.js';
import { type ApiApp, BEARER, requireRole } from '../context.js';
import { problemResponses } from '../problem.js';
import { json, workforceOf } from './common.js';

const WORK_ROLES: Role[] = ['vendor', 'expert'];

/** Path ids are only bounded here: the use case treats a malformed id like a missing one (same 404). */
const BatchParams = z.object({ batchId: z.string().min(1).max(256).openapi({ example: 'demo-cxr-r1-vendor-a-1' }) });
const UploadParams = BatchParams.extend({ uploadId: z.string().min(1).max(256) });

const VendorBatch = z
  .object({
    batchId: z.string(),
    status: z.string(),
    protocol: z.string(),
    items: z.number().int(),
    slaDeadline: z.string().optional(),
    manifestUrl: z.string().openapi({ description: 'Presigned GET of the blinded manifest (aliases and aliased image keys)' }),
    decision: z
      .object({
        outcome: z.enum(['accept', 'reject', 'inconclusive']),
        rule: z.string(),
        reason: z.string(),
        settledWith: z.string().optional(),
      })
      .optional()
      .openapi({ description: 'How the batch was decided from its hidden gold: the rule and its reason with the evidence; a held batch settled later names the batch it was settled with' }),
  })
  .openapi('WorkBatch');

const WorkBatchSummary = z
  .object({
    batchId: z.string(),
    status: z.string(),
    protocol: z.string(),
    round: z.number().int(),
    items: z.number().int(),
    createdAt: z.string(),
    slaDeadline: z.string().optional(),
  })
  .openapi('WorkBatchSummary');

const ImageUrlsRequest = z
  .strictObject({ aliases: z.array(z.string().min(1).max(64)).min(1).max(1000) })
  .openapi('ImageUrlsRequest');
const ImageUrls = z.object({ urls: z.record(z.string(), z.string()) }).openapi('ImageUrls');

const SlotRequest = z.strictObject(UploadSlotRequest.shape).openapi('UploadSlotRequest');
const SlotGrant = z
  .object({
    uploadId: z.string(),
    url: z.string(),
    headers: z.record(z.string(), z.string()).openapi({ description: 'Send exactly these headers with the PUT (they are signed)' }),
    expiresAt: z.string(),
  })
  .openapi('UploadSlot');

const UploadReport = z
  .object({
    status: z.enum(['pending', 'rejected', 'accepted', 'superseded']),
    batchId: z.string().optional(),
    uploadId: z.string().optional(),
    problems: z.array(z.object({ line: z.number().int().openapi({ description: '1-based; 0 for the file as a whole' }), reason: z.string() })).optional(),
    checkedAt: z.string().optional(),
  })
  .openapi('UploadReport');

export function registerWorkRoutes(app: ApiApp, deps: () => Deps): void {
  const tags = ['work (vendor, expert)'];
  const middleware = requireRole(...WORK_ROLES);

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/batches',
      operationId: 'listWorkBatches',
      tags,
      summary: 'Your own batches, newest first (cursor pagination)',
      security: BEARER,
      middleware,
      request: { query: ListWorkforceBatchesInput.omit({ workforceId: true }) },
      responses: {
        200: json(
          'A page of your batches; `next` is the cursor of the next page',
          z.object({ items: z.array(WorkBatchSummary), next: z.string().optional() }).openapi('WorkBatches'),
        ),
        ...problemResponses(400, 401, 403),
      },
    }),
    async (c) => c.json(await listWorkforceBatches(deps(), { ...c.req.valid('query'), workforceId: workforceOf(c) }), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/batches/{batchId}',
      operationId: 'getWorkBatch',
      tags,
      summary: 'One of your batches, with a presigned manifest URL',
      security: BEARER,
      middleware,
      request: { params: BatchParams },
      responses: { 200: json('The batch', VendorBatch), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { batchId } = c.req.valid('param');
      return c.json(await getVendorBatch(deps(), { workforceId: workforceOf(c), batchId }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/batches/{batchId}/image-urls',
      operationId: 'getImageUrls',
      tags,
      summary: 'Presigned GET URLs for images of your batch, by alias',
      security: BEARER,
      middleware,
      request: { params: BatchParams, body: { required: true, content: { 'application/json': { schema: ImageUrlsRequest } } } },
      responses: { 200: json('Alias → URL', ImageUrls), ...problemResponses(400, 401, 403, 404, 413) },
    }),
    async (c) => {
      const { batchId } = c.req.valid('param');
      const { aliases } = c.req.valid('json');
      return c.json({ urls: await getImageUrls(deps(), { workforceId: workforceOf(c), batchId, aliases }) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/batches/{batchId}/uploads',
      operationId: 'requestUploadSlot',
      tags,
      summary: 'An upload slot bound to the declared size and SHA-256 (write-once presigned PUT)',
      security: BEARER,
      middleware,
      request: { params: BatchParams, body: { required: true, content: { 'application/json': { schema: SlotRequest } } } },
      responses: { 201: json('The slot', SlotGrant), ...problemResponses(400, 401, 403, 404, 409, 413) },
    }),
    async (c) => {
      const { batchId } = c.req.valid('param');
      const body = c.req.valid('json');
      return c.json(await requestUploadSlot(deps(), { workforceId: workforceOf(c), batchId, ...body }), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/batches/{batchId}/uploads/{uploadId}',
      operationId: 'getUploadReport',
      tags,
      summary: "An upload's status and validation report (never the gold answers)",
      security: BEARER,
      middleware,
      request: { params: UploadParams },
      responses: { 200: json('The report (status pending until it is validated)', UploadReport), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { batchId, uploadId } = c.req.valid('param');
      return c.json(await getUploadReport(deps(), { workforceId: workforceOf(c), batchId, uploadId }), 200);
    },
  );
}
