/**
 * QA lead routes (PMs may read them too): scorecards, a program's batches with
 * their scores (accuracy, Wilson interval, κ, per-gold-item results), the ledger
 * in time order with filters and its chain verification, a case's full trace, and CSV/JSON exports of
 * scorecards and accepted labels.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { Identifier } from '../../domain/index.js';
import type { Deps } from '../../use-cases/ports.js';
import {
  type ExportFile,
  ExportInput,
  GetScorecardsInput,
  QueryLedgerInput,
  exportAcceptedLabels,
  exportScorecards,
  getScorecards,
  queryLedger,
} from '../../use-cases/qa-queries.js';
import { CaseTrace, TraceCaseInput, traceCase } from '../../use-cases/case-trace.js';
import { verifyLedger } from '../../use-cases/ledger-verify.js';
import { ListProgramBatchesInput, listProgramBatches } from '../../use-cases/work-queries.js';
import { type ApiApp, type ApiEnv, BEARER, requireRole } from '../context.js';
import { problemResponses } from '../problem.js';
import { json, ProgramParams } from './common.js';

const Loose = z.looseObject({});
type LooseT = z.infer<typeof Loose>;
// Domain schemas may be built before @hono/zod-openapi extends zod (the Lambda entry and the embedded stack load
// the domain first) and then have no .openapi: describe a clone made here.
const Page = (name: string) => z.object({ items: z.array(Loose), next: z.string().optional() }).openapi(name);
const FormatQuery = ExportInput.omit({ programId: true });
const ChainPosition = z.object({ seq: z.number().int(), hash: z.string() });
const LedgerVerificationSchema = z
  .object({
    programId: z.string(),
    ok: z.boolean(),
    events: z.number().int(),
    head: ChainPosition,
    anchors: z.array(ChainPosition),
    problems: z.array(
      z.object({
        seq: z.number().int(),
        eventId: z.string(),
        type: z.string(),
        kind: z.enum(['altered', 'missing', 'reordered', 'duplicate', 'anchor-mismatch']),
        message: z.string(),
      }),
    ),
  })
  .openapi('LedgerVerification');
const TraceQuery = z.object({
  programId: Identifier.clone().optional(),
  verify: z.enum(['true', 'false']).optional().openapi({ description: 'Re-read every label object from S3 (by its version id) and re-hash it' }),
});
const exportResponse = {
  description: 'The file (Content-Disposition names it)',
  content: { 'text/csv': { schema: z.string() }, 'application/json': { schema: z.string() } },
};

/** An export as a download. */
const download = (c: Context<ApiEnv>, file: ExportFile) =>
  c.body(file.body, 200, { 'content-type': file.contentType, 'content-disposition': `attachment; filename="${file.filename.replace(/[^\w.-]/g, '_')}"` });

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
      request: { params: ProgramParams, query: ListProgramBatchesInput.omit({ programId: true }) },
      responses: { 200: json('A page of batches; `next` is the cursor of the next page', Page('ScoredBatches')), ...problemResponses(400, 401, 403) },
    }),
    async (c) => {
      const { programId } = c.req.valid('param');
      const r = await listProgramBatches(deps(), { programId, ...c.req.valid('query') });
      return c.json(r as unknown as { items: LooseT[]; next?: string }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/scorecards',
      operationId: 'getScorecards',
      tags,
      summary: 'Scorecards per protocol and workforce: gold accuracy with its Wilson 95% interval, n, batches, cost',
      security: BEARER,
      middleware: qa,
      request: { params: z.object(GetScorecardsInput.shape) },
      responses: {
        200: json(
          'Scorecards (internal teams included) and the expert panel agreement on adjudications (Cohen κ)',
          z
            .object({
              programId: z.string(),
              items: z.array(Loose),
              expertAgreement: z.object({ experts: z.array(z.string()), rows: z.array(Loose), note: z.string() }),
            })
            .openapi('Scorecards'),
        ),
        ...problemResponses(400, 401, 403),
      },
    }),
    async (c) =>
      c.json(
        (await getScorecards(deps(), c.req.valid('param'))) as unknown as {
          programId: string;
          items: LooseT[];
          expertAgreement: { experts: string[]; rows: LooseT[]; note: string };
        },
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/ledger',
      operationId: 'queryLedger',
      tags,
      summary: 'The ledger in time order, filtered by case, batch, workforce and event kind (cursor pagination)',
      security: BEARER,
      middleware: qa,
      request: { params: ProgramParams, query: QueryLedgerInput.omit({ programId: true }) },
      responses: { 200: json('A page of events', Page('LedgerPage')), ...problemResponses(400, 401, 403) },
    }),
    async (c) => {
      const { programId } = c.req.valid('param');
      const r = await queryLedger(deps(), { programId, ...c.req.valid('query') });
      return c.json(r as unknown as { items: LooseT[]; next?: string }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/ledger/verify',
      operationId: 'verifyLedger',
      tags,
      summary: "Checks the program's hash-chained ledger: names every altered, deleted or reordered event and every release head that no longer holds",
      security: BEARER,
      middleware: qa,
      request: { params: ProgramParams },
      responses: { 200: json('The verdict (ok false when the chain is broken; benign duplicates keep it true)', LedgerVerificationSchema), ...problemResponses(400, 401, 403) },
    }),
    async (c) => c.json(await verifyLedger(deps(), c.req.valid('param')), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/cases/{caseId}/trace',
      operationId: 'traceCase',
      tags,
      summary:
        "A case's trace: every label version (workforce, annotator, protocol, batch and round, submission object with " +
        'version id and SHA-256; what superseded it), gold results, adjudications with their decision record, the ' +
        'de-identification gate, ledger events and a timeline. `verify=true` re-reads every object and re-hashes it',
      security: BEARER,
      middleware: qa,
      request: { params: TraceCaseInput.pick({ caseId: true }), query: TraceQuery },
      responses: { 200: json('The trace', CaseTrace.clone().openapi('CaseTrace')), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { verify, ...query } = c.req.valid('query');
      return c.json(await traceCase(deps(), { ...query, ...c.req.valid('param'), verify: verify === 'true' }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/exports/scorecards',
      operationId: 'exportScorecards',
      tags,
      summary: "The program's scorecards as CSV or JSON",
      security: BEARER,
      middleware: qa,
      request: { params: ProgramParams, query: FormatQuery },
      responses: { 200: exportResponse, ...problemResponses(400, 401, 403) },
    }),
    async (c) => download(c, await exportScorecards(deps(), { ...c.req.valid('param'), ...c.req.valid('query') })),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/exports/labels',
      operationId: 'exportAcceptedLabels',
      tags,
      summary: "The program's accepted labels with their lineage, as CSV or JSON",
      security: BEARER,
      middleware: qa,
      request: { params: ProgramParams, query: FormatQuery },
      responses: { 200: exportResponse, ...problemResponses(400, 401, 403) },
    }),
    async (c) => download(c, await exportAcceptedLabels(deps(), { ...c.req.valid('param'), ...c.req.valid('query') })),
  );
}
