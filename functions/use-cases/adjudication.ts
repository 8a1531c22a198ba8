/**
 * Expert adjudication. After a batch is finalized, overlap items whose labels
 * disagree (or a gold item failed with a critical miss) become an adjudication
 * task for an internal expert, delivered through a callback: the lifecycle waits
 * until the expert decides, then the adjudicated label becomes the accepted one,
 * and the ledger says who decided.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type LabelContent, type StoredLabel, decodeUploadedMask, overlapAgreement, protocolRef } from '../domain/index.js';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from './errors.js';
import { record } from './ledger.js';
import { loadBatchKey } from './batch-key.js';
import { disputeClaimKey, resolveDispute } from './disputes.js';
import type { AdjudicationNeed, AdjudicationRecord, Deps } from './ports.js';
import { findProtocol } from './protocol-ref.js';
import { decidedCarried } from './settle-batch.js';
import { loadBatchProtocol, readLabelSubmission } from './submission-file.js';

export const adjudicationIdFor = (batchId: string): string => `${batchId}-adj`;
export const adjudicationObject = (id: string): string => `adjudications/${id}.json`;

/** Decision labels for tasks whose items are not a single class. */
export const REVIEW_DECISIONS = ['uphold-reference', 'overturn-reference'] as const;

/**
 * Check agreement — primary course:
 * 1. Critical misses on gold items (from the batch's score), if the protocol asks.
 * 2. Overlap items of an accepted batch (and of the held batches its decision
 *    accepted with it): compare each one's label with the accepted labels other
 *    workforces gave the same case.
 * 3. Claim each case (conditional: when both batches of an overlap pair see the
 *    disagreement, one adjudication is opened, not two) and open the task.
 */
export async function checkAgreement(
  deps: Deps,
  input: { batchId: string },
): Promise<{ needed: number; adjudicationId: string; timeoutSeconds: number }> {
  const { batch, protocol } = await loadBatchProtocol(deps, input.batchId);
  const ref = protocolRef(protocol);
  const adjudicationId = adjudicationIdFor(batch.batchId);
  const timeoutSeconds = Math.round(protocol.adjudication.slaHours * 3600);
  const existing = await deps.repo.getAdjudication(adjudicationId);
  if (existing) {
    if (existing.status === 'open') await recordRequested(deps, existing);
    return { needed: existing.status === 'open' ? existing.needs.length : 0, adjudicationId, timeoutSeconds };
  }

  const needs: AdjudicationNeed[] = [];
  const score = await deps.repo.getScore(batch.batchId);
  if (protocol.adjudication.onCriticalMiss && score) {
    for (const item of score.items) {
      // The scorer's structured critical misses, never the words of its reasons.
      const critical = item.criticalMisses ?? [];
      if (critical.length === 0) continue;
      needs.push({
        caseId: item.caseId,
        kind: 'critical-miss',
        reason: `gold item failed with a critical miss by ${batch.workforceId}: ${critical
          .map((m) => `missed a ${m.diameterMm.toFixed(1)} mm ${m.finding} (critical size ${m.criticalDiameterMm} mm)`)
          .join('; ')}`,
        labels: {
          [batch.workforceId]: `${item.metrics?.tp ?? 0} of ${(item.metrics?.tp ?? 0) + (item.metrics?.fn ?? 0)} findings marked`,
          reference: `${(item.metrics?.tp ?? 0) + (item.metrics?.fn ?? 0)} findings`,
        },
      });
    }
  }
  if (protocol.adjudication.onOverlapDisagreement && batch.status === 'accepted') {
    // This batch's overlap items, and those of the held batches its decision accepted with it
    // (they were finalized in its FinalizeBatch and have no execution of their own: issue 11).
    const items = [];
    for (const id of [batch.batchId, ...(await acceptedWith(deps, batch.batchId, batch.programId))]) {
      items.push(...(await loadBatchKey(deps, id)).items.filter((i) => i.overlap && !i.gold).map((i) => ({ ...i, batchId: id })));
    }
    for (const item of items) {
      const labels = (await deps.repo.listCaseLabels(item.caseId)).filter(
        (l) => l.protocol === ref && l.status === 'accepted' && !l.adjudicationId,
      );
      const mine = labels.find((l) => l.batchId === item.batchId);
      const others = labels.filter((l) => l.batchId !== item.batchId);
      if (!mine || others.length === 0) continue;
      const verdicts = [];
      for (const o of others) {
        verdicts.push(overlapAgreement(protocol.task, await labelContent(deps, mine), await labelContent(deps, o)));
      }
      const disagreements = verdicts.filter((v) => !v.agree);
      if (disagreements.length === 0) continue;
      const all = [mine, ...others];
      needs.push({
        caseId: item.caseId,
        kind: 'overlap-disagreement',
        reason: `overlap labels disagree: ${all.map((l) => `${l.workforceId} "${l.label}"`).join(' vs ')} (${disagreements.map((d) => d.detail).join('; ')})`,
        labels: Object.fromEntries(all.map((l) => [`${l.workforceId}/${l.annotatorId}`, l.label])),
      });
    }
  }
  const claimed: AdjudicationNeed[] = [];
  // Overlap: one adjudication per case (both batches of a pair see it). A critical
  // miss belongs to its batch: gold cases recur, and every miss is reviewed.
  for (const n of needs) {
    const claim = n.kind === 'critical-miss' ? `${n.caseId}#${batch.batchId}` : n.caseId;
    if (await deps.repo.claimAdjudication(ref, claim, adjudicationId)) claimed.push(n);
  }
  if (claimed.length === 0) return { needed: 0, adjudicationId, timeoutSeconds };

  const a: AdjudicationRecord = {
    adjudicationId,
    programId: batch.programId,
    batchId: batch.batchId,
    protocol: ref,
    needs: claimed,
    status: 'open',
    createdAt: deps.clock.now().toISOString(),
  };
  await deps.repo.createAdjudication(a);
  await recordRequested(deps, (await deps.repo.getAdjudication(adjudicationId)) ?? a);
  return { needed: claimed.length, adjudicationId, timeoutSeconds };
}

