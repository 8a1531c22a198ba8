/**
 * Builds the dossier of a release from plain data the use case gathered
 * (functions/use-cases/dossier.ts): pure, so the same inputs give the same
 * dossier, byte for byte, whenever it is built.
 */
import { z } from 'zod';
import { goldCountFor } from '../batching.js';
import type { BatchScore, Case, ProtocolVersion, Scorecard, Workforce } from '../model/index.js';
import { DEIDENTIFICATION_OPTIONS } from '../model/deidentification-settings.js';
import { diffProtocolVersions, formatProtocolDiff } from '../protocol-document.js';
import { deidentificationProblems, routeCase } from '../routing.js';
import { isDefined, wilsonInterval } from '../scoring/index.js';
import { acceptanceRisk } from './acceptance-risks.js';
import { AcceptancePlanError, OC_ACCURACIES, ocCurve, sprtOcCurve } from '../acceptance/index.js';
import { acceptanceOf } from '../acceptance-protocol.js';
import { type AgreementLabel, workforceAgreement } from './agreement.js';
import { DOSSIER_FORMAT, Dossier, type GateVerdict } from './model.js';

/** A label of the release manifest, as far as the dossier reads it. */
export interface DossierReleaseLabel {
  caseId: string;
  batchId: string;
  workforceId: string;
  adjudicationId?: string;
}

/** The release manifest (functions/domain/release.ts), as far as the dossier reads it. */
export interface DossierReleaseInput {
  releaseId: string;
  programId: string;
  protocolId: string;
  version: number;
  createdAt: string;
  createdBy: string;
  ledgerHead: { seq: number; hash: string };
  labels: readonly DossierReleaseLabel[];
  labelsSha256: string;
}

/** A ledger event, as far as the dossier reads it (the typed union is assignable to it). */
export interface DossierLedgerEntry {
  eventId: string;
  type: string;
  at: string;
  actor: string;
  protocol: string;
  subject: string;
  reason: string;
  data?: unknown;
}

export interface DossierBatchInput {
  batchId: string;
  round: number;
  protocol: string;
  workforceId: string;
  itemCount: number;
  goldCount: number;
  status: string;
}

export interface DossierAdjudicationInput {
  adjudicationId: string;
  batchId: string;
  protocol: string;
  status: string;
  needs: readonly { caseId: string; kind: string; reason: string; labels: Record<string, string> }[];
  createdAt: string;
  decidedBy?: string;
  decidedAt?: string;
  decisions?: readonly { caseId: string; label: string; note?: string }[];
  /** The decision record in the exports bucket and the SHA-256 of its stored bytes, where it exists. */
  record?: { key: string; sha256: string };
}

export interface DossierSupersededLabel {
  caseId: string;
  batchId: string;
  workforceId: string;
  label: string;
  protocol: string;
  status: string;
}

export interface DossierInputs {
  generatedAt: string;
  generatedBy: string;
  release: DossierReleaseInput;
  manifestKey: string;
  manifestSha256: string;
  /** Every version of the release's protocol. */
  protocolVersions: readonly ProtocolVersion[];
  workforces: readonly Workforce[];
  /** The program's stored scorecards of the protocol. */
  scorecards: readonly Scorecard[];
  /** The program's batches (any protocol: those of the release's version are kept). */
  batches: readonly DossierBatchInput[];
  scores: readonly BatchScore[];
  adjudications: readonly DossierAdjudicationInput[];
  cases: readonly Case[];
  /** Labels of the release's cases that are no longer current (superseded by an adjudication). */
  caseLabels: readonly DossierSupersededLabel[];
  /** Every label of this version's batches (gold items and adjudicated labels are left out of agreement). */
  batchLabels: readonly (AgreementLabel & { protocol: string })[];
  ledger: readonly DossierLedgerEntry[];
  ledgerCheck: { head: { seq: number; hash: string; heads?: { chain: string; seq: number; hash: string }[] } | null; events: number; ok: boolean; problems: readonly string[]; anchorHolds: boolean };
  /**
   * AQL and RQL for the stated error rates, where the protocol gives them;
   * otherwise the reference levels 0.95 / 0.80 (issue 11's defaults) are used and named as such.
   */
  acceptanceLevels?: { aql: number; rql: number; source: string };
}

