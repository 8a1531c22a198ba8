/**
 * Crash points: the demo (`tsx infra/local/demo.ts --data-dir D`) is killed with
 * SIGKILL at chosen points in every step — setup, dispatch (PlanRound's chunk
 * objects and commit point, DispatchChunk), manifest, ingest, score (a held
 * batch's batch.inconclusive too), finalize, the carried decision that settles a
 * held batch, adjudication (the agreement check opening one, the expert's decision
 * and its application), rebalance — then run again on the same directory to completion, and the store
 * must hold together: every case labelled exactly once or back in the queue, or
 * still assigned to a batch the ledger holds (batch.inconclusive, not carried),
 * every batch the round lists recorded and settled, no double-counted scorecard
 * entry, scorecards and shares equal to the ledger's projections, every accepted
 * upload with its ledger event and its report, no upload left unprocessed.
 * The kill comes from the embedded stack itself (infra/local/crash-points.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ListObjectsCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { isLedgerEvent, projectShares } from '../../functions/domain/index.js';
import { reportObject } from '../../functions/use-cases/batch-key.js';
import { verifyLedger } from '../../functions/use-cases/ledger-verify.js';
import { PROGRAM_ID } from '../../infra/local/demo/example-program.js';
import { ROOT, startLocalStack } from '../../infra/local/stack.js';
import { projectionDifferences } from '../support/projections.js';

/** How the demo is run: cases, rounds and further arguments. */
interface DemoRun {
  cases: number;
  rounds: number;
  args: readonly string[];
}

// One round of 40 cases keeps the file fast; the round's rebalancing still runs (next shares).
// Its vendor batches are held (inconclusive: a few gold items cannot decide the SPRT).
const SMALL: DemoRun = { cases: 40, rounds: 1, args: ['--seed', '7'] };
// Two rounds of 240 cases (seed 7): vendor-b's round-2 batch is rejected on the SPRT and its
// decision settles its held round-1 batch as carried (demo-cxr-r1-vendor-b-1:carried).
const CARRIED: DemoRun = { cases: 240, rounds: 2, args: ['--seed', '7'] };

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the demo in its own process; a run that hangs is killed and fails the test. */
function runDemo(dataDir: string, env: Record<string, string>, run: DemoRun): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      // `--import tsx`, not the tsx CLI: the CLI runs a child process and hides its signal.
      ['--import', 'tsx', join(ROOT, 'infra/local/demo.ts'), '--data-dir', dataDir, '--cases', String(run.cases), '--rounds', String(run.rounds), ...run.args],
      { cwd: ROOT, env: { ...process.env, GOLDLINE_CRASH_AT: '', GOLDLINE_CRASH_AFTER_WRITES: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const limitMs = 90_000 + run.cases * 250; // 100 s for 40 cases, 150 s for 240, on a busy machine
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`demo did not finish within ${limitMs / 1000} s\n${stdout}\n${stderr}`));
    }, limitMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The invariants a resumed program must satisfy; returns what is wrong (empty: consistent). */
