/**
 * Disputes of gold — a vendor contests the gold items that rejected its batch;
 * an internal expert reviews them through the adjudication path (the expert
 * queue, its deadline and its decision); an upheld dispute corrects the gold
 * answer and re-scores every batch that was scored against the old one.
 *
 * Primary course:
 * 1. openDispute: the vendor's own rejected batch, a reason and optionally one
 *    alias; each gold item under review is claimed for (batch, item) — one open
 *    dispute per pair — then the review is created as an adjudication with a
 *    deadline (the protocol's adjudication SLA), and `dispute.opened` +
 *    `adjudication.requested` are recorded.
 * 2. The expert decides it like any adjudication (decideAdjudication); its
 *    finish step calls resolveDispute.
 * 3. resolveDispute: `dispute.refused` (every answer stands) or
 *    `dispute.upheld` — the commit point — then per corrected item
 *    `gold.corrected` and the new version in the gold bucket (the old one kept),
 *    `gold.retired` on the second upheld dispute, and per batch that saw the old
 *    answer its answers object rewritten and, if scored, `batch.rescored` with
 *    the batch re-settled when its decision flipped (dispute-rescore.ts). Every step is
 *    idempotent: re-running resolveDispute after a crash completes it once.
 */
import { z } from 'zod';
import {
  DisputeRequest,
  type GoldAnswer,
  Identifier,
  RETIRE_AFTER_UPHELD,
  disputeOutcome,
  foldGoldVersions,
  goldAnswerSha256,
  goldItemsUnderReview,
  protocolRef,
  refusalReason,
  whyNotDisputable,
} from '../domain/index.js';
import { expireAdjudication } from './adjudication.js';
import { goldSetObject, loadBatchKey, manifestObject } from './batch-key.js';
import { ConflictError, InvalidInputError, NotFoundError } from './errors.js';
import { record } from './ledger.js';
import type { AdjudicationNeed, AdjudicationRecord, BatchRecord, Deps, DisputeRequestRecord } from './ports.js';
import { findProtocol } from './protocol-ref.js';
import { batchesHoldingGold, rescoreBatch, rewriteBatchAnswer } from './dispute-rescore.js';
import { GoldPool, claimGoldVersion, claimRescore, latestGoldVersions, loadGoldHistory, storeGoldVersions } from './gold-versions.js';

export { type GoldHistory, goldHistoryObject, loadGoldHistory } from './gold-versions.js';

/** The claim that keeps one open dispute per (batch, gold item). */
export const disputeClaimKey = (caseId: string, batchId: string): string => `${caseId}#${batchId}#dispute`;
const disputeIdFor = (batchId: string, n: number): string => `${batchId}-dispute-${n}`;

// One answer for "no such batch", "not yours" and "not an id".
const batchNotFound = (batchId: string) => new NotFoundError(`batch ${String(batchId).slice(0, 64)} not found`);
const disputeNotFound = (id: string) => new NotFoundError(`dispute ${String(id).slice(0, 64)} not found`);

export const OpenDisputeInput = DisputeRequest.extend({
  /** From the caller's token, never from the request body. */
  workforceId: Identifier,
  batchId: z.string(),
  /** Who opened it (`<workforce>/<user>`). */
  openedBy: z.string().min(1),
});

export interface DisputeView {
  disputeId: string;
  batchId: string;
  alias?: string;
  reason: string;
  /** pending-review: recorded, not yet queued for the expert; declined: nothing left to review. */
  status: 'pending-review' | 'declined' | 'open' | 'upheld' | 'refused' | 'expired';
  openedAt: string;
  deadline?: string;
  decidedAt?: string;
  /** What the review found, in words that name no gold item. */
  outcome?: string;
  /** The disputed batch's decision before and after its re-score (upheld). */
  rescore?: { before: string; after: string };
}

