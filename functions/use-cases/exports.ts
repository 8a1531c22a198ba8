/**
 * Exports to the exports bucket — primary course:
 * 1. Build the file (CSV or JSON): scorecards, per-gold-item results, or accepted labels with their lineage.
 * 2. Write it once under `exports/<programId>/<what>/<sha256 prefix>.<csv|json>` (the id is the content's
 *    hash, so a retry after a crash writes the same key and the same event id: nothing twice).
 * 3. Record `export.created` (what, key, sha256, rows): the commit point.
 * 4. Answer the key, hash, rows and a presigned GET valid for EXPORT_URL_SECONDS.
 * The GET /exports/… routes (qa-queries.ts) still answer small files inline.
 *
 * Also the printable HTML quality report of one round (built on request, not stored).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Identifier, buildQualityReport, renderRoundReportHtml, toCsv } from '../domain/index.js';
import { NotFoundError } from './errors.js';
import { record } from './ledger.js';
import type { Deps } from './ports.js';
import { type ExportFile, exportAcceptedLabels, exportScorecards } from './qa-queries.js';
import { readQualityInputs } from './quality-report.js';
import { parse } from './work-queries.js';

export const EXPORT_KINDS = ['scorecards', 'gold-items', 'labels'] as const;
export const CreateExportInput = z.strictObject({
  programId: Identifier,
  what: z.enum(EXPORT_KINDS),
  format: z.enum(['csv', 'json']),
  actor: z.string().min(1),
});

/** How long an export's presigned GET stays valid. */
export const EXPORT_URL_SECONDS = 900;

export interface CreatedExport {
  what: (typeof EXPORT_KINDS)[number];
  format: 'csv' | 'json';
  bucket: string;
  key: string;
  sha256: string;
  rows: number;
  bytes: number;
  /** Presigned GET of the object. */
  url: string;
  expiresInSeconds: number;
}

const GOLD_ITEM_COLUMNS = ['protocol', 'round', 'batchId', 'workforceId', 'annotatorId', 'caseId', 'correct', 'expected', 'got', 'metrics', 'metricConvention', 'reasons'] as const;

/**
 * Every scored gold item of the program: batch, round, workforce and the
 * annotator who labelled it, the result and its figures (one row per item).
 */
export async function exportGoldItems(deps: Deps, input: { programId: string; format: 'csv' | 'json' }): Promise<ExportFile> {
  const rows: Record<string, unknown>[] = [];
  const protocols = [...new Set((await deps.repo.listRounds(input.programId)).map((r) => r.protocolId))].sort();
  for (const protocolId of protocols) {
    const read = await readQualityInputs(deps, input.programId, protocolId);
    const annotator = new Map(read.labels.filter((l) => l.gold).map((l) => [`${l.batchId}/${l.caseId}`, l.annotatorId]));
    const round = new Map(read.batches.map((b) => [b.batchId, b.round]));
    for (const s of [...read.scores].sort((a, b) => (round.get(a.batchId) ?? 0) - (round.get(b.batchId) ?? 0) || a.batchId.localeCompare(b.batchId))) {
      for (const i of s.items) {
        rows.push({
          protocol: s.protocol,
          round: round.get(s.batchId) ?? null,
          batchId: s.batchId,
          workforceId: s.workforceId,
          annotatorId: annotator.get(`${s.batchId}/${i.caseId}`) ?? i.annotatorId ?? null,
          caseId: i.caseId,
          correct: i.correct,
          expected: i.expected ?? null,
          got: i.got ?? null,
          metrics: i.metrics ?? null,
          metricConvention: i.metricConvention ?? null,
          reasons: i.reasons ?? [],
        });
      }
    }
  }
  const name = `${input.programId}-gold-items`;
  if (input.format === 'json') return { filename: `${name}.json`, contentType: 'application/json', body: `${JSON.stringify(rows, null, 2)}\n`, rows: rows.length };
  return { filename: `${name}.csv`, contentType: 'text/csv; charset=utf-8', body: toCsv(GOLD_ITEM_COLUMNS, rows.map((r) => GOLD_ITEM_COLUMNS.map((c) => r[c]))), rows: rows.length };
}

/** Writes an export to the exports bucket, records `export.created`, and answers a presigned GET. */
export async function createExport(deps: Deps, input: z.input<typeof CreateExportInput>): Promise<CreatedExport> {
  const req = parse(CreateExportInput, input);
  const rounds = await deps.repo.listRounds(req.programId);
  if (rounds.length === 0) throw new NotFoundError(`program ${req.programId} has no rounds yet: nothing to export`);
  const args = { programId: req.programId, format: req.format };
  const file = req.what === 'scorecards' ? await exportScorecards(deps, args) : req.what === 'labels' ? await exportAcceptedLabels(deps, args) : await exportGoldItems(deps, args);
  const bytes = new TextEncoder().encode(file.body);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const key = `exports/${req.programId}/${req.what}/${sha256.slice(0, 16)}.${req.format}`;
  await deps.objects.putOnce(deps.buckets.exports, key, bytes, file.contentType);
  await record(deps, {
    eventId: `${req.programId}:export:${req.what}:${req.format}:${sha256.slice(0, 16)}`,
    programId: req.programId,
    type: 'export.created',
    actor: req.actor,
    protocol: [...new Set(rounds.map((r) => r.protocolId))].sort().join(','),
    subject: key,
    reason: `${req.what} exported as ${req.format.toUpperCase()}: ${file.rows} rows`,
    data: { what: req.what, key, sha256, rows: file.rows },
  });
  const url = await deps.objects.presignGet(deps.buckets.exports, key, EXPORT_URL_SECONDS);
  return { what: req.what, format: req.format, bucket: deps.buckets.exports, key, sha256, rows: file.rows, bytes: bytes.byteLength, url, expiresInSeconds: EXPORT_URL_SECONDS };
}

export const RoundReportInput = z.strictObject({ programId: Identifier, round: z.coerce.number().int().min(1) });

/** The printable HTML quality report of one round (its batches, grouped by workforce). */
export async function renderRoundReport(deps: Deps, input: z.input<typeof RoundReportInput>): Promise<string> {
  const req = parse(RoundReportInput, input);
  const round = await deps.repo.getRound(req.programId, req.round);
  if (!round) throw new NotFoundError(`program ${req.programId} has no round ${req.round}`);
  const read = await readQualityInputs(deps, req.programId, round.protocolId);
  const batches = read.batches.filter((b) => b.round === req.round);
  const inRound = new Set(batches.map((b) => b.batchId));
  const report = buildQualityReport({
    programId: req.programId,
    protocol: read.protocol,
    by: 'workforce',
    batches,
    scores: read.scores.filter((s) => inRound.has(s.batchId)),
    labels: read.labels.filter((l) => inRound.has(l.batchId)),
    cases: await deps.repo.listCases(req.programId),
    events: read.events,
  });
  return renderRoundReportHtml(report, { round: req.round, generatedAt: deps.clock.now().toISOString() });
}
