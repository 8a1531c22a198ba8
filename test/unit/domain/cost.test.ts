import { describe, expect, it } from 'vitest';
import {
  estimateCost,
  formatCostReport,
  PRICES_AS_OF,
  priceRequest,
  type RequestCount,
  requestUnits,
  UNIT_PRICES,
} from '../../../functions/domain/cost.js';

const req = (service: string, operation: string, count: number): RequestCount => ({ service, operation, count });

describe('Table: UNIT_PRICES', () => {
  it('holds the dated us-east-1 list prices the estimate uses', () => {
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}$/);
    expect(UNIT_PRICES.stepFunctionsStateTransition * 1_000).toBeCloseTo(0.025, 12);
    expect(UNIT_PRICES.lambdaRequest * 1e6).toBeCloseTo(0.2, 12);
    expect(UNIT_PRICES.lambdaGbSecondX86).toBe(0.0000166667);
    expect(UNIT_PRICES.lambdaGbSecondArm64).toBe(0.0000133334);
    expect(UNIT_PRICES.dynamoWriteRequestUnit * 1e6).toBeCloseTo(0.625, 12);
    expect(UNIT_PRICES.dynamoReadRequestUnit * 1e6).toBeCloseTo(0.125, 12);
    expect(UNIT_PRICES.s3PutClassRequest * 1_000).toBeCloseTo(0.005, 12);
    expect(UNIT_PRICES.s3GetClassRequest * 1_000).toBeCloseTo(0.0004, 12);
    expect(UNIT_PRICES.kmsRequest * 10_000).toBeCloseTo(0.03, 12);
    expect(UNIT_PRICES.eventBridgeManagementEvent).toBe(0);
    expect(UNIT_PRICES.s3StandardGbMonth).toBe(0.023);
    expect(UNIT_PRICES.dynamoStorageGbMonth).toBe(0.25);
    expect(UNIT_PRICES.dataTransferOutGb).toBe(0.09);
  });
});

describe('Function: priceRequest', () => {
  it.each([
    ['dynamodb', 'PutItem', 'dynamodb-write', 1],
    ['dynamodb', 'UpdateItem', 'dynamodb-write', 1],
    ['dynamodb', 'DeleteItem', 'dynamodb-write', 1],
    ['dynamodb', 'BatchWriteItem', 'dynamodb-write', 25],
    ['dynamodb', 'GetItem', 'dynamodb-read', 1],
    ['dynamodb', 'Query', 'dynamodb-read', 1],
    ['dynamodb', 'BatchGetItem', 'dynamodb-read', 100],
    ['dynamodb', 'DescribeTable', 'free', 0],
    ['dynamodb', 'CreateTable', 'free', 0],
    ['s3', 'PutObject', 's3-put-class', 1],
    ['s3', 'CopyObject', 's3-put-class', 1],
    ['s3', 'CreateMultipartUpload', 's3-put-class', 1],
    ['s3', 'UploadPart', 's3-put-class', 1],
    ['s3', 'ListObjectsV2', 's3-put-class', 1],
    ['s3', 'GetObject', 's3-get-class', 1],
    ['s3', 'HeadObject', 's3-get-class', 1],
    ['s3', 'DeleteObject', 'free', 0],
    ['sfn', 'SendTaskSuccess', 'free', 0],
    ['sfn', 'StartExecution', 'free', 0],
    ['lambda', 'Invoke', 'counted-elsewhere', 0],
    ['eventbridge', 'PutEvents', 'eventbridge-custom', 1],
  ])('bills %s %s as %s, %d unit(s) per call', (service, operation, priceClass, units) => {
    const p = priceRequest(service, operation);
    expect(p.priceClass).toBe(priceClass);
    expect(p.unitsPerCall).toBe(units);
  });

  it('returns the items-per-call hint for batch operations (the counter counts calls, DynamoDB bills items)', () => {
    expect(priceRequest('dynamodb', 'BatchWriteItem', { itemsPerBatchWrite: 7 }).unitsPerCall).toBe(7);
    expect(priceRequest('dynamodb', 'BatchGetItem', { itemsPerBatchGet: 12 }).unitsPerCall).toBe(12);
    expect(priceRequest('eventbridge', 'PutEvents', { entriesPerPutEvents: 10 }).unitsPerCall).toBe(10);
  });

  it('returns unpriced for an operation it has no price for', () => {
    expect(priceRequest('dynamodb', 'TransactWriteItems').priceClass).toBe('unpriced');
    expect(priceRequest('sqs', 'SendMessage').priceClass).toBe('unpriced');
  });
});

