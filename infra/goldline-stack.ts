/**
 * The Goldline stack, built from infra/definitions.ts: one KMS key, the data
 * buckets and their access-log bucket, the single table, one Lambda per
 * FUNCTIONS entry, the batch lifecycle state machine from its ASL file, and the
 * S3 → EventBridge → IngestUpload path with its dead-letter queue.
 *
 * Every resource starts from infra/secure-defaults.ts. Grants are written out
 * per function from what its use case calls (ACCESS below), with named actions
 * only; cdk-nag findings that remain are acknowledged next to the resource they
 * concern, each with its reason.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, type CfnElement, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { BackupPlan, BackupResource, BackupVault } from 'aws-cdk-lib/aws-backup';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Match, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, ManagedPolicy, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Bucket, type CfnBucket, ObjectLockRetention } from 'aws-cdk-lib/aws-s3';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct, IConstruct } from 'constructs';
import { GoldlineApi } from './api-construct.js';
import { DashboardSite } from './dashboard-site.js';
import {
  BUCKETS,
  FUNCTIONS,
  type FunctionDefinition,
  functionArnPlaceholder,
  MAIN_TABLE,
  RELEASES,
  STATE_MACHINES,
  TABLES,
  UPLOAD_PREFIX,
} from './definitions.js';
import {
  accessLogBucketProps,
  allowLogGroupsToUseKey,
  bucketProps,
  dataKeyProps,
  functionDefaults,
  keyAttribute,
  queueProps,
  stateMachineDefaults,
  tableProps,
} from './secure-defaults.js';

/** Repository root: entries and ASL paths in definitions.ts are relative to it. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

type BucketName = keyof typeof BUCKETS;

/**
 * Objects a grant covers: a whole bucket, or the keys under one prefix of it
 * (`gold/batch-aliases/`: the bucket, a slash, then the prefix with its own
 * trailing slash). The gold bucket is granted by prefix only.
 */
export type ObjectScope = BucketName | `${BucketName}/${string}/`;

/**
 * What each handler's use case touches (functions/use-cases/*.ts), and nothing
 * more; test/infra/iam.test.ts runs the scenario suite on the embedded stack and
 * fails if a function makes a request its grants here do not allow.
 * `table`: read = GetItem + Query; readWrite adds PutItem, UpdateItem and
 * BatchWriteItem; `deletesItems` adds DeleteItem, `checksCaseIds` BatchGetItem. `read` = GetObject (+ ListBucket
 * on the bucket, so a missing key is NoSuchKey rather than AccessDenied: the use
 * cases treat "not there yet" as a normal answer), and GetObjectVersion in the
 * uploads bucket (every step reads the version ingest recorded); `write` = PutObject.
 *
 * The gold bucket, by prefix (functions/use-cases/batch-key.ts): `batch-aliases/`
 * (aliases and image grids: all that ingest and validation need), `batch-keys/`
 * (alias → case, flags; no answers), `batch-answers/` (the gold answers: scoring,
 * and a dispute's re-score in Api), `gold-sets/` (the program's gold pool) and
 * `gold-history/` (each version of a gold answer a dispute corrected: Api). The functions
 * that parse vendor files (IngestUpload, ValidateSubmission) read `batch-aliases/`
 * and nothing else of it.
 */