async function checkInvariants(dataDir: string, { cases: CASES, rounds: ROUNDS }: DemoRun): Promise<string[]> {
  const stack = await startLocalStack({ dataDir });
  const { repo, objects, buckets } = stack.deps;
  const wrong: string[] = [];
  try {
    const cases = await repo.listCases(PROGRAM_ID);
    if (cases.length !== CASES) wrong.push(`${cases.length} cases stored, ${CASES} set up`);
    const work = cases.filter((c) => !c.goldPool);
    const ledger = await repo.listLedger(PROGRAM_ID);
    const eventIds = new Set(ledger.map((e) => e.eventId));
    // Issue 11: a batch the acceptance rule held keeps its cases assigned to it until a later decision
    // settles it: held = a batch.inconclusive in the ledger, no carried verdict, and its record still inconclusive.
    const held = new Set<string>();
    for (const e of ledger.filter(isLedgerEvent('batch.inconclusive'))) {
      if (!eventIds.has(`${e.subject}:carried`) && (await repo.getBatch(e.subject))?.status === 'inconclusive') held.add(e.subject);
    }
    // Every case labelled exactly once or back in the queue (no accepted label). Once:
    // one accepted label, or the two copies of one overlap dispatch (two workforces,
    // one round) that agreed; an expert's decision leaves only the adjudicated label.
    const roundOf = (batchId: string) => /-r(\d+)-/.exec(batchId)?.[1];
    for (const c of work) {
      const accepted = (await repo.listCaseLabels(c.caseId)).filter((l) => l.status === 'accepted' && !l.gold);
      const once =
        accepted.length === 1 ||
        (accepted.length === 2 &&
          !accepted.some((l) => l.adjudicationId) &&
          roundOf(accepted[0].batchId) === roundOf(accepted[1].batchId) &&
          accepted[0].workforceId !== accepted[1].workforceId);
      const labels = accepted.map((l) => `${l.batchId}${l.adjudicationId ? ' (adjudicated)' : ''}`).join(', ');
      if (c.state === 'labelled' && !once) wrong.push(`${c.caseId} labelled with ${accepted.length} accepted labels: ${labels}`);
      else if (c.state === 'pending' && accepted.length !== 0) wrong.push(`${c.caseId} pending with accepted labels: ${labels}`);
      else if (c.state === 'assigned' && c.batchId && held.has(c.batchId) && accepted.length === 0) continue; // held: kept for a later decision
      else if (c.state !== 'labelled' && c.state !== 'pending') wrong.push(`${c.caseId} left ${c.state}`);
    }
    if (!work.some((c) => c.state === 'labelled')) wrong.push('no case was labelled: the program ran empty');

    // The ledger's hash chain holds through the kill and the resume (an event appended again is a benign duplicate).
    const chain = await verifyLedger(stack.deps, { programId: PROGRAM_ID });
    wrong.push(...chain.problems.filter((p) => p.kind !== 'duplicate').map((p) => `ledger chain: ${p.message}`));
    const goldScored = new Map<string, number>();
    for (let round = 1; round <= ROUNDS; round++) {
      const r = await repo.getRound(PROGRAM_ID, round);
      if (!r) {
        wrong.push(`round ${round} has no round record`);
        continue;
      }
      if (r.batchIds.length === 0) wrong.push(`round ${round} has no batches`);
      const settled = new Set(r.settledBatchIds);
      for (const batchId of r.batchIds) {
        const b = await repo.getBatch(batchId);
        if (!b) {
          wrong.push(`round ${round} lists ${batchId}, which has no batch record`);
          continue;
        }
        if (!settled.has(batchId)) wrong.push(`${batchId} (${b.status}) is not settled in round ${round}`);
        if (b.status !== 'accepted' && b.status !== 'rejected' && b.status !== 'inconclusive') {
          wrong.push(`${batchId} ended ${b.status}${b.failure ? `: ${b.failure}` : ''}`);
          continue;
        }
        const upload = b.acceptedUploadId ?? '';
        if (!eventIds.has(`${batchId}:submission:${upload}:accepted`)) wrong.push(`${batchId}: no submission.accepted for ${upload}`);
        // A held batch a later decision settled has its verdict as `<id>:carried` (with the batch that decided it).
        const verdict = ledger.find((e) => e.eventId === `${batchId}:${b.status}` || e.eventId === `${batchId}:carried`);
        if (verdict?.type !== `batch.${b.status}`) wrong.push(`${batchId}: no batch.${b.status} event (${verdict?.type ?? 'none'})`);
        if (b.status === 'inconclusive' && !held.has(batchId)) wrong.push(`${batchId}: inconclusive, yet settled as carried`);
        // A held batch is settled for its round, scored and reported, but not finalized: no labels until a later decision.
        if (b.status !== 'inconclusive' && !eventIds.has(`${batchId}:labels`)) wrong.push(`${batchId}: no labels.recorded event (not finalized)`);
        if (b.status === 'inconclusive' && eventIds.has(`${batchId}:labels`)) wrong.push(`${batchId}: held, yet finalized`);
        const report = await objects.getJson<{ status: string }>(buckets.exports, reportObject(b.workforceId, batchId, upload));
        if (report?.status !== 'accepted') wrong.push(`${batchId}: validation report of ${upload} is ${report?.status ?? 'missing'}`);
        const score = await repo.getScore(batchId);
        if (!score) wrong.push(`${batchId} has no score`);
        goldScored.set(b.workforceId, (goldScored.get(b.workforceId) ?? 0) + (score?.goldN ?? 0));
        if ((await repo.listBatchLabels(batchId)).length !== (b.status === 'inconclusive' ? 0 : b.itemCount)) wrong.push(`${batchId}: labels missing`);
      }
    }
    // Scorecards: a projection of the ledger, each gold item scored counted once.
    const stored = await repo.listScorecards(PROGRAM_ID, 'chest-xray');
    // Every projection (batches, cases, shares, scorecards as of their ledger position, workforces) rebuilt from the ledger.
    wrong.push(...(await projectionDifferences(stack.deps, PROGRAM_ID)));
    for (const card of stored) {
      if (card.goldN !== (goldScored.get(card.workforceId) ?? 0)) {
        wrong.push(`${card.workforceId}: scorecard counts ${card.goldN} gold items, batches scored ${goldScored.get(card.workforceId) ?? 0}`);
      }
    }
    // Shares: every round's, and the next round's (the last rebalancing finished), equal to the ledger's projection.
    const projected = projectShares(ledger, 'chest-xray');
    let expected: Record<string, number> = {};
    for (let round = 1; round <= ROUNDS + 1; round++) {
      expected = projected[round] ?? expected; // a round without a change keeps the previous shares
      const shares = await repo.getShares(PROGRAM_ID, 'chest-xray', round);
      if (!shares) wrong.push(`no shares stored for round ${round}`);
      else if (!isDeepStrictEqual(shares, expected)) wrong.push(`round ${round} shares differ from the ledger's`);
    }
    // No upload left behind: every uploaded file has a finished submission and a report.
    const listed = await stack.s3.send(new ListObjectsCommand({ Bucket: buckets.uploads, Prefix: 'uploads/' }));
    for (const o of listed.Contents ?? []) {
      const [, workforceId, batchId, file] = (o.Key ?? '').split('/');
      const uploadId = file.replace(/\.jsonl$/, '');
      const sub = (await repo.listSubmissions(batchId)).find((s) => s.uploadId === uploadId);
      if (!sub || sub.status === 'received') wrong.push(`upload ${o.Key} was never processed (${sub?.status ?? 'no submission'})`);
      else if (!(await objects.getJson(buckets.exports, reportObject(workforceId, batchId, uploadId)))) wrong.push(`upload ${o.Key} has no report`);
    }
  } finally {
    await stack.stop();
  }
  return wrong;
}

