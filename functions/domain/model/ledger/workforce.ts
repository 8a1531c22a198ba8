/** Ledger events of workforces and allocation shares. */
import { z } from 'zod';
import { Shares, WorkforceStatus } from '../workforce.js';
import { InspectionLevel, type SwitchRule } from '../../acceptance/switching.js';
import { count, ledgerKind } from './base.js';

const ShareChange = z.object({ workforceId: z.string(), from: z.number(), to: z.number(), reason: z.string() });
const change = <T extends z.ZodType>(t: T) => z.object({ from: t, to: t });
const PauseState = z.enum(['active', 'paused']);

const SWITCH_RULES = [
  'two-of-five-rejected',
  'accepted-under-tightened',
  'rejected-under-tightened',
  'switching-score',
  'rejected-under-reduced',
  'inconclusive-under-reduced',
  'corrective-action',
] as const satisfies readonly SwitchRule[];
/** The switching rules of functions/domain/acceptance/switching.ts (every one: the type check below fails otherwise). */
export const InspectionSwitchRule = z.enum(SWITCH_RULES);
type _EverySwitchRule = SwitchRule extends (typeof SWITCH_RULES)[number] ? true : never;
const _everySwitchRule: _EverySwitchRule = true;
void _everySwitchRule;

const SwitchedBatch = z.object({
  batchId: z.string().optional(),
  decision: z.enum(['accept', 'reject', 'inconclusive']),
  n: count(),
  wrong: count(),
  batches: z.number().int().min(1),
});

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
  /**
   * A switching rule moved a vendor's inspection level (docs/acceptance-sampling.md):
   * the rule, the decisions it counted, and the workforce status that follows
   * (normal → active, tightened → probation, reduced → reduced, discontinued → suspended).
   */
  ledgerKind('workforce.inspection-switched', {
    workforceId: z.string(),
    from: InspectionLevel,
    to: InspectionLevel,
    rule: InspectionSwitchRule,
    evidence: z.object({
      batches: z.array(SwitchedBatch),
      rejected: count(),
      accepted: count(),
      wrong: count(),
      goldItems: count(),
      switchingScore: count(),
    }),
    status: change(WorkforceStatus),
    /** The round whose decisions caused it (absent: a PM's corrective action). */
    round: count().optional(),
  }),
  ledgerKind('shares.changed', { workforceId: z.string(), from: z.number(), to: z.number(), round: count() }),
  ledgerKind('shares.proposed', { round: count(), shares: Shares, changes: z.array(ShareChange) }),
  ledgerKind('shares.approved', { round: count(), shares: Shares }),
  ledgerKind('shares.refused', { round: count(), refused: Shares, carriedOver: Shares }),
] as const;