export const ACCESS: Readonly<Record<string, FunctionAccess>> = {
  // Plans from the gold pool, writes the three parts of each batch key; on a retry
  // rebuilds from the stored keys; reads NIfTI image headers for each item's grid.
  // Starts the round's dispatch execution (workflows/round-dispatch.asl.json) and waits for it; answers with the
  // round record's batches. Plans nothing and starts no batch itself.
  DispatchRound: {
    table: 'read',
    startsRounds: true,
    caller: "an operator starting a round, or the API's dispatch route",
  },
  // Plans a round page by page from the gold pool into chunk objects (round-plans/), re-read on a retry past its event.
  PlanRound: { table: 'readWrite', read: ['gold/gold-sets/', 'gold/round-plans/'], write: ['gold/round-plans/'] },
  // Writes the three parts of each batch key of its chunk, reads NIfTI image headers for each item's grid, starts the batches.
  DispatchChunk: {
    table: 'readWrite',
    read: ['gold/round-plans/', 'gold/batch-keys/', 'images'],
    write: ['gold/batch-aliases/', 'gold/batch-keys/', 'gold/batch-answers/'],
    startsBatches: true,
  },
  PrepareManifest: { table: 'read', read: ['gold/batch-keys/', 'images'], write: ['images/batches/'] },
  // Resumes at once when the batch already holds its valid upload (a re-driven execution).
  AwaitSubmission: { table: 'readWrite', resumesBatches: ['SendTaskSuccess'] },
  // Parses untrusted vendor files: the batch's aliases only, never a case id or an answer.
  IngestUpload: {
    table: 'readWrite',
    read: ['uploads/uploads/', 'gold/batch-aliases/', 'exports/reports/'],
    write: ['exports/reports/'],
    resumesBatches: ['SendTaskSuccess', 'SendTaskHeartbeat'],
  },
  ValidateSubmission: { table: 'read', read: ['gold/batch-aliases/', 'uploads/uploads/'] },
  ScoreSubmission: { table: 'readWrite', read: ['gold/batch-aliases/', 'gold/batch-keys/', 'gold/batch-answers/', 'uploads/uploads/'] },
  // The union of its parts' grants, nothing more: settle (the table), finalize (the batch's aliases and key, its
  // accepted upload), the agreement check (overlap items from the batch key; masks of overlap labels from their
  // uploads), rebalance (the table). No gold answers: scoring stays ScoreSubmission's.
  CompleteBatch: { table: 'readWrite', read: ['gold/batch-aliases/', 'gold/batch-keys/', 'uploads/uploads/'] },
  // Resumes at once when the expert decided before the token was stored.
  RequestAdjudication: { table: 'readWrite', resumesBatches: ['SendTaskSuccess'] },
  DecideAdjudication: {
    table: 'readWrite',
    resumesBatches: ['SendTaskSuccess'],
    caller: 'an internal expert deciding an adjudication (expert tool or API)',
  },
  // Keeps the decision record in the exports bucket.
  ApplyAdjudication: { table: 'readWrite', write: ['exports/adjudications/'] },
  // Releases the cases' adjudication claims (deletes the claim items).
  ExpireAdjudication: { table: 'readWrite', deletesItems: true },
  Rebalance: { table: 'readWrite' },
  MarkOverdue: { table: 'readWrite', read: ['gold/batch-keys/'] },
  RecordFailure: { table: 'readWrite', read: ['gold/batch-keys/'] },
  // The HTTP API's PM, QA and expert routes (functions/api/routes/pm.ts, qa.ts, adjudications.ts): case and gold
  // ingest (the gate reads case images; gold labels merge into the gold pool; a manifest's pending ingest waits under
  // case-ingests/ while its images arrive through presigned PUT slots under images/), an adjudication's competing
  // uploads (by version) and images by presigned GET, an expert's decision (resumes the batch). Dispatch runs in
  // DispatchRound, which the route invokes (infra/api-construct.ts): no production batch key or start here (exams: below).
  // No vendor request reaches it past the role check (vendors' routes go to WorkApi: API.workRoutes).
  // Dataset releases (routes/releases.ts): writes each manifest once under releases/, and verify re-reads it with
  // every label's submission object (uploads by version; an expert's class: its decision record under adjudications/).
  // The case trace with verify=true (routes/qa.ts) re-reads the same objects. A release's dossier (routes/dossier.ts)
  // reads the manifest and each decision record's bytes (their SHA-256), and writes and reads back dossiers/ in exports.
  // The quality report (routes/quality.ts) reads gold findings from gold-sets/ and masks from uploads/; its exports
  // are written once under exports/ in the exports bucket and handed out by presigned GET.
  // Statements (routes/statements.ts): a PM's issue writes each once under statements/ in exports and reads it back.
  // Qualification exams (routes/qualification.ts, use-cases/exams.ts): a PM's exam start draws the exam's gold from
  // gold-sets/ (which this function reads and writes already), writes the exam batch's three key objects as
  // DispatchChunk does for a round's batches, and starts its lifecycle; an exam resumed after a crash re-reads its key.
  // Production batch keys stay DispatchChunk's: an exam key's id ends in -q<attempt> (functions/use-cases/exams.ts).
  // Disputes of gold (routes/adjudications.ts → use-cases/disputes.ts resolveDispute): an expert's decision on a dispute
  // writes the corrected answer's versions under gold-history/ (read back on a re-run) and the pool in gold-sets/, then
  // re-scores every batch that held the item: its key (batch-keys/) to find it, its hidden answers (batch-answers/) read
  // and rewritten, its aliases (batch-aliases/) and accepted upload to score it again as ScoreSubmission does.
  Api: {
    table: 'readWrite',
    checksCaseIds: true,
    // An overdue dispute expires when the Api reads it (completion, the expert's and the PM's reads): its claim items are deleted.
    deletesItems: true,
    startsBatches: true,
    read: ['gold/gold-sets/', 'gold/batch-keys/', 'gold/batch-aliases/', 'gold/batch-answers/', 'gold/gold-history/', 'gold/case-ingests/', 'images', 'uploads/uploads/', 'releases/releases/', 'exports/adjudications/', 'exports/dossiers/', 'exports/exports/', 'exports/statements/'],
    write: ['gold/gold-sets/', 'gold/batch-aliases/', 'gold/batch-keys/', 'gold/batch-answers/', 'gold/gold-history/', 'gold/case-ingests/', 'images/images/', 'images/opaque/', 'releases/releases/', 'exports/dossiers/', 'exports/exports/', 'exports/statements/'],
    resumesBatches: ['SendTaskSuccess'],
    caller: 'API Gateway (the HTTP API, for a signed-in PM, QA lead or expert who waits for the answer)',
  },
  // The HTTP API's vendor and expert batch routes (functions/api/routes/work.ts over vendor-portal.ts): manifests,
  // images under their opaque keys and legacy aliased copies (presigned GET), upload slots (presigned PUT), reports;
  // a request on a waiting batch is its heartbeat. Nothing of the gold bucket, nor images under the PM's own keys.
  // A vendor's own statements (routes/statements.ts, /v1/statements): the ledger fold and the issued ones under statements/.
  // test/infra/api.test.ts checks both API functions against their requests.
  WorkApi: {
    table: 'readWrite',
    read: ['images/batches/', 'images/opaque/', 'exports/reports/', 'exports/statements/'],
    write: ['uploads/uploads/'],
    resumesBatches: ['SendTaskHeartbeat'],
    caller: 'API Gateway (the HTTP API, for a signed-in vendor or expert who waits for the answer)',
  },
};

