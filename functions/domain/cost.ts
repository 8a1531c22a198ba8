/**
 * Cost per case: AWS requests, state transitions and Lambda time priced at the
 * public list prices below. Pure: counts in, dollars out. Cost per case is a
 * product figure (docs/DESIGN.md, "Where it goes at scale").
 *
 * Prices are us-east-1 on-demand list prices as of PRICES_AS_OF, without free
 * tiers, Savings Plans or volume tiers beyond the first. Sources, by page name:
 * - AWS Step Functions pricing (Standard workflows: per state transition)
 * - AWS Lambda pricing (requests; duration per GB-second, x86 and Arm, first tier)
 * - Amazon DynamoDB pricing, on-demand capacity page (read/write request units;
 *   AWS cut on-demand throughput prices by 50% on 2024-11-01 — stored copies of
 *   that page and reviews dated 2025-07 give $0.625 per million WRU and
 *   $0.125 per million RRU, which is what this table uses)
 * - Amazon S3 pricing, "Requests & data retrievals" (S3 Standard)
 * - Amazon EventBridge pricing (event buses: AWS management events free; custom,
 *   partner and "AWS opt-in data events" — which include S3 object-level events
 *   sent once EventBridge notifications are enabled on a bucket — per million)
 * - AWS Key Management Service pricing (requests)
 * - Amazon API Gateway pricing (HTTP APIs, first 300 million requests)
 * - Amazon S3 pricing, "Storage" (S3 Standard, first 50 TB / month) and
 *   "Data transfer" (out to the internet, first 10 TB / month); Amazon DynamoDB
 *   pricing, "Data storage" (Standard table class)
 */

/**
 * Requests by service and operation: the shape `RequestCounter.snapshot()`
 * returns (declared here, structurally, so the domain imports no adapter).
 */
export interface RequestCount {
  service: string;
  operation: string;
  count: number;
}

/** The month the prices below were taken as of. */
export const PRICES_AS_OF = '2026-11';

/** Dollars per one unit (one request, one transition, one GB-second …). */
export const UNIT_PRICES = {
  /** Step Functions Standard: $0.025 per 1,000 state transitions. */
  stepFunctionsStateTransition: 0.025 / 1_000,
  /** Lambda: $0.20 per 1M requests. */
  lambdaRequest: 0.2 / 1_000_000,
  /** Lambda duration, x86: $0.0000166667 per GB-second. */
  lambdaGbSecondX86: 0.0000166667,
  /** Lambda duration, Arm (Graviton): $0.0000133334 per GB-second. */
  lambdaGbSecondArm64: 0.0000133334,
  /** DynamoDB on-demand: $0.625 per million write request units (since 2024-11-01). */
  dynamoWriteRequestUnit: 0.625 / 1_000_000,
  /** DynamoDB on-demand: $0.125 per million read request units (since 2024-11-01). */
  dynamoReadRequestUnit: 0.125 / 1_000_000,
  /** S3 Standard: $0.005 per 1,000 PUT, COPY, POST, LIST requests. */
  s3PutClassRequest: 0.005 / 1_000,
  /** S3 Standard: $0.0004 per 1,000 GET, SELECT and all other requests. */
  s3GetClassRequest: 0.0004 / 1_000,
  /** EventBridge: $1.00 per million custom events (per 64 KB chunk). */
  eventBridgeCustomEvent: 1 / 1_000_000,
  /** EventBridge: $1.00 per million AWS opt-in data events (e.g. S3 Object Created). */
  eventBridgeOptInDataEvent: 1 / 1_000_000,
  /** EventBridge: AWS management (control-plane) events are free. */
  eventBridgeManagementEvent: 0,
  /** KMS: $0.03 per 10,000 requests. */
  kmsRequest: 0.03 / 10_000,
  /** API Gateway HTTP API: $1.00 per million requests (first 300 million). */
  httpApiRequest: 1 / 1_000_000,
  /** S3 Standard storage: $0.023 per GB-month (first 50 TB per month). */
  s3StandardGbMonth: 0.023,
  /** DynamoDB Standard table class storage: $0.25 per GB-month (beyond the free 25 GB, not deducted here). */
  dynamoStorageGbMonth: 0.25,
  /** Data transfer out from S3 to the internet: $0.09 per GB (first 10 TB per month; first 100 GB free, not deducted). */
  dataTransferOutGb: 0.09,
} as const;

