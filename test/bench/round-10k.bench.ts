/**
 * Cost per case at scale: one round of 10,000 work cases end to end on the
 * embedded stack — dispatch → one lifecycle per batch → simulated vendors fetch
 * manifests and images through presigned GETs and upload through presigned PUTs
 * → ingest → validate, score, settle, finalize, rebalance — counting every AWS
 * request, state transition and Lambda invocation, priced by `estimateCost`
 * against the target of $0.05 per 1,000 cases. Program setup (images and case
 * ingest: a one-off PM cost) is measured and priced apart.
 *
 * How requests are counted (all of it is printed):
 * - DynamoDB: every call through the stack's client, by operation, with the
 *   capacity DynamoDB would bill measured per call (ReturnConsumedCapacity,
 *   which dynalite computes from item sizes, plus GSI writes, which it does not:
 *   an item carrying gsi1 keys is written again to the index at the same size).
 *   Reads the demo harness makes only to watch the round (polling batch status,
 *   the final report) are counted apart and left out of the cost.
 * - S3: requests the SDK sent (presigning is not a request and is not counted),
 *   plus the vendors' own HTTP requests, which are not SDK calls: derived as
 *   one GET per manifest, one GET per item image and one PUT per label upload,
 *   and cross-checked against the presigned URLs the portal issued.
 * - Step Functions: StateEntered events of all executions (billed transitions).
 * - Lambda: one invocation per Task state entered (AwaitSubmission's callback
 *   state invokes its function once, then waits), one IngestUpload per upload
 *   (S3 → EventBridge → Lambda), one DispatchRound per round (PlanRound and DispatchChunk are Task states of
 *   the round's dispatch, counted as such), and the vendor
 *   portal calls (batch view, image URLs, upload slot), which assume an HTTP API
 *   with a Lambda behind it (not yet in the CDK stack). Duration is not
 *   measurable here: it is an assumed average, printed with the result.
 *
 * Run: `npx tsx test/bench/run.ts round-10k`. Prints; never asserts.
 */
import { performance } from 'node:perf_hooks';
import { type CostEstimate, estimateCost, formatCostReport, priceRequest, type RequestCount, UNIT_PRICES } from '../../functions/domain/cost.js';
import { seededRandomSource } from '../../functions/domain/index.js';
import { registerWorkforce } from '../../functions/use-cases/setup-program.js';
import { FUNCTIONS, STATE_MACHINES } from '../../infra/definitions.js';
import { PROGRAM_ID, workforces } from '../../infra/local/demo/example-program.js';
import { runRound, setUpDemoProgram } from '../../infra/local/demo/run-demo.js';
import { ROOT, startLocalStack } from '../../infra/local/stack.js';
import { allStates, functionOfState, loadAsl } from '../../infra/local/workflow-runner.js';
import { AwsMeter, countPresigns, harnessView } from './aws-meter.js';
import { KeyRateMeter } from '../../functions/adapters/key-rate-meter.js';
import { formatKeyRateReport, keyRateReport } from '../../functions/domain/key-rates.js';
import { fmtMs } from './harness.js';

const SEED = 20261127;
/**
 * 10,000 work cases by default. `GOLDLINE_BENCH_ROUND_CASES` changes it for a
 * quick look; the output says so when it is below 10,000.
 */
const ROUND_CASES = Number(process.env.GOLDLINE_BENCH_ROUND_CASES ?? 10_000);
const GOLD_FRACTION = 0.1;
/** Every 10th case goes to the gold pool: 11,112 cases give 10,000 work cases. */
const PROGRAM_CASES = Math.ceil(ROUND_CASES / (1 - GOLD_FRACTION));
/** Per workforce: enough that the whole round is planned (no case deferred). */
const ROUND_CAPACITY = 12_000;
const TARGET_PER_1000_CASES = 0.05;
/**
 * Assumed average billed Lambda duration per invocation (init included now
 * that AWS bills it). Our handlers are I/O-bound: a few DynamoDB/S3 calls each;
 * PrepareManifest copies ~66 objects 8 at a time.
 */
