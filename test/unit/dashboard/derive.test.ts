/**
 * The dashboard's derivations from API answers (dashboard/src/derive.ts): what
 * the pages chart. The browser test checks the pages against the API on the
 * demo; these pin the rules on hand-made answers, edge cases included.
 */
import { describe, expect, it } from 'vitest';
import type { Batch, LedgerEvent } from '../../../dashboard/src/api.js';
import { alarmMarks, batchSeries, openAdjudications, pipelineCounts, sharesByRound } from '../../../dashboard/src/derive.js';

let seq = 0;
const event = (type: string, data: Record<string, unknown>, subject = 's'): LedgerEvent => ({ seq: ++seq, type, at: `2026-01-01T00:00:${String(seq).padStart(2, '0')}Z`, subject, reason: 'r', data });
const batch = (batchId: string, workforceId: string, round: number, status: string, score?: { goldN: number; goldCorrect: number }): Batch => ({
  batchId,
  workforceId,
  round,
  status,
  items: 10,
  gold: score?.goldN ?? 0,
  ...(score ? { score: { ...score, accuracy: score.goldN ? score.goldCorrect / score.goldN : null } } : {}),
});

describe('Module: dashboard derive', () => {
  describe('Function: openAdjudications', () => {
    it('keeps a requested case until it is decided or expired, per batch', () => {
      const ledger = [
        event('adjudication.requested', { batchId: 'b1', cases: ['c1', 'c2', 'c3'], kinds: ['overlap-disagreement'] }),
        event('adjudication.requested', { batchId: 'b2', cases: ['c1'], kinds: ['critical-miss'] }),
        event('adjudication.decided', { batchId: 'b1', workforceId: 'w', expertId: 'e', decisions: [{ caseId: 'c1', label: 'normal' }] }),
        event('adjudication.expired', { batchId: 'b1', cases: ['c3'] }),
      ];
      expect(openAdjudications(ledger)).toEqual([
        { batchId: 'b1', caseId: 'c2', kinds: 'overlap-disagreement', requestedAt: ledger[0]?.at },
        { batchId: 'b2', caseId: 'c1', kinds: 'critical-miss', requestedAt: ledger[1]?.at },
      ]);
    });

    it('finds none in a ledger without adjudications', () => {
      expect(openAdjudications([event('batch.accepted', { batchId: 'b1' })])).toEqual([]);
    });
  });

  describe('Function: sharesByRound', () => {
    it('takes the last shares.changed of each round and workforce, in round order', () => {
      const rows = sharesByRound([
        event('shares.changed', { workforceId: 'vendor-b', from: 0, to: 0.5, round: 1 }),
        event('shares.changed', { workforceId: 'vendor-a', from: 0, to: 0.5, round: 1 }),
        event('shares.changed', { workforceId: 'vendor-a', from: 0.5, to: 0.8, round: 2 }),
        event('shares.changed', { workforceId: 'vendor-a', from: 0.8, to: 0.7, round: 2 }),
        event('shares.changed', { workforceId: 'vendor-b', round: 2 }), // no share: not charted
      ]);
      expect(rows).toEqual([
        { round: 1, workforceId: 'vendor-a', share: 0.5 },
        { round: 1, workforceId: 'vendor-b', share: 0.5 },
        { round: 2, workforceId: 'vendor-a', share: 0.7 },
      ]);
    });
  });

  describe('Function: batchSeries', () => {
    it('numbers each workforce scored batches from 1 by round, leaving out batches without gold', () => {
      const s = batchSeries([
        batch('r2-a-1', 'a', 2, 'accepted', { goldN: 4, goldCorrect: 3 }),
        batch('r1-a-1', 'a', 1, 'accepted', { goldN: 5, goldCorrect: 5 }),
        batch('r1-int-1', 'int', 1, 'accepted', { goldN: 0, goldCorrect: 0 }),
        batch('r1-b-1', 'b', 1, 'dispatched'),
      ]);
      expect(s.map((b) => [b.batchId, b.ordinal, b.accuracy])).toEqual([
        ['r1-a-1', 1, 1],
        ['r2-a-1', 2, 0.75],
      ]);
    });
  });

  describe('Function: alarmMarks', () => {
    it('puts each drift alarm on the batch it names, and draws none for a batch outside the series', () => {
      const series = batchSeries([batch('r1-a-1', 'a', 1, 'accepted', { goldN: 5, goldCorrect: 5 }), batch('r2-a-1', 'a', 2, 'rejected', { goldN: 5, goldCorrect: 2 })]);
      const marks = alarmMarks(series, [
        event('alarm.raised', { chart: 'cusum', workforceId: 'a', batchId: 'r2-a-1', batchIds: ['r1-a-1', 'r2-a-1'] }, 'a'),
        event('alarm.raised', { chart: 'ewma', workforceId: 'b', batchId: 'elsewhere', batchIds: ['elsewhere'] }, 'b'),
        event('batch.rejected', { batchId: 'r2-a-1' }),
      ]);
      expect(marks.map((m) => [m.batchId, m.ordinal, m.accuracy, m.reason])).toEqual([['r2-a-1', 2, 0.4, 'alarm a: r']]);
    });
  });

  describe('Function: pipelineCounts', () => {
    it('counts batches by round and status', () => {
      expect(pipelineCounts([batch('1', 'a', 1, 'accepted'), batch('2', 'b', 1, 'rejected'), batch('3', 'a', 1, 'accepted'), batch('4', 'a', 2, 'dispatched')])).toEqual([
        { round: 1, status: 'accepted', count: 2 },
        { round: 1, status: 'rejected', count: 1 },
        { round: 2, status: 'dispatched', count: 1 },
      ]);
    });
  });
});
