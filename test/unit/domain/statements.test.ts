import { describe, expect, it } from 'vitest';
import { LedgerEvent, type LedgerEventOf, type LedgerEventType, STATEMENT_CSV_HEADER, parseCsv, statementCsvRows, statementFromLedger, toCsv } from '../../../functions/domain/index.js';
import { makeLedgerEvent } from '../fakes.js';
import { LEDGER_SAMPLES, sampleData } from '../ledger-samples.js';

const NOV = { programId: 'prog-1', workforceId: 'vendor-a', from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' };
const DEC = { ...NOV, from: '2026-12-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' };
const day = (d: number, h = 0) => new Date(Date.UTC(2026, 10, d, h)).toISOString();

const verdict = (items: number) => ({ ...LEDGER_SAMPLES['batch.accepted'], items, realItems: items - 2, decision: undefined, decidedWith: undefined });

/** A small program: vendor-a's contract (24 h SLA, $5 + $1/day credits, rejection withholds 100%) and its batches. */
function ledger(): LedgerEvent[] {
  const ev: LedgerEvent[] = [];
  const add = <T extends LedgerEventType>(type: T, subject: string, at: string, data: LedgerEventOf<T>['data'], eventId = `${subject}:${type}`) =>
    ev.push(LedgerEvent.parse({ v: 1, programId: 'prog-1', actor: 'test', protocol: 'chest-xray@1', reason: 'test event', eventId, type, subject, at, data }));
  add('contract.registered', 'vendor-a.chest-xray', day(1), { ...sampleData('contract.registered'), validFrom: day(1), terms: { ...sampleData('contract.registered').terms, slaHours: 24 } });
  const dispatch = (b: string, at: string, items: number, caseIds: string[], workforceId = 'vendor-a') =>
    add('batch.dispatched', b, at, { workforceId, items, gold: 2, caseIds });
  const deliver = (b: string, at: string) => add('submission.accepted', b, at, sampleData('submission.accepted'));
  // b1: on time, accepted.
  dispatch('b1', day(2), 20, ['c1']);
  deliver('b1', day(2, 10));
  add('batch.accepted', 'b1', day(2, 11), verdict(20));
  // b2: delivered 1 h past the 24 h SLA: one late day.
  dispatch('b2', day(3), 20, ['c2']);
  deliver('b2', day(4, 1));
  add('batch.accepted', 'b2', day(4, 2), verdict(20));
  // b3: rejected, its two real cases re-queued (done again by b7 below).
  dispatch('b3', day(5), 10, ['c3', 'c4']);
  deliver('b3', day(5, 5));
  add('batch.rejected', 'b3', day(5, 6), { ...verdict(10), penalty: 1, charge: 0 });
  add('cases.requeued', 'b3', day(5, 7), { workforceId: 'vendor-a', cases: 2, caseIds: ['c3', 'c4'], exclude: 'vendor-a' });
  // b4: never delivered: overdue at 49 h (two late days).
  dispatch('b4', day(6), 10, ['c5', 'c6', 'c7']);
  add('batch.overdue', 'b4', day(8, 1), { workforceId: 'vendor-a', slaHours: 48, timeout: 'States.Timeout' });
  // b7: re-does c3 and c4 (rework price).
  dispatch('b7', day(10), 10, ['c3', 'c4', 'c8']);
  deliver('b7', day(10, 3));
  add('batch.accepted', 'b7', day(10, 4), verdict(10));
  // b5: inconclusive in November, accepted with the vendor's next batch in December.
  dispatch('b5', day(28), 10, ['c9']);
  deliver('b5', day(28, 2));
  add('batch.inconclusive', 'b5', day(28, 3), { ...sampleData('batch.inconclusive'), items: 10, realItems: 8 });
  add('batch.accepted', 'b5', '2026-12-02T00:00:00.000Z', { ...verdict(10), decidedWith: 'b9' }, 'b5:carried');
  // Another vendor's batch: not on vendor-a's statement.
  dispatch('b6', day(2), 20, ['c10'], 'vendor-b');
  add('batch.accepted', 'b6', day(2, 9), { ...verdict(20), workforceId: 'vendor-b' });
  return ev;
}

describe('Domain: statementFromLedger', () => {
  it('states each batch of the period with its counts, credit, penalty, amount and rule, and totals them in cents', () => {
    const s = statementFromLedger(ledger(), NOV);
    const by = Object.fromEntries(s.lines.map((l) => [l.batchId, l]));
    expect(s.lines.map((l) => l.batchId)).toEqual(['b1', 'b2', 'b3', 'b4', 'b7', 'b5']);
    expect(by.b1).toMatchObject({ kind: 'settlement', delivered: 20, accepted: 20, amountCents: 1000, slaMiss: false, contract: 'vendor-a.chest-xray@1' });
    expect(by.b2).toMatchObject({ slaMiss: true, lateDays: 1, creditCents: 600, amountCents: 400 });
    expect(by.b3).toMatchObject({ rejected: 10, redoneElsewhere: 2, grossCents: 500, penaltyCents: 500, amountCents: 0 });
    expect(by.b4).toMatchObject({ kind: 'sla-miss', delivered: 0, redoneElsewhere: 3, lateDays: 2, creditCents: 700, amountCents: -700 });
    expect(by.b7).toMatchObject({ reworkItems: 2, grossCents: 8 * 50 + 2 * 40, amountCents: 480 });
    expect(by.b7.rule).toBe('accepted: 8 × $0.50 + 2 rework × $0.40 = $4.80 → $4.80 (vendor-a.chest-xray@1)');
    expect(by.b5).toMatchObject({ kind: 'pending', billed: false, grossCents: 500, amountCents: 0 });
    expect(s.totals).toMatchObject({ batches: 6, accepted: 50, rejected: 10, slaMisses: 2, penaltyCents: 500, creditCents: 1300, totalCents: 1000 + 400 + 0 - 700 + 480, pendingCents: 500 });
  });

  it('bills a carried batch in the period of its conclusive decision, and no longer shows it pending', () => {
    const s = statementFromLedger(ledger(), DEC);
    expect(s.lines).toHaveLength(1);
    expect(s.lines[0]).toMatchObject({ batchId: 'b5', eventId: 'b5:carried', kind: 'settlement', amountCents: 500 });
    expect(s.totals).toMatchObject({ totalCents: 500, pendingCents: 0 });
  });

  it('is unchanged by events after the period', () => {
    const all = ledger();
    const cut = all.filter((e) => Date.parse(e.at) < Date.parse(NOV.to));
    expect(statementFromLedger(all, NOV)).toEqual(statementFromLedger(cut, NOV));
  });

  it('reverses a withdrawn acceptance as an adjustment that names the original line', () => {
    const ev = ledger();
    ev.push(
      makeLedgerEvent({
        eventId: 'b1:failed',
        type: 'batch.failed',
        subject: 'b1',
        at: day(12),
        data: { workforceId: 'vendor-a', statusBefore: 'accepted', revokedAcceptance: { realItems: 18, charge: 10 } },
      }),
    );
    const s = statementFromLedger(ev, NOV);
    const adj = s.lines.find((l) => l.kind === 'adjustment')!;
    expect(adj).toMatchObject({ batchId: 'b1', outcome: 'withdrawn', amountCents: -1000, accepted: -20, adjusts: 'b1:batch.accepted' });
    expect(s.totals.totalCents).toBe(1000 + 400 - 700 + 480 - 1000);
  });

  it('states a decision recorded before contracts at its recorded charge, in cents', () => {
    const ev = ledger().filter((e) => e.type !== 'contract.registered');
    const b1 = statementFromLedger(ev, NOV).lines.find((l) => l.batchId === 'b1')!;
    expect(b1).toMatchObject({ contract: 'none', amountCents: 3150, rule: 'accepted: charge recorded before contracts ($31.50)' });
  });

  it('refuses a period that ends before it starts', () => {
    expect(() => statementFromLedger([], { ...NOV, to: NOV.from })).toThrow(/must end after it starts/);
  });

  it('writes CSV under a stable header that parses back to the same amounts', () => {
    const s = statementFromLedger(ledger(), NOV);
    const csv = toCsv(STATEMENT_CSV_HEADER, statementCsvRows(s));
    const parsed = parseCsv(new TextEncoder().encode(csv), { maxBytes: 1_000_000 });
    expect(parsed.header).toEqual([...STATEMENT_CSV_HEADER]);
    const amount = parsed.header.indexOf('amount_cents');
    expect(parsed.rows.map((r) => Number(r.cells[amount]))).toEqual(s.lines.map((l) => l.amountCents));
  });
});
