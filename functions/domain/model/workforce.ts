/** Workforces: internal expert teams (build) and outside vendors (buy). */
import { z } from 'zod';
import { Identifier } from './protocol.js';

/**
 * A vendor's standing, which follows its inspection level (switching rules,
 * docs/acceptance-sampling.md): active = normal inspection, probation =
 * tightened (more gold, smaller share), reduced = reduced inspection (less
 * gold), suspended = discontinued (no work until a PM's corrective action).
 */
export const WorkforceStatus = z.enum(['active', 'probation', 'suspended', 'reduced']);

export const Workforce = z.object({
  workforceId: Identifier,
  kind: z.enum(['internal', 'vendor']),
  name: z.string().min(1),
  /** Cases this workforce can take per round (per planning day). */
  capacityPerRound: z.number().int().min(0),
  pricePerCase: z.number().min(0),
  slaHours: z.number().positive(),
  qualifications: z.array(z.string()).default([]),
  status: WorkforceStatus.default('active'),
  /**
   * Paused by a PM: no new work (planning skips it) until resumed. Apart from
   * `status`, which the rebalancer owns (probation, suspension).
   */
  paused: z.boolean().default(false),
  /** Gold case ids of this workforce's most recent batches, newest last (gold reuse cap). */
  recentGold: z.array(z.object({ batchId: z.string(), caseIds: z.array(z.string()) })).default([]),
  /** Every gold case this workforce has been shown (unseen gold is drawn first). */
  goldSeen: z.array(z.string()).default([]),
});
export type Workforce = z.infer<typeof Workforce>;
export type WorkforceInput = z.input<typeof Workforce>;

/** Allocation shares of the vendor pool, per vendor, summing to 1 (or all 0). */
export const Shares = z.record(z.string(), z.number().min(0).max(1));
export type Shares = z.infer<typeof Shares>;
