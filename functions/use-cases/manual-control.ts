/**
 * A PM's manual control of workforces (issue 13, docs/vendor-management.md
 * "Manual control"): cap a vendor's share of the vendor pool, and move pending
 * work to another workforce — each with a reason in the ledger. (Pause and
 * resume are workforces.ts's `status` patch.)
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Identifier, assignmentProblem, routeCase, shareCapsFromLedger } from '../domain/index.js';
import { ProtocolRef } from './assignments.js';
import { ConflictError, InvalidInputError, NotFoundError } from './errors.js';
import { record } from './ledger.js';
import type { Deps } from './ports.js';
import { findProtocol } from './protocol-ref.js';
import { currentProtocolRef } from './quarantine.js';
import { parse } from './work-queries.js';

const Actor = z.string().min(1).max(200);
const Reason = z.string().trim().min(1).max(2000);

export const CapShareInput = z.strictObject({
  programId: Identifier,
  workforceId: Identifier,
  /** The most of the vendor pool's cases per round (0 < cap ≤ 1); null removes the cap. */
  cap: z.number().gt(0, 'cap must be above 0 (pause the vendor to give it no work)').max(1).nullable(),
  reason: Reason,
  actor: Actor,
});

export interface ShareCapResult {
  workforceId: string;
  cap: number | null;
  from: number | null;
  /** False when the cap was already so (nothing recorded). */
  changed: boolean;
}

/**
 * Caps a vendor's share of the vendor pool (or removes the cap), with a reason:
 * `workforce.share-capped`. The planner reads caps from the ledger at every
 * round (planUnderControls): the capped vendor gets at most ⌊cap × the round's
 * vendor-routed cases⌋; the others take the rest by their shares.
 *
 * @example await capShare(deps, { programId: 'demo-cxr', workforceId: 'vendor-b', cap: 0.2, reason: 'audit pending', actor: 'pm:alice' })
 */
export async function capShare(deps: Deps, input: z.input<typeof CapShareInput>): Promise<ShareCapResult> {
  const req = parse(CapShareInput, input);
  const w = (await deps.repo.listWorkforces(req.programId)).find((x) => x.workforceId === req.workforceId);
  if (!w) throw new NotFoundError(`workforce ${req.workforceId} not found in program ${req.programId}`);
  if (w.kind !== 'vendor') throw new InvalidInputError(`${req.workforceId} is an internal team: shares (and their caps) are of the vendor pool`);
  const ledger = await deps.repo.listLedger(req.programId);
  const from = shareCapsFromLedger(ledger)[req.workforceId] ?? null;
  if (from === req.cap) return { workforceId: req.workforceId, cap: req.cap, from, changed: false };
  // The ledger length pins the id to this change: a retry after a crash records it once.
  await record(deps, {
    eventId: `${req.programId}:workforce:${req.workforceId}:share-capped:${ledger.length}`,
    programId: req.programId,
    type: 'workforce.share-capped',
    actor: req.actor,
    protocol: (await currentProtocolRef(deps, req.programId)) ?? '',
    subject: req.workforceId,
    reason: req.reason,
    data: { workforceId: req.workforceId, cap: req.cap, from },
  });
  return { workforceId: req.workforceId, cap: req.cap, from, changed: true };
}

export const MoveWorkInput = z
  .strictObject({
    programId: Identifier,
    /** The protocol version the cases are routed by (default: the one of the program's latest round). */
    protocol: ProtocolRef.optional(),
    from: Identifier,
    to: Identifier,
    /** An open batch of `from` (planned or awaiting its upload) to withdraw. */
    batchId: Identifier.optional(),
    /** Pending cases a PM had assigned to `from`, to assign to `to` instead. */
    caseIds: z
      .array(Identifier)
      .max(1000)
      .refine((ids) => new Set(ids).size === ids.length, 'a case is named twice')
      .optional(),
    reason: Reason,
    actor: Actor,
  })
  .refine((m) => m.batchId !== undefined || (m.caseIds?.length ?? 0) > 0, 'name a batch (batchId) or pending cases (caseIds) to move')
  .refine((m) => m.from !== m.to, 'from and to are the same workforce');

export interface MoveWorkResult {
  from: string;
  to: string;
  batchId?: string;
  /** Cases now assigned to `to` for the next round. */
  moved: string[];
  /** Cases that could not go to `to` (they route as usual next round), with why. */
  refused: { caseId: string; reason: string }[];
}

/**
 * Moves pending work from one workforce to another, with a reason.
 *
 * A batch not yet submitted is withdrawn: its status moves to `failed`
 * (a conditional change from planned / awaiting-submission — the claim that a
 * racing upload's ingest also makes, so exactly one wins), `work.moved` is
 * recorded, its cases go back to pending, each is assigned to `to`, and its
 * waiting execution is woken so it ends through RecordFailure (which finds the
 * cases re-queued and records `batch.failed`). Pending cases named by id are
 * re-assigned (`work.moved`, then each case's conditional assignment). The
 * next round dispatches the cases to `to` first (explicit assignments,
 * planning.ts), where the protocol allows it. A move that stopped half way is
 * completed by running it again.
 *
 * @example await moveWork(deps, { programId: 'demo-cxr', from: 'vendor-b', to: 'vendor-a', batchId: 'demo-cxr-r3-vendor-b-1', reason: 'vendor-b out of office', actor: 'pm:alice' })
 */