export interface FunctionAccess {
  table: 'read' | 'readWrite';
  /** dynamodb:DeleteItem as well (with readWrite). */
  deletesItems?: boolean;
  /** dynamodb:BatchGetItem as well: it ingests cases, and putCases asks which ids exist in batch reads (adapters/dynamo-cases.ts). */
  checksCaseIds?: boolean;
  read?: readonly ObjectScope[];
  write?: readonly ObjectScope[];
  /** states:StartExecution on the batch lifecycle (and its ARN in the environment). */
  startsBatches?: boolean;
  /** states:StartExecution on the round dispatch, DescribeExecution on its executions (and its ARN in the environment). */
  startsRounds?: boolean;
  /** Task-token callbacks it sends to the batch lifecycle. */
  resumesBatches?: readonly ('SendTaskSuccess' | 'SendTaskHeartbeat')[];
  /** Who invokes it synchronously, for a function no workflow state or event rule invokes. */
  caller?: string;
}

/** The bucket and key prefix ('' = every key) of a scope. */
export function parseScope(scope: ObjectScope): { bucket: BucketName; prefix: string } {
  const slash = scope.indexOf('/');
  return slash < 0 ? { bucket: scope as BucketName, prefix: '' } : { bucket: scope.slice(0, slash) as BucketName, prefix: scope.slice(slash + 1) };
}

export interface GoldlineStackProps extends StackProps {
  /**
   * Reserved concurrency by function name. Unset: the function shares the
   * account pool (Lambda keeps 100 of the quota unreserved, and new accounts
   * may start at 10), and the HIPAA LambdaConcurrency finding is acknowledged.
   */
  readonly reservedConcurrency?: Readonly<Record<string, number>>;
  /**
   * Object Lock retention (governance mode) of each release manifest, in days.
   * Unset: the CDK context `goldline:releaseRetentionDays`, else RELEASES.defaultRetentionDays.
   */
  readonly releaseRetentionDays?: number;
}

