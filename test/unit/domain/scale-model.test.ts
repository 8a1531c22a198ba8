import { describe, expect, it } from 'vitest';
import { formatScaleModel, type MeasuredRound, type ProgramShape, scaleModel } from '../../../functions/domain/scale-model.js';

/** A measured round of 1,000 cases, small enough to compute every figure by hand. */
const measured: MeasuredRound = {
  cases: 1000,
  requests: [
    { service: 'dynamodb', operation: 'PutItem', count: 2000 },
    { service: 's3', operation: 'PutObject', count: 20 },
  ],
  vendorRequests: [{ service: 's3', operation: 'GetObject', count: 1100 }],
  dynamoCapacity: { readUnits: 1000, writeUnits: 4000 },
  stateTransitions: 200,
  lambda: [
    { fn: 'ScoreSubmission', invocations: 100, meanMs: 199.2, memoryMb: 512 },
    { fn: 'DispatchRound', invocations: 1, meanMs: 1000, memoryMb: 1024, per: 'round' },
  ],
  eventBridgeOptInDataEvents: 20,
  httpApiRequests: 60,
  keys: [
    { key: 'BATCH#b1', wcuPerCase: 0.01, rcuPerCase: 0.01 },
    { key: 'LEDGER#p#00', wcuPerCase: 0.5, rcuPerCase: 0.1 },
    { key: 'gsi1:CASESTATE#p#pending#00', wcuPerCase: 0.2, rcuPerCase: 2 },
  ],
};

const program: ProgramShape = {
  cases: 1_000_000,
  rounds: 20,
  casesPerSecond: 1000,
  imageBytesPerCase: 2 ** 20, // 1 MiB
  labelBytesPerCase: 0,
  itemBytesPerCase: 1024,
  months: 12,
};

