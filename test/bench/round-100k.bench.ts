/**
 * Rounds of any size (issue 14): one round of 10,000 and one of 100,000 work
 * cases end to end on the embedded stack, each in a process of its own — ingest
 * in chunks, dispatch through the round-dispatch state machine (PlanRound, an
 * inline Map over chunks of at most 50 batches, DispatchChunk), simulated
 * vendors fetch and upload through presigned URLs, score, settle, finalize,
 * rebalance. Prints, per size: wall time and throughput, peak RSS (sampled
 * every 250 ms over setup and over the round), requests by kind, state
 * transitions, cost per 1,000 cases (functions/domain/cost.ts price table) and
 * the per-partition-key write-rate report (functions/domain/key-rates.ts).
 *
 * Sizes: `GOLDLINE_BENCH_ROUND_SIZES=2000,20000` changes them (a quick look).
 * `GOLDLINE_BENCH_BY_CALLER=1` also prints the round's DynamoDB requests by
 * caller (caller-meter.ts; a stack trace per request, so its CPU figure is not
 * comparable with a run without it).
 * Run: `npm run bench -- round-100k`. Prints; never asserts.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { KeyRateMeter } from '../../functions/adapters/key-rate-meter.js';
import { estimateCost, formatCostReport } from '../../functions/domain/cost.js';
import { seededRandomSource } from '../../functions/domain/index.js';
import { formatKeyRateReport, type KeyRequest, keyRateReport } from '../../functions/domain/key-rates.js';
import { registerWorkforce } from '../../functions/use-cases/setup-program.js';
import { STATE_MACHINES } from '../../infra/definitions.js';
import { PROGRAM_ID, workforces } from '../../infra/local/demo/example-program.js';
import { runRound, setUpDemoProgram } from '../../infra/local/demo/run-demo.js';
import { ROOT, startLocalStack } from '../../infra/local/stack.js';
import { allStates, loadAsl } from '../../infra/local/workflow-runner.js';
import { AwsMeter, countPresigns, harnessView } from './aws-meter.js';
import { CallerMeter, formatCallerRows } from './caller-meter.js';
import { fmtMs } from './harness.js';

const SEED = 20261129;
const GOLD_FRACTION = 0.1;
const CHILD = 'GOLDLINE_ROUND_BENCH_CASES';
const SIZES = (process.env.GOLDLINE_BENCH_ROUND_SIZES ?? '10000,100000').split(',').map(Number);
const MB = 1024 * 1024;

/** Peak RSS and peak V8 heap in use over a phase, sampled every 250 ms (and at its start and end). */
class RssSampler {
  peak = 0;
  peakHeap = 0;
  private timer?: NodeJS.Timeout;
  private sample(): void {
    const m = process.memoryUsage();
    this.peak = Math.max(this.peak, m.rss);
    this.peakHeap = Math.max(this.peakHeap, m.heapUsed);
  }
  start(): void {
    this.peak = 0;
    this.peakHeap = 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), 250);
    this.timer.unref();
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}
/** V8's collector, reached without a command-line flag: the live heap is what a full collection leaves. */
v8.setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
const memoryNow = (): string => {
  collect();
  const m = process.memoryUsage();
  return `rss ${(m.rss / MB).toFixed(0)} MB (live heap ${(m.heapUsed / MB).toFixed(0)} MB of ${(m.heapTotal / MB).toFixed(0)} MB, external ${(m.external / MB).toFixed(0)} MB, array buffers ${(m.arrayBuffers / MB).toFixed(0)} MB)`;
};

/**
 * Per key and second, the units the key-rate meter saw: its log drained every
 * 2 s so a 100,000-case round does not keep millions of records (which would be
 * most of the RSS measured). The report's 1 s windows become whole seconds.
 */
class SecondBuckets {
  private readonly buckets = new Map<string, { wcu: number; rcu: number; requests: number }>();
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly meter: KeyRateMeter) {
    this.timer = setInterval(() => this.drain(), 2000);
    this.timer.unref();
  }
  drain(): void {
    for (const r of this.meter.records()) {
      const id = `${Math.floor(r.t / 1000)}\u0000${r.key}`;
      const b = this.buckets.get(id) ?? { wcu: 0, rcu: 0, requests: 0 };
      b.wcu += r.wcu;
      b.rcu += r.rcu;
      b.requests++;
      this.buckets.set(id, b);
    }
    this.meter.reset();
  }
  records(): KeyRequest[] {
    clearInterval(this.timer);
    this.drain();
    return [...this.buckets.entries()]
      .map(([id, b]) => {
        const [second, key] = id.split('\u0000');
        return { t: Number(second) * 1000, key, wcu: b.wcu, rcu: b.rcu };
      })
      .sort((a, b) => a.t - b.t);
  }
}

