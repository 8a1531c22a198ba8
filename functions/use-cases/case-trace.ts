/**
 * The case trace a regulator asks for (issue 10, item 4): everything Goldline
 * knows of one case, with the evidence for each step. Read-only; QA and PM only
 * (it holds gold answers and real case ids).
 *
 * Primary course:
 * 1. Find the case (in the given program, else in every registered program).
 * 2. Load what concerns it: its labels (this program's batches and adjudications
 *    only: case ids are a program's own), the batches it went to, their
 *    submissions and (gold cases) scores, its adjudications, the workforces, and
 *    the program's ledger.
 * 3. Assemble (pure): every label version in time order with its lineage and
 *    what superseded it; gold results; adjudications with their decision record;
 *    the de-identification gate's verdict and quarantine history; the ledger
 *    events of the case, its batches and adjudications; one timeline of times.
 * 4. With `verify`: re-read each label's object (by its version id where one was
 *    recorded) and re-hash it: `verified: true`, or `false` with why.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  type Case,
  type GoldItemScore,
  Identifier,
  type LedgerEvent,
  QuarantineRelease,
  type StoredLabel,
  type Submission,
  deidentificationProblems,
  mentionsCase,
} from '../domain/index.js';
import { adjudicationObject } from './adjudication.js';
import { loadGoldHistory } from './disputes.js';
import { NotFoundError } from './errors.js';
import type { AdjudicationRecord, BatchRecord, Deps } from './ports.js';
import { parse } from './work-queries.js';

export const TraceCaseInput = z.strictObject({
  programId: Identifier.optional(),
  caseId: Identifier,
  /** Re-read every label's object from S3 and re-hash it. */
  verify: z.boolean().default(false),
});

/** The outcome of re-reading an object: verified, or not and why. */
export const Verification = z.object({ verified: z.boolean(), why: z.string().optional() });
export type Verification = z.infer<typeof Verification>;

/** Where a label's content came from: the uploaded file, or an expert's decision record. */
export const TracedObject = z.object({
  bucket: z.enum(['uploads', 'exports']),
  key: z.string(),
  versionId: z.string().optional(),
  sha256: z.string(),
  sizeBytes: z.number().int().min(0).optional(),
  uploadId: z.string().optional(),
  receivedAt: z.string().optional(),
  verification: Verification.optional(),
});

export const LabelVersion = z.object({
  /** 1, 2, 3 … in time order. */
  version: z.number().int().min(1),
  batchId: z.string(),
  round: z.number().int().optional(),
  protocol: z.string(),
  label: z.string(),
  findings: z.array(z.looseObject({})).optional(),
  maskRef: z.looseObject({}).optional(),
  workforce: z.object({ id: z.string(), kind: z.enum(['internal', 'vendor']).optional() }),
  annotatorId: z.string(),
  /** The pre-label model the annotator started from, where one was declared. */
  preLabel: z.object({ model: z.string(), version: z.string() }).optional(),
  gold: z.boolean(),
  status: z.enum(['accepted', 'rejected', 'superseded']),
  adjudicationId: z.string().optional(),
  createdAt: z.string(),
  submission: TracedObject,
  /** Why a version no longer stands: an adjudication decided between it and others, its batch was rejected, or the case was re-done. */
  supersededBy: z
    .object({ kind: z.enum(['adjudication', 'rejection', 'redo']), id: z.string(), at: z.string().optional(), detail: z.string() })
    .optional(),
});
export type LabelVersion = z.infer<typeof LabelVersion>;

export const GoldResult = z.object({
  batchId: z.string(),
  workforceId: z.string(),
  round: z.number().int().optional(),
  correct: z.boolean(),
  expected: z.string().optional(),
  got: z.string().optional(),
  metrics: z.record(z.string(), z.number().nullable()).optional(),
  reasons: z.array(z.string()).optional(),
});

export const TracedAdjudication = z.object({
  adjudicationId: z.string(),
  batchId: z.string(),
  protocol: z.string(),
  status: z.enum(['open', 'decided', 'expired']),
  needs: z.array(z.object({ kind: z.string(), reason: z.string(), labels: z.record(z.string(), z.string()) })),
  createdAt: z.string(),
  deadline: z.string().optional(),
  expert: z.object({ workforceId: z.string(), expertId: z.string() }).optional(),
  decidedAt: z.string().optional(),
  decision: z.object({ label: z.string(), note: z.string().optional() }).optional(),
  /** The decision record the adjudicated label points to (exports bucket). */
  record: z.object({ key: z.string(), sha256: z.string().optional(), verification: Verification.optional() }).optional(),
});

