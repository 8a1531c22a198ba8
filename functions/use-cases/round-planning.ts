/**
 * The dry run of a round: what DispatchRound would plan now — routing with a
 * per-case explanation, the shares it would use, each workforce's cases and
 * batches, what is excluded, deferred, overflowed, overlapped or explicitly
 * assigned — without writing anything (no shares, no batches, no ledger).
 * It uses the same pure planning (functions/domain/planning.ts) on the same
 * inputs as dispatch-round.ts.
 */
import { z } from 'zod';
import { Identifier, planUnderControls, type Shares, splitIntoBatches } from '../domain/index.js';
import { ProtocolRef } from './assignments.js';
import { ConflictError, InvalidInputError, NotFoundError } from './errors.js';
import { planControls } from './exams.js';
import type { Deps } from './ports.js';
import { findProtocol } from './protocol-ref.js';
import { currentProtocolRef } from './quarantine.js';
import { shareEventIds } from './shares.js';
import { parse } from './work-queries.js';

export const PlanRoundPreviewInput = z.strictObject({
  programId: Identifier,
  /** Default: the protocol version of the program's latest round (required before the first round). */
  protocol: ProtocolRef.optional(),
  /** Default: the round after the last dispatched one. */
  round: z.coerce.number().int().min(1).max(100_000).optional(),
  /** Plan at most this many pending cases (oldest first), as dispatch's `limit`. */
  limit: z.coerce.number().int().min(1).max(1_000_000).optional(),
});

export interface RoundPreview {
  programId: string;
  protocol: string;
  round: number;
  shares: Shares;
  /** Where the shares come from: stored for the round, round 1's equal split, or carried over from the previous round. */
  sharesSource: 'stored' | 'initial-equal' | 'carried-over';
  /** Set when a share proposal for this round awaits a PM: dispatching now would carry the previous shares over. */
  pendingProposal?: string;
  pendingCases: number;
  workforces: { workforceId: string; kind: 'internal' | 'vendor'; cases: number; batches: number[] }[];
  /** Every planned case: where it would go and why. */
  cases: { caseId: string; outcome: 'planned' | 'excluded' | 'quarantined' | 'deferred'; workforceId?: string; rule: string; explanation: string; gate?: string; reason?: string }[];
  deferred: { caseId: string; reason: string }[];
  overflowed: { caseId: string; workforceId: string }[];
  overlaps: { caseId: string; primary: string; secondary: string }[];
  explicit: { caseId: string; workforceId: string }[];
  ignoredAssignments: { caseId: string; workforceId: string; reason: string }[];
  /** Workforces that get no production work: not qualified on this protocol version (exams.ts), with why. */
  ineligible: { workforceId: string; reason: string }[];
  /** Vendors under a PM's share cap: the cap, the most cases it allows this round, the cases planned. */
  capped: { workforceId: string; cap: number; limit: number; cases: number }[];
}

/**
 * Plans the next round without dispatching it.
 *
 * @example await planRoundPreview(deps, { programId: 'demo-cxr' })
 */
export async function planRoundPreview(deps: Deps, input: z.input<typeof PlanRoundPreviewInput>): Promise<RoundPreview> {
  const req = parse(PlanRoundPreviewInput, input);
  const ref = req.protocol ?? (await currentProtocolRef(deps, req.programId));
  if (!ref) throw new InvalidInputError('protocol: no round was dispatched yet: name the protocol version (id@version) to plan under');
  const protocol = await findProtocol(deps, ref);
  if (!protocol) throw new NotFoundError(`protocol ${ref} not found`);
  const rounds = await deps.repo.listRounds(req.programId);
  const round = req.round ?? Math.max(0, ...rounds.map((r) => r.round)) + 1;
  if (rounds.some((r) => r.round === round)) throw new ConflictError(`round ${round} of program ${req.programId} was dispatched already`);
  const workforces = await deps.repo.listWorkforces(req.programId);
  if (workforces.length === 0) throw new InvalidInputError(`program ${req.programId} has no workforces`);

  // The shares dispatch would use (dispatch-round.ts, sharesForRound), read only.
  const stored = await deps.repo.getShares(req.programId, protocol.protocolId, round);
  let shares: Shares;
  let sharesSource: RoundPreview['sharesSource'];
  if (stored) {
    shares = stored;
    sharesSource = 'stored';
  } else if (round === 1) {
    const vendors = workforces.filter((w) => w.kind === 'vendor' && w.status !== 'suspended');
    shares = Object.fromEntries(vendors.map((v) => [v.workforceId, Math.round((1 / vendors.length) * 10_000) / 10_000]));
    sharesSource = 'initial-equal';
  } else {
    shares = (await deps.repo.getShares(req.programId, protocol.protocolId, round - 1)) ?? {};
    sharesSource = 'carried-over';
  }
  const ids = shareEventIds(req.programId, protocol.protocolId, round);
  const pendingProposal =
    !stored &&
    (await deps.repo.getLedgerEvent(req.programId, ids.proposal)) &&
    (await deps.repo.getLedgerEvent(req.programId, ids.decision))?.type !== 'shares.refused'
      ? `shares proposed for round ${round} await approval: dispatching now carries round ${round - 1}'s over`
      : undefined;

  const pending = (await deps.repo.listCases(req.programId))
    .filter((c) => c.state === 'pending' && !c.goldPool)
    .sort((a, b) => a.caseId.localeCompare(b.caseId))
    .slice(0, req.limit ?? Number.POSITIVE_INFINITY);
  // A PM's controls: unqualified workforces get no production work, share caps hold (manual-control.ts, exams.ts).
  const plan = planUnderControls({ cases: pending, protocol, workforces, shares }, await planControls(deps, req.programId, protocol, workforces));

  const placedIn = new Map<string, string>();
  for (const [w, cs] of Object.entries(plan.assignments)) for (const c of cs) if (!placedIn.has(c.caseId)) placedIn.set(c.caseId, w);
  for (const o of plan.overlaps) placedIn.set(o.caseId, o.primary);
  const deferred = new Map(plan.deferred.map((d) => [d.caseId, d.reason]));
  return {
    programId: req.programId,
    protocol: ref,
    round,
    shares,
    sharesSource,
    ...(pendingProposal ? { pendingProposal } : {}),
    pendingCases: pending.length,
    workforces: workforces
      .map((w) => {
        const cs = plan.assignments[w.workforceId] ?? [];
        return { workforceId: w.workforceId, kind: w.kind, cases: cs.length, batches: splitIntoBatches(cs, protocol.batchSize).map((b) => b.length) };
      })
      .sort((a, b) => a.workforceId.localeCompare(b.workforceId)),
    cases: plan.decisions.map((d) => {
      const workforceId = placedIn.get(d.caseId);
      const outcome = workforceId ? 'planned' : d.quarantined ? 'quarantined' : d.route.pool === 'exclude' ? 'excluded' : 'deferred';
      return {
        caseId: d.caseId,
        outcome,
        ...(workforceId ? { workforceId } : {}),
        rule: d.ruleId,
        explanation: d.explanation,
        ...(d.gate ? { gate: d.gate } : {}),
        ...(deferred.has(d.caseId) ? { reason: deferred.get(d.caseId) } : {}),
      };
    }),
    deferred: plan.deferred,
    overflowed: plan.overflowed,
    overlaps: plan.overlaps,
    explicit: plan.explicit,
    ignoredAssignments: plan.ignoredAssignments,
    ineligible: plan.ineligible,
    capped: plan.capped,
  };
}