/** The held batches a batch's decision settled as accepted (settle-batch.ts `settleCarried`). */
async function acceptedWith(deps: Deps, batchId: string, programId: string): Promise<string[]> {
  const out: string[] = [];
  for (const id of (await deps.repo.getScore(batchId))?.decision?.carried ?? []) {
    const e = await decidedCarried(deps, { batchId: id, programId });
    if (e?.type === 'batch.accepted' && e.data.decidedWith === batchId) out.push(id);
  }
  return out;
}

/** What a stored label says, in the form the agreement test reads (masks from the uploaded file). */
async function labelContent(deps: Deps, l: StoredLabel): Promise<LabelContent> {
  if (!l.maskRef) return { label: l.label, findings: l.findings };
  const bytes = await readLabelSubmission(deps, l);
  const line = new TextDecoder().decode(bytes).split(/\r?\n/)[l.maskRef.line - 1];
  return { label: l.label, masks: decodeUploadedMask(JSON.parse(line).mask) };
}

async function recordRequested(deps: Deps, a: AdjudicationRecord): Promise<void> {
  await record(deps, {
    eventId: `${a.adjudicationId}:requested`,
    programId: a.programId,
    type: 'adjudication.requested',
    actor: 'agreement-check',
    protocol: a.protocol,
    subject: a.adjudicationId,
    reason: a.needs.map((n) => `${n.caseId}: ${n.reason}`).join(' | '),
    data: { batchId: a.batchId, cases: a.needs.map((n) => n.caseId), kinds: a.needs.map((n) => n.kind) },
  });
}

/** The callback state's task: park the adjudication on its token until an expert decides. */
export async function requestAdjudication(
  deps: Deps,
  input: { batchId: string; adjudicationId: string; taskToken: string; timeoutSeconds: number },
): Promise<{ adjudicationId: string }> {
  const a = await deps.repo.getAdjudication(input.adjudicationId);
  if (!a) throw new NotFoundError(`adjudication ${input.adjudicationId} not found`);
  const deadline = new Date(deps.clock.now().getTime() + input.timeoutSeconds * 1000).toISOString();
  await deps.repo.setAdjudicationToken(input.adjudicationId, input.taskToken, deadline);
  // Decided before the token was stored (a retried state): resume at once.
  if (a.status === 'decided') await deps.callbacks.success(input.taskToken, { adjudicationId: a.adjudicationId });
  return { adjudicationId: input.adjudicationId };
}

export const AdjudicationDecision = z.object({
  adjudicationId: z.string().min(1),
  /** The internal team the expert belongs to. */
  workforceId: z.string().min(1),
  expertId: z.string().min(1),
  decisions: z
    .array(z.object({ caseId: z.string().min(1), label: z.string().min(1), note: z.string().max(2000).optional() }))
    .min(1),
});

/**
 * An internal expert decides an adjudication. Checks the expert's team is
 * internal and holds the protocol's adjudicator qualification, that every case
 * is decided exactly once with a label of the protocol; records the decision
 * once (a repeated callback changes nothing) and resumes the lifecycle.
 */
