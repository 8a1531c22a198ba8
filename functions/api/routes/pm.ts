/**
 * Program manager routes: protocol versions (register from the YAML/JSON
 * document, read, diff), routing dry run, workforces, case ingest, rounds
 * (dispatch, status), share approval and the quarantine. Each route parses its
 * input with zod and calls one use case; the actor recorded is `pm:<username>`.
 */
import { isDeepStrictEqual } from 'node:util';
import { createRoute, z } from '@hono/zod-openapi';
import { Case, GoldLabel, Identifier, Workforce } from '../../domain/index.js';
import { diffProtocolVersions, dryRunRouting, formatProtocolDiff, parseProtocolDocument } from '../../domain/protocol-document.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../use-cases/errors.js';
import type { Deps } from '../../use-cases/ports.js';
import { findProtocol } from '../../use-cases/protocol-ref.js';
import { listQuarantined, releaseQuarantinedCase } from '../../use-cases/quarantine.js';
import { approveShares } from '../../use-cases/rebalance.js';
import { ingestCases, registerProtocolVersion, registerWorkforce } from '../../use-cases/setup-program.js';
import { getRoundStatus } from '../../use-cases/work-queries.js';
import { ListShareProposalsInput, RefuseSharesInput, listShareProposals, refuseShares } from '../../use-cases/shares.js';
import { WorkforcePatch, changeWorkforce, listWorkforces } from '../../use-cases/workforces.js';
import { AssignCasesInput, assignCases } from '../../use-cases/assignments.js';
import { CompleteCaseIngestInput, completeCaseIngest, ingestCaseManifest } from '../../use-cases/case-ingest.js';
import { PlanRoundPreviewInput, planRoundPreview } from '../../use-cases/round-planning.js';
import { type ApiApp, BEARER, requireRole } from '../context.js';
import type { RoundDispatcher } from '../lambda-dispatch.js';
import { ProblemError, makeProblem, problemResponses } from '../problem.js';
import { actorFor, json, ProgramParams } from './common.js';

/** Most cases one ingest request may carry (the body limit is 8 MiB). */
export const MAX_CASES_PER_REQUEST = 10_000;

// Domain schemas may be built before @hono/zod-openapi extends zod (the Lambda entry and the embedded stack load
// the domain first) and then have no .openapi: describe a clone made here.
const RoundParams = ProgramParams.extend({ round: z.coerce.number().int().min(1).max(100_000).openapi({ type: 'integer', example: 1 }) });
const ProtocolParams = z.object({ protocolId: Identifier.clone().openapi({ example: 'chest-xray' }) });
const VersionParams = ProtocolParams.extend({ version: z.coerce.number().int().min(1).max(999_999_999).openapi({ type: 'integer', example: 1 }) });
const ProtocolRef = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}@[1-9]\d{0,8}$/, 'a protocol reference id@version (e.g. chest-xray@1)')
  .openapi({ example: 'chest-xray@1' });

const Loose = z.looseObject({});
const ProtocolDocumentRequest = z
  .strictObject({
    document: z.string().min(1).max(256 * 1024).openapi({ description: 'The protocol version as YAML or JSON text (examples/protocols)' }),
    filename: z.string().max(200).optional().openapi({ description: 'Tells YAML from JSON by extension when the text does not' }),
  })
  .openapi('ProtocolDocument');
const Registered = z
  .object({ status: z.enum(['created', 'unchanged']), protocol: z.string(), warnings: z.array(z.string()) })
  .openapi('ProtocolRegistered');

const WorkforceBody = z
  .strictObject({
    kind: Workforce.shape.kind,
    name: Workforce.shape.name,
    capacityPerRound: Workforce.shape.capacityPerRound,
    pricePerCase: Workforce.shape.pricePerCase,
    slaHours: Workforce.shape.slaHours,
    qualifications: z.array(z.string().min(1).max(64)).max(50).optional(),
    paused: z.boolean().optional(),
  })
  .openapi('WorkforceTerms');

