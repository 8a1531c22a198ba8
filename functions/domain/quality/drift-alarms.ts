/**
 * From per-batch gold results to alarms: runs the protocol's CUSUM and EWMA on
 * one unit's (a workforce's or an annotator's) series, in batch order, and
 * names each excursion by its batches. Pure; the use case
 * (functions/use-cases/drift.ts) reads the series from the ledger and records
 * one `alarm.raised` per excursion.
 */
import type { ProtocolDrift } from '../model/protocol-drift.js';
import { runCusum, runEwma } from './drift.js';

/** One scored batch of a unit, in order. */
export interface ScoredBatch {
  batchId: string;
  /** When the batch was scored (the batch.scored event's time). */
  at: string;
  goldN: number;
  goldCorrect: number;
}

export interface DriftAlarm {
  chart: 'cusum' | 'ewma';
  statistic: number;
  limit: number;
  batchIds: string[];
  /** The alarming batch. */
  batchId: string;
  firstBatchAt: string;
  params: Record<string, number>;
  /** In words, for the ledger's reason. */
  reason: string;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** Every excursion of both charts over one unit's series, CUSUM's first. */
export function driftAlarms(series: readonly ScoredBatch[], drift: ProtocolDrift): DriftAlarm[] {
  const { p0, p1, h } = drift.cusum;
  const { lambda, L } = drift.ewma;
  const out: DriftAlarm[] = [];
  const named = (indices: number[]) => ({
    batchIds: indices.map((i) => series[i].batchId),
    batchId: series[indices[indices.length - 1]].batchId,
    firstBatchAt: series[indices[0]].at,
  });
  for (const e of runCusum(series, { p0, p1, h }).excursions) {
    const where = named(e.indices);
    out.push({
      chart: 'cusum',
      statistic: e.statistic,
      limit: e.limit,
      ...where,
      params: { p0, p1, h },
      reason: `CUSUM of gold errors reached ${e.statistic.toFixed(2)} excess errors ≥ h = ${e.limit.toFixed(2)} over ${where.batchIds.length} batch(es) (in control ${pct(p0)}, tuned to catch ${pct(p1)})`,
    });
  }
  for (const e of runEwma(series, { p0, lambda, L }).excursions) {
    const where = named(e.indices);
    out.push({
      chart: 'ewma',
      statistic: e.statistic,
      limit: e.limit,
      ...where,
      params: { p0, lambda, L },
      reason: `EWMA of gold accuracy ${pct(e.statistic)} fell below its lower limit ${pct(e.limit)} (λ = ${lambda}, L = ${L}, centre ${pct(p0)})`,
    });
  }
  return out;
}
