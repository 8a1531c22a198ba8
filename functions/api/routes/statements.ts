/**
 * Statement routes: a workforce's statement for a period, folded from the
 * ledger (JSON or CSV), issued (stored with its ledger anchor), listed and read
 * back. A PM reads any workforce's; a vendor reads only its own: another
 * workforce's statement answers exactly like a workforce that does not exist
 * (404, same body), so a vendor learns nothing about who else works here.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { Identifier } from '../../domain/index.js';
import { NotFoundError } from '../../use-cases/errors.js';
import type { Deps } from '../../use-cases/ports.js';
import { issueStatement, listIssuedStatements, previewStatement, showIssuedStatement, statementCsv } from '../../use-cases/statements.js';
import { type ApiApp, type ApiEnv, BEARER, requireRole } from '../context.js';
import { problemResponses } from '../problem.js';
import { actorFor, json, ProgramParams } from './common.js';

const Params = ProgramParams.extend({ workforceId: Identifier.clone().openapi({ example: 'vendor-a' }) });
const Period = z.object({
  from: z.iso.datetime().openapi({ description: 'Start (inclusive), ISO 8601 UTC', example: '2026-11-01T00:00:00.000Z' }),
  to: z.iso.datetime().openapi({ description: 'End (exclusive), ISO 8601 UTC', example: '2026-12-01T00:00:00.000Z' }),
});
const StatementView = z
  .object({
    programId: z.string(),
    workforceId: z.string(),
    from: z.string(),
    to: z.string(),
    currency: z.string(),
    lines: z.array(z.looseObject({ batchId: z.string(), amountCents: z.number().int(), rule: z.string() })),
    totals: z.looseObject({ totalCents: z.number().int(), pendingCents: z.number().int() }),
  })
  .openapi('Statement');
const Issued = z
  .object({
    eventId: z.string(),
    at: z.string(),
    actor: z.string(),
    data: z.looseObject({ statementId: z.string(), key: z.string(), sha256: z.string(), totalCents: z.number().int(), anchor: z.object({ seq: z.number().int(), hash: z.string() }) }),
  })
  .openapi('StatementIssued');

/** The path's workforce, if the caller may read its statements: a vendor only its own (else the same 404 as a missing workforce). */
function readableWorkforce(c: Context<ApiEnv>, programId: string, workforceId: string): string {
  if (c.get('role') === 'vendor' && c.get('principal').workforceId !== workforceId) {
    throw new NotFoundError(`no statement: workforce ${workforceId} is not registered in program ${programId}`);
  }
  return workforceId;
}

const issuedView = (e: { eventId: string; at: string; actor: string; data: z.infer<typeof Issued>['data'] }) => ({ eventId: e.eventId, at: e.at, actor: e.actor, data: e.data });

export function registerStatementRoutes(app: ApiApp, deps: () => Deps): void {
  const tags = ['statements'];
  const read = requireRole('pm', 'vendor');

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/workforces/{workforceId}/statement',
      operationId: 'getStatement',
      tags,
      summary:
        "A workforce's statement for a period as the ledger gives it now: per batch the items delivered, accepted, rejected and re-done elsewhere, " +
        'SLA miss and credit, amount (cents) and the rule; totals; pending (inconclusive) batches not billed. format=csv: one row per line',
      security: BEARER,
      middleware: read,
      request: { params: Params, query: Period.extend({ format: z.enum(['json', 'csv']).optional() }) },
      responses: {
        200: { description: 'The statement', content: { 'application/json': { schema: StatementView }, 'text/csv': { schema: z.string() } } },
        ...problemResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { programId, workforceId } = c.req.valid('param');
      const { from, to, format } = c.req.valid('query');
      const s = await previewStatement(deps(), { programId, workforceId: readableWorkforce(c, programId, workforceId), from, to });
      if (format === 'csv') {
        const name = `statement-${workforceId}-${from.slice(0, 10)}-${to.slice(0, 10)}.csv`;
        return c.body(statementCsv(s), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"` });
      }
      return c.json(s, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/workforces/{workforceId}/statements',
      operationId: 'issueStatement',
      tags,
      summary: 'Issues the statement for a period: stored write-once with its ledger anchor and recorded (statement.issued); the same lines again answer the stored one (200)',
      security: BEARER,
      middleware: requireRole('pm'),
      request: { params: Params, body: { content: { 'application/json': { schema: Period }, }, required: true } },
      responses: {
        201: json('Issued', z.object({ issued: Issued, statement: StatementView, created: z.boolean() })),
        200: json('Already issued with these lines', z.object({ issued: Issued, statement: StatementView, created: z.boolean() })),
        ...problemResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const r = await issueStatement(deps(), { ...c.req.valid('param'), ...c.req.valid('json'), actor: actorFor(c) });
      return c.json({ issued: issuedView(r.issued), statement: r.statement.statement, created: r.created }, r.created ? 201 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/workforces/{workforceId}/statements',
      operationId: 'listStatements',
      tags,
      summary: "The workforce's issued statements, oldest first",
      security: BEARER,
      middleware: read,
      request: { params: Params },
      responses: { 200: json('Issued statements', z.object({ items: z.array(Issued) }).openapi('IssuedStatements')), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { programId, workforceId } = c.req.valid('param');
      const id = readableWorkforce(c, programId, workforceId);
      if (!(await deps().repo.listWorkforces(programId)).some((w) => w.workforceId === id)) {
        throw new NotFoundError(`no statement: workforce ${workforceId} is not registered in program ${programId}`);
      }
      return c.json({ items: (await listIssuedStatements(deps(), programId, id)).map(issuedView) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/workforces/{workforceId}/statements/issued',
      operationId: 'getIssuedStatement',
      tags,
      summary: 'The latest statement issued for a period, as stored (its SHA-256 checked against the ledger)',
      security: BEARER,
      middleware: read,
      request: { params: Params, query: Period },
      responses: { 200: json('The stored statement', z.object({ issued: Issued, statement: StatementView })), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { programId, workforceId } = c.req.valid('param');
      const r = await showIssuedStatement(deps(), { programId, workforceId: readableWorkforce(c, programId, workforceId), ...c.req.valid('query') });
      return c.json({ issued: issuedView(r.issued), statement: r.statement.statement }, 200);
    },
  );
}
