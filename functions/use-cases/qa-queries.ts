/**
 * What a QA lead reads: scorecards, the ledger in time order with filters, a
 * case's full trace, and exports (CSV or JSON) of scorecards and accepted labels.
 * Read-only.
 */
import { z } from 'zod';
import {
  type ChainedLedgerEvent,
  type ExpertPanelAgreement,
  Identifier,
  LedgerEventType,
  type LedgerFrontier,
  type Scorecard,
  type StoredLabel,
  expertPanelAgreement,
  frontierOf,
  matchesLedgerFilter,
  toCsv,
} from '../domain/index.js';
import { Cursor, PageLimit, decodeCursor, encodeCursor, DEFAULT_PAGE_LIMIT } from './cursor.js';
import { InvalidInputError } from './errors.js';
import type { Deps } from './ports.js';
import { parse } from './work-queries.js';

export const GetScorecardsInput = z.strictObject({ programId: Identifier });

/**
 * Every scorecard of a program (all protocols), by protocol then workforce —
 * internal teams included (their blind gold) — and the expert panel's agreement
 * on its decided adjudications.
 */
export async function getScorecards(
  deps: Deps,
  input: z.input<typeof GetScorecardsInput>,
): Promise<{ programId: string; items: Scorecard[]; expertAgreement: ExpertPanelAgreement }> {
  const req = parse(GetScorecardsInput, input);
  const items = (await deps.repo.listProgramScorecards(req.programId)).sort(
    (a, b) => a.protocolId.localeCompare(b.protocolId) || a.workforceId.localeCompare(b.workforceId),
  );
  return { programId: req.programId, items, expertAgreement: expertPanelAgreement(await deps.repo.listAdjudications(req.programId)) };
}

const EVENT_FAMILIES = [...new Set(LedgerEventType.options.map((t) => t.split('.')[0]))];

export const QueryLedgerInput = z.strictObject({
  programId: Identifier,
  caseId: Identifier.optional(),
  batchId: Identifier.optional(),
  workforceId: Identifier.optional(),
  kind: z
    .string()
    .refine((k) => LedgerEventType.safeParse(k).success || EVENT_FAMILIES.includes(k), {
      message: `an event type (${LedgerEventType.options.join(', ')}) or a family (${EVENT_FAMILIES.join(', ')})`,
    })
    .optional(),
  cursor: Cursor.optional(),
  limit: PageLimit.optional(),
});

/** A page of the ledger continues after the seq of the last event returned. */
/** The last seq read per ledger chain (functions/domain/ledger-merge.ts: a frontier, which no late-landing event slips behind). */
const LedgerCursor = z.record(z.string().regex(/^(legacy|\d{2})$/), z.number().int().nonnegative());
/** Events read per ledger Query while filling a filtered page. */
const LEDGER_READ_PAGE = 200;

/**
 * The ledger of a program in time order (its chains merged: functions/domain/ledger-merge.ts),
 * filtered by case, batch, workforce and event kind (all given criteria hold).
 * Pages continue after the frontier of the last event returned (the last seq read
 * per chain), so events appended meanwhile come on later pages and none is skipped
 * or repeated.
 */
export async function queryLedger(
  deps: Deps,
  input: z.input<typeof QueryLedgerInput>,
): Promise<{ items: ChainedLedgerEvent[]; next?: string }> {
  const req = parse(QueryLedgerInput, input);
  const limit = req.limit ?? DEFAULT_PAGE_LIMIT;
  let after: LedgerFrontier = {};
  if (req.cursor) {
    const key = LedgerCursor.safeParse(decodeCursor(req.cursor));
    if (!key.success) throw new InvalidInputError('cursor: not a cursor of this listing');
    after = key.data;
  }
  // One more match than the page holds tells whether a next page exists; `read` is the frontier of what was read.
  const matched: ChainedLedgerEvent[] = [];
  const seen = new Set<string>();
  let read: LedgerFrontier = after;
  let cursorAfter: LedgerFrontier | undefined;
  for (let more = true; more && matched.length <= limit; ) {
    const page = await deps.repo.listLedgerPage(req.programId, { after: read, limit: Math.max(LEDGER_READ_PAGE, limit + 1) });
    for (const e of page.items) {
      read = frontierOf([e], read);
      if (seen.has(e.eventId)) continue;
      seen.add(e.eventId);
      if (!matchesLedgerFilter(e, req)) continue;
      matched.push(e);
      if (matched.length === limit) cursorAfter = read;
      if (matched.length > limit) break;
    }
    more = page.next !== undefined;
  }
  const items = matched.slice(0, limit);
  return { items, ...(matched.length > limit && cursorAfter ? { next: encodeCursor(cursorAfter) } : {}) };
}

