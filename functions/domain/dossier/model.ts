/**
 * The regulatory dossier of a dataset release: what a PCCP / total-product-
 * lifecycle file needs to show how the labels of a release were made — the
 * protocol versions and their diffs, the workforces, gold and agreement
 * statistics with intervals and n, the acceptance rule and its error rates,
 * adjudications, de-identification results and re-annotation history — tied to
 * the release manifest (SHA-256) and the ledger chain (head and verify result).
 * Written as dossier.json (this schema) and rendered as dossier.html (html.ts).
 */
import { z } from 'zod';

export const DOSSIER_FORMAT = 'goldline-dossier/1';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
/** A ledger position (ledger-chain.ts ChainAnchor): a sharded ledger's carries every chain's head. */
const LedgerHead = z.strictObject({
  seq: z.number().int().min(0),
  hash: z.string(),
  heads: z.array(z.strictObject({ chain: z.string(), seq: z.number().int(), hash: z.string() })).optional(),
});
const Interval = z.strictObject({ lower: z.number(), upper: z.number() });

export const DossierRelease = z.strictObject({
  releaseId: z.string().min(1),
  programId: z.string().min(1),
  /** `id@version`. */
  protocol: z.string().min(1),
  createdAt: z.iso.datetime(),
  createdBy: z.string().min(1),
  labels: z.number().int().min(0),
  /** Labels in the release per workforce that made (or, for adjudicated ones, decided) them. */
  labelsByWorkforce: z.record(z.string(), z.number().int().min(0)),
  adjudicatedLabels: z.number().int().min(0),
  manifestKey: z.string().min(1),
  manifestSha256: Sha256,
  labelsSha256: z.string().min(1),
  /** The ledger event the release is anchored to (its seq and hash at release time). */
  ledgerAnchor: LedgerHead,
});

export const DossierProtocolVersion = z.strictObject({
  version: z.number().int().min(1),
  title: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  /** The version the release's labels were made under. */
  inForce: z.boolean(),
  taskType: z.string(),
  goldAccuracy: z.number(),
  minGoldItems: z.number().int(),
  goldRate: z.number(),
  overlapRate: z.number(),
  batchSize: z.number().int(),
  routingRules: z.number().int().min(0),
});

export const DossierProtocolChange = z.strictObject({
  path: z.string(),
  kind: z.enum(['added', 'removed', 'changed', 'moved']),
  /** The change in words (functions/domain/protocol-document.ts `formatProtocolDiff`). */
  text: z.string(),
});

export const DossierProtocolDiff = z.strictObject({
  from: z.number().int(),
  to: z.number().int(),
  changes: z.array(DossierProtocolChange),
});

export const DossierHistoryEntry = z.strictObject({
  at: z.string(),
  type: z.string(),
  actor: z.string(),
  reason: z.string(),
});

export const DossierWorkforce = z.strictObject({
  workforceId: z.string(),
  name: z.string(),
  kind: z.enum(['internal', 'vendor']),
  qualifications: z.array(z.string()),
  pricePerCase: z.number(),
  capacityPerRound: z.number().int(),
  slaHours: z.number(),
  /** At export time. */
  status: z.string(),
  paused: z.boolean(),
  labelsInRelease: z.number().int().min(0),
  /** Every ledger event about the workforce (created, terms changed, paused, resumed, status changes), oldest first. */
  history: z.array(DossierHistoryEntry),
});

export const DossierBatchQuality = z.strictObject({
  batchId: z.string(),
  round: z.number().int(),
  status: z.string(),
  items: z.number().int(),
  goldN: z.number().int(),
  goldCorrect: z.number().int(),
  accuracy: z.number().nullable(),
  interval: Interval.nullable(),
  /** Cohen's κ of the batch's gold answers against the expert labels (null where undefined). */
  kappa: z.number().nullable(),
  verdict: z.string().nullable(),
});

