/**
 * Disputes of gold, pure: what a vendor may dispute and how, which gold items a
 * dispute puts under review, what an expert's decision corrects, the gold
 * versions and retirements the ledger holds, and a batch's figures before and
 * after a re-score. The use case (use-cases/disputes.ts) loads and writes.
 *
 * What a vendor learns: its batch's status (accepted / rejected / inconclusive)
 * and its uploads' validation reports — never which items were gold. So a
 * dispute names a rejected batch and, optionally, one alias of it; the review
 * covers the gold items the batch failed, narrowed to the named alias only when
 * that alias is one of them. Naming any other alias is answered exactly like a
 * batch dispute, so no answer says whether an alias was gold.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './ledger-chain.js';
import type { BatchScore, GoldAnswer, LedgerEvent } from './model/index.js';
import { Alias } from './model/index.js';

/** A gold item corrected by this many upheld disputes leaves the pool. */
export const RETIRE_AFTER_UPHELD = 2;

/** What a vendor sends to open a dispute. */
export const DisputeRequest = z.strictObject({
  reason: z.string().trim().min(10, 'say why, in at least 10 characters').max(2000, 'at most 2000 characters'),
  /** One item of the batch (as the manifest names it); omit to dispute the batch's decision. */
  alias: Alias.optional(),
});
export type DisputeRequest = z.infer<typeof DisputeRequest>;

/** Why a batch in this status cannot be disputed; undefined when it can. */
export function whyNotDisputable(status: string): string | undefined {
  if (status === 'rejected') return undefined;
  if (status === 'inconclusive') return 'it is inconclusive: never penalised, and decided by more gold (nothing to dispute yet)';
  if (status === 'accepted') return 'it was accepted: nothing to dispute';
  return `it is ${status}: only a rejected batch can be disputed`;
}

/**
 * The gold items a dispute reviews: the gold items the batch's score failed;
 * only the named one when the alias is one of them (any other alias widens to
 * the batch, never telling the vendor which).
 *
 * @example goldItemsUnderReview(score, new Map([['q5jx…', 'gold-7']]), 'q5jx…') // ['gold-7'] if gold-7 failed
 */
export function goldItemsUnderReview(score: Pick<BatchScore, 'items'>, caseOfAlias: ReadonlyMap<string, string>, alias?: string): string[] {
  const failed = score.items.filter((i) => !i.correct).map((i) => i.caseId);
  const named = alias === undefined ? undefined : caseOfAlias.get(alias);
  return named !== undefined && failed.includes(named) ? [named] : failed;
}

/** SHA-256 of a gold answer's canonical JSON: what the ledger says of a corrected answer. */
export const goldAnswerSha256 = (answer: GoldAnswer): string => createHash('sha256').update(canonicalJson(answer)).digest('hex');

export interface GoldItemState {
  /** 1 for the answer as ingested; each upheld correction adds one. */
  version: number;
  /** The upheld disputes that corrected it, in ledger order. */
  upheldBy: string[];
  retired: boolean;
}

/**
 * The version and retirement of every gold item the ledger has corrected or
 * retired (an item absent from the map is at version 1). Each event once.
 */
export function foldGoldVersions(events: readonly LedgerEvent[]): Map<string, GoldItemState> {
  const out = new Map<string, GoldItemState>();
  const seen = new Set<string>();
  const of = (id: string) => {
    const s = out.get(id) ?? { version: 1, upheldBy: [], retired: false };
    out.set(id, s);
    return s;
  };
  for (const e of events) {
    if (seen.has(e.eventId)) continue;
    seen.add(e.eventId);
    if (e.type === 'gold.corrected') {
      const s = of(e.data.goldCaseId);
      s.version = Math.max(s.version, e.data.toVersion);
      if (!s.upheldBy.includes(e.data.disputeId)) s.upheldBy.push(e.data.disputeId);
    } else if (e.type === 'gold.retired') {
      of(e.data.goldCaseId).retired = true;
    }
  }
  return out;
}

export interface ExpertDecision {
  caseId: string;
  label: string;
  note?: string;
}

export interface DisputeOutcome {
  /** Items whose answer the expert changed: the dispute is upheld when there is one. */
  corrected: { goldCaseId: string; from: GoldAnswer; to: GoldAnswer }[];
  /** Items whose gold answer stands. */
  stands: { goldCaseId: string; answer: GoldAnswer; note?: string }[];
}

/**
 * What an expert's decision on a dispute does, item by item (classification:
 * the expert gives the class; a class other than the current gold answer
 * corrects it).
 */
export function disputeOutcome(decisions: readonly ExpertDecision[], currentAnswer: (goldCaseId: string) => GoldAnswer | undefined): DisputeOutcome {
  const out: DisputeOutcome = { corrected: [], stands: [] };
  for (const d of decisions) {
    const answer = currentAnswer(d.caseId);
    if (answer === undefined) throw new Error(`gold item ${d.caseId} has no answer in the gold pool`);
    if (canonicalJson(answer) === canonicalJson(d.label)) out.stands.push({ goldCaseId: d.caseId, answer, ...(d.note ? { note: d.note } : {}) });
    else out.corrected.push({ goldCaseId: d.caseId, from: answer, to: d.label });
  }
  return out;
}

/** The reason a refused dispute records: per item, that the answer stands and the expert's note. */
export function refusalReason(outcome: DisputeOutcome): string {
  return outcome.stands
    .map((s) => `gold item ${s.goldCaseId}: the expert confirmed the gold answer${s.note ? ` (${s.note})` : ''}`)
    .join('; ');
}

export type BatchDecisionName = 'accepted' | 'rejected' | 'inconclusive';

export interface GoldFigures {
  goldN: number;
  goldCorrect: number;
  accuracy: number | null;
  decision: BatchDecisionName;
}

/** A score's gold figures with the decision it stands for. */
export const figuresOf = (s: Pick<BatchScore, 'goldN' | 'goldCorrect' | 'accuracy'>, decision: BatchDecisionName): GoldFigures => ({
  goldN: s.goldN,
  goldCorrect: s.goldCorrect,
  accuracy: s.accuracy,
  decision,
});

/**
 * True when a stored score was computed against an answer other than the
 * corrected one for any of the items (the batch saw the old version and must
 * be re-scored). Items the batch did not hold as gold do not count.
 */
export function scoredAgainstOldAnswer(score: Pick<BatchScore, 'items'>, corrected: ReadonlyMap<string, GoldAnswer>): boolean {
  return score.items.some((i) => corrected.has(i.caseId) && canonicalJson(i.expected ?? null) !== canonicalJson(corrected.get(i.caseId)));
}

/**
 * The batch status a re-score moves to, when the decision flipped and the batch
 * had settled conclusively. A held (inconclusive) batch is not re-decided alone:
 * its corrected score is what the vendor's next pooled decision reads.
 */
export function flipOf(status: string, after: BatchDecisionName): BatchDecisionName | undefined {
  if (status !== 'accepted' && status !== 'rejected') return undefined;
  return status === after ? undefined : after;
}
