import { describe, expect, it } from 'vitest';
import { BatchStatus, LedgerEvent } from '../../../functions/domain/model/index.js';
import {
  batchLifecycleOf,
  projectProgram,
  projectScorecardsAsOf,
  sharesOfRound,
  withoutZeroShares,
} from '../../../functions/domain/projections.js';

const T0 = '2026-11-01T00:00:00.000Z';

/** A ledger event of one kind, parsed by the union (so the test data is itself checked). */
const ev = (type: string, subject: string, data: Record<string, unknown>, eventId = `${subject}:${type}`): LedgerEvent =>
  LedgerEvent.parse({ eventId, programId: 'prog-1', type, at: T0, actor: 'test', protocol: 'chest-xray@1', subject, reason: 'test', data });

const workforce = (workforceId: string, kind: 'internal' | 'vendor' = 'vendor') =>
  ev('workforce.created', workforceId, {
    workforceId,
    kind,
    name: workforceId,
    capacityPerRound: 100,
    pricePerCase: 2,
    slaHours: 48,
    qualifications: [],
    status: 'active',
    paused: false,
  });
const ingested = (...cases: string[]) => ev('cases.ingested', 'ingest-1', { cases, gated: [], verdicts: [] });
const dispatched = (batchId: string, workforceId: string, caseIds: string[]) =>
  ev('batch.dispatched', batchId, { workforceId, items: caseIds.length + 1, gold: 1, caseIds });
const submitted = (batchId: string, workforceId: string) =>
  ev('submission.accepted', batchId, { workforceId, uploadId: 'u1', key: `uploads/${batchId}/u1.jsonl`, sha256Hex: 'ab' }, `${batchId}:submission:u1:accepted`);
const scored = (batchId: string, workforceId: string, goldN: number, goldCorrect: number) =>
  ev('batch.scored', batchId, { workforceId, goldN, goldCorrect, accuracy: goldN ? goldCorrect / goldN : null, kappa: null, verdict: 'accepted' });
const verdict = (batchId: string, workforceId: string, v: 'accepted' | 'rejected', realItems = 2) =>
  ev(`batch.${v}`, batchId, {
    workforceId,
    goldN: 1,
    accuracy: 1,
    items: realItems + 1,
    realItems,
    pricePerCase: 2,
    penalty: v === 'accepted' ? 0 : 1,
    charge: v === 'accepted' ? (realItems + 1) * 2 : 0,
  });
const labelled = (batchId: string, workforceId: string, caseIds: string[]) =>
  ev('labels.recorded', batchId, { workforceId, labels: caseIds.length + 1, submissionKey: 'k', sha256: 'ab', caseIds });
const requeued = (batchId: string, workforceId: string, caseIds: string[], exclude?: string) =>
  ev('cases.requeued', batchId, { workforceId, cases: caseIds.length, caseIds, ...(exclude ? { exclude } : {}) });

/** One accepted batch from dispatch to labels. */
const acceptedBatch = (batchId: string, workforceId: string, caseIds: string[]) => [
  dispatched(batchId, workforceId, caseIds),
  submitted(batchId, workforceId),
  scored(batchId, workforceId, 1, 1),
  verdict(batchId, workforceId, 'accepted', caseIds.length),
  labelled(batchId, workforceId, caseIds),
];

