/**
 * The one definition of Goldline's tables, buckets, functions and state
 * machines. The CDK stack and the embedded local stack are both built from
 * here, so the local schema equals the deployed one.
 */

export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}

export interface TableDefinition {
  /** Logical name; env var `${envVar}` carries the physical name to functions. */
  id: string;
  envVar: string;
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  globalSecondaryIndexes: { indexName: string; partitionKey: KeyAttribute; sortKey: KeyAttribute }[];
}

/**
 * Single-table design. Access patterns (who reads what, by which key) are in
 * docs/data-model.md; keep the two in step.
 */
export const MAIN_TABLE: TableDefinition = {
  id: 'Main',
  envVar: 'GOLDLINE_TABLE',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [
    {
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
    },
  ],
};

export const TABLES: readonly TableDefinition[] = [MAIN_TABLE];

export interface BucketDefinition {
  id: string;
  envVar: string;
  purpose: string;
}

export const BUCKETS = {
  images: { id: 'Images', envVar: 'GOLDLINE_IMAGES_BUCKET', purpose: 'de-identified images, batch manifests and aliased image copies (vendors read through presigned GET)' },
  uploads: { id: 'Uploads', envVar: 'GOLDLINE_UPLOADS_BUCKET', purpose: 'vendor label uploads: write-once keys per upload slot, versioned' },
  gold: { id: 'Gold', envVar: 'GOLDLINE_GOLD_BUCKET', purpose: 'gold answers and batch answer keys: never readable by vendor paths' },
  exports: { id: 'Exports', envVar: 'GOLDLINE_EXPORTS_BUCKET', purpose: 'validation reports, exports and adjudication records' },
  releases: { id: 'Releases', envVar: 'GOLDLINE_RELEASES_BUCKET', purpose: 'dataset release manifests: written once, under S3 Object Lock (governance mode)' },
} as const satisfies Record<string, BucketDefinition>;

/**
 * Dataset releases (functions/use-cases/releases.ts): each manifest is written
 * once; in AWS the releases bucket holds it under S3 Object Lock in governance
 * mode (only a principal granted s3:BypassGovernanceRetention can shorten it;
 * none of Goldline's functions is). Retention days come from the stack prop
 * `releaseRetentionDays`, else the CDK context key below, else the default.
 */
export const RELEASES = {
  retentionContextKey: 'goldline:releaseRetentionDays',
  /** Ten years: longer than the record-keeping a device submission usually asks for; set it to your own policy. */
  defaultRetentionDays: 3650,
} as const;

/** Prefix under which vendor uploads land; only these keys trigger ingest. */
export const UPLOAD_PREFIX = 'uploads/';

export interface FunctionDefinition {
  /** Also the `${<name>FunctionArn}` placeholder in ASL files. */
  name: string;
  /** Handler module, relative to the repository root; exports `handler`. */
  entry: string;
  description: string;
  timeoutSeconds: number;
  memoryMb: number;
}