export const REFERENCE_LEVELS = { aql: 0.95, rql: 0.8, source: 'reference levels (the protocol states none): AQL 0.95, RQL 0.80' } as const;

const WorkforceData = z.looseObject({ workforceId: z.string().optional() });
const RequeueData = z.looseObject({
  workforceId: z.string().optional(),
  caseIds: z.array(z.string()).optional(),
  cases: z.union([z.number().int().min(0), z.array(z.string())]).optional(),
});
const AttestedData = z.looseObject({ caseId: z.string(), uninspected: z.array(z.string()) });

const byTime = <T extends { at: string }>(xs: T[]): T[] => xs.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));

/**
 * The dossier of one release.
 *
 * @example buildDossier(inputs).acceptance.plans[0] // { goldItems: 6, acceptMinimum: 6, pRejectAtAql: 0.2649…, … }
 */
export function buildDossier(input: DossierInputs): Dossier {
  const { release } = input;
  const ref = `${release.protocolId}@${release.version}`;
  const inForce = input.protocolVersions.find((p) => p.version === release.version);
  if (!inForce) throw new Error(`protocol ${ref} is not among the versions given`);
  const versions = [...input.protocolVersions].sort((a, b) => a.version - b.version);
  const releaseCases = new Set(release.labels.map((l) => l.caseId));
  const labelsByWorkforce: Record<string, number> = {};
  for (const l of release.labels) labelsByWorkforce[l.workforceId] = (labelsByWorkforce[l.workforceId] ?? 0) + 1;
  // De-identification events name the protocol with or without a version.
  const ofProtocol = input.ledger.filter((e) => e.protocol === release.protocolId || e.protocol.startsWith(`${release.protocolId}@`));
  const batches = input.batches.filter((b) => b.protocol === ref).sort((a, b) => a.round - b.round || a.batchId.localeCompare(b.batchId));
  const scores = new Map(input.scores.map((s) => [s.batchId, s]));

  return Dossier.parse({
    format: DOSSIER_FORMAT,
    generatedAt: input.generatedAt,
    generatedBy: input.generatedBy,
    release: {
      releaseId: release.releaseId,
      programId: release.programId,
      protocol: ref,
      createdAt: release.createdAt,
      createdBy: release.createdBy,
      labels: release.labels.length,
      labelsByWorkforce,
      adjudicatedLabels: release.labels.filter((l) => l.adjudicationId).length,
      manifestKey: input.manifestKey,
      manifestSha256: input.manifestSha256,
      labelsSha256: release.labelsSha256,
      ledgerAnchor: release.ledgerHead,
    },
    protocol: {
      protocolId: release.protocolId,
      versions: versions.map((p) => ({
        version: p.version,
        title: p.title,
        createdAt: p.createdAt,
        createdBy: p.createdBy,
        inForce: p.version === release.version,
        taskType: p.task.type,
        goldAccuracy: p.thresholds.goldAccuracy,
        minGoldItems: p.thresholds.minGoldItems,
        goldRate: p.goldRate,
        overlapRate: p.overlapRate,
        batchSize: p.batchSize,
        routingRules: p.routing.rules.length,
      })),
      diffs: versions.slice(1).map((p, i) => ({
        from: versions[i].version,
        to: p.version,
        changes: diffProtocolVersions(versions[i], p).map((c) => ({ path: c.path, kind: c.kind, text: formatProtocolDiff([c]) })),
      })),
    },
    workforces: [...input.workforces]
      .sort((a, b) => a.workforceId.localeCompare(b.workforceId))
      .map((w) => ({
        workforceId: w.workforceId,
        name: w.name,
        kind: w.kind,
        qualifications: w.qualifications,
        pricePerCase: w.pricePerCase,
        capacityPerRound: w.capacityPerRound,
        slaHours: w.slaHours,
        status: w.status,
        paused: w.paused,
        labelsInRelease: labelsByWorkforce[w.workforceId] ?? 0,
        history: byTime(
          input.ledger
            .filter((e) => e.type.startsWith('workforce.') && (e.subject === w.workforceId || WorkforceData.safeParse(e.data).data?.workforceId === w.workforceId))
            .map((e) => ({ at: e.at, type: e.type, actor: e.actor, reason: e.reason })),
        ),
      })),
    quality: quality(input, batches, scores),
    agreement: workforceAgreement(
      inForce.task,
      input.batchLabels.filter((l) => l.protocol === ref),
    ),
    acceptance: acceptance(inForce, batches, input.acceptanceLevels ?? protocolLevels(inForce) ?? REFERENCE_LEVELS),
    adjudications: input.adjudications
      .filter((a) => a.protocol === ref)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.adjudicationId.localeCompare(b.adjudicationId))
      .map((a) => ({
        adjudicationId: a.adjudicationId,
        batchId: a.batchId,
        status: a.status,
        needs: a.needs.map((n) => ({ caseId: n.caseId, kind: n.kind, reason: n.reason, labels: { ...n.labels } })),
        createdAt: a.createdAt,
        expert: a.decidedBy ?? null,
        decidedAt: a.decidedAt ?? null,
        decisions: (a.decisions ?? []).map((d) => ({ caseId: d.caseId, label: d.label, ...(d.note ? { note: d.note } : {}) })),
        recordKey: a.record?.key ?? null,
        recordSha256: a.record?.sha256 ?? null,
      })),
    deidentification: deidentification(input, inForce, releaseCases, ofProtocol),
    reannotation: reannotation(input, ref),
    ledger: {
      head: input.ledgerCheck.head,
      events: input.ledgerCheck.events,
      verified: input.ledgerCheck.ok,
      problems: [...input.ledgerCheck.problems],
      anchorHolds: input.ledgerCheck.anchorHolds,
    },
  });
}