describe('Function: projectProgram', () => {
  it('rebuilds an accepted batch and its labelled cases, leaving gold and undispatched cases pending', () => {
    // Arrange
    const events = [workforce('vendor-a'), ingested('c1', 'c2', 'c3', 'g1'), ...acceptedBatch('b1', 'vendor-a', ['c1', 'c2'])];

    // Act
    const p = projectProgram(events);

    // Assert
    expect(p.batches).toEqual({ b1: { workforceId: 'vendor-a', status: 'accepted' } });
    expect(p.cases).toEqual({
      c1: { state: 'labelled', batchId: 'b1', excludedWorkforces: [] },
      c2: { state: 'labelled', batchId: 'b1', excludedWorkforces: [] },
      c3: { state: 'pending', excludedWorkforces: [] },
      g1: { state: 'pending', excludedWorkforces: [] },
    });
    expect(p.problems).toEqual([]);
  });

  it('counts the same eventId once: a dispatch repeated after its batch was rejected pulls no case back', () => {
    // Arrange
    const events = [
      workforce('vendor-a'),
      ingested('c1', 'c2'),
      dispatched('b1', 'vendor-a', ['c1', 'c2']),
      submitted('b1', 'vendor-a'),
      verdict('b1', 'vendor-a', 'rejected'),
      labelled('b1', 'vendor-a', []),
      requeued('b1', 'vendor-a', ['c1', 'c2'], 'vendor-a'),
      dispatched('b1', 'vendor-a', ['c1', 'c2']), // a retried dispatch: the same event id
      requeued('b1', 'vendor-a', ['c1', 'c2'], 'vendor-a'),
    ];

    // Act
    const p = projectProgram(events);

    // Assert
    expect(p.batches.b1.status).toBe('rejected');
    expect(p.cases.c1).toEqual({ state: 'pending', batchId: 'b1', excludedWorkforces: ['vendor-a'] });
    expect(projectProgram(events.slice(0, 7))).toEqual(p);
  });

  it('re-queues a rejected batch away from its vendor, and the next batch labels the cases', () => {
    // Arrange
    const events = [
      workforce('vendor-a'),
      workforce('vendor-b'),
      ingested('c1', 'c2'),
      dispatched('b1', 'vendor-a', ['c1', 'c2']),
      submitted('b1', 'vendor-a'),
      verdict('b1', 'vendor-a', 'rejected'),
      labelled('b1', 'vendor-a', []),
      requeued('b1', 'vendor-a', ['c1', 'c2'], 'vendor-a'),
      ...acceptedBatch('b2', 'vendor-b', ['c1']),
    ];

    // Act
    const p = projectProgram(events);

    // Assert
    expect(p.batches).toEqual({ b1: { workforceId: 'vendor-a', status: 'rejected' }, b2: { workforceId: 'vendor-b', status: 'accepted' } });
    expect(p.cases.c1).toEqual({ state: 'labelled', batchId: 'b2', excludedWorkforces: ['vendor-a'] });
    expect(p.cases.c2).toEqual({ state: 'pending', batchId: 'b1', excludedWorkforces: ['vendor-a'] });
  });

  it('leaves a case alone when a re-queue names a batch it no longer belongs to', () => {
    // Arrange: c1 went to b2 after b1 was closed; b1's failure (recorded late) must not take it back.
    const events = [
      workforce('vendor-a'),
      workforce('vendor-b'),
      ingested('c1'),
      dispatched('b1', 'vendor-a', ['c1']),
      requeued('b1', 'vendor-a', ['c1'], 'vendor-a'),
      dispatched('b2', 'vendor-b', ['c1']),
      ev('batch.failed', 'b1', { workforceId: 'vendor-a', statusBefore: 'rejected' }),
    ];

    // Act
    const p = projectProgram(events);

    // Assert
    expect(p.cases.c1).toEqual({ state: 'assigned', batchId: 'b2', excludedWorkforces: ['vendor-a'] });
  });

  it('turns an accepted but never finalized batch into failed, re-queues its cases, and its scorecard loses the acceptance', () => {
    // Arrange
    const events = [
      workforce('vendor-a'),
      ingested('c1', 'c2'),
      dispatched('b1', 'vendor-a', ['c1', 'c2']),
      submitted('b1', 'vendor-a'),
      scored('b1', 'vendor-a', 1, 1),
      verdict('b1', 'vendor-a', 'accepted'),
      ev('batch.failed', 'b1', { workforceId: 'vendor-a', statusBefore: 'accepted', revokedAcceptance: { realItems: 2, charge: 6 } }),
    ];

    // Act
    const p = projectProgram(events);
    const card = projectScorecardsAsOf(events, { protocolId: 'chest-xray', minGoldItems: 1 })['vendor-a'];

    // Assert
    expect(p.batches.b1.status).toBe('failed');
    expect(p.cases.c1).toEqual({ state: 'pending', batchId: 'b1', excludedWorkforces: [] });
    expect(card).toMatchObject({ batchesAccepted: 0, acceptedCases: 0, paid: 0 });
  });

  it('keeps an accepted batch accepted when it failed after its labels were recorded', () => {
    // Act
    const p = projectProgram([
      workforce('vendor-a'),
      ingested('c1'),
      ...acceptedBatch('b1', 'vendor-a', ['c1']),
      ev('batch.failed', 'b1', { workforceId: 'vendor-a', statusBefore: 'accepted' }),
    ]);

    // Assert
    expect(p.batches.b1.status).toBe('accepted');
    expect(p.cases.c1.state).toBe('labelled');
  });

  it('closes an overdue batch and excludes a vendor, but not an internal team, from its cases', () => {
    // Arrange
    const events = [
      workforce('vendor-a'),
      workforce('radiology', 'internal'),
      ingested('c1', 'c2'),
      dispatched('b1', 'vendor-a', ['c1']),
      dispatched('b2', 'radiology', ['c2']),
      ev('batch.overdue', 'b1', { workforceId: 'vendor-a', slaHours: 48, timeout: 'States.Timeout' }),
      ev('batch.overdue', 'b2', { workforceId: 'radiology', slaHours: 72, timeout: 'States.Timeout' }),
    ];

    // Act
    const p = projectProgram(events);

    // Assert
    expect(p.batches).toEqual({ b1: { workforceId: 'vendor-a', status: 'overdue' }, b2: { workforceId: 'radiology', status: 'overdue' } });
    expect(p.cases.c1).toEqual({ state: 'pending', batchId: 'b1', excludedWorkforces: ['vendor-a'] });
    expect(p.cases.c2).toEqual({ state: 'pending', batchId: 'b2', excludedWorkforces: [] });
  });

  it('closes a batch overdue when the timer fired while its valid upload was being claimed', () => {
    // Arrange: ingest moved the batch to submitted, MarkOverdue closed it, then ingest recorded its event.
    const events = [
      workforce('vendor-a'),
      dispatched('b1', 'vendor-a', []),
      ev('batch.overdue', 'b1', { workforceId: 'vendor-a', slaHours: 48, timeout: 'States.Timeout' }),
      submitted('b1', 'vendor-a'),
    ];

    // Act / Assert
    expect(projectProgram(events).batches.b1.status).toBe('overdue');
  });

  it('says which event contradicts the lifecycle: a verdict without an accepted upload, for a batch never dispatched', () => {
    // Act
    const p = projectProgram([dispatched('b1', 'vendor-a', []), verdict('b1', 'vendor-a', 'accepted'), verdict('b9', 'vendor-a', 'rejected')]);

    // Assert
    expect(p.batches.b1.status).toBe('dispatched');
    expect(p.problems).toEqual([
      'batch.accepted b1:batch.accepted: batch b1 was dispatched in the ledger, not submitted',
      'batch.rejected b9:batch.rejected names batch b9, which the ledger never dispatched',
    ]);
  });

  it('labels an overlap case with the adjudicated decision, and changes no case for a reviewed critical miss', () => {
    // Arrange
    const events = [
      workforce('vendor-a'),
      ingested('c1', 'g1'),
      ...acceptedBatch('b1', 'vendor-a', ['c1']),
      ev('adjudication.requested', 'b2-adj', { batchId: 'b2', cases: ['c1', 'g1'], kinds: ['overlap-disagreement', 'critical-miss'] }),
      ev('adjudication.decided', 'b2-adj', {
        batchId: 'b2',
        workforceId: 'radiology',
        expertId: 'dr-a',
        decisions: [
          { caseId: 'c1', label: 'abnormal' },
          { caseId: 'g1', label: 'uphold-reference' },
        ],
      }),
    ];

    // Act
    const p = projectProgram(events);

    // Assert
    expect(p.cases.c1).toEqual({ state: 'labelled', batchId: 'b2', excludedWorkforces: [] });
    expect(p.cases.g1).toEqual({ state: 'pending', excludedWorkforces: [] });
  });

  it('follows a workforce through probation, a pause and a resume', () => {
    // Act
    const p = projectProgram([
      workforce('vendor-a'),
      workforce('vendor-b'),
      ev('workforce.status-changed', 'vendor-a', { workforceId: 'vendor-a', from: 'active', to: 'probation', round: 1 }),
      ev('workforce.paused', 'vendor-b', { workforceId: 'vendor-b', from: 'active', to: 'paused' }),
      ev('workforce.resumed', 'vendor-b', { workforceId: 'vendor-b', from: 'paused', to: 'active' }, 'vendor-b:resumed'),
      ev('workforce.paused', 'vendor-b', { workforceId: 'vendor-b', from: 'active', to: 'paused' }, 'vendor-b:paused-again'),
    ]);

    // Assert
    expect(p.workforces).toEqual({ 'vendor-a': { status: 'probation', paused: false }, 'vendor-b': { status: 'active', paused: true } });
  });

  it('folds in seq order when the events carry their chain position', () => {
    // Arrange: read back out of order (a page boundary, a test that shuffles).
    const [w, i, d, s, v] = [workforce('vendor-a'), ingested('c1'), dispatched('b1', 'vendor-a', ['c1']), submitted('b1', 'vendor-a'), verdict('b1', 'vendor-a', 'accepted')];
    const chained = [v, s, d, i, w].map((e, k) => ({ ...e, seq: 5 - k }));

    // Act / Assert
    expect(projectProgram(chained).batches.b1.status).toBe('accepted');
  });
});

