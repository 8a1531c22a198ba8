/**
 * The quality report of a program's protocol — primary course:
 * 1. Find the protocol (the one named, or the program's only one) and its latest version with batches.
 * 2. Read its batches round by round (paged), their scores and labels, the cases and the ledger (paged).
 * 3. Detection: read the gold findings of the gold pool for FROC.
 *    Segmentation: read the masks of the cases three or more workforces segmented (at most MAX_STAPLE_CASES) for STAPLE.
 * 4. Build the report (pure: functions/domain/quality/report.ts).
 * Read-only. Bounded: at most MAX_REPORT_BATCHES batches are read.
 */
import { z } from 'zod';
import {
  type BatchScore,
  type ChainedLedgerEvent,
  GoldAnswer,
  Identifier,
  type LedgerFrontier,
  type Lesion,
  type ProtocolVersion,
  QualityGrouping,
  type QualityReport,
  type StapleCaseMasks,
  type StoredLabel,
  buildQualityReport,
  decodeUploadedMask,
} from '../domain/index.js';
import { goldSetObject } from './batch-key.js';
import { IntegrityError, InvalidInputError, NotFoundError } from './errors.js';
import type { BatchRecord, Deps } from './ports.js';
import { readLabelSubmission } from './submission-file.js';
import { parse } from './work-queries.js';

export const GetQualityReportInput = z.strictObject({
  programId: Identifier,
  /** The protocol id; omitted: the program's only protocol. */
  protocol: Identifier.optional(),
  by: QualityGrouping.default('workforce'),
  /** By subgroup: Holm (family-wise error rate, default) or Benjamini–Hochberg (false discovery rate). */
  correction: z.enum(['holm', 'benjamini-hochberg']).optional(),
});

/** A report reads every batch of the protocol; beyond this it refuses rather than run unbounded. */
export const MAX_REPORT_BATCHES = 5000;
const PAGE = 200;

/** The inputs a report is built from, as read from the store (the integration test recomputes from them). */
export interface QualityReadout {
  protocol: ProtocolVersion;
  batches: BatchRecord[];
  scores: BatchScore[];
  labels: StoredLabel[];
  events: ChainedLedgerEvent[];
}

/** Reads the stored inputs of a protocol's quality report. */
export async function readQualityInputs(deps: Deps, programId: string, protocolId?: string): Promise<QualityReadout> {
  const rounds = await deps.repo.listRounds(programId);
  const ids = [...new Set(rounds.map((r) => r.protocolId))].sort();
  const chosen = protocolId ?? (ids.length === 1 ? ids[0] : undefined);
  if (!chosen) {
    if (ids.length === 0) throw new NotFoundError(`program ${programId} has no rounds yet: nothing to report`);
    throw new InvalidInputError(`protocol: program ${programId} has several protocols (${ids.join(', ')}): name one`);
  }
  if (!ids.includes(chosen)) throw new NotFoundError(`program ${programId} has no round under protocol ${chosen} (its protocols: ${ids.join(', ') || 'none'})`);

  const batches: BatchRecord[] = [];
  for (const r of rounds.filter((x) => x.protocolId === chosen)) {
    let after: Record<string, string | number> | undefined;
    do {
      const page = await deps.repo.listRoundBatchesPage(programId, r.round, { limit: PAGE, ...(after ? { after } : {}) });
      batches.push(...page.items.filter((b) => b.protocol.startsWith(`${chosen}@`)));
      after = page.next;
      if (batches.length > MAX_REPORT_BATCHES) throw new InvalidInputError(`protocol ${chosen} has more than ${MAX_REPORT_BATCHES} batches: a report this large is not built on request`);
    } while (after);
  }
  const version = Math.max(...batches.map((b) => Number(b.protocol.split('@')[1])));
  if (!Number.isFinite(version)) throw new NotFoundError(`protocol ${chosen} of program ${programId} has no batch yet: nothing to report`);
  const protocol = await deps.repo.getProtocolVersion(chosen, version);
  if (!protocol) throw new NotFoundError(`protocol ${chosen}@${version} not found`);

  const scores: BatchScore[] = [];
  const labels: StoredLabel[] = [];
  for (const b of batches) {
    const s = await deps.repo.getScore(b.batchId);
    if (s) scores.push(s);
    labels.push(...(await deps.repo.listBatchLabels(b.batchId)));
  }
  const events: ChainedLedgerEvent[] = [];
  for (let after: LedgerFrontier | undefined, more = true; more; ) {
    const page = await deps.repo.listLedgerPage(programId, { ...(after ? { after } : {}), limit: PAGE });
    events.push(...page.items);
    more = page.next !== undefined;
    after = page.next;
  }
  return { protocol, batches, scores, labels, events };
}