/** The part of a batch's manifest (images bucket, WorkApi may read it) that names its aliases. */
const ManifestAliases = z.object({ items: z.array(z.object({ alias: z.string() })) });

/**
 * A vendor disputes its rejected batch (optionally one alias of it). Runs in
 * WorkApi, which reads no gold: it records what the vendor said (status
 * `pending`); the Api function queues the review the first time it touches the
 * dispute (completeDisputeRequest). The answer is the same for any alias of the batch.
 *
 * @example await openDispute(deps, { workforceId: 'vendor-b', batchId, reason: 'item 3 is clearly abnormal', openedBy: 'vendor-b/ann' })
 */
export async function openDispute(deps: Deps, input: z.input<typeof OpenDisputeInput>): Promise<DisputeView> {
  const parsed = OpenDisputeInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue.path[0] === 'batchId' || issue.path[0] === 'workforceId') throw batchNotFound(String(input.batchId));
    throw new InvalidInputError(`${issue.path.join('.') || 'request'}: ${issue.message}`);
  }
  const req = parsed.data;
  const batch = await ownBatch(deps, req.workforceId, req.batchId);
  if (batch.kind === 'exam') throw new ConflictError(`batch ${batch.batchId} is a qualification exam: decided by the exam rule (ask the PM, who may waive it)`);
  const why = whyNotDisputable(batch.status);
  if (why) throw new ConflictError(`batch ${batch.batchId} cannot be disputed: ${why}`);
  // Its lifecycle finalizes the rejection (cases back to the queue) first: a flip must find that done.
  if (!(await deps.repo.getLedgerEvent(batch.programId, `${batch.batchId}:labels`))) {
    throw new ConflictError(`batch ${batch.batchId} is still being closed; dispute it once its rejection is final`);
  }
  const protocol = await findProtocol(deps, batch.protocol);
  if (!protocol) throw new NotFoundError(`protocol ${batch.protocol} not found`);
  if (protocol.task.type !== 'classification') {
    throw new InvalidInputError(`disputes of ${protocol.task.type} gold are not supported yet: ask the QA lead for a critical-miss review`);
  }
  if (req.alias !== undefined) {
    // The manifest the vendor received (no gold in it): an alias it never received answers like one that does not exist.
    const manifest = ManifestAliases.safeParse(await deps.objects.getJson<unknown>(deps.buckets.images, manifestObject(batch.batchId)));
    if (!manifest.success || !manifest.data.items.some((i) => i.alias === req.alias)) throw new NotFoundError(`item ${req.alias} not found in batch ${batch.batchId}`);
  }
  const score = await deps.repo.getScore(batch.batchId);
  if (!score) throw new ConflictError(`batch ${batch.batchId} has no score yet`);
  if (score.items.every((i) => i.correct)) throw new ConflictError(`batch ${batch.batchId} was not rejected by its gold answers: there is no gold item to review`);

  // The request item at the first free dispute number is the conditional claim: of two
  // concurrent opens one creates it, the other looks again and finds it pending.
  for (;;) {
    let n = 1;
    for (; ; n++) {
      const id = disputeIdFor(batch.batchId, n);
      const earlier = await deps.repo.getDisputeRequest(id);
      if (earlier?.status === 'pending' && earlier.alias === req.alias) {
        throw new ConflictError(`batch ${batch.batchId}: ${req.alias ? `item ${req.alias}` : 'its gold'} is already disputed and waiting for review`);
      }
      if (!earlier && !(await deps.repo.getAdjudication(id))) break;
    }
    const r: DisputeRequestRecord = {
      disputeId: disputeIdFor(batch.batchId, n),
      programId: batch.programId,
      batchId: batch.batchId,
      workforceId: batch.workforceId,
      ...(req.alias ? { alias: req.alias } : {}),
      reason: req.reason,
      openedBy: req.openedBy,
      openedAt: deps.clock.now().toISOString(),
      status: 'pending',
    };
    if ((await deps.repo.putDisputeRequest(r)) === 'created') return requestView(r);
  }
}

