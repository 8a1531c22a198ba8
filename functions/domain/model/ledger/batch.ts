/** Ledger events of a batch's lifecycle: dispatch, submissions, score, verdict, labels, closing. */
import { z } from 'zod';
import { BatchDecisionRecord } from '../batch-decision.js';
import { ContractRef } from '../contract.js';
import { count, figure, ids, ledgerKind } from './base.js';

const submission = { workforceId: z.string(), uploadId: z.string(), key: z.string(), sha256Hex: z.string() };

/** A decided (or held) batch's figures: its gold, its size and its price per case. */
const decidedBatch = {
  workforceId: z.string(),
  goldN: count(),
  accuracy: figure(),
  items: count(),
  /** Items less gold: the cases the workforce is credited with. */
  realItems: count(),
  /** Held: the price it will be paid at if a later decision accepts it. */
  pricePerCase: z.number().min(0),
};

const verdict = {
  ...decidedBatch,
  /** Share of the batch price withheld (0 when accepted). */
  penalty: z.number().min(0).max(1),
  /** What the workforce is paid for the batch. */
  charge: z.number().min(0),
  /** The contract version it was settled under (`id@version`), its amount in cents and the rule in words; absent before contracts. */
  contract: ContractRef.optional(),
  amountCents: z.number().int().optional(),
  rule: z.string().optional(),
  /** The acceptance decision (rule, pooled evidence, carried batches); absent on events written before it existed. */
  decision: BatchDecisionRecord.optional(),
  /** A carried batch: the later batch of the same vendor whose decision settled it (this event's id is `<batchId>:carried`). */
  decidedWith: z.string().optional(),
};

const BatchStatusBefore = z.enum(['planned', 'awaiting-submission', 'submitted', 'accepted', 'rejected', 'inconclusive', 'overdue', 'failed']);

export const batchEvents = [
  ledgerKind('batch.dispatched', {
    workforceId: z.string(),
    items: count(),
    gold: count(),
    /** The cases this dispatch marks assigned to the batch (real, primary copies: no gold, no overlap second copies). */
    caseIds: ids(),
  }),
  ledgerKind('submission.accepted', submission),
  ledgerKind('submission.rejected', submission),
  ledgerKind('batch.scored', {
    workforceId: z.string(),
    goldN: count(),
    goldCorrect: count(),
    accuracy: figure(),
    kappa: figure(),
    verdict: z.enum(['accepted', 'rejected', 'inconclusive']),
    /** The acceptance decision; absent on events written before it existed. */
    decision: BatchDecisionRecord.optional(),
  }),
  ledgerKind('batch.accepted', verdict),
  ledgerKind('batch.rejected', verdict),
  /**
   * Held: the acceptance rule needs more gold. No charge and no penalty; the
   * evidence is carried into the vendor's next decision, which settles this
   * batch too (a `batch.accepted` / `batch.rejected` with id `<batchId>:carried`).
   */
  ledgerKind('batch.inconclusive', { ...decidedBatch, decision: BatchDecisionRecord }),
  ledgerKind('batch.overdue', {
    workforceId: z.string(),
    slaHours: z.number().positive(),
    /** The Step Functions error that closed the wait (`States.Timeout`, `States.HeartbeatTimeout`). */
    timeout: z.string(),
  }),
  ledgerKind('batch.failed', {
    workforceId: z.string(),
    statusBefore: BatchStatusBefore,
    /** Accepted but never finalized: the acceptance (its cases and charge) does not stand. */
    revokedAcceptance: z.object({ realItems: count(), charge: z.number().min(0) }).optional(),
  }),
  ledgerKind('labels.recorded', {
    workforceId: z.string(),
    labels: count(),
    submissionKey: z.string(),
    sha256: z.string(),
    /** The cases this finalize marks labelled (accepted batch); empty for a rejected one. */
    caseIds: ids(),
  }),
  ledgerKind('cases.requeued', {
    workforceId: z.string(),
    cases: count(),
    /** The cases put back to pending. */
    caseIds: ids(),
    /** The workforce these cases may not go back to, if any. */
    exclude: z.string().optional(),
    /**
     * Cases of `caseIds` not put back to pending but handed to the batch holding their
     * overlap second copy (another workforce's, not yet decided): its decision settles them.
     */
    handedOver: z.array(z.object({ caseId: z.string(), batchId: z.string() })).optional(),
  }),
] as const;
