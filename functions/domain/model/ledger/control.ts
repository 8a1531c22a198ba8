/**
 * Ledger events of a PM's manual control of workforces (issue 13,
 * docs/vendor-management.md): a cap on a vendor's share of the vendor pool,
 * pending work moved to another workforce, and held batches decided when no
 * further batch will. (Pause and resume are `workforce.paused` /
 * `workforce.resumed`.) The reason is the event's `reason`.
 */
import { z } from 'zod';
import { BatchDecisionRecord } from '../batch-decision.js';
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
  /**
   * A PM decided a vendor's held (inconclusive) batches of a protocol version that
   * no further batch will decide (the program ends, the vendor is paused or out
   * of work): who asked (`actor`) and why (`reason`), and the decision of the
   * SPRT's truncation rule on their pooled gold (rule `sprt-forced`). Its id is
   * the decision's (`forced:<program>:<vendor>:<last held batch>`, the carried
   * verdicts' `decidedWith`): asked twice, it is recorded and applied once.
   */
  ledgerKind('held-batches.decided', {
    workforceId: z.string(),
    batchIds: ids(),
    decision: BatchDecisionRecord,
  }),
] as const;