export async function decideAdjudication(
  deps: Deps,
  input: z.input<typeof AdjudicationDecision>,
): Promise<{ status: 'decided' | 'already-decided'; decidedBy: string }> {
  const req = AdjudicationDecision.parse(input);
  const a = await deps.repo.getAdjudication(req.adjudicationId);
  if (!a) throw new NotFoundError(`adjudication ${req.adjudicationId} not found`);
  const protocol = await findProtocol(deps, a.protocol);
  if (!protocol) throw new NotFoundError(`protocol ${a.protocol} not found`);
  const team = (await deps.repo.listWorkforces(a.programId)).find((w) => w.workforceId === req.workforceId);
  const qualification = protocol.adjudication.expertQualification;
  if (team?.kind !== 'internal' || !team.qualifications.includes(qualification)) {
    throw new ForbiddenError(`${req.expertId} of ${req.workforceId} may not adjudicate: needs an internal team with "${qualification}"`);
  }
  if (a.status === 'open' && a.deadline && deps.clock.now().getTime() > Date.parse(a.deadline)) {
    // The callback has timed out (ExpireAdjudication may not have run yet): too late.
    throw new ConflictError(`adjudication ${a.adjudicationId} passed its deadline ${a.deadline}; its cases are released`);
  }
  if (a.status === 'expired') {
    throw new ConflictError(`adjudication ${a.adjudicationId} expired unanswered; its cases were released (ask the PM to re-open it)`);
  }
  if (a.status === 'decided') {
    await finishDecision(deps, a);
    return { status: 'already-decided', decidedBy: a.decidedBy ?? '' };
  }
  const wanted = new Set(a.needs.map((n) => n.caseId));
  const given = req.decisions.map((d) => d.caseId);
  const missing = [...wanted].filter((c) => !given.includes(c));
  const extra = given.filter((c) => !wanted.has(c));
  const dup = given.filter((c, i) => given.indexOf(c) !== i);
  if (missing.length || extra.length || dup.length) {
    throw new InvalidInputError(
      [missing.length && `undecided: ${missing.join(', ')}`, extra.length && `not in this adjudication: ${extra.join(', ')}`, dup.length && `decided twice: ${dup.join(', ')}`]
        .filter(Boolean)
        .join('; '),
    );
  }
  // Classification: the expert gives the class. Otherwise: a critical miss is
  // upheld or overturned; an overlap disagreement is settled by naming whose
  // label stands (a key of the need's labels).
  const allowedFor = (caseId: string): readonly string[] => {
    if (protocol.task.type === 'classification') return protocol.task.classes;
    const need = a.needs.find((n) => n.caseId === caseId)!;
    return need.kind === 'critical-miss' ? REVIEW_DECISIONS : Object.keys(need.labels);
  };
  const bad = req.decisions.filter((d) => !allowedFor(d.caseId).includes(d.label));
  if (bad.length) {
    throw new InvalidInputError(bad.map((d) => `${d.caseId}: "${d.label}" is not one of: ${allowedFor(d.caseId).join(', ')}`).join('; '));
  }

  const decidedBy = `${req.workforceId}/${req.expertId}`;
  const ok = await deps.repo.decideAdjudication(a.adjudicationId, {
    decidedBy,
    decidedAt: deps.clock.now().toISOString(),
    decisions: req.decisions,
  });
  const fresh = (await deps.repo.getAdjudication(a.adjudicationId))!;
  await finishDecision(deps, fresh);
  if (!ok) return { status: 'already-decided', decidedBy: fresh.decidedBy ?? '' };
  return { status: 'decided', decidedBy };
}

/**
 * The effects of a stored decision: its ledger event and the callback that
 * resumes the lifecycle. Both are idempotent, so a retried decision (after a
 * crash between the steps) completes what the first one started.
 */
async function finishDecision(deps: Deps, a: AdjudicationRecord): Promise<void> {
  if (!a.decisions || !a.decidedBy) return;
  const [workforceId, ...rest] = a.decidedBy.split('/');
  await record(deps, {
    eventId: `${a.adjudicationId}:decided`,
    programId: a.programId,
    type: 'adjudication.decided',
    actor: a.decidedBy,
    protocol: a.protocol,
    subject: a.adjudicationId,
    reason: a.decisions.map((d) => `${d.caseId} → "${d.label}"${d.note ? ` (${d.note})` : ''}`).join('; '),
    data: { batchId: a.batchId, workforceId, expertId: rest.join('/'), decisions: a.decisions },
  });
  if (a.taskToken) await deps.callbacks.success(a.taskToken, { adjudicationId: a.adjudicationId });
  // A vendor's dispute of gold: its effects (idempotent, so a repeated decision completes them).
  if (a.dispute) await resolveDispute(deps, { disputeId: a.adjudicationId });
}

/**
 * Expire an adjudication nobody answered within its SLA (the callback timed
 * out): open → expired (conditional), its case claims released so a later
 * check can open a new one, and the expiry recorded. A late decision is refused.
 */
