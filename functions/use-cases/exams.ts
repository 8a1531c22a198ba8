/**
 * Qualification exams (issue 13, docs/vendor-management.md "Exams").
 *
 * Start an exam — primary course:
 * 1. Load the protocol version, the workforce and its qualification (the fold of
 *    the ledger). An open exam is resumed (a retry completes it); a qualified
 *    workforce is refused.
 * 2. Draw the exam's gold (routing and qualifications as hidden gold, the reuse
 *    cap, never an item of an earlier attempt; unseen gold first) and alias and
 *    shuffle it like any batch.
 * 3. Store the batch key (same three objects as a production batch); append
 *    `exam.dispatched` (the commit point), then `batch.dispatched` (no cases:
 *    every item is gold), the batch record (`kind: 'exam'`), the workforce's gold
 *    history, and start the lifecycle execution (idempotent by name).
 *
 * The exam runs the production lifecycle (manifest, presigned upload, validation,
 * scoring; an exam batch's verdict is never a rejection — ScoreSubmission scores
 * it like an internal batch — and it is not paid as production work). Its
 * Rebalance step decides the exam instead (`decideExamAfterBatch`): pooled
 * evidence, the protocol's exam rule, `exam.decided`.
 */
import { z } from 'zod';
import {
  type GoldAnswer,
  Identifier,
  type LedgerEvent,
  type ProtocolVersion,
  type QualificationView,
  type Qualifications,
  type Workforce,
  decideExam,
  examGoldPool,
  examItems,
  examRuleOf,
  productionEligibility,
  projectQualifications,
  protocolRef,
  qualificationOf,
  shareCapsFromLedger,
  type PlanControls,
} from '../domain/index.js';
import { ProtocolRef } from './assignments.js';
import { batchKeyOf, goldSetObject, loadBatchKey, storeBatchKey } from './batch-key.js';
import { batchExecutionInput } from './dispatch-round.js';
import { ConflictError, InvalidInputError, NotFoundError } from './errors.js';
import { record } from './ledger.js';
import { goldPoolCases } from './pending-cases.js';
import type { BatchRecord, Deps } from './ports.js';
import { findProtocol } from './protocol-ref.js';
import { parse } from './work-queries.js';

export const StartExamInput = z.strictObject({
  programId: Identifier,
  workforceId: Identifier,
  protocol: ProtocolRef,
  /** `<role>:<name>` from the caller's token. */
  actor: z.string().min(1).max(200),
});

export const ExamStatusInput = z.strictObject({
  programId: Identifier,
  protocol: ProtocolRef,
  workforceId: Identifier.optional(),
});

export const WaiveInput = z.strictObject({
  programId: Identifier,
  workforceId: Identifier,
  protocol: ProtocolRef,
  reason: z.string().trim().min(1).max(2000),
  actor: z.string().min(1).max(200),
});

export interface ExamStarted {
  batchId: string;
  workforceId: string;
  protocol: string;
  attempt: number;
  items: number;
  /** Items the exam rule asked for (more than `items` when the eligible gold pool was short). */
  planned: number;
  rule: string;
  /** False when this call resumed an exam a previous call had started. */
  started: boolean;
  note?: string;
}

/** One workforce's qualification on a protocol version, as the API answers it. */
export interface QualificationRow {
  workforceId: string;
  kind: 'internal' | 'vendor';
  protocol: string;
  required: boolean;
  qualified: boolean;
  status: QualificationView['status'];
  basis?: QualificationView['basis'];
  carriedFrom?: string;
  reason: string;
  attempts: number;
  openExam?: { batchId: string; attempt: number };
  pooled: { n: number; wrong: number; attempts: number };
}

/** Every earlier version of a protocol (for carrying a qualification across a non-material change). */
async function versionsUpTo(deps: Deps, p: ProtocolVersion): Promise<(v: number) => ProtocolVersion | undefined> {
  const byVersion = new Map<number, ProtocolVersion>([[p.version, p]]);
  for (let v = p.version - 1; v >= 1; v--) {
    const pv = await deps.repo.getProtocolVersion(p.protocolId, v);
    if (!pv) break;
    byVersion.set(v, pv);
  }
  return (v) => byVersion.get(v);
}

/** The qualification of each workforce on a protocol version, from the ledger (read once). */
export async function qualificationsOn(
  deps: Deps,
  p: ProtocolVersion,
  ledger: readonly LedgerEvent[],
): Promise<{ q: Qualifications; view: (w: Pick<Workforce, 'workforceId' | 'kind'>) => QualificationView }> {
  const q = projectQualifications(ledger);
  const versionOf = await versionsUpTo(deps, p);
  return { q, view: (w) => qualificationOf(q, w, p, versionOf) };
}

