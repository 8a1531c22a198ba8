/**
 * Contract routes (PMs write, PMs and QA read): a workforce's contract for a
 * protocol, registered as version 1 and amended by new versions; every version
 * is a ledger event (functions/use-cases/contracts.ts).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { ContractTerms, Identifier } from '../../domain/index.js';
import { amendContract, listContracts, registerContract, showContract } from '../../use-cases/contracts.js';
import type { Deps } from '../../use-cases/ports.js';
import { type ApiApp, BEARER, requireRole } from '../context.js';
import { problemResponses } from '../problem.js';
import { actorFor, json, ProgramParams } from './common.js';

const Cents = z.number().int().min(0).openapi({ description: 'Integer minor units (cents)' });
// Domain schemas may be built before @hono/zod-openapi extends zod: the request shapes are declared here.
const Terms = z
  .strictObject({
    currency: z.string().regex(/^[A-Z]{3}$/).optional().openapi({ example: 'USD' }),
    pricePerAcceptedCaseCents: Cents,
    pricePerReworkCents: Cents,
    slaHours: z.number().positive(),
    lateCredit: z.strictObject({ perLateBatchCents: Cents.optional(), perLateDayCents: Cents.optional() }).optional(),
    rejection: z.discriminatedUnion('rule', [
      z.strictObject({ rule: z.literal('withhold-share'), basisPoints: z.number().int().min(0).max(10_000) }),
      z.strictObject({ rule: z.literal('withhold-per-item'), centsPerItem: Cents }),
    ]),
  })
  .openapi('ContractTerms');
const ContractView = z
  .object({
    contractId: z.string(),
    workforceId: z.string(),
    protocolId: z.string(),
    version: z.number().int(),
    validFrom: z.string(),
    validTo: z.string().optional(),
    terms: z.looseObject({}),
    origin: z.string(),
  })
  .openapi('Contract');
const RegisterBody = z
  .strictObject({
    workforceId: Identifier.clone().openapi({ example: 'vendor-a' }),
    protocolId: Identifier.clone().openapi({ example: 'chest-xray' }),
    validFrom: z.iso.datetime(),
    validTo: z.iso.datetime().optional(),
    terms: Terms,
    reason: z.string().trim().min(1).max(2000).optional(),
  })
  .openapi('ContractRegistration');
const AmendBody = z
  .strictObject({
    validFrom: z.iso.datetime(),
    validTo: z.iso.datetime().nullable().optional().openapi({ description: 'null: open-ended; absent: the latest version’s' }),
    terms: Terms.partial(),
    reason: z.string().trim().min(1).max(2000),
  })
  .openapi('ContractAmendment');
const ContractParams = ProgramParams.extend({ contractId: z.string().min(3).max(129).openapi({ example: 'vendor-a.chest-xray' }) });

export function registerContractRoutes(app: ApiApp, deps: () => Deps): void {
  const tags = ['contracts'];
  const pm = requireRole('pm');
  const read = requireRole('pm', 'qa');

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/contracts',
      operationId: 'listContracts',
      tags,
      summary: "Every version of the program's contracts, oldest first (one workforce's with ?workforceId)",
      security: BEARER,
      middleware: read,
      request: { params: ProgramParams, query: z.object({ workforceId: Identifier.clone().optional() }) },
      responses: { 200: json('Contract versions', z.object({ items: z.array(ContractView) }).openapi('Contracts')), ...problemResponses(400, 401, 403) },
    }),
    async (c) => c.json({ items: await listContracts(deps(), c.req.valid('param').programId, c.req.valid('query')) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/contracts',
      operationId: 'registerContract',
      tags,
      summary: "Registers version 1 of a workforce's contract for a protocol (the same terms again: 200 with it; other terms: 409, amend instead)",
      security: BEARER,
      middleware: pm,
      request: { params: ProgramParams, body: { content: { 'application/json': { schema: RegisterBody } }, required: true } },
      responses: {
        201: json('Registered', z.object({ contract: ContractView, created: z.boolean() })),
        200: json('Already registered with these terms', z.object({ contract: ContractView, created: z.boolean() })),
        ...problemResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const r = await registerContract(deps(), { ...c.req.valid('param'), ...body, terms: ContractTerms.parse(body.terms), actor: actorFor(c) });
      return c.json(r, r.created ? 201 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/programs/{programId}/contracts/{contractId}',
      operationId: 'getContract',
      tags,
      summary: "One contract's versions, oldest first",
      security: BEARER,
      middleware: read,
      request: { params: ContractParams },
      responses: { 200: json('Versions', z.object({ items: z.array(ContractView) })), ...problemResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { programId, contractId } = c.req.valid('param');
      return c.json({ items: await showContract(deps(), programId, contractId) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/programs/{programId}/contracts/{contractId}/amendments',
      operationId: 'amendContract',
      tags,
      summary: 'A new version: the latest terms with these applied, valid from validFrom (earlier work stays under the earlier version)',
      security: BEARER,
      middleware: pm,
      request: { params: ContractParams, body: { content: { 'application/json': { schema: AmendBody } }, required: true } },
      responses: { 201: json('The new version', z.object({ contract: ContractView })), ...problemResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const contract = await amendContract(deps(), { ...c.req.valid('param'), ...c.req.valid('json'), actor: actorFor(c) });
      return c.json({ contract }, 201);
    },
  );
}
