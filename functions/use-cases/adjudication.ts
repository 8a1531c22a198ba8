/**
 * Expert adjudication. After a batch is finalized, overlap items whose labels
 * disagree (or a gold item failed with a critical miss) become an adjudication
 * task for an internal expert, delivered through a callback: the lifecycle waits
 * until the expert decides, then the adjudicated label becomes the accepted one,
 * and the ledger says who decided.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type StoredLabel, protocolRef } from '../domain/index.js';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from './errors.js';
import { record } from './ledger.js';
import { loadBatchKey } from './batch-key.js';
import type { AdjudicationNeed, Deps } from './ports.js';
import { loadBatchProtocol } from './submission-file.js';

export const adjudicationIdFor = (batchId: string): string => `${batchId}-adj`;
export const adjudicationObject = (id: string): string => `adjudications/${id}.json`;

/** Decision labels for tasks whose items are not a single class. */
export const REVIEW_DECISIONS = ['uphold-reference', 'overturn-reference'] as const;

/**
 * Check agreement — primary course:
 * 1. Critical misses on gold items (from the batch's score), if the protocol asks.
 * 2. Overlap items of an accepted batch: compare this batch's label with the
 *    accepted labels other workforces gave the same case (classification).
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
  if (existing) return { needed: existing.needs.length, adjudicationId, timeoutSeconds };

  const needs: AdjudicationNeed[] = [];
  const score = await deps.repo.getScore(batch.batchId);
  if (protocol.adjudication.onCriticalMiss && score) {
    for (const item of score.items) {
      const critical = (item.reasons ?? []).filter((r) => r.startsWith('missed a '));
      if (critical.length === 0) continue;
      needs.push({
        caseId: item.caseId,
        kind: 'critical-miss',
        reason: `gold item failed with a critical miss by ${batch.workforceId}: ${critical.join('; ')}`,
        labels: {
          [batch.workforceId]: `${item.metrics?.tp ?? 0} of ${(item.metrics?.tp ?? 0) + (item.metrics?.fn ?? 0)} findings marked`,
          reference: `${(item.metrics?.tp ?? 0) + (item.metrics?.fn ?? 0)} findings`,
        },
      });
    }
  }
  if (protocol.adjudication.onOverlapDisagreement && batch.status === 'accepted' && protocol.task.type === 'classification') {
    const key = await loadBatchKey(deps, batch.batchId);
    for (const item of key.items.filter((i) => i.overlap && !i.gold)) {
      const labels = (await deps.repo.listCaseLabels(item.caseId)).filter(
        (l) => l.protocol === ref && l.status === 'accepted' && !l.adjudicationId,
      );
      const mine = labels.find((l) => l.batchId === batch.batchId);
      const others = labels.filter((l) => l.batchId !== batch.batchId);
      if (!mine || others.length === 0) continue;
      if (others.every((o) => o.label === mine.label)) continue;
      const all = [mine, ...others];
      needs.push({
        caseId: item.caseId,
        kind: 'overlap-disagreement',
        reason: `overlap labels disagree: ${all.map((l) => `${l.workforceId} "${l.label}"`).join(' vs ')}`,
        labels: Object.fromEntries(all.map((l) => [`${l.workforceId}/${l.annotatorId}`, l.label])),
      });
    }
  }
  const claimed: AdjudicationNeed[] = [];
  for (const n of needs) if (await deps.repo.claimAdjudication(ref, n.caseId, adjudicationId)) claimed.push(n);
  if (claimed.length === 0) return { needed: 0, adjudicationId, timeoutSeconds };

  await deps.repo.createAdjudication({
    adjudicationId,
    programId: batch.programId,
    batchId: batch.batchId,
    protocol: ref,
    needs: claimed,
    status: 'open',
    createdAt: deps.clock.now().toISOString(),
  });
  await record(deps, {
    eventId: `${adjudicationId}:requested`,
    programId: batch.programId,
    type: 'adjudication.requested',
    actor: 'agreement-check',
    protocol: ref,
    subject: adjudicationId,
    reason: claimed.map((n) => `${n.caseId}: ${n.reason}`).join(' | '),
    data: { batchId: batch.batchId, cases: claimed.map((n) => n.caseId), kinds: claimed.map((n) => n.kind) },
  });
  return { needed: claimed.length, adjudicationId, timeoutSeconds };
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
  const [protocolId, version] = a.protocol.split('@');
  const protocol = await deps.repo.getProtocolVersion(protocolId, Number(version));
  if (!protocol) throw new NotFoundError(`protocol ${a.protocol} not found`);
  const team = (await deps.repo.listWorkforces(a.programId)).find((w) => w.workforceId === req.workforceId);
  const qualification = protocol.adjudication.expertQualification;
  if (team?.kind !== 'internal' || !team.qualifications.includes(qualification)) {
    throw new ForbiddenError(`${req.expertId} of ${req.workforceId} may not adjudicate: needs an internal team with "${qualification}"`);
  }
  if (a.status === 'decided') return { status: 'already-decided', decidedBy: a.decidedBy ?? '' };
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
  const allowed: readonly string[] = protocol.task.type === 'classification' ? protocol.task.classes : REVIEW_DECISIONS;
  const bad = req.decisions.filter((d) => !allowed.includes(d.label));
  if (bad.length) throw new InvalidInputError(`label(s) ${bad.map((d) => `"${d.label}"`).join(', ')} not one of: ${allowed.join(', ')}`);

  const decidedBy = `${req.workforceId}/${req.expertId}`;
  const ok = await deps.repo.decideAdjudication(a.adjudicationId, {
    decidedBy,
    decidedAt: deps.clock.now().toISOString(),
    decisions: req.decisions,
  });
  if (!ok) {
    const now = await deps.repo.getAdjudication(a.adjudicationId);
    return { status: 'already-decided', decidedBy: now?.decidedBy ?? '' };
  }
  await record(deps, {
    eventId: `${a.adjudicationId}:decided`,
    programId: a.programId,
    type: 'adjudication.decided',
    actor: decidedBy,
    protocol: a.protocol,
    subject: a.adjudicationId,
    reason: req.decisions.map((d) => `${d.caseId} → "${d.label}"${d.note ? ` (${d.note})` : ''}`).join('; '),
    data: { batchId: a.batchId, workforceId: req.workforceId, expertId: req.expertId, decisions: req.decisions },
  });
  const fresh = await deps.repo.getAdjudication(a.adjudicationId);
  if (fresh?.taskToken) await deps.callbacks.success(fresh.taskToken, { adjudicationId: a.adjudicationId });
  return { status: 'decided', decidedBy };
}

/**
 * Apply an adjudication — primary course:
 * 1. Keep the decision record (exports bucket) and hash it.
 * 2. Classification: the expert's label becomes the accepted label of the case
 *    (lineage: the expert, the decision record and its SHA-256); the labels it
 *    decided between are marked superseded.
 * 3. Other tasks: the review decision stays in the ledger for the PM.
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
  if (protocol.task.type !== 'classification') return { applied: 0 };

  const [team, ...rest] = a.decidedBy.split('/');
  const expert = rest.join('/');
  const labels: StoredLabel[] = [];
  for (const d of a.decisions) {
    for (const l of await deps.repo.listCaseLabels(d.caseId)) {
      if (l.protocol === a.protocol && l.status === 'accepted' && !l.adjudicationId) labels.push({ ...l, status: 'superseded' });
    }
    labels.push({
      caseId: d.caseId,
      batchId: a.adjudicationId,
      label: d.label,
      workforceId: team,
      annotatorId: expert,
      protocol: a.protocol,
      submissionKey: key,
      submissionSha256: sha,
      gold: false,
      status: 'accepted',
      adjudicationId: a.adjudicationId,
      createdAt: a.decidedAt ?? deps.clock.now().toISOString(),
    });
  }
  await deps.repo.putLabels(labels);
  await deps.repo.setCaseState(a.programId, a.decisions.map((d) => d.caseId), 'labelled', a.batchId);
  return { applied: a.decisions.length };
}