/**
 * Queues every pending dispute request of these programs (all when none is
 * named): run by the Api function, which may read the batch keys, before the
 * expert's queue or the PM's dispute list is read.
 */
export async function completeDisputeRequests(deps: Deps, input: { programId?: string } = {}): Promise<void> {
  for (const p of input.programId ? [input.programId] : await deps.repo.listPrograms()) {
    for (const r of await deps.repo.listDisputeRequests(p)) if (r.status === 'pending') await completeDisputeRequest(deps, r.disputeId);
  }
}

/**
 * A pending request becomes the review: the alias mapped to gold items by the
 * batch key, a claim per (batch, gold item), the adjudication of the same id,
 * `dispute.opened` + `adjudication.requested`, then the request marked queued —
 * or declined with the reason when no gold item is left to review. Idempotent:
 * completing twice (or after a crash at any line) records once.
 */
export async function completeDisputeRequest(deps: Deps, disputeId: string): Promise<void> {
  const r = await deps.repo.getDisputeRequest(disputeId);
  if (r?.status !== 'pending') return;
  const batch = await deps.repo.getBatch(r.batchId);
  const protocol = batch && (await findProtocol(deps, batch.protocol));
  const score = await deps.repo.getScore(r.batchId);
  if (!batch || !protocol || !score) return decline(deps, r, `batch ${r.batchId} has no score to review`);
  const key = await loadBatchKey(deps, batch.batchId);
  const caseOfAlias = new Map(key.items.map((i) => [i.alias, i.caseId]));
  const wanted = goldItemsUnderReview(score, caseOfAlias, r.alias);
  if (wanted.length === 0) return decline(deps, r, 'the batch was not rejected by its gold answers: there is no gold item to review');

  await expireOverdue(deps, batch);
  const ref = protocolRef(protocol);
  const claimed: string[] = [];
  for (const caseId of wanted) if (await deps.repo.claimAdjudication(ref, disputeClaimKey(caseId, batch.batchId), disputeId)) claimed.push(caseId);
  if (claimed.length === 0) return decline(deps, r, `${r.alias ? `item ${r.alias}` : 'its gold'} is already under dispute or was decided`);

  const versions = foldGoldVersions(await deps.repo.listLedger(batch.programId));
  const labels = await deps.repo.listBatchLabels(batch.batchId);
  const deadline = new Date(Date.parse(r.openedAt) + protocol.adjudication.slaHours * 3600_000).toISOString();
  const needs: AdjudicationNeed[] = claimed.map((caseId) => {
    const item = score.items.find((i) => i.caseId === caseId)!;
    const label = labels.find((l) => l.caseId === caseId);
    const by = label ? `${label.workforceId}/${label.annotatorId}` : batch.workforceId;
    const version = versions.get(caseId)?.version ?? 1;
    return {
      caseId,
      kind: 'gold-dispute',
      reason: `${batch.workforceId} disputes the gold answer of batch ${batch.batchId}${r.alias ? ` (item ${r.alias})` : ''}: "${r.reason}" — answered "${item.got}", gold v${version} says "${String(item.expected)}"`,
      labels: { [by]: String(item.got), [`gold@v${version}`]: String(item.expected) },
    };
  });
  const a: AdjudicationRecord = {
    adjudicationId: disputeId,
    programId: batch.programId,
    batchId: batch.batchId,
    protocol: ref,
    needs,
    status: 'open',
    deadline,
    createdAt: r.openedAt,
    dispute: { disputeId, workforceId: batch.workforceId, ...(r.alias ? { alias: r.alias } : {}), reason: r.reason, openedBy: r.openedBy },
  };
  await deps.repo.createAdjudication(a);
  await recordOpened(deps, (await deps.repo.getAdjudication(disputeId)) ?? a);
  // Last: a crash before it leaves the request pending, and the next touch completes it (every step above repeats as a no-op).
  await deps.repo.closeDisputeRequest(disputeId, { status: 'queued' });
}

