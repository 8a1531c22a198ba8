/**
 * What an internal expert reads before deciding an adjudication: the open
 * adjudications, and one adjudication with the competing labels (presigned GETs
 * of the exact uploaded versions they came from) and the case images. The
 * decision itself is `decideAdjudication` (adjudication.ts). A task token is
 * never part of an answer.
 */
import { z } from 'zod';
import { Identifier } from '../domain/index.js';
import { REVIEW_DECISIONS } from './adjudication.js';
import { NotFoundError } from './errors.js';
import type { AdjudicationNeed, AdjudicationRecord, Deps } from './ports.js';
import { findProtocol } from './protocol-ref.js';
import { parse } from './work-queries.js';

/** How long the presigned GETs of labels and images live. */
export const ADJUDICATION_URL_SECONDS = 3600;

export const ListOpenAdjudicationsInput = z.strictObject({ programId: Identifier.optional() });

export interface AdjudicationSummary {
  adjudicationId: string;
  programId: string;
  batchId: string;
  protocol: string;
  createdAt: string;
  deadline?: string;
  cases: { caseId: string; kind: AdjudicationNeed['kind']; reason: string }[];
}

/**
 * The open adjudications, oldest first: of one program, or of every program in
 * the registry.
 */
export async function listOpenAdjudications(
  deps: Deps,
  input: z.input<typeof ListOpenAdjudicationsInput> = {},
): Promise<{ items: AdjudicationSummary[] }> {
  const req = parse(ListOpenAdjudicationsInput, input);
  const programs = req.programId ? [req.programId] : await deps.repo.listPrograms();
  const open = (await Promise.all(programs.map((p) => deps.repo.listOpenAdjudications(p)))).flat();
  open.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.adjudicationId.localeCompare(b.adjudicationId));
  return { items: open.map(summary) };
}

function summary(a: AdjudicationRecord): AdjudicationSummary {
  return {
    adjudicationId: a.adjudicationId,
    programId: a.programId,
    batchId: a.batchId,
    protocol: a.protocol,
    createdAt: a.createdAt,
    ...(a.deadline ? { deadline: a.deadline } : {}),
    cases: a.needs.map((n) => ({ caseId: n.caseId, kind: n.kind, reason: n.reason })),
  };
}

/** Adjudication ids are `<batchId>-adj`: an identifier. */
export const GetAdjudicationInput = z.strictObject({ adjudicationId: Identifier });

export interface CompetingLabel {
  /** `<workforce>/<annotator>`: the key a decision names to let this label stand. */
  by: string;
  batchId: string;
  label: string;
  findings?: { x: number; y: number; z: number; diameterMm?: number; probability: number }[];
  status: string;
  submissionSha256: string;
  /** The line of the uploaded file that holds this label. */
  line?: number;
  /** Presigned GET of the uploaded label file, at the version that was ingested. */
  fileUrl: string;
}

export interface AdjudicationView extends AdjudicationSummary {
  status: AdjudicationRecord['status'];
  decidedBy?: string;
  decidedAt?: string;
  decisions?: AdjudicationRecord['decisions'];
  needs: (AdjudicationNeed & {
    /** What a decision on this case may say. */
    choices: string[];
    imageUrl?: string;
    /** Further image objects of a series (their URLs are not listed). */
    seriesObjects: number;
    competingLabels: CompetingLabel[];
  })[];
}

/**
 * One adjudication with everything an expert needs to decide it: per case, the
 * competing labels (with presigned GETs of the files they came from, at the
 * ingested version), a presigned GET of the image, and the labels a decision
 * may give.
 *
 * @example await getAdjudication(deps, { adjudicationId: 'demo-cxr-r1-vendor-a-1-adj' })
 */
export async function getAdjudication(deps: Deps, input: z.input<typeof GetAdjudicationInput>): Promise<AdjudicationView> {
  const req = GetAdjudicationInput.safeParse(input);
  // A malformed id answers like a missing one.
  const a = req.success ? await deps.repo.getAdjudication(req.data.adjudicationId) : undefined;
  if (!a) throw new NotFoundError(`adjudication ${String(input.adjudicationId).slice(0, 64)} not found`);
  const protocol = await findProtocol(deps, a.protocol);
  const needs = await Promise.all(
    a.needs.map(async (n) => {
      const c = await deps.repo.getCase(a.programId, n.caseId);
      const labels = (await deps.repo.listCaseLabels(n.caseId)).filter(
        (l) =>
          l.protocol === a.protocol &&
          !l.adjudicationId &&
          (n.kind === 'critical-miss' ? l.batchId === a.batchId : Object.hasOwn(n.labels, `${l.workforceId}/${l.annotatorId}`)),
      );
      const competingLabels: CompetingLabel[] = await Promise.all(
        labels.map(async (l) => ({
          by: `${l.workforceId}/${l.annotatorId}`,
          batchId: l.batchId,
          label: l.label,
          ...(l.findings ? { findings: l.findings } : {}),
          status: l.status,
          submissionSha256: l.submissionSha256,
          ...(l.maskRef ? { line: l.maskRef.line } : {}),
          fileUrl: await deps.objects.presignGet(deps.buckets.uploads, l.submissionKey, ADJUDICATION_URL_SECONDS, l.submissionVersionId),
        })),
      );
      const choices =
        protocol?.task.type === 'classification'
          ? [...protocol.task.classes]
          : n.kind === 'critical-miss'
            ? [...REVIEW_DECISIONS]
            : Object.keys(n.labels);
      return {
        ...n,
        choices,
        ...(c ? { imageUrl: await deps.objects.presignGet(deps.buckets.images, c.imageKey, ADJUDICATION_URL_SECONDS) } : {}),
        seriesObjects: c?.seriesKeys?.filter((k) => k !== c.imageKey).length ?? 0,
        competingLabels: competingLabels.sort((x, y) => x.by.localeCompare(y.by)),
      };
    }),
  );
  return {
    ...summary(a),
    status: a.status,
    ...(a.decidedBy ? { decidedBy: a.decidedBy } : {}),
    ...(a.decidedAt ? { decidedAt: a.decidedAt } : {}),
    ...(a.decisions ? { decisions: a.decisions } : {}),
    needs,
  };
}
