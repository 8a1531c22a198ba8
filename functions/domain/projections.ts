/**
 * The stored state Goldline keeps beside its ledger — batch status, case state,
 * shares per round, scorecards, workforce status — rebuilt from the ledger
 * alone. A use case appends its event first and then writes the state (the one
 * rule for writes, docs/data-model.md), so after any scenario, crashed and
 * resumed or not, folding the ledger must give what is stored:
 * test/support/projections.ts compares the two after every integration scenario.
 *
 * The fold mirrors the repository's conditional writes (a case is assigned only
 * while pending, re-queued only while still assigned to that batch, …), so an
 * event that the store refused to act on changes nothing here either. Each
 * eventId counts once (the first occurrence), and events are folded in ledger
 * order (`seq` where the events carry it).
 */
import { type LedgerFrontier, type Placed, compareLedgerOrder, withinFrontier } from './ledger-merge.js';
import type { BatchStatus, LedgerEvent, Scorecard, Shares, Workforce } from './model/index.js';
import { type Qualifications, projectQualifications } from './qualification.js';
import { projectShares } from './rebalancing.js';
import { projectScorecards } from './scorecards.js';

/**
 * What the ledger can say of a batch's lifecycle. It decides every terminal
 * status (accepted, rejected, inconclusive, overdue, failed) and `submitted` (an upload was
 * accepted: `submission.accepted`). It cannot tell `planned` from
 * `awaiting-submission`: parking the execution on its callback token is no
 * decision and has no event, so both are `dispatched`.
 */
export type BatchLifecycle = 'dispatched' | 'submitted' | 'accepted' | 'rejected' | 'inconclusive' | 'overdue' | 'failed';

/** A stored batch status as the ledger can see it (see {@link BatchLifecycle}). */
export function batchLifecycleOf(status: BatchStatus): BatchLifecycle {
  return status === 'planned' || status === 'awaiting-submission' ? 'dispatched' : status;
}

export interface BatchProjection {
  workforceId: string;
  status: BatchLifecycle;
}

/** A case's work state as the ledger determines it; `batchId` is the batch that last changed it. */
export interface CaseProjection {
  state: 'pending' | 'assigned' | 'labelled';
  batchId?: string;
  /** Workforces the ledger excluded from the case (re-queues away from them), sorted. */
  excludedWorkforces: string[];
}

export interface WorkforceProjection {
  status: Workforce['status'];
  paused: boolean;
}

export interface ProgramProjections {
  batches: Record<string, BatchProjection>;
  cases: Record<string, CaseProjection>;
  /** Per protocol id: each round's shares where the ledger fixes them (see {@link sharesOfRound}). */
  shares: Record<string, Record<number, Shares>>;
  workforces: Record<string, WorkforceProjection>;
  /** Each workforce's qualification per protocol version (functions/domain/qualification.ts). */
  qualifications: Qualifications;
  /** Events that contradict the lifecycle (a verdict for a batch never dispatched, …). */
  problems: string[];
}

/** A ledger event as read back from the store: with its chain position where the store gives one. */
export type FoldableEvent = LedgerEvent & { seq?: number; shard?: number; ord?: number };

/** The events of a ledger in order, each eventId once (its first occurrence). */
export function distinctInOrder<E extends FoldableEvent>(events: readonly E[]): E[] {
  // Stored events: in the ledger's merge order (legacy chain by seq, then shards by ord: ledger-merge.ts).
  const ordered = events.every((e) => e.seq !== undefined) ? [...events].sort((a, b) => compareLedgerOrder(a as Placed, b as Placed)) : [...events];
  const seen = new Set<string>();
  return ordered.filter((e) => {
    if (seen.has(e.eventId)) return false;
    seen.add(e.eventId);
    return true;
  });
}

const OPEN: readonly BatchLifecycle[] = ['dispatched', 'submitted'];

/**
 * Folds a program's ledger into the projections it determines.
 *
 * @example
 * const p = projectProgram(await repo.listLedger('demo-cxr'));
 * p.batches['demo-cxr-r1-vendor-a-1'].status; // 'accepted'
 */
