/**
 * Ledger events of a PM's manual control of workforces (issue 13,
 * docs/vendor-management.md): a cap on a vendor's share of the vendor pool and
 * pending work moved to another workforce. (Pause and resume are
 * `workforce.paused` / `workforce.resumed`.) The reason is the event's `reason`.
 */
import { z } from 'zod';
import { ids, ledgerKind } from './base.js';

export const controlEvents = [
  /** `cap`: the most of the vendor pool's cases this vendor gets per round; null: the cap is removed. */
  ledgerKind('workforce.share-capped', {
    workforceId: z.string(),
    cap: z.number().gt(0).max(1).nullable(),
    from: z.number().gt(0).max(1).nullable(),
  }),
  /**
   * Pending work moved from one workforce to another: a batch not yet submitted
   * (closed, its cases back to pending) and / or cases a PM had assigned; every
   * case is assigned to `to` for the next round.
   */
  ledgerKind('work.moved', {
    from: z.string(),
    to: z.string(),
    /** The open batch withdrawn from `from`, if any. */
    batchId: z.string().optional(),
    caseIds: ids(),
  }),
] as const;