/** `${Name}FunctionArn` placeholders an ASL file uses, in order of first use. */
export function aslPlaceholders(asl: string): string[] {
  return [...new Set([...asl.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]))];
}

/** What no function may do to a ledger item (docs/data-model.md, "ledger rows"): only appends (PutItem) are left. */
export const LEDGER_DENIED_ACTIONS = ['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'] as const;
/** The partition keys of the ledger (`LEDGER#<programId>`), as IAM's `dynamodb:LeadingKeys` pattern. */
export const LEDGER_LEADING_KEYS = 'LEDGER#*';

const ack = (scope: IConstruct, id: string, reason: string): void => Validations.of(scope).acknowledge({ id, reason });

/** The functions an ASL file's Task states invoke, by their `${Name}FunctionArn` placeholders, in order of first use. */
function functionsOfWorkflow(file: string): string[] {
  return aslPlaceholders(readFileSync(join(ROOT, file), 'utf8')).map((p) => {
    const fn = FUNCTIONS.find((f) => functionArnPlaceholder(f.name) === p);
    if (!fn) throw new Error(`${file} uses \${${p}}, which names no FUNCTIONS entry`);
    return fn.name;
  });
}

export class GoldlineStack extends Stack {
  readonly key: Key;
  readonly accessLogs: Bucket;
  readonly buckets: Record<BucketName, Bucket>;
  readonly table: Table;
  readonly functions: Record<string, NodejsFunction>;
  readonly batchLifecycle: StateMachine;
  /** A round's dispatch in chunks (workflows/round-dispatch.asl.json). */
  readonly roundDispatch: StateMachine;
  readonly ingestDeadLetters: Queue;
  /** User pool, app client and HTTP API in front of the Api function. */
  readonly api: GoldlineApi;
  /** The QA dashboard's bucket and CloudFront distribution. */
  readonly dashboard: DashboardSite;

