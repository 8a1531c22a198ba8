/**
 * Filters over the ledger for QA: which events concern a case, a batch or a
 * workforce, or are of a kind. Each kind names what it concerns in its subject
 * and in its typed data; the switches below read them per kind (a new kind that
 * names a case, batch or workforce is added here, and the compiler lists the kinds).
 */
import type { LedgerEvent } from './model/index.js';

export interface LedgerFilter {
  caseId?: string;
  batchId?: string;
  workforceId?: string;
  /** An event type (`batch.accepted`) or a family (`batch`: every `batch.*`). */
  kind?: string;
}

/** The cases an event names in its data (beside its subject). */
export function casesOfEvent(e: LedgerEvent): readonly string[] {
  switch (e.type) {
    case 'batch.dispatched':
    case 'labels.recorded':
    case 'cases.requeued':
      return e.data.caseIds;
    case 'cases.ingested':
    case 'adjudication.requested':
    case 'adjudication.expired':
      return e.data.cases;
    case 'adjudication.decided':
      return e.data.decisions.map((d) => d.caseId);
    case 'case.quarantine-released':
    case 'case.image-replaced':
    case 'case.format-attested':
    case 'case.assigned':
      return [e.data.caseId];
    case 'dispute.opened':
    case 'dispute.upheld':
    case 'dispute.refused':
    case 'dispute.expired':
      return e.data.goldCaseIds;
    case 'batch.rescored':
      return [...e.data.corrections.map((c) => c.goldCaseId), ...e.data.labelledCaseIds];
    default:
      return [];
  }
}

/** The batch an event concerns, where its data names one (batch events name it as their subject). */
function batchOfEvent(e: LedgerEvent): string | undefined {
  switch (e.type) {
    case 'adjudication.requested':
    case 'adjudication.decided':
    case 'adjudication.expired':
    case 'dispute.opened':
    case 'dispute.upheld':
    case 'dispute.refused':
    case 'dispute.expired':
      return e.data.batchId;
    default:
      return undefined;
  }
}

/** The workforce an event concerns, where its data names one. */
export function workforceOfEvent(e: LedgerEvent): string | undefined {
  return 'workforceId' in e.data ? e.data.workforceId : undefined;
}

/** Does the event concern this case? */
export function mentionsCase(e: LedgerEvent, caseId: string): boolean {
  return e.subject === caseId || casesOfEvent(e).includes(caseId);
}

/** Does the event hold for every criterion of the filter? */
export function matchesLedgerFilter(e: LedgerEvent, f: LedgerFilter): boolean {
  if (f.kind !== undefined && e.type !== f.kind && !e.type.startsWith(`${f.kind}.`)) return false;
  if (f.batchId !== undefined && e.subject !== f.batchId && batchOfEvent(e) !== f.batchId) return false;
  if (f.workforceId !== undefined && e.subject !== f.workforceId && workforceOfEvent(e) !== f.workforceId) return false;
  if (f.caseId !== undefined && !mentionsCase(e, f.caseId)) return false;
  return true;
}

/** Time order: by `at`, then by event id (events of the same instant keep one order). */
export const ledgerOrder = (a: Pick<LedgerEvent, 'at' | 'eventId'>, b: Pick<LedgerEvent, 'at' | 'eventId'>): number =>
  a.at < b.at ? -1 : a.at > b.at ? 1 : a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
