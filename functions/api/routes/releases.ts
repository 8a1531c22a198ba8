/**
 * Dataset release routes (QA leads and PMs): create a release of a protocol
 * version's accepted labels (written once), list and show releases, page
 * through a release's labels (what a model team trains on), diff two releases
 * and verify one (manifest, labels hash, every label object, ledger anchor).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { Identifier, ReleaseId } from '../../domain/index.js';
import type { Deps } from '../../use-cases/ports.js';
import { ReleaseLabelsInput, createRelease, diffReleases, listReleases, releaseLabels, showRelease, verifyRelease } from '../../use-cases/releases.js';
import { type ApiApp, BEARER, requireRole } from '../context.js';
import { problemResponses } from '../problem.js';
import { actorFor, json, ProgramParams } from './common.js';

// Domain schemas may be built before @hono/zod-openapi extends zod: describe clones made here.
const ReleaseParams = ProgramParams.extend({ releaseId: ReleaseId.clone().openapi({ example: 'rel-0123456789abcdef' }) });
const Anchor = z.object({
  seq: z.number().int(),
  hash: z.string(),
  /** A sharded ledger's: each chain's head (seq is then the event count, hash the heads' digest). */
  heads: z.array(z.object({ chain: z.string(), seq: z.number().int(), hash: z.string() })).optional(),
});
const Summary = z
  .object({
    releaseId: z.string(),
    programId: z.string(),
    protocolId: z.string(),
    version: z.number().int(),
    labels: z.number().int(),
    manifestKey: z.string(),
    manifestSha256: z.string(),
    ledgerHead: Anchor,
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .openapi('ReleaseSummary');
const Label = z.looseObject({ caseId: z.string(), batchId: z.string(), workforceId: z.string(), submissionSha256: z.string() }).openapi('ReleaseLabel');
const Problem = z.object({ check: z.string(), caseId: z.string().optional(), batchId: z.string().optional(), detail: z.string() });
const CreateBody = z
  .object({
    protocolId: Identifier.clone().openapi({ example: 'chest-xray' }),
    version: z.number().int().min(1),
    note: z.string().min(1).max(1000).optional(),
  })
  .openapi('ReleaseRequest');

export function registerReleaseRoutes(app: ApiApp, deps: () => Deps): void {
  const tags = ['releases'];
  const qa = requireRole('qa', 'pm');

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/releases',
      operationId: 'createRelease',
      tags,
      summary:
        "Releases a protocol version's accepted labels: a manifest with each label's lineage and SHA-256, written once " +
        '(S3 Object Lock in AWS) and recorded in the ledger. The same labels are the same release (200 with it)',
      security: BEARER,
      middleware: qa,
      request: { params: ProgramParams, body: { content: { 'application/json': { schema: CreateBody } }, required: true } },
      responses: {
        201: json('Released', z.object({ release: Summary, created: z.boolean() })),
        200: json('These labels were already released: that release', z.object({ release: Summary, created: z.boolean() })),
        ...problemResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const r = await createRelease(deps(), { ...c.req.valid('param'), ...c.req.valid('json'), actor: actorFor(c) });
      return c.json(r, r.created ? 201 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/releases',
      operationId: 'listReleases',
      tags,
      summary: "The program's releases, oldest first (those recorded in the ledger)",
      security: BEARER,
      middleware: qa,
      request: { params: ProgramParams, query: z.object({ protocolId: Identifier.clone().optional() }) },
      responses: { 200: json('Releases', z.object({ programId: z.string(), items: z.array(Summary) }).openapi('Releases')), ...problemResponses(400, 401, 403) },
    }),
    async (c) => c.json(await listReleases(deps(), { ...c.req.valid('param'), ...c.req.valid('query') }), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/releases/{releaseId}',
      operationId: 'showRelease',
      tags,
      summary: "A release's manifest without its labels (page through them with /labels): protocol version, who and when, ledger anchor, label count and hashes",
      security: BEARER,
      middleware: qa,
      request: { params: ReleaseParams },
      responses: {
        200: json(
          'The release',
          z
            .object({
              releaseId: z.string(),
              programId: z.string(),
              protocolId: z.string(),
              version: z.number().int(),
              createdAt: z.string(),
              createdBy: z.string(),
              note: z.string().optional(),
              ledgerHead: Anchor,
              labelCount: z.number().int(),
              labelsSha256: z.string(),
              manifestSha256: z.string(),
            })
            .openapi('Release'),
        ),
        ...problemResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { labels, ...m } = await showRelease(deps(), c.req.valid('param'));
      return c.json({ ...m, labelCount: labels.length }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/releases/{releaseId}/labels',
      operationId: 'releaseLabels',
      tags,
      summary: "A release's labels by case with their lineage (one case's with caseId; cursor pagination): reuse them instead of re-labelling",
      security: BEARER,
      middleware: qa,
      request: { params: ReleaseParams, query: ReleaseLabelsInput.omit({ programId: true, releaseId: true }) },
      responses: {
        200: json('A page of labels', z.object({ releaseId: z.string(), protocol: z.string(), items: z.array(Label), next: z.string().optional() }).openapi('ReleaseLabels')),
        ...problemResponses(400, 401, 403, 404),
      },
    }),
    async (c) => c.json(await releaseLabels(deps(), { ...c.req.valid('param'), ...c.req.valid('query') }), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/releases/{releaseId}/diff',
      operationId: 'diffReleases',
      tags,
      summary: 'What changed from this release to another (`to`), by case: added, removed, changed with the fields that changed',
      security: BEARER,
      middleware: qa,
      request: { params: ReleaseParams, query: z.object({ to: ReleaseId.clone().openapi({ example: 'rel-fedcba9876543210' }) }) },
      responses: {
        200: json(
          'The diff',
          z
            .object({
              from: z.string(),
              to: z.string(),
              added: z.array(Label),
              removed: z.array(Label),
              changed: z.array(z.object({ caseId: z.string(), fields: z.array(z.string()), before: z.array(Label), after: z.array(Label) })),
              unchanged: z.number().int(),
            })
            .openapi('ReleaseDiff'),
        ),
        ...problemResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { programId, releaseId } = c.req.valid('param');
      return c.json(await diffReleases(deps(), { programId, from: releaseId, to: c.req.valid('query').to }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/releases/{releaseId}/verify',
      operationId: 'verifyRelease',
      tags,
      summary:
        'Re-checks a release: its ledger event, the manifest SHA-256 and labels hash, every label against its stored label ' +
        'and its submission object (re-read by version id and re-hashed), and the ledger chain at its anchor',
      security: BEARER,
      middleware: qa,
      request: { params: ReleaseParams },
      responses: {
        200: json(
          'The verdict (ok false names every problem)',
          z
            .object({
              releaseId: z.string(),
              programId: z.string(),
              ok: z.boolean(),
              manifestSha256: z.string().optional(),
              labels: z.number().int(),
              objectsChecked: z.number().int(),
              ledgerHead: Anchor.optional(),
              problems: z.array(Problem),
            })
            .openapi('ReleaseVerification'),
        ),
        ...problemResponses(400, 401, 403, 404),
      },
    }),
    async (c) => c.json(await verifyRelease(deps(), c.req.valid('param')), 200),
  );
}