async function decline(deps: Deps, r: DisputeRequestRecord, note: string): Promise<void> {
  await deps.repo.closeDisputeRequest(r.disputeId, { status: 'declined', note });
}

/** A request not (yet) reviewed, as its vendor reads it. */
function requestView(r: DisputeRequestRecord): DisputeView {
  return {
    disputeId: r.disputeId,
    batchId: r.batchId,
    ...(r.alias ? { alias: r.alias } : {}),
    reason: r.reason,
    status: r.status === 'declined' ? 'declined' : 'pending-review',
    openedAt: r.openedAt,
    ...(r.status === 'declined' ? { outcome: `declined: ${r.note ?? 'nothing to review'}` } : {}),
  };
}

async function ownBatch(deps: Deps, workforceId: string, batchId: string): Promise<BatchRecord> {
  const id = Identifier.safeParse(batchId);
  const batch = id.success ? await deps.repo.getBatch(id.data) : undefined;
  if (!batch || batch.workforceId !== workforceId) throw batchNotFound(batchId);
  return batch;
}

async function recordOpened(deps: Deps, a: AdjudicationRecord): Promise<void> {
  const d = a.dispute!;
  const cases = a.needs.map((x) => x.caseId);
  await record(deps, {
    eventId: `${a.adjudicationId}:opened`,
    programId: a.programId,
    type: 'dispute.opened',
    actor: d.openedBy,
    protocol: a.protocol,
    subject: a.adjudicationId,
    reason: d.reason,
    data: { workforceId: d.workforceId, batchId: a.batchId, adjudicationId: a.adjudicationId, goldCaseIds: cases, ...(d.alias ? { alias: d.alias } : {}), deadline: a.deadline! },
  });
  await record(deps, {
    eventId: `${a.adjudicationId}:requested`,
    programId: a.programId,
    type: 'adjudication.requested',
    actor: 'dispute',
    protocol: a.protocol,
    subject: a.adjudicationId,
    reason: a.needs.map((x) => `${x.caseId}: ${x.reason}`).join(' | '),
    data: { batchId: a.batchId, cases, kinds: a.needs.map((x) => x.kind) },
  });
}

/** Open disputes of this batch past their deadline expire now (the adjudication rule: unanswered in time, released). */
async function expireOverdue(deps: Deps, batch: BatchRecord): Promise<void> {
  for (let n = 1; ; n++) {
    const a = await deps.repo.getAdjudication(disputeIdFor(batch.batchId, n));
    if (!a) return;
    await expireIfOverdue(deps, a);
  }
}

async function expireIfOverdue(deps: Deps, a: AdjudicationRecord): Promise<AdjudicationRecord> {
  if (a.status !== 'open' || !a.dispute || !a.deadline || deps.clock.now().getTime() <= Date.parse(a.deadline)) return a;
  return expireDispute(deps, a);
}

/**
 * An unanswered dispute past its deadline, by the adjudication rule
 * (expireAdjudication: open → expired, claims released, `adjudication.expired`),
 * then `dispute.expired`: the vendor may dispute again. A decision stored first wins.
 */
export async function expireDispute(deps: Deps, a: AdjudicationRecord): Promise<AdjudicationRecord> {
  if ((await expireAdjudication(deps, { batchId: a.batchId, adjudicationId: a.adjudicationId })).status === 'decided') {
    return (await deps.repo.getAdjudication(a.adjudicationId)) ?? a;
  }
  await record(deps, {
    eventId: `${a.adjudicationId}:dispute-expired`,
    programId: a.programId,
    type: 'dispute.expired',
    actor: 'sla-timer',
    protocol: a.protocol,
    subject: a.adjudicationId,
    reason: `no expert decision by the deadline ${a.deadline}; the vendor may dispute again`,
    data: { workforceId: a.dispute!.workforceId, batchId: a.batchId, adjudicationId: a.adjudicationId, goldCaseIds: a.needs.map((n) => n.caseId) },
  });
  return { ...a, status: 'expired' };
}

