/**
 * Template assertions on the Goldline stack. Bundling is skipped (context
 * `aws:cdk:bundling-stacks: []`) except in the one test that bundles for real.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BUCKETS,
  FUNCTIONS,
  functionArnPlaceholder,
  MAIN_TABLE,
  RELEASES,
  STATE_MACHINES,
  UPLOAD_PREFIX,
} from '../../infra/definitions.js';
import { dashboardCsp } from '../../dashboard/csp.js';
import { GoldlineStack, ROOT } from '../../infra/goldline-stack.js';
import { allows, grantsOfRole, type TemplateJson } from '../support/iam-grants.js';

type BucketName = keyof typeof BUCKETS;
type Json = Record<string, unknown>;
interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: Json;
}

const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

/**
 * Who may read each part of the gold bucket (functions/use-cases/batch-key.ts;
 * DESIGN.md: gold never reaches a vendor path), by an example key of each prefix.
 */
const GOLD_READERS: Record<string, { key: string; readers: string[] }> = {
  // Api: a dispute's re-score (use-cases/disputes.ts resolveDispute) scores a batch again, as ScoreSubmission does.
  'batch-aliases/': { key: 'batch-aliases/p-r1-vendor-a-1.json', readers: ['Api', 'IngestUpload', 'ValidateSubmission', 'ScoreSubmission', 'CompleteBatch'] },
  'batch-keys/': {
    key: 'batch-keys/p-r1-vendor-a-1.json',
    // Finalize and overlap items (CompleteBatch), re-queued cases (MarkOverdue, RecordFailure), a round dispatched before chunking (DispatchChunk), an exam resumed after a crash (Api).
    readers: ['Api', 'DispatchChunk', 'PrepareManifest', 'ScoreSubmission', 'CompleteBatch', 'MarkOverdue', 'RecordFailure'],
  },
  'batch-answers/': { key: 'batch-answers/p-r1-vendor-a-1.json', readers: ['Api', 'ScoreSubmission'] },
  // Every version of a gold answer a dispute corrected (written and re-read by the expert's decision in Api).
  'gold-history/': { key: 'gold-history/p/chest-xray/gold-0001.json', readers: ['Api'] },
  // The API's PM function merges gold labels a PM ingests into the pool; it dispatches by invoking DispatchRound (which starts PlanRound's workflow).
  'gold-sets/': { key: 'gold-sets/p/chest-xray.json', readers: ['PlanRound', 'Api'] },
  // A round's plan in chunks (functions/use-cases/round-chunk-store.ts): answers included.
  'round-plans/': { key: 'round-plans/p/r0001/chunk-00000.json', readers: ['PlanRound', 'DispatchChunk'] },
  // A case manifest waiting for its images (functions/use-cases/case-ingest.ts).
  'case-ingests/': { key: 'case-ingests/p/abcdefgh12345678.json', readers: ['Api'] },
};
// Issue 13: a PM's qualification exam starts its gold-only batch from the Api function (use-cases/exams.ts, ACCESS.Api), which holds the gold pool already.
const BATCH_STARTERS = ['DispatchChunk', 'Api'];
/** The functions that parse files a vendor wrote. */
const VENDOR_FILE_PARSERS = ['IngestUpload', 'ValidateSubmission'];

const asArray = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);
const logicalId = (stack: Stack, c: { node: { defaultChild?: unknown } }): string =>
  stack.getLogicalId(c.node.defaultChild as CfnElement);

function synthesize(): { stack: GoldlineStack; template: Template; assemblyDir: string } {
  const app = new App({ context: SKIP_BUNDLING, builtinCloudFormationValidation: false });
  const stack = new GoldlineStack(app, 'Goldline');
  const assemblyDir = app.synth().directory;
  // Template also refuses a template with a dependency cycle, which CloudFormation
  // would only report at deploy (e.g. a state machine task that signals its own machine).
  return { stack, template: Template.fromStack(stack), assemblyDir };
}

