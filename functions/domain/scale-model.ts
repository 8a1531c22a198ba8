/**
 * The AWS-scale cost model: a program of N cases over R rounds, extrapolated
 * from one measured round on the embedded stack (test/bench/cost-1m.bench.ts).
 * Pure: measured counts in, scaled counts and dollars out, priced by
 * `estimateCost` (cost.ts) at its dated list prices.
 *
 * The model is linear in cases, and says where that is an assumption:
 * - every request, capacity unit, state transition and Lambda invocation of the
 *   measured round is counted per work case and multiplied by the program's
 *   cases; a Lambda step marked `per: 'round'` (dispatch) is multiplied by the
 *   rounds instead. Rejected batches in the measured round are in the figures
 *   (their cases are paid for again when re-dispatched: the model counts each
 *   case dispatched as often as the measured round's mix implies, no more);
 * - Lambda duration is the measured mean per invocation (billed per 1 ms) at
 *   the function's configured memory;
 * - a partition key's write rate grows with throughput, not with round size:
 *   its units per case × the cases per second a round runs at on AWS; a key that
 *   gets more than DynamoDB's per-partition limit (1,000 WCU/s, 3,000 RCU/s)
 *   is reported, with the throughput at which the hottest key reaches it;
 * - storage: the images, label files and table items of every case, kept for
 *   the program's months (GB = 2^30 bytes, as AWS bills).
 */
import { type CostEstimate, estimateCost, type RequestCount, UNIT_PRICES } from './cost.js';

/** DynamoDB's per-partition-key ceilings per second (same figures as key-rates.ts). */
export const PARTITION_WCU_PER_SECOND = 1000;
export const PARTITION_RCU_PER_SECOND = 3000;

const GB = 2 ** 30;

/** One Lambda function's measured use in the measured round. */
export interface LambdaStep {
  fn: string;
  invocations: number;
  /** Mean duration per invocation, milliseconds (measured). */
  meanMs: number;
  /** Configured memory (definitions.ts). */
  memoryMb: number;
  /** `case` (default): grows with cases; `round`: once per round whatever its size (dispatch). */
  per?: 'case' | 'round';
}

/** A partition key's units per work case in the measured round (key-rates.ts `KeyRate` fits). */
export interface KeyUnits {
  key: string;
  wcuPerCase?: number;
  rcuPerCase?: number;
}

/** What one round on the embedded stack measured. */
export interface MeasuredRound {
  /** Work cases of the round (hidden gold items not counted). */
  cases: number;
  /** Requests the system sent (SDK calls), by service and operation. */
  requests: readonly RequestCount[];
  /** Vendors' requests with presigned URLs (billed to our buckets): s3 GetObject / PutObject. */
  vendorRequests: readonly RequestCount[];
  /** Measured DynamoDB capacity (ConsumedCapacity with GSI writes). */
  dynamoCapacity: { readUnits: number; writeUnits: number };
  stateTransitions: number;
  lambda: readonly LambdaStep[];
  eventBridgeOptInDataEvents: number;
  httpApiRequests: number;
  keys?: readonly KeyUnits[];
}

/** The program to extrapolate to. */
export interface ProgramShape {
  cases: number;
  rounds: number;
  /** How many cases per second a round moves through on AWS (for partition rates). */
  casesPerSecond: number;
  /** Mean bytes of a case's image(s) in the images bucket. */
  imageBytesPerCase: number;
  /** Mean bytes of label files per case in the uploads bucket. */
  labelBytesPerCase: number;
  /** Mean bytes of table items per case (case, labels, its share of batches and ledger). */
  itemBytesPerCase: number;
  /** Months the program's data is kept (storage is billed per GB-month). */
  months: number;
}

export interface ScaledRequest extends RequestCount {
  who: 'system' | 'vendor';
  perCase: number;
  perRound: number;
}

export interface ScaledLambda extends Required<LambdaStep> {
  /** Invocations over the program. */
  total: number;
  gbSeconds: number;
  dollars: number;
}

export interface PartitionRate {
  key: string;
  wcuPerSecond: number;
  rcuPerSecond: number;
  /** The larger of wcu/limit and rcu/limit. */
  shareOfLimit: number;
}

export interface ScaleModel {
  program: ProgramShape;
  /** Program cases ÷ measured cases. */
  factor: number;
  casesPerRound: number;
  requests: ScaledRequest[];
  dynamo: { readUnits: number; writeUnits: number };
  stateTransitions: number;
  lambda: ScaledLambda[];
  storage: { s3StandardGbMonths: number; dynamoGbMonths: number };
  /** Hottest first; empty when the measured round gave no key units. */
  partitions: PartitionRate[];
  /** Keys whose rate at `casesPerSecond` exceeds a per-partition limit. */
  overLimit: PartitionRate[];
  /** The throughput at which the hottest key reaches its limit. */
  casesPerSecondAtLimit?: { casesPerSecond: number; key: string };
  cost: CostEstimate;
}