/** What a request is billed as. */
export type PriceClass =
  | 'dynamodb-write'
  | 'dynamodb-read'
  | 's3-put-class'
  | 's3-get-class'
  | 'eventbridge-custom'
  /** Not billed per request (control plane, DELETE, Step Functions API calls under Standard). */
  | 'free'
  /** Billed, but through another input of `estimateCost` (Lambda Invoke → `lambdaInvocations`). */
  | 'counted-elsewhere'
  /** No mapping: reported in `unpriced`, never silently dropped. */
  | 'unpriced';

export interface RequestPricing {
  priceClass: PriceClass;
  /** Billing units per counted call (e.g. items per BatchWriteItem call). */
  unitsPerCall: number;
  /** How the units are derived, when it is an approximation. */
  note?: string;
}

/** Hints for operations whose billing units are not one per call. */
export interface UnitHints {
  /**
   * Items per BatchWriteItem call. The counter counts calls, DynamoDB bills
   * items (1 WRU per item up to 1 KB). Default 25, the API maximum: an upper
   * bound when the last chunk of a write is partial.
   */
  itemsPerBatchWrite?: number;
  /** Items per BatchGetItem call. Default 100, the API maximum (upper bound). */
  itemsPerBatchGet?: number;
  /** Entries per EventBridge PutEvents call. Default 1. */
  entriesPerPutEvents?: number;
}

const DYNAMO_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);
const DYNAMO_READS = new Set(['GetItem', 'Query', 'Scan']);
const DYNAMO_CONTROL = new Set([
  'CreateTable',
  'DescribeTable',
  'UpdateTable',
  'DeleteTable',
  'ListTables',
  'DescribeTimeToLive',
  'UpdateTimeToLive',
  'DescribeContinuousBackups',
  'UpdateContinuousBackups',
  'TagResource',
  'ListTagsOfResource',
]);
const S3_PUT_CLASS = new Set([
  'PutObject',
  'CopyObject',
  'PostObject',
  'CreateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
  'CompleteMultipartUpload',
  'ListObjects',
  'ListObjectsV2',
  'ListObjectVersions',
  'ListBuckets',
  'ListMultipartUploads',
  'ListParts',
  'CreateBucket',
]);
/** S3 DELETE and CANCEL requests are free. */
const S3_FREE = new Set(['DeleteObject', 'DeleteObjects', 'AbortMultipartUpload', 'DeleteBucket']);

/**
 * How one counted request (service + operation, as `RequestCounter` names them)
 * is billed. Approximations, stated so a reader can judge them:
 * - DynamoDB writes: 1 WRU per call (items ≤ 1 KB). Larger items, GSI
 *   replication (+1 WRU per index an item lands in) and failed conditional
 *   writes (billed too) are not in a per-call count — measure ConsumedCapacity
 *   and pass `dynamoCapacity` for the true figure.
 * - DynamoDB GetItem: 1 RRU (strongly consistent, ≤ 4 KB; eventually
 *   consistent reads cost half). Query/Scan: 1 RRU per call, although DynamoDB
 *   bills 1 RRU per 4 KB read over all items a page returns: a 1 MB page costs
 *   256 RRU. Measure for anything that lists.
 * - S3: PUT/COPY/POST/LIST and multipart parts are PUT class; DELETE is free;
 *   GET and every other request is GET class.
 * - Presigned URLs: generating one is not a request to AWS and is not billed;
 *   the vendor's GET or PUT with it is, once per use. `RequestCounter` counts
 *   `getSignedUrl` as the operation it signs (its middleware runs in the
 *   initialize step, which presigning also runs), so with one use per URL the
 *   count equals the billed vendor requests. When URLs are reused or unused,
 *   count sent requests apart from presigns and pass the vendor's HTTP
 *   requests as `s3` GetObject/PutObject.
 * - Step Functions API calls (StartExecution, SendTask*) are free under
 *   Standard: the workflow is billed per state transition.
 *
 * @example priceRequest('dynamodb', 'BatchWriteItem', { itemsPerBatchWrite: 10 })
 *   // → { priceClass: 'dynamodb-write', unitsPerCall: 10, note: … }
 */