function quality(input: DossierInputs, batches: readonly DossierBatchInput[], scores: ReadonlyMap<string, BatchScore>): Dossier['quality'] {
  const ids = [...new Set([...input.workforces.map((w) => w.workforceId), ...batches.map((b) => b.workforceId)])].sort();
  return ids.map((workforceId) => {
    const card = input.scorecards.find((c) => c.workforceId === workforceId);
    const rows = batches
      .filter((b) => b.workforceId === workforceId)
      .map((b) => {
        const s = scores.get(b.batchId);
        return {
          batchId: b.batchId,
          round: b.round,
          status: b.status,
          items: b.itemCount,
          goldN: s?.goldN ?? 0,
          goldCorrect: s?.goldCorrect ?? 0,
          accuracy: s?.accuracy ?? null,
          interval: s?.interval ? { lower: s.interval.lower, upper: s.interval.upper } : null,
          kappa: s?.kappa ?? null,
          verdict: s?.verdict ?? null,
        };
      });
    const n = rows.reduce((t, r) => t + r.goldN, 0);
    const correct = rows.reduce((t, r) => t + r.goldCorrect, 0);
    const w = wilsonInterval(correct, n);
    const kappas = rows.map((r) => r.kappa).filter((k): k is number => k !== null);
    return {
      workforceId,
      scorecard: card
        ? {
            goldN: card.goldN,
            goldCorrect: card.goldCorrect,
            accuracy: card.accuracy,
            interval: card.interval ? { lower: card.interval.lower, upper: card.interval.upper } : null,
            insufficient: card.insufficient,
            batches: card.batches,
            batchesAccepted: card.batchesAccepted,
            batchesRejected: card.batchesRejected,
          }
        : null,
      gold: {
        n,
        correct,
        accuracy: isDefined(w.estimate) ? w.estimate.value : null,
        interval: isDefined(w.estimate) ? { lower: w.lower, upper: w.upper } : null,
      },
      kappa: {
        n: kappas.length,
        mean: kappas.length ? kappas.reduce((t, k) => t + k, 0) / kappas.length : null,
        min: kappas.length ? Math.min(...kappas) : null,
        max: kappas.length ? Math.max(...kappas) : null,
      },
      batches: rows,
    };
  });
}

/** The protocol's own AQL / RQL (issue 11 `acceptance` section), when it states them. */
const protocolLevels = (p: ProtocolVersion): { aql: number; rql: number; source: string } | undefined =>
  p.acceptance ? { aql: p.acceptance.aql, rql: p.acceptance.rql, source: `the protocol's acceptance section: AQL ${p.acceptance.aql}, RQL ${p.acceptance.rql}` } : undefined;