export const FUNCTIONS: readonly FunctionDefinition[] = [
  { name: 'DispatchRound', entry: 'functions/dispatch-round.ts', description: "Starts a round's dispatch execution (RoundDispatch) and waits for its outcome", timeoutSeconds: 300, memoryMb: 256 },
  // A round in chunks (workflows/round-dispatch.asl.json): planning pages of 10,000 cases; each chunk at most 50 batches / 3,000 items.
  { name: 'PlanRound', entry: 'functions/plan-round.ts', description: 'Plans a round page by page into chunk objects and commits it (round record)', timeoutSeconds: 900, memoryMb: 1769 },
  { name: 'DispatchChunk', entry: 'functions/dispatch-chunk.ts', description: "Dispatches one chunk of a round's batches and starts their executions", timeoutSeconds: 900, memoryMb: 512 },
  { name: 'PrepareManifest', entry: 'functions/prepare-manifest.ts', description: 'Writes the blinded vendor manifest (opaque image keys; aliased copies for cases without one)', timeoutSeconds: 120, memoryMb: 512 },
  { name: 'AwaitSubmission', entry: 'functions/await-submission.ts', description: 'Parks the batch on its callback token until a valid upload', timeoutSeconds: 30, memoryMb: 256 },
  { name: 'IngestUpload', entry: 'functions/ingest-upload.ts', description: 'Validates an uploaded label file and resumes the batch', timeoutSeconds: 60, memoryMb: 512 },
  { name: 'ValidateSubmission', entry: 'functions/validate-submission.ts', description: 'Re-verifies the chosen submission (size, SHA-256, schema)', timeoutSeconds: 60, memoryMb: 512 },
  { name: 'ScoreSubmission', entry: 'functions/score-submission.ts', description: 'Scores a submission against its hidden gold items', timeoutSeconds: 60, memoryMb: 512 },
  // Settle → finalize → agreement check (→ rebalance): one state instead of four (issue 14: state transitions).
  // Timeout: the four parts' own (30 + 120 + 60 + 60 s); memory: the largest part's.
  {
    name: 'CompleteBatch',
    entry: 'functions/complete-batch.ts',
    description: 'Settles a scored batch (accept, reject or hold), finalizes a decided one (labels with lineage), finds overlap disagreements and critical misses, and rebalances unless an expert is needed',
    timeoutSeconds: 270,
    memoryMb: 512,
  },
  { name: 'RequestAdjudication', entry: 'functions/request-adjudication.ts', description: 'Parks the batch on an expert adjudication callback', timeoutSeconds: 30, memoryMb: 256 },
  { name: 'DecideAdjudication', entry: 'functions/decide-adjudication.ts', description: "An internal expert's adjudication decision; resumes the batch", timeoutSeconds: 30, memoryMb: 256 },
  { name: 'ApplyAdjudication', entry: 'functions/apply-adjudication.ts', description: 'Makes the adjudicated label the accepted one', timeoutSeconds: 60, memoryMb: 512 },
  { name: 'ExpireAdjudication', entry: 'functions/expire-adjudication.ts', description: 'Closes an adjudication nobody answered in time and releases its cases', timeoutSeconds: 30, memoryMb: 256 },
  { name: 'Rebalance', entry: 'functions/rebalance.ts', description: 'Recomputes scorecards and next-round shares when a round completes', timeoutSeconds: 60, memoryMb: 512 },
  { name: 'MarkOverdue', entry: 'functions/mark-overdue.ts', description: 'Records an SLA miss for a batch', timeoutSeconds: 30, memoryMb: 256 },
  { name: 'RecordFailure', entry: 'functions/record-failure.ts', description: 'Records a failed batch execution with its cause', timeoutSeconds: 30, memoryMb: 256 },
  // The HTTP API runs as two functions of one application, split by route (API.workRoutes): the one vendors'
  // requests reach has no access to gold. API Gateway gives an integration at most 30 s: each stops first.
  { name: 'Api', entry: 'functions/api.ts', description: 'HTTP API: PM, QA and adjudication routes (case and gold ingest)', timeoutSeconds: 29, memoryMb: 1024 },
  { name: 'WorkApi', entry: 'functions/api.ts', description: "HTTP API: vendors' and experts' batch routes (no gold)", timeoutSeconds: 29, memoryMb: 512 },
];

export interface StateMachineDefinition {
  id: string;
  file: string;
  envVar: string;
}

export const STATE_MACHINES = {
  batchLifecycle: { id: 'BatchLifecycle', file: 'workflows/batch-lifecycle.asl.json', envVar: 'GOLDLINE_BATCH_STATE_MACHINE_ARN' },
  roundDispatch: { id: 'RoundDispatch', file: 'workflows/round-dispatch.asl.json', envVar: 'GOLDLINE_ROUND_STATE_MACHINE_ARN' },
} as const satisfies Record<string, StateMachineDefinition>;

/** `${NameFunctionArn}` placeholders an ASL file may use, by function name. */
export const functionArnPlaceholder = (name: string): string => `${name}FunctionArn`;

/**
 * The HTTP API (functions/api.ts) behind API Gateway, and the Cognito user pool
 * that signs its callers in (infra/api-construct.ts). The embedded stack serves
 * the same application with its own issuer (infra/local/issuer.ts).
 */
export const API = {
  /** Every route lives under this prefix; API Gateway forwards `${basePath}/{proxy+}` with its JWT authorizer. */
  basePath: '/v1',
  /** The OpenAPI document: served without a token (it describes routes and schemas, and holds no data or secret). */
  openApiPath: '/v1/openapi.json',
  /**
   * Routes API Gateway sends to the WorkApi function (every method): what vendors
   * call. Everything else under basePath goes to the Api function, which answers
   * a vendor's token with 403 before it reads a body.
   */
  workRoutes: ['/v1/me', '/v1/batches', '/v1/batches/{proxy+}', '/v1/disputes', '/v1/disputes/{proxy+}', '/v1/statements', '/v1/statements/{proxy+}'],
  /** User pool groups: a caller's roles (`cognito:groups` in the ID token). */
  groups: ['pm', 'qa', 'expert', 'vendor'],
  /** Custom attribute naming the workforce a vendor or expert acts for (`custom:workforceId` in the ID token). */
  workforceAttribute: 'workforceId',
  /** Where the function learns which tokens to trust (it verifies every JWT itself, as the authorizer does). */
  env: {
    issuer: 'GOLDLINE_JWT_ISSUER',
    audience: 'GOLDLINE_JWT_AUDIENCE',
    jwksUrl: 'GOLDLINE_JWKS_URL',
    /** Name of the DispatchRound function, which the dispatch route invokes (the API functions start no batch). */
    dispatchFunction: 'GOLDLINE_DISPATCH_ROUND_FUNCTION',
  },
  /**
   * Default-stage throttling, for all callers together: requests per second and
   * burst. A round of a few hundred cases is a few dozen requests per vendor.
   */
  throttle: { rateLimit: 50, burstLimit: 100 },
} as const;