export function priceRequest(service: string, operation: string, hints: UnitHints = {}): RequestPricing {
  const svc = service.toLowerCase();
  if (svc === 'dynamodb') {
    if (DYNAMO_WRITES.has(operation)) return { priceClass: 'dynamodb-write', unitsPerCall: 1, note: '1 WRU per call (item ≤ 1 KB)' };
    if (operation === 'BatchWriteItem') {
      const n = hints.itemsPerBatchWrite ?? 25;
      return { priceClass: 'dynamodb-write', unitsPerCall: n, note: `${n} items per call (1 WRU each)` };
    }
    if (operation === 'GetItem') return { priceClass: 'dynamodb-read', unitsPerCall: 1, note: '1 RRU per call (consistent, ≤ 4 KB)' };
    if (DYNAMO_READS.has(operation)) return { priceClass: 'dynamodb-read', unitsPerCall: 1, note: '1 RRU per call (really 1 per 4 KB read)' };
    if (operation === 'BatchGetItem') {
      const n = hints.itemsPerBatchGet ?? 100;
      return { priceClass: 'dynamodb-read', unitsPerCall: n, note: `${n} items per call (1 RRU each)` };
    }
    if (DYNAMO_CONTROL.has(operation)) return { priceClass: 'free', unitsPerCall: 0, note: 'control plane' };
    return { priceClass: 'unpriced', unitsPerCall: 0 };
  }
  if (svc === 's3') {
    if (S3_PUT_CLASS.has(operation) || /^(Put|Create|List|Copy)/.test(operation)) return { priceClass: 's3-put-class', unitsPerCall: 1 };
    if (S3_FREE.has(operation) || operation.startsWith('Delete')) return { priceClass: 'free', unitsPerCall: 0, note: 'DELETE is free' };
    return { priceClass: 's3-get-class', unitsPerCall: 1 };
  }
  if (svc === 'sfn' || svc === 'stepfunctions') {
    return { priceClass: 'free', unitsPerCall: 0, note: 'Standard workflows are billed per state transition' };
  }
  if (svc === 'lambda') return { priceClass: 'counted-elsewhere', unitsPerCall: 0, note: 'pass as lambdaInvocations' };
  if (svc === 'eventbridge' || svc === 'events') {
    if (operation === 'PutEvents') {
      const n = hints.entriesPerPutEvents ?? 1;
      return { priceClass: 'eventbridge-custom', unitsPerCall: n, note: `${n} entries per call` };
    }
    return { priceClass: 'free', unitsPerCall: 0, note: 'control plane' };
  }
  return { priceClass: 'unpriced', unitsPerCall: 0 };
}

/** Billing units by price class, from counted requests. */
export type RequestUnits = Record<Exclude<PriceClass, 'free' | 'counted-elsewhere' | 'unpriced'>, number> & {
  unpriced: RequestCount[];
};

/**
 * Sums counted requests into billing units per price class.
 *
 * @example requestUnits([{ service: 's3', operation: 'CopyObject', count: 60 }])['s3-put-class'] // → 60
 */
export function requestUnits(requests: readonly RequestCount[], hints: UnitHints = {}): RequestUnits {
  const out: RequestUnits = {
    'dynamodb-write': 0,
    'dynamodb-read': 0,
    's3-put-class': 0,
    's3-get-class': 0,
    'eventbridge-custom': 0,
    unpriced: [],
  };
  for (const r of requests) {
    assertCount(`${r.service} ${r.operation}`, r.count);
    const p = priceRequest(r.service, r.operation, hints);
    if (p.priceClass === 'unpriced') out.unpriced.push({ ...r });
    else if (p.priceClass !== 'free' && p.priceClass !== 'counted-elsewhere') out[p.priceClass] += r.count * p.unitsPerCall;
  }
  return out;
}

