/**
 * Protocol versions: the rules a program manager writes. Immutable once a batch
 * has used them; every batch, label and ledger event records `id@version`.
 */
import { z } from 'zod';

export const Identifier = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, ".", "_" or "-", at most 64 characters');

/** A condition on one case attribute. Paths: `modality`, `bodyPart`, `site`, `scanner`, `subgroup.<k>`, `flags.<k>`, `deidentified`. */
export const Condition = z.discriminatedUnion('op', [
  z.object({ attribute: z.string().min(1), op: z.literal('equals'), value: z.union([z.string(), z.boolean(), z.number()]) }),
  z.object({ attribute: z.string().min(1), op: z.literal('notEquals'), value: z.union([z.string(), z.boolean(), z.number()]) }),
  z.object({ attribute: z.string().min(1), op: z.literal('in'), values: z.array(z.union([z.string(), z.number()])).min(1) }),
  z.object({ attribute: z.string().min(1), op: z.literal('isTrue') }),
  z.object({ attribute: z.string().min(1), op: z.literal('isFalse') }),
]);
export type Condition = z.infer<typeof Condition>;

export const Route = z.discriminatedUnion('pool', [
  z.object({
    pool: z.literal('internal'),
    qualifications: z.array(z.string()).default([]),
    /**
     * When internal capacity runs out, may these cases go to qualified vendors?
     * Never for a case the de-identification gate kept inside.
     */
    overflowToVendors: z.boolean().default(false),
  }),
  z.object({ pool: z.literal('vendor'), qualifications: z.array(z.string()).default([]) }),
  z.object({ pool: z.literal('exclude') }),
]);
export type Route = z.infer<typeof Route>;

export const RoutingRule = z.object({
  id: Identifier,
  /** All conditions must hold (AND). An empty list matches every case. */
  when: z.array(Condition).default([]),
  route: Route,
  /** Why the rule exists, in the PM's words; repeated in every explanation. */
  reason: z.string().min(1),
});
export type RoutingRule = z.infer<typeof RoutingRule>;

export const ClassificationTask = z.object({
  type: z.literal('classification'),
  /** The label scale. For ordinal grades, in order (weights use positions). */
  classes: z.array(z.string().min(1)).min(2),
  ordinal: z.boolean().default(false),
});
export type ClassificationTask = z.infer<typeof ClassificationTask>;

/**
 * Lesion detection by centroid and diameter (LUNA16 style): a mark hits a
 * finding when it lies strictly inside its radius. Missing a finding at or above
 * the critical diameter on a gold item rejects the batch.
 */
export const DetectionTask = z.object({
  type: z.literal('detection'),
  finding: z.string().min(1).default('nodule'),
  criticalDiameterMm: z.number().positive(),
  /** A gold item passes when its sensitivity reaches this (items with no findings: no false marks beyond the allowance). */
  minSensitivity: z.number().min(0).max(1).default(1),
  maxFalsePositivesPerItem: z.number().int().min(0).default(2),
});
export type DetectionTask = z.infer<typeof DetectionTask>;

/**
 * 3D (or 2D) segmentation: masks uploaded as NIfTI or goldline-rle3d/1. A gold
 * item passes when every protocol label reaches the Dice floor and stays under
 * the HD95 ceiling.
 */
export const SegmentationTask = z.object({
  type: z.literal('segmentation'),
  /** Mask label value → structure name, e.g. { "1": "liver" }. */
  labels: z.record(z.string().regex(/^([1-9]\d?|1\d\d|2[0-4]\d|25[0-5])$/), z.string().min(1)).refine((r) => Object.keys(r).length > 0, 'at least one label'),
  minDice: z.number().min(0).max(1),
  maxHd95Mm: z.number().positive(),
  /** NSD tolerance reported beside Dice and HD95. */
  nsdToleranceMm: z.number().positive().default(2),
});
export type SegmentationTask = z.infer<typeof SegmentationTask>;

export const Task = z.discriminatedUnion('type', [ClassificationTask, DetectionTask, SegmentationTask]);
export type Task = z.infer<typeof Task>;