export async function moveWork(deps: Deps, input: z.input<typeof MoveWorkInput>): Promise<MoveWorkResult> {
  const req = parse(MoveWorkInput, input);
  const workforces = await deps.repo.listWorkforces(req.programId);
  const from = workforces.find((w) => w.workforceId === req.from);
  const to = workforces.find((w) => w.workforceId === req.to);
  if (!from) throw new NotFoundError(`workforce ${req.from} not found in program ${req.programId}`);
  if (!to) throw new NotFoundError(`workforce ${req.to} not found in program ${req.programId}`);
  const ref = req.protocol ?? (await currentProtocolRef(deps, req.programId));
  if (!ref) throw new InvalidInputError('protocol: no round was dispatched yet: name the protocol version (id@version) the cases are routed by');
  const protocol = await findProtocol(deps, ref);
  if (!protocol) throw new NotFoundError(`protocol ${ref} not found`);
  const result: MoveWorkResult = { from: req.from, to: req.to, moved: [], refused: [] };
  const at = deps.clock.now().toISOString();
  const assignment = { workforceId: req.to, reason: `moved from ${req.from}: ${req.reason}`, by: req.actor, at };

  let caseIds: string[] = [];
  if (req.batchId) {
    const batch = await deps.repo.getBatch(req.batchId);
    if (!batch || batch.programId !== req.programId) throw new NotFoundError(`batch ${req.batchId} not found in program ${req.programId}`);
    if (batch.workforceId !== req.from) throw new InvalidInputError(`batch ${req.batchId} is ${batch.workforceId}'s, not ${req.from}'s`);
    if (batch.kind === 'exam') throw new InvalidInputError(`batch ${req.batchId} is ${req.from}'s qualification exam: it cannot be moved`);
    // The cases its dispatch assigned to it (real, primary copies: no gold, no overlap second copy), from the ledger:
    // the API function reads no batch key.
    const dispatched = await deps.repo.getLedgerEvent(req.programId, `${batch.batchId}:dispatched`);
    if (dispatched?.type !== 'batch.dispatched') throw new NotFoundError(`batch ${batch.batchId} has no batch.dispatched event`);
    caseIds = [...dispatched.data.caseIds].sort();
    const failure = `moved to ${req.to} by ${req.actor}: ${req.reason}`;
    const claimed = await deps.repo.transitionBatch(batch.batchId, ['planned', 'awaiting-submission'], 'failed', { failure });
    const resumed = !claimed && batch.status === 'failed' && batch.failure?.startsWith(`moved to ${req.to} by `);
    if (!claimed && !resumed) {
      throw new ConflictError(`batch ${req.batchId} is ${batch.status}: only a batch that is planned or awaiting its upload can be moved`);
    }
    await record(deps, {
      eventId: `${batch.batchId}:moved`,
      programId: req.programId,
      type: 'work.moved',
      actor: req.actor,
      protocol: batch.protocol,
      subject: batch.batchId,
      reason: req.reason,
      data: { from: req.from, to: req.to, batchId: batch.batchId, caseIds },
    });
    await deps.repo.requeueCases(req.programId, caseIds, { batchId: batch.batchId });
    result.batchId = batch.batchId;
    // Wake the waiting execution: with no accepted upload it ends through RecordFailure.
    const token = (await deps.repo.getBatch(batch.batchId))?.taskToken;
    if (token) await deps.callbacks.success(token, { moved: { to: req.to } });
  } else {
    caseIds = req.caseIds ?? [];
    const problems = new Map<string, string>();
    for (const caseId of caseIds) {
      const c = await deps.repo.getCase(req.programId, caseId);
      const problem = !c
        ? 'no such case in this program'
        : c.state !== 'pending'
          ? `it is ${c.state}${c.batchId ? ` (batch ${c.batchId})` : ''}: name its batch to move it`
          : c.assignment?.workforceId !== req.from
            ? `it is not assigned to ${req.from}`
            : undefined;
      if (problem) problems.set(caseId, problem);
    }
    caseIds = caseIds.filter((id) => !problems.has(id));
    result.refused.push(...[...problems].map(([caseId, reason]) => ({ caseId, reason })));
    if (caseIds.length === 0) return result;
    await record(deps, {
      eventId: `${req.programId}:moved:${createHash('sha256').update(JSON.stringify([req.from, req.to, caseIds, req.reason, req.actor, at])).digest('hex').slice(0, 16)}`,
      programId: req.programId,
      type: 'work.moved',
      actor: req.actor,
      protocol: ref,
      subject: req.from,
      reason: req.reason,
      data: { from: req.from, to: req.to, caseIds },
    });
  }
  for (const caseId of caseIds) {
    const c = await deps.repo.getCase(req.programId, caseId);
    const problem = !c ? 'no such case in this program' : assignmentProblem(c, routeCase(c, protocol), to, req.to);
    if (problem || !c) {
      result.refused.push({ caseId, reason: `${problem}: it routes as usual next round` });
      continue;
    }
    if (!(await deps.repo.setCaseAssignment(req.programId, caseId, assignment))) {
      result.refused.push({ caseId, reason: 'it left pending meanwhile (dispatched, or replaced)' });
      continue;
    }
    result.moved.push(caseId);
  }
  return result;
}