// The case trace lives in its own module (case-trace.ts); re-exported for callers of this one.
export { type CaseTrace, TraceCaseInput, traceCase } from './case-trace.js';

export const ExportInput = z.strictObject({ programId: Identifier, format: z.enum(['csv', 'json']) });

/** A file to hand to the caller. */
export interface ExportFile {
  filename: string;
  contentType: 'text/csv; charset=utf-8' | 'application/json';
  body: string;
  rows: number;
}

const SCORECARD_COLUMNS = [
  'protocolId',
  'workforceId',
  'batches',
  'batchesAccepted',
  'batchesRejected',
  'goldN',
  'goldCorrect',
  'accuracy',
  'intervalLower',
  'intervalUpper',
  'insufficient',
  'slaMisses',
  'slaAdherence',
  'acceptedCases',
  'paid',
  'costPerAcceptedCase',
] as const;

/** The program's scorecards as CSV (one row per protocol and workforce) or JSON. */
export async function exportScorecards(deps: Deps, input: z.input<typeof ExportInput>): Promise<ExportFile> {
  const req = parse(ExportInput, input);
  const { items } = await getScorecards(deps, { programId: req.programId });
  const rows = items.map((c) => ({ ...c, intervalLower: c.interval?.lower ?? null, intervalUpper: c.interval?.upper ?? null }));
  return file(`${req.programId}-scorecards`, req.format, SCORECARD_COLUMNS, rows, items);
}

const LABEL_COLUMNS = [
  'caseId',
  'label',
  'findings',
  'workforceId',
  'annotatorId',
  'protocol',
  'batchId',
  'adjudicationId',
  'submissionKey',
  'submissionSha256',
  'submissionVersionId',
  'createdAt',
] as const;

/**
 * The program's accepted labels — the dataset: no label on a gold item, none
 * rejected or superseded — with their lineage (who, protocol, the uploaded file,
 * its SHA-256 and version; an adjudicated label names its adjudication), by case.
 */
export async function exportAcceptedLabels(deps: Deps, input: z.input<typeof ExportInput>): Promise<ExportFile> {
  const req = parse(ExportInput, input);
  const labels = await listAcceptedLabels(deps, req.programId);
  return file(`${req.programId}-accepted-labels`, req.format, LABEL_COLUMNS, labels, labels);
}

/**
 * The accepted labels of a program (every protocol), by case: the labels of every
 * round's batches and of every decided adjudication that are accepted and not on
 * a gold item. The export and dataset releases (releases.ts) select with this.
 */
export async function listAcceptedLabels(deps: Deps, programId: string): Promise<StoredLabel[]> {
  const sources: string[] = [];
  for (const r of await deps.repo.listRounds(programId)) sources.push(...r.batchIds);
  for (const a of await deps.repo.listAdjudications(programId)) if (a.status === 'decided') sources.push(a.adjudicationId);
  const labels: StoredLabel[] = [];
  for (const id of sources) {
    for (const l of await deps.repo.listBatchLabels(id)) if (l.status === 'accepted' && !l.gold) labels.push(l);
  }
  return labels.sort((a, b) => a.caseId.localeCompare(b.caseId) || a.createdAt.localeCompare(b.createdAt) || a.batchId.localeCompare(b.batchId));
}

function file(
  name: string,
  format: 'csv' | 'json',
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
  json: unknown[],
): ExportFile {
  if (format === 'json') return { filename: `${name}.json`, contentType: 'application/json', body: `${JSON.stringify(json, null, 2)}\n`, rows: json.length };
  return {
    filename: `${name}.csv`,
    contentType: 'text/csv; charset=utf-8',
    body: toCsv(columns, rows.map((r) => columns.map((c) => r[c]))),
    rows: rows.length,
  };
}
