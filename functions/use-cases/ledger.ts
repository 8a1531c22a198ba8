import { LedgerEvent, type LedgerEventInput } from '../domain/index.js';
import type { Deps } from './ports.js';

/**
 * Appends a ledger event stamped with the clock and the schema version; a
 * repeat (same id) is a no-op and answers 'duplicate'. The event is parsed by
 * its kind's schema first: what is stored is what the type says.
 *
 * One rule for writes (docs/data-model.md): the event is the commit point of a
 * decision. A use case loads state, decides, appends its event(s) through here,
 * THEN writes the projections (batch status, case state, shares, scorecards,
 * workforce fields) with idempotent or conditional writes. A retry after a crash
 * finds the event (duplicate: nothing appended twice) and re-applies the
 * projections, so no state is ever written without its event and nothing is
 * counted twice.
 *
 * @example await record(deps, { eventId: `${b.batchId}:overdue`, programId, type: 'batch.overdue', actor: 'sla-timer', protocol, subject: b.batchId, reason, data: { workforceId, slaHours: 48, timeout: 'States.Timeout' } })
 */
export async function record(deps: Deps, e: LedgerEventInput): Promise<'appended' | 'duplicate'> {
  return deps.repo.appendLedger(LedgerEvent.parse({ ...e, v: 1, at: deps.clock.now().toISOString() }));
}
