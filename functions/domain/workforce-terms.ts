/**
 * A workforce's terms as the ledger states them: the fold of its
 * `workforce.created`, `workforce.changed`, `workforce.paused` and
 * `workforce.resumed` events. The stored workforce item is a projection of
 * these; a change whose event was appended but whose item update was lost
 * (a crash between the two) shows as a difference, and is applied on the next
 * change (workforces.ts).
 */
import type { LedgerEvent, Workforce } from './model/index.js';

export type WorkforceTerms = Partial<Pick<Workforce, 'pricePerCase' | 'capacityPerRound' | 'slaHours' | 'qualifications' | 'paused'>>;

/**
 * The terms the ledger gives a workforce, from its events in ledger order (a
 * field no event names is absent: the stored item is its only record).
 *
 * @example workforceTermsFromLedger(events, 'vendor-b') // { pricePerCase: 1.5, paused: true }
 */
export function workforceTermsFromLedger(events: readonly LedgerEvent[], workforceId: string): WorkforceTerms {
  const terms: WorkforceTerms = {};
  for (const e of events) {
    switch (e.type) {
      case 'workforce.created':
        if (e.data.workforceId !== workforceId) break;
        terms.pricePerCase = e.data.pricePerCase;
        terms.capacityPerRound = e.data.capacityPerRound;
        terms.slaHours = e.data.slaHours;
        terms.qualifications = e.data.qualifications;
        terms.paused = e.data.paused;
        break;
      case 'workforce.changed': {
        if (e.data.workforceId !== workforceId) break;
        const c = e.data.changes;
        if (c.pricePerCase) terms.pricePerCase = c.pricePerCase.to;
        if (c.capacityPerRound) terms.capacityPerRound = c.capacityPerRound.to;
        if (c.slaHours) terms.slaHours = c.slaHours.to;
        if (c.qualifications) terms.qualifications = c.qualifications.to;
        break;
      }
      case 'workforce.paused':
      case 'workforce.resumed':
        if (e.data.workforceId === workforceId) terms.paused = e.data.to === 'paused';
        break;
    }
  }
  return terms;
}
