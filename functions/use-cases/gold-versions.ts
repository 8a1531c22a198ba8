/**
 * The versions of a disputed gold item's answer (an upheld dispute corrects it):
 * each version's number is claimed with a conditional write before the dispute
 * is upheld, the history object in the gold bucket keeps every version, and the
 * pool holds the latest. Two disputes of the same item upheld at the same
 * moment get versions n and n + 1 (never both n), and neither's write drops the
 * other's version. Used by resolveDispute (disputes.ts).
 */
import { z } from 'zod';
import { type GoldAnswer, GoldAnswer as GoldAnswerSchema, foldGoldVersions, goldAnswerSha256, isLedgerEvent } from '../domain/index.js';
import { goldSetObject } from './batch-key.js';
import { ConflictError, NotFoundError } from './errors.js';
import type { Deps } from './ports.js';

/** Every version of a gold item's answer (the pool holds only the current one). */
export const goldHistoryObject = (programId: string, protocolId: string, caseId: string): string => `gold-history/${programId}/${protocolId}/${caseId}.json`;

const GoldHistory = z.object({
  caseId: z.string(),
  versions: z.array(z.object({ version: z.number().int().min(1), answer: GoldAnswerSchema, sha256: z.string(), disputeId: z.string().optional() })),
  retired: z.object({ disputeIds: z.array(z.string()) }).optional(),
});
export type GoldHistory = z.infer<typeof GoldHistory>;
export const GoldPool = z.record(z.string(), z.looseObject({ label: GoldAnswerSchema, version: z.number().int().optional() }));

/**
 * The claims (conditional creates of the adjudication-claim items, first writer
 * wins, a retry by the same dispute finds its own) that number a gold item's
 * versions, one namespace per program and protocol, as the history is kept.
 */
const versionClaims = (programId: string, protocolId: string): string => `gold-version:${programId}/${protocolId}`;

/**
 * The version this dispute's correction of the item becomes: the first one
 * after `after` (the item's version in the ledger) that no other dispute has
 * claimed. Of two disputes upheld at once, one gets n and the other n + 1.
 *
 * @example await claimGoldVersion(deps, { programId: 'demo-cxr', protocolId: 'chest-xray', caseId: 'gold-7', disputeId: 'b-1-dispute-1', after: 1 }) // 2
 */
export async function claimGoldVersion(
  deps: Deps,
  input: { programId: string; protocolId: string; caseId: string; disputeId: string; after: number },
): Promise<number> {
  for (let v = input.after + 1; ; v++) {
    if (await deps.repo.claimAdjudication(versionClaims(input.programId, input.protocolId), `${input.caseId}#v${v}`, input.disputeId)) return v;
  }
}

/** Every version of a gold item's answer (undefined: never corrected, version 1 is the pool's). */
export async function loadGoldHistory(deps: Deps, programId: string, protocolId: string, caseId: string): Promise<GoldHistory | undefined> {
  const raw = await deps.objects.getJson<unknown>(deps.buckets.gold, goldHistoryObject(programId, protocolId, caseId));
  return raw === undefined ? undefined : GoldHistory.parse(raw);
}

/** The answer an expert gave a gold item in a dispute's decision (the answer of the version that dispute wrote). */
async function decidedAnswer(deps: Deps, disputeId: string, caseId: string): Promise<GoldAnswer> {
  const label = (await deps.repo.getAdjudication(disputeId))?.decisions?.find((d) => d.caseId === caseId)?.label;
  if (label === undefined) throw new ConflictError(`dispute ${disputeId} corrected gold item ${caseId} but holds no decision for it`);
  return label;
}

/**
 * Brings the item's history object and the pool's entry up to what the ledger
 * says: every `gold.corrected` version in the history (the old ones kept), a
 * retired item marked and out of the pool, else the pool's answer the latest
 * version. Both objects are read, changed and written whole, so after a write
 * they are read again until a read finds nothing to change: a concurrent
 * dispute's write that lost a version is repaired. Idempotent.
 */
