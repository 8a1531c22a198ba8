/**
 * Secure default props for every resource of the Goldline stack, in the style
 * of aws-solutions-constructs (`s3-bucket-defaults.ts`, `dynamodb-table-defaults.ts`):
 * a resource starts from these and only adds what is specific to it (keys,
 * environment, grants). Nothing in the stack is secured ad hoc.
 *
 * Everything that stores data is encrypted with the stack's one customer-managed
 * KMS key (rotation on), except the server-access-log bucket: S3 delivers access
 * logs only to buckets encrypted with SSE-S3, not SSE-KMS.
 *
 * @example
 * const key = new Key(this, 'DataKey', dataKeyProps());
 * const logs = new Bucket(this, 'AccessLogs', accessLogBucketProps());
 * const images = new Bucket(this, 'Images', bucketProps({ key, accessLogs: logs, logPrefix: 'images/' }));
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, type TableProps, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey, KeyProps } from 'aws-cdk-lib/aws-kms';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  BlockPublicAccess,
  BucketEncryption,
  type BucketProps,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { type QueueProps, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { LogLevel, type StateMachineProps, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { KeyAttribute, TableDefinition } from './definitions.js';

/** Audit logs (Lambda, Step Functions) are kept a year; HIPAA wants a retention set. */
export const LOG_RETENTION = RetentionDays.ONE_YEAR;

/** The stack's customer-managed key: rotated yearly, kept if the stack goes. */
export function dataKeyProps(): KeyProps {
  return {
    description: 'Goldline data key: buckets, table, queues, log groups, Lambda environment',
    enableKeyRotation: true,
    pendingWindow: Duration.days(30),
    removalPolicy: RemovalPolicy.RETAIN,
  };
}

/**
 * Lets CloudWatch Logs in this account and region use the key for log groups
 * (a KMS-encrypted log group needs this in the key policy, not in IAM).
 */
export function allowLogGroupsToUseKey(key: IKey): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'AllowCloudWatchLogsLogGroups',
      principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
        },
      },
    }),
  );
}

/** Data buckets: private, TLS 1.2+ only, SSE-KMS with the stack key, versioned, access-logged, kept. */
export function bucketProps(opts: { key: IKey; accessLogs: IBucket; logPrefix: string }): BucketProps {
  return {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    encryption: BucketEncryption.KMS,
    encryptionKey: opts.key,
    // Fewer KMS calls (and cost) per object; the key stays the stack's CMK.
    bucketKeyEnabled: true,
    versioned: true,
    serverAccessLogsBucket: opts.accessLogs,
    serverAccessLogsPrefix: opts.logPrefix,
    removalPolicy: RemovalPolicy.RETAIN,
  };
}

/**
 * The bucket that receives server access logs. S3 log delivery writes only to
 * SSE-S3 buckets, and a log bucket cannot log to itself: both are acknowledged
 * in the stack. Old log versions expire; current logs are kept.
 */
export function accessLogBucketProps(): BucketProps {
  return {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    encryption: BucketEncryption.S3_MANAGED,
    versioned: true,
    lifecycleRules: [{ id: 'expire-noncurrent-log-versions', noncurrentVersionExpiration: Duration.days(90) }],
    removalPolicy: RemovalPolicy.RETAIN,
  };
}

/** A key attribute of definitions.ts as CDK wants it (table and index keys alike). */
export const keyAttribute = (k: KeyAttribute) => ({ name: k.name, type: k.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER });

/** A table from its definition (indexes are added by the stack): on-demand, PITR, the stack CMK, deletion protection, kept. */
export function tableProps(def: TableDefinition, key: IKey): TableProps {
  return {
    partitionKey: keyAttribute(def.partitionKey),
    sortKey: keyAttribute(def.sortKey),
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
  };
}

/** Dead-letter queues: SSE-KMS with the stack key, TLS only, 14 days to look at a failure, kept. */
export function queueProps(key: IKey): QueueProps {
  return {
    encryption: QueueEncryption.KMS,
    encryptionMasterKey: key,
    dataKeyReuse: Duration.minutes(5),
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    // Failed events are evidence: deleting the stack must not drop them.
    removalPolicy: RemovalPolicy.RETAIN,
  };
}

/** A KMS-encrypted log group with the audit retention; kept when the stack goes. */
export function encryptedLogGroup(scope: Construct, id: string, key: IKey): LogGroup {
  return new LogGroup(scope, id, { encryptionKey: key, retention: LOG_RETENTION, removalPolicy: RemovalPolicy.RETAIN });
}

/**
 * esbuild options for the ESM handlers: one `.mjs` file per function with its
 * dependencies (the AWS SDK included, so the pinned SDK version is the one that
 * runs). The banner defines `require` so bundled CommonJS packages still load.
 */
export const ESM_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: "import { createRequire as goldlineCreateRequire } from 'node:module'; const require = goldlineCreateRequire(import.meta.url);",
  externalModules: [],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
};

export interface FunctionDefaults {
  role: Role;
  logGroup: LogGroup;
  /** Spread into `NodejsFunction` props; add entry, handler, timeout, memory, environment. */
  props: {
    runtime: Runtime;
    architecture: Architecture;
    tracing: Tracing;
    role: IRole;
    logGroup: LogGroup;
    loggingFormat: LoggingFormat;
    environmentEncryption: IKey;
    reservedConcurrentExecutions?: number;
    bundling: BundlingOptions;
    environment: Record<string, string>;
  };
}

/**
 * Lambda defaults: Node.js 22 on ARM64, active tracing, JSON logs to an
 * encrypted log group with retention, environment encrypted with the stack key,
 * and a role of its own that starts empty (no AWS managed policy: it may write
 * to its log group and nothing else until the stack grants more).
 */
export function functionDefaults(
  scope: Construct,
  id: string,
  opts: { key: IKey; reservedConcurrentExecutions?: number },
): FunctionDefaults {
  const logGroup = encryptedLogGroup(scope, `${id}Logs`, opts.key);
  const role = new Role(scope, `${id}Role`, {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of the ${id} function`,
  });
  logGroup.grantWrite(role);
  // Decrypts the KMS-encrypted environment variables at cold start.
  role.addToPrincipalPolicy(new PolicyStatement({ actions: ['kms:Decrypt'], resources: [opts.key.keyArn] }));
  return {
    role,
    logGroup,
    props: {
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      role,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      environmentEncryption: opts.key,
      ...(opts.reservedConcurrentExecutions === undefined ? {} : { reservedConcurrentExecutions: opts.reservedConcurrentExecutions }),
      bundling: ESM_BUNDLING,
      environment: { NODE_OPTIONS: '--enable-source-maps' },
    },
  };
}

/** State machine defaults: Standard, every event logged (with data) to an encrypted log group, X-Ray on. */
export function stateMachineDefaults(
  scope: Construct,
  id: string,
  key: IKey,
): Pick<StateMachineProps, 'stateMachineType' | 'logs' | 'tracingEnabled'> & { logGroup: LogGroup } {
  const logGroup = encryptedLogGroup(scope, `${id}Logs`, key);
  return {
    logGroup,
    stateMachineType: StateMachineType.STANDARD,
    logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: true },
    tracingEnabled: true,
  };
}