/**
 * A PM's controls for planning a round on this protocol version: who is not
 * qualified (when the version requires it, or after a revocation) and each
 * vendor's share cap. One
 * ledger read; the planner applies them (planUnderControls).
 *
 * @example await planControls(deps, 'demo-cxr', protocol, workforces) // { ineligible: [...], caps: { 'vendor-b': 0.2 } }
 */
export async function planControls(deps: Deps, programId: string, p: ProtocolVersion, workforces: readonly Workforce[]): Promise<PlanControls> {
  const ledger = await deps.repo.listLedger(programId);
  const caps = shareCapsFromLedger(ledger);
  const { view } = await qualificationsOn(deps, p, ledger);
  return { ineligible: productionEligibility(workforces, p, view).ineligible, caps };
}

async function loadContext(deps: Deps, programId: string, ref: string, workforceId: string) {
  const protocol = await findProtocol(deps, ref);
  if (!protocol) throw new NotFoundError(`protocol ${ref} not found`);
  const workforce = (await deps.repo.listWorkforces(programId)).find((w) => w.workforceId === workforceId);
  if (!workforce) throw new NotFoundError(`workforce ${workforceId} not found in program ${programId}`);
  const ledger = await deps.repo.listLedger(programId);
  const { q, view } = await qualificationsOn(deps, protocol, ledger);
  return { protocol, workforce, ledger, q, current: view(workforce) };
}

const examBatchId = (programId: string, round: number, workforceId: string, attempt: number): string =>
  `${programId}-r${round}-${workforceId}-q${attempt}`;

/**
 * Starts (or resumes) a workforce's exam on a protocol version.
 *
 * @example await startExam(deps, { programId: 'demo-cxr', workforceId: 'vendor-c', protocol: 'chest-xray@1', actor: 'pm:alice' })
 */
export async function startExam(deps: Deps, input: z.input<typeof StartExamInput>): Promise<ExamStarted> {
  const req = parse(StartExamInput, input);
  const { protocol, workforce: w, q, current } = await loadContext(deps, req.programId, req.protocol, req.workforceId);
  const ref = protocolRef(protocol);
  const rule = examRuleOf(protocol);
  const own = q[w.workforceId]?.[ref];
  if (own?.openExam) return resumeExam(deps, req.programId, protocol, w, own.openExam.batchId);
  if (current.qualified) throw new ConflictError(`${w.workforceId} is qualified on ${ref} already (${current.reason})`);
  if (w.paused) throw new ConflictError(`${w.workforceId} is paused: resume it before an exam`);

  const attempt = (own?.attempts ?? 0) + 1;
  const rounds = await deps.repo.listRounds(req.programId);
  const round = Math.max(0, ...rounds.map((r) => r.round)) + 1;
  const batchId = examBatchId(req.programId, round, w.workforceId, attempt);
  const answers =
    (await deps.objects.getJson<Record<string, { label: GoldAnswer }>>(deps.buckets.gold, goldSetObject(req.programId, protocol.protocolId))) ?? {};
  // The gold pool from the pending-case index (gold is never assigned), not the program's whole case list.
  const cases = await goldPoolCases(deps, req.programId);
  const pool = examGoldPool({
    cases,
    answered: new Set(Object.keys(answers)),
    protocol,
    workforce: w,
    examSeen: new Set(own?.examCases ?? []),
    random: deps.random,
  });
  const chosen = pool.slice(0, rule.items);
  if (chosen.length === 0) {
    throw new InvalidInputError(
      `no gold case is left for an exam of ${w.workforceId} on ${ref}: every eligible gold case was in an earlier attempt or within the reuse cap; add gold cases or waive with a reason`,
    );
  }
  const byId = new Map(cases.map((c) => [c.caseId, c]));
  const items = examItems(chosen, deps.random);
  const now = deps.clock.now().toISOString();
  const note =
    chosen.length < rule.items
      ? `gold pool short: ${chosen.length} of ${rule.items} exam items; the rule decides on what there is (an inconclusive exam is retaken with more)`
      : undefined;
  const key = batchKeyOf({
    batchId,
    round,
    protocol: ref,
    workforce: w,
    createdAt: now,
    items,
    caseOf: (id) => byId.get(id)!,
    answers: Object.fromEntries(chosen.map((id) => [id, answers[id].label])),
    note,
  });
  // The key first (overwritable until the event), then the event: the commit point.
  await storeBatchKey(deps, key, { imageGrids: protocol.task.type !== 'classification' });
  await record(deps, {
    eventId: `${batchId}:exam-dispatched`,
    programId: req.programId,
    type: 'exam.dispatched',
    actor: req.actor,
    protocol: ref,
    subject: w.workforceId,
    reason: `exam attempt ${attempt} of ${w.workforceId} on ${ref}: ${chosen.length} gold item(s), decided by ${rule.rule.kind}${note ? `; ${note}` : ''}`,
    data: { workforceId: w.workforceId, batchId, attempt, items: chosen.length, planned: rule.items, caseIds: [...chosen].sort() },
  });
  return resumeExam(deps, req.programId, protocol, w, batchId, true);
}