export async function storeGoldVersions(
  deps: Deps,
  input: { programId: string; protocolId: string; caseId: string; /** Version 1 where neither history nor pool holds the item. */ scoredAgainst?: GoldAnswer },
): Promise<GoldHistory> {
  const { programId, protocolId, caseId } = input;
  const poolKey = goldSetObject(programId, protocolId);
  const historyKey = goldHistoryObject(programId, protocolId, caseId);
  for (;;) {
    const events = await deps.repo.listLedger(programId);
    const state = foldGoldVersions(events).get(caseId);
    // The pool before the history: while no history exists, no correction has reached the pool yet.
    const pool = GoldPool.parse((await deps.objects.getJson<unknown>(deps.buckets.gold, poolKey)) ?? {});
    const history = (await loadGoldHistory(deps, programId, protocolId, caseId)) ?? { caseId, versions: [] };
    let changed = false;
    if (history.versions.length === 0) {
      const original = pool[caseId]?.label ?? input.scoredAgainst;
      if (original === undefined) throw new NotFoundError(`gold item ${caseId} is not in the gold pool of ${programId}/${protocolId}`);
      history.versions.push({ version: 1, answer: original, sha256: goldAnswerSha256(original) });
      changed = true;
    }
    for (const e of events.filter(isLedgerEvent('gold.corrected'))) {
      if (e.data.goldCaseId !== caseId || history.versions.some((v) => v.version === e.data.toVersion)) continue;
      history.versions.push({ version: e.data.toVersion, answer: await decidedAnswer(deps, e.data.disputeId, caseId), sha256: e.data.answerSha256, disputeId: e.data.disputeId });
      changed = true;
    }
    if (state?.retired && !history.retired) {
      history.retired = { disputeIds: state.upheldBy };
      changed = true;
    }
    if (changed) {
      history.versions.sort((x, y) => x.version - y.version);
      await deps.objects.putJson(deps.buckets.gold, historyKey, history);
      continue;
    }
    const latest = history.versions.at(-1)!;
    const entry = pool[caseId];
    if (history.retired ? entry === undefined : entry === undefined || (entry.version === latest.version && goldAnswerSha256(entry.label) === latest.sha256)) return history;
    if (history.retired) delete pool[caseId];
    else pool[caseId] = { ...entry, label: latest.answer, version: latest.version };
    await deps.objects.putJson(deps.buckets.gold, poolKey, pool);
  }
}

/** Each item's latest version and its answer (the item must have a history: storeGoldVersions wrote it). */
export async function latestGoldVersions(
  deps: Deps,
  programId: string,
  protocolId: string,
  caseIds: readonly string[],
): Promise<Map<string, { version: number; answer: GoldAnswer; sha256: string }>> {
  const out = new Map<string, { version: number; answer: GoldAnswer; sha256: string }>();
  for (const caseId of caseIds) {
    const latest = (await loadGoldHistory(deps, programId, protocolId, caseId))?.versions.at(-1);
    if (!latest) throw new NotFoundError(`gold item ${caseId} of ${programId}/${protocolId} has no version history`);
    out.set(caseId, { version: latest.version, answer: latest.answer, sha256: latest.sha256 });
  }
  return out;
}

/**
 * Claims the re-score of a batch against these answers (one claim per batch and
 * set of answers): of two disputes of the same item upheld at once, only one
 * re-scores a batch against the same answer. A retry by the claimant finds its claim.
 */
export async function claimRescore(
  deps: Deps,
  input: { programId: string; batchId: string; disputeId: string; answers: ReadonlyMap<string, { sha256: string }> },
): Promise<boolean> {
  const of = [...input.answers].sort(([a], [b]) => a.localeCompare(b)).map(([caseId, v]) => `${caseId}@${v.sha256.slice(0, 16)}`);
  return deps.repo.claimAdjudication(`gold-rescore:${input.programId}`, `${input.batchId}#${of.join(',')}`, input.disputeId);
}