export function projectProgram(events: readonly FoldableEvent[]): ProgramProjections {
  const batches: Record<string, BatchProjection> = {};
  const batchCases = new Map<string, string[]>();
  const finalized = new Set<string>();
  const cases: Record<string, CaseProjection> = {};
  const workforces: Record<string, WorkforceProjection> = {};
  const adjudicationKinds = new Map<string, Map<string, string>>();
  const problems: string[] = [];
  const protocols = new Set<string>();
  const vendors = new Map<string, boolean>();

  const at = (e: FoldableEvent) => `${e.type} ${e.eventId}${e.seq === undefined ? '' : ` (#${e.seq})`}`;
  const caseOf = (caseId: string): CaseProjection => {
    cases[caseId] ??= { state: 'pending', excludedWorkforces: [] };
    return cases[caseId];
  };
  const workforceOf = (workforceId: string): WorkforceProjection => {
    workforces[workforceId] ??= { status: 'active', paused: false };
    return workforces[workforceId];
  };
  const batchOf = (e: FoldableEvent, batchId: string): BatchProjection | undefined => {
    const b = batches[batchId];
    if (!b) problems.push(`${at(e)} names batch ${batchId}, which the ledger never dispatched`);
    return b;
  };
  /** RequeueCases: cases still assigned to the batch go back to pending, away from `exclude`. */
  const requeue = (batchId: string, caseIds: readonly string[], exclude: string | undefined) => {
    for (const id of caseIds) {
      const c = cases[id];
      if (c?.state !== 'assigned' || c.batchId !== batchId) continue;
      c.state = 'pending';
      if (exclude && !c.excludedWorkforces.includes(exclude)) c.excludedWorkforces = [...c.excludedWorkforces, exclude].sort();
    }
  };

  for (const e of distinctInOrder(events)) {
    const protocolId = e.protocol.split('@')[0];
    switch (e.type) {
      case 'cases.ingested':
        for (const id of e.data.cases) caseOf(id);
        break;
      case 'workforce.created':
        workforces[e.data.workforceId] = { status: e.data.status, paused: e.data.paused };
        vendors.set(e.data.workforceId, e.data.kind === 'vendor');
        break;
      case 'workforce.status-changed':
        workforceOf(e.data.workforceId).status = e.data.to;
        break;
      case 'workforce.inspection-switched':
        workforceOf(e.data.workforceId).status = e.data.status.to;
        break;
      case 'workforce.paused':
        workforceOf(e.data.workforceId).paused = true;
        break;
      case 'workforce.resumed':
        workforceOf(e.data.workforceId).paused = false;
        break;
      case 'batch.dispatched': {
        protocols.add(protocolId);
        batches[e.subject] ??= { workforceId: e.data.workforceId, status: 'dispatched' };
        batchCases.set(e.subject, e.data.caseIds);
        // AssignCases: only a pending case is taken.
        for (const id of e.data.caseIds) {
          const c = caseOf(id);
          if (c.state !== 'pending') continue;
          c.state = 'assigned';
          c.batchId = e.subject;
        }
        break;
      }
      case 'submission.accepted': {
        // Ingest claims the batch only while it awaits its upload.
        const b = batchOf(e, e.subject);
        if (b?.status === 'dispatched') b.status = 'submitted';
        break;
      }
      case 'batch.accepted':
      case 'batch.rejected': {
        const verdict = e.type === 'batch.accepted' ? 'accepted' : 'rejected';
        const b = batchOf(e, e.subject);
        if (!b) break;
        // A carried batch (held inconclusive) is settled by the later decision that pooled it.
        const from = e.data.decidedWith ? 'inconclusive' : 'submitted';
        if (b.status === from || b.status === verdict) b.status = verdict;
        else problems.push(`${at(e)}: batch ${e.subject} was ${b.status} in the ledger, not ${from}`);
        break;
      }
      case 'batch.inconclusive': {
        // Held: its cases stay assigned to it until a later decision settles it.
        const b = batchOf(e, e.subject);
        if (!b) break;
        if (b.status === 'submitted' || b.status === 'inconclusive') b.status = 'inconclusive';
        else problems.push(`${at(e)}: batch ${e.subject} was ${b.status} in the ledger, not submitted`);
        break;
      }
      case 'batch.overdue': {
        const b = batchOf(e, e.subject);
        if (b && (OPEN.includes(b.status) || b.status === 'overdue')) b.status = 'overdue';
        // MarkOverdue re-queues the batch's cases; a vendor that missed its SLA is excluded from them.
        requeue(e.subject, batchCases.get(e.subject) ?? [], vendors.get(e.data.workforceId) ? e.data.workforceId : undefined);
        break;
      }
      case 'batch.failed': {
        const b = batchOf(e, e.subject);
        if (!b) break;
        // A rejected batch stays rejected; an accepted one whose labels were recorded keeps them; a held one stays held.
        if (b.status === 'rejected' || b.status === 'inconclusive' || (b.status === 'accepted' && finalized.has(e.subject))) break;
        if (OPEN.includes(b.status) || b.status === 'accepted' || b.status === 'failed') b.status = 'failed';
        // RecordFailure gives the cases back (a rejected batch's are re-queued by its `cases.requeued`).
        requeue(e.subject, batchCases.get(e.subject) ?? [], undefined);
        break;
      }
      case 'labels.recorded': {
        const b = batchOf(e, e.subject);
        finalized.add(e.subject);
        if (b?.status !== 'accepted') break;
        for (const id of e.data.caseIds) {
          const c = caseOf(id);
          c.state = 'labelled';
          c.batchId = e.subject;
        }
        break;
      }
      case 'cases.requeued':
        // A case handed to the batch holding its overlap second copy stays assigned, to that batch.
        for (const h of e.data.handedOver ?? []) {
          const c = cases[h.caseId];
          if (c?.state !== 'assigned' || c.batchId !== e.subject) continue;
          c.batchId = h.batchId;
          if (e.data.exclude && !c.excludedWorkforces.includes(e.data.exclude)) c.excludedWorkforces = [...c.excludedWorkforces, e.data.exclude].sort();
          batchCases.set(h.batchId, [...(batchCases.get(h.batchId) ?? []), h.caseId]);
        }
        requeue(e.subject, e.data.caseIds, e.data.exclude);
        break;
      case 'batch.rescored': {
        // Re-scored against corrected gold (an upheld dispute): a flipped decision re-settles the
        // batch; on reject → accept its cases still pending take its labels (disputes.ts).
        const b = batchOf(e, e.subject);
        if (!b || !e.data.flipped) break;
        if (b.status === e.data.before.decision || b.status === e.data.decision) b.status = e.data.decision;
        else problems.push(`${at(e)}: batch ${e.subject} was ${b.status} in the ledger, not ${e.data.before.decision}`);
        for (const id of e.data.labelledCaseIds) {
          const c = caseOf(id);
          c.state = 'labelled';
          c.batchId = e.subject;
        }
        break;
      }
      case 'adjudication.requested':
        adjudicationKinds.set(e.subject, new Map(e.data.cases.map((id, k) => [id, e.data.kinds[k]])));
        break;
      case 'adjudication.decided': {
        // An overlap disagreement's decision becomes the accepted label (ApplyAdjudication);
        // a critical miss is a review of gold and changes no case.
        const kinds = adjudicationKinds.get(e.subject);
        if (!kinds) problems.push(`${at(e)}: adjudication ${e.subject} was decided but never requested`);
        for (const d of e.data.decisions) {
          if (kinds?.get(d.caseId) !== 'overlap-disagreement') continue;
          const c = caseOf(d.caseId);
          c.state = 'labelled';
          c.batchId = e.data.batchId;
        }
        break;
      }
      case 'shares.changed':
        protocols.add(protocolId);
        break;
      case 'work.moved': {
        // A PM withdrew an open batch (manual-control.ts): failed, its cases back to pending (no exclusion).
        if (!e.data.batchId) break;
        const b = batchOf(e, e.data.batchId);
        if (b && OPEN.includes(b.status)) b.status = 'failed';
        requeue(e.data.batchId, e.data.caseIds, undefined);
        break;
      }
      default:
        break;
    }
  }
  const shares: Record<string, Record<number, Shares>> = {};
  for (const p of [...protocols].sort()) shares[p] = projectShares(events, p);
  return { batches, cases, shares, workforces, qualifications: projectQualifications(distinctInOrder(events)), problems };
}

/**
 * The shares of a round: the last round the ledger fixes at or before it (a
 * round without a change keeps the previous round's shares; nothing before the
 * first change is an empty allocation). A share of 0 and no share allocate the
 * same (no work): zeros are dropped, so `{ a: 1, b: 0 }` equals `{ a: 1 }`.
 */
export function sharesOfRound(byRound: Record<number, Shares>, round: number): Shares {
  const fixed = Object.keys(byRound)
    .map(Number)
    .filter((r) => r <= round)
    .sort((a, b) => b - a)[0];
  return withoutZeroShares(fixed === undefined ? {} : byRound[fixed]);
}

/** Shares without their zero entries, keys sorted. */
export function withoutZeroShares(shares: Shares): Shares {
  return Object.fromEntries(
    Object.entries(shares)
      .filter(([, v]) => v > 0)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/**
 * The scorecards a rebalance stored at one ledger position: the fold of the
 * events within the frontier `asOf` (the last seq it read per ledger chain), or,
 * for a card stored before the ledger shards, up to and including `asOfSeq`
 * (every event when the stored card carries no position), with the minimum gold
 * of the protocol version it ran under.
 */
export function projectScorecardsAsOf(
  events: readonly FoldableEvent[],
  opts: { protocolId: string; minGoldItems: number; asOfSeq?: number; asOf?: LedgerFrontier },
): Record<string, Scorecard> {
  const upTo = opts.asOfSeq;
  const frontier = opts.asOf;
  const prefix = frontier
    ? events.filter((e) => e.seq !== undefined && withinFrontier(e as Placed, frontier))
    : upTo === undefined
      ? events
      : events.filter((e) => e.seq !== undefined && e.seq <= upTo);
  return projectScorecards(distinctInOrder(prefix), { protocolId: opts.protocolId, minGoldItems: opts.minGoldItems });
}