describe('Function: scaleModel', () => {
  it('multiplies every per-case count by program cases ÷ measured cases, and per-round steps by the rounds', () => {
    const m = scaleModel(measured, program);
    expect(m.cost.lines.find((l) => l.item.startsWith('Lambda duration'))?.dollars).toBeGreaterThan(0);

    expect(m.factor).toBe(1000);
    expect(m.casesPerRound).toBe(50_000);
    expect(m.requests.map((r) => [r.who, r.operation, r.count, r.perCase, r.perRound])).toEqual([
      ['system', 'PutItem', 2_000_000, 2, 100_000],
      ['system', 'PutObject', 20_000, 0.02, 1_000],
      ['vendor', 'GetObject', 1_100_000, 1.1, 55_000],
    ]);
    expect(m.dynamo).toEqual({ readUnits: 1_000_000, writeUnits: 4_000_000 });
    expect(m.stateTransitions).toBe(200_000);
    // ScoreSubmission: 100,000 invocations × 0.200 s (199.2 ms billed as 200 ms) × 0.5 GB = 10,000 GB-s.
    // DispatchRound: 20 rounds × 1 s × 1 GB = 20 GB-s.
    expect(m.lambda.map((l) => [l.fn, l.total, l.gbSeconds])).toEqual([
      ['ScoreSubmission', 100_000, 10_000],
      ['DispatchRound', 20, 20],
    ]);
    expect(m.lambda[0].dollars).toBeCloseTo(100_000 * 0.2e-6 + 10_000 * 0.0000133334, 10);
  });

  it('prices the scaled run and the storage at the table prices: the hand-computed total', () => {
    const m = scaleModel(measured, program);
    expect(m.cost.lines.find((l) => l.item.startsWith('Lambda duration'))?.dollars).toBeGreaterThan(0);

    // 1e6 cases × 1 MiB × 12 months = 12e6 MiB = 11,718.75 GB-months; items: 1e6 × 1 KiB × 12 = 11.444… GB-months.
    expect(m.storage.s3StandardGbMonths).toBeCloseTo(11_718.75, 9);
    expect(m.storage.dynamoGbMonths).toBeCloseTo((1e6 * 1024 * 12) / 2 ** 30, 9);
    const expected =
      200_000 * 0.000025 + // transitions: $5
      100_020 * 0.2e-6 + // Lambda requests
      10_020 * 0.0000133334 + // Lambda GB-s (arm64)
      4_000_000 * 0.625e-6 + // WRU: $2.50
      1_000_000 * 0.125e-6 + // RRU: $0.125
      20_000 * 0.000005 + // S3 PUT: $0.10
      1_100_000 * 0.0000004 + // S3 GET: $0.44
      20_000 * 1e-6 + // EventBridge opt-in data events
      60_000 * 1e-6 + // HTTP API
      11_718.75 * 0.023 + // S3 storage: $269.53
      ((1e6 * 1024 * 12) / 2 ** 30) * 0.25; // DynamoDB storage
    expect(m.cost.totalDollars).toBeCloseTo(expected, 9);
    expect(m.cost.per1000CasesDollars).toBeCloseTo(expected / 1000, 12);
  });

  it('rates each partition key at the program throughput, hottest first, and names the throughput at which the hottest reaches its limit', () => {
    const m = scaleModel(measured, program);
    expect(m.cost.lines.find((l) => l.item.startsWith('Lambda duration'))?.dollars).toBeGreaterThan(0);

    // LEDGER: 0.5 WCU/case × 1,000 cases/s = 500 WCU/s = 50 %; CASESTATE: 2 RCU/case × 1,000 = 2,000 RCU/s = 66.7 %.
    expect(m.partitions.map((p) => [p.key, p.wcuPerSecond, p.rcuPerSecond])).toEqual([
      ['gsi1:CASESTATE#p#pending#00', 200, 2000],
      ['LEDGER#p#00', 500, 100],
      ['BATCH#b1', 10, 10],
    ]);
    expect(m.partitions[0].shareOfLimit).toBeCloseTo(2 / 3, 12);
    expect(m.casesPerSecondAtLimit).toEqual({ casesPerSecond: 1500, key: 'gsi1:CASESTATE#p#pending#00' });
    expect(m.overLimit).toEqual([]);
    expect(scaleModel(measured, { ...program, casesPerSecond: 2500 }).overLimit.map((p) => p.key)).toEqual(['gsi1:CASESTATE#p#pending#00', 'LEDGER#p#00']);
  });

  it('refuses a measured round without cases and a program shape with a negative size, naming the field', () => {
    expect(() => scaleModel({ ...measured, cases: 0 }, program)).toThrow(/measured cases: expected a finite number > 0, got 0/);
    expect(() => scaleModel(measured, { ...program, rounds: 0 })).toThrow(/rounds: expected a finite number > 0, got 0/);
    expect(() => scaleModel(measured, { ...program, months: -1 })).toThrow(/months: expected a finite number ≥ 0, got -1/);
  });
});

describe('Function: formatScaleModel', () => {
  it('prints requests by kind, Lambda per step, the hottest keys, storage and the per-1,000 figure', () => {
    const text = formatScaleModel(scaleModel(measured, program)).join('\n');

    expect(text).toContain('Program: 1,000,000 cases in 20 rounds of 50,000 (measured round × 1000.0)');
    expect(text).toMatch(/vendor s3 GetObject\s+1\.100\s+55,000\s+1,100,000/);
    expect(text).toMatch(/ScoreSubmission\s+case\s+100,000\s+199\.2\s+512\s+10,000/);
    expect(text).toContain('the hottest key reaches its limit at 1,500 cases/s (gsi1:CASESTATE#p#pending#00)');
    expect(text).toContain('no key over a per-partition limit');
    expect(text).toMatch(/per 1,000 cases: \$0\.2\d{3} \(\$0\.00\d+ requests, transitions and Lambda; \$0\.2\d{3} storage\)/);
    const m = scaleModel(measured, program);
    expect(m.cost.lines.find((l) => l.item.startsWith('Lambda duration'))?.dollars).toBeGreaterThan(0);
    const counted = m.cost.lines.filter((l) => !l.item.includes('storage') && !l.item.startsWith('Lambda duration')).reduce((s, l) => s + l.dollars, 0);
    expect(text).toContain(`requests and transitions alone (counted; Lambda duration left out): $${((counted / 1_000_000) * 1000).toPrecision(3)} per 1,000 cases`);
  });
});
