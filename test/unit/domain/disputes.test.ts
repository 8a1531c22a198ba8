import { describe, expect, it } from 'vitest';
import {
  DisputeRequest,
  type LedgerEvent,
  RETIRE_AFTER_UPHELD,
  disputeOutcome,
  flipOf,
  foldGoldVersions,
  goldAnswerSha256,
  goldItemsUnderReview,
  projectProgram,
  projectScorecards,
  statementFromLedger,
  scoredAgainstOldAnswer,
  whyNotDisputable,
} from '../../../functions/domain/index.js';
import { LEDGER_SAMPLES } from '../ledger-samples.js';

const items = [
  { caseId: 'gold-1', correct: false, expected: 'normal', got: 'abnormal' },
  { caseId: 'gold-2', correct: true, expected: 'abnormal', got: 'abnormal' },
  { caseId: 'gold-3', correct: false, expected: 'abnormal', got: 'normal' },
];
const aliases = new Map([
  ['aaaaaa1', 'gold-1'],
  ['aaaaaa2', 'gold-2'],
  ['aaaaaa3', 'gold-3'],
  ['aaaaaa4', 'case-9'],
]);

const event = <T extends LedgerEvent['type']>(type: T, eventId: string, subject: string, data: Extract<LedgerEvent, { type: T }>['data']): LedgerEvent =>
  ({ v: 1, eventId, programId: 'p', at: '2026-01-01T00:00:00.000Z', actor: 'test', protocol: 'chest-xray@1', subject, reason: 'r', type, data }) as LedgerEvent;