const CaseRow = z.strictObject(Case.omit({ quarantineRelease: true, assignment: true, excludedWorkforces: true }).shape);
const IngestRequest = z
  .strictObject({
    protocolId: Identifier,
    protocolVersion: z.number().int().min(1).max(999_999_999).optional(),
    cases: z.array(CaseRow).max(MAX_CASES_PER_REQUEST),
    gold: z.array(z.strictObject(GoldLabel.shape)).max(MAX_CASES_PER_REQUEST).default([]),
  })
  .openapi('CaseIngest');

const DispatchRequest = z
  .strictObject({
    protocolId: Identifier,
    version: z.number().int().min(1).max(999_999_999),
    round: z.number().int().min(1).max(100_000),
    limit: z.number().int().min(1).max(1_000_000).optional(),
  })
  .openapi('DispatchRound');
const ApproveRequest = z.strictObject({ protocolId: Identifier, version: z.number().int().min(1).max(999_999_999) }).openapi('ApproveShares');
const DryRunRequest = z.strictObject({ protocol: ProtocolRef }).openapi('DryRunRequest');
const QuarantineQuery = z.strictObject({ protocol: ProtocolRef });
const ReleaseRequest = z.strictObject({ protocol: ProtocolRef, reason: z.string().trim().min(1).max(2000) }).openapi('QuarantineRelease');
const DiffQuery = z.strictObject({
  from: z.coerce.number().int().min(1).max(999_999_999).openapi({ type: 'integer' }),
  to: z.coerce.number().int().min(1).max(999_999_999).openapi({ type: 'integer' }),
});

const body = <S extends z.ZodType>(schema: S) => ({ required: true, content: { 'application/json': { schema } } });