/**
 * The current answer of a gold item: its latest version (history), else the
 * pool's, else (an item no longer in the pool) the one the disputed batch was scored against.
 */
async function currentAnswers(
  deps: Deps,
  programId: string,
  protocolId: string,
  caseIds: readonly string[],
  scoredAgainst: ReadonlyMap<string, GoldAnswer>,
): Promise<Map<string, { answer: GoldAnswer }>> {
  const pool = GoldPool.parse((await deps.objects.getJson<unknown>(deps.buckets.gold, goldSetObject(programId, protocolId))) ?? {});
  const out = new Map<string, { answer: GoldAnswer }>();
  for (const caseId of caseIds) {
    const history = await loadGoldHistory(deps, programId, protocolId, caseId);
    const answer = history?.versions.at(-1)?.answer ?? pool[caseId]?.label ?? scoredAgainst.get(caseId);
    if (answer !== undefined) out.set(caseId, { answer });
  }
  return out;
}

/**
 * The effects of an expert's decision on a dispute, idempotent: a re-run after
 * a crash at any line completes what the first run started, once.
 */
export async function resolveDispute(deps: Deps, input: { disputeId: string }): Promise<{ status: 'upheld' | 'refused'; rescored: string[]; retired: string[] }> {
  const a = await deps.repo.getAdjudication(input.disputeId);
  if (!a?.dispute) throw disputeNotFound(input.disputeId);
  if (a.status !== 'decided' || !a.decisions || !a.decidedBy) throw new ConflictError(`dispute ${a.adjudicationId} is ${a.status}, not decided`);
  const d = a.dispute;
  const protocolId = a.protocol.split('@')[0];
  const expertId = a.decidedBy;
  const base = { workforceId: d.workforceId, batchId: a.batchId, adjudicationId: a.adjudicationId, goldCaseIds: a.needs.map((n) => n.caseId) };
  const upheldId = `${a.adjudicationId}:upheld`;
  let upheld = await deps.repo.getLedgerEvent(a.programId, upheldId);
  if (upheld?.type !== 'dispute.upheld') {
    if (await deps.repo.getLedgerEvent(a.programId, `${a.adjudicationId}:refused`)) return { status: 'refused', rescored: [], retired: [] };
    const current = await currentAnswers(deps, a.programId, protocolId, base.goldCaseIds, await scoredAgainstOf(deps, a.batchId));
    const outcome = disputeOutcome(a.decisions, (c) => current.get(c)?.answer);
    const notes = a.decisions.filter((x) => x.note).map((x) => x.note);
    if (outcome.corrected.length === 0) {
      await record(deps, {
        eventId: `${a.adjudicationId}:refused`,
        programId: a.programId,
        type: 'dispute.refused',
        actor: expertId,
        protocol: a.protocol,
        subject: a.adjudicationId,
        reason: refusalReason(outcome),
        data: { ...base, expertId },
      });
      return { status: 'refused', rescored: [], retired: [] };
    }
    const versions = foldGoldVersions(await deps.repo.listLedger(a.programId));
    const corrections = [];
    for (const c of outcome.corrected) {
      // Claimed (a conditional write) before the commit point: another dispute of the item upheld at the same moment
      // gets the next version on top of this one. A re-run after a crash here finds its own claim.
      const after = versions.get(c.goldCaseId)?.version ?? 1;
      const to = await claimGoldVersion(deps, { programId: a.programId, protocolId, caseId: c.goldCaseId, disputeId: a.adjudicationId, after });
      corrections.push({ goldCaseId: c.goldCaseId, fromVersion: to - 1, toVersion: to, answerSha256: goldAnswerSha256(c.to) });
    }
    // The commit point: from here on every step follows this event.
    await record(deps, {
      eventId: upheldId,
      programId: a.programId,
      type: 'dispute.upheld',
      actor: expertId,
      protocol: a.protocol,
      subject: a.adjudicationId,
      reason:
        outcome.corrected.map((c) => `gold item ${c.goldCaseId}: "${String(c.from)}" corrected to "${String(c.to)}"`).join('; ') +
        (outcome.stands.length ? `; ${refusalReason(outcome)}` : '') +
        (notes.length ? ` — ${notes.join('; ')}` : ''),
      data: { ...base, expertId, corrections },
    });
    upheld = (await deps.repo.getLedgerEvent(a.programId, upheldId))!;
  }
  if (upheld.type !== 'dispute.upheld') throw new ConflictError(`ledger event ${upheldId} is a ${upheld.type}`);

  const retired: string[] = [];
  for (const c of upheld.data.corrections) {
    await record(deps, {
      eventId: `${a.adjudicationId}:gold:${c.goldCaseId}`,
      programId: a.programId,
      type: 'gold.corrected',
      actor: expertId,
      protocol: a.protocol,
      subject: c.goldCaseId,
      reason: `dispute ${a.adjudicationId} upheld: gold v${c.fromVersion} → v${c.toVersion}`,
      data: { goldCaseId: c.goldCaseId, fromVersion: c.fromVersion, toVersion: c.toVersion, answerSha256: c.answerSha256, disputeId: a.adjudicationId },
    });
    const state = foldGoldVersions(await deps.repo.listLedger(a.programId)).get(c.goldCaseId)!;
    const retire = state.upheldBy.length >= RETIRE_AFTER_UPHELD;
    if (retire) {
      await record(deps, {
        eventId: `${a.programId}:gold:${c.goldCaseId}:retired`,
        programId: a.programId,
        type: 'gold.retired',
        actor: expertId,
        protocol: a.protocol,
        subject: c.goldCaseId,
        reason: `disputed successfully ${state.upheldBy.length} times (${state.upheldBy.join(', ')}): no future batch draws it`,
        data: { goldCaseId: c.goldCaseId, disputeIds: state.upheldBy, version: state.version },
      });
      retired.push(c.goldCaseId);
    }
    const scoredAgainst = (await scoredAgainstOf(deps, a.batchId)).get(c.goldCaseId);
    await storeGoldVersions(deps, { programId: a.programId, protocolId, caseId: c.goldCaseId, ...(scoredAgainst !== undefined ? { scoredAgainst } : {}) });
  }

  // Every batch of every workforce that held the item as gold: answers object
  // first (a batch scored later reads the corrected answer), then the re-score.
  // Both against each item's latest version — another dispute of the item may
  // have written one on top of this one's — and each batch re-scored once per
  // answer (claimed: of two disputes upheld at once, one re-scores it). Until
  // the latest versions stand still, so a slower dispute never leaves an older answer.
  const rescored: string[] = [];
  const items = upheld.data.corrections.map((c) => c.goldCaseId);
  const fingerprint = (m: ReadonlyMap<string, { version: number }>) => JSON.stringify([...m].map(([k, v]) => [k, v.version]));
  for (let latest = await latestGoldVersions(deps, a.programId, protocolId, items); ; ) {
    const answers = new Map([...latest].map(([caseId, v]) => [caseId, v.answer]));
    const corrections = [...latest].map(([goldCaseId, v]) => ({ goldCaseId, toVersion: v.version }));
    for (const batchId of await batchesHoldingGold(deps, a.programId, items)) {
      await rewriteBatchAnswer(deps, batchId, answers);
      if (!(await claimRescore(deps, { programId: a.programId, batchId, disputeId: a.adjudicationId, answers: latest }))) continue;
      if ((await rescoreBatch(deps, { batchId, disputeId: a.adjudicationId, corrected: answers, corrections })) && !rescored.includes(batchId)) rescored.push(batchId);
    }
    const now = await latestGoldVersions(deps, a.programId, protocolId, items);
    if (fingerprint(now) === fingerprint(latest)) break;
    latest = now;
  }
  return { status: 'upheld', rescored, retired };
}

