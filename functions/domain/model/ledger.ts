/**
 * The append-only ledger: every decision, with actor, time, protocol version and
 * reason. Scorecards and shares are projections of it and can be recomputed.
 */
import { z } from 'zod';

export const LedgerEventType = z.enum([
  'batch.dispatched',
  'submission.rejected',
  'submission.accepted',
  'batch.scored',
  'batch.accepted',
  'batch.rejected',
  'batch.overdue',
  'batch.failed',
  'labels.recorded',
  'shares.changed',
  'shares.proposed',
  'shares.approved',
  'workforce.status-changed',
  'adjudication.requested',
  'adjudication.decided',
  'adjudication.expired',
  'cases.requeued',
  'protocol.registered',
  'case.quarantine-released',
  'case.image-replaced',
  'case.format-attested',
  'workforce.changed',
  'workforce.paused',
  'workforce.resumed',
  'case.assigned',
  'shares.refused',
  'cases.ingested',
]);
export type LedgerEventType = z.infer<typeof LedgerEventType>;

export const LedgerEvent = z.object({
  /** Deterministic: the same fact recorded twice has the same id (idempotent). */
  eventId: z.string().min(1),
  programId: z.string(),
  type: LedgerEventType,
  at: z.iso.datetime(),
  actor: z.string().min(1),
  protocol: z.string(),
  subject: z.string(),
  reason: z.string(),
  data: z.record(z.string(), z.unknown()).default({}),
});
export type LedgerEvent = z.infer<typeof LedgerEvent>;