function positive(what: string, n: number): void {
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${what}: expected a finite number > 0, got ${n}`);
}

/** Billed Lambda seconds of one invocation: duration rounded up to the next 1 ms. */
const billedSeconds = (ms: number): number => Math.ceil(ms) / 1000;

/**
 * Extrapolates a measured round to a program.
 *
 * @example
 * const m = scaleModel(measured, { cases: 1_000_000, rounds: 20, casesPerSecond: 200,
 *   imageBytesPerCase: 2 ** 20, labelBytesPerCase: 200, itemBytesPerCase: 2000, months: 12 });
 * m.cost.per1000CasesDollars // dollars per 1,000 cases, storage included
 */
export function scaleModel(measured: MeasuredRound, program: ProgramShape): ScaleModel {
  positive('measured cases', measured.cases);
  positive('program cases', program.cases);
  positive('rounds', program.rounds);
  positive('casesPerSecond', program.casesPerSecond);
  for (const [k, v] of Object.entries({
    imageBytesPerCase: program.imageBytesPerCase,
    labelBytesPerCase: program.labelBytesPerCase,
    itemBytesPerCase: program.itemBytesPerCase,
    months: program.months,
  })) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${k}: expected a finite number ≥ 0, got ${v}`);
  }
  const factor = program.cases / measured.cases;
  const scale = (n: number) => n * factor;

  const requests: ScaledRequest[] = [
    ...measured.requests.map((r) => ({ ...r, who: 'system' as const })),
    ...measured.vendorRequests.map((r) => ({ ...r, who: 'vendor' as const })),
  ].map((r) => ({ ...r, count: scale(r.count), perCase: r.count / measured.cases, perRound: scale(r.count) / program.rounds }));

  const P = UNIT_PRICES;
  const lambda: ScaledLambda[] = measured.lambda.map((l) => {
    const per = l.per ?? 'case';
    const total = per === 'round' ? (l.invocations * program.rounds) : scale(l.invocations);
    const gbSeconds = total * billedSeconds(l.meanMs) * (l.memoryMb / 1024);
    return { ...l, per, total, gbSeconds, dollars: total * P.lambdaRequest + gbSeconds * P.lambdaGbSecondArm64 };
  });

  const gbMonths = (bytesPerCase: number) => (program.cases * bytesPerCase * program.months) / GB;
  const storage = {
    s3StandardGbMonths: gbMonths(program.imageBytesPerCase + program.labelBytesPerCase),
    dynamoGbMonths: gbMonths(program.itemBytesPerCase),
  };

  const partitions: PartitionRate[] = (measured.keys ?? [])
    .map((k) => {
      const wcuPerSecond = (k.wcuPerCase ?? 0) * program.casesPerSecond;
      const rcuPerSecond = (k.rcuPerCase ?? 0) * program.casesPerSecond;
      return { key: k.key, wcuPerSecond, rcuPerSecond, shareOfLimit: Math.max(wcuPerSecond / PARTITION_WCU_PER_SECOND, rcuPerSecond / PARTITION_RCU_PER_SECOND) };
    })
    .sort((a, b) => b.shareOfLimit - a.shareOfLimit || a.key.localeCompare(b.key));
  const hottest = partitions[0];
  const casesPerSecondAtLimit =
    hottest && hottest.shareOfLimit > 0 ? { casesPerSecond: program.casesPerSecond / hottest.shareOfLimit, key: hottest.key } : undefined;

  const dynamo = { readUnits: scale(measured.dynamoCapacity.readUnits), writeUnits: scale(measured.dynamoCapacity.writeUnits) };
  const stateTransitions = scale(measured.stateTransitions);
  const cost = estimateCost({
    requests: requests.map(({ service, operation, count }) => ({ service, operation, count })),
    stateTransitions,
    lambdaInvocations: lambda.reduce((s, l) => s + l.total, 0),
    lambdaGbSeconds: lambda.reduce((s, l) => s + l.gbSeconds, 0),
    lambdaArchitecture: 'arm64',
    cases: program.cases,
    dynamoCapacity: dynamo,
    eventBridgeOptInDataEvents: scale(measured.eventBridgeOptInDataEvents),
    httpApiRequests: scale(measured.httpApiRequests),
    storage,
  });

  return {
    program,
    factor,
    casesPerRound: program.cases / program.rounds,
    requests,
    dynamo,
    stateTransitions,
    lambda,
    storage,
    partitions,
    overLimit: partitions.filter((p) => p.wcuPerSecond > PARTITION_WCU_PER_SECOND || p.rcuPerSecond > PARTITION_RCU_PER_SECOND),
    ...(casesPerSecondAtLimit ? { casesPerSecondAtLimit } : {}),
    cost,
  };
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const usd = (x: number): string => (x >= 1 ? `$${x.toFixed(2)}` : x >= 0.01 ? `$${x.toFixed(4)}` : `$${x.toPrecision(3)}`);