/** caseId → the gold answer a batch's stored score was computed against (classification: `expected`). */
async function scoredAgainstOf(deps: Deps, batchId: string): Promise<Map<string, GoldAnswer>> {
  const score = await deps.repo.getScore(batchId);
  return new Map((score?.items ?? []).flatMap((i) => (i.expected !== undefined ? [[i.caseId, i.expected] as const] : [])));
}

/** Completes every decided dispute of a program (after a crash between the decision and its effects). */
export async function resumeDisputes(deps: Deps, input: { programId: string }): Promise<{ resolved: string[] }> {
  const resolved: string[] = [];
  for (const a of await deps.repo.listAdjudications(input.programId)) {
    if (!a.dispute || a.status !== 'decided') continue;
    await resolveDispute(deps, { disputeId: a.adjudicationId });
    resolved.push(a.adjudicationId);
  }
  return { resolved };
}

export const ListDisputesInput = z.strictObject({ workforceId: Identifier });

/** The caller's own disputes, newest first (past-deadline ones read as expired; the Api function expires them). */
export async function listDisputes(deps: Deps, input: z.input<typeof ListDisputesInput>): Promise<{ items: DisputeView[] }> {
  const req = ListDisputesInput.parse(input);
  const mine: AdjudicationRecord[] = [];
  const requests: DisputeView[] = [];
  for (const p of await deps.repo.listPrograms()) {
    for (const a of await deps.repo.listAdjudications(p)) if (a.dispute?.workforceId === req.workforceId) mine.push(overdueAsExpired(deps, a));
    for (const r of await deps.repo.listDisputeRequests(p)) if (r.workforceId === req.workforceId && r.status !== 'queued') requests.push(requestView(r));
  }
  const items = [...(await Promise.all(mine.map((a) => view(deps, a)))), ...requests];
  items.sort((x, y) => y.openedAt.localeCompare(x.openedAt) || y.disputeId.localeCompare(x.disputeId));
  return { items };
}