  constructor(scope: Construct, id: string, props: GoldlineStackProps = {}) {
    super(scope, id, props);
    // Feature flags this template relies on, pinned here so that tests, synth
    // and any app hosting the stack agree without copying cdk.json context:
    // log delivery to the access-log bucket by bucket policy, not ACLs (the
    // buckets enforce bucket-owner object ownership); merged policy statements.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    this.node.setContext('@aws-cdk/aws-iam:minimizePolicies', true);

    // ---- Key ------------------------------------------------------------
    this.key = new Key(this, 'DataKey', dataKeyProps());
    allowLogGroupsToUseKey(this.key);

    // ---- Buckets --------------------------------------------------------
    this.accessLogs = new Bucket(this, 'AccessLogs', accessLogBucketProps());
    ack(
      this.accessLogs,
      'HIPAA.Security-S3DefaultEncryptionKMS',
      'S3 server access logging delivers only to buckets encrypted with SSE-S3 (AES-256); SSE-KMS destinations are not supported, so this bucket uses SSE-S3.',
    );

    const releaseRetentionDays = props.releaseRetentionDays ?? Number(this.node.tryGetContext(RELEASES.retentionContextKey) ?? RELEASES.defaultRetentionDays);
    if (!Number.isInteger(releaseRetentionDays) || releaseRetentionDays < 1) {
      throw new Error(`release retention: a whole number of days of at least 1 (prop releaseRetentionDays or context ${RELEASES.retentionContextKey}), not ${releaseRetentionDays}`);
    }
    const bucket = (name: BucketName): Bucket => {
      const def = BUCKETS[name];
      const b = new Bucket(this, def.id, {
        ...bucketProps({ key: this.key, accessLogs: this.accessLogs, logPrefix: `${def.id.toLowerCase()}/` }),
        // A release is written once and kept: no function may overwrite or delete a locked version
        // (governance mode: only a principal granted s3:BypassGovernanceRetention could, and none is).
        ...(name === 'releases' ? { objectLockEnabled: true, objectLockDefaultRetention: ObjectLockRetention.governance(Duration.days(releaseRetentionDays)) } : {}),
      });
      if (name === 'uploads') {
        // `eventBridgeEnabled: true`, set on the CloudFormation bucket itself:
        // the L2 prop would add a notifications custom resource (a Lambda with
        // an AWS managed policy) to set what CloudFormation supports natively.
        (b.node.defaultChild as CfnBucket).notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
      }
      ack(
        b,
        'HIPAA.Security-S3BucketReplicationEnabled',
        `Single-region for now: the ${name} bucket is versioned, KMS-encrypted and kept on stack deletion; cross-region replication waits on the data-residency decision for the second region (docs/deploy.md).`,
      );
      return b;
    };
    this.buckets = { images: bucket('images'), uploads: bucket('uploads'), gold: bucket('gold'), exports: bucket('exports'), releases: bucket('releases') };
    ack(
      this.accessLogs,
      'HIPAA.Security-S3BucketReplicationEnabled',
      'Access logs stay in the region they describe; replication of the data buckets (and then of their logs) waits on the second-region decision (docs/deploy.md).',
    );

    // ---- Table ----------------------------------------------------------
    if (TABLES.length !== 1 || TABLES[0] !== MAIN_TABLE) throw new Error('GoldlineStack expects the single-table design of definitions.ts');
    this.table = new Table(this, MAIN_TABLE.id, tableProps(MAIN_TABLE, this.key));
    for (const gsi of MAIN_TABLE.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({ indexName: gsi.indexName, partitionKey: keyAttribute(gsi.partitionKey), sortKey: keyAttribute(gsi.sortKey) });
    }
    // PITR covers 35 days; AWS Backup keeps daily and monthly copies for a year.
    const vault = new BackupVault(this, 'BackupVault', { encryptionKey: this.key, removalPolicy: RemovalPolicy.RETAIN });
    const plan = BackupPlan.dailyMonthly1YearRetention(this, 'TableBackupPlan', vault);
    const selection = plan.addSelection('MainTable', { resources: [BackupResource.fromDynamoDbTable(this.table)] });
    ack(
      selection,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      'AWS Backup service role: AWSBackupServiceRolePolicyForBackup is the AWS-maintained policy for this role and tracks new backup APIs; it grants nothing outside backup.',
    );

    // ---- Dead letters of the ingest path --------------------------------
    this.ingestDeadLetters = new Queue(this, 'IngestDeadLetters', queueProps(this.key));
    // EventBridge writes undeliverable events to the SSE-KMS queue: it needs the
    // key. The condition names the account's rules, not this rule: naming the
    // rule would make a key -> rule -> queue -> key dependency cycle.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowEventBridgeDeadLetters',
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: { 'aws:SourceArn': `arn:${this.partition}:events:${this.region}:${this.account}:rule/*` },
        },
      }),
    );

    // ---- Functions ------------------------------------------------------
    const smDef = STATE_MACHINES.batchLifecycle;
    const roundDef = STATE_MACHINES.roundDispatch;
    const invokedNames = functionsOfWorkflow(smDef.file);
    const roundInvokedNames = functionsOfWorkflow(roundDef.file);
    const baseEnvironment: Record<string, string> = {
      [MAIN_TABLE.envVar]: this.table.tableName,
      ...Object.fromEntries((Object.keys(BUCKETS) as BucketName[]).map((n) => [BUCKETS[n].envVar, this.buckets[n].bucketName])),
    };
    this.functions = {};
    for (const def of FUNCTIONS) {
      const access = ACCESS[def.name];
      if (!access) throw new Error(`No ACCESS entry for function ${def.name}: say what it may touch`);
      this.functions[def.name] = this.lambda(def, access, {
        environment: baseEnvironment,
        reserved: props.reservedConcurrency?.[def.name],
        byWorkflow: invokedNames.includes(def.name) || roundInvokedNames.includes(def.name),
      });
    }
    for (const name of Object.keys(ACCESS)) {
      if (!FUNCTIONS.some((f) => f.name === name)) throw new Error(`ACCESS names ${name}, which is not in FUNCTIONS`);
    }

    // ---- Batch lifecycle; round dispatch (PlanRound, then an inline Map over chunks: DispatchChunk) ----
    this.batchLifecycle = this.workflow(smDef, invokedNames);
    this.roundDispatch = this.workflow(roundDef, roundInvokedNames);

    for (const def of FUNCTIONS) {
      const fn = this.functions[def.name];
      const access = ACCESS[def.name];
      if (access.startsRounds) {
        this.roundDispatch.grantStartExecution(fn);
        // DescribeExecution alone (the dispatch waits for its execution); grantRead would add List*/Describe* on "*".
        const executions = this.formatArn({
          service: 'states',
          resource: 'execution',
          resourceName: `${this.roundDispatch.stateMachineName}:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        });
        fn.addToRolePolicy(new PolicyStatement({ actions: ['states:DescribeExecution'], resources: [executions] }));
        ack(
          fn.role!,
          `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${this.getLogicalId(this.roundDispatch.node.defaultChild as CfnElement)}.Name>:*]`,
          `${def.name} reads the round-dispatch executions it started, whose names (<program>-r<round>, then -a<n> for a later attempt) are chosen at run time; an execution ARN can only name them with a wildcard after the state machine's name. One action, on this state machine's executions only.`,
        );
        fn.addEnvironment(roundDef.envVar, this.roundDispatch.stateMachineArn);
      }
      if (access.startsBatches) {
        this.batchLifecycle.grantStartExecution(fn);
        fn.addEnvironment(smDef.envVar, this.batchLifecycle.stateMachineArn);
      }
      if (access.resumesBatches) {
        // A policy of its own, not the role's default one: the function does not
        // wait for it, so a function the state machine invokes (RequestAdjudication)
        // closes no cycle (state machine -> function -> its policy -> state machine).
        new ManagedPolicy(this, `${def.name}ResumesBatches`, {
          description: `${def.name} may send task-token callbacks to the batch lifecycle`,
          roles: [fn.role!],
          statements: [
            new PolicyStatement({
              actions: access.resumesBatches.map((a) => `states:${a}`),
              resources: [this.batchLifecycle.stateMachineArn],
            }),
          ],
        });
      }
    }

    // ---- Uploads → EventBridge → IngestUpload ----------------------------
    const uploadCreated = new Rule(this, 'UploadCreated', {
      description: `S3 Object Created under ${UPLOAD_PREFIX} in the uploads bucket, to IngestUpload`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [this.buckets.uploads.bucketName] },
          object: { key: Match.prefix(UPLOAD_PREFIX) },
        },
      },
    });
    uploadCreated.addTarget(
      new LambdaFunction(this.functions.IngestUpload, {
        deadLetterQueue: this.ingestDeadLetters,
        retryAttempts: 10,
        maxEventAge: Duration.hours(24),
      }),
    );

    // ---- HTTP API and sign-in (infra/api-construct.ts) -------------------
    this.api = new GoldlineApi(this, 'Front', {
      key: this.key,
      handler: this.functions.Api,
      workHandler: this.functions.WorkApi,
      dispatchRound: this.functions.DispatchRound,
    });

    // ---- QA dashboard: static site + CDN (infra/dashboard-site.ts) --------
    this.dashboard = new DashboardSite(this, 'Dashboard', { key: this.key, accessLogs: this.accessLogs, httpApi: this.api.httpApi });

    // ---- Outputs ----------------------------------------------------------
    for (const def of FUNCTIONS) {
      new CfnOutput(this, `${def.name}FunctionName`, { value: this.functions[def.name].functionName, description: def.description });
    }
    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: `${MAIN_TABLE.envVar}` });
    for (const name of Object.keys(BUCKETS) as BucketName[]) {
      new CfnOutput(this, `${BUCKETS[name].id}BucketName`, { value: this.buckets[name].bucketName, description: BUCKETS[name].purpose });
    }
    new CfnOutput(this, 'AccessLogsBucketName', { value: this.accessLogs.bucketName, description: 'S3 server access logs of the data buckets' });
    new CfnOutput(this, 'BatchLifecycleArn', { value: this.batchLifecycle.stateMachineArn, description: smDef.envVar });
    new CfnOutput(this, 'RoundDispatchArn', { value: this.roundDispatch.stateMachineArn, description: roundDef.envVar });
    new CfnOutput(this, 'IngestDeadLettersUrl', { value: this.ingestDeadLetters.queueUrl, description: 'Upload events that could not be ingested' });
  }

  /** One function: secure defaults, its environment, and exactly the grants ACCESS lists. */
  /**
   * A Standard state machine from its ASL file, each placeholder substituted
   * with the ARN of the function it names, allowed to invoke exactly those.
   * Only the placeholders the file uses: a function that starts the machine
   * (DispatchRound, DispatchChunk) is not among them, or its ARN would make a
   * dependency cycle.
   */
  private workflow(def: { id: string; file: string }, invokedNames: readonly string[]): StateMachine {
    const invoked = invokedNames.map((n) => this.functions[n]);
    const defaults = stateMachineDefaults(this, def.id, this.key);
    const machine = new StateMachine(this, def.id, {
      stateMachineType: defaults.stateMachineType,
      logs: defaults.logs,
      tracingEnabled: defaults.tracingEnabled,
      definitionBody: DefinitionBody.fromFile(join(ROOT, def.file)),
      definitionSubstitutions: Object.fromEntries(invokedNames.map((n, i) => [functionArnPlaceholder(n), invoked[i].functionArn])),
    });
    // Unqualified ARNs only, as the ASL uses them: no `:*` version wildcard.
    machine.addToRolePolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [...new Set(invoked)].map((f) => f.functionArn) }),
    );
    ack(
      machine,
      'AwsSolutions-IAM5[Resource::*]',
      'Step Functions log delivery (logs:CreateLogDelivery and friends) and X-Ray (xray:PutTraceSegments, GetSamplingRules) have no resource-level permissions; AWS documents Resource "*" for both.',
    );
    this.ackGeneratedInlinePolicy(machine);
    return machine;
  }

  private lambda(
    def: FunctionDefinition,
    access: FunctionAccess,
    opts: { environment: Record<string, string>; reserved?: number; byWorkflow: boolean },
  ): NodejsFunction {
    const { environment, reserved } = opts;
    const defaults = functionDefaults(this, def.name, { key: this.key, reservedConcurrentExecutions: reserved });
    const isIngest = def.name === 'IngestUpload';
    const fn = new NodejsFunction(this, `${def.name}Function`, {
      ...defaults.props,
      entry: join(ROOT, def.entry),
      handler: 'handler',
      projectRoot: ROOT,
      depsLockFilePath: join(ROOT, 'package-lock.json'),
      description: def.description,
      timeout: Duration.seconds(def.timeoutSeconds),
      memorySize: def.memoryMb,
      environment: { ...defaults.props.environment, ...environment },
      // Ingest is the one asynchronous invocation (EventBridge): after Lambda's
      // own retries a failed event lands in the dead-letter queue, not nowhere.
      ...(isIngest ? { deadLetterQueue: this.ingestDeadLetters, retryAttempts: 2 } : {}),
    });
    const role = defaults.role;

    // Table: named item actions on the table; Query alone on its declared indexes.
    const tableActions = ['dynamodb:GetItem', 'dynamodb:Query'];
    if (access.table === 'readWrite') tableActions.push('dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem');
    if (access.deletesItems) tableActions.push('dynamodb:DeleteItem');
    if (access.checksCaseIds) tableActions.push('dynamodb:BatchGetItem');
    role.addToPrincipalPolicy(new PolicyStatement({ actions: tableActions, resources: [this.table.tableArn] }));
    // The ledger is append-only (docs/data-model.md): no function may update, delete or batch-write an
    // item under LEDGER#…, whatever it is granted above. Appends are PutItem; an overwriting PutItem is not
    // deniable by IAM (the same action and key) — `ledger verify` catches that through the hash chain.
    role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.DENY,
        actions: [...LEDGER_DENIED_ACTIONS],
        resources: [this.table.tableArn],
        conditions: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [LEDGER_LEADING_KEYS] } },
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: MAIN_TABLE.globalSecondaryIndexes.map((g) => `${this.table.tableArn}/index/${g.indexName}`),
      }),
    );

    // Buckets: objects by action and key prefix, ListBucket for reads.
    const objects = (scope: ObjectScope): string => {
      const { bucket, prefix } = parseScope(scope);
      if (bucket === 'gold' && prefix === '') throw new Error(`${def.name}: grant the gold bucket by prefix (gold/<prefix>/), never whole`);
      return this.buckets[bucket].arnForObjects(`${prefix}*`);
    };
    for (const scope of access.read ?? []) {
      // An upload is read at the version ingest recorded: GetObject with a VersionId needs s3:GetObjectVersion.
      const actions = parseScope(scope).bucket === 'uploads' ? ['s3:GetObject', 's3:GetObjectVersion'] : ['s3:GetObject'];
      role.addToPrincipalPolicy(new PolicyStatement({ actions, resources: [objects(scope)] }));
    }
    for (const bucket of new Set((access.read ?? []).map((x) => parseScope(x).bucket))) {
      role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.buckets[bucket].bucketArn] }));
    }
    for (const scope of access.write ?? []) {
      role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [objects(scope)] }));
    }
    for (const scope of new Set([...(access.read ?? []), ...(access.write ?? [])])) {
      const { bucket, prefix } = parseScope(scope);
      ack(
        role,
        `AwsSolutions-IAM5[Resource::<${this.logicalIdOf(this.buckets[bucket])}.Arn>/${prefix}*]`,
        `${def.name} reads or writes objects ${prefix ? `under ${prefix} in` : 'of'} the ${bucket} bucket by keys it computes at run time (batch ids, upload ids); S3 object ARNs can only name them with a key wildcard. Actions are named one by one, and other buckets${prefix ? ' and prefixes' : ''} are not granted.`,
      );
    }

    // The one key behind the table, buckets, queue and environment.
    const writes = access.table === 'readWrite' || (access.write?.length ?? 0) > 0 || isIngest;
    const keyActions = ['kms:Decrypt', 'kms:DescribeKey'];
    if (writes) keyActions.push('kms:Encrypt', 'kms:GenerateDataKey');
    role.addToPrincipalPolicy(new PolicyStatement({ actions: keyActions, resources: [this.key.keyArn] }));

    ack(role, 'AwsSolutions-IAM5[Resource::*]', 'X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions, so AWS documents Resource "*".');
    this.ackGeneratedInlinePolicy(role);
    ack(
      fn,
      'AwsSolutions-L1',
      'Pinned to nodejs22.x on purpose: the handlers are also run and tested on the Node 20 toolchain of the embedded stack, so the deploy target moves to nodejs24.x as a deliberate, tested bump, not automatically.',
    );
    ack(
      fn,
      'HIPAA.Security-LambdaInsideVPC',
      'The function calls only AWS service APIs (DynamoDB, S3, Step Functions, KMS, X-Ray) over TLS with SigV4 and serves nothing on a network; access is bounded by its IAM role, and a VPC would add NAT or interface endpoints without narrowing it.',
    );
    if (!isIngest) {
      if (!opts.byWorkflow && !access.caller) throw new Error(`${def.name} is in no workflow: say who calls it (ACCESS.caller)`);
      ack(
        fn,
        'HIPAA.Security-LambdaDLQ',
        opts.byWorkflow
          ? 'Invoked synchronously by a state machine (batch lifecycle or round dispatch): a failure is retried by the Task state and then caught by the workflow, which records it; a Lambda DLQ applies only to asynchronous invocations.'
          : `Invoked synchronously by ${access.caller}: the caller receives the error and may retry (the use case is idempotent); a Lambda DLQ applies only to asynchronous invocations.`,
      );
    }
    if (reserved === undefined) {
      ack(
        fn,
        'HIPAA.Security-LambdaConcurrency',
        'Shares the account concurrency pool by default: Lambda keeps 100 of the account quota unreserved and new accounts may start with a quota of 10, so reserving here could fail the deploy. Set reservedConcurrency in GoldlineStackProps once the quota allows.',
      );
    }
    return fn;
  }

  /** CDK writes each role's grants as an inline policy owned by that role. */
  private ackGeneratedInlinePolicy(scope: IConstruct): void {
    ack(
      scope,
      'HIPAA.Security-IAMNoInlinePolicy',
      "The policy is generated by CDK from this stack's least-privilege grants for this one role and is created and deleted with it; a customer-managed copy would add a resource, not control.",
    );
  }

  private logicalIdOf(b: Bucket): string {
    return this.getLogicalId(b.node.defaultChild as CfnBucket);
  }
}
