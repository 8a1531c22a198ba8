import { describe, expect, it } from 'vitest';
import { matchesLedgerFilter, mentionsCase } from '../../../functions/domain/ledger-query.js';
import { makeLedgerEvent } from '../fakes.js';
import { sampleData } from '../ledger-samples.js';

describe('Function: matchesLedgerFilter', () => {
  const accepted = makeLedgerEvent({ eventId: 'b-1:accepted', type: 'batch.accepted', subject: 'b-1', data: sampleData('batch.accepted', { workforceId: 'vendor-a' }) });
  const decided = makeLedgerEvent({
    eventId: 'b-1-adj:decided',
    type: 'adjudication.decided',
    subject: 'b-1-adj',
    data: { batchId: 'b-1', workforceId: 'radiology', expertId: 'dr-x', decisions: [{ caseId: 'c-9', label: 'normal' }] },
  });

  it('matches a type exactly or by its family', () => {
    expect(matchesLedgerFilter(accepted, { kind: 'batch.accepted' })).toBe(true);
    expect(matchesLedgerFilter(accepted, { kind: 'batch' })).toBe(true);
    expect(matchesLedgerFilter(accepted, { kind: 'batch.rejected' })).toBe(false);
    expect(matchesLedgerFilter(accepted, { kind: 'batc' })).toBe(false);
  });

  it('finds a batch, a workforce and a case by subject or data, and needs every criterion', () => {
    expect(matchesLedgerFilter(decided, { batchId: 'b-1' })).toBe(true);
    expect(matchesLedgerFilter(decided, { workforceId: 'radiology', caseId: 'c-9' })).toBe(true);
    expect(matchesLedgerFilter(decided, { workforceId: 'vendor-a', caseId: 'c-9' })).toBe(false);
    expect(mentionsCase(makeLedgerEvent({ eventId: 'x', type: 'adjudication.requested', data: sampleData('adjudication.requested', { cases: ['c-1', 'c-2'] }) }), 'c-2')).toBe(true);
    // A count named `cases` is not a list of case ids; its `caseIds` are.
    const requeued = makeLedgerEvent({ eventId: 'y', type: 'cases.requeued', data: { workforceId: 'v', cases: 3, caseIds: ['c-4'] } });
    expect(mentionsCase(requeued, '3')).toBe(false);
    expect(mentionsCase(requeued, 'c-4')).toBe(true);
  });
});
