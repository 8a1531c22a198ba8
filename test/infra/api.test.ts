/**
 * The front door of the deployed stack (infra/api-construct.ts): the user pool
 * and its groups, the app client, the HTTP API with its JWT authorizer,
 * throttling and access logs, the two API functions' environment, grants and
 * the outputs. The grants are also checked against what the functions really
 * do: their Lambda entry (functions/api.ts), called with API Gateway payload 2.0
 * events on the embedded stack, ingests cases and gold (Api) and works a vendor
 * batch (WorkApi) of a round DispatchRound dispatched; every S3, DynamoDB and Step Functions
 * request each makes (presigns included) must be granted to it in the template.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authFromEnv, DISPATCH_FUNCTION_ENV, makeHandler } from '../../functions/api.js';
import { ROLES } from '../../functions/api/auth.js';
import { ROUTE_TABLE } from '../../functions/api/route-table.js';
import type { RecordedAccess } from '../../functions/adapters/request-recorder.js';
import type { DispatchRoundResult } from '../../functions/use-cases/dispatch-round.js';
import type { VendorManifest } from '../../functions/use-cases/prepare-manifest.js';
import { ACCESS_LOG_FIELDS } from '../../infra/api-construct.js';
import { API, BUCKETS, FUNCTIONS, MAIN_TABLE } from '../../infra/definitions.js';
import { GoldlineStack, ROOT } from '../../infra/goldline-stack.js';
import { PROGRAM_ID, readSyntheticImage } from '../../infra/local/demo/example-program.js';
import { loadBatchKey } from '../../functions/use-cases/batch-key.js';
import { setUpDemoProgram } from '../../infra/local/demo/run-demo.js';
import { registerWorkforce } from '../../functions/use-cases/setup-program.js';
import { type LocalIssuer, startIssuer } from '../../infra/local/issuer.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';
import { apiGatewayEvent } from '../support/api-gateway-event.js';
import { allows, asInAws, checkGrants, grantsOfRole, type TemplateIds, type TemplateJson } from '../support/iam-grants.js';
import { seededRandomSource } from '../../functions/domain/index.js';
import { ESM_BUNDLING } from '../../infra/secure-defaults.js';
import { until } from '../integration/helpers.js';

type Json = Record<string, unknown>;
type Resource = { Type: string; Properties: Json; DeletionPolicy?: string };
type BucketName = keyof typeof BUCKETS;

function synthesize() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new GoldlineStack(app, 'Goldline');
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnElement);
  const template = Template.fromStack(stack);
  const ids: TemplateIds = {
    roles: Object.fromEntries(FUNCTIONS.map((f) => [f.name, id(stack.functions[f.name].role!)])),
    buckets: Object.fromEntries((Object.keys(BUCKETS) as BucketName[]).map((n) => [n, id(stack.buckets[n])])),
    tables: { [MAIN_TABLE.id]: id(stack.table) },
    stateMachines: { batchLifecycle: id(stack.batchLifecycle), roundDispatch: id(stack.roundDispatch) },
  };
  return { stack, template, json: template.toJSON() as TemplateJson & { Outputs: Record<string, { Value: unknown }> }, ids, id };
}

describe('Stack: the HTTP API and its sign-in', () => {
  let s: ReturnType<typeof synthesize>;
  let resources: Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const one = (type: string): [string, Resource] => {
    const found = ofType(type);
    expect(found, type).toHaveLength(1);
    return found[0];
  };

  beforeAll(() => {
    s = synthesize();
    resources = s.json.Resources as Record<string, Resource>;
  });

  describe('user pool', () => {
    it('has one group per role the API knows, and nothing else', () => {
      const groups = ofType('AWS::Cognito::UserPoolGroup').map(([, r]) => r.Properties.GroupName);
      expect([...groups].sort()).toEqual([...ROLES].sort());
      expect([...API.groups].sort()).toEqual([...ROLES].sort());
      for (const [, g] of ofType('AWS::Cognito::UserPoolGroup')) expect(g.Properties.UserPoolId).toEqual({ Ref: s.id(s.stack.api.userPool) });
    });

    it('lets only administrators create accounts, offers TOTP MFA, asks for strong passwords and enforces threat protection', () => {
      const [, pool] = one('AWS::Cognito::UserPool');
      const p = pool.Properties;
      expect(p.AdminCreateUserConfig).toMatchObject({ AllowAdminCreateUserOnly: true });
      expect(p.MfaConfiguration).toBe('OPTIONAL');
      expect(p.EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
      expect((p.Policies as Json).PasswordPolicy).toMatchObject({
        MinimumLength: 14,
        RequireLowercase: true,
        RequireUppercase: true,
        RequireNumbers: true,
        RequireSymbols: true,
        TemporaryPasswordValidityDays: 3,
      });
      expect(p.UserPoolTier).toBe('PLUS');
      expect(p.UserPoolAddOns).toEqual({ AdvancedSecurityMode: 'ENFORCED' });
      expect(p.DeletionProtection).toBe('ACTIVE');
      expect(pool.DeletionPolicy).toBe('Retain');
    });

    it('carries the workforce id as a custom attribute the ID token holds', () => {
      const [, pool] = one('AWS::Cognito::UserPool');
      const schema = pool.Properties.Schema as { Name: string; AttributeDataType: string; Mutable: boolean }[];
      expect(schema).toContainEqual(expect.objectContaining({ Name: API.workforceAttribute, AttributeDataType: 'String', Mutable: true }));
    });

    // A client that may write custom:workforceId would let a vendor rename its own workforce (UpdateUserAttributes with its own token) and read another vendor's batches.
    it("lets nobody change their own workforce id: the app client reads custom:workforceId but cannot write it", () => {
      const [, client] = one('AWS::Cognito::UserPoolClient');
      const c = client.Properties;
      expect(c.ReadAttributes).toContain(`custom:${API.workforceAttribute}`);
      expect(c.WriteAttributes).toEqual(['email']);
    });

    it('has a public app client without a secret or OAuth flows, signing in with SRP', () => {
      const [, client] = one('AWS::Cognito::UserPoolClient');
      const c = client.Properties;
      expect(c.GenerateSecret).toBe(false);
      expect([...(c.ExplicitAuthFlows as string[])].sort()).toEqual(['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH']);
      expect(c.AllowedOAuthFlows).toBeUndefined();
      expect(c.CallbackURLs).toBeUndefined();
      expect(c.PreventUserExistenceErrors).toBe('ENABLED');
      expect(c.EnableTokenRevocation).toBe(true);
    });
  });

  describe('HTTP API', () => {
    const issuerOf = (): unknown => resources[one('AWS::ApiGatewayV2::Authorizer')[0]].Properties.JwtConfiguration;

    it('checks the ID token of the user pool (issuer) and app client (audience) in a JWT authorizer', () => {
      const [, authorizer] = one('AWS::ApiGatewayV2::Authorizer');
      expect(authorizer.Properties).toMatchObject({ AuthorizerType: 'JWT', IdentitySource: ['$request.header.Authorization'] });
      const jwt = issuerOf() as { Issuer: unknown; Audience: unknown[] };
      expect(jwt.Issuer).toEqual({ 'Fn::GetAtt': [s.id(s.stack.api.userPool), 'ProviderURL'] });
      expect(jwt.Audience).toEqual([{ Ref: s.id(s.stack.api.client) }]);
    });

    it('puts the authorizer on every route but the OpenAPI document, and routes nothing outside /v1', () => {
      const [authorizerId] = one('AWS::ApiGatewayV2::Authorizer');
      const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
      expect(routes.map((r) => r.RouteKey).sort()).toEqual(
        [`ANY ${API.basePath}/{proxy+}`, ...API.workRoutes.map((p) => `ANY ${p}`), `GET ${API.openApiPath}`].sort(),
      );
      for (const r of routes) {
        expect(String(r.RouteKey)).toMatch(new RegExp(`^[A-Z]+ ${API.basePath}/`));
        if (r.RouteKey === `GET ${API.openApiPath}`) {
          expect(r.AuthorizationType).toBe('NONE');
        } else {
          expect(r.AuthorizationType, String(r.RouteKey)).toBe('JWT');
          expect(r.AuthorizerId).toEqual({ Ref: authorizerId });
        }
      }
    });

    it("sends vendors' routes to WorkApi and every other /v1 route to Api (payload 2.0), with no CORS", () => {
      const integrations = ofType('AWS::ApiGatewayV2::Integration').map(([id, r]) => ({ id, p: r.Properties }));
      expect(integrations).toHaveLength(2);
      const integrationOf = (fn: 'Api' | 'WorkApi') => {
        const i = integrations.find((x) => JSON.stringify(x.p.IntegrationUri).includes(`"${s.id(s.stack.functions[fn])}"`))!;
        expect(i.p).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
        return { 'Fn::Join': ['', ['integrations/', { Ref: i.id }]] };
      };
      const workPaths: string[] = [...API.workRoutes, API.openApiPath];
      for (const [, r] of ofType('AWS::ApiGatewayV2::Route')) {
        const path = String(r.Properties.RouteKey).split(' ')[1];
        expect(r.Properties.Target, path).toEqual(integrationOf(workPaths.includes(path) ? 'WorkApi' : 'Api'));
      }
      const [, api] = one('AWS::ApiGatewayV2::Api');
      expect(api.Properties.CorsConfiguration).toBeUndefined();
    });

    // The vendor's dispute reads (GET /v1/disputes, /v1/disputes/{disputeId}) went to Api, the function that holds the gold pool.
    it('sends every route a vendor may call to WorkApi: no vendor request reaches the Api function', () => {
      const isWork = (path: string) => API.workRoutes.some((r) => path === r || (r.endsWith('/{proxy+}') && path.startsWith(r.slice(0, -'{proxy+}'.length))));
      const vendors = ROUTE_TABLE.filter((r) => r.roles === 'any' || (r.roles !== 'public' && r.roles.includes('vendor')));
      expect(vendors.length).toBeGreaterThan(5);
      expect(vendors.filter((r) => !isWork(r.path)).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    });

    it('throttles the default stage, which deploys itself', () => {
      const [, stage] = one('AWS::ApiGatewayV2::Stage');
      expect(stage.Properties).toMatchObject({
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: API.throttle.rateLimit, ThrottlingBurstLimit: API.throttle.burstLimit },
      });
    });

    it('logs every request as a line of JSON to a KMS-encrypted log group kept a year, naming the caller by sub and never the token', () => {
      const [, stage] = one('AWS::ApiGatewayV2::Stage');
      const settings = stage.Properties.AccessLogSettings as { DestinationArn: { 'Fn::GetAtt': [string, string] }; Format: string };
      const logGroup = resources[settings.DestinationArn['Fn::GetAtt'][0]];
      expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
      expect(logGroup.Properties).toMatchObject({ KmsKeyId: { 'Fn::GetAtt': [s.id(s.stack.key), 'Arn'] }, RetentionInDays: 365 });
      const format = JSON.parse(settings.Format) as Record<string, string>;
      expect(format).toEqual(ACCESS_LOG_FIELDS);
      expect(format).toMatchObject({ requestId: '$context.requestId', sub: '$context.authorizer.claims.sub', status: '$context.status' });
      expect(settings.Format).not.toMatch(/header|authorization|querystring|body/i);
    });
  });

  describe('API functions', () => {
    const envOf = (fn: 'Api' | 'WorkApi' = 'Api') =>
      (resources[s.id(s.stack.functions[fn])].Properties.Environment as { Variables: Record<string, unknown> }).Variables;

    it('get the issuer, audience and JWKS URL of the user pool; the PM function also the name of DispatchRound', () => {
      expect(envOf('Api')[API.env.dispatchFunction]).toEqual({ Ref: s.id(s.stack.functions.DispatchRound) });
      expect(envOf('WorkApi')[API.env.dispatchFunction]).toBeUndefined();
      for (const fn of ['Api', 'WorkApi'] as const) {
        const env = envOf(fn);
        expect(env[API.env.issuer], fn).toEqual({ 'Fn::GetAtt': [s.id(s.stack.api.userPool), 'ProviderURL'] });
        expect(env[API.env.audience], fn).toEqual({ Ref: s.id(s.stack.api.client) });
        expect(JSON.stringify(env[API.env.jwksUrl]), fn).toContain(`"${s.id(s.stack.api.userPool)}"`);
        expect(JSON.stringify(env[API.env.jwksUrl]), fn).toContain('/.well-known/jwks.json');
      }
    });

    // The stack set GOLDLINE_JWT_* while functions/api.ts read API_AUTH_*: the deployed API would have refused to start.
    it('reads its token issuer from exactly the variables the stack sets', () => {
      const names = Object.keys(envOf());
      for (const n of [API.env.issuer, API.env.audience, API.env.jwksUrl]) expect(names).toContain(n);
      const issuer = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123';
      const env = { [API.env.issuer]: issuer, [API.env.audience]: 'client123', [API.env.jwksUrl]: `${issuer}/.well-known/jwks.json` };
      expect(authFromEnv(env)).toEqual({ issuer, audience: 'client123', jwksUrl: `${issuer}/.well-known/jwks.json` });
      expect(DISPATCH_FUNCTION_ENV).toBe(API.env.dispatchFunction);
    });

    const gold = () => `{${s.ids.buckets.gold}.Arn}`;
    const GOLD_KEYS = ['batch-answers/b.json', 'gold-sets/p/chest-xray.json', 'batch-keys/b.json', 'batch-aliases/b.json', 'other/x.json'];

    it("lets the function vendors' requests reach read or write nothing of the gold bucket, nor start a batch", () => {
      const grants = grantsOfRole(s.json, s.ids.roles.WorkApi);
      for (const key of GOLD_KEYS) {
        for (const action of ['s3:GetObject', 's3:PutObject']) expect(allows(grants, action, `${gold()}/${key}`), `${action} ${key}`).toBe(false);
      }
      expect(allows(grants, 's3:ListBucket', `{${s.ids.buckets.gold}.Arn}`)).toBe(false);
      expect(allows(grants, 'states:StartExecution', `{${s.ids.stateMachines.batchLifecycle}}`)).toBe(false);
      // Its images: the batches' manifests, opaque image keys and legacy aliased copies, not the case images under the PM's keys.
      expect(allows(grants, 's3:GetObject', `{${s.ids.buckets.images}.Arn}/batches/b/manifest.json`)).toBe(true);
      expect(allows(grants, 's3:GetObject', `{${s.ids.buckets.images}.Arn}/opaque/k3m9p2q7r4s8t6v5w3x2y9z8.png`)).toBe(true);
      expect(allows(grants, 's3:PutObject', `{${s.ids.buckets.images}.Arn}/opaque/k3m9p2q7r4s8t6v5w3x2y9z8.png`)).toBe(false);
      expect(allows(grants, 's3:GetObject', `{${s.ids.buckets.images}.Arn}/images/case-0001.pgm`)).toBe(false);
    });

    it("lets the PM function merge gold labels into the gold pool, write an exam batch's key and start it, and correct disputed gold, but nothing else of the gold bucket", () => {
      const grants = grantsOfRole(s.json, s.ids.roles.Api);
      for (const action of ['s3:GetObject', 's3:PutObject']) expect(allows(grants, action, `${gold()}/gold-sets/p/chest-xray.json`), action).toBe(true);
      // A PM's qualification exam (use-cases/exams.ts): its three key objects written, its key re-read on a resume, its lifecycle started.
      for (const key of ['batch-answers/p-r1-vendor-c-q1.json', 'batch-keys/p-r1-vendor-c-q1.json', 'batch-aliases/p-r1-vendor-c-q1.json']) {
        expect(allows(grants, 's3:PutObject', `${gold()}/${key}`), key).toBe(true);
      }
      expect(allows(grants, 's3:GetObject', `${gold()}/batch-keys/p-r1-vendor-c-q1.json`)).toBe(true);
      // An expert's decision on a dispute (use-cases/disputes.ts): the answer's versions, and every batch that held the item re-scored.
      for (const key of ['gold-history/p/chest-xray/g.json', 'batch-answers/b.json', 'batch-aliases/b.json']) expect(allows(grants, 's3:GetObject', `${gold()}/${key}`), key).toBe(true);
      expect(allows(grants, 's3:PutObject', `${gold()}/gold-history/p/chest-xray/g.json`)).toBe(true);
      for (const key of ['round-plans/p/r0001/chunk-00000.json', 'other/x.json']) expect(allows(grants, 's3:GetObject', `${gold()}/${key}`), key).toBe(false);
      expect(allows(grants, 's3:PutObject', `${gold()}/other/x.json`)).toBe(false);
      expect(allows(grants, 'states:StartExecution', `{${s.ids.stateMachines.batchLifecycle}}`)).toBe(true);
    });

    it('lets the PM function invoke DispatchRound (its dispatch route), and nothing else invoke any function', () => {
      const invokes = (fn: string) => grantsOfRole(s.json, s.ids.roles[fn]).filter((g) => g.actions.some((a) => a.startsWith('lambda:')));
      expect(invokes('Api').map((g) => [g.actions, g.resources])).toEqual([[['lambda:InvokeFunction'], [`{${s.id(s.stack.functions.DispatchRound)}.Arn}`]]]);
      expect(invokes('WorkApi')).toEqual([]);
    });
  });

  it('outputs the API URL, the user pool and client ids, the issuer and every function name', () => {
    const outputs = s.json.Outputs;
    expect(JSON.stringify(outputs.ApiUrl.Value)).toContain(`"${s.id(s.stack.api.httpApi)}"`);
    expect(JSON.stringify(outputs.ApiUrl.Value)).toMatch(new RegExp(`${API.basePath}"\\]\\]\\}$`));
    expect(outputs.UserPoolId.Value).toEqual({ Ref: s.id(s.stack.api.userPool) });
    expect(outputs.UserPoolClientId.Value).toEqual({ Ref: s.id(s.stack.api.client) });
    expect(outputs.TokenIssuer.Value).toEqual({ 'Fn::GetAtt': [s.id(s.stack.api.userPool), 'ProviderURL'] });
    for (const f of FUNCTIONS) expect(outputs[`${f.name}FunctionName`]?.Value, f.name).toEqual({ Ref: s.id(s.stack.functions[f.name]) });
  });
});

describe('IAM: the API functions, called as API Gateway calls them on the embedded stack, are granted every request they make', () => {
  let stack: LocalStack;
  let issuer: LocalIssuer;
  let saved: Record<string, string | undefined>;
  let synthesized: ReturnType<typeof synthesize>;
  let accesses: RecordedAccess[];
  /** The distinct requests recorded before the PM's held-batch decision, and before the PM's exam start. */
  let beforeHeld: RecordedAccess[];
  let afterHeld: RecordedAccess[];
  let beforeExam: RecordedAccess[];
  let pmApi: (event: unknown) => Promise<unknown>;

  /** A request as API Gateway routes it: vendors' routes to WorkApi, every other one to Api. */
  const call = async (method: string, path: string, user: string, body?: unknown) => {
    const route = path.split('?')[0];
    const work = API.workRoutes.some((r) => route === r || (r.endsWith('/{proxy+}') && route.startsWith(r.replace('{proxy+}', ''))));
    const handler = work ? stack.handlers.WorkApi : pmApi;
    const r = (await handler(apiGatewayEvent(method, path, await issuer.issueToken(user), body))) as { statusCode: number; body: string };
    return { status: r.statusCode, json: JSON.parse(r.body) as Json };
  };

  /**
   * A vendor works its batch through WorkApi: view, manifest, images, a slot, the PUT, the report. Each item is labelled
   * by its image, but the aliases in `wrongOn` get the other class.
   */
  async function submitByImage(batchId: string, user: string, wrongOn: ReadonlySet<string> = new Set()): Promise<void> {
    const view = await call('GET', `/v1/batches/${batchId}`, user);
    expect(view.status).toBe(200);
    const manifest = (await (await fetch(view.json.manifestUrl as string)).json()) as VendorManifest;
    const urls = await call('POST', `/v1/batches/${batchId}/image-urls`, user, { aliases: manifest.items.map((i) => i.alias) });
    expect(urls.status).toBe(200);
    const byAlias = urls.json.urls as Record<string, string>;
    const lines: string[] = [];
    for (const item of manifest.items) {
      const truth = readSyntheticImage(new Uint8Array(await (await fetch(byAlias[item.alias])).arrayBuffer()));
      const label = wrongOn.has(item.alias) ? (truth === 'normal' ? 'abnormal' : 'normal') : truth;
      lines.push(JSON.stringify({ alias: item.alias, label, annotator: `${user}/reader-1` }));
    }
    const file = new TextEncoder().encode(`${lines.join('\n')}\n`);
    const slot = await call('POST', `/v1/batches/${batchId}/uploads`, user, { sizeBytes: file.length, sha256Hex: createHash('sha256').update(file).digest('hex') });
    expect(slot.status).toBe(201);
    const put = await fetch(slot.json.url as string, { method: 'PUT', headers: slot.json.headers as Record<string, string>, body: file });
    expect(put.status).toBe(200);
    await until('the validation report', async () => {
      const r = await call('GET', `/v1/batches/${batchId}/uploads/${slot.json.uploadId}`, user);
      return r.status === 200 && r.json.status !== 'pending';
    });
  }

  beforeAll(async () => {
    synthesized = synthesize();
    issuer = await startIssuer();
    // The environment infra/api-construct.ts gives the functions, pointed at the embedded issuer.
    saved = Object.fromEntries(Object.values(API.env).map((n) => [n, process.env[n]]));
    process.env[API.env.issuer] = issuer.config.issuer;
    process.env[API.env.audience] = issuer.config.audience;
    process.env[API.env.jwksUrl] = issuer.config.jwksUrl;
    stack = await startLocalStack({ random: seededRandomSource(29) });
    // The PM function as in AWS: its dispatch route hands the round to the DispatchRound function (which the stack runs as itself).
    pmApi = stack.accesses.bind('Api', makeHandler(() => stack.deps, () => (input) => stack.handlers.DispatchRound(input) as Promise<DispatchRoundResult>));
    await setUpDemoProgram(stack, { cases: 120, goldFraction: 0.1, seed: 30 });

    // The PM ingests two more cases (one of them gold) and dispatches round 1.
    const [a, b] = await stack.deps.repo.listCases(PROGRAM_ID);
    const row = (c: typeof a, caseId: string) => ({ caseId, imageKey: c.imageKey, modality: c.modality, bodyPart: c.bodyPart, site: c.site, subgroup: c.subgroup, deidentified: true });
    const ingest = await call('POST', `/v1/programs/${PROGRAM_ID}/cases`, 'pm', {
      protocolId: 'chest-xray',
      protocolVersion: 1,
      cases: [row(a, 'api-case-1'), row(b, 'api-gold-1')],
      gold: [{ caseId: 'api-gold-1', label: 'normal', expertId: 'dr-lead' }],
    });
    expect(ingest).toMatchObject({ status: 200, json: { cases: 2, gold: 1 } });
    // And one case from a manifest: a slot per image, the PUT, then the gate at completion.
    const image = (await stack.deps.objects.getBytes(stack.deps.buckets.images, a.imageKey))!;
    const { imageKey: _k, ...fields } = row(a, 'api-manifest-1');
    const caseManifest = await call('POST', `/v1/programs/${PROGRAM_ID}/cases/manifest?protocol=chest-xray@1`, 'pm', {
      cases: [{ ...fields, image: { fileName: 'scan.pgm', sizeBytes: image.length, sha256Hex: createHash('sha256').update(image).digest('hex') } }],
    });
    expect(caseManifest.status).toBe(201);
    const [imageSlot] = caseManifest.json.slots as { url: string; headers: Record<string, string> }[];
    expect((await fetch(imageSlot.url, { method: 'PUT', headers: imageSlot.headers, body: image })).status).toBe(200);
    expect((await call('POST', `/v1/programs/${PROGRAM_ID}/cases/manifest/${caseManifest.json.ingestId}/complete`, 'pm')).status).toBe(200);
    const dispatched = await call('POST', `/v1/programs/${PROGRAM_ID}/rounds`, 'pm', { protocolId: 'chest-xray', version: 1, round: 1 });
    expect(dispatched.status).toBe(201);
    const batches = await stack.deps.repo.listRoundBatches(PROGRAM_ID, 1);
    await until('batches awaiting submission', async () => {
      const all = await Promise.all(batches.map((x) => stack.deps.repo.getBatch(x.batchId)));
      return all.every((x) => x?.status === 'awaiting-submission');
    });
    expect((await call('GET', `/v1/programs/${PROGRAM_ID}/rounds/1`, 'pm')).status).toBe(200);
    // A vendor's token on a PM route: refused by the role check.
    expect((await call('POST', `/v1/programs/${PROGRAM_ID}/rounds`, 'vendor-a', { protocolId: 'chest-xray', version: 1, round: 2 })).status).toBe(403);

    // A vendor works its batch: list, view, manifest, images, a slot, the PUT, the report.
    const mine = batches.find((x) => x.workforceId === 'vendor-a')!;
    expect(await call('GET', '/v1/me', 'vendor-a')).toMatchObject({ status: 200, json: { workforceId: 'vendor-a' } });
    expect((await call('GET', '/v1/batches', 'vendor-a')).status).toBe(200);
    await submitByImage(mine.batchId, 'vendor-a');
    // The accepted batch's execution runs on (score, finalize, rebalance): let it end before the stack stops.
    await stack.runner.finished(mine.batchId);
    await stack.ingestIdle();
    // Issue 11: one batch's 5 gold items cannot decide the SPRT, so the batch is held. The PM decides it (the truncation
    // rule) through the Api function, which finalizes it: the batch's key and aliases, its upload. Seed 30: vendor-a's
    // gold is all right, so it is accepted (seed 29: 1 wrong of 5, rejected).
    expect((await stack.deps.repo.getBatch(mine.batchId))?.status).toBe('inconclusive');
    beforeHeld = stack.accesses.accesses();
    const decideHeld = { workforceId: 'vendor-a', protocol: 'chest-xray@1', reason: 'no further batch for vendor-a in this test' };
    expect(await call('POST', `/v1/programs/${PROGRAM_ID}/held-batches/decide`, 'pm', decideHeld)).toMatchObject({ status: 200, json: { decision: 'accepted', batches: [mine.batchId] } });
    afterHeld = stack.accesses.accesses();
    // The QA lead traces a labelled case with every object re-read (its upload by version id).
    const [traced] = (await stack.deps.repo.listBatchLabels(mine.batchId)).filter((l) => !l.gold);
    expect(await call('GET', `/v1/cases/${traced.caseId}/trace?verify=true`, 'qa')).toMatchObject({ status: 200, json: { verification: { requested: true, allVerified: true } } });
    // The QA lead releases the accepted labels (a write-once manifest) and verifies the release (every label object re-read).
    const release = await call('POST', `/v1/programs/${PROGRAM_ID}/releases`, 'qa', { protocolId: 'chest-xray', version: 1 });
    expect(release.status).toBe(201);
    const { releaseId } = release.json.release as { releaseId: string };
    expect(await call('GET', `/v1/programs/${PROGRAM_ID}/releases/${releaseId}/verify`, 'qa')).toMatchObject({ status: 200, json: { ok: true } });
    // The QA lead exports the release's dossier (JSON and HTML under dossiers/ in exports) and reads the JSON back.
    expect(await call('POST', `/v1/programs/${PROGRAM_ID}/releases/${releaseId}/dossier`, 'qa')).toMatchObject({ status: 200, json: { releaseId } });
    expect(await call('GET', `/v1/programs/${PROGRAM_ID}/releases/${releaseId}/dossier?format=json`, 'qa')).toMatchObject({ status: 200, json: { format: 'goldline-dossier/1' } });
    // The QA lead reads the quality report and writes a scorecards export once under exports/ (a presigned GET back).
    expect((await call('GET', `/v1/programs/${PROGRAM_ID}/quality`, 'qa')).status).toBe(200);
    expect(await call('POST', `/v1/programs/${PROGRAM_ID}/exports/scorecards?format=csv`, 'qa')).toMatchObject({ status: 201, json: { key: expect.stringMatching(/^exports\//) } });
    // A new vendor (no production work: not grandfathered) takes a qualification exam a PM starts: the Api function writes
    // the exam batch's key and starts its lifecycle (use-cases/exams.ts).
    await registerWorkforce(stack.deps, PROGRAM_ID, { workforceId: 'vendor-new', kind: 'vendor', name: 'New vendor', capacityPerRound: 50, pricePerCase: 2, slaHours: 48, qualifications: ['cxr'] });
    beforeExam = stack.accesses.accesses();
    const exam = await call('POST', `/v1/programs/${PROGRAM_ID}/exams`, 'pm', { workforceId: 'vendor-new', protocol: 'chest-xray@1' });
    expect(exam).toMatchObject({ status: 201, json: { workforceId: 'vendor-new', started: true } });
    await until('the exam batch awaiting submission', async () => (await stack.deps.repo.getBatch(exam.json.batchId as string))?.status === 'awaiting-submission');
    accesses = asInAws(stack.accesses.accesses()).filter((x) => x.fn === 'Api' || x.fn === 'WorkApi');
  }, 120_000);

  afterAll(async () => {
    for (const [n, v] of Object.entries(saved ?? {})) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
    await stack?.stop();
    await issuer?.close();
  });

  it('records the requests of the routes each served, presigns included', () => {
    const seen = (fn: string) =>
      new Set(accesses.filter((x) => x.fn === fn).map((x) => `${x.via} ${x.action} ${x.resource.kind === 'object' ? x.resource.bucket : x.resource.kind}`));
    for (const x of ['call s3:GetObject gold', 'call s3:PutObject gold', 'call s3:GetObject images', 'presign s3:PutObject images', 'presign s3:PutObject releases', 'call s3:GetObject releases', 'call s3:PutObject exports']) {
      expect([...seen('Api')], x).toContain(x);
    }
    for (const x of ['call dynamodb:GetItem table', 'call s3:GetObject images', 'presign s3:GetObject images', 'presign s3:PutObject uploads', 'call s3:GetObject exports']) {
      expect([...seen('WorkApi')], x).toContain(x);
    }
  });

  it('leaves the batch keys, answers and executions of a dispatch to DispatchRound and the round-dispatch workflow it starts', () => {
    const all = asInAws(beforeHeld);
    const dispatch = all.filter((x) => x.fn === 'DispatchRound');
    expect(dispatch.some((x) => x.action === 'states:StartExecution' && x.resource.kind === 'stateMachine' && x.resource.stateMachine === 'roundDispatch')).toBe(true);
    const chunks = all.filter((x) => x.fn === 'DispatchChunk');
    expect(chunks.some((x) => x.action === 'states:StartExecution')).toBe(true);
    expect(chunks.some((x) => x.resource.kind === 'object' && x.resource.key.startsWith('batch-answers/'))).toBe(true);
    const pm = all.filter((x) => x.fn === 'Api');
    expect(pm.filter((x) => x.action === 'states:StartExecution' || (x.resource.kind === 'object' && /^batch-/.test(x.resource.key)))).toEqual([]);
  });

  // The held-batch decision was not a route: finalizing reads the batch's key and aliases, which the Api function was not granted then (it is since disputes, 2828f12).
  it("records the PM's held-batch decision (the batch finalized: its key, aliases and upload) as the Api function's, which the template grants", () => {
    const before = new Set(beforeHeld.map((x) => JSON.stringify(x)));
    const held = asInAws(afterHeld.filter((x) => !before.has(JSON.stringify(x))));
    expect(held.filter((x) => x.fn !== 'Api')).toEqual([]);
    for (const prefix of ['batch-keys/', 'batch-aliases/']) {
      expect(held.some((x) => x.action === 's3:GetObject' && x.resource.kind === 'object' && x.resource.bucket === 'gold' && x.resource.key.startsWith(prefix)), prefix).toBe(true);
    }
    expect(held.some((x) => x.resource.kind === 'object' && x.resource.bucket === 'uploads')).toBe(true);
    expect(checkGrants(synthesized.json, synthesized.ids, held).missing).toEqual([]);
  });

  it("records the exam start's key writes and lifecycle start as the Api function's, which the template grants", () => {
    const before = new Set(beforeExam.map((x) => JSON.stringify(x)));
    const exam = asInAws(stack.accesses.accesses().filter((x) => !before.has(JSON.stringify(x)))).filter((x) => x.fn === 'Api');
    expect(exam.some((x) => x.action === 'states:StartExecution' && x.resource.kind === 'stateMachine' && x.resource.stateMachine === 'batchLifecycle')).toBe(true);
    for (const prefix of ['batch-aliases/', 'batch-keys/', 'batch-answers/']) {
      expect(exam.some((x) => x.action === 's3:PutObject' && x.resource.kind === 'object' && x.resource.bucket === 'gold' && x.resource.key.startsWith(prefix)), prefix).toBe(true);
    }
    expect(checkGrants(synthesized.json, synthesized.ids, exam).missing).toEqual([]);
  });

  // The expert's decision on a dispute would have been AccessDenied in AWS: the Api role had no grant on gold-history/, nor read of batch-answers/ or batch-aliases/.
  it("records an expert's upheld dispute (gold versions, answers rewritten, batches re-scored) as the Api function's, which the template grants; the vendor's side touches no gold", async () => {
    const start = new Set(stack.accesses.accesses().map((x) => JSON.stringify(x)));
    const since = (seen: Set<string>) => asInAws(stack.accesses.accesses().filter((x) => !seen.has(JSON.stringify(x))));
    // vendor-b answers its batch's gold items wrong (which they are, the test reads from the key), and is rejected.
    const b = (await stack.deps.repo.listRoundBatches(PROGRAM_ID, 1)).find((x) => x.workforceId === 'vendor-b' && x.kind !== 'exam')!;
    const key = await loadBatchKey(stack.deps, b.batchId);
    await submitByImage(b.batchId, 'vendor-b', new Set(key.items.filter((i) => i.gold).map((i) => i.alias)));
    await stack.runner.finished(b.batchId);
    await stack.ingestIdle();
    if ((await stack.deps.repo.getBatch(b.batchId))?.status === 'inconclusive') {
      const decideHeld = { workforceId: 'vendor-b', protocol: 'chest-xray@1', reason: 'no further batch for vendor-b in this test' };
      expect(await call('POST', `/v1/programs/${PROGRAM_ID}/held-batches/decide`, 'pm', decideHeld)).toMatchObject({ status: 200, json: { decision: 'rejected' } });
    }
    expect((await stack.deps.repo.getBatch(b.batchId))?.status).toBe('rejected');
    // vendor-b opens the dispute through WorkApi's Lambda entry, naming a gold item by its alias: recorded, pending review.
    const alias = key.items.find((i) => i.gold)!.alias;
    const beforeOpen = new Set(stack.accesses.accesses().map((x) => JSON.stringify(x)));
    const openedReply = await call('POST', `/v1/batches/${b.batchId}/disputes`, 'vendor-b', { reason: 'these films were read correctly', alias });
    expect(openedReply).toMatchObject({ status: 202, json: { status: 'pending-review', alias } });
    // (The record keeps one entry per request kind and object: a gold read by any function here would be a new one.)
    const opening = since(beforeOpen);
    expect(opening.filter((x) => x.fn !== 'WorkApi' || (x.resource.kind === 'object' && x.resource.bucket === 'gold'))).toEqual([]);
    expect(checkGrants(synthesized.json, synthesized.ids, opening).missing).toEqual([]);
    const opened = openedReply.json as { disputeId: string };

    // The expert reads the queue and the dispute, and upholds it on its first gold item (the others stand).
    const beforeDecision = new Set(stack.accesses.accesses().map((x) => JSON.stringify(x)));
    expect((await call('GET', '/v1/adjudications', 'expert')).status).toBe(200);
    const review = await call('GET', `/v1/adjudications/${opened.disputeId}`, 'expert');
    expect(review.status).toBe(200);
    const needs = review.json.needs as { caseId: string; labels: Record<string, string> }[];
    expect(needs.length).toBeGreaterThan(0);
    const decisions = needs.map((n, k) => {
      const [goldKey, vendorKey] = [Object.keys(n.labels).find((l) => l.startsWith('gold@'))!, Object.keys(n.labels).find((l) => !l.startsWith('gold@'))!];
      return { caseId: n.caseId, label: n.labels[k === 0 ? vendorKey : goldKey] };
    });
    expect(await call('POST', `/v1/adjudications/${opened.disputeId}/decision`, 'expert', { decisions })).toMatchObject({ status: 200, json: { status: 'decided' } });
    const decision = since(beforeDecision).filter((x) => x.fn === 'Api');
    const goldWrites = (prefix: string) => decision.some((x) => x.action === 's3:PutObject' && x.resource.kind === 'object' && x.resource.bucket === 'gold' && x.resource.key.startsWith(prefix));
    const goldReads = (prefix: string) => decision.some((x) => x.action === 's3:GetObject' && x.resource.kind === 'object' && x.resource.bucket === 'gold' && x.resource.key.startsWith(prefix));
    // (The record keeps one entry per object: the pool's write is the gold ingest's, recorded before.)
    for (const prefix of ['gold-history/', 'batch-answers/']) expect(goldWrites(prefix), prefix).toBe(true);
    // batch-keys/: the Api function queued the vendor's request (alias → gold item) when the expert read the queue.
    for (const prefix of ['batch-keys/', 'batch-aliases/', 'batch-answers/']) expect(goldReads(prefix), prefix).toBe(true);
    expect(checkGrants(synthesized.json, synthesized.ids, decision).missing).toEqual([]);

    // vendor-b reads the outcome through WorkApi, which touched nothing of the gold bucket all along.
    expect(await call('GET', `/v1/disputes/${opened.disputeId}`, 'vendor-b')).toMatchObject({ status: 200, json: { status: 'upheld' } });
    const vendor = since(start).filter((x) => x.fn === 'WorkApi');
    expect(vendor.length).toBeGreaterThan(0);
    expect(vendor.filter((x) => x.resource.kind === 'object' && x.resource.bucket === 'gold')).toEqual([]);
    expect(checkGrants(synthesized.json, synthesized.ids, vendor).missing).toEqual([]);
  }, 120_000);

  it('grants every one of them, to the function that made it, in the synthesized template', () => {
    const check = checkGrants(synthesized.json, synthesized.ids, accesses);
    console.log(`IAM check — the API functions used:\n  ${check.used.join('\n  ')}`);
    expect(check.missing).toEqual([]);
  });

  it('fails, naming the action, when the vendor-facing function may not write upload slots', () => {
    const copy = structuredClone(synthesized.json);
    const role = synthesized.ids.roles.WorkApi;
    for (const res of Object.values(copy.Resources)) {
      if (res.Type !== 'AWS::IAM::Policy' || !JSON.stringify(res.Properties?.Roles).includes(`"${role}"`)) continue;
      const doc = res.Properties!.PolicyDocument as { Statement: { Action: string | string[] }[] };
      doc.Statement = doc.Statement.filter((st) => ![st.Action].flat().includes('s3:PutObject'));
    }
    expect(checkGrants(copy, synthesized.ids, accesses).missing.join('\n')).toMatch(/^WorkApi needs s3:PutObject on bucket uploads uploads\//m);
  });
});

describe('Bundle: the API function as Lambda loads it', () => {
  // pm.ts called .openapi() on a domain schema built before @hono/zod-openapi extended zod: the bundled entry threw at load.
  it('loads in a fresh Node process and answers API Gateway events (OpenAPI document open, other routes 401 without a token)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldline-api-bundle-'));
    try {
      const outfile = join(dir, 'index.mjs');
      // The options CDK bundles every function with (infra/secure-defaults.ts), through esbuild itself: one function, not seventeen.
      await build({
        entryPoints: [join(ROOT, FUNCTIONS.find((f) => f.name === 'Api')!.entry)], // WorkApi's entry too
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: ESM_BUNDLING.target,
        mainFields: ESM_BUNDLING.mainFields,
        banner: { js: ESM_BUNDLING.banner ?? '' },
        logLevel: 'silent',
      });
      const events = [apiGatewayEvent('GET', API.openApiPath), apiGatewayEvent('GET', '/v1/me')];
      const script = `const { handler } = await import(${JSON.stringify(pathToFileURL(outfile).href)});
        const out = [];
        for (const e of ${JSON.stringify(events)}) { const r = await handler(e); out.push({ status: r.statusCode, type: r.headers['content-type'], body: JSON.parse(r.body) }); }
        console.log(JSON.stringify(out));`;
      const issuer = 'https://127.0.0.1:9/goldline-test-issuer';
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        [API.env.issuer]: issuer,
        [API.env.audience]: 'test-client',
        [API.env.jwksUrl]: `${issuer}/.well-known/jwks.json`,
        [API.env.dispatchFunction]: 'goldline-dispatch-round',
        [MAIN_TABLE.envVar]: 'table',
        ...Object.fromEntries(Object.values(BUCKETS).map((b) => [b.envVar, `bucket-${b.id.toLowerCase()}`])),
      };
      const [doc, me] = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env })) as {
        status: number;
        type: string;
        body: Json;
      }[];
      expect(doc.status).toBe(200);
      expect(doc.body.openapi).toBe('3.1.0');
      expect(Object.keys(doc.body.paths as Json)).toContain('/v1/me');
      expect(me).toMatchObject({ status: 401, type: 'application/problem+json', body: { type: 'urn:goldline:problem:unauthenticated' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