const ASSUMED_BILLED_SECONDS = 0.5;
/** The vendor portal's calls, assumed served by one Lambda behind an HTTP API (not in the stack yet). */
const VENDOR_API = 'VendorApi (portal)';
const VENDOR_API_MEMORY_MB = 256;
/** For a function the definitions do not list. */
const DEFAULT_MEMORY_MB = 512;

const perCase = (n: number, cases: number): string => (n / cases).toFixed(4);
const usd = (x: number): string => (x >= 0.01 ? `$${x.toFixed(4)}` : `$${x.toPrecision(3)}`);

function printRequestTable(
  title: string,
  rows: { service: string; operation: string; count: number; units?: number }[],
  cases: number,
): void {
  console.log(title);
  console.log(`  ${'service operation'.padEnd(34)}${'calls'.padStart(10)}${'per case'.padStart(10)}${'units'.padStart(10)}${'$/1000 cases'.padStart(14)}`);
  for (const r of rows) {
    const p = priceRequest(r.service, r.operation);
    const unitPrice =
      p.priceClass === 'dynamodb-write'
        ? UNIT_PRICES.dynamoWriteRequestUnit
        : p.priceClass === 'dynamodb-read'
          ? UNIT_PRICES.dynamoReadRequestUnit
          : p.priceClass === 's3-put-class'
            ? UNIT_PRICES.s3PutClassRequest
            : p.priceClass === 's3-get-class'
              ? UNIT_PRICES.s3GetClassRequest
              : 0;
    const units = r.units ?? r.count * p.unitsPerCall;
    console.log(
      `  ${`${r.service} ${r.operation}`.padEnd(34)}${String(r.count).padStart(10)}${perCase(r.count, cases).padStart(10)}` +
        `${String(Math.round(units * 10) / 10).padStart(10)}${usd((units * unitPrice * 1000) / cases).padStart(14)}`,
    );
  }
}

