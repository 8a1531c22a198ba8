/**
 * Filters over the ledger for QA: which events concern a case, a batch or a
 * workforce, or are of a kind. Events name what they concern in their subject
 * and in their data (`caseId`, `cases`, `batchId`, `workforceId`, `decisions`).
 */
import type { LedgerEvent } from './model/index.js';

export interface LedgerFilter {
  caseId?: string;
  batchId?: string;
  workforceId?: string;
  /** An event type (`batch.accepted`) or a family (`batch`: every `batch.*`). */
  kind?: string;
}

const has = (list: unknown, id: string): boolean => Array.isArray(list) && list.includes(id);

/** Does the event concern this case? */
export function mentionsCase(e: LedgerEvent, caseId: string): boolean {
  const d = e.data;
  return (
    e.subject === caseId ||
    d.caseId === caseId ||
    has(d.cases, caseId) ||
    has(d.caseIds, caseId) ||
    (Array.isArray(d.decisions) && d.decisions.some((x) => (x as { caseId?: unknown })?.caseId === caseId))
  );
}

/** Does the event hold for every criterion of the filter? */
export function matchesLedgerFilter(e: LedgerEvent, f: LedgerFilter): boolean {
  if (f.kind !== undefined && e.type !== f.kind && !e.type.startsWith(`${f.kind}.`)) return false;
  if (f.batchId !== undefined && e.subject !== f.batchId && e.data.batchId !== f.batchId) return false;
  if (f.workforceId !== undefined && e.subject !== f.workforceId && e.data.workforceId !== f.workforceId) return false;
  if (f.caseId !== undefined && !mentionsCase(e, f.caseId)) return false;
  return true;
}

/** Time order: by `at`, then by event id (events of the same instant keep one order). */
export const ledgerOrder = (a: Pick<LedgerEvent, 'at' | 'eventId'>, b: Pick<LedgerEvent, 'at' | 'eventId'>): number =>
  a.at < b.at ? -1 : a.at > b.at ? 1 : a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
