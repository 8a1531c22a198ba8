/**
 * The demo loop on the embedded stack: set up the program, then per round
 * dispatch → workforces label and upload → lifecycles finish → report.
 * Used by `npm start` and by the integration test.
 */
import { z } from 'zod';
import { type BatchDecisionRecord, isLedgerEvent, protocolRef, type Scorecard, type Shares, seededRandomSource, stableHash } from '../../../functions/domain/index.js';
import { NotFoundError } from '../../../functions/use-cases/errors.js';
import type { DispatchRoundResult } from '../../../functions/use-cases/dispatch-round.js';
import { dispatchRoundViaWorkflow } from '../../../functions/use-cases/round-workflow.js';
import type { BatchRecord } from '../../../functions/use-cases/ports.js';
import { goldSetObject } from '../../../functions/use-cases/batch-key.js';
import { adjudicationIdFor, decideAdjudication } from '../../../functions/use-cases/adjudication.js';
import { ingestCases, registerProtocolVersion, registerWorkforce } from '../../../functions/use-cases/setup-program.js';
import { redeliverPendingUploads, redriveRound } from '../resume.js';
import type { LocalStack } from '../stack.js';
import {
  type DemoAcceptance,
  PROGRAM_ID,
  chestXrayProtocol,
  simulatedAccuracy,
  syntheticCaseChunks,
  workforces,
} from './example-program.js';
import { DEMO_USERS } from '../issuer.js';
import { type ApiServer, startApiServer } from '../api-server.js';
import { exportDemoDossier } from './dossier-step.js';
import { releaseDemoLabels } from './release-step.js';
import { issueDemoStatements } from './statement-step.js';
import { type ExpertDesk, type WorkPortal, apiExpertDesk, apiPortal, inProcessPortal, labelBatch, readImageAt } from './simulated-workforce.js';