describe('Function: sharesOfRound', () => {
  const share = (round: number, workforceId: string, from: number, to: number, actor = 'rebalancer') =>
    ev('shares.changed', workforceId, { workforceId, from, to, round }, `prog-1:chest-xray:r${round}:share:${workforceId}:${actor}`);

  it('applies the approved shares from their round on, not the proposal before it', () => {
    // Arrange
    const round1 = [share(1, 'vendor-a', 0, 0.5), share(1, 'vendor-b', 0, 0.5)];
    const proposal = ev('shares.proposed', 'round 2', {
      round: 2,
      shares: { 'vendor-a': 0.8, 'vendor-b': 0.2 },
      changes: [
        { workforceId: 'vendor-a', from: 0.5, to: 0.8, reason: 'better' },
        { workforceId: 'vendor-b', from: 0.5, to: 0.2, reason: 'worse' },
      ],
    });
    const approval = [
      share(2, 'vendor-a', 0.5, 0.8, 'pm'),
      share(2, 'vendor-b', 0.5, 0.2, 'pm'),
      ev('shares.approved', 'round 2', { round: 2, shares: { 'vendor-a': 0.8, 'vendor-b': 0.2 } }),
    ];

    // Act
    const proposed = projectProgram([...round1, proposal]).shares['chest-xray'];
    const approved = projectProgram([...round1, proposal, ...approval]).shares['chest-xray'];

    // Assert
    expect(sharesOfRound(proposed, 2)).toEqual({ 'vendor-a': 0.5, 'vendor-b': 0.5 });
    expect(sharesOfRound(approved, 1)).toEqual({ 'vendor-a': 0.5, 'vendor-b': 0.5 });
    expect(sharesOfRound(approved, 2)).toEqual({ 'vendor-a': 0.8, 'vendor-b': 0.2 });
    expect(sharesOfRound(approved, 3)).toEqual({ 'vendor-a': 0.8, 'vendor-b': 0.2 });
  });

  it('treats a zero share as no share, and a round before any change as an empty allocation', () => {
    // Act
    const byRound = projectProgram([share(2, 'vendor-a', 0, 1), share(2, 'vendor-b', 0, 0)]).shares['chest-xray'];

    // Assert
    expect(sharesOfRound(byRound, 1)).toEqual({});
    expect(sharesOfRound(byRound, 2)).toEqual({ 'vendor-a': 1 });
    expect(withoutZeroShares({ b: 0.25, a: 0.75, c: 0 })).toEqual({ a: 0.75, b: 0.25 });
  });
});