export async function expireAdjudication(
  deps: Deps,
  input: { batchId: string; adjudicationId: string },
): Promise<{ status: 'expired' | 'decided' }> {
  const a = await deps.repo.getAdjudication(input.adjudicationId);
  if (!a) throw new NotFoundError(`adjudication ${input.adjudicationId} not found`);
  // A decision stored just before the timer fired (its callback came too late)
  // still counts: the workflow goes on to apply it.
  if (a.status === 'decided') return { status: 'decided' };
  if (a.status === 'open' && !(await deps.repo.expireAdjudication(a.adjudicationId))) {
    return { status: 'decided' }; // decided in the meantime
  }
  for (const n of a.needs) {
    const claim = n.kind === 'gold-dispute' ? disputeClaimKey(n.caseId, a.batchId) : n.kind === 'critical-miss' ? `${n.caseId}#${a.batchId}` : n.caseId;
    await deps.repo.releaseAdjudicationClaim(a.protocol, claim, a.adjudicationId);
  }
  await record(deps, {
    eventId: `${a.adjudicationId}:expired`,
    programId: a.programId,
    type: 'adjudication.expired',
    actor: 'sla-timer',
    protocol: a.protocol,
    subject: a.adjudicationId,
    reason: `no expert decision within ${a.deadline ? `the deadline ${a.deadline}` : 'the adjudication SLA'}; cases released`,
    data: { batchId: a.batchId, cases: a.needs.map((n) => n.caseId) },
  });
  return { status: 'expired' };
}

/**
 * Apply an adjudication — primary course:
 * 1. Keep the decision record (exports bucket) and hash it.
 * 2. Overlap disagreements: the decided label becomes the accepted label of the
 *    case — the expert's class (lineage: the decision record and its SHA-256), or
 *    for findings and masks the label the expert chose (lineage: its upload) —
 *    and the labels it decided between are marked superseded.
 * 3. Critical misses are reviews of gold: the decision stays in the ledger.
 */
export async function applyAdjudication(
  deps: Deps,
  input: { batchId: string; adjudicationId: string },
): Promise<{ applied: number }> {
  const a = await deps.repo.getAdjudication(input.adjudicationId);
  if (!a) throw new NotFoundError(`adjudication ${input.adjudicationId} not found`);
  if (a.status !== 'decided' || !a.decisions || !a.decidedBy) {
    throw new ConflictError(`adjudication ${input.adjudicationId} is not decided`);
  }
  const { protocol } = await loadBatchProtocol(deps, a.batchId);
  const key = adjudicationObject(a.adjudicationId);
  const body = new TextEncoder().encode(JSON.stringify(a));
  await deps.objects.putBytes(deps.buckets.exports, key, body, 'application/json');
  const sha = createHash('sha256').update(body).digest('hex');
  const [team, ...rest] = a.decidedBy.split('/');
  const expert = rest.join('/');
  const adjudicated: StoredLabel[] = [];
  const superseded: StoredLabel[] = [];
  const decided: string[] = [];
  for (const d of a.decisions) {
    const need = a.needs.find((n) => n.caseId === d.caseId);
    // Critical misses are reviews of gold: recorded in the ledger, no label changes.
    if (need?.kind === 'critical-miss') continue;
    // Superseded too: a retry after a partial write must still find the labels decided between.
    const current = (await deps.repo.listCaseLabels(d.caseId)).filter(
      (l) => l.protocol === a.protocol && (l.status === 'accepted' || l.status === 'superseded') && !l.adjudicationId,
    );
    // Classification: the expert's class. Otherwise: the content of the label the expert chose.
    const chosen = protocol.task.type === 'classification' ? undefined : current.find((l) => `${l.workforceId}/${l.annotatorId}` === d.label);
    if (protocol.task.type !== 'classification' && !chosen) continue;
    for (const l of current) superseded.push({ ...l, status: 'superseded' });
    adjudicated.push({
      caseId: d.caseId,
      batchId: a.adjudicationId,
      label: chosen ? chosen.label : d.label,
      ...(chosen?.findings ? { findings: chosen.findings } : {}),
      ...(chosen?.maskRef ? { maskRef: chosen.maskRef } : {}),
      workforceId: team,
      annotatorId: expert,
      protocol: a.protocol,
      // The lineage points at what was accepted: the chosen upload, or the decision record.
      submissionKey: chosen ? chosen.submissionKey : key,
      submissionSha256: chosen ? chosen.submissionSha256 : sha,
      ...(chosen?.submissionVersionId ? { submissionVersionId: chosen.submissionVersionId } : {}),
      gold: false,
      status: 'accepted',
      adjudicationId: a.adjudicationId,
      createdAt: a.decidedAt ?? deps.clock.now().toISOString(),
    });
    decided.push(d.caseId);
  }
  if (decided.length === 0) return { applied: 0 };
  // The adjudicated labels first: if the second write fails, the retry finds them.
  await deps.repo.putLabels(adjudicated);
  await deps.repo.putLabels(superseded);
  await deps.repo.setCaseState(a.programId, decided, 'labelled', a.batchId);
  return { applied: decided.length };
}
