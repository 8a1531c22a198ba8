/**
 * A simulated AWS-scale run: what a program of 1,000,000 cases over 20 rounds
 * costs, extrapolated (functions/domain/scale-model.ts) from one round of a few
 * thousand cases measured end to end on the embedded stack — the same flow and
 * meters as round-10k (test/bench/aws-meter.ts): every DynamoDB call with the
 * capacity DynamoDB would bill (GSI writes added), S3 requests really sent,
 * vendors' presigned GETs and PUTs, state transitions of every execution, and
 * every Lambda handler invocation timed (wall time on the embedded stack, where
 * the stand-ins share 2 cores with it: an overestimate of what AWS would bill).
 * Per-partition-key units come from the key-rate meter (key-rates.ts) and are
 * rated at the throughput a round would run at on AWS.
 *
 * Assumed, not measured (printed with the result): the image size per case (the
 * demo's synthetic images are a few kB; a chest radiograph's DICOM is ~10 MB),
 * the months the data is kept, the throughput on AWS, and the HTTP API calls of
 * the vendor portal (as in round-10k).
 *
 * Run: `npm run bench -- cost-1m` (GOLDLINE_BENCH_COST_CASES changes the measured
 * round's size; default 3,000). Prints; never asserts.
 */
import { performance } from 'node:perf_hooks';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { KeyRateMeter } from '../../functions/adapters/key-rate-meter.js';
import { type RequestCount, UNIT_PRICES } from '../../functions/domain/cost.js';
import { seededRandomSource } from '../../functions/domain/index.js';
import { keyRateReport } from '../../functions/domain/key-rates.js';
import { formatScaleModel, type LambdaStep, type MeasuredRound, type ProgramShape, scaleModel } from '../../functions/domain/scale-model.js';
import { registerWorkforce } from '../../functions/use-cases/setup-program.js';
import { FUNCTIONS } from '../../infra/definitions.js';
import { PROGRAM_ID, workforces } from '../../infra/local/demo/example-program.js';
import { runRound, setUpDemoProgram } from '../../infra/local/demo/run-demo.js';
import { startLocalStack } from '../../infra/local/stack.js';
import type { LocalWorkflowRunner } from '../../infra/local/workflow-runner.js';
import { AwsMeter, countPresigns, harnessView, itemBytes } from './aws-meter.js';
import { fmtBytes, fmtMs } from './harness.js';

const SEED = 20261129;
const ROUND_CASES = Number(process.env.GOLDLINE_BENCH_COST_CASES ?? 3_000);
const GOLD_FRACTION = 0.1;
const PROGRAM_CASES = Math.ceil(ROUND_CASES / (1 - GOLD_FRACTION));
const ROUND_CAPACITY = 2 * ROUND_CASES;
/** The program the figures are for. */
const PROGRAM = { cases: 1_000_000, rounds: 20 };
/** Assumed: a chest radiograph as DICOM (2-3k × 2-3k pixels, 16 bit) is about 10 MB. */
const IMAGE_BYTES_PER_CASE = 10 * 2 ** 20;
const MONTHS_KEPT = 12;
/** Assumed throughput of a round on AWS: a 50,000-case round through dispatch in under a minute. */
const AWS_CASES_PER_SECOND = 1_000;
/** The vendor portal's calls, assumed served by the WorkApi function (as round-10k counts them). */
const PORTAL_FN = 'WorkApi';
/** Functions invoked once per round whatever its size. */
const PER_ROUND = new Set(['DispatchRound', 'PlanRound']);

/** Handler invocations and their wall time, by function; their DynamoDB units go to the meter under the function's name. */
class HandlerTimer {
  measuring = false;
  readonly byFn = new Map<string, { n: number; ms: number; maxMs: number }>();

  constructor(private readonly meter: AwsMeter) {}

  wrap = (fn: string, handler: (event: unknown) => Promise<unknown>) => async (event: unknown) => {
    const t0 = performance.now();
    try {
      return await this.meter.within(fn, () => handler(event));
    } finally {
      if (this.measuring) {
        const ms = performance.now() - t0;
        const s = this.byFn.get(fn) ?? { n: 0, ms: 0, maxMs: 0 };
        this.byFn.set(fn, { n: s.n + 1, ms: s.ms + ms, maxMs: Math.max(s.maxMs, ms) });
      }
    }
  };
}