export const ListProgramDisputesInput = z.strictObject({ programId: Identifier });

/** A dispute as a PM or QA lead reads it: the vendor's view plus who disputed, the gold items reviewed and the ledger's reason for the outcome. */
export interface ProgramDisputeView extends DisputeView {
  workforceId: string;
  goldCaseIds: string[];
  decidedBy?: string;
  /** The reason of the outcome's ledger event (refused: why; upheld: what was corrected). */
  ledgerReason?: string;
}

/** Every dispute of a program, newest first (past-deadline ones expire as they are read). */
export async function listProgramDisputes(deps: Deps, input: z.input<typeof ListProgramDisputesInput>): Promise<{ items: ProgramDisputeView[] }> {
  const req = ListProgramDisputesInput.parse(input);
  await completeDisputeRequests(deps, { programId: req.programId });
  const all: AdjudicationRecord[] = [];
  for (const a of await deps.repo.listAdjudications(req.programId)) if (a.dispute) all.push(await expireIfOverdue(deps, a));
  all.sort((x, y) => y.createdAt.localeCompare(x.createdAt) || y.adjudicationId.localeCompare(x.adjudicationId));
  const items = await Promise.all(
    all.map(async (a) => {
      const v = await view(deps, a);
      const outcome = v.status === 'open' ? undefined : await deps.repo.getLedgerEvent(a.programId, `${a.adjudicationId}:${v.status === 'expired' ? 'dispute-expired' : v.status}`);
      return {
        ...v,
        workforceId: a.dispute!.workforceId,
        goldCaseIds: a.needs.map((n) => n.caseId),
        ...(a.decidedBy ? { decidedBy: a.decidedBy } : {}),
        ...(outcome ? { ledgerReason: outcome.reason } : {}),
      };
    }),
  );
  for (const r of await deps.repo.listDisputeRequests(req.programId)) {
    if (r.status !== 'queued') items.push({ ...requestView(r), workforceId: r.workforceId, goldCaseIds: [] });
  }
  items.sort((x, y) => y.openedAt.localeCompare(x.openedAt) || y.disputeId.localeCompare(x.disputeId));
  return { items };
}