/** Everything after the commit point, from the stored key: a retry repeats it safely. */
async function resumeExam(deps: Deps, programId: string, protocol: ProtocolVersion, w: Workforce, batchId: string, started = false): Promise<ExamStarted> {
  const key = await loadBatchKey(deps, batchId);
  const ref = protocolRef(protocol);
  const dispatched = await deps.repo.getLedgerEvent(programId, `${batchId}:exam-dispatched`);
  if (dispatched?.type !== 'exam.dispatched') throw new NotFoundError(`exam ${batchId} was never dispatched`);
  const { attempt, planned } = dispatched.data;
  const gold = key.items.map((i) => i.caseId);
  await record(deps, {
    eventId: `${batchId}:dispatched`,
    programId,
    type: 'batch.dispatched',
    actor: dispatched.actor,
    protocol: ref,
    subject: batchId,
    reason: `${key.items.length} items to ${w.workforceId}`,
    data: { workforceId: w.workforceId, items: key.items.length, gold: key.items.length, caseIds: [] },
  });
  const batch: BatchRecord = {
    batchId,
    programId,
    round: key.round,
    protocol: ref,
    workforceId: w.workforceId,
    workforceKind: w.kind,
    kind: 'exam',
    itemCount: key.items.length,
    goldCount: key.items.length,
    slaHours: key.slaHours,
    status: 'planned',
    createdAt: key.createdAt,
  };
  const created = (await deps.repo.createBatch(batch)) === 'created';
  const status = created ? 'planned' : (await deps.repo.getBatch(batchId))?.status;
  // The exam's gold joins the workforce's history: the reuse cap and unseen-first hold for production gold after it.
  const recentGold = [...w.recentGold.filter((g) => g.batchId !== batchId), { batchId, caseIds: gold }].slice(-Math.max(protocol.goldReuseCap, 1));
  const goldSeen = [...new Set([...w.goldSeen, ...gold])].sort();
  await deps.repo.updateWorkforceGold(programId, w.workforceId, { recentGold, goldSeen });
  if (status === 'planned') await deps.workflows.startBatch(batchId, batchExecutionInput(batch, protocol));
  return {
    batchId,
    workforceId: w.workforceId,
    protocol: ref,
    attempt,
    items: key.items.length,
    planned,
    rule: examRuleOf(protocol).rule.kind,
    started,
    ...(key.note ? { note: key.note } : {}),
  };
}

/**
 * The Rebalance step of an exam batch: decides the exam once the lifecycle ended
 * (scored, overdue or failed) and records `exam.decided` (deterministic id: a
 * retry appends nothing). Evidence pools the inconclusive attempts before it.
 */
export async function decideExamAfterBatch(deps: Deps, input: { batchId: string }): Promise<{ outcome: string; rule: string }> {
  const batch = await deps.repo.getBatch(input.batchId);
  if (!batch) throw new NotFoundError(`batch ${input.batchId} not found`);
  if (batch.kind !== 'exam') throw new InvalidInputError(`batch ${input.batchId} is not an exam`);
  const done = await deps.repo.getLedgerEvent(batch.programId, `${batch.batchId}:exam-decided`);
  if (done?.type === 'exam.decided') return { outcome: done.data.outcome, rule: done.data.rule };
  const protocol = await findProtocol(deps, batch.protocol);
  if (!protocol) throw new NotFoundError(`protocol ${batch.protocol} not found`);
  const opened = await deps.repo.getLedgerEvent(batch.programId, `${batch.batchId}:exam-dispatched`);
  if (opened?.type !== 'exam.dispatched') throw new NotFoundError(`exam ${batch.batchId} has no exam.dispatched event`);
  const own = projectQualifications(await deps.repo.listLedger(batch.programId))[batch.workforceId]?.[batch.protocol];
  const pooled = own?.pooled ?? { n: 0, wrong: 0, attempts: 0 };
  const score = await deps.repo.getScore(batch.batchId);
  const base = { programId: batch.programId, protocol: batch.protocol, subject: batch.workforceId, eventId: `${batch.batchId}:exam-decided` };
  const data = { workforceId: batch.workforceId, batchId: batch.batchId, attempt: opened.data.attempt };
  if (!score || (batch.status !== 'accepted' && batch.status !== 'rejected')) {
    // No scored submission: overdue is the workforce's failure; a failed lifecycle is nobody's verdict.
    const overdue = batch.status === 'overdue';
    await record(deps, {
      ...base,
      type: 'exam.decided',
      actor: 'exam',
      reason: overdue ? `no valid submission within the SLA of ${batch.slaHours} h: the exam is failed` : `the exam's lifecycle failed (${batch.failure ?? batch.status}): no verdict; start a new attempt`,
      data: { ...data, outcome: overdue ? 'failed' : 'void', rule: overdue ? 'overdue' : 'failed', evidence: { ...pooled, attempts: Math.max(pooled.attempts, 1), c: null, llr: null } },
    });
    return { outcome: overdue ? 'failed' : 'void', rule: overdue ? 'overdue' : 'failed' };
  }
  const blockers = score.items.flatMap((i) => (i.criticalMisses?.length ? [`critical miss on exam item ${i.caseId}`] : []));
  const d = decideExam(protocol, {
    n: pooled.n + score.goldN,
    wrong: pooled.wrong + (score.goldN - score.goldCorrect),
    attempts: pooled.attempts + 1,
    ...(blockers.length ? { blockers } : {}),
  });
  await record(deps, { ...base, type: 'exam.decided', actor: 'exam', reason: d.reason, data: { ...data, outcome: d.outcome, rule: d.rule, evidence: d.evidence } });
  return { outcome: d.outcome, rule: d.rule };
}

