import { describe, expect, it } from 'vitest';
import type { LedgerEvent } from '../../../functions/domain/model/index.js';
import { projectScorecards } from '../../../functions/domain/scorecards.js';
import { makeLedgerEvent } from '../fakes.js';
import { sampleData } from '../ledger-samples.js';

const OPTS = { protocolId: 'chest-xray', minGoldItems: 5 };

const scored = (batchId: string, workforceId: string, goldN: number, goldCorrect: number, protocol = 'chest-xray@1'): LedgerEvent =>
  makeLedgerEvent({
    eventId: `${batchId}:scored`,
    type: 'batch.scored',
    subject: batchId,
    protocol,
    data: sampleData('batch.scored', { workforceId, goldN, goldCorrect }),
  });

const settled = (batchId: string, workforceId: string, verdict: 'accepted' | 'rejected', protocol = 'chest-xray@1'): LedgerEvent =>
  makeLedgerEvent({
    eventId: `${batchId}:${verdict}`,
    type: verdict === 'accepted' ? 'batch.accepted' : 'batch.rejected',
    subject: batchId,
    protocol,
    data: sampleData('batch.accepted', { workforceId }),
  });

describe('Function: projectScorecards', () => {
  it('returns per-workforce sums of gold items, batches and verdicts', () => {
    // Arrange
    const events = [
      scored('b-1', 'vendor-a', 10, 9),
      settled('b-1', 'vendor-a', 'accepted'),
      scored('b-2', 'vendor-a', 10, 6),
      settled('b-2', 'vendor-a', 'rejected'),
      scored('b-3', 'vendor-b', 8, 8),
      settled('b-3', 'vendor-b', 'accepted'),
    ];

    // Act
    const cards = projectScorecards(events, OPTS);

    // Assert
    expect(Object.keys(cards)).toEqual(['vendor-a', 'vendor-b']);
    expect(cards['vendor-a']).toMatchObject({
      workforceId: 'vendor-a',
      protocolId: 'chest-xray',
      batches: 2,
      batchesAccepted: 1,
      batchesRejected: 1,
      goldN: 20,
      goldCorrect: 15,
      accuracy: 0.75,
      insufficient: false,
    });
    expect(cards['vendor-b']).toMatchObject({ batches: 1, batchesAccepted: 1, batchesRejected: 0, goldN: 8, goldCorrect: 8, accuracy: 1 });
  });

  it('returns the Wilson 95% interval of the pooled gold accuracy', () => {
    // Act: 8/10 pooled over two batches
    const card = projectScorecards([scored('b-1', 'vendor-a', 4, 3), scored('b-2', 'vendor-a', 6, 5)], OPTS)['vendor-a'];

    // Assert
    expect(card.accuracy).toBe(0.8);
    expect(card.interval!.lower).toBeCloseTo(0.490162, 5);
    expect(card.interval!.upper).toBeCloseTo(0.943318, 5);
  });

  it('returns the same scorecards when an event is delivered twice (duplicates by id count once)', () => {
    // Arrange
    const once = [scored('b-1', 'vendor-a', 10, 9), settled('b-1', 'vendor-a', 'accepted')];
    const twice = [...once, ...once.map((e) => ({ ...e, at: '2025-03-02T00:00:00.000Z' }))];

    // Act
    const a = projectScorecards(once, OPTS);
    const b = projectScorecards(twice, OPTS);

    // Assert
    expect(b).toEqual(a);
    expect(b['vendor-a']).toMatchObject({ goldN: 10, goldCorrect: 9, batchesAccepted: 1 });
  });

  it('returns the same scorecards whatever the order of the events', () => {
    const events = [scored('b-1', 'vendor-a', 10, 9), settled('b-1', 'vendor-a', 'accepted'), scored('b-2', 'vendor-b', 5, 2)];
    expect(projectScorecards([...events].reverse(), OPTS)).toEqual(projectScorecards(events, OPTS));
  });

  it('returns scorecards of the requested protocol only, across its versions', () => {
    // Arrange
    const events = [
      scored('b-1', 'vendor-a', 10, 10, 'chest-xray@1'),
      scored('b-2', 'vendor-a', 10, 5, 'chest-xray@2'),
      scored('b-3', 'vendor-a', 50, 0, 'mammo@1'),
      // a protocol whose id merely starts with the same letters
      scored('b-4', 'vendor-a', 50, 0, 'chest-xray-paeds@1'),
      settled('b-3', 'vendor-a', 'rejected', 'mammo@1'),
    ];

    // Act
    const cards = projectScorecards(events, OPTS);

    // Assert
    expect(cards['vendor-a']).toMatchObject({ batches: 2, goldN: 20, goldCorrect: 15, batchesRejected: 0 });
  });

  it('returns no scorecard from events that are not scoring or verdict events', () => {
    // Arrange
    const events = [
      makeLedgerEvent({ eventId: 'e1', type: 'batch.dispatched', data: sampleData('batch.dispatched', { workforceId: 'vendor-a', gold: 10 }) }),
      makeLedgerEvent({ eventId: 'e2', type: 'shares.changed', data: sampleData('shares.changed', { workforceId: 'vendor-a' }) }),
    ];

    // Act / Assert
    expect(projectScorecards(events, OPTS)).toEqual({});
  });

  it('returns "insufficient" while pooled gold is below the minimum, and not from the minimum on', () => {
    // Act
    const below = projectScorecards([scored('b-1', 'vendor-a', 4, 4)], OPTS)['vendor-a'];
    const at = projectScorecards([scored('b-1', 'vendor-a', 4, 4), scored('b-2', 'vendor-a', 1, 1)], OPTS)['vendor-a'];

    // Assert
    expect(below.insufficient).toBe(true);
    expect(at.insufficient).toBe(false);
  });

  it('returns no interval and no accuracy for a workforce with verdicts but no gold yet', () => {
    // Act
    const card = projectScorecards([settled('b-1', 'vendor-a', 'accepted'), scored('b-1', 'vendor-a', 0, 0)], OPTS)['vendor-a'];

    // Assert
    expect(card).toMatchObject({ goldN: 0, accuracy: null, interval: null, insufficient: true, batchesAccepted: 1 });
  });

  it('returns an interval for every workforce with at least one gold item', () => {
    const card = projectScorecards([scored('b-1', 'vendor-a', 1, 0)], OPTS)['vendor-a'];
    expect(card.interval).not.toBeNull();
    expect(card.interval!.lower).toBe(0);
    expect(card.interval!.upper).toBeGreaterThan(0);
  });
});