/**
 * The gold findings of the program's gold cases (detection), by case, from the
 * gold pool (`gold-sets/<program>/<protocol>.json`, which the API may read). The
 * per-batch answers under `batch-answers/` are not read: only scoring may.
 */
async function readGoldFindings(deps: Deps, programId: string, protocolId: string): Promise<Map<string, Lesion[]>> {
  const raw = (await deps.objects.getJson<unknown>(deps.buckets.gold, goldSetObject(programId, protocolId))) ?? {};
  const pool = z.record(z.string(), z.looseObject({ label: GoldAnswer })).safeParse(raw);
  if (!pool.success) throw new IntegrityError(`the gold pool of ${programId}/${protocolId} does not parse: ${pool.error.issues[0]?.message}`);
  const out = new Map<string, Lesion[]>();
  for (const [caseId, g] of Object.entries(pool.data)) {
    const a = g.label;
    if (typeof a === 'object' && 'findings' in a) out.set(caseId, a.findings.map((f, k) => ({ ...f, id: f.id ?? `finding-${k + 1}` })));
  }
  return out;
}

/** STAPLE reads and decodes every rater's mask of a case: at most this many cases per report. */
export const MAX_STAPLE_CASES = 20;

/**
 * The masks of the cases three or more workforces segmented (their own labels:
 * no gold item, no adjudication), each read from its uploaded file at the
 * ingested version and checked against the recorded SHA-256. The first
 * MAX_STAPLE_CASES such cases by case id.
 */
async function readStapleMasks(deps: Deps, labels: readonly StoredLabel[]): Promise<StapleCaseMasks[]> {
  const byCase = new Map<string, Map<string, StoredLabel>>();
  for (const l of labels) {
    if (l.gold || l.adjudicationId || !l.maskRef) continue;
    const m = byCase.get(l.caseId) ?? new Map<string, StoredLabel>();
    byCase.set(l.caseId, m);
    if (!m.has(l.workforceId)) m.set(l.workforceId, l);
  }
  const chosen = [...byCase.entries()].filter(([, m]) => m.size >= 3).sort(([a], [b]) => a.localeCompare(b)).slice(0, MAX_STAPLE_CASES);
  const files = new Map<string, string[]>();
  const out: StapleCaseMasks[] = [];
  for (const [caseId, m] of chosen) {
    const raters: StapleCaseMasks['raters'] = [];
    for (const [rater, l] of [...m.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const fileKey = `${l.submissionKey}@${l.submissionVersionId ?? ''}`;
      let lines = files.get(fileKey);
      if (!lines) {
        const bytes = await readLabelSubmission(deps, l);
        lines = new TextDecoder().decode(bytes).split(/\r?\n/);
        files.set(fileKey, lines);
      }
      const line = lines[(l.maskRef?.line ?? 0) - 1];
      if (line === undefined) throw new IntegrityError(`submission ${l.submissionKey} has no line ${l.maskRef?.line}`);
      raters.push({ rater, masks: decodeUploadedMask(JSON.parse(line).mask) });
    }
    out.push({ caseId, raters });
  }
  return out;
}

/**
 * The quality report of a program's protocol, grouped by workforce, annotator,
 * round, protocol version or a case attribute (`subgroup:site`, `subgroup:ageBand`, …).
 */
export async function getQualityReport(deps: Deps, input: z.input<typeof GetQualityReportInput>): Promise<QualityReport> {
  const req = parse(GetQualityReportInput, input);
  const read = await readQualityInputs(deps, req.programId, req.protocol);
  const cases = await deps.repo.listCases(req.programId);
  const goldFindings = read.protocol.task.type === 'detection' ? await readGoldFindings(deps, req.programId, read.protocol.protocolId) : undefined;
  const stapleCases = read.protocol.task.type === 'segmentation' ? await readStapleMasks(deps, read.labels) : undefined;
  return buildQualityReport({
    programId: req.programId,
    protocol: read.protocol,
    by: req.by,
    ...(req.correction ? { correction: req.correction } : {}),
    batches: read.batches,
    scores: read.scores,
    labels: read.labels,
    cases,
    events: read.events,
    ...(goldFindings ? { goldFindings } : {}),
    ...(stapleCases ? { stapleCases } : {}),
  });
}