describe('Domain: disputes', () => {
  describe('DisputeRequest', () => {
    it('takes a reason and an optional alias, and says what is wrong with anything else', () => {
      expect(DisputeRequest.parse({ reason: '  the image shows a clear opacity  ', alias: 'q5jxfw36v35a' })).toEqual({
        reason: 'the image shows a clear opacity',
        alias: 'q5jxfw36v35a',
      });
      const short = DisputeRequest.safeParse({ reason: 'wrong' });
      expect(short.success).toBe(false);
      expect(short.error?.issues[0].message).toBe('say why, in at least 10 characters');
      expect(DisputeRequest.safeParse({ reason: 'x'.repeat(2001) }).error?.issues[0].message).toBe('at most 2000 characters');
      expect(DisputeRequest.safeParse({ reason: 'a long enough reason', alias: '../../etc' }).error?.issues[0].path).toEqual(['alias']);
      expect(DisputeRequest.safeParse({ reason: 'a long enough reason', caseId: 'gold-1' }).success).toBe(false);
    });
  });

  describe('whyNotDisputable', () => {
    it('lets only a rejected batch be disputed, and says why not for the others', () => {
      expect(whyNotDisputable('rejected')).toBeUndefined();
      expect(whyNotDisputable('inconclusive')).toMatch(/never penalised/);
      expect(whyNotDisputable('accepted')).toMatch(/nothing to dispute/);
      expect(whyNotDisputable('awaiting-submission')).toMatch(/only a rejected batch/);
    });
  });

  describe('goldItemsUnderReview', () => {
    it('reviews the failed gold items of the batch, or only the named one when it is one of them', () => {
      expect(goldItemsUnderReview({ items }, aliases)).toEqual(['gold-1', 'gold-3']);
      expect(goldItemsUnderReview({ items }, aliases, 'aaaaaa3')).toEqual(['gold-3']);
    });
    it('answers a passed gold item or a real item exactly like a batch dispute (no answer says which alias was gold)', () => {
      const batch = goldItemsUnderReview({ items }, aliases);
      expect(goldItemsUnderReview({ items }, aliases, 'aaaaaa2')).toEqual(batch);
      expect(goldItemsUnderReview({ items }, aliases, 'aaaaaa4')).toEqual(batch);
    });
  });

  describe('disputeOutcome', () => {
    it('corrects the items where the expert gives another answer and keeps the others', () => {
      const current = new Map([
        ['gold-1', 'normal'],
        ['gold-3', 'abnormal'],
      ]);
      const o = disputeOutcome(
        [
          { caseId: 'gold-1', label: 'abnormal' },
          { caseId: 'gold-3', label: 'abnormal', note: 'opacity is real' },
        ],
        (c) => current.get(c),
      );
      expect(o.corrected).toEqual([{ goldCaseId: 'gold-1', from: 'normal', to: 'abnormal' }]);
      expect(o.stands).toEqual([{ goldCaseId: 'gold-3', answer: 'abnormal', note: 'opacity is real' }]);
    });
    it('refuses to judge an item with no gold answer', () => {
      expect(() => disputeOutcome([{ caseId: 'gold-9', label: 'normal' }], () => undefined)).toThrow(/gold-9 has no answer/);
    });
  });

  describe('foldGoldVersions', () => {
    it('counts each correction once, keeps the highest version, and marks retirement', () => {
      const corrected = (id: string, dispute: string, to: number) =>
        event('gold.corrected', id, 'gold-1', { goldCaseId: 'gold-1', fromVersion: to - 1, toVersion: to, answerSha256: goldAnswerSha256('normal'), disputeId: dispute });
      const events = [
        corrected('d1:gold:gold-1', 'd1', 2),
        corrected('d1:gold:gold-1', 'd1', 2), // a benign duplicate append
        corrected('d2:gold:gold-1', 'd2', 3),
        event('gold.retired', 'p:gold:gold-1:retired', 'gold-1', { goldCaseId: 'gold-1', disputeIds: ['d1', 'd2'], version: 3 }),
      ];
      const s = foldGoldVersions(events).get('gold-1');
      expect(s).toEqual({ version: 3, upheldBy: ['d1', 'd2'], retired: true });
      expect(s?.upheldBy.length).toBe(RETIRE_AFTER_UPHELD);
      expect(foldGoldVersions(events).get('gold-2')).toBeUndefined();
    });
  });

  describe('scoredAgainstOldAnswer and flipOf', () => {
    it('finds a score computed against an answer that has since been corrected, and only then', () => {
      expect(scoredAgainstOldAnswer({ items }, new Map([['gold-1', 'abnormal']]))).toBe(true);
      expect(scoredAgainstOldAnswer({ items }, new Map([['gold-1', 'normal']]))).toBe(false);
      expect(scoredAgainstOldAnswer({ items }, new Map([['case-9', 'normal']]))).toBe(false);
    });
    it('flips only a conclusively settled batch whose decision changed', () => {
      expect(flipOf('rejected', 'accepted')).toBe('accepted');
      expect(flipOf('accepted', 'rejected')).toBe('rejected');
      expect(flipOf('rejected', 'inconclusive')).toBe('inconclusive');
      expect(flipOf('rejected', 'rejected')).toBeUndefined();
      expect(flipOf('submitted', 'accepted')).toBeUndefined();
      // Held for pooled evidence: the vendor's next decision reads the corrected score.
      expect(flipOf('inconclusive', 'accepted')).toBeUndefined();
    });
  });

  describe('folds of batch.rescored', () => {
    const dispatched = event('batch.dispatched', 'b-1:dispatched', 'b-1', { workforceId: 'vendor-a', items: 63, gold: 6, caseIds: ['case-1', 'case-2'] });
    const scored = event('batch.scored', 'b-1:scored', 'b-1', { workforceId: 'vendor-a', goldN: 6, goldCorrect: 4, accuracy: 4 / 6, kappa: null, verdict: 'rejected' });
    const rejected = event('batch.rejected', 'b-1:rejected', 'b-1', { ...LEDGER_SAMPLES['batch.rejected'], workforceId: 'vendor-a' });
    const requeued = event('cases.requeued', 'b-1:requeued', 'b-1', { workforceId: 'vendor-a', cases: 2, caseIds: ['case-1', 'case-2'], exclude: 'vendor-a' });
    const rescored = event('batch.rescored', 'd1:rescored:b-1', 'b-1', LEDGER_SAMPLES['batch.rescored']);
    const ingested = event('cases.ingested', 'p:ingest', 'p', { cases: ['case-1', 'case-2'], gated: [], verdicts: [] });
    const events = [ingested, dispatched, event('submission.accepted', 'b-1:sub', 'b-1', LEDGER_SAMPLES['submission.accepted']), scored, rejected, requeued, rescored];

    it('re-settles the flipped batch and labels the cases its event names (projection)', () => {
      const p = projectProgram(events);
      expect(p.problems).toEqual([]);
      expect(p.batches['b-1'].status).toBe('accepted');
      expect(p.cases['case-1']).toMatchObject({ state: 'labelled', batchId: 'b-1' });
      // Re-done elsewhere: not pulled back.
      expect(p.cases['case-2'].state).toBe('pending');
    });

    it("adds one adjustment to the vendor's statement: the new decision's amount less the old one's", () => {
      const s = statementFromLedger(events, { programId: 'p', workforceId: 'vendor-a', from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' });
      const adjustment = s.lines.find((l) => l.eventId === 'd1:rescored:b-1');
      expect(adjustment).toMatchObject({ kind: 'adjustment', outcome: 'accepted', amountCents: 3150, adjusts: 'b-1:rejected' });
      expect(adjustment?.rule).toContain('rejected → accepted');
      expect(s.totals.totalCents).toBe(3150);
    });

    it('replaces the gold figures, the decision and the charge in the scorecard, once', () => {
      const before = projectScorecards(events.slice(0, -1), { protocolId: 'chest-xray', minGoldItems: 5 })['vendor-a'];
      const after = projectScorecards([...events, rescored], { protocolId: 'chest-xray', minGoldItems: 5 })['vendor-a'];
      expect(before).toMatchObject({ goldN: 6, goldCorrect: 4, batchesAccepted: 0, batchesRejected: 1, paid: 0 });
      expect(after).toMatchObject({ goldN: 6, goldCorrect: 5, batchesAccepted: 1, batchesRejected: 0, acceptedCases: 57, paid: 31.5 });
    });
  });
});