export interface CostInput {
  /** AWS requests by service and operation (`RequestCounter.snapshot()`). */
  requests: readonly RequestCount[];
  /** Step Functions Standard state transitions. */
  stateTransitions: number;
  lambdaInvocations: number;
  /** Billed Lambda duration × memory. Omitted: the compute line is left out and a note says so. */
  lambdaGbSeconds?: number;
  /** Default 'arm64' (the stack deploys Graviton functions). */
  lambdaArchitecture?: 'arm64' | 'x86_64';
  /** Cases the run produced (the denominator of the per-case figures). */
  cases: number;
  /** Measured DynamoDB capacity (ConsumedCapacity, GSI writes included): replaces the per-call approximation. */
  dynamoCapacity?: { readUnits: number; writeUnits: number };
  hints?: UnitHints;
  /** AWS opt-in data events on the default bus (S3 Object Created → EventBridge). */
  eventBridgeOptInDataEvents?: number;
  /** KMS requests (S3 Bucket Keys and DynamoDB's cached table key make these rare). */
  kmsRequests?: number;
  /** API Gateway HTTP API requests (e.g. the vendor portal). */
  httpApiRequests?: number;
  /** Storage kept over the run, in GB-months (GB = 2^30 bytes, as AWS bills). */
  storage?: { s3StandardGbMonths?: number; dynamoGbMonths?: number };
}

export interface CostLine {
  item: string;
  quantity: number;
  /** Dollars per one unit of `quantity`. */
  unitPrice: number;
  dollars: number;
  note?: string;
}

export interface CostEstimate {
  lines: CostLine[];
  totalDollars: number;
  cases: number;
  /** NaN when there are no cases (see `perCaseReason`): never a misleading 0. */
  perCaseDollars: number;
  /** NaN when there are no cases. */
  per1000CasesDollars: number;
  /** Why the per-case figures are NaN, when they are. */
  perCaseReason?: string;
  pricesAsOf: string;
  /** Requests no price class covers: listed, not silently priced at 0. */
  unpriced: RequestCount[];
  notes: string[];
}

