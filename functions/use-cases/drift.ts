/**
 * Drift alarms (issue 12 bullet 2): folds the ledger's per-batch gold results
 * (`batch.scored`) of one protocol per workforce and, from the stored gold item
 * scores and labels, per annotator; runs the protocol's CUSUM and EWMA
 * (docs/quality-alarms.md) and records one `alarm.raised` per excursion. The
 * eventId names the chart, the unit and the alarming batch: the ledger only
 * grows, so a re-run (or a resume after a crash) finds the same excursions and
 * records nothing twice. Alarms are events only: no projection to write.
 */
import {
  examBatchIds,
  type ChainedLedgerEvent,
  type LedgerEventOf,
  type ProtocolVersion,
  type ScoredBatch,
  annotatorKey,
  driftAlarms,
  driftOf,
} from '../domain/index.js';
import { record } from './ledger.js';
import type { Deps } from './ports.js';

export interface CheckDriftResult {
  /** Units (workforces and annotators) charted. */
  units: number;
  alarms: number;
  appended: number;
}

type Scored = LedgerEventOf<'batch.scored'> & { seq?: number };

/** The protocol version to take the charts from: the one given, else the highest version scored. */
async function protocolFor(deps: Deps, protocolId: string, scored: readonly Scored[], given?: ProtocolVersion): Promise<ProtocolVersion | undefined> {
  if (given) return given;
  const versions = scored.map((e) => Number(e.protocol.slice(protocolId.length + 1))).filter(Number.isInteger);
  if (versions.length === 0) return undefined;
  return deps.repo.getProtocolVersion(protocolId, Math.max(...versions));
}

/** Per-annotator series: each scored batch's gold items split by who labelled them (from its stored labels). */
async function annotatorSeries(deps: Deps, scored: readonly Scored[]): Promise<Map<string, { workforceId: string; annotatorId: string; series: ScoredBatch[] }>> {
  const out = new Map<string, { workforceId: string; annotatorId: string; series: ScoredBatch[] }>();
  for (const e of scored) {
    const score = await deps.repo.getScore(e.subject);
    if (!score || score.items.length === 0) continue;
    const labels = await deps.repo.listBatchLabels(e.subject);
    const byCase = new Map(labels.map((l) => [l.caseId, l.annotatorId]));
    const counts = new Map<string, { goldN: number; goldCorrect: number }>();
    for (const item of score.items) {
      // A held batch has no stored label yet: its score names the annotator of the line.
      const annotatorId = byCase.get(item.caseId) ?? item.annotatorId;
      if (!annotatorId) continue;
      const c = counts.get(annotatorId) ?? { goldN: 0, goldCorrect: 0 };
      c.goldN += 1;
      c.goldCorrect += item.correct ? 1 : 0;
      counts.set(annotatorId, c);
    }
    for (const [annotatorId, c] of counts) {
      const key = annotatorKey(e.data.workforceId, annotatorId);
      const unit = out.get(key) ?? { workforceId: e.data.workforceId, annotatorId, series: [] };
      unit.series.push({ batchId: e.subject, at: e.at, ...c });
      out.set(key, unit);
    }
  }
  return out;
}

/**
 * Charts every workforce and annotator of a protocol and records new alarms.
 *
 * @example await checkDrift(deps, { programId: 'demo-cxr', protocolId: 'chest-xray' }) // { units: 5, alarms: 1, appended: 1 }
 */
export async function checkDrift(
  deps: Deps,
  input: { programId: string; protocolId: string; protocol?: ProtocolVersion; ledger?: readonly ChainedLedgerEvent[] },
): Promise<CheckDriftResult> {
  const ledger = input.ledger ?? (await deps.repo.listLedger(input.programId));
  // A qualification exam is a gate, not production work: its gold charts no drift.
  const seen = examBatchIds(ledger);
  const scored: Scored[] = [];
  for (const e of ledger) {
    if (e.type !== 'batch.scored' || !e.protocol.startsWith(`${input.protocolId}@`) || seen.has(e.subject)) continue;
    seen.add(e.subject);
    scored.push(e);
  }
  const protocol = await protocolFor(deps, input.protocolId, scored, input.protocol);
  if (!protocol) return { units: 0, alarms: 0, appended: 0 };
  const drift = driftOf(protocol);
  const ref = `${protocol.protocolId}@${protocol.version}`;

  const units: { workforceId: string; annotatorId?: string; series: ScoredBatch[] }[] = [];
  const byWorkforce = new Map<string, ScoredBatch[]>();
  for (const e of scored) {
    const series = byWorkforce.get(e.data.workforceId) ?? [];
    series.push({ batchId: e.subject, at: e.at, goldN: e.data.goldN, goldCorrect: e.data.goldCorrect });
    byWorkforce.set(e.data.workforceId, series);
  }
  for (const [workforceId, series] of [...byWorkforce].sort((a, b) => a[0].localeCompare(b[0]))) units.push({ workforceId, series });
  for (const [, unit] of [...(await annotatorSeries(deps, scored))].sort((a, b) => a[0].localeCompare(b[0]))) units.push(unit);

  let alarms = 0;
  let appended = 0;
  for (const unit of units) {
    // An annotator's subject is its key `<workforce>/<annotator>` (ids that already start with their workforce kept as they are).
    const subject = unit.annotatorId ? annotatorKey(unit.workforceId, unit.annotatorId) : unit.workforceId;
    for (const a of driftAlarms(unit.series, drift)) {
      alarms += 1;
      const outcome = await record(deps, {
        eventId: `${input.programId}:${input.protocolId}:alarm:${a.chart}:${subject}:${a.batchId}`,
        programId: input.programId,
        type: 'alarm.raised',
        actor: 'drift-monitor',
        protocol: ref,
        subject,
        reason: a.reason,
        data: {
          chart: a.chart,
          workforceId: unit.workforceId,
          ...(unit.annotatorId ? { annotatorId: unit.annotatorId } : {}),
          statistic: a.statistic,
          limit: a.limit,
          batchIds: a.batchIds,
          batchId: a.batchId,
          firstBatchAt: a.firstBatchAt,
          params: a.params,
        },
      });
      if (outcome === 'appended') appended += 1;
    }
  }
  return { units: units.length, alarms, appended };
}