/**
 * Where to kill (GOLDLINE_CRASH_AT, infra/local/crash-points.ts): `<step>:<Operation>:<k>`
 * is the k-th such write request of the step, `<step>:entry` its first start, a
 * bare number the N-th write request of the run. `GOLDLINE_CRASH_TRACE=1 npm start`
 * lists every write with these names, to choose new points.
 */
const POINTS = [
  // and, in the regressions below: setup:BatchWriteItem:1, dispatch:PutItem:1@KEY#demo-cxr-r1-vendor-a-1:dispatched, ingest:UpdateItem:3
  'setup:PutItem:3', // workforces half registered
  'dispatch:PutObject:1', // the plan's chunk object being written: no round.planned, no round record yet
  'dispatch:PutItem:10', // round.planned recorded, the round record (the commit point) not yet: the resume keeps the recorded plan
  'dispatch:PutItem:12', // the round's id and settle-group items written, its round item (the commit point) not: the resume writes them again, identical
  'dispatch:PutObject:2', // past the commit point: the first chunk's batch keys half written
  'manifest:PutObject:2', // manifests half written (opaque per-case image keys: no per-batch image copies any more)
  'await:UpdateItem:2', // the batches' waits half recorded
  'ingest:PutItem:1', // uploads stored, no submission record yet (finding 9)
  // CompleteBatch runs settle, finalize, the agreement check and rebalance in one Lambda (issue 14); each part keeps its
  // step's name here (settle: score), and a resume runs it again from the top.
  'score:UpdateItem:1', // scored, verdict being settled
  'score:UpdateItem:1@BATCH#demo-cxr-r1-vendor-a-1', // held: batch.inconclusive recorded, the batch not yet inconclusive
  'finalize:UpdateItem:2', // labels written, case states half set
  'rebalance:UpdateItem:1@GROUP#', // the first settled batch (a held one: CompleteBatch holds it, then rebalances) being marked settled in its round's settle group
  'rebalance:UpdateItem:4', // the round's settle group complete (3 batches, one group), the round item not yet counting it: the retry completes the round
  'rebalance:BatchWriteItem:1', // round complete, scorecards and next shares being written
  '150', // the 150th write request of the run, wherever it falls (among the first chunk's case states)
];

/**
 * Points in the carried decision (issue 11), with CARRIED: vendor-b's round-2 batch is rejected
 * and settles its held round-1 batch (verdict `<id>:carried`, status, then its finalize inside
 * the deciding batch's CompleteBatch, before the deciding batch's own).
 */
const CARRIED_POINTS = [
  'score:PutItem:1@r1-vendor-b-1:carried', // the carried verdict appended, its key item not yet
  'score:UpdateItem:2@BATCH#demo-cxr-r1-vendor-b-1', // the carried verdict recorded, the held batch not yet moved to rejected
  'finalize:PutItem:1@r1-vendor-b-1:labels+4', // the carried batch's labels written, its cases half re-queued
  'finalize:PutItem:1@r2-vendor-b-1:requeued', // the carried batch finalized, the deciding batch's own cases.requeued appended, its key item not
];

