/** Ledger events of workforces and allocation shares. */
import { z } from 'zod';
import { Shares, WorkforceStatus } from '../workforce.js';
import { count, ledgerKind } from './base.js';

const ShareChange = z.object({ workforceId: z.string(), from: z.number(), to: z.number(), reason: z.string() });
const change = <T extends z.ZodType>(t: T) => z.object({ from: t, to: t });
const PauseState = z.enum(['active', 'paused']);

export const workforceEvents = [
  ledgerKind('workforce.created', {
    workforceId: z.string(),
    kind: z.enum(['internal', 'vendor']),
    name: z.string(),
    capacityPerRound: count(),
    pricePerCase: z.number().min(0),
    slaHours: z.number().positive(),
    qualifications: z.array(z.string()),
    status: WorkforceStatus,
    paused: z.boolean(),
  }),
  ledgerKind('workforce.changed', {
    workforceId: z.string(),
    /** Only what differed, from → to. */
    changes: z.object({
      pricePerCase: change(z.number()).optional(),
      capacityPerRound: change(z.number()).optional(),
      slaHours: change(z.number()).optional(),
      qualifications: change(z.array(z.string())).optional(),
    }),
  }),
  ledgerKind('workforce.paused', { workforceId: z.string(), from: PauseState, to: PauseState }),
  ledgerKind('workforce.resumed', { workforceId: z.string(), from: PauseState, to: PauseState }),
  /** `round`: the round whose scorecards moved it (absent: set by a PM at registration). */
  ledgerKind('workforce.status-changed', { workforceId: z.string(), from: WorkforceStatus, to: WorkforceStatus, round: count().optional() }),
  ledgerKind('shares.changed', { workforceId: z.string(), from: z.number(), to: z.number(), round: count() }),
  ledgerKind('shares.proposed', { round: count(), shares: Shares, changes: z.array(ShareChange) }),
  ledgerKind('shares.approved', { round: count(), shares: Shares }),
  ledgerKind('shares.refused', { round: count(), refused: Shares, carriedOver: Shares }),
] as const;
