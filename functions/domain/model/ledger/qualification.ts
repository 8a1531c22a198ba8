/**
 * Ledger events of qualification (issue 13, docs/vendor-management.md): exams
 * (gold-only batches blinded like any batch), their decisions, a PM's waiver and
 * a revocation. A workforce's qualification on a protocol version is a fold of
 * these (functions/domain/qualification.ts).
 */
import { z } from 'zod';
import { ExamOutcome } from '../qualification.js';
import { count, ids, ledgerKind } from './base.js';

export const qualificationEvents = [
  /** An exam batch went out (its `batch.dispatched` follows, with `kind: 'exam'`). */
  ledgerKind('exam.dispatched', {
    workforceId: z.string(),
    batchId: z.string(),
    /** 1, 2, …: attempts of this workforce on this protocol version. */
    attempt: z.number().int().min(1),
    items: count(),
    /** Items the exam rule asked for (fewer when the eligible gold pool was short). */
    planned: count(),
    /** The gold cases drawn (never ones this workforce saw in an earlier attempt). */
    caseIds: ids(),
  }),
  ledgerKind('exam.decided', {
    workforceId: z.string(),
    batchId: z.string(),
    attempt: z.number().int().min(1),
    outcome: ExamOutcome,
    /** What decided: the acceptance rule, the gold accuracy bar, or why there was no verdict. */
    rule: z.enum(['single-plan', 'single-plan-curtailed', 'sprt', 'sprt-truncated', 'fixed-threshold', 'blocker', 'overdue', 'failed']),
    /** Pooled over the attempts since the last conclusive exam (an inconclusive attempt's items count in the next). */
    evidence: z.object({
      n: count(),
      wrong: count(),
      attempts: z.number().int().min(1),
      c: z.number().int().nullable(),
      llr: z.number().nullable(),
    }),
  }),
  /** A PM qualifies a workforce without an exam; the reason is the event's `reason`. */
  ledgerKind('qualification.waived', { workforceId: z.string() }),
  /**
   * A PM withdraws a qualification. (A suspension and a material change of the
   * task need no event of their own: the fold reads the status change, and the
   * protocol diff between versions, functions/domain/qualification.ts.)
   */
  ledgerKind('qualification.revoked', { workforceId: z.string(), cause: z.enum(['pm']) }),
] as const;