export interface DemoOptions {
  rounds: number;
  cases: number;
  goldFraction: number;
  seed: number;
  /** Share of vendor cases also sent to a second workforce (default 0); disagreements go to the expert. */
  overlapRate?: number;
  /** The protocol's acceptance rule (default `sprt`; `single-plan` decides every batch within its round). */
  acceptance?: DemoAcceptance;
  /**
   * The Goldline API the simulated vendors and the expert act through, each with
   * its own token (a server over the stack is started for the run when absent).
   */
  api?: ApiServer;
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
  /** The acceptance decision: rule, (pooled) evidence, the held batches it settled. */
  decision?: BatchDecisionRecord;
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
  /** Inspection switches (switching rules) recorded at the end of the round, with rule and reason. */
  statusChanges: { workforceId: string; from: string; to: string; rule: string; reason: string }[];
  /** The round's adjudications the internal expert decided. */
  adjudicated: { adjudicationId: string; cases: number; decidedBy: string }[];
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

/** Cases generated, stored and ingested this many at a time: setup holds one chunk's cases and images, whatever the program's size. */
export const SETUP_CHUNK_CASES = 2_000;

export async function setUpDemoProgram(
  stack: LocalStack,
  opts: Pick<DemoOptions, 'cases' | 'goldFraction' | 'seed' | 'overlapRate' | 'acceptance'>,
) {
  const { deps } = stack;
  const random = seededRandomSource(opts.seed);
  const protocol = await registerProtocolVersion(
    deps,
    chestXrayProtocol(new Date(Date.UTC(2026, 10, 1)).toISOString(), { overlapRate: opts.overlapRate, acceptance: opts.acceptance }),
  );
  for (const w of workforces) await registerWorkforce(deps, PROGRAM_ID, w);
  const totals = { cases: 0, gold: 0 };
  for (const data of syntheticCaseChunks(opts.cases, opts.goldFraction, random, SETUP_CHUNK_CASES)) {
    totals.cases += data.cases.length;
    totals.gold += data.gold.length;
    // A chunk stored whole before (a resumed setup) is skipped: its cases are stored only after their images and gold.
    const ids = data.cases.map((c) => c.caseId);
    if ((await deps.repo.existingCaseIds(PROGRAM_ID, ids)).size === ids.length) continue;
    await mapLimit(data.images, 16, (img) => deps.objects.putBytes(deps.buckets.images, img.key, img.bytes, 'image/x-portable-graymap'));
    await ingestCases(deps, {
      programId: PROGRAM_ID,
      protocolId: protocol.protocolId,
      protocolVersion: protocol.version, // the gate judges with this version's `deidentification` settings
      cases: data.cases,
      gold: data.gold,
    });
  }
  return { protocol, ...totals };
}

/** How the simulated workforces reach their work: through the API with their own tokens, or (benchmarks) in process. */
export interface DemoAccess {
  portalFor(workforceId: string): WorkPortal;
  expert: ExpertDesk;
}

/** Access through the API: each workforce uses the token of the demo user of its workforce id; the expert its own. */
export async function apiAccess(api: ApiServer): Promise<DemoAccess> {
  // Long demos (many rounds, --serve) outlive the default hour.
  const token = (user: string) => api.issuer.issueToken(user, { expiresIn: 12 * 3600 });
  const tokens = new Map<string, string>();
  for (const [name, u] of Object.entries(DEMO_USERS)) if ('workforceId' in u) tokens.set(u.workforceId, await token(name));
  return {
    portalFor(workforceId) {
      const t = tokens.get(workforceId);
      if (!t) throw new Error(`no demo user works for ${workforceId}`);
      return apiPortal(api.url, t);
    },
    expert: apiExpertDesk(api.url, await token('expert')),
  };
}

/** The same use cases called in process (benchmarks measure the workflow, not HTTP). */
function inProcessAccess(stack: LocalStack): DemoAccess {
  const { deps } = stack;
  return {
    portalFor: (workforceId) => inProcessPortal(deps, workforceId),
    expert: {
      // Polled every 50 ms over the round: it reads only the cases the open adjudications need (reading the program's case list here made the round's CPU grow with its size squared).
      async open(programId) {
        return Promise.all(
          (await deps.repo.listOpenAdjudications(programId)).map(async (a) => ({
            adjudicationId: a.adjudicationId,
            cases: await Promise.all(
              a.needs.map(async (n) => {
                const imageKey = (await deps.repo.getCase(programId, n.caseId))?.imageKey ?? '';
                return { caseId: n.caseId, imageUrl: await deps.objects.presignGet(deps.buckets.images, imageKey, 600) };
              }),
            ),
          })),
        );
      },
      async decide(adjudicationId, decisions) {
        await decideAdjudication(deps, { adjudicationId, workforceId: 'radiology-team', expertId: 'dr-lead', decisions });
      },
    },
  };
}

/**
 * The internal expert (radiology-team, which holds the adjudicator
 * qualification): until `done` settles, decides every open adjudication by
 * reading the cases' images.
 */
async function adjudicateWhileRunning(stack: LocalStack, done: Promise<unknown>, desk: ExpertDesk): Promise<void> {
  let finished = false;
  done.then(
    () => (finished = true),
    () => (finished = true),
  );
  while (!finished) {
    for (const a of await desk.open(PROGRAM_ID)) {
      const decisions: { caseId: string; label: string; note: string }[] = [];
      for (const n of a.cases) {
        if (n.imageUrl) decisions.push({ caseId: n.caseId, label: await readImageAt(n.imageUrl), note: 'read by the internal expert' });
      }
      if (decisions.length === 0) continue;
      await stack.step('adjudication', () => desk.decide(a.adjudicationId, decisions));
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs one round end to end and reports it. */
export async function runRound(
  stack: LocalStack,
  round: number,
  opts: { limit: number; seed: number; malformedFirstUpload?: (b: BatchRecord) => boolean; log?: (line: string) => void; access?: DemoAccess },
): Promise<RoundReport> {
  const { deps } = stack;
  const access = opts.access ?? inProcessAccess(stack);
  const protocol = chestXrayProtocol('');
  const existing = await deps.repo.getRound(PROGRAM_ID, round);
  // A round dispatched before a stop is dispatched again: from its round record
  // (the commit point) this reconciles the store and plans nothing new.
  const dispatch = await stack
    .step('dispatch', () =>
      // Through the round-dispatch state machine (PlanRound, a Map over chunks), as the API's dispatch route.
      dispatchRoundViaWorkflow(deps, {
        programId: PROGRAM_ID,
        protocolId: protocol.protocolId,
        version: protocol.version,
        round,
        limit: opts.limit,
        actor: 'pm:demo',
      }),
    )
    .catch((e: Error) => {
      // A round record whose batches cannot be rebuilt (an answer key gone): say so, stop.
      if (existing && e instanceof NotFoundError) throw new DemoResumeError(`round ${round} cannot be reconciled: ${e.message}`);
      throw e;
    });
  if (existing) {
    if (dispatch.rebuiltBatchRecords.length > 0) {
      opts.log?.(
        `Resume: round ${round} lists ${dispatch.batches.length} batches, ${dispatch.rebuiltBatchRecords.length} without a batch record: ` +
          `rebuilt ${dispatch.rebuiltBatchRecords.join(', ')} from their answer keys.`,
      );
    }
    const restarted = await redriveRound(stack, (await deps.repo.getRound(PROGRAM_ID, round))!);
    if (restarted.length > 0) {
      opts.log?.(`Resume: round ${round}: restarted ${restarted.length} batch execution(s) lost with the process: ${restarted.join(', ')}.`);
    }
  }
  const batches = await deps.repo.listRoundBatches(PROGRAM_ID, round);
  // Scale with the round: every batch prepares its manifest before it waits.
  // Each poll reads only the batches still planned (a batch never returns to planned).
  const planned = new Set(batches.map((b) => b.batchId));
  await waitFor(
    'batches to await submissions',
    async () => {
      const states = await Promise.all([...planned].map((id) => deps.repo.getBatch(id)));
      for (const b of states) if (b && b.status !== 'planned') planned.delete(b.batchId);
      return planned.size === 0;
    },
    60_000 + batches.length * 2_000,
    batches.length > 20 ? 250 : 20,
  );
  const labelled = mapLimit(batches, 4, async (b) => {
    const fresh = await deps.repo.getBatch(b.batchId);
    if (fresh?.status !== 'awaiting-submission') return;
    await stack.step('vendor', () =>
      labelBatch(
        access.portalFor(b.workforceId),
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
      ),
    );
  });
  // Executions wait on the expert for overlap disagreements: decide while they run.
  const settled = labelled.then(() => stack.idle());
  await adjudicateWhileRunning(stack, settled, access.expert);
  await settled;

  const outcomes: BatchOutcome[] = [];
  const adjudicated: RoundReport['adjudicated'] = [];
  for (const b of await deps.repo.listRoundBatches(PROGRAM_ID, round)) {
    const a = await deps.repo.getAdjudication(adjudicationIdFor(b.batchId));
    if (a?.status === 'decided') adjudicated.push({ adjudicationId: a.adjudicationId, cases: a.needs.length, decidedBy: a.decidedBy ?? '' });
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
      ...(score?.decision && b.workforceKind === 'vendor' ? { decision: score.decision } : {}),
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
    adjudicated,
    statusChanges: (await deps.repo.listLedger(PROGRAM_ID))
      .filter(isLedgerEvent('workforce.inspection-switched'))
      .filter((e) => e.data.round === round)
      .map((e) => ({ workforceId: e.subject, from: e.data.from, to: e.data.to, rule: e.data.rule, reason: e.reason })),
  };
}

/** A data directory the demo cannot resume from; the message says why and what to do. */
export class DemoResumeError extends Error {
  override readonly name = 'DemoResumeError';
}

/** The options the program in a data directory was set up with (kept beside it). */
const SetupOptions = z.object({
  cases: z.number().int(),
  goldFraction: z.number(),
  seed: z.number().int(),
  overlapRate: z.number().default(0),
  acceptance: z.enum(['sprt', 'single-plan']).default('sprt'),
});
const setupOptionsObject = `demo/${PROGRAM_ID}/setup-options.json`;

/**
 * What the store holds of the demo program's setup, against what setup writes,
 * compared a setup chunk at a time (by id, never the program's case list).
 * `stored`: also count the program's cases that setup does not write (a data
 * directory set up with other options) — that reads the case list, so only before setup.
 */
async function setupProgress(stack: LocalStack, opts: Pick<DemoOptions, 'cases' | 'goldFraction' | 'seed'>, check: { stored: boolean }) {
  const { deps } = stack;
  const protocol = (await deps.repo.getProtocolVersion('chest-xray', 1)) !== undefined;
  const stored = new Set((await deps.repo.listWorkforces(PROGRAM_ID)).map((w) => w.workforceId));
  const storedCases = check.stored ? (await deps.repo.listCases(PROGRAM_ID)).length : undefined;
  const goldSet = (await deps.objects.getJson<Record<string, unknown>>(deps.buckets.gold, goldSetObject(PROGRAM_ID, 'chest-xray'))) ?? {};
  const expected = { cases: 0, gold: 0 };
  const held = { protocol, workforces: workforces.filter((w) => stored.has(w.workforceId)).length, cases: 0, gold: 0 };
  for (const part of syntheticCaseChunks(opts.cases, opts.goldFraction, seededRandomSource(opts.seed), SETUP_CHUNK_CASES)) {
    expected.cases += part.cases.length;
    expected.gold += part.gold.length;
    held.cases += (await deps.repo.existingCaseIds(PROGRAM_ID, part.cases.map((c) => c.caseId))).size;
    held.gold += part.gold.filter((g) => goldSet[g.caseId] !== undefined).length;
  }
  const complete = protocol && held.workforces === workforces.length && held.cases === expected.cases && held.gold === expected.gold;
  const summary =
    `protocol ${protocol ? 'registered' : 'missing'}, workforces ${held.workforces}/${workforces.length}, ` +
    `cases ${held.cases}/${expected.cases}, gold labels ${held.gold}/${expected.gold}`;
  return {
    complete,
    empty: !protocol && stored.size === 0 && held.cases === 0 && !storedCases,
    extraCases: (storedCases ?? held.cases) - held.cases,
    workCases: expected.cases - expected.gold,
    summary,
  };
}

/**
 * Sets the program up, or — on a data directory that holds one — resumes it:
 * a setup that did not finish is completed (decided by what the store holds,
 * each setup step being idempotent), uploads whose ingest never finished are
 * delivered again, and each round is reconciled with its round record and its
 * lost executions restarted. A directory it cannot resume from stops it with a
 * DemoResumeError, never with an empty run.
 */
export async function runDemo(stack: LocalStack, opts: DemoOptions): Promise<RoundReport[]> {
  const api = opts.api ?? (await startApiServer({ deps: stack.deps }));
  try {
    const reports = await runDemoThrough(stack, opts, await apiAccess(api));
    // The dataset: the QA lead releases the protocol's accepted labels and verifies the release.
    const { protocolId, version } = chestXrayProtocol(new Date(0).toISOString());
    const released = await releaseDemoLabels(api, { programId: PROGRAM_ID, protocolId, version }, opts.log);
    // And its regulatory dossier (JSON and printable HTML in the exports bucket), as the QA lead exports it.
    if (released) await exportDemoDossier(api, { programId: PROGRAM_ID, releaseId: released.release.releaseId }, opts.log);
    // Each vendor's statement for the run, issued by the PM and recomputed from the ledger.
    await issueDemoStatements(api, stack.deps, PROGRAM_ID, opts.log);
    return reports;
  } finally {
    if (!opts.api) await api.close();
  }
}

async function runDemoThrough(stack: LocalStack, opts: DemoOptions, access: DemoAccess): Promise<RoundReport[]> {
  const { deps } = stack;
  const kept = await deps.objects.getJson<unknown>(deps.buckets.exports, setupOptionsObject);
  const progress = await setupProgress(stack, opts, { stored: true });
  const resuming = kept !== undefined || !progress.empty;
  if (resuming) opts.log?.('Resuming the program kept in the data directory.');
  if (kept !== undefined) {
    const k = SetupOptions.parse(kept);
    if (
      k.cases !== opts.cases ||
      k.seed !== opts.seed ||
      k.goldFraction !== opts.goldFraction ||
      k.overlapRate !== (opts.overlapRate ?? 0) ||
      k.acceptance !== (opts.acceptance ?? 'sprt')
    ) {
      throw new DemoResumeError(
        `the data directory holds the program set up with --cases ${k.cases} --seed ${k.seed} --overlap ${k.overlapRate} --acceptance ${k.acceptance}; ` +
          'run again with those options, or use another --data-dir',
      );
    }
  }
  if (progress.extraCases > 0) {
    throw new DemoResumeError(
      `the data directory holds ${progress.extraCases} case(s) that --cases ${opts.cases} --seed ${opts.seed} does not set up: ` +
        'run again with the options it was set up with, or use another --data-dir',
    );
  }
  if (!progress.complete) {
    if (resuming) opts.log?.(`Resume: the program's setup had not finished (${progress.summary}): completing it.`);
    await stack.step('setup', async () => {
      const { cases, goldFraction, seed, overlapRate = 0, acceptance = 'sprt' } = opts;
      if (kept === undefined) {
        await deps.objects.putJson(deps.buckets.exports, setupOptionsObject, { cases, goldFraction, seed, overlapRate, acceptance });
      }
      await setUpDemoProgram(stack, opts);
    });
    const after = await setupProgress(stack, opts, { stored: false });
    if (!after.complete) throw new DemoResumeError(`the program's setup did not complete (${after.summary})`);
  }
  // Setup is complete here (or refused above): the program holds exactly the cases setup writes.
  const work = progress.workCases;
  if (work === 0) throw new DemoResumeError('the program holds no cases to label: nothing to run');
  if (resuming) {
    // S3 events die with the process: find uploads whose ingest never finished.
    const redelivered = await redeliverPendingUploads(stack);
    if (redelivered.length > 0) {
      opts.log?.(`Resume: ${redelivered.length} upload(s) whose ingest had not finished, delivered again: ${redelivered.join(', ')}.`);
    }
  }
  const perRound = Math.ceil(work / opts.rounds);
  const reports: RoundReport[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    let firstB = true;
    const report = await runRound(stack, round, {
      limit: perRound,
      seed: opts.seed,
      log: opts.log,
      access,
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

const signed = (x: number): string => (x < 0 ? `−${(-x).toFixed(2)}` : x.toFixed(2));

/**
 * A batch's decision as the report prints it: the rule, the (pooled) evidence,
 * the outcome and what it settled.
 *
 * @example decisionLine(d) // 'sprt: 0 wrong of 6 gold over 1 batch, LLR −1.03 (accept ≤ −2.25, reject ≥ 2.89) → inconclusive: held, not paid or penalised yet'
 */
export function decisionLine(d: BatchDecisionRecord): string {
  const e = d.evidence;
  const llr = e.llr !== null && e.bounds ? `, LLR ${signed(e.llr)} (accept ≤ ${signed(e.bounds.accept)}, reject ≥ ${signed(e.bounds.reject)})` : '';
  const c = e.llr === null && e.c !== null ? `, c=${e.c}` : '';
  const outcome =
    d.decision === 'inconclusive'
      ? 'inconclusive: held, not paid or penalised yet'
      : `${d.decision === 'accept' ? 'accepted' : 'rejected'}${d.carried.length ? `, settling held ${d.carried.join(', ')}` : ''}`;
  return `${d.rule}: ${e.wrong} wrong of ${e.n} gold over ${e.batches} batch${e.batches === 1 ? '' : 'es'}${llr}${c} → ${outcome}`;
}

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
        `${b.status.padEnd(12)} gold acc ${pct(b.accuracy)} ${ci}`,
    );
    if (b.decision) out.push(`      ${decisionLine(b.decision)}`);
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
  for (const a of r.adjudicated) out.push(`Adjudicated: ${a.adjudicationId} (${a.cases} overlap disagreement(s), decided by ${a.decidedBy})`);
  for (const s of r.statusChanges) out.push(`Inspection: ${s.workforceId} ${s.from} → ${s.to} by ${s.rule} (${s.reason})`);
  // Shares are printed only where rebalancing stored them: a round with nothing
  // to settle (an extra round after every case is labelled) computes none.
  if (Object.keys(r.sharesAfter).length === 0) {
    out.push(`Vendor shares for round ${r.round + 1}: not computed (no batch of round ${r.round} settled into a rebalancing)`);
  } else {
    const shares = Object.keys({ ...r.sharesBefore, ...r.sharesAfter })
      .sort()
      .map((v) => `${v} ${pct(r.sharesBefore[v] ?? 0)} → ${pct(r.sharesAfter[v] ?? 0)}`)
      .join(' · ');
    out.push(`Vendor shares for round ${r.round + 1}: ${shares}`);
  }
  return out.join('\n');
}