/**
 * The model as the tables a reader compares: requests by kind (per case, per
 * round, program), Lambda per step, the hottest partitions, storage and dollars.
 */
export function formatScaleModel(m: ScaleModel, opts: { top?: number } = {}): string[] {
  const p = m.program;
  const out: string[] = [];
  out.push(`Program: ${int(p.cases)} cases in ${p.rounds} rounds of ${int(m.casesPerRound)} (measured round × ${m.factor.toFixed(1)})`);
  out.push(`  ${'requests by kind'.padEnd(34)}${'per case'.padStart(10)}${'per round'.padStart(14)}${'program'.padStart(16)}`);
  for (const r of [...m.requests].sort((a, b) => b.count - a.count)) {
    out.push(`  ${`${r.who === 'vendor' ? 'vendor ' : ''}${r.service} ${r.operation}`.padEnd(34)}${r.perCase.toFixed(3).padStart(10)}${int(r.perRound).padStart(14)}${int(r.count).padStart(16)}`);
  }
  out.push(`  ${'DynamoDB RRU / WRU (measured capacity)'.padEnd(34)}${`${int(m.dynamo.readUnits)} / ${int(m.dynamo.writeUnits)}`.padStart(40)}`);
  out.push(`  ${'Step Functions state transitions'.padEnd(34)}${(m.stateTransitions / p.cases).toFixed(3).padStart(10)}${int(m.stateTransitions / p.rounds).padStart(14)}${int(m.stateTransitions).padStart(16)}`);
  out.push(`  ${'Lambda step'.padEnd(22)}${'per'.padStart(6)}${'invocations'.padStart(14)}${'mean ms'.padStart(10)}${'MB'.padStart(7)}${'GB-s'.padStart(14)}${'dollars'.padStart(12)}`);
  for (const l of [...m.lambda].sort((a, b) => b.dollars - a.dollars)) {
    out.push(`  ${l.fn.padEnd(22)}${l.per.padStart(6)}${int(l.total).padStart(14)}${l.meanMs.toFixed(1).padStart(10)}${String(l.memoryMb).padStart(7)}${int(l.gbSeconds).padStart(14)}${usd(l.dollars).padStart(12)}`);
  }
  if (m.partitions.length) {
    out.push(`  hottest partition keys at ${p.casesPerSecond} cases/s (limits ${PARTITION_WCU_PER_SECOND} WCU/s, ${PARTITION_RCU_PER_SECOND} RCU/s per key):`);
    for (const k of m.partitions.slice(0, opts.top ?? 5)) {
      out.push(`    ${k.key.slice(0, 48).padEnd(48)} ${k.wcuPerSecond.toFixed(1).padStart(8)} WCU/s ${k.rcuPerSecond.toFixed(1).padStart(8)} RCU/s  ${(100 * k.shareOfLimit).toFixed(1)}% of the limit`);
    }
    if (m.casesPerSecondAtLimit) out.push(`    the hottest key reaches its limit at ${int(m.casesPerSecondAtLimit.casesPerSecond)} cases/s (${m.casesPerSecondAtLimit.key})`);
    out.push(m.overLimit.length ? `    OVER THE LIMIT: ${m.overLimit.map((k) => k.key).join(', ')}` : '    no key over a per-partition limit');
  }
  out.push(`  storage over ${p.months} months: S3 ${int(m.storage.s3StandardGbMonths)} GB-months, DynamoDB ${int(m.storage.dynamoGbMonths)} GB-months`);
  out.push('  dollars:');
  for (const l of m.cost.lines) out.push(`    ${l.item.padEnd(44)} ${usd(l.dollars).padStart(12)}`);
  const storageDollars = m.cost.lines.filter((l) => l.item.includes('storage')).reduce((s, l) => s + l.dollars, 0);
  out.push(`    ${'total'.padEnd(44)} ${usd(m.cost.totalDollars).padStart(12)}`);
  out.push(
    `  per 1,000 cases: ${usd(m.cost.per1000CasesDollars)} (${usd(((m.cost.totalDollars - storageDollars) / p.cases) * 1000)} requests, transitions and Lambda; ${usd((storageDollars / p.cases) * 1000)} storage)`,
  );
  // Lambda duration is timed on the embedded stack (a loaded machine inflates it); requests and transitions are counted.
  const durationDollars = m.cost.lines.filter((l) => l.item.startsWith('Lambda duration')).reduce((s, l) => s + l.dollars, 0);
  out.push(`  requests and transitions alone (counted; Lambda duration left out): ${usd(((m.cost.totalDollars - storageDollars - durationDollars) / p.cases) * 1000)} per 1,000 cases`);
  return out;
}
