/**
 * Score a submission against its hidden gold — primary course:
 * 1. Load the batch, protocol, batch key, gold answers and the accepted submission.
 * 2. Score the gold items (accuracy with Wilson interval, κ) and decide the
 *    batch by the protocol's acceptance rule. The vendor's first batch of a
 *    round (by batch id, same protocol version) pools the gold of its held
 *    (inconclusive) batches of earlier rounds — the SPRT carried into this
 *    batch — and the decision settles them too. Its other batches of the round
 *    run at the same time and decide on their own gold, so no held batch is
 *    ever counted in two decisions.
 * 3. Append `batch.scored` with the decision (deterministic id: once per batch;
 *    the commit point), then store the score. A retry finds the stored score,
 *    or takes the decision from the event (never decides again on a pool that
 *    may have moved meanwhile).
 */
import type { CarriedGold } from '../domain/index.js';
import { type BatchScore, examBatchScore, internalBatchScore, withCarriedEvidence } from '../domain/index.js';
import { record } from './ledger.js';
import { batchIdFor } from './plan-round.js';
import type { BatchRecord, Deps } from './ports.js';
import { carriedEventId } from './settle-batch.js';
import { loadBatchProtocol, scoreAcceptedSubmission } from './submission-file.js';

export async function scoreSubmission(
  deps: Deps,
  input: { batchId: string },
): Promise<{ verdict: BatchScore['verdict']; goldN: number; accuracy: number | null }> {
  const { batch, protocol } = await loadBatchProtocol(deps, input.batchId);
  // A retry finds the stored score, or computes the same one again; the event (same id) is appended once.
  const stored = await deps.repo.getScore(batch.batchId);
  let score = stored;
  if (!score) {
    score = await scoreAcceptedSubmission(deps, batch, protocol);
    const scored = await deps.repo.getLedgerEvent(batch.programId, `${batch.batchId}:scored`);
    if (scored?.type === 'batch.scored' && scored.data.decision) {
      // The decision committed before a crash stands.
      const { decision } = scored.data;
      score = { ...score, verdict: scored.data.verdict, decision, notes: [decision.reason, ...score.notes.filter((n) => n !== score?.decision?.reason)] };
    } else if (batch.kind === 'exam') {
      // A qualification exam: measured here, decided by the exam rule at its Rebalance step (exams.ts), never as production work.
      score = examBatchScore(score);
    } else if (batch.workforceKind === 'internal') {
      // An internal team is measured by its blind gold, never rejected or held by it (not paid per case).
      const { decision: _own, ...measured } = internalBatchScore(score);
      score = measured;
    } else {
      score = withCarriedEvidence(score, protocol, carriesHeld(batch) ? await heldGold(deps, batch) : []);
    }
  }
  await record(deps, {
    eventId: `${batch.batchId}:scored`,
    programId: batch.programId,
    type: 'batch.scored',
    actor: 'scorer',
    protocol: score.protocol,
    subject: batch.batchId,
    reason: score.notes.join('; '),
    data: {
      workforceId: batch.workforceId,
      goldN: score.goldN,
      goldCorrect: score.goldCorrect,
      accuracy: score.accuracy,
      kappa: score.kappa,
      verdict: score.verdict,
      ...(score.decision ? { decision: score.decision } : {}),
    },
  });
  if (!stored) await deps.repo.putScore(score);
  return { verdict: score.verdict, goldN: score.goldN, accuracy: score.accuracy };
}

/**
 * Whether this is the vendor's first batch of its round: the one its held batches
 * are carried into. A round is planned under one protocol version and numbers each
 * workforce's batches from 1 (`batchIdFor`), so the first is batch 1 — decided
 * from the id alone. This used to list the round's batches on every score: at
 * 1,669 batches a round read 2.8 million batch records (issue 14).
 */
function carriesHeld(batch: BatchRecord): boolean {
  return batch.batchId === batchIdFor(batch.programId, batch.round, batch.workforceId, 0);
}

/**
 * The vendor's held batches of this program and protocol version that no
 * decision has settled yet, oldest first (of rounds before `opts.before`, if given):
 * the evidence the SPRT carries into a batch. Reads every batch of the vendor
 * (a page at a time): a held batch can be older than batches decided since.
 */
export async function heldBatches(
  deps: Deps,
  batch: Pick<BatchRecord, 'programId' | 'protocol' | 'workforceId'> & { batchId?: string },
  opts: { before?: number } = {},
): Promise<BatchRecord[]> {
  const held: BatchRecord[] = [];
  let after: Parameters<Deps['repo']['listWorkforceBatches']>[1]['after'];
  do {
    const page = await deps.repo.listWorkforceBatches(batch.workforceId, { limit: 100, ...(after ? { after } : {}) });
    for (const b of page.items) {
      if (b.batchId === batch.batchId || b.programId !== batch.programId || b.protocol !== batch.protocol || b.status !== 'inconclusive') continue;
      if (opts.before !== undefined && b.round >= opts.before) continue;
      // Settled by a decision whose status move is still to come (a crash in between): not held any more.
      if (await deps.repo.getLedgerEvent(b.programId, carriedEventId(b.batchId))) continue;
      held.push(b);
    }
    after = page.next;
  } while (after);
  return held.sort((a, b) => a.round - b.round || a.createdAt.localeCompare(b.createdAt) || a.batchId.localeCompare(b.batchId));
}

async function heldGold(deps: Deps, batch: BatchRecord): Promise<CarriedGold[]> {
  const out: CarriedGold[] = [];
  for (const b of await heldBatches(deps, batch, { before: batch.round })) {
    const s = await deps.repo.getScore(b.batchId);
    if (s) out.push({ batchId: b.batchId, n: s.goldN, wrong: s.goldN - s.goldCorrect });
  }
  return out;
}