export const GateTrace = z.object({
  /** `vendor-safe`: no open problem; `held`: the gate keeps it from vendors (quarantine, or internal only). */
  verdict: z.enum(['vendor-safe', 'held']),
  attested: z.boolean(),
  imageKey: z.string(),
  findings: z.array(z.string()),
  /** What still holds it back (findings and a missing attestation, less what a release overrides). */
  problems: z.array(z.string()),
  release: QuarantineRelease.optional(),
  formatAttestation: z.object({ by: z.string(), reason: z.string() }).optional(),
});

export const TimelineStep = z.object({ at: z.string(), step: z.string(), detail: z.string() });

/** The ledger event as the trace shows it: its common fields, its place in the chain, and its data. */
const TracedEvent = z.looseObject({
  seq: z.number().int(),
  hash: z.string(),
  eventId: z.string(),
  type: z.string(),
  at: z.string(),
  actor: z.string(),
  subject: z.string(),
  reason: z.string(),
});

export const CaseTrace = z.object({
  programId: z.string(),
  caseId: z.string(),
  case: z.looseObject({ caseId: z.string(), state: z.string(), goldPool: z.boolean(), batchId: z.string().optional() }),
  gate: GateTrace,
  batches: z.array(
    z.object({
      batchId: z.string(),
      round: z.number().int(),
      protocol: z.string(),
      workforceId: z.string(),
      workforceKind: z.enum(['internal', 'vendor']),
      status: z.string(),
      createdAt: z.string(),
    }),
  ),
  /** Every label version in time order. */
  labels: z.array(LabelVersion),
  /** The versions that stand (more than one when overlap copies agreed). */
  accepted: z.array(z.number().int()),
  gold: z.array(GoldResult),
  /** A gold case corrected by upheld disputes: every version of its answer (v1 as ingested), per protocol, and whether it was retired. */
  goldVersions: z
    .array(z.object({ protocolId: z.string(), versions: z.array(z.looseObject({ version: z.number().int(), sha256: z.string() })), retiredBy: z.array(z.string()).optional() }))
    .optional(),
  adjudications: z.array(TracedAdjudication),
  /** Whether objects were re-read and re-hashed (`verify`), and whether every one held. */
  verification: z.object({ requested: z.boolean(), allVerified: z.boolean().optional(), objects: z.number().int() }),
  /** The ledger events that mention the case, or concern its batches or adjudications, in ledger (time) order. */
  events: z.array(TracedEvent),
  timeline: z.array(TimelineStep),
});
export type CaseTrace = z.infer<typeof CaseTrace>;

type TracedCase = Case & { goldPool: boolean; state: string; batchId?: string };

/** Types whose subject is a batch id. */
const BATCH_SUBJECT = /^(batch\.|submission\.|labels\.recorded$|cases\.requeued$)/;

/**
 * A case's trace (see the module comment). Without `programId`, the registered
 * programs are searched for the case.
 *
 * @example await traceCase(deps, { caseId: 'cxr-0123', verify: true })
 */