describe('Function: projectScorecardsAsOf', () => {
  it('folds only the events up to the position the stored scorecard reflects', () => {
    // Arrange
    const events = [...acceptedBatch('b1', 'vendor-a', ['c1']), ...acceptedBatch('b2', 'vendor-a', ['c2'])].map((e, k) => ({ ...e, seq: k + 1 }));

    // Act
    const early = projectScorecardsAsOf(events, { protocolId: 'chest-xray', minGoldItems: 1, asOfSeq: 5 })['vendor-a'];
    const late = projectScorecardsAsOf(events, { protocolId: 'chest-xray', minGoldItems: 1, asOfSeq: 10 })['vendor-a'];

    // Assert
    expect(early).toMatchObject({ batches: 1, batchesAccepted: 1, goldN: 1 });
    expect(late).toMatchObject({ batches: 2, batchesAccepted: 2, goldN: 2 });
  });
});

describe('Function: batchLifecycleOf', () => {
  it('maps the statuses the ledger cannot tell apart to dispatched and keeps the others', () => {
    expect(BatchStatus.options.map(batchLifecycleOf)).toEqual([
      'dispatched',
      'dispatched',
      'submitted',
      'accepted',
      'rejected',
      'inconclusive',
      'overdue',
      'failed',
    ]);
  });
});
