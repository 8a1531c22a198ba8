/**
 * Dataset releases: an immutable manifest of the accepted labels of one protocol
 * version — each label with its lineage (workforce, annotator, batch, the
 * submission object with its version and SHA-256, the adjudication that decided
 * it) — so a model team can train on a release instead of re-labelling, and a
 * reviewer can check years later that nothing in it changed.
 *
 * Pure: the use case (functions/use-cases/releases.ts) selects the labels, reads
 * the ledger head and writes the manifest once to S3.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ChainAnchor, canonicalJson } from './ledger-chain.js';
import type { StoredLabel } from './model/label.js';
import { StoredLabel as StoredLabelSchema } from './model/label.js';
import { Identifier } from './model/protocol.js';
import type { Workforce } from './model/workforce.js';

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a hex SHA-256');

/** `rel-` and 16 hex digits: derived from the program, protocol version and labels (releaseIdFor). */
export const ReleaseId = z.string().regex(/^rel-[0-9a-f]{16}$/, 'a release id (rel- and 16 hex digits)');

/** The ledger head when the release was made: the chain must still hold this event with this hash. */
export const LedgerAnchor = ChainAnchor;
export type LedgerAnchor = ChainAnchor;

/** One accepted label in a release, with its lineage. */
export const ReleaseLabel = z.strictObject({
  caseId: z.string().min(1),
  /** Classification: the class. Detection: "<n> finding(s)". Segmentation: "mask". */
  label: z.string().optional(),
  findings: StoredLabelSchema.shape.findings,
  maskRef: StoredLabelSchema.shape.maskRef,
  batchId: z.string().min(1),
  workforceId: z.string().min(1),
  workforceKind: z.enum(['internal', 'vendor']),
  annotatorId: z.string().optional(),
  /** The model whose suggestion the annotator started from, where the label line declared one. */
  preLabel: StoredLabelSchema.shape.preLabel,
  /** `<protocolId>@<version>`: always the release's. */
  protocol: z.string().min(1),
  /** The uploaded file (uploads bucket), or for an expert's class the decision record (exports bucket). */
  submissionKey: z.string().min(1),
  submissionVersionId: z.string().optional(),
  submissionSha256: Sha256Hex,
  adjudicationId: z.string().optional(),
  acceptedAt: z.iso.datetime(),
});
export type ReleaseLabel = z.infer<typeof ReleaseLabel>;

export const ReleaseManifest = z.strictObject({
  releaseId: ReleaseId,
  programId: Identifier,
  protocolId: Identifier,
  version: z.number().int().min(1),
  createdAt: z.iso.datetime(),
  createdBy: z.string().min(1),
  note: z.string().max(1000).optional(),
  ledgerHead: LedgerAnchor,
  /** Sorted by caseId (then batchId). */
  labels: z.array(ReleaseLabel),
  /** SHA-256 of the canonical JSON of `labels`. */
  labelsSha256: Sha256Hex,
});
export type ReleaseManifest = z.infer<typeof ReleaseManifest>;

/** Where a release's manifest is written (once). */
export const releaseManifestKey = (programId: string, releaseId: string): string => `releases/${programId}/${releaseId}/manifest.json`;

const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** The SHA-256 a manifest records over its labels. */
export const labelsSha256 = (labels: readonly ReleaseLabel[]): string => sha256Hex(canonicalJson(labels));

/**
 * The release id: deterministic for a program, protocol version and set of
 * labels, so a retried create finds the manifest it wrote and the same labels
 * are never released twice under two ids.
 */
export const releaseIdFor = (programId: string, protocolId: string, version: number, labelsHash: string): string =>
  `rel-${sha256Hex(`${programId}\n${protocolId}@${version}\n${labelsHash}`).slice(0, 16)}`;

/** The manifest as stored: canonical JSON and a newline (its SHA-256 is the release's fingerprint). */
export const serializeReleaseManifest = (m: ReleaseManifest): Uint8Array => new TextEncoder().encode(`${canonicalJson(m)}\n`);

const byCaseThenBatch = (a: ReleaseLabel, b: ReleaseLabel): number =>
  a.caseId < b.caseId ? -1 : a.caseId > b.caseId ? 1 : a.batchId < b.batchId ? -1 : a.batchId > b.batchId ? 1 : 0;

export class ReleaseContentError extends Error {
  override name = 'ReleaseContentError';
}

