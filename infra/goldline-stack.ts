/**
 * The Goldline stack, built from infra/definitions.ts: one KMS key, the data
 * buckets and their access-log bucket, the single table, one Lambda per
 * FUNCTIONS entry, the batch lifecycle state machine from its ASL file, and the
 * S3 → EventBridge → IngestUpload path with its dead-letter queue.
 *
 * Every resource starts from infra/secure-defaults.ts. Grants are written out
 * per function from what its use case calls (ACCESS, infra/function-access.ts), with named actions
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
import { ACCESS, type BucketName, type FunctionAccess, LEDGER_DENIED_ACTIONS, LEDGER_LEADING_KEYS, type ObjectScope, parseScope } from './function-access.js';
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
