/**
 * Qualification and manual-control routes (issue 13; PMs act, QA reads the
 * qualifications): exams (functions/use-cases/exams.ts), waivers and
 * revocations with a reason, a vendor's share cap, and moving pending work to
 * another workforce (functions/use-cases/manual-control.ts).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { Identifier } from '../../domain/index.js';
import { examStatus, revokeQualification, startExam, waiveQualification } from '../../use-cases/exams.js';
import { capShare, moveWork } from '../../use-cases/manual-control.js';
import type { Deps } from '../../use-cases/ports.js';
import { type ApiApp, BEARER, requireRole } from '../context.js';
import { problemResponses } from '../problem.js';
import { actorFor, json, ProgramParams } from './common.js';

// Domain schemas may be built before @hono/zod-openapi extends zod: the request shapes are declared here.
const Id = () => Identifier.clone();
const ProtocolRef = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}@[1-9]\d{0,5}$/, 'a protocol version as id@version, e.g. chest-xray@1')
  .openapi({ example: 'chest-xray@1' });
const Reason = z.string().trim().min(1).max(2000);
const Loose = z.looseObject({});

const ExamRequest = z.strictObject({ workforceId: Id().openapi({ example: 'vendor-c' }), protocol: ProtocolRef }).openapi('ExamRequest');
const QualificationChange = z.strictObject({ workforceId: Id(), protocol: ProtocolRef, reason: Reason }).openapi('QualificationChange');
const ShareCapRequest = z
  .strictObject({
    cap: z.number().gt(0).max(1).nullable().openapi({ description: "The most of the vendor pool's cases per round (0 < cap ≤ 1); null removes the cap", example: 0.2 }),
    reason: Reason,
  })
  .openapi('ShareCap');
const MoveRequest = z
  .strictObject({
    from: Id(),
    to: Id(),
    batchId: Id().optional().openapi({ description: 'An open batch of `from` (planned or awaiting its upload) to withdraw' }),
    caseIds: z.array(Id()).max(1000).optional().openapi({ description: 'Pending cases a PM had assigned to `from`' }),
    protocol: ProtocolRef.optional(),
    reason: Reason,
  })
  .openapi('WorkMove');

export function registerQualificationRoutes(app: ApiApp, deps: () => Deps): void {
  const tags = ['qualification'];
  const pm = requireRole('pm');
  const read = requireRole('pm', 'qa');

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/exams',
      operationId: 'startExam',
      tags,
      summary: "Start (or resume) a workforce's qualification exam on a protocol version: a gold-only batch, blinded like any batch",
      security: BEARER,
      middleware: pm,
      request: { params: ProgramParams, body: { content: { 'application/json': { schema: ExamRequest } }, required: true } },
      responses: { 201: json('The exam batch', Loose.openapi('ExamStarted')), ...problemResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const r = await startExam(deps(), { programId: c.req.valid('param').programId, ...c.req.valid('json'), actor: actorFor(c) });
      return c.json(r as unknown as z.infer<typeof Loose>, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/qualifications',
      operationId: 'listQualifications',
      tags,
      summary: "Each workforce's qualification on a protocol version (status, basis, reason, attempts, pooled exam evidence)",
      security: BEARER,
      middleware: read,
      request: { params: ProgramParams, query: z.object({ protocol: ProtocolRef, workforceId: Id().optional() }) },
      responses: { 200: json('Qualifications', Loose.openapi('Qualifications')), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const r = await examStatus(deps(), { programId: c.req.valid('param').programId, ...c.req.valid('query') });
      return c.json(r as unknown as z.infer<typeof Loose>, 200);
    },
  );

  for (const [path, operationId, summary, run] of [
    ['/v1/programs/{programId}/qualifications/waivers', 'waiveQualification', 'Qualify a workforce without an exam, with a reason', waiveQualification],
    ['/v1/programs/{programId}/qualifications/revocations', 'revokeQualification', "Revoke a workforce's qualification, with a reason", revokeQualification],
  ] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path,
        operationId,
        tags,
        summary,
        security: BEARER,
        middleware: pm,
        request: { params: ProgramParams, body: { content: { 'application/json': { schema: QualificationChange } }, required: true } },
        responses: { 200: json('The qualification after it', Loose.openapi(`${operationId}Result`)), ...problemResponses(400, 401, 403, 404, 409) },
      }),
      async (c) => {
        const r = await run(deps(), { programId: c.req.valid('param').programId, ...c.req.valid('json'), actor: actorFor(c) });
        return c.json(r as unknown as z.infer<typeof Loose>, 200);
      },
    );
  }

  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/programs/{programId}/workforces/{workforceId}/share-cap',
      operationId: 'capShare',
      tags,
      summary: "Cap a vendor's share of the vendor pool (null removes the cap), with a reason; the next round's planner holds it",
      security: BEARER,
      middleware: pm,
      request: {
        params: ProgramParams.extend({ workforceId: Id() }),
        body: { content: { 'application/json': { schema: ShareCapRequest } }, required: true },
      },
      responses: { 200: json('The cap, before and after', Loose.openapi('ShareCapResult')), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { programId, workforceId } = c.req.valid('param');
      const r = await capShare(deps(), { programId, workforceId, ...c.req.valid('json'), actor: actorFor(c) });
      return c.json(r as unknown as z.infer<typeof Loose>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/moves',
      operationId: 'moveWork',
      tags,
      summary: 'Move pending work (an open batch, or assigned pending cases) to another workforce, with a reason',
      security: BEARER,
      middleware: pm,
      request: { params: ProgramParams, body: { content: { 'application/json': { schema: MoveRequest } }, required: true } },
      responses: { 200: json('Moved and refused cases (with why)', Loose.openapi('WorkMoved')), ...problemResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const r = await moveWork(deps(), { programId: c.req.valid('param').programId, ...c.req.valid('json'), actor: actorFor(c) });
      return c.json(r as unknown as z.infer<typeof Loose>, 200);
    },
  );
}