/** A stored label as a release carries it. */
export function toReleaseLabel(l: StoredLabel, workforceKind: 'internal' | 'vendor'): ReleaseLabel {
  return ReleaseLabel.parse({
    caseId: l.caseId,
    label: l.label,
    ...(l.findings ? { findings: l.findings } : {}),
    ...(l.maskRef ? { maskRef: l.maskRef } : {}),
    batchId: l.batchId,
    workforceId: l.workforceId,
    workforceKind,
    ...(l.annotatorId ? { annotatorId: l.annotatorId } : {}),
    ...(l.preLabel ? { preLabel: l.preLabel } : {}),
    protocol: l.protocol,
    submissionKey: l.submissionKey,
    ...(l.submissionVersionId ? { submissionVersionId: l.submissionVersionId } : {}),
    submissionSha256: l.submissionSha256,
    ...(l.adjudicationId ? { adjudicationId: l.adjudicationId } : {}),
    acceptedAt: l.createdAt,
  });
}

export interface BuildReleaseInput {
  programId: string;
  protocolId: string;
  version: number;
  /** Candidate labels: only accepted, non-gold labels of this protocol version are taken. */
  labels: readonly StoredLabel[];
  /** The program's workforces (each label's workforce kind). */
  workforces: readonly Pick<Workforce, 'workforceId' | 'kind'>[];
  ledgerHead: LedgerAnchor;
  createdAt: string;
  createdBy: string;
  note?: string;
}

/**
 * Builds a release manifest: the accepted labels of one protocol version (no
 * label on a gold item, none rejected or superseded; an adjudicated label where
 * an expert decided, since the labels it decided between are superseded),
 * sorted by case, with the hash over them and the id derived from it.
 *
 * @example buildReleaseManifest({ programId: 'p', protocolId: 'cxr', version: 1, labels, workforces, ledgerHead, createdAt, createdBy: 'qa-1' })
 * @throws ReleaseContentError when no label qualifies, or a label's workforce is not the program's
 */
export function buildReleaseManifest(input: BuildReleaseInput): ReleaseManifest {
  const ref = `${input.protocolId}@${input.version}`;
  const kinds = new Map(input.workforces.map((w) => [w.workforceId, w.kind]));
  const labels: ReleaseLabel[] = [];
  for (const l of input.labels) {
    if (l.protocol !== ref || l.status !== 'accepted' || l.gold) continue;
    const kind = kinds.get(l.workforceId);
    if (!kind) throw new ReleaseContentError(`label of case ${l.caseId} (batch ${l.batchId}) names workforce ${l.workforceId}, which is not one of program ${input.programId}`);
    labels.push(toReleaseLabel(l, kind));
  }
  if (labels.length === 0) throw new ReleaseContentError(`no accepted labels for ${ref} in program ${input.programId}`);
  labels.sort(byCaseThenBatch);
  for (let i = 1; i < labels.length; i++) {
    if (byCaseThenBatch(labels[i - 1], labels[i]) === 0) {
      throw new ReleaseContentError(`case ${labels[i].caseId} has two accepted labels from batch ${labels[i].batchId}`);
    }
  }
  const hash = labelsSha256(labels);
  return ReleaseManifest.parse({
    releaseId: releaseIdFor(input.programId, input.protocolId, input.version, hash),
    programId: input.programId,
    protocolId: input.protocolId,
    version: input.version,
    createdAt: input.createdAt,
    createdBy: input.createdBy,
    ...(input.note ? { note: input.note } : {}),
    ledgerHead: input.ledgerHead,
    labels,
    labelsSha256: hash,
  });
}

// --- Diff ---

export interface ReleaseLabelChange {
  caseId: string;
  /** The fields that differ (label, findings, workforceId, submissionSha256, …; `labels` when the case's label count differs). */
  fields: string[];
  before: ReleaseLabel[];
  after: ReleaseLabel[];
}

export interface ReleaseDiff {
  from: string;
  to: string;
  /** The labels of cases labelled in `to` only (a case may have more than one label). */
  added: ReleaseLabel[];
  /** The labels of cases labelled in `from` only. */
  removed: ReleaseLabel[];
  changed: ReleaseLabelChange[];
  unchanged: number;
}

const byCase = (labels: readonly ReleaseLabel[]): Map<string, ReleaseLabel[]> => {
  const m = new Map<string, ReleaseLabel[]>();
  for (const l of labels) m.set(l.caseId, [...(m.get(l.caseId) ?? []), l]);
  return m;
};

/**
 * What changed from release `a` to release `b`, by case: cases added, removed,
 * and changed (with the fields that differ, label by label in batch order).
 *
 * @example diffReleases(r1, r2).changed.map((c) => `${c.caseId}: ${c.fields.join(', ')}`)
 */
