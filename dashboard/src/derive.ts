/**
 * What the pages compute from the API's answers before they chart them: pure
 * functions of parsed responses (no DOM), unit-tested in test/unit/dashboard.
 */
import type { Batch, LedgerEvent, QualityReportT } from './api.js';

/** Per workforce, its scored batches in order (round, then batch id), numbered from 1. */
export function batchSeries(batches: Batch[]): (Batch & { ordinal: number; accuracy: number })[] {
  const scored = batches
    .filter((b) => b.score && b.score.goldN > 0)
    .sort((a, b) => a.workforceId.localeCompare(b.workforceId) || a.round - b.round || a.batchId.localeCompare(b.batchId));
  const seen = new Map<string, number>();
  return scored.map((b) => {
    const ordinal = (seen.get(b.workforceId) ?? 0) + 1;
    seen.set(b.workforceId, ordinal);
    return { ...b, ordinal, accuracy: (b.score?.goldCorrect ?? 0) / (b.score?.goldN ?? 1) };
  });
}

/** The subgroup heat map's cells: per attribute value, gold accuracy and each class's sensitivity. */
export function subgroupCells(report: QualityReportT): { key: string; metric: string; value: number | null; n: number; insufficient: boolean }[] {
  return report.groups.flatMap((g) => {
    const c = g.classification;
    if (!c) return [];
    return [
      { key: g.key, metric: 'gold accuracy', value: c.goldAccuracy.value, n: c.goldAccuracy.n, insufficient: c.goldAccuracy.insufficient },
      ...c.perClass.map((p) => ({ key: g.key, metric: `sensitivity ${p.class}`, value: p.sensitivity.value, n: p.sensitivity.n, insufficient: p.sensitivity.insufficient })),
    ];
  });
}

/** The share each workforce held in each round: the last shares.changed event of the round. */
export function sharesByRound(ledger: LedgerEvent[]): { round: number; workforceId: string; share: number }[] {
  const last = new Map<string, { round: number; workforceId: string; share: number }>();
  for (const e of ledger) {
    if (e.type !== 'shares.changed') continue;
    const { round, workforceId, to } = e.data as { round?: unknown; workforceId?: unknown; to?: unknown };
    if (typeof round !== 'number' || typeof workforceId !== 'string' || typeof to !== 'number') continue;
    last.set(`${round}|${workforceId}`, { round, workforceId, share: to });
  }
  return [...last.values()].sort((a, b) => a.round - b.round || a.workforceId.localeCompare(b.workforceId));
}

/** Batches counted by round and status. */
export function pipelineCounts(batches: Batch[]): { round: number; status: string; count: number }[] {
  const counts = new Map<string, { round: number; status: string; count: number }>();
  for (const b of batches) {
    const k = `${b.round}|${b.status}`;
    counts.set(k, { round: b.round, status: b.status, count: (counts.get(k)?.count ?? 0) + 1 });
  }
  return [...counts.values()].sort((a, b) => a.round - b.round || a.status.localeCompare(b.status));
}

/** Adjudications requested and neither decided nor expired: one row per batch and case. */
export function openAdjudications(ledger: LedgerEvent[]): { batchId: string; caseId: string; kinds: string; requestedAt: string }[] {
  const open = new Map<string, { batchId: string; caseId: string; kinds: string; requestedAt: string }>();
  const str = (x: unknown): string[] => (Array.isArray(x) ? x.filter((v): v is string => typeof v === 'string') : []);
  for (const e of ledger) {
    const batchId = typeof e.data.batchId === 'string' ? e.data.batchId : '';
    if (e.type === 'adjudication.requested') {
      for (const caseId of str(e.data.cases)) open.set(`${batchId}|${caseId}`, { batchId, caseId, kinds: str(e.data.kinds).join(', '), requestedAt: e.at });
    } else if (e.type === 'adjudication.decided') {
      const decisions = Array.isArray(e.data.decisions) ? e.data.decisions : [];
      for (const d of decisions) if (d && typeof d === 'object' && 'caseId' in d) open.delete(`${batchId}|${String(d.caseId)}`);
    } else if (e.type === 'adjudication.expired') {
      for (const caseId of str(e.data.cases)) open.delete(`${batchId}|${caseId}`);
    }
  }
  return [...open.values()];
}

/**
 * Drift alarms placed on the batch series: each `alarm.raised` at the point of
 * the batch it names (`data.batchId`, the alarming batch); an alarm naming a
 * batch not in the series is listed on the page but not drawn.
 */
export function alarmMarks<B extends { batchId: string }>(series: B[], ledger: LedgerEvent[]): (B & { reason: string })[] {
  return ledger
    .filter((e) => e.type === 'alarm.raised')
    .flatMap((e) => {
      const at = series.find((b) => b.batchId === e.data.batchId);
      return at ? [{ ...at, reason: `alarm ${e.subject}: ${e.reason}` }] : [];
    });
}
