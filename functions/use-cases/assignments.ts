/**
 * A PM assigns chosen pending cases to a named workforce, with a reason: an
 * explicit override of the shares. The next round (DispatchRound, through
 * planRound) sends each case there first. Refused, each with why: a case that
 * is missing, not pending or gold; and whatever the protocol would not allow —
 * the de-identification gate still holds (a gated or quarantined case never
 * reaches a vendor), as do routing, qualifications, exclusions, suspension and
 * pause. Every assignment is recorded in the ledger (`case.assigned`).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Identifier, assignmentProblem, routeCase } from '../domain/index.js';
import { InvalidInputError, NotFoundError } from './errors.js';
import { record } from './ledger.js';
import type { Deps } from './ports.js';
import { findProtocol } from './protocol-ref.js';
import { currentProtocolRef } from './quarantine.js';
import { parse } from './work-queries.js';

export const ProtocolRef = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}@[1-9]\d{0,5}$/, 'a protocol version as id@version, e.g. chest-xray@1');

export const AssignCasesInput = z.strictObject({
  programId: Identifier,
  /** The protocol version the cases are routed by (default: the one of the program's latest round). */
  protocol: ProtocolRef.optional(),
  caseIds: z
    .array(Identifier)
    .min(1)
    .max(1000)
    .refine((ids) => new Set(ids).size === ids.length, 'a case is named twice'),
  workforceId: Identifier,
  reason: z.string().trim().min(1).max(2000),
  /** `<role>:<name>` from the caller's token. */
  actor: z.string().min(1).max(200),
});

export interface AssignCasesResult {
  protocol: string;
  assigned: { caseId: string; workforceId: string }[];
  refused: { caseId: string; reason: string }[];
}

/**
 * Assigns pending cases to a workforce for the next round.
 *
 * @example await assignCases(deps, { programId: 'demo-cxr', caseIds: ['case-0042'], workforceId: 'vendor-a', reason: 'second opinion', actor: 'pm:alice' })
 */
export async function assignCases(deps: Deps, input: z.input<typeof AssignCasesInput>): Promise<AssignCasesResult> {
  const req = parse(AssignCasesInput, input);
  const ref = req.protocol ?? (await currentProtocolRef(deps, req.programId));
  if (!ref) throw new InvalidInputError('protocol: no round was dispatched yet: name the protocol version (id@version) the cases are routed by');
  const protocol = await findProtocol(deps, ref);
  if (!protocol) throw new NotFoundError(`protocol ${ref} not found`);
  const w = (await deps.repo.listWorkforces(req.programId)).find((x) => x.workforceId === req.workforceId);
  if (!w) throw new NotFoundError(`workforce ${req.workforceId} not found in program ${req.programId}`);
  const at = deps.clock.now().toISOString();
  const result: AssignCasesResult = { protocol: ref, assigned: [], refused: [] };
  for (const caseId of req.caseIds) {
    const c = await deps.repo.getCase(req.programId, caseId);
    const problem = !c
      ? 'no such case in this program'
      : c.goldPool
        ? 'a gold case: it is used as hidden gold, never dispatched as work'
        : c.state !== 'pending'
          ? `it is ${c.state}${c.batchId ? ` (batch ${c.batchId})` : ''}: only pending cases can be assigned`
          : assignmentProblem(c, routeCase(c, protocol), w, w.workforceId);
    if (problem || !c) {
      result.refused.push({ caseId, reason: problem ?? 'no such case in this program' });
      continue;
    }
    const assignment = { workforceId: w.workforceId, reason: req.reason, by: req.actor, at };
    // The event first (the commit point), then the conditional update of the case.
    await record(deps, {
      eventId: `${req.programId}:${caseId}:assigned:${createHash('sha256').update(JSON.stringify([w.workforceId, req.reason, req.actor, at])).digest('hex').slice(0, 16)}`,
      programId: req.programId,
      type: 'case.assigned',
      actor: req.actor,
      protocol: ref,
      subject: caseId,
      reason: req.reason,
      data: { caseId, workforceId: w.workforceId, ...(c.assignment ? { previous: c.assignment.workforceId } : {}) },
    });
    if (!(await deps.repo.setCaseAssignment(req.programId, caseId, assignment))) {
      result.refused.push({ caseId, reason: 'it left pending meanwhile (dispatched, or replaced)' });
      continue;
    }
    result.assigned.push({ caseId, workforceId: w.workforceId });
  }
  return result;
}