export const DossierQuality = z.strictObject({
  workforceId: z.string(),
  /** The stored scorecard of the protocol (all its versions): gold accuracy with Wilson 95% interval. */
  scorecard: z
    .strictObject({
      goldN: z.number().int(),
      goldCorrect: z.number().int(),
      accuracy: z.number().nullable(),
      interval: Interval.nullable(),
      insufficient: z.boolean(),
      batches: z.number().int(),
      batchesAccepted: z.number().int(),
      batchesRejected: z.number().int(),
    })
    .nullable(),
  /** Gold pooled over this protocol version's scored batches, with its Wilson 95% interval. */
  gold: z.strictObject({ n: z.number().int(), correct: z.number().int(), accuracy: z.number().nullable(), interval: Interval.nullable() }),
  /** κ against gold over the batches where it is defined: n batches, mean, range. */
  kappa: z.strictObject({ n: z.number().int(), mean: z.number().nullable(), min: z.number().nullable(), max: z.number().nullable() }),
  batches: z.array(DossierBatchQuality),
});

export const DossierAgreement = z.strictObject({
  /** How agreement is decided for the task. */
  method: z.string(),
  pairs: z.array(
    z.strictObject({
      workforceA: z.string(),
      workforceB: z.string(),
      n: z.number().int().min(0),
      agreements: z.number().int().min(0),
      rate: z.number().nullable(),
      interval: Interval.nullable(),
      kappa: z.number().nullable(),
      kappaNote: z.string().nullable(),
    }),
  ),
});

export const DossierAcceptancePlan = z.strictObject({
  goldItems: z.number().int(),
  /** Where this gold count comes from: the protocol's full batch, or batches of the release that had it. */
  source: z.string(),
  acceptMinimum: z.number().int().nullable(),
  maxMisses: z.number().int().nullable(),
  pRejectAtAql: z.number(),
  pAcceptAtRql: z.number(),
  oc: z.array(z.strictObject({ accuracy: z.number(), pAccept: z.number() })),
});

export const DossierAcceptance = z.strictObject({
  rule: z.string(),
  threshold: z.number(),
  minGoldItems: z.number().int(),
  goldRate: z.number(),
  batchSize: z.number().int(),
  aql: z.number(),
  rql: z.number(),
  /** Where AQL and RQL come from (the protocol, or reference levels when it states none). */
  levelsSource: z.string(),
  /** How the risks were computed. */
  method: z.string(),
  /**
   * The plan the protocol's acceptance section (or its defaults) derives
   * (functions/domain/acceptance-protocol.ts `acceptanceOf`); `plans` above are
   * the old fixed threshold's risks, for comparison.
   */
  derived: z
    .union([
      z.strictObject({
        rule: z.enum(['sprt', 'single-plan']),
        source: z.string(),
        aql: z.number(),
        rql: z.number(),
        alpha: z.number(),
        beta: z.number(),
        single: z.strictObject({ n: z.number().int(), c: z.number().int(), alpha: z.number(), beta: z.number() }).nullable(),
        sprt: z.strictObject({
          goldPerBatch: z.number().int(),
          acceptBound: z.number(),
          rejectBound: z.number(),
          maxItems: z.number().int(),
          terminalC: z.number().int(),
          alpha: z.number(),
          beta: z.number(),
          batchAlpha: z.number(),
          batchBeta: z.number(),
        }),
        oc: z.array(z.strictObject({ accuracy: z.number(), single: z.number().nullable(), sprt: z.number().nullable() })),
      }),
      z.strictObject({ error: z.string() }),
    ])
    .optional(),
  plans: z.array(DossierAcceptancePlan),
});

