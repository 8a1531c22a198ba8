import { describe, expect, it } from 'vitest';
import { matchesLedgerFilter, mentionsCase } from '../../../functions/domain/ledger-query.js';
import { makeLedgerEvent } from '../fakes.js';

describe('Function: matchesLedgerFilter', () => {
  const accepted = makeLedgerEvent({ eventId: 'b-1:accepted', type: 'batch.accepted', subject: 'b-1', data: { workforceId: 'vendor-a' } });
  const decided = makeLedgerEvent({
    eventId: 'b-1-adj:decided',
    type: 'adjudication.decided',
    subject: 'b-1-adj',
    data: { batchId: 'b-1', workforceId: 'radiology', decisions: [{ caseId: 'c-9', label: 'normal' }] },
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
    expect(mentionsCase(makeLedgerEvent({ eventId: 'x', type: 'adjudication.requested', data: { cases: ['c-1', 'c-2'] } }), 'c-2')).toBe(true);
    // A count named `cases` is not a list of case ids.
    expect(mentionsCase(makeLedgerEvent({ eventId: 'y', type: 'labels.recorded', data: { cases: 3 } }), '3')).toBe(false);
  });
});
