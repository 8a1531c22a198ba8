/**
 * The demo loop on the embedded stack: set up the program, then per round
 * dispatch → workforces label and upload → lifecycles finish → report.
 * Used by `npm start` and by the integration test.
 */
import { protocolRef, type Scorecard, type Shares, seededRandomSource, stableHash } from '../../../functions/domain/index.js';
import { batchExecutionInput, dispatchRound, type DispatchRoundResult } from '../../../functions/use-cases/dispatch-round.js';
import type { BatchRecord } from '../../../functions/use-cases/ports.js';
import { ingestCases, registerProtocolVersion, registerWorkforce } from '../../../functions/use-cases/setup-program.js';
import type { LocalStack } from '../stack.js';
import {
  PROGRAM_ID,
  chestXrayProtocol,
  simulatedAccuracy,
  syntheticCases,
  workforces,
} from './example-program.js';
import { labelBatch } from './simulated-workforce.js';

export interface DemoOptions {
  rounds: number;
  cases: number;
  goldFraction: number;
  seed: number;
  log?: (line: string) => void;
}

export interface BatchOutcome {
  batchId: string;
  workforceId: string;
  items: number;
  gold: number;
  status: BatchRecord['status'];
  accuracy: number | null;
  interval: { lower: number; upper: number } | null;
  notes: string[];
  rejectedUploads: { uploadId: string; problems: { line: number; reason: string }[] }[];
}

export interface RoundReport {
  round: number;
  dispatch: DispatchRoundResult;
  batches: BatchOutcome[];
  scorecards: Scorecard[];
  sharesBefore: Shares;
  sharesAfter: Shares;
  /** Probation / suspension decisions taken at the end of the round, with reasons. */
  statusChanges: { workforceId: string; to: string; reason: string }[];
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000, pollMs = 20): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  const queue = items.slice();
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) await fn(t);
    }),
  );
}

export async function setUpDemoProgram(stack: LocalStack, opts: Pick<DemoOptions, 'cases' | 'goldFraction' | 'seed'>) {
  const { deps } = stack;
  const random = seededRandomSource(opts.seed);
  const protocol = await registerProtocolVersion(deps, chestXrayProtocol(new Date(Date.UTC(2026, 10, 1)).toISOString()));
  for (const w of workforces) await registerWorkforce(deps, PROGRAM_ID, w);
  const data = syntheticCases(opts.cases, opts.goldFraction, random);
  await mapLimit(data.images, 16, (img) =>
    deps.objects.putBytes(deps.buckets.images, img.key, img.bytes, 'image/x-portable-graymap'),
  );
  await ingestCases(deps, { programId: PROGRAM_ID, protocolId: protocol.protocolId, cases: data.cases, gold: data.gold });
  return { protocol, data };
}

/** Runs one round end to end and reports it. */
export async function runRound(
  stack: LocalStack,
  round: number,
  opts: { limit: number; seed: number; malformedFirstUpload?: (b: BatchRecord) => boolean },
): Promise<RoundReport> {
  const { deps } = stack;
  const protocol = chestXrayProtocol('');
  const existing = await deps.repo.getRound(PROGRAM_ID, round);
  const dispatch = existing
    ? await resumeRound(stack, round)
    : await dispatchRound(deps, {
        programId: PROGRAM_ID,
        protocolId: protocol.protocolId,
        version: protocol.version,
        round,
        limit: opts.limit,
        actor: 'pm:demo',
      });
  const batches = await deps.repo.listRoundBatches(PROGRAM_ID, round);
  // Scale with the round: every batch copies its images before it waits.
  await waitFor(
    'batches to await submissions',
    async () => {
      const states = await Promise.all(batches.map((b) => deps.repo.getBatch(b.batchId)));
      return states.every((b) => b && b.status !== 'planned');
    },
    60_000 + batches.length * 2_000,
    batches.length > 20 ? 250 : 20,
  );
  await mapLimit(batches, 4, async (b) => {
    const fresh = await deps.repo.getBatch(b.batchId);
    if (fresh?.status !== 'awaiting-submission') return;
    await labelBatch(
      deps,
      {
        workforceId: b.workforceId,
        accuracy: simulatedAccuracy[b.workforceId] ?? 0.9,
        annotators: [1, 2, 3].map((i) => `${b.workforceId}/annotator-${i}`),
        firstUploadMalformed: opts.malformedFirstUpload?.(b) ?? false,
      },
      b.batchId,
      // One generator per batch: labelling runs concurrently, and a shared
      // generator would make the outcome depend on I/O timing.
      seededRandomSource(opts.seed * 7919 + stableHash(b.batchId)),
    );
  });
  await stack.idle();

  const outcomes: BatchOutcome[] = [];
  for (const b of await deps.repo.listRoundBatches(PROGRAM_ID, round)) {
    const score = await deps.repo.getScore(b.batchId);
    const subs = await deps.repo.listSubmissions(b.batchId);
    outcomes.push({
      batchId: b.batchId,
      workforceId: b.workforceId,
      items: b.itemCount,
      gold: b.goldCount,
      status: b.status,
      accuracy: score?.accuracy ?? null,
      interval: score?.interval ?? null,
      notes: score?.notes ?? (b.failure ? [b.failure] : []),
      rejectedUploads: subs.filter((s) => s.status === 'rejected').map((s) => ({ uploadId: s.uploadId, problems: s.problems })),
    });
  }
  const ref = protocolRef({ protocolId: protocol.protocolId, version: protocol.version });
  return {
    round,
    dispatch,
    batches: outcomes,
    scorecards: await deps.repo.listScorecards(PROGRAM_ID, ref.split('@')[0]),
    sharesBefore: dispatch.shares,
    sharesAfter: (await deps.repo.getShares(PROGRAM_ID, protocol.protocolId, round + 1)) ?? {},
    statusChanges: (await deps.repo.listLedger(PROGRAM_ID))
      .filter((e) => e.type === 'workforce.status-changed' && e.data.round === round)
      .map((e) => ({ workforceId: e.subject, to: String(e.data.to), reason: e.reason })),
  };
}