export async function traceCase(deps: Deps, input: z.input<typeof TraceCaseInput>): Promise<CaseTrace> {
  const req = parse(TraceCaseInput, input);
  const { programId, c } = await findCase(deps, req.caseId, req.programId);
  const adjudications = (await deps.repo.listAdjudications(programId)).filter((a) => a.needs.some((n) => n.caseId === req.caseId));
  const adjudicationIds = new Set(adjudications.map((a) => a.adjudicationId));
  const batchOf = new Map<string, BatchRecord | undefined>();
  const batchRecord = async (id: string) => {
    if (!batchOf.has(id)) batchOf.set(id, await deps.repo.getBatch(id));
    return batchOf.get(id);
  };
  const labels: StoredLabel[] = [];
  for (const l of await deps.repo.listCaseLabels(req.caseId)) {
    if (adjudicationIds.has(l.batchId) || (await batchRecord(l.batchId))?.programId === programId) labels.push(l);
  }
  const ledger = await deps.repo.listLedger(programId);
  const mentioning = ledger.filter((e) => mentionsCase(e, req.caseId));
  const batchIds = new Set([
    ...labels.filter((l) => !adjudicationIds.has(l.batchId)).map((l) => l.batchId),
    ...(c.batchId ? [c.batchId] : []),
    ...adjudications.map((a) => a.batchId),
    ...mentioning.filter((e) => BATCH_SUBJECT.test(e.type)).map((e) => e.subject),
  ]);
  const batches: BatchRecord[] = [];
  for (const id of [...batchIds].sort()) {
    const b = await batchRecord(id);
    if (b?.programId === programId) batches.push(b);
  }
  const mine = new Set([...batches.map((b) => b.batchId), ...adjudicationIds]);
  // listLedger reads in time order (its chains merged: ledger-merge.ts): the trace keeps it.
  const events = ledger.filter((e) => mentionsCase(e, req.caseId) || mine.has(e.subject));

  const submissions = new Map<string, Submission>();
  for (const b of batches) for (const s of await deps.repo.listSubmissions(b.batchId)) submissions.set(s.key, s);
  const kinds = new Map((await deps.repo.listWorkforces(programId)).map((w) => [w.workforceId, w.kind]));
  const gold: CaseTrace['gold'] = [];
  if (c.goldPool) {
    for (const b of batches) {
      const item = (await deps.repo.getScore(b.batchId))?.items.find((i) => i.caseId === req.caseId);
      if (item) gold.push(goldResult(b, item));
    }
  }

  const goldVersions: NonNullable<CaseTrace['goldVersions']> = [];
  if (c.goldPool) {
    for (const protocolId of new Set([...batches.map((b) => b.protocol), ...events.map((e) => e.protocol)].map((p) => p.split('@')[0]))) {
      const h = await loadGoldHistory(deps, programId, protocolId, req.caseId);
      if (h) goldVersions.push({ protocolId, versions: h.versions, ...(h.retired ? { retiredBy: h.retired.disputeIds } : {}) });
    }
  }

  const versions = labelVersions(labels, { batches: new Map(batches.map((b) => [b.batchId, b])), submissions, kinds, adjudications, events });
  const traced = adjudications.map((a) => tracedAdjudication(a, req.caseId, labels));
  let objects = 0;
  if (req.verify) {
    for (const v of versions) {
      v.submission.verification = await verifyObject(deps, v.submission);
      objects++;
    }
    for (const a of traced) {
      if (!a.record) continue;
      a.record.verification = await verifyObject(deps, { bucket: 'exports', key: a.record.key, sha256: a.record.sha256 });
      objects++;
    }
  }
  const checks = [...versions.map((v) => v.submission.verification), ...traced.map((a) => a.record?.verification)].filter((x) => x !== undefined);
  return {
    programId,
    caseId: req.caseId,
    case: c,
    gate: gateTrace(c),
    batches: batches.map((b) => ({
      batchId: b.batchId,
      round: b.round,
      protocol: b.protocol,
      workforceId: b.workforceId,
      workforceKind: b.workforceKind,
      status: b.status,
      createdAt: b.createdAt,
    })),
    labels: versions,
    accepted: versions.filter((v) => v.status === 'accepted' && !v.gold).map((v) => v.version),
    gold,
    ...(goldVersions.length ? { goldVersions } : {}),
    adjudications: traced,
    verification: { requested: req.verify, ...(req.verify ? { allVerified: checks.every((x) => x.verified) } : {}), objects },
    events,
    timeline: timeline(c, versions, traced, events),
  };
}

async function findCase(deps: Deps, caseId: string, programId?: string): Promise<{ programId: string; c: TracedCase }> {
  for (const p of programId ? [programId] : await deps.repo.listPrograms()) {
    const c = await deps.repo.getCase(p, caseId);
    if (c) return { programId: p, c };
  }
  throw new NotFoundError(`case ${caseId} not found${programId ? ` in program ${programId}` : ''}`);
}

function goldResult(b: BatchRecord, item: GoldItemScore): CaseTrace['gold'][number] {
  return {
    batchId: b.batchId,
    workforceId: b.workforceId,
    round: b.round,
    correct: item.correct,
    ...(item.expected !== undefined ? { expected: item.expected } : {}),
    ...(item.got !== undefined ? { got: item.got } : {}),
    ...(item.metrics ? { metrics: item.metrics } : {}),
    ...(item.reasons ? { reasons: item.reasons } : {}),
  };
}

/** Is the label's object the adjudication's decision record (an expert's class), rather than an upload? */
const isDecisionRecord = (l: StoredLabel): boolean => l.adjudicationId !== undefined && l.submissionKey === adjudicationObject(l.adjudicationId);

interface LabelContext {
  batches: Map<string, BatchRecord>;
  submissions: Map<string, Submission>;
  kinds: Map<string, 'internal' | 'vendor'>;
  adjudications: AdjudicationRecord[];
  events: LedgerEvent[];
}

