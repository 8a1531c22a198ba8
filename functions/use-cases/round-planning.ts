/**
 * The dry run of a round: what DispatchRound would plan now — routing with a
 * per-case explanation, the shares it would use, each workforce's cases and
 * batches, what is excluded, deferred, overflowed, overlapped or explicitly
 * assigned — without writing anything (no shares, no batches, no ledger).
 * It uses the same pure planning (functions/domain/planning.ts) on the same
 * inputs as PlanRound (plan-round.ts): the pending cases from the sharded
 * case-state index, in plan pages of PLAN_PAGE_CASES with each workforce's
 * capacity carried from page to page, never the program's case list. Counts
 * cover the whole round; the per-case lists cover one page of cases (by case
 * id, `caseLimit` after `cursor`), so memory and the answer stay bounded in
 * the round's size.
 */
import { z } from 'zod';
import { caseCapacity, Identifier, initialShares, PLAN_PAGE_CASES, planUnderControls, type Shares, takeBatches } from '../domain/index.js';
import { ProtocolRef } from './assignments.js';
import { Cursor, decodeCursor, encodeCursor } from './cursor.js';
import { ConflictError, InvalidInputError, NotFoundError } from './errors.js';
import { planControls } from './exams.js';
import { pendingPages } from './pending-cases.js';
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
  /** The per-case lists start after this cursor (the `next` of the previous answer). */
  cursor: Cursor.optional(),
  /** Cases per answer in the per-case lists (default PREVIEW_CASE_LIMIT). */
  caseLimit: z.coerce.number().int().min(1).max(10_000).optional(),
});

/** Cases per answer in a preview's per-case lists, unless asked otherwise. */
export const PREVIEW_CASE_LIMIT = 1_000;