export function diffReleases(a: ReleaseManifest, b: ReleaseManifest): ReleaseDiff {
  const before = byCase(a.labels);
  const after = byCase(b.labels);
  const diff: ReleaseDiff = { from: a.releaseId, to: b.releaseId, added: [], removed: [], changed: [], unchanged: 0 };
  const caseIds = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const caseId of caseIds) {
    const x = before.get(caseId);
    const y = after.get(caseId);
    if (!x && y) diff.added.push(...y);
    else if (x && !y) diff.removed.push(...x);
    else if (x && y) {
      if (canonicalJson(x) === canonicalJson(y)) {
        diff.unchanged++;
        continue;
      }
      const fields = new Set<string>(x.length !== y.length ? ['labels'] : []);
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const keys = new Set([...Object.keys(x[i]), ...Object.keys(y[i])]) as Set<keyof ReleaseLabel>;
        for (const k of keys) if (canonicalJson(x[i][k]) !== canonicalJson(y[i][k])) fields.add(k);
      }
      diff.changed.push({ caseId, fields: [...fields].sort(), before: x, after: y });
    }
  }
  return diff;
}

// --- Verify ---

export interface ReleaseProblem {
  check: 'manifest' | 'labels-sha256' | 'label' | 'submission' | 'ledger-event' | 'ledger-anchor';
  caseId?: string;
  batchId?: string;
  detail: string;
}

/**
 * The checks a manifest must pass on its own: the labels hash it records, the
 * id derived from it, order, one protocol version, no repeated label.
 */
export function checkReleaseManifest(m: ReleaseManifest): ReleaseProblem[] {
  const problems: ReleaseProblem[] = [];
  const hash = labelsSha256(m.labels);
  if (hash !== m.labelsSha256) {
    problems.push({ check: 'labels-sha256', detail: `labels hash to ${hash}, the manifest records ${m.labelsSha256}` });
  }
  const id = releaseIdFor(m.programId, m.protocolId, m.version, m.labelsSha256);
  if (id !== m.releaseId) problems.push({ check: 'manifest', detail: `release id ${m.releaseId} is not the one its content gives (${id})` });
  const ref = `${m.protocolId}@${m.version}`;
  for (let i = 0; i < m.labels.length; i++) {
    const l = m.labels[i];
    if (l.protocol !== ref) problems.push({ check: 'label', caseId: l.caseId, batchId: l.batchId, detail: `protocol ${l.protocol}, not ${ref}` });
    if (i > 0 && byCaseThenBatch(m.labels[i - 1], l) >= 0) {
      problems.push({ check: 'manifest', caseId: l.caseId, batchId: l.batchId, detail: 'labels out of order or repeated' });
    }
  }
  return problems;
}

/**
 * A release label against the stored label it was taken from: every field the
 * release carries must still be the stored one (a later supersession is not a
 * problem: the release keeps what was accepted when it was made).
 */
export function compareReleaseLabel(l: ReleaseLabel, stored: StoredLabel | undefined, workforceKind: string | undefined): ReleaseProblem[] {
  const at = { caseId: l.caseId, batchId: l.batchId };
  if (!stored) return [{ check: 'label', ...at, detail: 'no stored label of this case from this batch' }];
  const expected = toReleaseLabel(stored, l.workforceKind);
  const fields = Object.keys({ ...expected, ...l }).filter(
    (k) => canonicalJson(expected[k as keyof ReleaseLabel]) !== canonicalJson(l[k as keyof ReleaseLabel]),
  );
  if (workforceKind && workforceKind !== l.workforceKind) fields.push('workforceKind');
  return fields.length === 0 ? [] : [{ check: 'label', ...at, detail: `differs from the stored label in ${fields.sort().join(', ')}` }];
}

/** A label's submission object as re-read from S3 (by version id where recorded). */
export function checkSubmissionObject(l: ReleaseLabel, bytes: Uint8Array | undefined): ReleaseProblem[] {
  const at = { caseId: l.caseId, batchId: l.batchId };
  const where = `${l.submissionKey}${l.submissionVersionId ? ` (version ${l.submissionVersionId})` : ''}`;
  if (!bytes) return [{ check: 'submission', ...at, detail: `${where} is missing` }];
  const hash = sha256Hex(bytes);
  return hash === l.submissionSha256 ? [] : [{ check: 'submission', ...at, detail: `${where} hashes to ${hash}, the release records ${l.submissionSha256}` }];
}
