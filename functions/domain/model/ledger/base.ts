/**
 * What every ledger event carries, whatever its kind: the common base of the
 * typed union in `../ledger.ts`.
 */
import { z } from 'zod';

/** The fields every event has; `type` and `data` are the kind's own. */
export const ledgerBase = {
  /** Schema version of the event shape; items written before it existed read as 1. */
  v: z.literal(1).default(1),
  /** Deterministic: the same fact recorded twice has the same id (idempotent). */
  eventId: z.string().min(1),
  programId: z.string(),
  at: z.iso.datetime(),
  actor: z.string().min(1),
  /** `protocolId@version` (or a bare protocol id where no version applies). */
  protocol: z.string(),
  subject: z.string(),
  reason: z.string(),
};

/**
 * One event kind: the base, its literal `type`, and its typed `data`.
 *
 * @example const BatchOverdue = ledgerKind('batch.overdue', { workforceId: z.string() })
 */
export function ledgerKind<const T extends string, D extends z.ZodRawShape>(type: T, data: D) {
  return z.object({ ...ledgerBase, type: z.literal(type), data: z.object(data) });
}

/** A count: a non-negative integer. */
export const count = () => z.number().int().min(0);
/** A fraction or figure that is null where undefined (n = 0). */
export const figure = () => z.number().nullable();
export const ids = () => z.array(z.string());