/** Kills the demo at `point`, resumes it on the same directory, and checks the store; returns the resume's output. */
async function killAndResume(point: string, run: DemoRun = SMALL): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'goldline-crash-'));
  try {
    const env: Record<string, string> = /^\d+$/.test(point) ? { GOLDLINE_CRASH_AFTER_WRITES: point } : { GOLDLINE_CRASH_AT: point };
    const killed = await runDemo(dataDir, env, run);
    const hit = /GOLDLINE_CRASH (.*)/.exec(killed.stderr)?.[1];
    console.log(`kill at ${point}: ${hit ?? 'point never reached'}`);
    expect(hit, `the demo was not killed at ${point}:\n${killed.stdout}\n${killed.stderr}`).toBeDefined();
    expect(killed.signal).toBe('SIGKILL');

    const resumed = await runDemo(dataDir, {}, run);
    expect(resumed.code, `resume failed:\n${resumed.stdout}\n${resumed.stderr}`).toBe(0);
    expect(resumed.stdout).toContain(`━━ Round ${run.rounds} ━━`);
    expect(await checkInvariants(dataDir, run)).toEqual([]);
    return resumed.stdout;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Points in adjudication: the demo run with overlap (`--overlap 0.5`), so vendors disagree and the expert decides.
 * Under the default SPRT an overlap pair is compared only once both sides are decided, which a small run never
 * reaches (batches held); `--acceptance single-plan` decides every batch within its round (80 cases, seed 7: one adjudication).
 */
const ADJUDICATION: DemoRun = { cases: 80, rounds: 1, args: ['--seed', '7', '--overlap', '0.5', '--acceptance', 'single-plan'] };
const ADJUDICATION_POINTS = [
  'adjudication:PutItem:3', // CompleteBatch's agreement check: cases half claimed, the adjudication not opened
  'adjudication:PutItem:1@:requested', // the adjudication opened, its adjudication.requested appended, its key item not
  'api:UpdateItem:1', // the expert's decision being stored (through the HTTP API)
  'adjudication:BatchWriteItem:2', // adjudicated labels written, the labels decided between not yet superseded
];

describe('Crash points: the demo killed in every step resumes to a consistent store', () => {
  it.each(POINTS)('resumes to a consistent store after a kill at %s', async (point) => {
    await killAndResume(point);
  }, 180_000);

  it.each(CARRIED_POINTS)('resumes to a consistent store after a kill at %s (a held batch settled as carried)', async (point) => {
    const out = await killAndResume(point, CARRIED);
    expect(out).toMatch(/demo-cxr-r2-vendor-b-1 .*\n.*→ rejected, settling held demo-cxr-r1-vendor-b-1/);
  }, 360_000);

  it.each(ADJUDICATION_POINTS)('resumes to a consistent store after a kill at %s (with overlap)', async (point) => {
    const out = await killAndResume(point, ADJUDICATION);
    expect(out).toMatch(/^Adjudicated: /m);
  }, 180_000);
});

describe('Resume after a crash: regressions', () => {
  // Issue 7 finding 7: killed after the images were stored and before the cases were ingested, the resume printed "Resuming…", routed 0 cases in both rounds and exited 0.
  it('completes a setup killed after the images were stored, before the cases were ingested', async () => {
    const out = await killAndResume('setup:BatchWriteItem:1');
    expect(out).toMatch(/Resume: the program's setup had not finished \(.*cases 0\/40.*\): completing it\./);
    for (const routing of out.match(/^Routing: .*$/gm) ?? []) expect(routing).toMatch(/vendor-a [1-9]/);
  }, 180_000);

  // Issue 7 finding 8: killed during round-1 dispatch, the round record listed its batches but only one batch record existed; the resume re-drove only that one and the vendor batches' cases slid into round 2.
  it('rebuilds the batch records its round record lists when dispatch is killed between them', async () => {
    // vendor-a-1's ledger key item: its event is stored, the key item and batch record not (named by key: a count shifted when the round gained its settle-group items).
    const out = await killAndResume('dispatch:PutItem:1@KEY#demo-cxr-r1-vendor-a-1:dispatched');
    expect(out).toMatch(/Resume: round 1 lists 3 batches, 2 without a batch record: rebuilt .*vendor-a-1.*vendor-b-1/);
    // The rebuilt batch runs to its decision (issue 11: held when its few gold items cannot decide yet).
    expect(out).toMatch(/demo-cxr-r1-vendor-a-1 .*(accepted|rejected|inconclusive)/);
  }, 180_000);

  // Issue 7 finding 9: killed at the first ingest, accepted batches had no submission.accepted event and no validation report after the resume: the embedded stack never redelivered S3 events after a restart.
  it('delivers again the uploads whose ingest was killed, so every accepted upload has its event and report', async () => {
    const out = await killAndResume('ingest:UpdateItem:3');
    expect(out).toMatch(/Resume: \d+ upload\(s\) whose ingest had not finished, delivered again: uploads\//);
  }, 180_000);
});
