/**
 * The quality report's shape (one schema: the API's OpenAPI document and the
 * exports are built from it). Every figure carries its n; proportions carry a
 * Wilson 95% interval; κ and AC1 a percentile bootstrap interval over cases.
 * `insufficient` is true when n is below the protocol's minimum: the figure is
 * shown, but it is not a verdict.
 */
import { z } from 'zod';

export const QualityGrouping = z
  .string()
  .regex(/^(workforce|annotator|round|protocol|subgroup:[A-Za-z][A-Za-z0-9_.-]{0,63})$/, 'workforce, annotator, round, protocol or subgroup:<attribute> (e.g. subgroup:site, subgroup:ageBand)');
export type QualityGrouping = z.infer<typeof QualityGrouping>;

const Bounds = z.object({ lower: z.number(), upper: z.number() });

/** k of n, with the Wilson 95% interval; value and interval null when n = 0. */
export const Proportion = z.object({
  k: z.number().int().min(0),
  n: z.number().int().min(0),
  value: z.number().nullable(),
  interval: Bounds.nullable(),
  insufficient: z.boolean(),
});
export type Proportion = z.infer<typeof Proportion>;

/** A chance-corrected statistic (κ, AC1, α) with its bootstrap interval; null with a note where undefined. */
export const Estimate = z.object({
  n: z.number().int().min(0),
  value: z.number().nullable(),
  interval: Bounds.nullable(),
  insufficient: z.boolean(),
  note: z.string().nullable(),
});
export type Estimate = z.infer<typeof Estimate>;

/** A distribution of per-item figures: quantiles by linear interpolation (numpy's default). */
export const Distribution = z.object({
  n: z.number().int().min(0),
  /** Items where the figure is undefined (e.g. HD95 with an empty mask). */
  undefinedN: z.number().int().min(0),
  mean: z.number().nullable(),
  p05: z.number().nullable(),
  p25: z.number().nullable(),
  median: z.number().nullable(),
  p75: z.number().nullable(),
  p95: z.number().nullable(),
  insufficient: z.boolean(),
});
export type Distribution = z.infer<typeof Distribution>;

export const Confusion = z.object({
  /** Rows: the gold (or true) class; columns: the class given. */
  classes: z.array(z.string()),
  counts: z.array(z.array(z.number())),
});

export const ClassificationFigures = z.object({
  goldAccuracy: Proportion,
  perClass: z.array(z.object({ class: z.string(), sensitivity: Proportion, specificity: Proportion })),
  confusion: Confusion,
});

export const SegmentationFigures = z.object({
  goldPass: Proportion,
  /** One entry per metric key of the scored items (`dice:liver`, `hd95Mm:liver`, `nsd@2mm:liver`, …). */
  metrics: z.array(z.object({ metric: z.string(), distribution: Distribution })),
});

export const DetectionFigures = z.object({
  goldPass: Proportion,
  /** Gold findings hit / gold findings, over gold items. */
  sensitivity: Proportion,
  falsePositivesPerImage: z.object({ falsePositives: z.number().int().min(0), images: z.number().int().min(0), value: z.number().nullable() }),
  /** FROC over the group's gold items (LUNA16 rates) and its CPM; null when the gold findings were not read. */
  froc: z
    .object({
      points: z.array(z.object({ fpRate: z.number(), sensitivity: z.number().nullable() })),
      cpm: z.number().nullable(),
      lesions: z.number().int().min(0),
      scans: z.number().int().min(0),
      note: z.string().nullable(),
    })
    .nullable(),
});

export const OperationsFigures = z.object({
  batches: z.number().int().min(0),
  accepted: z.number().int().min(0),
  rejected: z.number().int().min(0),
  overdue: z.number().int().min(0),
  failed: z.number().int().min(0),
  /** Closed batches delivered within the SLA (accepted or rejected) / closed batches (those and overdue). */
  slaAdherence: Proportion,
  /** Rejected / judged (accepted + rejected). */
  rejectionRate: Proportion,
  /** Cases put back to pending for another workforce (cases.requeued) / cases dispatched. */
  reworkRate: Proportion,
  acceptedCases: z.number().int().min(0),
  /** Accepted cases per day between the first dispatch and the last verdict (ledger times); null without a verdict after a dispatch. */
  throughputCasesPerDay: z.number().nullable(),
  /** The span the throughput is measured over, in days (a demo's minutes give a huge rate: read it with its span). */
  spanDays: z.number().nullable(),
  /** What was paid, in minor units (cents): Σ round(charge × 100). */
  paidMinor: z.number().int(),
  /** paidMinor / acceptedCases, in minor units; null with no accepted case. */
  costPerAcceptedCaseMinor: z.number().nullable(),
});

export const GroupReport = z.object({
  /** The workforce id, annotator (`<workforce>/<annotator>`), round number, protocol (id@version) or attribute value. */
  key: z.string(),
  classification: ClassificationFigures.nullable(),
  segmentation: SegmentationFigures.nullable(),
  detection: DetectionFigures.nullable(),
  /** Per batch figures: by workforce, round and protocol; null by annotator and subgroup (a batch is not split by them). */
  operations: OperationsFigures.nullable(),
});
export type GroupReport = z.infer<typeof GroupReport>;