/**
 * A round that was dispatched before the stack stopped (state kept in a data
 * directory): re-drive every batch still open — its lifecycle restarts, every
 * step being idempotent — and report as if dispatched now.
 */
async function resumeRound(stack: LocalStack, round: number): Promise<DispatchRoundResult> {
  const { deps } = stack;
  const protocol = (await deps.repo.getProtocolVersion('chest-xray', 1))!;
  const batches = await deps.repo.listRoundBatches(PROGRAM_ID, round);
  for (const b of batches) {
    if (['planned', 'awaiting-submission', 'submitted'].includes(b.status)) {
      await deps.workflows.startBatch(b.batchId, batchExecutionInput(b, protocol));
    }
  }
  const routing: Record<string, number> = {};
  for (const b of batches) routing[b.workforceId] = (routing[b.workforceId] ?? 0) + b.itemCount - b.goldCount;
  return {
    round,
    shares: (await deps.repo.getShares(PROGRAM_ID, protocol.protocolId, round)) ?? {},
    routing,
    excluded: [],
    deferred: [],
    batches: batches.map((b) => ({ batchId: b.batchId, workforceId: b.workforceId, items: b.itemCount, gold: b.goldCount })),
    overlaps: [],
  };
}

export async function runDemo(stack: LocalStack, opts: DemoOptions): Promise<RoundReport[]> {
  if (await stack.deps.repo.getProtocolVersion('chest-xray', 1)) {
    opts.log?.('Resuming the program kept in the data directory.');
  } else {
    await setUpDemoProgram(stack, opts);
  }
  const cases = await stack.deps.repo.listCases(PROGRAM_ID);
  const work = cases.filter((c) => !c.goldPool).length;
  const perRound = Math.ceil(work / opts.rounds);
  const reports: RoundReport[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    let firstB = true;
    const report = await runRound(stack, round, {
      limit: perRound,
      seed: opts.seed,
      malformedFirstUpload: (b) => {
        if (round !== 1 || b.workforceId !== 'vendor-b' || !firstB) return false;
        firstB = false;
        return true;
      },
    });
    reports.push(report);
    opts.log?.(formatRound(report));
  }
  return reports;
}

const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '  n/a' : `${(x * 100).toFixed(1)}%`);

/** The per-round report a PM reads. */
export function formatRound(r: RoundReport): string {
  const out: string[] = [];
  out.push(`\n━━ Round ${r.round} ━━`);
  const routing = Object.entries(r.dispatch.routing)
    .map(([k, v]) => `${k} ${v}`)
    .join(' · ');
  out.push(`Routing: ${routing}`);
  const rules = new Map<string, number>();
  for (const e of r.dispatch.excluded) rules.set(e.ruleId, (rules.get(e.ruleId) ?? 0) + 1);
  out.push('Batches:');
  for (const b of r.batches) {
    const ci = b.interval ? `[${pct(b.interval.lower)}, ${pct(b.interval.upper)}]` : '';
    out.push(
      `  ${b.batchId.padEnd(32)} ${b.workforceId.padEnd(15)} items ${String(b.items).padStart(3)}  gold ${String(b.gold).padStart(2)}  ` +
        `${b.status.padEnd(9)} gold acc ${pct(b.accuracy)} ${ci}`,
    );
    for (const u of b.rejectedUploads) {
      out.push(`      upload ${u.uploadId} rejected:`);
      for (const p of u.problems.slice(0, 4)) out.push(`        ${p.line ? `line ${p.line}` : 'file'}: ${p.reason}`);
    }
  }
  out.push('Scorecards (gold accuracy, Wilson 95% interval):');
  for (const c of r.scorecards) {
    const ci = c.interval ? `[${pct(c.interval.lower)}, ${pct(c.interval.upper)}]` : '';
    out.push(
      `  ${c.workforceId.padEnd(15)} ${pct(c.accuracy)} ${ci.padEnd(17)} n=${String(c.goldN).padEnd(4)} ` +
        `batches ${c.batchesAccepted} accepted / ${c.batchesRejected} rejected · ` +
        `cost/accepted case ${c.costPerAcceptedCase === null ? 'n/a' : `$${c.costPerAcceptedCase.toFixed(2)}`}` +
        `${c.insufficient ? '  (insufficient gold: no verdict)' : ''}`,
    );
  }
  for (const s of r.statusChanges) out.push(`Status: ${s.workforceId} → ${s.to} (${s.reason})`);
  const shares = Object.keys({ ...r.sharesBefore, ...r.sharesAfter })
    .sort()
    .map((v) => `${v} ${pct(r.sharesBefore[v] ?? 0)} → ${pct(r.sharesAfter[v] ?? 0)}`)
    .join(' · ');
  out.push(`Vendor shares for round ${r.round + 1}: ${shares}`);
  return out.join('\n');
}