export default async function roundOf10k(): Promise<void> {
  const stack = await startLocalStack({ random: seededRandomSource(SEED) });
  const meter = new AwsMeter();
  meter.attach(stack.dynamo, stack.s3);
  // Per partition key: requests and units over time (issue 14: no key above DynamoDB's per-partition limits).
  const keyRates = new KeyRateMeter();
  keyRates.attach(stack.dynamo);
  const presigns = countPresigns(stack);
  try {
    // ---- Setup: a one-off PM cost, priced apart --------------------------
    const t0 = performance.now();
    await setUpDemoProgram(stack, { cases: PROGRAM_CASES, goldFraction: GOLD_FRACTION, seed: SEED });
    for (const w of workforces) await registerWorkforce(stack.deps, PROGRAM_ID, { ...w, capacityPerRound: ROUND_CAPACITY });
    const setupMs = performance.now() - t0;
    const setupRequests = stack.requests.snapshot();
    const setupCost = estimateCost({
      requests: setupRequests,
      stateTransitions: 0,
      lambdaInvocations: 0,
      cases: PROGRAM_CASES,
      dynamoCapacity: { readUnits: meter.readUnits, writeUnits: meter.writeUnits },
    });
    console.log(`Setup: ${PROGRAM_CASES} cases ingested (images uploaded, cases and gold stored) in ${fmtMs(setupMs)}`);
    console.log(`  requests: ${setupRequests.map((r) => `${r.service} ${r.operation} ${r.count}`).join(' · ')}`);
    console.log(formatCostReport(setupCost, { title: 'Setup cost (one-off, per case ingested)' }));

    stack.requests.reset();
    meter.reset();
    keyRates.reset();
    presigns.get = 0;
    presigns.put = 0;

    // ---- The round --------------------------------------------------------
    const t1 = performance.now();
    const report = await runRound(harnessView(stack, meter), 1, { limit: ROUND_CASES, seed: SEED });
    const roundMs = performance.now() - t1;

    const batches = report.batches;
    const items = batches.reduce((s, b) => s + b.items, 0);
    const gold = batches.reduce((s, b) => s + b.gold, 0);
    const cases = items - gold;
    const statuses = new Map<string, number>();
    for (const b of batches) statuses.set(b.status, (statuses.get(b.status) ?? 0) + 1);
    const executions = [...stack.runner.executions.values()];
    const execStatus = new Map<string, number>();
    for (const e of executions) execStatus.set(e.status, (execStatus.get(e.status) ?? 0) + 1);

    console.log(`\nRound 1: ${cases} cases (+${gold} hidden gold items) in ${batches.length} batches`);
    console.log(`  routing: ${Object.entries(report.dispatch.routing).map(([k, v]) => `${k} ${v}`).join(' · ')}`);
    console.log(`  batches: ${[...statuses].map(([k, v]) => `${k} ${v}`).join(' · ')}; executions: ${[...execStatus].map(([k, v]) => `${k} ${v}`).join(' · ')}`);
    console.log(`  wall time ${fmtMs(roundMs)} end to end · ${(cases / (roundMs / 1000)).toFixed(1)} cases/s`);
    if (cases < ROUND_CASES) console.log(`  NOTE: only ${cases} of ${ROUND_CASES} cases were dispatched`);
    if (ROUND_CASES < 10_000) console.log(`  NOTE: a reduced round (GOLDLINE_BENCH_ROUND_CASES=${ROUND_CASES}), not the 10,000-case figure`);
    for (const line of formatKeyRateReport(keyRateReport(keyRates.records(), { cases, top: 8 }))) console.log(`  ${line}`);

    // Step Functions and Lambda.
    // Both state machines: the batch lifecycle and the round's dispatch (PlanRound, DispatchChunk in a Map).
    const states = new Map([STATE_MACHINES.batchLifecycle.file, STATE_MACHINES.roundDispatch.file].flatMap((f) => allStates(loadAsl(ROOT, f).States)));
    const memoryOf = new Map<string, number>(FUNCTIONS.map((f) => [f.name, f.memoryMb]));
    memoryOf.set(VENDOR_API, VENDOR_API_MEMORY_MB);
    const invocations = new Map<string, number>();
    const invoke = (fn: string, n = 1) => invocations.set(fn, (invocations.get(fn) ?? 0) + n);
    for (const e of [...executions, ...stack.roundRunner.executions.values()]) {
      for (const ev of e.events) {
        const state = ev.type === 'StateEntered' && ev.state ? states.get(ev.state) : undefined;
        if (state?.Type === 'Task') invoke(functionOfState(state) ?? ev.state!);
      }
    }
    const taskInvocations = [...invocations.values()].reduce((s, n) => s + n, 0);
    const uploads = stack.ingests.length;
    const labelled = batches.length; // every batch awaited a submission and was labelled once
    invoke('IngestUpload', uploads);
    invoke('DispatchRound', 1);
    invoke(VENDOR_API, 2 * labelled + uploads);
    const lambdaInvocations = [...invocations.values()].reduce((s, n) => s + n, 0);
    let gbSeconds = 0;
    const unknownMemory: string[] = [];
    for (const [fn, n] of invocations) {
      const mb = memoryOf.get(fn);
      if (mb === undefined) unknownMemory.push(fn);
      gbSeconds += (n * (mb ?? DEFAULT_MEMORY_MB) * ASSUMED_BILLED_SECONDS) / 1024;
    }
    const transitions = stack.runner.stateTransitions + stack.roundRunner.stateTransitions;

    console.log(`  state transitions ${transitions} · ${perCase(transitions, cases)} per case · ${(transitions / batches.length).toFixed(1)} per batch`);
    console.log(
      `  Lambda invocations: Task states ${taskInvocations} (${perCase(taskInvocations, cases)} per case); all ${lambdaInvocations} (${perCase(lambdaInvocations, cases)} per case): ` +
        [...invocations].map(([k, v]) => `${k} ${v}`).join(' · '),
    );
    console.log(
      `  Lambda GB-seconds ${gbSeconds.toFixed(1)} (assumed ${ASSUMED_BILLED_SECONDS} s billed per invocation at each function's memory` +
        `${unknownMemory.length ? `; ${DEFAULT_MEMORY_MB} MB assumed for ${unknownMemory.join(', ')}` : ''})`,
    );

    // S3: what the SDK sent, presigns apart, plus the vendors' HTTP requests.
    // (Presigns were once derived as stack.requests minus sent requests; the stack's counter is not on the presigner client, so that printed "-1 GET".)
    const vendorGets = batches.length + items; // one manifest per batch, one image per item
    const vendorPuts = uploads;
    console.log(
      `  vendors' HTTP requests (not SDK calls; derived): ${vendorGets} GET (${batches.length} manifests + ${items} images), ${vendorPuts} PUT (label uploads)` +
        ` — presigned URLs issued: ${presigns.get} GET, ${presigns.put} PUT`,
    );

    const dynamoRows = meter.dynamo.snapshot().map((r) => ({ ...r, units: meter.unitsByOp.get(r.operation) }));
    const s3Rows: RequestCount[] = meter.s3Sent.snapshot();
    const vendorRows: RequestCount[] = [
      { service: 's3', operation: 'GetObject', count: vendorGets },
      { service: 's3', operation: 'PutObject', count: vendorPuts },
    ];
    console.log('');
    printRequestTable('AWS requests of the round (system only; units = measured capacity for DynamoDB):', [...dynamoRows, ...s3Rows], cases);
    printRequestTable("Vendors' requests with presigned URLs (billed to our bucket):", vendorRows, cases);
    console.log(
      `  DynamoDB capacity: ${meter.readUnits.toFixed(1)} RRU (${perCase(meter.readUnits, cases)}/case), ${meter.writeUnits} WRU (${perCase(meter.writeUnits, cases)}/case)` +
        ` incl. ${meter.gsiWriteUnits} GSI WRU and ${meter.failedConditionalWrites} failed conditional writes`,
    );
    console.log(
      `  raw stack.requests (counted at initialize: presigning and harness reads included): ` +
        stack.requests
          .snapshot()
          .map((r) => `${r.service} ${r.operation} ${r.count}`)
          .join(' · '),
    );
    const harnessRows = meter.harness.snapshot();
    console.log(
      `  left out — demo harness reads (status polling, report): ${harnessRows.map((r) => `${r.operation} ${r.count}`).join(' · ') || 'none'}` +
        ` (${meter.harnessReadUnits.toFixed(0)} RRU)`,
    );

    const cost: CostEstimate = estimateCost({
      requests: [...meter.dynamo.snapshot(), ...s3Rows, ...vendorRows],
      stateTransitions: transitions,
      lambdaInvocations,
      lambdaGbSeconds: gbSeconds,
      lambdaArchitecture: 'arm64',
      cases,
      dynamoCapacity: { readUnits: meter.readUnits, writeUnits: meter.writeUnits },
      eventBridgeOptInDataEvents: uploads,
      httpApiRequests: 2 * labelled + uploads,
    });
    console.log('');
    console.log(formatCostReport(cost, { title: `Round cost (${cases} cases)`, targetPer1000CasesDollars: TARGET_PER_1000_CASES }));
    const acceptedCases = batches.filter((b) => b.status === 'accepted').reduce((s, b) => s + b.items - b.gold, 0);
    console.log(
      `  per accepted (labelled) case: ${usd((cost.totalDollars / acceptedCases) * 1000)} per 1,000 (${acceptedCases} cases labelled;` +
        ` the ${cases - acceptedCases} cases of rejected batches go back to pending and are paid for again next round)`,
    );
    console.log(
      `  round + setup (ingest of ${PROGRAM_CASES} cases, once): ${usd(((cost.totalDollars + setupCost.totalDollars) / cases) * 1000)} per 1,000 cases`,
    );
    console.log('  not priced: KMS (S3 Bucket Keys on; DynamoDB caches its table key), CloudWatch Logs and X-Ray, storage, data transfer out to vendors');
    const approx = estimateCost({
      requests: [...meter.dynamo.snapshot(), ...s3Rows, ...vendorRows],
      stateTransitions: transitions,
      lambdaInvocations,
      lambdaGbSeconds: gbSeconds,
      cases,
      eventBridgeOptInDataEvents: uploads,
      httpApiRequests: 2 * labelled + uploads,
      hints: { itemsPerBatchWrite: 25 },
    });
    console.log(`  (per-call DynamoDB approximation instead of measured capacity: ${usd(approx.per1000CasesDollars)} per 1,000 cases)`);
  } finally {
    await stack.stop();
  }
}