export const DossierAdjudication = z.strictObject({
  adjudicationId: z.string(),
  batchId: z.string(),
  status: z.string(),
  needs: z.array(
    z.strictObject({ caseId: z.string(), kind: z.string(), reason: z.string(), labels: z.record(z.string(), z.string()) }),
  ),
  createdAt: z.string(),
  expert: z.string().nullable(),
  decidedAt: z.string().nullable(),
  decisions: z.array(z.strictObject({ caseId: z.string(), label: z.string(), note: z.string().optional() })),
  /** The decision record in the exports bucket and the SHA-256 of its bytes (null until it is written). */
  recordKey: z.string().nullable(),
  recordSha256: Sha256.nullable(),
});

export const GateVerdict = z.enum(['clear', 'internal-only', 'quarantined', 'released']);

export const DossierGateCase = z.strictObject({
  caseId: z.string(),
  verdict: GateVerdict,
  /** What the gate found (and a missing attestation), before any release. */
  findings: z.array(z.string()),
  inRelease: z.boolean(),
  release: z.strictObject({ by: z.string(), at: z.string(), reason: z.string(), overrides: z.array(z.string()) }).nullable(),
  /** A format the gate cannot inspect, passed on someone's attestation (who, why, which parts). */
  attestation: z.strictObject({ by: z.string(), reason: z.string(), parts: z.array(z.string()) }).nullable(),
});

export const DossierDeidentification = z.strictObject({
  profile: z.strictObject({
    standard: z.string(),
    acceptedOptions: z.array(z.strictObject({ option: z.string(), code: z.string(), name: z.string() })),
    requireRegeneratedUidRoot: z.string().nullable(),
    pseudonymPattern: z.string().nullable(),
    onFailure: z.string(),
  }),
  counts: z.strictObject({
    cases: z.number().int(),
    clear: z.number().int(),
    internalOnly: z.number().int(),
    quarantined: z.number().int(),
    released: z.number().int(),
    attested: z.number().int(),
  }),
  cases: z.array(DossierGateCase),
  /** Ingests and image replacements as the ledger records them. */
  events: z.array(DossierHistoryEntry.extend({ subject: z.string() })),
});

export const DossierReannotation = z.strictObject({
  /** Batches rejected, overdue or failed, and cases put back to the queue, oldest first. */
  events: z.array(
    z.strictObject({
      at: z.string(),
      type: z.string(),
      batchId: z.string(),
      workforceId: z.string().nullable(),
      cases: z.number().int().nullable(),
      reason: z.string(),
    }),
  ),
  rejectedBatches: z.number().int(),
  overdueBatches: z.number().int(),
  casesRequeued: z.number().int(),
  /** Labels an adjudication replaced (kept, marked superseded). */
  supersededLabels: z.array(z.strictObject({ caseId: z.string(), batchId: z.string(), workforceId: z.string(), label: z.string() })),
});

export const DossierLedger = z.strictObject({
  head: LedgerHead.nullable(),
  events: z.number().int().min(0),
  /** The chain verified at export time: every event's hash and link recomputed. */
  verified: z.boolean(),
  problems: z.array(z.string()),
  /** The release's anchor event is still in the chain with the hash the release recorded. */
  anchorHolds: z.boolean(),
});

export const Dossier = z.strictObject({
  format: z.literal(DOSSIER_FORMAT),
  generatedAt: z.iso.datetime(),
  generatedBy: z.string().min(1),
  release: DossierRelease,
  protocol: z.strictObject({
    protocolId: z.string(),
    versions: z.array(DossierProtocolVersion),
    diffs: z.array(DossierProtocolDiff),
  }),
  workforces: z.array(DossierWorkforce),
  quality: z.array(DossierQuality),
  /** Agreement between workforces on the cases both labelled (overlap items). */
  agreement: DossierAgreement,
  acceptance: DossierAcceptance,
  adjudications: z.array(DossierAdjudication),
  deidentification: DossierDeidentification,
  reannotation: DossierReannotation,
  ledger: DossierLedger,
});
export type Dossier = z.infer<typeof Dossier>;
export type GateVerdict = z.infer<typeof GateVerdict>;