function assertCount(what: string, n: number): void {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${what}: expected a finite count ≥ 0, got ${n}`);
}

/**
 * Prices one run: requests, transitions and Lambda usage at the dated list
 * prices, with totals per case and per 1,000 cases.
 *
 * @example
 * estimateCost({ requests: [{ service: 'dynamodb', operation: 'PutItem', count: 1000 }],
 *   stateTransitions: 1000, lambdaInvocations: 0, cases: 100 }).totalDollars
 * // → 0.000625 + 0.025 = 0.025625
 */
export function estimateCost(input: CostInput): CostEstimate {
  assertCount('stateTransitions', input.stateTransitions);
  assertCount('lambdaInvocations', input.lambdaInvocations);
  assertCount('cases', input.cases);
  if (input.lambdaGbSeconds !== undefined) assertCount('lambdaGbSeconds', input.lambdaGbSeconds);
  if (input.dynamoCapacity) {
    assertCount('dynamoCapacity.readUnits', input.dynamoCapacity.readUnits);
    assertCount('dynamoCapacity.writeUnits', input.dynamoCapacity.writeUnits);
  }
  for (const [k, v] of Object.entries({
    eventBridgeOptInDataEvents: input.eventBridgeOptInDataEvents,
    kmsRequests: input.kmsRequests,
    httpApiRequests: input.httpApiRequests,
    's3 storage GB-months': input.storage?.s3StandardGbMonths,
    'DynamoDB storage GB-months': input.storage?.dynamoGbMonths,
  })) {
    if (v !== undefined) assertCount(k, v);
  }

  const units = requestUnits(input.requests, input.hints);
  const P = UNIT_PRICES;
  const notes: string[] = [];
  const lines: CostLine[] = [];
  const add = (item: string, quantity: number, unitPrice: number, note?: string) => {
    if (quantity > 0) lines.push({ item, quantity, unitPrice, dollars: quantity * unitPrice, ...(note ? { note } : {}) });
  };

  add('Step Functions Standard state transitions', input.stateTransitions, P.stepFunctionsStateTransition);
  add('Lambda requests', input.lambdaInvocations, P.lambdaRequest);
  const arch = input.lambdaArchitecture ?? 'arm64';
  if (input.lambdaGbSeconds === undefined) {
    if (input.lambdaInvocations > 0) notes.push('Lambda duration (GB-seconds) not included: pass lambdaGbSeconds.');
  } else {
    add(`Lambda duration, ${arch} GB-seconds`, input.lambdaGbSeconds, arch === 'arm64' ? P.lambdaGbSecondArm64 : P.lambdaGbSecondX86);
  }

  const cap = input.dynamoCapacity;
  const how = cap ? 'measured ConsumedCapacity' : 'per-call approximation';
  add('DynamoDB write request units', cap ? cap.writeUnits : units['dynamodb-write'], P.dynamoWriteRequestUnit, how);
  add('DynamoDB read request units', cap ? cap.readUnits : units['dynamodb-read'], P.dynamoReadRequestUnit, how);
  if (!cap && units['dynamodb-write'] + units['dynamodb-read'] > 0) {
    notes.push('DynamoDB units approximated per call (1 per write/read call, batch calls by the item hint): measure ConsumedCapacity for Query pages, items > 1 KB and GSI writes.');
  }
  add('S3 PUT/COPY/POST/LIST requests', units['s3-put-class'], P.s3PutClassRequest);
  add('S3 GET/SELECT and other requests', units['s3-get-class'], P.s3GetClassRequest);
  add('EventBridge custom events', units['eventbridge-custom'], P.eventBridgeCustomEvent);
  add('EventBridge AWS opt-in data events (S3)', input.eventBridgeOptInDataEvents ?? 0, P.eventBridgeOptInDataEvent);
  add('KMS requests', input.kmsRequests ?? 0, P.kmsRequest);
  add('API Gateway HTTP API requests', input.httpApiRequests ?? 0, P.httpApiRequest);
  add('S3 Standard storage, GB-months', input.storage?.s3StandardGbMonths ?? 0, P.s3StandardGbMonth);
  add('DynamoDB storage, GB-months', input.storage?.dynamoGbMonths ?? 0, P.dynamoStorageGbMonth);
  if (units.unpriced.length > 0) {
    notes.push(`Unpriced requests (no price class): ${units.unpriced.map((r) => `${r.service} ${r.operation} ×${r.count}`).join(', ')}.`);
  }

  const totalDollars = lines.reduce((s, l) => s + l.dollars, 0);
  const perCase = input.cases > 0 ? totalDollars / input.cases : Number.NaN;
  return {
    lines,
    totalDollars,
    cases: input.cases,
    perCaseDollars: perCase,
    per1000CasesDollars: perCase * 1000,
    ...(input.cases > 0 ? {} : { perCaseReason: 'no cases: a cost per case is undefined when the run produced no cases' }),
    pricesAsOf: PRICES_AS_OF,
    unpriced: units.unpriced,
    notes,
  };
}

const usd = (x: number): string => {
  if (Number.isNaN(x)) return 'n/a';
  if (x === 0) return '$0';
  return x >= 0.01 ? `$${x.toFixed(4)}` : `$${x.toPrecision(3)}`;
};

/**
 * The estimate as a table a PM reads, with the target when given.
 *
 * @example console.log(formatCostReport(estimate, { title: 'Round 1', targetPer1000CasesDollars: 0.05 }))
 */
export function formatCostReport(e: CostEstimate, opts: { title?: string; targetPer1000CasesDollars?: number } = {}): string {
  const out: string[] = [];
  out.push(`${opts.title ?? 'Estimated AWS cost'} (us-east-1 list prices as of ${e.pricesAsOf})`);
  for (const l of e.lines) {
    out.push(
      `  ${l.item.padEnd(44)} ${String(Math.round(l.quantity * 100) / 100).padStart(12)} × ${usd(l.unitPrice).padStart(11)} = ${usd(l.dollars).padStart(11)}` +
        (l.note ? `  (${l.note})` : ''),
    );
  }
  out.push(`  ${'total'.padEnd(44)} ${usd(e.totalDollars).padStart(40)}`);
  if (e.perCaseReason) {
    out.push(`  per case: n/a — ${e.perCaseReason}`);
  } else {
    out.push(`  per case ${usd(e.perCaseDollars)} · per 1,000 cases ${usd(e.per1000CasesDollars)} (${e.cases} cases)`);
  }
  if (opts.targetPer1000CasesDollars !== undefined && !e.perCaseReason) {
    const ratio = e.per1000CasesDollars / opts.targetPer1000CasesDollars;
    out.push(
      `  target ${usd(opts.targetPer1000CasesDollars)} per 1,000 cases: ${ratio <= 1 ? 'within' : 'over'} (${ratio.toFixed(2)}× the target)`,
    );
  }
  for (const n of e.notes) out.push(`  note: ${n}`);
  return out.join('\n');
}
