/**
 * Scorecards are projections of the ledger: folding the `batch.scored`,
 * `batch.accepted` and `batch.rejected` events of a protocol gives the same
 * scorecards whenever it is run, and applying an event twice changes nothing.
 */
import type { LedgerEvent, Scorecard } from './model/index.js';
import { isDefined, wilsonInterval } from './scoring/index.js';

export interface ScorecardOptions {
  protocolId: string;
  minGoldItems: number;
}

/**
 * Builds one scorecard per workforce from ledger events (duplicates by id
 * ignored): gold accuracy with its Wilson interval from `batch.scored`; batches
 * accepted / rejected and what was paid (`charge`) from the verdicts; SLA
 * adherence = batches delivered in time / batches closed (overdue ones count
 * against it); cost per accepted case = paid / real cases accepted.
 */
export function projectScorecards(events: readonly LedgerEvent[], opts: ScorecardOptions): Record<string, Scorecard> {
  const seen = new Set<string>();
  type Acc = {
    batches: Set<string>;
    accepted: number;
    rejected: number;
    overdue: number;
    n: number;
    correct: number;
    acceptedCases: number;
    paid: number;
  };
  const acc = new Map<string, Acc>();
  const get = (w: string) => {
    let a = acc.get(w);
    if (!a) {
      a = { batches: new Set(), accepted: 0, rejected: 0, overdue: 0, n: 0, correct: 0, acceptedCases: 0, paid: 0 };
      acc.set(w, a);
    }
    return a;
  };
  // Qualification exams are a gate, not production work: their batches count in no scorecard.
  const exams = new Set<string>();
  for (const e of events) {
    if (seen.has(e.eventId)) continue;
    seen.add(e.eventId);
    if (!e.protocol.startsWith(`${opts.protocolId}@`)) continue;
    if (e.type === 'exam.dispatched') exams.add(e.data.batchId);
    if (exams.has(e.subject)) continue;
    switch (e.type) {
      case 'batch.scored': {
        const a = get(e.data.workforceId);
        a.batches.add(e.subject);
        a.n += e.data.goldN;
        a.correct += e.data.goldCorrect;
        break;
      }
      case 'batch.accepted': {
        const a = get(e.data.workforceId);
        a.accepted += 1;
        a.acceptedCases += e.data.realItems;
        a.paid += e.data.charge;
        break;
      }
      case 'batch.rejected': {
        const a = get(e.data.workforceId);
        a.rejected += 1;
        a.paid += e.data.charge;
        break;
      }
      case 'batch.overdue':
        get(e.data.workforceId).overdue += 1;
        break;
      case 'batch.rescored': {
        // An upheld dispute: the batch's gold figures replaced; on a flip, its decision and charge too.
        const a = get(e.data.workforceId);
        a.n += e.data.after.goldN - e.data.before.goldN;
        a.correct += e.data.after.goldCorrect - e.data.before.goldCorrect;
        const s = e.data.settlement;
        if (!e.data.flipped || !s) break;
        const tally = (d: string, k: number) => {
          if (d === 'accepted') {
            a.accepted += k;
            a.acceptedCases += k * s.realItems;
          } else if (d === 'rejected') a.rejected += k;
        };
        tally(e.data.before.decision, -1);
        tally(e.data.decision, 1);
        a.paid += s.charge - s.chargeBefore;
        break;
      }
      case 'batch.failed': {
        // Accepted but never finalized: the acceptance did not stand.
        const r = e.data.revokedAcceptance;
        if (!r) break;
        const a = get(e.data.workforceId);
        a.accepted -= 1;
        a.acceptedCases -= r.realItems;
        a.paid -= r.charge;
        break;
      }
    }
  }
  const out: Record<string, Scorecard> = {};
  for (const [workforceId, a] of [...acc.entries()].sort(([x], [y]) => x.localeCompare(y))) {
    const wi = wilsonInterval(a.correct, a.n);
    out[workforceId] = {
      workforceId,
      protocolId: opts.protocolId,
      batches: a.batches.size,
      batchesAccepted: a.accepted,
      batchesRejected: a.rejected,
      goldN: a.n,
      goldCorrect: a.correct,
      accuracy: isDefined(wi.estimate) ? wi.estimate.value : null,
      interval: isDefined(wi.estimate) ? { lower: wi.lower, upper: wi.upper } : null,
      insufficient: a.n < opts.minGoldItems,
      slaMisses: a.overdue,
      slaAdherence: a.accepted + a.rejected + a.overdue > 0 ? (a.accepted + a.rejected) / (a.accepted + a.rejected + a.overdue) : null,
      acceptedCases: a.acceptedCases,
      paid: Math.round(a.paid * 100) / 100,
      costPerAcceptedCase: a.acceptedCases > 0 ? Math.round((a.paid / a.acceptedCases) * 10_000) / 10_000 : null,
    };
  }
  return out;
}