/**
 * The workforces' qualification on a protocol version (one, or all of the program's).
 *
 * @example await examStatus(deps, { programId: 'demo-cxr', protocol: 'chest-xray@2' })
 */
export async function examStatus(deps: Deps, input: z.input<typeof ExamStatusInput>): Promise<{ protocol: string; items: QualificationRow[] }> {
  const req = parse(ExamStatusInput, input);
  const protocol = await findProtocol(deps, req.protocol);
  if (!protocol) throw new NotFoundError(`protocol ${req.protocol} not found`);
  const workforces = (await deps.repo.listWorkforces(req.programId)).filter((w) => !req.workforceId || w.workforceId === req.workforceId);
  if (req.workforceId && workforces.length === 0) throw new NotFoundError(`workforce ${req.workforceId} not found in program ${req.programId}`);
  const { view } = await qualificationsOn(deps, protocol, await deps.repo.listLedger(req.programId));
  const items = workforces
    .sort((a, b) => a.workforceId.localeCompare(b.workforceId))
    .map((w): QualificationRow => {
      const v = view(w);
      return {
        workforceId: w.workforceId,
        kind: w.kind,
        protocol: req.protocol,
        required: v.required,
        qualified: v.qualified,
        status: v.status,
        ...(v.basis ? { basis: v.basis } : {}),
        ...(v.carriedFrom ? { carriedFrom: v.carriedFrom } : {}),
        reason: v.reason,
        attempts: v.attempts,
        ...(v.openExam ? { openExam: v.openExam } : {}),
        pooled: v.pooled,
      };
    });
  return { protocol: req.protocol, items };
}

/**
 * A PM qualifies a workforce without an exam, with a reason (`qualification.waived`).
 * Waiving a qualified workforce records nothing.
 *
 * @example await waiveQualification(deps, { programId: 'demo-cxr', workforceId: 'radiology-team', protocol: 'chest-xray@2', reason: 'writes the gold', actor: 'pm:alice' })
 */
export const waiveQualification = (deps: Deps, input: z.input<typeof WaiveInput>): Promise<QualificationRow> => changeQualification(deps, input, 'waived');

/**
 * A PM revokes a workforce's qualification, with a reason (`qualification.revoked`,
 * cause `pm`): no production work on the version until an exam or a waiver.
 * Revoking an unqualified workforce records nothing.
 */
export const revokeQualification = (deps: Deps, input: z.input<typeof WaiveInput>): Promise<QualificationRow> => changeQualification(deps, input, 'revoked');

async function changeQualification(deps: Deps, input: z.input<typeof WaiveInput>, to: 'waived' | 'revoked'): Promise<QualificationRow> {
  const req = parse(WaiveInput, input);
  const { current, ledger } = await loadContext(deps, req.programId, req.protocol, req.workforceId);
  if (to === 'waived' && current.openExam) throw new ConflictError(`${req.workforceId} has an open exam (${current.openExam.batchId}): wait for its decision`);
  const status = async () => (await examStatus(deps, { programId: req.programId, protocol: req.protocol, workforceId: req.workforceId })).items[0];
  if (current.qualified !== (to === 'revoked')) return status();
  const base = { programId: req.programId, actor: req.actor, protocol: req.protocol, subject: req.workforceId, reason: req.reason };
  // The ledger length pins the id to this change: a retry after a crash records it once.
  const eventId = `${req.programId}:${req.protocol}:${req.workforceId}:${to}:${ledger.length}`;
  if (to === 'waived') await record(deps, { ...base, eventId, type: 'qualification.waived', data: { workforceId: req.workforceId } });
  else await record(deps, { ...base, eventId, type: 'qualification.revoked', data: { workforceId: req.workforceId, cause: 'pm' } });
  return status();
}