export const GetDisputeInput = z.strictObject({ disputeId: Identifier, workforceId: Identifier.optional() });

/** One dispute: a vendor reads only its own (anything else answers like a missing one). */
export async function getDispute(deps: Deps, input: z.input<typeof GetDisputeInput>): Promise<DisputeView> {
  const req = GetDisputeInput.safeParse(input);
  const a = req.success ? await deps.repo.getAdjudication(req.data.disputeId) : undefined;
  const r = req.success && !a ? await deps.repo.getDisputeRequest(req.data.disputeId) : undefined;
  if (r && r.status !== 'queued' && (req.data?.workforceId === undefined || r.workforceId === req.data.workforceId)) return requestView(r);
  if (!a?.dispute || (req.data?.workforceId !== undefined && a.dispute.workforceId !== req.data.workforceId)) throw disputeNotFound(String(input.disputeId));
  // A vendor's read runs in WorkApi, which may not delete (the claims an expiry releases): it shows an overdue
  // dispute as expired; the Api function expires it for good (completion, the expert's and the PM's reads).
  return view(deps, req.data?.workforceId !== undefined ? overdueAsExpired(deps, a) : await expireIfOverdue(deps, a));
}

/** An open dispute past its deadline, as it reads once expired (no write: the vendor-facing function's view). */
function overdueAsExpired(deps: Deps, a: AdjudicationRecord): AdjudicationRecord {
  return a.status === 'open' && a.deadline !== undefined && Date.parse(a.deadline) < deps.clock.now().getTime() ? { ...a, status: 'expired' } : a;
}

/** A dispute as its vendor reads it: no gold case id, no gold answer. */
async function view(deps: Deps, a: AdjudicationRecord): Promise<DisputeView> {
  const d = a.dispute!;
  const get = (suffix: string) => deps.repo.getLedgerEvent(a.programId, `${a.adjudicationId}:${suffix}`);
  const upheld = a.status === 'decided' ? await get('upheld') : undefined;
  const refused = a.status === 'decided' && !upheld ? await get('refused') : undefined;
  const rescore = upheld ? await get(`rescored:${a.batchId}`) : undefined;
  const status: DisputeView['status'] = upheld ? 'upheld' : refused ? 'refused' : a.status === 'expired' ? 'expired' : 'open';
  const notes = (a.decisions ?? []).filter((x) => x.note).map((x) => x.note);
  const outcome =
    status === 'upheld'
      ? `upheld: the gold answer was corrected and every batch scored against it re-scored${notes.length ? ` (${notes.join('; ')})` : ''}`
      : status === 'refused'
        ? `refused: the expert confirmed the gold answer${notes.length ? ` (${notes.join('; ')})` : ''}`
        : status === 'expired'
          ? `expired: no expert decision by ${a.deadline}; you may dispute again`
          : undefined;
  return {
    disputeId: a.adjudicationId,
    batchId: a.batchId,
    ...(d.alias ? { alias: d.alias } : {}),
    reason: d.reason,
    status,
    openedAt: a.createdAt,
    ...(a.deadline ? { deadline: a.deadline } : {}),
    ...(a.decidedAt && (status === 'upheld' || status === 'refused') ? { decidedAt: a.decidedAt } : {}),
    ...(outcome ? { outcome } : {}),
    ...(rescore?.type === 'batch.rescored' ? { rescore: { before: rescore.data.before.decision, after: rescore.data.after.decision } } : {}),
  };
}
