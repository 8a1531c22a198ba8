/**
 * Operations figures of a quality report, folded from the ledger's typed batch
 * events (duplicates by eventId ignored), as the scorecards are: SLA adherence,
 * rejection and rework rates, throughput and cost per accepted case. Money is
 * summed in integer minor units (cents) so sums do not drift.
 */
import type { z } from 'zod';
import type { LedgerEvent } from '../model/index.js';
import { proportion } from './report-figures.js';
import type { OperationsFigures } from './report-schema.js';

const DAY_MS = 86_400_000;

/** A charge in minor units (cents). */
export const toMinor = (amount: number): number => Math.round(amount * 100);

/**
 * Operations of the batches in `batchIds`, from their ledger events.
 * Accepted: batch.accepted less acceptances a batch.failed revoked. Throughput:
 * accepted cases / days from the first dispatch to the last verdict (ledger times).
 */
export function operationsFigures(batchIds: ReadonlySet<string>, events: readonly LedgerEvent[], minN: number): z.infer<typeof OperationsFigures> {
  const seen = new Set<string>();
  let accepted = 0;
  let rejected = 0;
  let overdue = 0;
  let failed = 0;
  let acceptedCases = 0;
  let paidMinor = 0;
  let dispatchedCases = 0;
  let requeuedCases = 0;
  let firstDispatch = Number.POSITIVE_INFINITY;
  let lastVerdict = Number.NEGATIVE_INFINITY;
  for (const e of events) {
    if (seen.has(e.eventId) || !batchIds.has(e.subject)) continue;
    seen.add(e.eventId);
    const at = Date.parse(e.at);
    switch (e.type) {
      case 'batch.dispatched':
        dispatchedCases += e.data.caseIds.length;
        firstDispatch = Math.min(firstDispatch, at);
        break;
      case 'batch.accepted':
        accepted += 1;
        acceptedCases += e.data.realItems;
        paidMinor += toMinor(e.data.charge);
        lastVerdict = Math.max(lastVerdict, at);
        break;
      case 'batch.rejected':
        rejected += 1;
        paidMinor += toMinor(e.data.charge);
        lastVerdict = Math.max(lastVerdict, at);
        break;
      case 'batch.overdue':
        overdue += 1;
        break;
      case 'batch.failed': {
        failed += 1;
        const r = e.data.revokedAcceptance;
        if (r) {
          accepted -= 1;
          acceptedCases -= r.realItems;
          paidMinor -= toMinor(r.charge);
        }
        break;
      }
      case 'cases.requeued':
        requeuedCases += e.data.caseIds.length;
        break;
      default:
        break;
    }
  }
  const days = (lastVerdict - firstDispatch) / DAY_MS;
  return {
    batches: batchIds.size,
    accepted,
    rejected,
    overdue,
    failed,
    slaAdherence: proportion(accepted + rejected, accepted + rejected + overdue, 1),
    rejectionRate: proportion(rejected, accepted + rejected, 1),
    reworkRate: proportion(Math.min(requeuedCases, dispatchedCases), dispatchedCases, minN),
    acceptedCases,
    throughputCasesPerDay: Number.isFinite(days) && days > 0 ? acceptedCases / days : null,
    spanDays: Number.isFinite(days) && days > 0 ? days : null,
    paidMinor,
    costPerAcceptedCaseMinor: acceptedCases > 0 ? paidMinor / acceptedCases : null,
  };
}