/** The protocol's derived plan (`acceptanceOf`): rule, single plan n/c, SPRT bounds and truncation, exact α/β, OC rows. */
function derivedPlan(p: ProtocolVersion): Dossier['acceptance']['derived'] {
  let a: ReturnType<typeof acceptanceOf>;
  try {
    a = acceptanceOf(p);
  } catch (e) {
    if (e instanceof AcceptancePlanError) return { error: e.message };
    throw e;
  }
  const singleOc = a.single ? ocCurve(a.single) : null;
  const sprtOc = sprtOcCurve(a.sprt);
  return {
    rule: a.rule,
    source: a.source === 'protocol' ? "the protocol's acceptance section" : 'defaults (the protocol has no acceptance section)',
    aql: a.spec.aql,
    rql: a.spec.rql,
    alpha: a.spec.alpha,
    beta: a.spec.beta,
    single: a.single ? { n: a.single.n, c: a.single.c, alpha: a.single.risks.alpha, beta: a.single.risks.beta } : null,
    sprt: {
      goldPerBatch: a.goldPerBatch,
      acceptBound: a.sprt.bounds.accept,
      rejectBound: a.sprt.bounds.reject,
      maxItems: a.sprt.maxItems,
      terminalC: a.sprt.terminalC,
      alpha: a.sprt.risks.alpha,
      beta: a.sprt.risks.beta,
      batchAlpha: a.sprt.batchRisks.alpha,
      batchBeta: a.sprt.batchRisks.beta,
    },
    oc: OC_ACCURACIES.map((accuracy, i) => ({ accuracy, single: singleOc ? singleOc[i].pAccept : null, sprt: sprtOc[i].pAccept })),
  };
}

/** The rule that decided this protocol version's batches, as the lifecycle applies it (batch-verdict.ts). */
function ruleInForce(p: ProtocolVersion): string {
  let a: ReturnType<typeof acceptanceOf>;
  try {
    a = acceptanceOf(p);
  } catch (e) {
    if (e instanceof AcceptancePlanError) return `none derivable (${e.message})`;
    throw e;
  }
  const risks = `AQL ${a.spec.aql}, RQL ${a.spec.rql}, α ${a.spec.alpha}, β ${a.spec.beta}${a.source === 'defaults' ? ', the defaults: the protocol has no acceptance section' : ''}`;
  if (a.decision.kind === 'single-plan') {
    return `single sampling plan (${risks}): each batch carries ${a.decision.plan.n} gold items and is accepted with at most ${a.decision.plan.c} wrong, rejected otherwise; with fewer gold items, decided only when the rest could not change it, held (inconclusive) otherwise`;
  }
  const d = a.sprt;
  return (
    `truncated SPRT (${risks}) pooling each vendor's held batches of this version into its next decision: accepted when the log-likelihood ratio ≤ ${d.bounds.accept.toFixed(3)}, ` +
    `rejected when ≥ ${d.bounds.reject.toFixed(3)}, otherwise held (inconclusive: not paid, never penalised) and carried; at ${d.maxItems} gold items at most ${d.terminalC} wrong accept; a critical miss rejects`
  );
}

function acceptance(p: ProtocolVersion, batches: readonly DossierBatchInput[], levels: { aql: number; rql: number; source: string }): Dossier['acceptance'] {
  const planned = goldCountFor(p.batchSize, p.goldRate);
  const counts = new Map<number, number>();
  for (const b of batches) if (b.goldCount > 0) counts.set(b.goldCount, (counts.get(b.goldCount) ?? 0) + 1);
  const gold = [planned, ...[...counts.keys()].filter((n) => n !== planned).sort((a, b) => a - b)];
  const { goldAccuracy: threshold, minGoldItems } = p.thresholds;
  return {
    rule: ruleInForce(p),
    threshold,
    minGoldItems,
    goldRate: p.goldRate,
    batchSize: p.batchSize,
    aql: levels.aql,
    rql: levels.rql,
    levelsSource: levels.source,
    method: 'exact binomial sums (functions/domain/dossier/acceptance-risks.ts), items independent with the true accuracy as their pass probability',
    derived: derivedPlan(p),
    plans: gold.map((goldItems) => {
      const used = counts.get(goldItems) ?? 0;
      const source = [goldItems === planned ? `a full batch (${p.batchSize} cases at gold rate ${p.goldRate})` : '', used ? `${used} batch(es) of this release` : '']
        .filter(Boolean)
        .join('; ');
      return { ...acceptanceRisk({ goldItems, threshold, minGoldItems, aql: levels.aql, rql: levels.rql }), source };
    }),
  };
}