describe('Stack: GoldlineStack', () => {
  let stack: GoldlineStack;
  let template: Template;
  let assemblyDir: string;
  let resources: Record<string, { Type: string; Properties: Json; DeletionPolicy?: string }>;
  const bucketIds = () => Object.fromEntries((Object.keys(BUCKETS) as BucketName[]).map((n) => [n, logicalId(stack, stack.buckets[n])]));
  const keyArn = () => ({ 'Fn::GetAtt': [logicalId(stack, stack.key), 'Arn'] });

  /** Allow statements of the policies (inline or customer-managed) attached to a role. */
  const allowsOf = (roleLogicalId: string): Statement[] =>
    [...Object.values(template.findResources('AWS::IAM::Policy')), ...Object.values(template.findResources('AWS::IAM::ManagedPolicy'))]
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleLogicalId}"`))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
      .filter((s) => s.Effect === 'Allow');
  const grants = (roleLogicalId: string, action: string, resourceId: string): boolean =>
    allowsOf(roleLogicalId).some(
      (s) =>
        asArray(s.Action).some((a) => a === action || a === '*' || (a.endsWith('*') && action.startsWith(a.slice(0, -1)))) &&
        asArray(s.Resource).some((r) => JSON.stringify(r).includes(`"${resourceId}"`)),
    );
  const roleOf = (name: string): string => logicalId(stack, stack.functions[name].role!);

  beforeAll(() => {
    ({ stack, template, assemblyDir } = synthesize());
    resources = template.toJSON().Resources;
  });

  describe('buckets', () => {
    it('encrypts each data bucket with the stack key, versions it and blocks all public access', () => {
      for (const id of Object.values(bucketIds())) {
        const props = resources[id].Properties;
        expect(props.BucketEncryption).toEqual({
          ServerSideEncryptionConfiguration: [
            { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn() } },
          ],
        });
        expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
        expect(props.PublicAccessBlockConfiguration).toEqual({
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        });
        expect(resources[id].DeletionPolicy).toBe('Retain');
      }
    });

    it('keeps the access-log bucket private and versioned, with SSE-S3 (the only encryption S3 log delivery accepts)', () => {
      const props = resources[logicalId(stack, stack.accessLogs)].Properties;
      expect(props.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
      expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(props.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(props.LoggingConfiguration).toBeUndefined();
    });

    it('denies every request without TLS, in the policy of each bucket', () => {
      const ids = [...Object.values(bucketIds()), logicalId(stack, stack.accessLogs)];
      for (const id of ids) {
        template.hasResourceProperties('AWS::S3::BucketPolicy', {
          Bucket: { Ref: id },
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        });
      }
    });

    it('logs access to every data bucket in the access-log bucket, under the bucket name', () => {
      const logs = logicalId(stack, stack.accessLogs);
      for (const [name, id] of Object.entries(bucketIds())) {
        expect(resources[id].Properties.LoggingConfiguration).toEqual({
          DestinationBucketName: { Ref: logs },
          LogFilePrefix: `${BUCKETS[name as BucketName].id.toLowerCase()}/`,
        });
      }
    });

    it('keeps release manifests under S3 Object Lock in governance mode for the configured days (default RELEASES.defaultRetentionDays), and locks no other bucket', () => {
      const lockOf = (r: typeof resources, id: string) => ({ enabled: r[id].Properties.ObjectLockEnabled, config: r[id].Properties.ObjectLockConfiguration });
      const locked = (days: number) => ({ enabled: true, config: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: days } } } });
      expect(lockOf(resources, bucketIds().releases)).toEqual(locked(RELEASES.defaultRetentionDays));
      for (const [name, id] of Object.entries(bucketIds())) if (name !== 'releases') expect(resources[id].Properties.ObjectLockEnabled, name).toBeUndefined();
      // From the stack prop, else the CDK context; a retention that is not a whole number of days is refused.
      const releasesOf = (context: Json, props: { releaseRetentionDays?: number } = {}) => {
        const s = new GoldlineStack(new App({ context: { ...SKIP_BUNDLING, ...context }, builtinCloudFormationValidation: false }), 'Goldline', props);
        return lockOf(Template.fromStack(s).toJSON().Resources, logicalId(s, s.buckets.releases));
      };
      expect(releasesOf({ [RELEASES.retentionContextKey]: 30 })).toEqual(locked(30));
      expect(releasesOf({ [RELEASES.retentionContextKey]: 30 }, { releaseRetentionDays: 7 })).toEqual(locked(7));
      expect(() => releasesOf({ [RELEASES.retentionContextKey]: 'ten years' })).toThrow(/release retention: a whole number of days/);
    });

    it('sends uploads-bucket events to EventBridge', () => {
      expect(resources[bucketIds().uploads].Properties.NotificationConfiguration).toEqual({
        EventBridgeConfiguration: { EventBridgeEnabled: true },
      });
    });
  });

  describe('table', () => {
    it('has the keys and indexes of definitions.ts, PITR, SSE with the stack key, on-demand billing and deletion protection', () => {
      const keySchema = (pk: string, sk: string) => [
        { AttributeName: pk, KeyType: 'HASH' },
        { AttributeName: sk, KeyType: 'RANGE' },
      ];
      const id = logicalId(stack, stack.table);
      const props = resources[id].Properties;
      expect(props.KeySchema).toEqual(keySchema(MAIN_TABLE.partitionKey.name, MAIN_TABLE.sortKey.name));
      expect(props.GlobalSecondaryIndexes).toEqual(
        MAIN_TABLE.globalSecondaryIndexes.map((g) => ({
          IndexName: g.indexName,
          KeySchema: keySchema(g.partitionKey.name, g.sortKey.name),
          Projection: { ProjectionType: 'ALL' },
        })),
      );
      const declared = [MAIN_TABLE.partitionKey, MAIN_TABLE.sortKey, ...MAIN_TABLE.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey])];
      expect(props.AttributeDefinitions).toEqual(declared.map((k) => ({ AttributeName: k.name, AttributeType: k.type })));
      expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(props.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn() });
      expect(props.BillingMode).toBe('PAY_PER_REQUEST');
      expect(props.DeletionProtectionEnabled).toBe(true);
      expect(resources[id].DeletionPolicy).toBe('Retain');
    });

    it('is selected by an AWS Backup plan', () => {
      template.hasResourceProperties('AWS::Backup::BackupSelection', {
        BackupSelection: Match.objectLike({ Resources: [{ 'Fn::GetAtt': [logicalId(stack, stack.table), 'Arn'] }] }),
      });
    });
  });

  describe('functions', () => {
    it('deploys one Node.js 22 ARM64 function per FUNCTIONS entry, traced, with a KMS-encrypted environment', () => {
      const fns = template.findResources('AWS::Lambda::Function');
      expect(Object.keys(fns)).toHaveLength(FUNCTIONS.length);
      for (const def of FUNCTIONS) {
        const props = resources[logicalId(stack, stack.functions[def.name])].Properties;
        expect(props).toMatchObject({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          TracingConfig: { Mode: 'Active' },
          KmsKeyArn: keyArn(),
          Timeout: def.timeoutSeconds,
          MemorySize: def.memoryMb,
          Description: def.description,
        });
      }
      for (const fn of Object.values(fns)) expect(fn.Properties.Runtime).toBe('nodejs22.x');
    });

    it('logs each function to its own KMS-encrypted log group with a retention', () => {
      for (const def of FUNCTIONS) {
        const logging = resources[logicalId(stack, stack.functions[def.name])].Properties.LoggingConfig as { LogGroup: { Ref: string } };
        expect(resources[logging.LogGroup.Ref].Properties).toMatchObject({ KmsKeyId: keyArn(), RetentionInDays: 365 });
      }
    });

    it('gives every function the table and bucket names under the env vars deps.ts reads, only the batch starters (DispatchChunk, Api) the batch lifecycle ARN and only DispatchRound the round dispatch ARN', () => {
      const ids = bucketIds();
      for (const def of FUNCTIONS) {
        const env = (resources[logicalId(stack, stack.functions[def.name])].Properties.Environment as { Variables: Json }).Variables;
        expect(env[MAIN_TABLE.envVar]).toEqual({ Ref: logicalId(stack, stack.table) });
        for (const name of Object.keys(BUCKETS) as BucketName[]) expect(env[BUCKETS[name].envVar]).toEqual({ Ref: ids[name] });
        const smArn = env[STATE_MACHINES.batchLifecycle.envVar];
        if (BATCH_STARTERS.includes(def.name)) expect(smArn).toEqual({ Ref: logicalId(stack, stack.batchLifecycle) });
        else expect(smArn).toBeUndefined();
        const roundArn = env[STATE_MACHINES.roundDispatch.envVar];
        if (def.name === 'DispatchRound') expect(roundArn).toEqual({ Ref: logicalId(stack, stack.roundDispatch) });
        else expect(roundArn).toBeUndefined();
      }
    });

    it('uses roles of its own with no AWS managed policy', () => {
      for (const def of FUNCTIONS) {
        expect(resources[roleOf(def.name)].Properties.ManagedPolicyArns).toBeUndefined();
      }
    });
  });

  describe('batch lifecycle state machine', () => {
    const asl = (): Json => JSON.parse(readFileSync(join(ROOT, STATE_MACHINES.batchLifecycle.file), 'utf8'));
    const taskFunctionPlaceholders = (): string[] =>
      Object.values(asl().States as Record<string, { Type: string; Parameters?: { FunctionName?: string } }>)
        .filter((s) => s.Type === 'Task')
        .map((s) => /^\$\{(\w+)\}$/.exec(s.Parameters?.FunctionName ?? '')?.[1] ?? `unresolvable: ${s.Parameters?.FunctionName}`);

    it('is a Standard state machine, loaded from its ASL file, logging ALL to an encrypted log group, traced', () => {
      const props = resources[logicalId(stack, stack.batchLifecycle)].Properties as Json & {
        LoggingConfiguration: { Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [string, string] } } }[] };
      };
      expect(props).toMatchObject({
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
        DefinitionS3Location: { Bucket: expect.anything(), Key: expect.stringMatching(/\.json$/) },
      });
      // The uploaded definition is the ASL file itself, byte for byte.
      const key = (props.DefinitionS3Location as { Key: string }).Key;
      expect(readFileSync(join(assemblyDir, `asset.${key}`), 'utf8')).toBe(
        readFileSync(join(ROOT, STATE_MACHINES.batchLifecycle.file), 'utf8'),
      );
      const logGroup = props.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
      expect(resources[logGroup].Properties).toMatchObject({ KmsKeyId: keyArn(), RetentionInDays: 365 });
    });

    it("substitutes every Task state's function placeholder with that function's ARN, leaving none unresolved", () => {
      const props = resources[logicalId(stack, stack.batchLifecycle)].Properties as { DefinitionSubstitutions: Json };
      const used = taskFunctionPlaceholders();
      expect(used.length).toBeGreaterThan(0);
      for (const placeholder of used) {
        const def = FUNCTIONS.find((f) => functionArnPlaceholder(f.name) === placeholder);
        expect(def, `${placeholder} names a FUNCTIONS entry`).toBeDefined();
        expect(props.DefinitionSubstitutions[placeholder]).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.functions[def!.name]), 'Arn'] });
      }
      // Every ${...} in the file is substituted, and nothing else is.
      const inFile = [...readFileSync(join(ROOT, STATE_MACHINES.batchLifecycle.file), 'utf8').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);
      expect(Object.keys(props.DefinitionSubstitutions).sort()).toEqual([...new Set(inFile)].sort());
    });

    it('may invoke exactly the functions its Task states name', () => {
      const sm = logicalId(stack, stack.batchLifecycle.role);
      const invocable = FUNCTIONS.filter((f) => grants(sm, 'lambda:InvokeFunction', logicalId(stack, stack.functions[f.name]))).map((f) => f.name);
      const named = [...new Set(taskFunctionPlaceholders())].map((p) => FUNCTIONS.find((f) => functionArnPlaceholder(f.name) === p)!.name);
      expect(invocable.sort()).toEqual(named.sort());
    });
  });

  describe('upload ingest', () => {
    it('routes S3 Object Created events of the uploads bucket under the upload prefix to IngestUpload, with retries and a DLQ', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.s3'],
          'detail-type': ['Object Created'],
          detail: { bucket: { name: [{ Ref: bucketIds().uploads }] }, object: { key: [{ prefix: UPLOAD_PREFIX }] } },
        },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [logicalId(stack, stack.functions.IngestUpload), 'Arn'] },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack, stack.ingestDeadLetters), 'Arn'] } },
            RetryPolicy: { MaximumRetryAttempts: Match.anyValue(), MaximumEventAgeInSeconds: Match.anyValue() },
          }),
        ],
      });
    });

    it('keeps failed ingest events in a KMS-encrypted, TLS-only queue, from EventBridge and from Lambda retries alike', () => {
      const dlq = logicalId(stack, stack.ingestDeadLetters);
      expect(resources[dlq].Properties.KmsMasterKeyId).toEqual(keyArn());
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: dlq }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
      expect(resources[logicalId(stack, stack.functions.IngestUpload)].Properties.DeadLetterConfig).toEqual({
        TargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] },
      });
    });
  });

  describe('QA dashboard site', () => {
    it('keeps the dashboard files in a private, versioned, access-logged bucket that only its CloudFront distribution reads', () => {
      const files = logicalId(stack, stack.dashboard.bucket);
      const props = resources[files].Properties;
      expect(props.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(props.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logicalId(stack, stack.accessLogs) }, LogFilePrefix: 'dashboard/' });
      const cdn = logicalId(stack, stack.dashboard.distribution);
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: files },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'cloudfront.amazonaws.com' },
              Action: 's3:GetObject',
              Condition: { StringEquals: { 'AWS:SourceArn': Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([{ Ref: cdn }])]) }) } },
            }),
          ]),
        },
      });
    });

    it('serves index.html over HTTPS with the dashboard CSP, logs to its own bucket and forwards /v1/* uncached to the HTTP API', () => {
      type Behavior = { PathPattern: string; TargetOriginId: string; AllowedMethods: string[]; CachePolicyId: string };
      const cdn = resources[logicalId(stack, stack.dashboard.distribution)].Properties.DistributionConfig as {
        DefaultRootObject: string;
        DefaultCacheBehavior: { ViewerProtocolPolicy: string };
        Logging: { Bucket: unknown };
        CacheBehaviors: Behavior[];
        Origins: { Id: string; DomainName: unknown; CustomOriginConfig?: Record<string, unknown> }[];
      };
      expect(cdn.DefaultRootObject).toBe('index.html');
      expect(cdn.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
      expect(cdn.Logging.Bucket).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.dashboard.logs), 'RegionalDomainName'] });
      template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
        ResponseHeadersPolicyConfig: Match.objectLike({
          SecurityHeadersConfig: Match.objectLike({ ContentSecurityPolicy: { ContentSecurityPolicy: dashboardCsp(), Override: true } }),
        }),
      });
      const api = cdn.CacheBehaviors.find((b) => b.PathPattern === '/v1/*')!;
      expect(api.AllowedMethods).toEqual(['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE']);
      expect(api.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad'); // the managed CachingDisabled policy
      const origin = cdn.Origins.find((o) => o.Id === api.TargetOriginId)!;
      expect(origin.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
      expect(JSON.stringify(origin.DomainName)).toContain(logicalId(stack, stack.api.httpApi));
    });
  });

  describe('least privilege', () => {
    /** Whether a function's role may GetObject this key of the gold bucket. */
    const readsGold = (fn: string, key: string): boolean =>
      allows(grantsOfRole(template.toJSON() as TemplateJson, roleOf(fn)), 's3:GetObject', `{${bucketIds().gold}.Arn}/${key}`);

    it('lets only the functions that need each part of the gold bucket read it', () => {
      for (const [prefix, { key, readers }] of Object.entries(GOLD_READERS)) {
        const can = FUNCTIONS.filter((f) => readsGold(f.name, key)).map((f) => f.name);
        expect(can.sort(), prefix).toEqual([...readers].sort());
      }
      // Nothing outside those prefixes, for anyone.
      for (const f of FUNCTIONS) expect(readsGold(f.name, 'other/object.json'), f.name).toBe(false);
      const gold = bucketIds().gold;
      // Nor can anything else in the stack (the state machine, the backup role).
      const others = Object.entries(template.findResources('AWS::IAM::Role'))
        .map(([id]) => id)
        .filter((id) => !FUNCTIONS.some((f) => roleOf(f.name) === id));
      for (const id of others) expect(grants(id, 's3:GetObject', gold), id).toBe(false);
    });

    // Finding 13 (issue 7): nine functions could read the whole gold bucket, IngestUpload among them, which parses untrusted vendor files and loaded the gold answers only to learn the batch's aliases.
    it('keeps the gold answers out of reach of the functions that parse vendor files', () => {
      for (const fn of VENDOR_FILE_PARSERS) {
        expect(readsGold(fn, GOLD_READERS['batch-aliases/'].key), fn).toBe(true);
        for (const key of ['batch-answers/p-r1-vendor-a-1.json', 'gold-sets/p/chest-xray.json', 'batch-keys/p-r1-vendor-a-1.json']) {
          expect(readsGold(fn, key), `${fn} may read ${key}`).toBe(false);
        }
      }
    });

    // Issue 7 finding 6: every step after ingest reads the upload version ingest recorded, and GetObject with a VersionId needs s3:GetObjectVersion (IAM is not checked locally, where s3rver keeps no versions).
    it('lets every function that reads uploads read the version ingest recorded (s3:GetObjectVersion)', () => {
      const policy = (fn: string) => grantsOfRole(template.toJSON() as TemplateJson, roleOf(fn));
      const upload = `{${bucketIds().uploads}.Arn}/uploads/vendor-a/p-r1-vendor-a-1/abcdefgh12.jsonl`;
      const readers = FUNCTIONS.filter((f) => allows(policy(f.name), 's3:GetObject', upload)).map((f) => f.name);
      expect(readers).toEqual(expect.arrayContaining(['IngestUpload', 'ValidateSubmission', 'ScoreSubmission', 'CompleteBatch']));
      for (const fn of readers) expect(allows(policy(fn), 's3:GetObjectVersion', upload), fn).toBe(true);
    });

    it('lets only the Api function write and read release manifests, and no function delete or unlock them', () => {
      const policy = (fn: string) => grantsOfRole(template.toJSON() as TemplateJson, roleOf(fn));
      const manifest = `{${bucketIds().releases}.Arn}/releases/p/rel-0123456789abcdef/manifest.json`;
      for (const action of ['s3:PutObject', 's3:GetObject']) {
        expect(FUNCTIONS.filter((f) => allows(policy(f.name), action, manifest)).map((f) => f.name), action).toEqual(['Api']);
      }
      for (const action of ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention', 's3:PutObjectRetention']) {
        expect(FUNCTIONS.filter((f) => allows(policy(f.name), action, manifest)).map((f) => f.name), action).toEqual([]);
      }
    });

    it('lets only the batch starters (DispatchChunk, Api) start batch executions, only DispatchRound start round dispatches and read their executions, and only the callback senders resume batches', () => {
      const sm = logicalId(stack, stack.batchLifecycle);
      const can = (action: string) => FUNCTIONS.filter((f) => grants(roleOf(f.name), action, sm)).map((f) => f.name).sort();
      expect(can('states:StartExecution')).toEqual([...BATCH_STARTERS].sort());
      const rounds = logicalId(stack, stack.roundDispatch);
      expect(FUNCTIONS.filter((f) => grants(roleOf(f.name), 'states:StartExecution', rounds)).map((f) => f.name)).toEqual(['DispatchRound']);
      // The dispatch waits for its execution: DescribeExecution on the round dispatch's executions, no Step Functions read on "*".
      expect(FUNCTIONS.filter((f) => grants(roleOf(f.name), 'states:DescribeExecution', rounds)).map((f) => f.name)).toEqual(['DispatchRound']);
      expect(grants(roleOf('DispatchRound'), 'states:DescribeExecution', sm)).toBe(false);
      const onAnything = allowsOf(roleOf('DispatchRound')).filter((st) => asArray(st.Resource).includes('*'));
      expect(onAnything.flatMap((st) => asArray(st.Action)).filter((x) => x.startsWith('states:'))).toEqual([]);
      expect(can('states:SendTaskSuccess')).toEqual(['Api', 'AwaitSubmission', 'DecideAdjudication', 'IngestUpload', 'RequestAdjudication']);
      expect(can('states:SendTaskHeartbeat')).toEqual(['IngestUpload', 'WorkApi']);
      expect(can('states:SendTaskFailure')).toEqual([]);
    });

    it('names every action it allows: no service wildcards in any policy', () => {
      const policies = { ...template.findResources('AWS::IAM::Policy'), ...template.findResources('AWS::IAM::ManagedPolicy') };
      for (const policy of Object.values(policies)) {
        for (const s of (policy.Properties.PolicyDocument.Statement as Statement[]).filter((x) => x.Effect === 'Allow')) {
          for (const action of asArray(s.Action)) expect(action).not.toMatch(/\*/);
        }
      }
    });

    it('gives write access to the table only to functions whose use case writes', () => {
      const table = logicalId(stack, stack.table);
      const readOnly = FUNCTIONS.filter((f) => !grants(roleOf(f.name), 'dynamodb:PutItem', table)).map((f) => f.name);
      // DispatchRound only starts the round's workflow and reads what it did.
      expect(readOnly.sort()).toEqual(['DispatchRound', 'PrepareManifest', 'ValidateSubmission']);
    });
  });
});

describe('Bundling: NodejsFunction with esbuild', () => {
  it('bundles each handler into an ESM asset that Node can load', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new GoldlineStack(app, 'Goldline');
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template as { Resources: Record<string, { Properties: { Code: { S3Key: string } } }> };
    const fn = template.Resources[stack.getLogicalId(stack.functions.IngestUpload.node.defaultChild as CfnElement)];
    const assetDir = join(assembly.directory, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
    const bundle = join(assetDir, 'index.mjs');
    expect(existsSync(bundle)).toBe(true);
    // The createRequire banner makes bundled CommonJS dependencies load in ESM.
    const loaded = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(pathToFileURL(bundle).href)}); console.log(typeof m.handler);`],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' } },
    );
    expect(loaded.trim()).toBe('function');
  }, 120_000); // esbuild runs once per function (11): room for a busy two-core machine
});
