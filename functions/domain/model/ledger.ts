/**
 * The append-only ledger: every decision, with actor, time, protocol version and
 * reason. Batch status, case state, shares and scorecards are projections of it
 * and can be rebuilt from it.
 *
 * Each event kind is its own zod schema (the common base plus a typed `data`,
 * in `ledger/` by family); `LedgerEvent` is their discriminated union on
 * `type`, so a reader narrows on `e.type` and gets that kind's data, typed.
 * `v` is the schema version (items written before it existed read as 1).
 * Add fields to a kind, never remove or rename one: old events must still parse.
 */
import { z } from 'zod';
import { adjudicationEvents } from './ledger/adjudication.js';
import { batchEvents } from './ledger/batch.js';
import { caseEvents } from './ledger/cases.js';
import { contractEvents } from './ledger/contract.js';
import { controlEvents } from './ledger/control.js';
import { disputeEvents } from './ledger/dispute.js';
import { qualificationEvents } from './ledger/qualification.js';
import { qualityEvents } from './ledger/quality.js';
import { releaseEvents } from './ledger/release.js';
import { workforceEvents } from './ledger/workforce.js';

export { IngestVerdict } from './ledger/cases.js';

/** Every event kind's schema, one per `type`. */
export const LEDGER_EVENT_SCHEMAS = [...batchEvents, ...workforceEvents, ...caseEvents, ...adjudicationEvents, ...releaseEvents, ...qualityEvents, ...disputeEvents, ...contractEvents, ...qualificationEvents, ...controlEvents] as const;

export const LedgerEvent = z.discriminatedUnion('type', LEDGER_EVENT_SCHEMAS);
export type LedgerEvent = z.infer<typeof LedgerEvent>;

/** Every kind the ledger knows, in the order of the union. */
export const LEDGER_EVENT_TYPES = LEDGER_EVENT_SCHEMAS.map((s) => s.shape.type.value);
export const LedgerEventType = z.enum(LEDGER_EVENT_TYPES as [LedgerEvent['type'], ...LedgerEvent['type'][]]);
export type LedgerEventType = LedgerEvent['type'];

/** One kind's event, typed: `LedgerEventOf<'batch.scored'>['data']['goldN']` is a number. */
export type LedgerEventOf<T extends LedgerEventType> = Extract<LedgerEvent, { type: T }>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What a writer gives `record()`: an event without its time and schema version (both stamped there). */
export type LedgerEventInput = DistributiveOmit<LedgerEvent, 'at' | 'v'>;

/** True for an event of kind `type` (a type guard usable in `filter`). */
export const isLedgerEvent =
  <T extends LedgerEventType>(type: T) =>
  <E extends LedgerEvent>(e: E): e is Extract<E, { type: T }> =>
    e.type === type;
