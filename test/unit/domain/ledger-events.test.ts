import { describe, expect, it } from 'vitest';
import {
  LEDGER_EVENT_SCHEMAS,
  LEDGER_EVENT_TYPES,
  LedgerEvent,
  type LedgerEventType,
  isLedgerEvent,
} from '../../../functions/domain/model/index.js';
import { record } from '../../../functions/use-cases/ledger.js';
import { makeFakeDeps, T0 } from '../fakes.js';
import { LEDGER_SAMPLES } from '../ledger-samples.js';

const base = (type: LedgerEventType) => ({
  eventId: `prog-1:${type}:1`,
  programId: 'prog-1',
  actor: 'test',
  protocol: 'chest-xray@1',
  subject: 'subject-1',
  reason: `a ${type} event`,
});

describe('Schema: LedgerEvent', () => {
  it('has one schema per kind, each kind once, and a sample of every kind', () => {
    // The union's options are the list of kinds: a kind without a schema cannot be written.
    expect(new Set(LEDGER_EVENT_TYPES).size).toBe(LEDGER_EVENT_SCHEMAS.length);
    expect(Object.keys(LEDGER_SAMPLES).sort()).toEqual([...LEDGER_EVENT_TYPES].sort());
  });

  it.each(LEDGER_EVENT_TYPES)('writes a %s event through record() and reads it back typed', async (type) => {
    // Arrange
    const deps = makeFakeDeps();
    const data = LEDGER_SAMPLES[type];

    // Act
    const first = await record(deps, { ...base(type), type, data } as never);
    const again = await record(deps, { ...base(type), type, data } as never);
    const [stored] = await deps.repo.listLedger('prog-1');

    // Assert
    expect([first, again]).toEqual(['appended', 'duplicate']);
    expect(LedgerEvent.parse(JSON.parse(JSON.stringify(stored)))).toMatchObject({ v: 1, type, at: T0, data });
    expect(isLedgerEvent(type)(stored)).toBe(true);
  });

  it('refuses an event whose data does not fit its kind, naming the field', async () => {
    const deps = makeFakeDeps();
    const wrong = { ...base('batch.scored'), type: 'batch.scored', data: { ...LEDGER_SAMPLES['batch.scored'], goldN: '6' } };

    await expect(record(deps, wrong as never)).rejects.toThrow(/goldN/);
    expect(await deps.repo.listLedger('prog-1')).toEqual([]);
  });

  it('reads an event stored before the schema version existed as version 1', () => {
    const { v: _v, ...old } = LedgerEvent.parse({ ...base('batch.overdue'), type: 'batch.overdue', at: T0, data: LEDGER_SAMPLES['batch.overdue'] });

    expect(LedgerEvent.parse(old).v).toBe(1);
  });

  it('refuses an unknown kind', () => {
    expect(LedgerEvent.safeParse({ ...base('batch.overdue'), type: 'batch.teleported', at: T0, data: {} }).success).toBe(false);
  });
});