type Outcome = 'planned' | 'excluded' | 'quarantined' | 'deferred';

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
  /** How many of the round's cases have each outcome (the whole round, whatever the page). */
  outcomes: Record<Outcome, number>;
  /**
   * This page's cases (at most `caseLimit`, by case id after `cursor`): where each would go and why.
   * `deferred` … `ignoredAssignments` below hold this page's cases too.
   */
  cases: { caseId: string; outcome: Outcome; workforceId?: string; rule: string; explanation: string; gate?: string; reason?: string }[];
  /** Pass as `cursor` for the next page of cases; absent on the last. */
  next?: string;
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
export async function planRoundPreview(
  deps: Deps,
  input: z.input<typeof PlanRoundPreviewInput>,
  tuning: { pageCases?: number } = {},
): Promise<RoundPreview> {
  const req = parse(PlanRoundPreviewInput, input);
  const after = req.cursor === undefined ? undefined : previewCursor(req.cursor);
  const caseLimit = req.caseLimit ?? PREVIEW_CASE_LIMIT;
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
    shares = initialShares(workforces);
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

  // A PM's controls: unqualified workforces get no production work, share caps hold (manual-control.ts, exams.ts).
  const controls = await planControls(deps, req.programId, protocol, workforces);
  const capacityLeft: Record<string, number> = Object.fromEntries(workforces.map((w) => [w.workforceId, caseCapacity(w, protocol)]));
  const buffers = new Map<string, string[]>(workforces.map((w) => [w.workforceId, []]));
  const batches = new Map<string, number[]>(workforces.map((w) => [w.workforceId, []]));
  const planned: Record<string, number> = {};
  const outcomes: Record<Outcome, number> = { planned: 0, excluded: 0, quarantined: 0, deferred: 0 };
  const capped = new Map<string, { workforceId: string; cap: number; limit: number; cases: number }>();
  const page: Pick<RoundPreview, 'cases' | 'deferred' | 'overflowed' | 'overlaps' | 'explicit' | 'ignoredAssignments'> = {
    cases: [],
    deferred: [],
    overflowed: [],
    overlaps: [],
    explicit: [],
    ignoredAssignments: [],
  };
  let ineligible: RoundPreview['ineligible'] = [];
  let pendingCases = 0;
  let more = false;

  // As PlanRound: page by page, what earlier pages took subtracted from each workforce's capacity.
  const planPage = (cases: Parameters<typeof planUnderControls>[0]['cases'], last: boolean) => {
    pendingCases += cases.length;
    const plan = planUnderControls({ cases, protocol, workforces, shares, capacityLeft }, controls);
    ineligible = plan.ineligible;
    for (const [w, cs] of Object.entries(plan.assignments)) {
      planned[w] = (planned[w] ?? 0) + cs.length;
      capacityLeft[w] = (capacityLeft[w] ?? 0) - cs.length;
      buffers.get(w)?.push(...cs.map((c) => c.caseId));
    }
    for (const w of workforces) for (const b of takeBatches(buffers.get(w.workforceId)!, protocol.batchSize, last)) batches.get(w.workforceId)!.push(b.length);
    for (const c of plan.capped) {
      const sum = capped.get(c.workforceId);
      capped.set(c.workforceId, sum ? { ...sum, limit: sum.limit + c.limit, cases: sum.cases + c.cases } : { ...c });
    }
    const placedIn = new Map<string, string>();
    for (const [w, cs] of Object.entries(plan.assignments)) for (const c of cs) if (!placedIn.has(c.caseId)) placedIn.set(c.caseId, w);
    for (const o of plan.overlaps) placedIn.set(o.caseId, o.primary);
    const deferred = new Map(plan.deferred.map((d) => [d.caseId, d.reason]));
    const listed = new Set<string>();
    for (const d of plan.decisions) {
      const workforceId = placedIn.get(d.caseId);
      const outcome: Outcome = workforceId ? 'planned' : d.quarantined ? 'quarantined' : d.route.pool === 'exclude' ? 'excluded' : 'deferred';
      outcomes[outcome]++;
      if (after !== undefined && d.caseId <= after) continue;
      if (page.cases.length === caseLimit) {
        more = true;
        continue;
      }
      listed.add(d.caseId);
      page.cases.push({
        caseId: d.caseId,
        outcome,
        ...(workforceId ? { workforceId } : {}),
        rule: d.ruleId,
        explanation: d.explanation,
        ...(d.gate ? { gate: d.gate } : {}),
        ...(deferred.has(d.caseId) ? { reason: deferred.get(d.caseId) } : {}),
      });
    }
    const mine = <T extends { caseId: string }>(xs: readonly T[]) => xs.filter((x) => listed.has(x.caseId));
    page.deferred.push(...mine(plan.deferred));
    page.overflowed.push(...mine(plan.overflowed));
    page.overlaps.push(...mine(plan.overlaps));
    page.explicit.push(...mine(plan.explicit));
    page.ignoredAssignments.push(...mine(plan.ignoredAssignments));
  };
  let pages = 0;
  for await (const { cases, last } of pendingPages(deps, req.programId, req.limit, tuning.pageCases ?? PLAN_PAGE_CASES)) {
    planPage(cases, last);
    pages++;
  }
  if (pages === 0) planPage([], true); // no pending case: the controls still say who is ineligible or capped

  return {
    programId: req.programId,
    protocol: ref,
    round,
    shares,
    sharesSource,
    ...(pendingProposal ? { pendingProposal } : {}),
    pendingCases,
    workforces: workforces
      .map((w) => ({ workforceId: w.workforceId, kind: w.kind, cases: planned[w.workforceId] ?? 0, batches: batches.get(w.workforceId)! }))
      .sort((a, b) => a.workforceId.localeCompare(b.workforceId)),
    outcomes,
    ...page,
    ...(more ? { next: encodeCursor({ caseId: page.cases.at(-1)!.caseId }) } : {}),
    ineligible,
    capped: [...capped.values()],
  };
}

/** The case id a preview cursor continues after; InvalidInputError for any other cursor. */
function previewCursor(cursor: string): string {
  const caseId = Identifier.safeParse(decodeCursor(cursor).caseId);
  if (!caseId.success) throw new InvalidInputError('cursor: not a cursor of this preview (pass the `next` of the previous answer unchanged)');
  return caseId.data;
}
