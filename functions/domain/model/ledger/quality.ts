/**
 * Quality alarms (issue 12, docs/quality-alarms.md): a drift chart (CUSUM or
 * EWMA) on a workforce's or an annotator's per-batch gold results crossed its
 * limit. One event per excursion; the eventId names the chart, the unit and
 * the alarming batch, so a re-run records nothing twice.
 */
import { z } from 'zod';
import { ids, ledgerKind } from './base.js';

export const qualityEvents = [
  ledgerKind('alarm.raised', {
    chart: z.enum(['cusum', 'ewma']),
    workforceId: z.string(),
    /** Set for a per-annotator chart; absent for the workforce's own chart. */
    annotatorId: z.string().optional(),
    /** The chart statistic at the alarm (CUSUM: excess gold errors; EWMA: smoothed gold accuracy). */
    statistic: z.number(),
    /** The limit it crossed (CUSUM: h; EWMA: the lower control limit at that batch). */
    limit: z.number(),
    /** The batches of the excursion, in order, the alarming one last. */
    batchIds: ids(),
    /** The alarming batch (the last of batchIds). */
    batchId: z.string(),
    /** When the excursion's first batch was scored. */
    firstBatchAt: z.iso.datetime(),
    /** The chart's parameters (the protocol's drift section, resolved). */
    params: z.record(z.string(), z.number()),
  }),
] as const;
