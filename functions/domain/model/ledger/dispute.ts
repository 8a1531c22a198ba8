/**
 * Ledger events of disputes: a vendor contests the gold items that decided a
 * batch, an expert reviews them through the adjudication path, and an upheld
 * dispute corrects the gold answer (a new gold version), may retire the item,
 * and re-scores every batch that was scored against the old answer.
 *
 * The subject of `dispute.*` is the dispute id; of `gold.*` the gold case; of
 * `batch.rescored` the re-scored batch.
 */
import { z } from 'zod';
import { count, figure, ids, ledgerKind } from './base.js';

/** A batch's settled decision (three-way: an inconclusive batch is never penalised). */
const Decision = z.enum(['accepted', 'rejected', 'inconclusive']);

/** What the gold said about a batch, before or after a re-score. */
const GoldFigures = z.object({ goldN: count(), goldCorrect: count(), accuracy: figure(), decision: Decision });

const disputed = {
  /** The disputing vendor and its batch. */
  workforceId: z.string(),
  batchId: z.string(),
  /** The adjudication the review runs through (its expert queue, deadline and decision). */
  adjudicationId: z.string(),
  /** The gold items under review (case ids: never shown to the vendor). */
  goldCaseIds: ids(),
};

const SHA256 = z.string().regex(/^[0-9a-f]{64}$/);

export const disputeEvents = [
  ledgerKind('dispute.opened', {
    ...disputed,
    /** The alias the vendor named, when it disputed one item of its batch. */
    alias: z.string().optional(),
    deadline: z.iso.datetime(),
  }),
  ledgerKind('dispute.upheld', {
    ...disputed,
    expertId: z.string(),
    /** The items whose gold answer the expert corrected (the others stand, named in the reason). */
    corrections: z.array(z.object({ goldCaseId: z.string(), fromVersion: z.number().int().min(1), toVersion: z.number().int().min(2), answerSha256: SHA256 })).min(1),
  }),
  /** The reason (the base field) says why: the expert's note, or that the gold answer stands. */
  ledgerKind('dispute.refused', { ...disputed, expertId: z.string() }),
  ledgerKind('dispute.expired', disputed),
  ledgerKind('gold.corrected', {
    goldCaseId: z.string(),
    fromVersion: z.number().int().min(1),
    toVersion: z.number().int().min(2),
    /** SHA-256 of the corrected answer's canonical JSON (the answer itself stays in the gold bucket). */
    answerSha256: SHA256,
    disputeId: z.string(),
  }),
  ledgerKind('gold.retired', {
    goldCaseId: z.string(),
    /** The upheld disputes that retired it (two). */
    disputeIds: ids(),
    version: z.number().int().min(1),
  }),
  ledgerKind('batch.rescored', {
    workforceId: z.string(),
    disputeId: z.string(),
    /** The corrected gold items of this batch and the version each now has. */
    corrections: z.array(z.object({ goldCaseId: z.string(), toVersion: z.number().int().min(2) })).min(1),
    before: GoldFigures,
    after: GoldFigures,
    /** The batch's decision from now on: after.decision on a flip, else unchanged (a held batch stays held for its pooled decision). */
    decision: Decision,
    /** The decision changed (accepted ↔ rejected, or to/from inconclusive): the batch is settled again. */
    flipped: z.boolean(),
    /**
     * The money, when the batch is (re)settled: what the old decision charged and
     * what the new one charges (same units and rule as batch.accepted / batch.rejected).
     */
    settlement: z
      .object({
        items: count(),
        realItems: count(),
        pricePerCase: z.number().min(0),
        penaltyBefore: z.number().min(0).max(1),
        penalty: z.number().min(0).max(1),
        chargeBefore: z.number().min(0),
        charge: z.number().min(0),
      })
      .optional(),
    /** Reject → accept: the batch's cases whose labels now stand (those not re-done elsewhere meanwhile). */
    labelledCaseIds: ids(),
    /** Reject → accept: the batch's cases already re-done by another workforce (paid, their labels stay). */
    redoneElsewhereCaseIds: ids(),
  }),
] as const;