/** Every label in time order, numbered, with its lineage and what superseded it (pure). */
export function labelVersions(labels: readonly StoredLabel[], ctx: LabelContext): LabelVersion[] {
  const sorted = [...labels].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.batchId.localeCompare(b.batchId));
  return sorted.map((l, k): LabelVersion => {
    const b = ctx.batches.get(l.batchId);
    const s = ctx.submissions.get(l.submissionKey);
    const record = isDecisionRecord(l);
    const kind = b?.workforceKind ?? ctx.kinds.get(l.workforceId);
    return {
      version: k + 1,
      batchId: l.batchId,
      ...(b ? { round: b.round } : {}),
      protocol: l.protocol,
      label: l.label,
      ...(l.findings ? { findings: l.findings } : {}),
      ...(l.maskRef ? { maskRef: l.maskRef } : {}),
      workforce: { id: l.workforceId, ...(kind ? { kind } : {}) },
      annotatorId: l.annotatorId,
      ...(l.preLabel ? { preLabel: l.preLabel } : {}),
      gold: l.gold,
      status: l.status,
      ...(l.adjudicationId ? { adjudicationId: l.adjudicationId } : {}),
      createdAt: l.createdAt,
      submission: {
        bucket: record ? 'exports' : 'uploads',
        key: l.submissionKey,
        ...(l.submissionVersionId ? { versionId: l.submissionVersionId } : {}),
        sha256: l.submissionSha256,
        ...(s ? { sizeBytes: s.sizeBytes, uploadId: s.uploadId, receivedAt: s.receivedAt } : {}),
      },
      ...supersession(l, sorted.slice(k + 1), ctx),
    };
  });
}

function supersession(l: StoredLabel, later: StoredLabel[], ctx: LabelContext): Pick<LabelVersion, 'supersededBy'> {
  if (l.status === 'superseded') {
    const by = later.find((x) => x.adjudicationId !== undefined && x.protocol === l.protocol);
    const a = ctx.adjudications.find((x) => x.adjudicationId === by?.adjudicationId);
    if (!by || !a) return { supersededBy: { kind: 'adjudication', id: 'unknown', detail: 'superseded; the deciding adjudication is not on record' } };
    const decision = a.decisions?.find((d) => d.caseId === l.caseId);
    return {
      supersededBy: {
        kind: 'adjudication',
        id: a.adjudicationId,
        ...(a.decidedAt ? { at: a.decidedAt } : {}),
        detail: `${a.decidedBy ?? 'an expert'} decided "${decision?.label ?? by.label}"`,
      },
    };
  }
  if (l.status === 'rejected' && !l.gold) {
    const rejected = ctx.events.find((e) => e.type === 'batch.rejected' && e.subject === l.batchId);
    const redo = later.find((x) => x.batchId !== l.batchId && !x.adjudicationId && x.status !== 'rejected');
    const why = `batch ${l.batchId} was rejected${rejected ? ` (${rejected.reason})` : ''}`;
    if (redo) return { supersededBy: { kind: 'redo', id: redo.batchId, at: redo.createdAt, detail: `${why}; the case was re-done by ${redo.workforceId}` } };
    return { supersededBy: { kind: 'rejection', id: l.batchId, ...(rejected ? { at: rejected.at } : {}), detail: why } };
  }
  return {};
}

function tracedAdjudication(a: AdjudicationRecord, caseId: string, labels: readonly StoredLabel[]): CaseTrace['adjudications'][number] {
  const [workforceId, ...rest] = (a.decidedBy ?? '').split('/');
  const decision = a.decisions?.find((d) => d.caseId === caseId);
  const adjudicated = labels.find((l) => l.adjudicationId === a.adjudicationId && isDecisionRecord(l));
  return {
    adjudicationId: a.adjudicationId,
    batchId: a.batchId,
    protocol: a.protocol,
    status: a.status,
    needs: a.needs.filter((n) => n.caseId === caseId).map((n) => ({ kind: n.kind, reason: n.reason, labels: n.labels })),
    createdAt: a.createdAt,
    ...(a.deadline ? { deadline: a.deadline } : {}),
    ...(a.decidedBy ? { expert: { workforceId, expertId: rest.join('/') } } : {}),
    ...(a.decidedAt ? { decidedAt: a.decidedAt } : {}),
    ...(decision ? { decision: { label: decision.label, ...(decision.note ? { note: decision.note } : {}) } } : {}),
    ...(a.status === 'decided'
      ? { record: { key: adjudicationObject(a.adjudicationId), ...(adjudicated ? { sha256: adjudicated.submissionSha256 } : {}) } }
      : {}),
  };
}

/** The de-identification gate's verdict on the case as it stands (pure). */
export function gateTrace(c: Case): CaseTrace['gate'] {
  const problems = deidentificationProblems(c);
  return {
    verdict: problems.length === 0 ? 'vendor-safe' : 'held',
    attested: c.deidentified,
    imageKey: c.imageKey,
    findings: c.deidentificationFindings,
    problems,
    ...(c.quarantineRelease ? { release: c.quarantineRelease } : {}),
    ...(c.uninspectedFormatAttestation ? { formatAttestation: c.uninspectedFormatAttestation } : {}),
  };
}