/** Peak heap and RSS of the whole process (stand-ins, runner and every handler at once), sampled. */
function sampleMemory(): { stop: () => { heapBytes: number; rssBytes: number } } {
  let heapBytes = 0;
  let rssBytes = 0;
  const sample = () => {
    const m = process.memoryUsage();
    heapBytes = Math.max(heapBytes, m.heapUsed);
    rssBytes = Math.max(rssBytes, m.rss);
  };
  const timer = setInterval(sample, 100);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return { heapBytes, rssBytes };
    },
  };
}

const usd = (x: number): string => (x >= 0.01 ? `$${x.toFixed(4)}` : `$${x.toPrecision(3)}`);
/** The steps a decided batch runs that a held (inconclusive) one has not run yet (parts of CompleteBatch since it merged them: metered under these names). */
const FINALIZE_STEPS = ['FinalizeBatch', 'CheckAgreement'];

/**
 * A round in which every batch is decided: a batch the SPRT held (inconclusive)
 * is finalized when a later batch decides it, so its finalize work belongs to
 * the program but not to the measured round. Added here from what the decided
 * batches measured: their finalize steps' DynamoDB units per item, their extra
 * state transitions per execution, and their finalize invocations per batch.
 */
function steadyState(
  round: MeasuredRound,
  runner: LocalWorkflowRunner,
  batches: readonly { batchId: string; status: string; items: number }[],
  meter: AwsMeter,
): { round: MeasuredRound; note: string } {
  const held = batches.filter((b) => b.status === 'inconclusive');
  const decided = batches.filter((b) => b.status === 'accepted' || b.status === 'rejected');
  if (held.length === 0) return { round, note: 'every batch was decided in the round: nothing deferred' };
  if (decided.length === 0) return { round, note: 'no batch was decided: the deferred finalize work cannot be estimated (figures as measured)' };
  const transitionsOf = (ids: readonly { batchId: string }[]) => {
    const counts = ids.flatMap((b) => {
      const e = runner.executions.get(b.batchId);
      return e ? [e.events.filter((x) => x.type === 'StateEntered').length] : [];
    });
    return counts.reduce((s, n) => s + n, 0) / Math.max(1, counts.length);
  };
  const perBatch = Math.max(0, transitionsOf(decided) - transitionsOf(held));
  const decidedItems = decided.reduce((s, b) => s + b.items, 0);
  const heldItems = held.reduce((s, b) => s + b.items, 0);
  const finalize = FINALIZE_STEPS.map((fn) => meter.unitsByFn.get(fn) ?? { read: 0, write: 0 });
  const wruPerItem = finalize.reduce((s, u) => s + u.write, 0) / decidedItems;
  const rruPerItem = finalize.reduce((s, u) => s + u.read, 0) / decidedItems;
  const scale = (decided.length + held.length) / decided.length;
  return {
    round: {
      ...round,
      dynamoCapacity: { readUnits: round.dynamoCapacity.readUnits + rruPerItem * heldItems, writeUnits: round.dynamoCapacity.writeUnits + wruPerItem * heldItems },
      stateTransitions: round.stateTransitions + perBatch * held.length,
      lambda: round.lambda.map((l) => (FINALIZE_STEPS.includes(l.fn) ? { ...l, invocations: l.invocations * scale } : l)),
    },
    note:
      `${held.length} of ${batches.length} batches held (inconclusive): their finalize work comes when a later batch decides them —` +
      ` added from the decided batches: ${wruPerItem.toFixed(2)} WRU and ${rruPerItem.toFixed(2)} RRU per item (${FINALIZE_STEPS.join(', ')}),` +
      ` ${perBatch.toFixed(1)} more state transitions per execution, ` +
      (round.lambda.some((l) => FINALIZE_STEPS.includes(l.fn))
        ? `${FINALIZE_STEPS.join('/')} invocations × ${scale.toFixed(2)}`
        : 'no more invocations (they are parts of CompleteBatch, which every batch runs once: a held batch is finalized inside the deciding batch\'s)'),
  };
}