describe('Function: requestUnits', () => {
  it('sums calls into billing units per price class', () => {
    // Arrange
    const requests = [
      req('dynamodb', 'PutItem', 3),
      req('dynamodb', 'BatchWriteItem', 2),
      req('dynamodb', 'GetItem', 5),
      req('s3', 'CopyObject', 4),
      req('s3', 'GetObject', 6),
      req('s3', 'DeleteObject', 9),
    ];

    // Act
    const u = requestUnits(requests, { itemsPerBatchWrite: 10 });

    // Assert
    expect(u['dynamodb-write']).toBe(3 + 2 * 10);
    expect(u['dynamodb-read']).toBe(5);
    expect(u['s3-put-class']).toBe(4);
    expect(u['s3-get-class']).toBe(6);
    expect(u.unpriced).toEqual([]);
  });

  it('lists unknown operations as unpriced instead of dropping them', () => {
    expect(requestUnits([req('sqs', 'SendMessage', 2)]).unpriced).toEqual([req('sqs', 'SendMessage', 2)]);
  });
});

describe('Function: estimateCost', () => {
  it('returns the hand-computed total for a mixed run', () => {
    // Arrange: 1,000 cases.
    const input = {
      requests: [
        req('dynamodb', 'PutItem', 1_000),
        req('dynamodb', 'UpdateItem', 3_000),
        req('dynamodb', 'BatchWriteItem', 40), // × 25 items = 1,000 WRU
        req('dynamodb', 'GetItem', 2_000),
        req('dynamodb', 'Query', 400),
        req('dynamodb', 'DescribeTable', 1), // control plane: free
        req('s3', 'PutObject', 200),
        req('s3', 'CopyObject', 800),
        req('s3', 'GetObject', 5_000),
        req('s3', 'DeleteObject', 10), // free
      ],
      stateTransitions: 2_000,
      lambdaInvocations: 1_000,
      lambdaGbSeconds: 500,
      cases: 1_000,
    };

    // Act
    const e = estimateCost(input);

    // Assert, by hand:
    //   WRU 5,000 × $0.625/M      = $0.003125
    //   RRU 2,400 × $0.125/M      = $0.0003
    //   S3 PUT 1,000 × $0.005/k   = $0.005
    //   S3 GET 5,000 × $0.0004/k  = $0.002
    //   SFN 2,000 × $0.025/k      = $0.05
    //   Lambda 1,000 × $0.20/M    = $0.0002
    //   500 GB-s × $0.0000133334  = $0.0066667 (arm64 by default)
    //   total                     = $0.0672917
    const byItem = Object.fromEntries(e.lines.map((l) => [l.item, l]));
    expect(byItem['DynamoDB write request units'].quantity).toBe(5_000);
    expect(byItem['DynamoDB write request units'].dollars).toBeCloseTo(0.003125, 12);
    expect(byItem['DynamoDB read request units'].dollars).toBeCloseTo(0.0003, 12);
    expect(byItem['S3 PUT/COPY/POST/LIST requests'].dollars).toBeCloseTo(0.005, 12);
    expect(byItem['S3 GET/SELECT and other requests'].dollars).toBeCloseTo(0.002, 12);
    expect(byItem['Step Functions Standard state transitions'].dollars).toBeCloseTo(0.05, 12);
    expect(byItem['Lambda requests'].dollars).toBeCloseTo(0.0002, 12);
    expect(byItem['Lambda duration, arm64 GB-seconds'].dollars).toBeCloseTo(0.0066667, 12);
    expect(e.totalDollars).toBeCloseTo(0.0672917, 12);
    expect(e.perCaseDollars).toBeCloseTo(0.0000672917, 14);
    expect(e.per1000CasesDollars).toBeCloseTo(0.0672917, 12);
    expect(e.pricesAsOf).toBe(PRICES_AS_OF);
    expect(e.perCaseReason).toBeUndefined();
  });

  it('returns a line total equal to quantity × unit price for every line', () => {
    const e = estimateCost({
      requests: [req('dynamodb', 'PutItem', 7), req('s3', 'GetObject', 11)],
      stateTransitions: 13,
      lambdaInvocations: 17,
      cases: 1,
    });
    for (const l of e.lines) expect(l.dollars).toBeCloseTo(l.quantity * l.unitPrice, 15);
    expect(e.totalDollars).toBeCloseTo(
      e.lines.reduce((s, l) => s + l.dollars, 0),
      15,
    );
  });

  it('uses measured DynamoDB capacity instead of the per-call approximation when given', () => {
    // 10 Query calls that really read 2,560 RRU (ten 1 MB pages) and 100 writes that cost 200 WRU (GSI).
    const e = estimateCost({
      requests: [req('dynamodb', 'Query', 10), req('dynamodb', 'PutItem', 100)],
      stateTransitions: 0,
      lambdaInvocations: 0,
      cases: 10,
      dynamoCapacity: { readUnits: 2_560, writeUnits: 200 },
    });
    const byItem = Object.fromEntries(e.lines.map((l) => [l.item, l]));
    expect(byItem['DynamoDB read request units'].quantity).toBe(2_560);
    expect(byItem['DynamoDB write request units'].quantity).toBe(200);
    // 2,560 × $0.125/M + 200 × $0.625/M = $0.00032 + $0.000125
    expect(e.totalDollars).toBeCloseTo(0.000445, 12);
    expect(e.notes.some((n) => n.includes('approximated per call'))).toBe(false);
  });

  it('prices x86 Lambda duration at the x86 rate', () => {
    const e = estimateCost({ requests: [], stateTransitions: 0, lambdaInvocations: 0, lambdaGbSeconds: 1_000, lambdaArchitecture: 'x86_64', cases: 1 });
    expect(e.totalDollars).toBeCloseTo(0.0166667, 12);
  });

  it('prices S3 → EventBridge opt-in data events, KMS and HTTP API requests when given', () => {
    const e = estimateCost({
      requests: [],
      stateTransitions: 0,
      lambdaInvocations: 0,
      cases: 1,
      eventBridgeOptInDataEvents: 1_000_000, // $1
      kmsRequests: 10_000, // $0.03
      httpApiRequests: 2_000_000, // $2
    });
    expect(e.totalDollars).toBeCloseTo(3.03, 10);
  });

  it('prices S3 and DynamoDB storage in GB-months when given', () => {
    const e = estimateCost({ requests: [], stateTransitions: 0, lambdaInvocations: 0, cases: 1, storage: { s3StandardGbMonths: 1000, dynamoGbMonths: 10 } });
    expect(e.lines.map((l) => [l.item, l.dollars])).toEqual([
      ['S3 Standard storage, GB-months', 23],
      ['DynamoDB storage, GB-months', 2.5],
    ]);
    expect(() => estimateCost({ requests: [], stateTransitions: 0, lambdaInvocations: 0, cases: 1, storage: { dynamoGbMonths: -1 } })).toThrow(
      /DynamoDB storage GB-months: expected a finite count ≥ 0, got -1/,
    );
  });

  it('says so when Lambda duration is missing instead of pricing it at 0', () => {
    const e = estimateCost({ requests: [], stateTransitions: 0, lambdaInvocations: 10, cases: 1 });
    expect(e.lines.map((l) => l.item)).toEqual(['Lambda requests']);
    expect(e.notes.join(' ')).toMatch(/duration .* not included/);
  });

  it('returns NaN per case with a reason when there are no cases, not 0', () => {
    // Arrange: work was done, but no case came out of it.
    const e = estimateCost({ requests: [req('dynamodb', 'GetItem', 4)], stateTransitions: 9, lambdaInvocations: 7, cases: 0 });

    // Assert
    expect(e.totalDollars).toBeGreaterThan(0);
    expect(e.perCaseDollars).toBeNaN();
    expect(e.per1000CasesDollars).toBeNaN();
    expect(e.perCaseReason).toMatch(/no cases/);
    expect(formatCostReport(e)).toContain('per case: n/a — no cases');
  });

  it('reports unpriced requests in a list and a note', () => {
    const e = estimateCost({ requests: [req('sqs', 'SendMessage', 3)], stateTransitions: 0, lambdaInvocations: 0, cases: 1 });
    expect(e.unpriced).toEqual([req('sqs', 'SendMessage', 3)]);
    expect(e.totalDollars).toBe(0);
    expect(e.notes.join(' ')).toContain('sqs SendMessage ×3');
  });

  it('refuses negative or non-finite counts', () => {
    expect(() => estimateCost({ requests: [], stateTransitions: -1, lambdaInvocations: 0, cases: 1 })).toThrow(RangeError);
    expect(() => estimateCost({ requests: [req('s3', 'GetObject', Number.NaN)], stateTransitions: 0, lambdaInvocations: 0, cases: 1 })).toThrow(
      RangeError,
    );
  });
});

describe('Function: formatCostReport', () => {
  it('prints the lines, the per-1,000 figure, the price date and the verdict against the target', () => {
    const e = estimateCost({ requests: [], stateTransitions: 4_000, lambdaInvocations: 0, cases: 1_000 }); // $0.10 per 1,000
    const text = formatCostReport(e, { title: 'Round 1', targetPer1000CasesDollars: 0.05 });
    expect(text).toContain('Round 1');
    expect(text).toContain(`as of ${PRICES_AS_OF}`);
    expect(text).toContain('Step Functions Standard state transitions');
    expect(text).toContain('per 1,000 cases $0.1000');
    expect(text).toContain('over (2.00× the target)');
  });
});