/**
 * Re-reads an object (by its recorded version where there is one) and re-hashes
 * it. Where the store keeps no versions (the embedded S3), the key's current
 * bytes are what is checked.
 */
async function verifyObject(
  deps: Deps,
  o: { bucket: 'uploads' | 'exports'; key: string; versionId?: string; sha256?: string; sizeBytes?: number },
): Promise<Verification> {
  const where = `${o.key}${o.versionId ? ` (version ${o.versionId})` : ''}`;
  let read: Awaited<ReturnType<Deps['objects']['getObject']>>;
  try {
    read = await deps.objects.getObject(deps.buckets[o.bucket], o.key, o.versionId);
  } catch (e) {
    return { verified: false, why: `${where} could not be read: ${(e as Error).message}` };
  }
  if (!read) return { verified: false, why: `${where} is missing from the ${o.bucket} bucket` };
  if (o.versionId && read.versionId && read.versionId !== o.versionId) {
    return { verified: false, why: `${o.key}: the store returned version ${read.versionId}, not the recorded ${o.versionId}` };
  }
  const sha = createHash('sha256').update(read.bytes).digest('hex');
  if (o.sha256 && sha !== o.sha256) return { verified: false, why: `${where}: SHA-256 is now ${sha}, the record says ${o.sha256}` };
  if (o.sizeBytes !== undefined && read.bytes.length !== o.sizeBytes) {
    return { verified: false, why: `${where}: ${read.bytes.length} bytes, the submission recorded ${o.sizeBytes}` };
  }
  // A decision record no label points to (a review of gold changes no label): no hash of it is on record.
  if (!o.sha256) return { verified: false, why: `${where}: no SHA-256 of it is recorded, so there is nothing to check it against (it hashes to ${sha} now)` };
  return { verified: true };
}

/**
 * Every step of the case with its time, oldest first (pure): the ledger's
 * events, and from the records what the ledger does not state per case (each
 * upload and label version; adjudications, a release or an assignment whose
 * event is missing, as in data written before those events existed).
 */
function timeline(c: TracedCase, versions: readonly LabelVersion[], adjudications: CaseTrace['adjudications'], events: readonly LedgerEvent[]): CaseTrace['timeline'] {
  const steps: CaseTrace['timeline'] = [];
  const recorded = (type: string, subject: string) => events.some((e) => e.type === type && e.subject === subject);
  for (const e of events) steps.push({ at: e.at, step: e.type, detail: `${e.subject}: ${e.reason} (${e.actor})` });
  const uploads = new Set<string>();
  for (const v of versions) {
    const s = v.submission;
    if (s.receivedAt && s.uploadId && !uploads.has(s.key)) {
      uploads.add(s.key);
      steps.push({ at: s.receivedAt, step: 'upload received', detail: `${s.key} from ${v.workforce.id} (SHA-256 ${s.sha256})` });
    }
    steps.push({
      at: v.createdAt,
      step: 'label recorded',
      detail: `v${v.version} "${v.label}" by ${v.workforce.id}/${v.annotatorId} in ${v.batchId} (${v.status}${v.gold ? ', gold item' : ''})`,
    });
  }
  for (const a of adjudications) {
    if (!recorded('adjudication.requested', a.adjudicationId)) {
      steps.push({ at: a.createdAt, step: 'adjudication opened', detail: `${a.adjudicationId}: ${a.needs.map((n) => n.reason).join('; ')}` });
    }
    if (a.decidedAt && a.expert && !recorded('adjudication.decided', a.adjudicationId)) {
      steps.push({ at: a.decidedAt, step: 'adjudication decided', detail: `${a.adjudicationId}: ${a.expert.workforceId}/${a.expert.expertId} → "${a.decision?.label ?? '?'}"` });
    }
  }
  const r = c.quarantineRelease;
  if (r && !recorded('case.quarantine-released', c.caseId)) steps.push({ at: r.at, step: 'quarantine released', detail: `${r.by}: ${r.reason}` });
  const as = c.assignment;
  if (as && !recorded('case.assigned', c.caseId)) steps.push({ at: as.at, step: 'assigned', detail: `to ${as.workforceId} by ${as.by}: ${as.reason}` });
  // Stable: equal times keep the order above (events, then records).
  return steps.map((s, i) => ({ s, i })).sort((a, b) => a.s.at.localeCompare(b.s.at) || a.i - b.i).map(({ s }) => s);
}