function gateVerdict(c: Case, protocol: ProtocolVersion): { verdict: GateVerdict; findings: string[] } {
  const findings = [...(c.deidentified ? [] : ['no de-identification attestation']), ...c.deidentificationFindings];
  const remaining = deidentificationProblems(c);
  if (remaining.length > 0) return { verdict: routeCase(c, protocol).quarantined ? 'quarantined' : 'internal-only', findings };
  return { verdict: findings.length > 0 ? 'released' : 'clear', findings };
}

function deidentification(
  input: DossierInputs,
  protocol: ProtocolVersion,
  releaseCases: ReadonlySet<string>,
  events: readonly DossierLedgerEntry[],
): Dossier['deidentification'] {
  const attested = new Map<string, string[]>();
  for (const e of events) {
    if (e.type !== 'case.format-attested') continue;
    const d = AttestedData.safeParse(e.data);
    if (d.success) attested.set(d.data.caseId, [...new Set([...(attested.get(d.data.caseId) ?? []), ...d.data.uninspected])]);
  }
  const cases = [...input.cases]
    .sort((a, b) => a.caseId.localeCompare(b.caseId))
    .map((c) => {
      const { verdict, findings } = gateVerdict(c, protocol);
      const r = c.quarantineRelease;
      const a = c.uninspectedFormatAttestation;
      return {
        caseId: c.caseId,
        verdict,
        findings,
        inRelease: releaseCases.has(c.caseId),
        release: r && r.imageKey === c.imageKey ? { by: r.by, at: r.at, reason: r.reason, overrides: [...r.overrides] } : null,
        attestation: a ? { by: a.by, reason: a.reason, parts: attested.get(c.caseId) ?? [] } : null,
      };
    });
  const count = (v: GateVerdict) => cases.filter((c) => c.verdict === v).length;
  const s = protocol.deidentification;
  return {
    profile: {
      standard: 'DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile',
      acceptedOptions: s.acceptedOptions.map((o) => ({ option: o, code: DEIDENTIFICATION_OPTIONS[o].code, name: DEIDENTIFICATION_OPTIONS[o].name })),
      requireRegeneratedUidRoot: s.requireRegeneratedUids?.root ?? null,
      pseudonymPattern: s.pseudonymPattern ?? null,
      onFailure: protocol.routing.onDeidentificationFailure,
    },
    counts: {
      cases: cases.length,
      clear: count('clear'),
      internalOnly: count('internal-only'),
      quarantined: count('quarantined'),
      released: count('released'),
      attested: cases.filter((c) => c.attestation).length,
    },
    cases,
    events: byTime(
      events
        .filter((e) => ['cases.ingested', 'case.image-replaced', 'case.quarantine-released', 'case.format-attested'].includes(e.type))
        .map((e) => ({ at: e.at, type: e.type, actor: e.actor, subject: e.subject, reason: e.reason })),
    ),
  };
}

function reannotation(input: DossierInputs, ref: string): Dossier['reannotation'] {
  const kinds = ['batch.rejected', 'batch.overdue', 'batch.failed', 'cases.requeued'];
  const events = byTime(
    input.ledger
      .filter((e) => e.protocol === ref && kinds.includes(e.type))
      .map((e) => {
        const d = RequeueData.safeParse(e.data).data;
        const cases = d?.caseIds ? d.caseIds.length : typeof d?.cases === 'number' ? d.cases : Array.isArray(d?.cases) ? d.cases.length : null;
        return { at: e.at, type: e.type, batchId: e.subject, workforceId: d?.workforceId ?? null, cases: e.type === 'cases.requeued' ? cases : null, reason: e.reason };
      }),
  );
  return {
    events,
    rejectedBatches: events.filter((e) => e.type === 'batch.rejected').length,
    overdueBatches: events.filter((e) => e.type === 'batch.overdue').length,
    casesRequeued: events.reduce((t, e) => t + (e.cases ?? 0), 0),
    supersededLabels: input.caseLabels
      .filter((l) => l.protocol === ref && l.status === 'superseded')
      .map((l) => ({ caseId: l.caseId, batchId: l.batchId, workforceId: l.workforceId, label: l.label }))
      .sort((a, b) => a.caseId.localeCompare(b.caseId) || a.batchId.localeCompare(b.batchId)),
  };
}