export const PairAgreementFigures = z.object({
  a: z.string(),
  b: z.string(),
  /** Cases both labelled. */
  n: z.number().int().min(0),
  percentAgreement: Proportion,
  kappa: Estimate,
  ac1: Estimate,
});

export const AgreementFigures = z.object({
  /** Who the raters are: workforces, or annotators (`<workforce>/<annotator>`) when grouped by annotator. */
  raters: z.array(z.string()),
  /** Cases labelled by two or more raters (gold items and adjudications left out). */
  overlapCases: z.number().int().min(0),
  kappaWeights: z.enum(['none', 'linear', 'quadratic']),
  /** The annotator × annotator (or workforce × workforce) matrix: one entry per pair with n > 0. */
  pairs: z.array(PairAgreementFigures),
  /** Over cases with three or more raters (the modal rater count); null below three raters. */
  fleissKappa: Estimate.nullable(),
  /** Over every overlap case (missing ratings allowed); null below three raters. */
  krippendorffAlpha: Estimate.nullable(),
});

export const DawidSkeneFigures = z.object({
  classes: z.array(z.string()),
  priors: z.array(z.number()),
  iterations: z.number().int().min(0),
  converged: z.boolean(),
  raters: z.array(
    z.object({
      rater: z.string(),
      answers: z.number().int().min(0),
      /** confusion[t][l] = P(answers classes[l] | true classes[t]). */
      confusion: z.array(z.array(z.number())),
      /** The largest off-diagonal entry: the confusion this rater makes most. */
      worstConfusion: z.object({ trueClass: z.string(), answered: z.string(), probability: z.number() }).nullable(),
    }),
  ),
  /** The consensus Dawid–Skene implies: cases per class, and on overlap cases the label with its posterior. */
  consensusCounts: z.record(z.string(), z.number().int().min(0)),
  overlapConsensus: z.array(z.object({ caseId: z.string(), label: z.string(), posterior: z.number() })),
});

export const StapleFigures = z.object({
  /** Per case three or more raters segmented, per structure: the consensus and each rater against it. */
  cases: z.array(
    z.object({
      caseId: z.string(),
      structure: z.string(),
      consensusVoxels: z.number().int().min(0),
      iterations: z.number().int().min(0),
      converged: z.boolean(),
      raters: z.array(z.object({ rater: z.string(), sensitivity: z.number().nullable(), specificity: z.number().nullable() })),
    }),
  ),
  /** Per rater: the mean sensitivity and specificity over the cases it segmented. */
  raters: z.array(z.object({ rater: z.string(), cases: z.number().int().min(0), meanSensitivity: z.number().nullable(), meanSpecificity: z.number().nullable() })),
  notes: z.array(z.string()),
});

/** Subgroup diagnosis (functions/domain/quality/subgroups.ts): each workforce's subgroups against its own rest. */
export const SubgroupDiagnosisFigures = z.object({
  attribute: z.string(),
  correction: z.enum(['holm', 'benjamini-hochberg']),
  correctionName: z.string(),
  test: z.string(),
  alpha: z.number(),
  confidence: z.number(),
  tests: z.number().int().min(0),
  rows: z.array(
    z.object({
      unit: z.string(),
      value: z.string(),
      n: z.number().int().min(0),
      correct: z.number().int().min(0),
      accuracy: z.number().nullable(),
      lower: z.number().nullable(),
      upper: z.number().nullable(),
      rest: z.object({ n: z.number().int().min(0), correct: z.number().int().min(0), accuracy: z.number().nullable() }),
      pValue: z.number().nullable(),
      adjustedPValue: z.number().nullable(),
      flagged: z.boolean(),
      insufficient: z.boolean(),
    }),
  ),
});

export const QualityReport = z.object({
  programId: z.string(),
  /** The protocol version whose task, classes and minimum the report uses (the latest with labels). */
  protocol: z.string(),
  taskType: z.enum(['classification', 'detection', 'segmentation']),
  by: z.string(),
  minGoldItems: z.number().int().min(1),
  /** How each interval was computed. */
  methods: z.object({ proportions: z.string(), agreement: z.string(), quantiles: z.string() }),
  groups: z.array(GroupReport),
  agreement: AgreementFigures.nullable(),
  dawidSkene: DawidSkeneFigures.nullable(),
  /** Segmentation: STAPLE where three or more raters segmented a case (null for other tasks, or when the masks were not read). */
  staple: StapleFigures.nullable(),
  /** By subgroup:<attribute>: each workforce's subgroups tested against its own rest, corrected for multiplicity; null otherwise. */
  subgroups: SubgroupDiagnosisFigures.nullable(),
  /** What the report could not compute, and why. */
  notes: z.array(z.string()),
});
export type QualityReport = z.infer<typeof QualityReport>;
