/**
 * Statement routes: a workforce's statement for a period, folded from the
 * ledger (JSON or CSV), issued (stored with its ledger anchor), listed and read
 * back. PMs use the program routes for any workforce. A vendor uses
 * `/v1/statements…`, where its workforce always comes from its token (like the
 * work routes, and served by the same function in AWS: API.workRoutes): it can
 * name no other workforce, so it learns nothing about who else works here; the
 * program routes answer a vendor 403 by role, whatever workforce it names.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { Identifier, type Statement } from '../../domain/index.js';
import { NotFoundError } from '../../use-cases/errors.js';
import type { Deps } from '../../use-cases/ports.js';
import { issueStatement, listIssuedStatements, previewStatement, showIssuedStatement, statementCsv } from '../../use-cases/statements.js';
import { type ApiApp, type ApiEnv, BEARER, requireRole } from '../context.js';
import { problemResponses } from '../problem.js';
import { actorFor, json, ProgramParams, workforceOf } from './common.js';

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

const issuedView = (e: { eventId: string; at: string; actor: string; data: z.infer<typeof Issued>['data'] }) => ({ eventId: e.eventId, at: e.at, actor: e.actor, data: e.data });

export function registerStatementRoutes(app: ApiApp, deps: () => Deps): void {
  const tags = ['statements'];
  const pm = requireRole('pm');
  const vendor = requireRole('vendor');

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
      middleware: pm,
      request: { params: Params, query: Period.extend({ format: z.enum(['json', 'csv']).optional() }) },
      responses: {
        200: { description: 'The statement', content: { 'application/json': { schema: StatementView }, 'text/csv': { schema: z.string() } } },
        ...problemResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { programId, workforceId } = c.req.valid('param');
      const { from, to, format } = c.req.valid('query');
      return statementAnswer(c, await previewStatement(deps(), { programId, workforceId, from, to }), format);
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
      middleware: pm,
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
      middleware: pm,
      request: { params: Params },
      responses: { 200: json('Issued statements', z.object({ items: z.array(Issued) }).openapi('IssuedStatements')), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { programId, workforceId } = c.req.valid('param');
      return c.json({ items: await issuedOf(deps(), programId, workforceId) }, 200);
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
      middleware: pm,
      request: { params: Params, query: Period },
      responses: { 200: json('The stored statement', z.object({ issued: Issued, statement: StatementView })), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { programId, workforceId } = c.req.valid('param');
      const r = await showIssuedStatement(deps(), { programId, workforceId, ...c.req.valid('query') });
      return c.json({ issued: issuedView(r.issued), statement: r.statement.statement }, 200);
    },
  );

  // A vendor's own statements: the workforce is the token's.
  const VendorQuery = Period.extend({ programId: Identifier.clone().openapi({ example: 'demo-cxr' }) });
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/statements',
      operationId: 'getOwnStatement',
      tags,
      summary: 'Your statement for a period in a program, as the ledger gives it now (format=csv: one row per line)',
      security: BEARER,
      middleware: vendor,
      request: { query: VendorQuery.extend({ format: z.enum(['json', 'csv']).optional() }) },
      responses: {
        200: { description: 'Your statement', content: { 'application/json': { schema: StatementView }, 'text/csv': { schema: z.string() } } },
        ...problemResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { programId, from, to, format } = c.req.valid('query');
      return statementAnswer(c, await previewStatement(deps(), { programId, workforceId: workforceOf(c), from, to }), format);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/statements/issued',
      operationId: 'listOwnIssuedStatements',
      tags,
      summary: 'Your issued statements in a program, oldest first; with from and to, the one issued for that period as stored',
      security: BEARER,
      middleware: vendor,
      request: { query: z.object({ programId: Identifier.clone().openapi({ example: 'demo-cxr' }), from: z.iso.datetime().optional(), to: z.iso.datetime().optional() }) },
      responses: {
        200: json('Your issued statements, or the one for the period', z.object({ items: z.array(Issued), statement: StatementView.optional() })),
        ...problemResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { programId, from, to } = c.req.valid('query');
      const workforceId = workforceOf(c);
      if (from && to) {
        const r = await showIssuedStatement(deps(), { programId, workforceId, from, to });
        return c.json({ items: [issuedView(r.issued)], statement: r.statement.statement }, 200);
      }
      return c.json({ items: await issuedOf(deps(), programId, workforceId) }, 200);
    },
  );
}

/** A statement as JSON, or as a CSV download. */
function statementAnswer(c: Context<ApiEnv>, s: Statement, format?: 'json' | 'csv') {
  if (format !== 'csv') return c.json(s, 200);
  const name = `statement-${s.workforceId}-${s.from.slice(0, 10)}-${s.to.slice(0, 10)}.csv`;
  return c.body(statementCsv(s), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"` });
}

/** A registered workforce's issued statements (404 for a workforce the program does not have). */
async function issuedOf(deps: Deps, programId: string, workforceId: string) {
  if (!(await deps.repo.listWorkforces(programId)).some((w) => w.workforceId === workforceId)) {
    throw new NotFoundError(`no statement: workforce ${workforceId} is not registered in program ${programId}`);
  }
  return (await listIssuedStatements(deps, programId, workforceId)).map(issuedView);
}