export default async function costOf1m(): Promise<void> {
  const meter = new AwsMeter();
  const timer = new HandlerTimer(meter);
  // CompleteBatch's parts (settle, finalize, agreement check, rebalance: one Lambda since issue 14) count their units under their own names.
  const stack = await startLocalStack({ random: seededRandomSource(SEED), instrument: timer.wrap, instrumentPart: (_fn, part, work) => meter.within(part, work) });
  meter.attach(stack.dynamo, stack.s3);
  const keys = new KeyRateMeter();
  const presigns = countPresigns(stack);
  const runners = [stack.runner, (stack as { roundRunner?: LocalWorkflowRunner }).roundRunner].filter((r) => r !== undefined);
  try {
    const t0 = performance.now();
    await setUpDemoProgram(stack, { cases: PROGRAM_CASES, goldFraction: GOLD_FRACTION, seed: SEED });
    for (const w of workforces) await registerWorkforce(stack.deps, PROGRAM_ID, { ...w, capacityPerRound: ROUND_CAPACITY });
    console.log(`Setup: ${PROGRAM_CASES} cases ingested in ${fmtMs(performance.now() - t0)} (a one-off PM cost, left out of the model)`);

    meter.reset();
    keys.attach(meter.skipHarness(stack.dynamo)); // the round's requests only
    presigns.get = 0;
    presigns.put = 0;
    const transitionsBefore = runners.reduce((s, r) => s + r.stateTransitions, 0);
    timer.measuring = true;
    const memory = sampleMemory();
    const t1 = performance.now();
    const report = await runRound(harnessView(stack, meter), 1, { limit: ROUND_CASES, seed: SEED });
    const roundMs = performance.now() - t1;
    const peak = memory.stop();
    timer.measuring = false;

    const batches = report.batches;
    const items = batches.reduce((s, b) => s + b.items, 0);
    const cases = items - batches.reduce((s, b) => s + b.gold, 0);
    const statuses = new Map<string, number>();
    for (const b of batches) statuses.set(b.status, (statuses.get(b.status) ?? 0) + 1);
    const uploads = stack.ingests.length;
    console.log(
      `Measured round: ${cases} cases (+${items - cases} hidden gold items) in ${batches.length} batches (${[...statuses].map(([k, v]) => `${k} ${v}`).join(' · ')}),` +
        ` ${fmtMs(roundMs)} on the embedded stack; process peak heap ${fmtBytes(peak.heapBytes)}, RSS ${fmtBytes(peak.rssBytes)}`,
    );
    if (statuses.size !== 1 || !statuses.has('accepted')) console.log('  NOTE: not every batch was accepted: the figures include the re-queue and failure paths this round took');

    // Requests: the system's SDK calls (harness reads left out) and the vendors' presigned GETs and PUTs.
    const requests: RequestCount[] = [...meter.dynamo.snapshot().filter((r) => r.count > 0), ...meter.s3Sent.snapshot()];
    const vendorRequests: RequestCount[] = [
      { service: 's3', operation: 'GetObject', count: batches.length + items },
      { service: 's3', operation: 'PutObject', count: uploads },
    ];
    console.log(`  presigned URLs issued: ${presigns.get} GET, ${presigns.put} PUT; vendors' requests (one GET per manifest and image, one PUT per upload): ${batches.length + items} GET, ${uploads} PUT`);

    // Lambda: every timed handler invocation, at the function's configured memory; the portal as round-10k counts it.
    const memoryOf = new Map(FUNCTIONS.map((f) => [f.name, f.memoryMb]));
    const lambda: LambdaStep[] = [...timer.byFn].map(([fn, t]) => ({
      fn,
      invocations: t.n,
      meanMs: t.ms / t.n,
      memoryMb: memoryOf.get(fn) ?? 512,
      per: PER_ROUND.has(fn) ? ('round' as const) : ('case' as const),
    }));
    const portalCalls = 2 * batches.length + uploads;
    lambda.push({ fn: `${PORTAL_FN} (assumed 50 ms)`, invocations: portalCalls, meanMs: 50, memoryMb: memoryOf.get(PORTAL_FN) ?? 512 });
    for (const [fn, t] of [...timer.byFn].sort((a, b) => b[1].ms - a[1].ms)) {
      console.log(`  ${fn.padEnd(20)} ${String(t.n).padStart(6)} invocations, mean ${(t.ms / t.n).toFixed(1)} ms, max ${t.maxMs.toFixed(0)} ms, ${memoryOf.get(fn) ?? '?'} MB configured`);
    }

    // Sizes for storage: label files as uploaded, table items as dynalite counts them.
    const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.deps.buckets.uploads }));
    const labelBytes = (listed.Contents ?? []).reduce((s, o) => s + (o.Size ?? 0), 0);
    // dynalite reports no TableSizeBytes: every item is read and sized (the meter has stopped counting by now).
    let tableBytes = 0;
    let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await stack.dynamo.send(new ScanCommand({ TableName: stack.tableName, ExclusiveStartKey }));
      for (const item of page.Items ?? []) tableBytes += itemBytes(item as unknown as Record<string, Record<string, unknown>>);
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    const itemBytesPerCase = tableBytes / PROGRAM_CASES;
    console.log(
      `  sizes: label files ${fmtBytes(labelBytes)} (${(labelBytes / cases).toFixed(0)} B/case); table ${fmtBytes(tableBytes)} after setup and one round (${itemBytesPerCase.toFixed(0)} B per program case);` +
        ` images assumed ${fmtBytes(IMAGE_BYTES_PER_CASE)}/case (the demo's synthetic images are a few kB)`,
    );

    // DynamoDB units by function (system calls made inside a handler; the portal's and dispatch's own calls are not in a handler here).
    console.log(
      `  DynamoDB units by function (WRU / RRU per case): ${[...meter.unitsByFn]
        .sort((a, b) => b[1].write - a[1].write)
        .map(([fn, u]) => `${fn} ${(u.write / cases).toFixed(2)} / ${(u.read / cases).toFixed(2)}`)
        .join(' · ')}`,
    );
    // Where each function's write units go, per work case, by the item written (its largest five).
    for (const [fn] of [...meter.unitsByFn].sort((a, b) => b[1].write - a[1].write)) {
      const kinds = [...(meter.writesByFnKind.get(fn) ?? [])].sort((a, b) => b[1] - a[1]).slice(0, 5);
      if (kinds.length) console.log(`  ${fn} WRU per case by item written: ${kinds.map(([k, u]) => `${k} ${(u / cases).toFixed(3)}`).join(' · ')}`);
    }
    const measuredRound: MeasuredRound = {
      cases,
      requests,
      vendorRequests,
      dynamoCapacity: { readUnits: meter.readUnits, writeUnits: meter.writeUnits },
      stateTransitions: runners.reduce((s, r) => s + r.stateTransitions, 0) - transitionsBefore,
      lambda,
      eventBridgeOptInDataEvents: uploads,
      httpApiRequests: portalCalls,
    };
    const steady = steadyState(measuredRound, stack.runner, batches, meter);
    console.log(`  ${steady.note}`);

    const keyReport = keyRateReport(keys.records(), { cases, top: 50 });
    const program: ProgramShape = {
      ...PROGRAM,
      casesPerSecond: AWS_CASES_PER_SECOND,
      imageBytesPerCase: IMAGE_BYTES_PER_CASE,
      labelBytesPerCase: labelBytes / cases,
      itemBytesPerCase,
      months: MONTHS_KEPT,
    };
    const asMeasured = scaleModel({ ...measuredRound, keys: keyReport.hottest }, program);
    const model = scaleModel({ ...steady.round, keys: keyReport.hottest }, program);
    console.log('');
    const withoutStorage = (m: typeof model) =>
      (m.cost.lines.filter((l) => !l.item.includes('storage')).reduce((s, l) => s + l.dollars, 0) / m.program.cases) * 1000;
    console.log(
      `As measured (held batches not finalized): ${usd(withoutStorage(asMeasured))} per 1,000 cases of requests, transitions and Lambda;` +
        ` with them finalized (steady state, below): ${usd(withoutStorage(model))}`,
    );
    for (const line of formatScaleModel(model, { top: 6 })) console.log(line);
    console.log(
      `  not priced: KMS, CloudWatch Logs and X-Ray, data transfer out to vendors (${fmtBytes(IMAGE_BYTES_PER_CASE)} × ${(items / cases).toFixed(2)} downloads per case at` +
        ` $${UNIT_PRICES.dataTransferOutGb}/GB would be $${(((IMAGE_BYTES_PER_CASE * (items / cases)) / 2 ** 30) * UNIT_PRICES.dataTransferOutGb * 1000).toFixed(2)} per 1,000 cases —` +
        ' the largest line of all when vendors download over the internet)',
    );
  } finally {
    await stack.stop();
  }
}