async function oneRound(workCases: number): Promise<void> {
  const programCases = Math.ceil(workCases / (1 - GOLD_FRACTION));
  // How long each dispatch step took (wall time, on this busy machine): the per-invocation budget.
  const stepMs: Record<string, number[]> = { PlanRound: [], DispatchChunk: [] };
  const stack = await startLocalStack({
    random: seededRandomSource(SEED),
    instrument: (fn, handler) =>
      fn in stepMs
        ? async (event) => {
            const t = performance.now();
            const out = await handler(event);
            stepMs[fn].push(performance.now() - t);
            return out;
          }
        : handler,
  });
  // The IAM access record keeps an entry per distinct object and leading key: it would be most of the growth measured.
  stack.accesses.enabled = false;
  const meter = new AwsMeter();
  meter.attach(stack.dynamo, stack.s3);
  const presigns = countPresigns(stack);
  const rss = new RssSampler();
  try {
    rss.start();
    const t0 = performance.now();
    await setUpDemoProgram(stack, { cases: programCases, goldFraction: GOLD_FRACTION, seed: SEED });
    for (const w of workforces) await registerWorkforce(stack.deps, PROGRAM_ID, { ...w, capacityPerRound: Math.ceil(workCases * 1.2) });
    const setupMs = performance.now() - t0;
    const setupRss = rss.stop();
    console.log(`\n── ${workCases.toLocaleString('en')} work cases ──`);
    console.log(`Setup: ${programCases} cases ingested in ${fmtMs(setupMs)} · peak RSS ${(setupRss / MB).toFixed(0)} MB, peak heap used ${(rss.peakHeap / MB).toFixed(0)} MB · now ${memoryNow()}`);

    meter.reset();
    stack.requests.reset();
    presigns.get = 0;
    presigns.put = 0;
    const keys = new KeyRateMeter();
    keys.attach(meter.skipHarness(stack.dynamo));
    const buckets = new SecondBuckets(keys);
    const callers = process.env.GOLDLINE_BENCH_BY_CALLER === '1' ? new CallerMeter() : undefined;
    callers?.attach(stack.dynamo);
    rss.start();
    const cpu0 = process.cpuUsage();
    const t1 = performance.now();
    const report = await runRound(harnessView(stack, meter), 1, { limit: workCases, seed: SEED });
    const roundMs = performance.now() - t1;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const roundRss = rss.stop();
    const roundHeap = rss.peakHeap;

    const items = report.batches.reduce((s, b) => s + b.items, 0);
    const gold = report.batches.reduce((s, b) => s + b.gold, 0);
    const cases = items - gold;
    const statuses = new Map<string, number>();
    for (const b of report.batches) statuses.set(b.status, (statuses.get(b.status) ?? 0) + 1);
    const dispatch = [...stack.roundRunner.executions.values()];
    const transitions = stack.runner.stateTransitions + stack.roundRunner.stateTransitions;
    console.log(
      `Round: ${cases} cases (+${gold} gold items) in ${report.batches.length} batches, ${report.dispatch.chunks ?? '?'} chunk(s) · ` +
        `${[...statuses].map(([k, v]) => `${k} ${v}`).join(' · ')} · dispatch execution ${dispatch.map((e) => e.status).join(', ')}`,
    );
    console.log(
      `  wall time ${fmtMs(roundMs)} · ${(cases / (roundMs / 1000)).toFixed(1)} cases/s · CPU ${cpuSeconds.toFixed(0)} s (${(cases / cpuSeconds).toFixed(1)} cases per CPU-second: ` +
        `the figure a busy machine disturbs least) · load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores · peak RSS ${(roundRss / MB).toFixed(0)} MB, peak heap used ${(roundHeap / MB).toFixed(0)} MB over the round · at its end ${memoryNow()}`,
    );
    const secs = (xs: number[]) => (xs.length ? `${xs.length} × mean ${(xs.reduce((a, b) => a + b, 0) / xs.length / 1000).toFixed(1)} s, max ${(Math.max(...xs) / 1000).toFixed(1)} s` : 'none');
    console.log(`  dispatch steps (wall): PlanRound ${secs(stepMs.PlanRound)} · DispatchChunk ${secs(stepMs.DispatchChunk)}`);
    console.log(`  state transitions ${transitions} (${(transitions / cases).toFixed(3)} per case; round dispatch ${stack.roundRunner.stateTransitions})`);
    const dynamoRows = meter.dynamo.snapshot();
    const s3Rows = meter.s3Sent.snapshot();
    console.log(`  requests by kind (system; per case): ${[...dynamoRows, ...s3Rows].map((r) => `${r.service} ${r.operation} ${r.count} (${(r.count / cases).toFixed(2)})`).join(' · ')}`);
    console.log(`  vendors' presigned requests: ${presigns.get} GET, ${presigns.put} PUT`);
    const uploads = stack.ingests.length;
    // Lambda requests: one per Task state entered (both machines), one IngestUpload per upload, one DispatchRound.
    const taskStates = new Set(
      [STATE_MACHINES.batchLifecycle.file, STATE_MACHINES.roundDispatch.file].flatMap((f) =>
        allStates(loadAsl(ROOT, f).States).filter(([, st]) => st.Type === 'Task').map(([name]) => name),
      ),
    );
    let invocations = uploads + 1;
    for (const r of [stack.runner, stack.roundRunner]) {
      for (const e of r.executions.values()) invocations += e.events.filter((ev) => ev.type === 'StateEntered' && ev.state && taskStates.has(ev.state)).length;
    }
    const vendorRows = [
      { service: 's3', operation: 'GetObject', count: presigns.get },
      { service: 's3', operation: 'PutObject', count: presigns.put },
    ];
    const cost = estimateCost({
      requests: [...dynamoRows, ...s3Rows, ...vendorRows],
      stateTransitions: transitions,
      lambdaInvocations: invocations,
      cases,
      dynamoCapacity: { readUnits: meter.readUnits, writeUnits: meter.writeUnits },
      eventBridgeOptInDataEvents: uploads,
    });
    console.log(formatCostReport(cost, { title: `Round cost, AWS requests and transitions (${cases} cases; Lambda requests counted, their GB-seconds left out: see round-10k and cost-1m)` }));
    const keyReport = keyRateReport(buckets.records(), { cases, top: 8 });
    for (const line of formatKeyRateReport(keyReport)) console.log(`  ${line}`);
    if (callers) {
      console.log('  DynamoDB requests by caller (most bytes returned first; a read whose items per call grow with the round is the suspect):');
      for (const line of formatCallerRows(callers.snapshot(), 15)) console.log(`  ${line}`);
    }
    console.log(`FIGURES ${JSON.stringify({ workCases: cases, batches: report.batches.length, chunks: report.dispatch.chunks, roundMs: Math.round(roundMs), planRoundMs: Math.round(Math.max(0, ...stepMs.PlanRound)), chunkMaxMs: Math.round(Math.max(0, ...stepMs.DispatchChunk)), cpuSeconds: Math.round(cpuSeconds), casesPerSecond: Math.round((cases / (roundMs / 1000)) * 10) / 10, setupMs: Math.round(setupMs), setupRssMb: Math.round(setupRss / MB), roundRssMb: Math.round(roundRss / MB), roundHeapMb: Math.round(roundHeap / MB), per1000: cost.per1000CasesDollars, keysOver: keyReport.over.length, hottest: keyReport.hottest[0]?.key, hottestPeakWcu: keyReport.hottest[0]?.peakWcuPerSecond })}`);
  } finally {
    await stack.stop();
  }
}

export default async function roundOf100k(): Promise<void> {
  const mine = process.env[CHILD];
  if (mine) return oneRound(Number(mine));
  // Each size in a process of its own, so that its memory figures are its own.
  const run = join(dirname(fileURLToPath(import.meta.url)), 'run.ts');
  for (const size of SIZES) {
    const r = spawnSync(process.execPath, [...process.execArgv, run, '--one', 'round-100k.bench.ts'], { stdio: 'inherit', env: { ...process.env, [CHILD]: String(size) } });
    if (r.status !== 0) throw new Error(`the ${size}-case round exited with ${r.status ?? r.signal}`);
  }
}
