/**
 * What a QA lead reads: scorecards, the ledger in time order with filters, a
 * case's full trace, and exports (CSV or JSON) of scorecards and accepted labels.
 * Read-only.
 */
import { z } from 'zod';
import {
  type Case,
  Identifier,
  type LedgerEvent,
  LedgerEventType,
  type Scorecard,
  type StoredLabel,
  ledgerOrder,
  matchesLedgerFilter,
  mentionsCase,
  toCsv,
} from '../domain/index.js';
import { Cursor, PageLimit, decodeCursor, encodeCursor, DEFAULT_PAGE_LIMIT } from './cursor.js';
import { InvalidInputError, NotFoundError } from './errors.js';
import type { AdjudicationRecord, BatchRecord, Deps } from './ports.js';
import { parse } from './work-queries.js';

export const GetScorecardsInput = z.strictObject({ programId: Identifier });

/** Every scorecard of a program (all protocols), by protocol then workforce. */
export async function getScorecards(deps: Deps, input: z.input<typeof GetScorecardsInput>): Promise<{ programId: string; items: Scorecard[] }> {
  const req = parse(GetScorecardsInput, input);
  const items = (await deps.repo.listProgramScorecards(req.programId)).sort(
    (a, b) => a.protocolId.localeCompare(b.protocolId) || a.workforceId.localeCompare(b.workforceId),
  );
  return { programId: req.programId, items };
}

const EVENT_FAMILIES = [...new Set(LedgerEventType.options.map((t) => t.split('.')[0]))];

export const QueryLedgerInput = z.strictObject({
  programId: Identifier,
  caseId: Identifier.optional(),
  batchId: Identifier.optional(),
  workforceId: Identifier.optional(),
  kind: z
    .string()
    .refine((k) => (LedgerEventType.options as readonly string[]).includes(k) || EVENT_FAMILIES.includes(k), {
      message: `an event type (${LedgerEventType.options.join(', ')}) or a family (${EVENT_FAMILIES.join(', ')})`,
    })
    .optional(),
  cursor: Cursor.optional(),
  limit: PageLimit.optional(),
});

const LedgerCursor = z.strictObject({ at: z.iso.datetime(), eventId: z.string().min(1).max(1024) });

/**
 * The ledger of a program in time order, filtered by case, batch, workforce and
 * event kind (all given criteria hold). Pages continue after the last event
 * returned (its time and id), so events appended meanwhile at later times are
 * not skipped.
 */
export async function queryLedger(
  deps: Deps,
  input: z.input<typeof QueryLedgerInput>,
): Promise<{ items: LedgerEvent[]; next?: string }> {
  const req = parse(QueryLedgerInput, input);
  const limit = req.limit ?? DEFAULT_PAGE_LIMIT;
  let after: z.infer<typeof LedgerCursor> | undefined;
  if (req.cursor) {
    const key = LedgerCursor.safeParse(decodeCursor(req.cursor));
    if (!key.success) throw new InvalidInputError('cursor: not a cursor of this listing');
    after = key.data;
  }
  const events = (await deps.repo.listLedger(req.programId))
    .filter((e) => matchesLedgerFilter(e, req))
    .sort(ledgerOrder)
    .filter((e) => !after || ledgerOrder(e, after) > 0);
  const items = events.slice(0, limit);
  const last = items.at(-1);
  return { items, ...(events.length > limit && last ? { next: encodeCursor({ at: last.at, eventId: last.eventId }) } : {}) };
}

export const TraceCaseInput = z.strictObject({ programId: Identifier.optional(), caseId: Identifier });

export interface CaseTrace {
  programId: string;
  case: Case & { goldPool: boolean; state: string; batchId?: string };
  batches: Pick<BatchRecord, 'batchId' | 'round' | 'protocol' | 'workforceId' | 'workforceKind' | 'status'>[];
  labels: StoredLabel[];
  adjudications: Pick<AdjudicationRecord, 'adjudicationId' | 'batchId' | 'status' | 'decidedBy' | 'decidedAt' | 'decisions' | 'needs'>[];
  /** Every ledger event that concerns the case, in time order. */
  events: LedgerEvent[];
}

/**
 * A case's full trace: the case record (state, gate findings, release,
 * assignment), the batches it went to, every label with its lineage, its
 * adjudications and the ledger events that name it. Without `programId`, the
 * registered programs are searched for the case.
 */
export async function traceCase(deps: Deps, input: z.input<typeof TraceCaseInput>): Promise<CaseTrace> {
  const req = parse(TraceCaseInput, input);
  const programs = req.programId ? [req.programId] : await deps.repo.listPrograms();
  let programId: string | undefined;
  let c: CaseTrace['case'] | undefined;
  for (const p of programs) {
    c = await deps.repo.getCase(p, req.caseId);
    if (c) {
      programId = p;
      break;
    }
  }
  if (!c || !programId) throw new NotFoundError(`case ${req.caseId} not found`);
  const adjudications = (await deps.repo.listAdjudications(programId)).filter((a) => a.needs.some((n) => n.caseId === req.caseId));
  const adjudicationIds = new Set(adjudications.map((a) => a.adjudicationId));
  // Case ids are a program's own: keep labels of this program's batches (and adjudications) only.
  const batchOf = new Map<string, BatchRecord | undefined>();
  const batchRecord = async (id: string) => {
    if (!batchOf.has(id)) batchOf.set(id, await deps.repo.getBatch(id));
    return batchOf.get(id);
  };
  const labels: StoredLabel[] = [];
  for (const l of await deps.repo.listCaseLabels(req.caseId)) {
    if (adjudicationIds.has(l.batchId) || (await batchRecord(l.batchId))?.programId === programId) labels.push(l);
  }
  const events = (await deps.repo.listLedger(programId)).filter((e) => mentionsCase(e, req.caseId)).sort(ledgerOrder);
  const batchIds = new Set([...labels.map((l) => l.batchId), ...(c.batchId ? [c.batchId] : [])]);
  const batches = [];
  for (const id of [...batchIds].sort()) {
    const b = await batchRecord(id);
    if (b?.programId === programId) {
      batches.push({ batchId: b.batchId, round: b.round, protocol: b.protocol, workforceId: b.workforceId, workforceKind: b.workforceKind, status: b.status });
    }
  }
  return {
    programId,
    case: c,
    batches,
    labels: labels.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.batchId.localeCompare(b.batchId)),
    adjudications: adjudications.map((a) => ({
      adjudicationId: a.adjudicationId,
      batchId: a.batchId,
      status: a.status,
      ...(a.decidedBy ? { decidedBy: a.decidedBy } : {}),
      ...(a.decidedAt ? { decidedAt: a.decidedAt } : {}),
      ...(a.decisions ? { decisions: a.decisions.filter((d) => d.caseId === req.caseId) } : {}),
      needs: a.needs.filter((n) => n.caseId === req.caseId),
    })),
    events,
  };
}

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
  const sources: string[] = [];
  for (const r of await deps.repo.listRounds(req.programId)) sources.push(...r.batchIds);
  for (const a of await deps.repo.listAdjudications(req.programId)) if (a.status === 'decided') sources.push(a.adjudicationId);
  const labels: StoredLabel[] = [];
  for (const id of sources) {
    for (const l of await deps.repo.listBatchLabels(id)) if (l.status === 'accepted' && !l.gold) labels.push(l);
  }
  labels.sort((a, b) => a.caseId.localeCompare(b.caseId) || a.createdAt.localeCompare(b.createdAt) || a.batchId.localeCompare(b.batchId));
  return file(`${req.programId}-accepted-labels`, req.format, LABEL_COLUMNS, labels, labels);
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