export function registerPmRoutes(app: ApiApp, deps: () => Deps, dispatch: RoundDispatcher): void {
  const tags = ['program manager'];
  const pm = requireRole('pm');
  const pmOrQa = requireRole('pm', 'qa');

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/protocols',
      operationId: 'registerProtocolVersion',
      tags,
      summary: 'Register a protocol version from its YAML/JSON document (same content: no-op; other content under a used version: 409 with the diff)',
      security: BEARER,
      middleware: pm,
      request: { body: body(ProtocolDocumentRequest) },
      responses: {
        201: json('Registered', Registered),
        200: json('Already registered with this content (nothing changed)', Registered),
        ...problemResponses(400, 401, 403, 409, 413),
      },
    }),
    async (c) => {
      const { document, filename } = c.req.valid('json');
      const parsed = parseProtocolDocument(document, { filename });
      if (!parsed.ok) {
        throw new ProblemError(
          makeProblem(400, 'invalid-request', parsed.problems[0] ?? 'not a protocol document', {
            errors: parsed.problems.map((message) => ({ path: 'body.document', message })),
          }),
        );
      }
      const p = parsed.protocol;
      const ref = `${p.protocolId}@${p.version}`;
      const before = await deps().repo.getProtocolVersion(p.protocolId, p.version);
      try {
        await registerProtocolVersion(deps(), p);
      } catch (e) {
        const stored = e instanceof ConflictError ? await deps().repo.getProtocolVersion(p.protocolId, p.version) : undefined;
        if (!stored) throw e;
        const changes = diffProtocolVersions(stored, p);
        throw new ProblemError(
          makeProblem(409, 'conflict', `protocol ${ref} exists with other content: versions are immutable, register a new version`, {
            changes,
            diff: formatProtocolDiff(changes),
          }),
        );
      }
      const status: 'created' | 'unchanged' = before && isDeepStrictEqual(before, p) ? 'unchanged' : 'created';
      return c.json({ status, protocol: ref, warnings: parsed.warnings }, status === 'created' ? 201 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/protocols/{protocolId}/versions/{version}',
      operationId: 'getProtocolVersion',
      tags,
      summary: 'A registered protocol version',
      security: BEARER,
      middleware: pmOrQa,
      request: { params: VersionParams },
      responses: { 200: json('The protocol version', Loose.openapi('ProtocolVersion')), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { protocolId, version } = c.req.valid('param');
      const p = await findProtocol(deps(), `${protocolId}@${version}`);
      if (!p) throw new NotFoundError(`protocol ${protocolId}@${version} not found`);
      return c.json(p as z.infer<typeof Loose>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/protocols/{protocolId}/diff',
      operationId: 'diffProtocolVersions',
      tags,
      summary: 'What changed between two versions of a protocol',
      security: BEARER,
      middleware: pmOrQa,
      request: { params: ProtocolParams, query: DiffQuery },
      responses: {
        200: json('Changes, and the same in words', z.object({ changes: z.array(Loose), text: z.string() }).openapi('ProtocolDiff')),
        ...problemResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { protocolId } = c.req.valid('param');
      const { from, to } = c.req.valid('query');
      const [a, b] = await Promise.all([findProtocol(deps(), `${protocolId}@${from}`), findProtocol(deps(), `${protocolId}@${to}`)]);
      if (!a) throw new NotFoundError(`protocol ${protocolId}@${from} not found`);
      if (!b) throw new NotFoundError(`protocol ${protocolId}@${to} not found`);
      const changes = diffProtocolVersions(a, b);
      return c.json({ changes: changes as unknown as z.infer<typeof Loose>[], text: formatProtocolDiff(changes) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/dry-run',
      operationId: 'dryRunRouting',
      tags,
      summary: "Route the program's cases by a protocol version without writing anything, with a reason per case",
      security: BEARER,
      middleware: pm,
      request: { params: ProgramParams, body: body(DryRunRequest) },
      responses: { 200: json('Per-case routing and a summary', Loose.openapi('DryRun')), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { programId } = c.req.valid('param');
      const { protocol: ref } = c.req.valid('json');
      const protocol = await findProtocol(deps(), ref);
      if (!protocol) throw new NotFoundError(`protocol ${ref} not found`);
      const cases = await deps().repo.listCases(programId);
      return c.json(dryRunRouting(cases, protocol) as unknown as z.infer<typeof Loose>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/workforces',
      operationId: 'listWorkforces',
      tags,
      summary: "The program's workforces with their terms and status",
      security: BEARER,
      middleware: pmOrQa,
      request: { params: ProgramParams },
      responses: { 200: json('Workforces', z.object({ items: z.array(Loose) }).openapi('Workforces')), ...problemResponses(400, 401, 403) },
    }),
    async (c) => {
      const { programId } = c.req.valid('param');
      return c.json((await listWorkforces(deps(), { programId })) as unknown as { items: z.infer<typeof Loose>[] }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/programs/{programId}/workforces/{workforceId}',
      operationId: 'putWorkforce',
      tags,
      summary: 'Create a workforce or set its terms (capacity, price, SLA, qualifications, paused)',
      security: BEARER,
      middleware: pm,
      request: { params: ProgramParams.extend({ workforceId: Identifier }), body: body(WorkforceBody) },
      responses: { 200: json('The workforce', Loose.openapi('Workforce')), ...problemResponses(400, 401, 403, 413) },
    }),
    async (c) => {
      const { programId, workforceId } = c.req.valid('param');
      const terms = c.req.valid('json');
      const { recentGold: _r, goldSeen: _g, ...w } = await registerWorkforce(deps(), programId, { workforceId, ...terms }, actorFor(c));
      return c.json(w, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/programs/{programId}/workforces/{workforceId}',
      operationId: 'changeWorkforce',
      tags,
      summary: 'Change some terms of a workforce, or pause/resume it (recorded in the ledger with you as actor)',
      security: BEARER,
      middleware: pm,
      request: { params: ProgramParams.extend({ workforceId: Identifier }), body: body(WorkforcePatch.clone().openapi('WorkforcePatch')) },
      responses: { 200: json('What changed', Loose.openapi('WorkforceChange')), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { programId, workforceId } = c.req.valid('param');
      const patch = c.req.valid('json');
      const r = await changeWorkforce(deps(), { programId, workforceId, patch, actor: actorFor(c) });
      return c.json(r as unknown as z.infer<typeof Loose>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/share-proposals',
      operationId: 'listShareProposals',
      tags,
      summary: 'Proposed shares per round (pending, approved, refused, lapsed) with their changes and who decided',
      security: BEARER,
      middleware: pmOrQa,
      request: { params: z.object(ListShareProposalsInput.shape) },
      responses: { 200: json('Proposals', z.object({ items: z.array(Loose) }).openapi('ShareProposals')), ...problemResponses(400, 401, 403) },
    }),
    async (c) => c.json((await listShareProposals(deps(), c.req.valid('param'))) as unknown as { items: z.infer<typeof Loose>[] }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/rounds/{round}/shares/refuse',
      operationId: 'refuseShares',
      tags,
      summary: "Refuse a round's proposed shares with a reason (the round keeps the previous shares)",
      security: BEARER,
      middleware: pm,
      request: { params: RoundParams, body: body(RefuseSharesInput.pick({ protocolId: true, reason: true }).openapi('RefuseShares')) },
      responses: { 200: json('Refused', Loose.openapi('SharesRefused')), ...problemResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { programId, round } = c.req.valid('param');
      const { protocolId, reason } = c.req.valid('json');
      const r = await refuseShares(deps(), { programId, round, protocolId, reason, actor: actorFor(c) });
      return c.json(r as unknown as z.infer<typeof Loose>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/cases',
      operationId: 'ingestCases',
      tags,
      summary: 'Ingest case rows and expert gold labels (the de-identification gate reads every image)',
      security: BEARER,
      middleware: pm,
      request: { params: ProgramParams, body: body(IngestRequest) },
      responses: {
        200: json(
          'Counts, gated cases and undeclared attribute values',
          z.object({ cases: z.number(), gold: z.number(), gated: z.number(), undeclared: z.array(z.object({ caseId: z.string(), problems: z.array(z.string()) })) }).openapi('CaseIngestResult'),
        ),
        ...problemResponses(400, 401, 403, 404, 413),
      },
    }),
    async (c) => {
      const { programId } = c.req.valid('param');
      const req = c.req.valid('json');
      return c.json(await ingestCases(deps(), { programId, ...req, actor: actorFor(c) }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/cases/manifest',
      operationId: 'ingestCaseManifest',
      tags,
      summary: 'Take a case manifest (JSON or CSV: header row, flags.* and subgroup.* columns) and get one presigned PUT slot per new case image',
      description: 'Send the manifest as the body with Content-Type application/json or text/csv. Upload each image to its slot, then complete the ingest.',
      security: BEARER,
      middleware: pm,
      request: {
        params: ProgramParams,
        query: z.strictObject({ protocol: ProtocolRef }),
        body: {
          required: true,
          content: { 'application/json': { schema: z.any().openapi({ description: 'The JSON manifest' }) }, 'text/csv': { schema: z.string() } },
        },
      },
      responses: { 201: json('The ingest id and an image slot per new case', Loose.openapi('ManifestAccepted')), ...problemResponses(400, 401, 403, 404, 413, 415) },
    }),
    async (c) => {
      const { programId } = c.req.valid('param');
      const { protocol } = c.req.valid('query');
      const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
      let format: 'json' | 'csv';
      let text: string;
      if (type === 'text/csv') {
        format = 'csv';
        text = await c.req.text();
      } else if (type === 'application/json') {
        format = 'json';
        text = JSON.stringify(c.req.valid('json'));
      } else {
        throw new ProblemError(makeProblem(415, 'unsupported-media-type', 'send the manifest as application/json or text/csv'));
      }
      const r = await ingestCaseManifest(deps(), { programId, protocol, format, body: text, actor: actorFor(c) });
      return c.json(r as unknown as z.infer<typeof Loose>, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/cases/manifest/{ingestId}/complete',
      operationId: 'completeCaseIngest',
      tags,
      summary: 'Ingest the cases whose images were uploaded: the de-identification gate runs, and each case gets its verdict',
      security: BEARER,
      middleware: pm,
      request: { params: ProgramParams.extend({ ingestId: CompleteCaseIngestInput.shape.ingestId }) },
      responses: { 200: json('Per-case verdicts, and cases still awaiting their image', Loose.openapi('IngestCompleted')), ...problemResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { programId, ingestId } = c.req.valid('param');
      const r = await completeCaseIngest(deps(), { programId, ingestId, actor: actorFor(c) });
      return c.json(r as unknown as z.infer<typeof Loose>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/assignments',
      operationId: 'assignCases',
      tags,
      summary: 'Assign chosen pending cases to a workforce with a reason (an explicit override of the shares; the gate still holds)',
      security: BEARER,
      middleware: pm,
      request: { params: ProgramParams, body: body(AssignCasesInput.omit({ programId: true, actor: true }).openapi('AssignCases')) },
      responses: { 200: json('Assigned and refused cases (with why)', Loose.openapi('CasesAssigned')), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { programId } = c.req.valid('param');
      const r = await assignCases(deps(), { programId, ...c.req.valid('json'), actor: actorFor(c) });
      return c.json(r as unknown as z.infer<typeof Loose>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/round-preview',
      operationId: 'planRoundPreview',
      tags,
      summary: 'Plan the next round without dispatching it: shares, per-workforce counts, and where each case would go and why',
      security: BEARER,
      middleware: pm,
      request: { params: ProgramParams, query: PlanRoundPreviewInput.omit({ programId: true }) },
      responses: { 200: json('The plan', Loose.openapi('RoundPreview')), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { programId } = c.req.valid('param');
      const r = await planRoundPreview(deps(), { programId, ...c.req.valid('query') });
      return c.json(r as unknown as z.infer<typeof Loose>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/rounds',
      operationId: 'dispatchRound',
      tags,
      summary: 'Plan and dispatch a round: batches with hidden gold, one lifecycle execution each',
      security: BEARER,
      middleware: pm,
      request: { params: ProgramParams, body: body(DispatchRequest) },
      responses: { 201: json('The dispatched round', Loose.openapi('DispatchedRound')), ...problemResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { programId } = c.req.valid('param');
      const req = c.req.valid('json');
      const r = await dispatch({ programId, ...req, actor: actorFor(c) });
      return c.json(r as unknown as z.infer<typeof Loose>, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/rounds/{round}',
      operationId: 'getRoundStatus',
      tags,
      summary: "A round's batches and how far each has come",
      security: BEARER,
      middleware: pmOrQa,
      request: { params: RoundParams },
      responses: { 200: json('Round status', Loose.openapi('RoundStatus')), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { programId, round } = c.req.valid('param');
      return c.json((await getRoundStatus(deps(), { programId, round })) as unknown as z.infer<typeof Loose>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/rounds/{round}/shares/approve',
      operationId: 'approveShares',
      tags,
      summary: "Approve a round's proposed shares (rebalancing mode approval)",
      security: BEARER,
      middleware: pm,
      request: { params: RoundParams, body: body(ApproveRequest) },
      responses: { 200: json('The shares the round dispatches with', z.object({ shares: z.record(z.string(), z.number()) }).openapi('ApprovedShares')), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { programId, round } = c.req.valid('param');
      const { protocolId, version } = c.req.valid('json');
      return c.json({ shares: await approveShares(deps(), { programId, protocolId, version, round, actor: actorFor(c) }) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/quarantine',
      operationId: 'listQuarantined',
      tags,
      summary: 'Cases the de-identification gate holds back, with their findings, and past releases',
      security: BEARER,
      middleware: pm,
      request: { params: ProgramParams, query: QuarantineQuery },
      responses: { 200: json('The quarantine', Loose.openapi('Quarantine')), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { programId } = c.req.valid('param');
      const { protocol } = c.req.valid('query');
      return c.json((await listQuarantined(deps(), { programId, protocol })) as unknown as z.infer<typeof Loose>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/quarantine/{caseId}/release',
      operationId: 'releaseQuarantinedCase',
      tags,
      summary: 'Release a quarantined case with a recorded reason (it may then reach vendors)',
      security: BEARER,
      middleware: pm,
      request: { params: ProgramParams.extend({ caseId: Identifier }), body: body(ReleaseRequest) },
      responses: {
        200: json('Released', z.object({ caseId: z.string(), overrides: z.array(z.string()), eventId: z.string() }).openapi('QuarantineReleased')),
        ...problemResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { programId, caseId } = c.req.valid('param');
      const { protocol, reason } = c.req.valid('json');
      const by = actorFor(c);
      if (!/^pm:[A-Za-z0-9._@-]{1,64}$/.test(by)) throw new InvalidInputError(`your user name cannot be recorded as a releaser (${by})`);
      return c.json(await releaseQuarantinedCase(deps(), { programId, protocol, caseId, by, reason }), 200);
    },
  );
}