export const ProtocolVersion = z
  .object({
    protocolId: Identifier,
    version: z.number().int().positive(),
    title: z.string().min(1),
    task: Task,
    thresholds: z.object({
      /**
       * Minimum share of gold items a batch must get right (classification: the
       * label matches; detection / segmentation: the item passes the task's
       * per-item check). Point estimate.
       */
      goldAccuracy: z.number().min(0).max(1),
      /** Fewer gold items than this: the figure is "insufficient", not a verdict. */
      minGoldItems: z.number().int().min(1).default(5),
    }),
    /** Fraction of each vendor batch's items that are hidden gold. */
    goldRate: z.number().min(0).max(0.5),
    /**
     * Fraction of vendor-routed cases also sent to a second workforce (another
     * vendor, or the internal team) for agreement; disagreements go to an expert.
     */
    overlapRate: z.number().min(0).max(0.5).default(0),
    /** Who labels the second copy of an overlap case: another vendor first (`any`), only vendors, or only internal experts. */
    overlapWith: z.enum(['any', 'vendor', 'internal']).default('any'),
    /** A vendor never sees the same gold case again within this many of its batches. */
    goldReuseCap: z.number().int().min(0).default(3),
    /** Vendors on probation get more gold (and, through rebalancing, less work). */
    probation: z
      .object({
        goldRate: z.number().min(0).max(0.5).default(0.25),
        /** Lower Wilson bound below which a vendor is suspended rather than put on probation. */
        suspendBelow: z.number().min(0).max(1).default(0.4),
      })
      .prefault({}),
    /** What a rejected batch costs the vendor: fraction of the batch's price withheld as penalty. */
    rejectionPenalty: z.number().min(0).max(1).default(1),
    adjudication: z
      .object({
        /** Overlap items whose labels disagree go to an internal expert. */
        onOverlapDisagreement: z.boolean().default(true),
        /** A gold item failed with a critical miss goes to an internal expert. */
        onCriticalMiss: z.boolean().default(true),
        /** Qualification an adjudicating expert must hold. */
        expertQualification: z.string().default('adjudicator'),
        slaHours: z.number().positive().default(72),
      })
      .prefault({}),
    batchSize: z.number().int().min(1).max(10_000),
    /** Default SLA for a batch when the workforce does not set its own. */
    slaHours: z.number().positive().max(24 * 365),
    /**
     * Optional: a waiting batch must show a sign of life (the vendor reads its
     * batch, asks for an upload slot, or uploads) at least this often, else it is
     * closed as silent. Omitted: only the SLA applies.
     */
    heartbeatHours: z.number().positive().optional(),
    routing: z.object({
      rules: z.array(RoutingRule),
      default: Route,
      /**
       * A case that fails the de-identification gate (no attestation, or
       * identifying DICOM attributes) never reaches a vendor: it is labelled
       * internally (`internal`) or held back for a PM (`quarantine`).
       */
      onDeidentificationFailure: z.enum(['internal', 'quarantine']).default('internal'),
    }),
    rebalancing: z
      .object({
        /** Quality floor on the lower Wilson bound of gold accuracy. */
        floor: z.number().min(0).max(1).default(0.7),
        /** How far shares move toward the quality target each round (0..1]. */
        learningRate: z.number().gt(0).max(1).default(0.5),
        /** A vendor with shares never drops below this while above the floor. */
        minShare: z.number().min(0).max(1).default(0.05),
        /** Weight of cost per accepted case in the target (0 = quality only). */
        costWeight: z.number().min(0).max(2).default(0.25),
        /** `automatic`: new shares apply next round. `approval`: they wait for a PM. */
        mode: z.enum(['automatic', 'approval']).default('automatic'),
      })
      .prefault({}),
    createdBy: z.string().min(1),
    createdAt: z.iso.datetime(),
  })
  .superRefine((p, ctx) => {
    const ids = new Set<string>();
    for (const [i, r] of p.routing.rules.entries()) {
      if (ids.has(r.id)) ctx.addIssue({ code: 'custom', path: ['routing', 'rules', i, 'id'], message: `duplicate rule id "${r.id}"` });
      ids.add(r.id);
    }
    if (p.heartbeatHours !== undefined && p.heartbeatHours > p.slaHours) {
      ctx.addIssue({ code: 'custom', path: ['heartbeatHours'], message: 'heartbeatHours must not exceed slaHours' });
    }
  });
export type ProtocolVersion = z.infer<typeof ProtocolVersion>;
export type ProtocolVersionInput = z.input<typeof ProtocolVersion>;

/** `chest-xray@1`: how batches, labels and ledger events name the protocol. */
export const protocolRef = (p: Pick<ProtocolVersion, 'protocolId' | 'version'>): string =>
  `${p.protocolId}@${p.version}`;
