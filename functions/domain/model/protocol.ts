/**
 * Protocol versions: the rules a program manager writes. Immutable once a batch
 * has used them; every batch, label and ledger event records `id@version`.
 */
import { MAX_BATCH_CASES } from '../item-size.js';
import { z } from 'zod';
import { DeidentificationSettings } from './deidentification-settings.js';
import { closestName } from '../spelling.js';
import { ProtocolAcceptance } from './protocol-acceptance.js';
import { ProtocolDrift } from './protocol-drift.js';
import { ProtocolQualification } from './qualification.js';

export * from './protocol-acceptance.js';
export * from './protocol-drift.js';

export const Identifier = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, ".", "_" or "-", at most 64 characters');

/**
 * The flags a case carries (`Case.flags`, model/case.ts): the only keys a
 * `flags.<key>` condition can name. A test keeps the two lists equal.
 */
export const CASE_FLAGS = ['sensitive', 'rare', 'complex'] as const;
export type CaseFlag = (typeof CASE_FLAGS)[number];

/** Case attributes a condition names directly, with their type. */
export const FIXED_ATTRIBUTES = { modality: 'text', bodyPart: 'text', site: 'text', scanner: 'text', deidentified: 'boolean' } as const;

/** A subgroup key: `ageBand`, `sex`, `site_group`. */
export const SubgroupKey = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'a letter, then letters, digits, "_" or "-", at most 64 characters');

/**
 * What the program's cases carry beyond the fixed attributes, so that a rule on
 * a misspelt key or value is refused instead of silently never matching:
 * the flags the program uses (a subset of `CASE_FLAGS`; omitted: all of them)
 * and each subgroup key with the values it takes. A rule on `subgroup.<key>`
 * needs the key declared here.
 *
 * @example { flags: ['sensitive', 'rare'], subgroup: { ageBand: ['0-17', '18-64', '65+'], sex: ['F', 'M'] } }
 */
export const AttributeDeclaration = z.strictObject({
  flags: z.array(z.enum(CASE_FLAGS)).optional(),
  subgroup: z.record(SubgroupKey, z.array(z.string().min(1)).min(1)).optional(),
});
export type AttributeDeclaration = z.infer<typeof AttributeDeclaration>;

export type AttributeType = 'text' | 'boolean';

/** What a condition's attribute names, or why it names nothing a case carries. */
export type ResolvedAttribute =
  | { ok: true; type: AttributeType; /** Declared values (subgroup keys). */ values?: readonly string[] }
  | { ok: false; message: string };

const quoteList = (xs: readonly string[]): string => xs.map((x) => JSON.stringify(x)).join(', ');

/**
 * Resolves a condition's attribute against the fixed attributes, the flags a
 * case carries and the protocol's declaration, with a "did you mean" for a slip.
 *
 * @example resolveAttribute('flags.sensitve', undefined) // { ok: false, message: 'unknown attribute "flags.sensitve": did you mean "flags.sensitive"?' }
 */
export function resolveAttribute(attribute: string, declared: AttributeDeclaration | undefined): ResolvedAttribute {
  const fixed = FIXED_ATTRIBUTES[attribute as keyof typeof FIXED_ATTRIBUTES];
  if (fixed && Object.hasOwn(FIXED_ATTRIBUTES, attribute)) return { ok: true, type: fixed };
  const flags: readonly string[] = declared?.flags ?? CASE_FLAGS;
  const subgroup = declared?.subgroup ?? {};
  const known = [...Object.keys(FIXED_ATTRIBUTES), ...flags.map((f) => `flags.${f}`), ...Object.keys(subgroup).map((k) => `subgroup.${k}`)];
  const hint = (): string => {
    const near = closestName(attribute, known) ?? closestName(attribute, CASE_FLAGS.map((f) => `flags.${f}`));
    return near ? `: did you mean "${near}"?` : '';
  };
  const [root, key, ...rest] = attribute.split('.');
  if (root === 'flags' && key !== undefined && rest.length === 0) {
    if (!(CASE_FLAGS as readonly string[]).includes(key)) {
      return { ok: false, message: `unknown attribute ${JSON.stringify(attribute)}${hint() || ` (a case carries the flags ${CASE_FLAGS.join(', ')})`}` };
    }
    if (!flags.includes(key)) {
      return { ok: false, message: `"${attribute}" is not declared in attributes.flags (declared: ${flags.join(', ') || 'none'})` };
    }
    return { ok: true, type: 'boolean' };
  }
  if (root === 'subgroup' && key !== undefined && rest.length === 0) {
    if (!declared?.subgroup) {
      return {
        ok: false,
        message: `"${attribute}" is not declared: declare the subgroup key and its values in attributes.subgroup (e.g. attributes: { subgroup: { ${SubgroupKey.safeParse(key).success ? key : 'ageBand'}: [...] } }) before a rule uses it`,
      };
    }
    const values = Object.hasOwn(subgroup, key) ? subgroup[key] : undefined;
    if (!values) {
      const keys = Object.keys(subgroup);
      return { ok: false, message: `unknown attribute ${JSON.stringify(attribute)}${hint() || ''} (declared subgroup keys: ${keys.join(', ') || 'none'})` };
    }
    return { ok: true, type: 'text', values };
  }
  return {
    ok: false,
    message: `unknown attribute ${JSON.stringify(attribute)}${hint() || ` (known: ${Object.keys(FIXED_ATTRIBUTES).join(', ')}, flags.<flag>, subgroup.<key>)`}`,
  };
}

/**
 * Problems of one condition against the attribute it names: the attribute
 * exists, the operator suits its type (a flag is true or false; text is
 * compared with equals, notEquals or in) and compared values are of its type
 * and, for a subgroup key, among its declared values. Paths are relative to the
 * condition.
 */
export function conditionProblems(cond: Condition, declared: AttributeDeclaration | undefined): { path: (string | number)[]; message: string }[] {
  const attr = resolveAttribute(cond.attribute, declared);
  if (!attr.ok) return [{ path: ['attribute'], message: attr.message }];
  const out: { path: (string | number)[]; message: string }[] = [];
  const checkValue = (value: unknown, path: (string | number)[]) => {
    if (attr.type === 'boolean') {
      if (typeof value !== 'boolean') out.push({ path, message: `${cond.attribute} is true or false, got ${JSON.stringify(value)} (or use isTrue / isFalse)` });
      return;
    }
    if (typeof value !== 'string') {
      out.push({ path, message: `${cond.attribute} is text, got ${typeof value} ${JSON.stringify(value)} (write it in quotes)` });
      return;
    }
    if (attr.values && !attr.values.includes(value)) {
      const near = closestName(value, attr.values);
      out.push({
        path,
        message: `${JSON.stringify(value)} is not a declared value of ${cond.attribute} (declared: ${quoteList(attr.values)})${near ? `: did you mean ${JSON.stringify(near)}?` : ''}`,
      });
    }
  };
  switch (cond.op) {
    case 'isTrue':
    case 'isFalse':
      if (attr.type !== 'boolean') {
        out.push({ path: ['op'], message: `${cond.attribute} is text, not true or false: ${cond.op} can never be decided by it (use equals, notEquals or in)` });
      }
      break;
    case 'equals':
    case 'notEquals':
      checkValue(cond.value, ['value']);
      break;
    case 'in':
      if (attr.type === 'boolean') out.push({ path: ['op'], message: `${cond.attribute} is true or false: use isTrue or isFalse, not in` });
      else for (const [k, v] of cond.values.entries()) checkValue(v, ['values', k]);
      break;
  }
  return out;
}

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
  /** Whose metric conventions score the items (docs/metrics-conventions.md); omitted: Goldline's. */
  metricConvention: z.enum(['goldline', 'monai', 'deepmind']).optional(),
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
    /**
     * How a batch's gold decides it (issue 11): AQL / RQL, the two risks, the rule
     * (`sprt` | `single-plan`), switching rules and the internal teams' gold rate;
     * see model/protocol-acceptance.ts. Absent in an old document: the defaults
     * apply (`acceptanceOf`), and validate / the dry run print a migration note.
     */
    acceptance: ProtocolAcceptance.optional(),
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
    /** At most MAX_BATCH_CASES: a batch's events list its case ids, and the largest must fit DynamoDB's item limit. */
    batchSize: z.number().int().min(1).max(MAX_BATCH_CASES),
    /** Default SLA for a batch when the workforce does not set its own. */
    slaHours: z.number().positive().max(24 * 365),
    /**
     * Optional: a waiting batch must show a sign of life (the vendor reads its
     * batch, asks for an upload slot, or uploads) at least this often, else it is
     * closed as silent. Omitted: only the SLA applies.
     */
    heartbeatHours: z.number().positive().optional(),
    /** The flag and subgroup keys (and subgroup values) this program's cases carry; see `AttributeDeclaration`. */
    attributes: AttributeDeclaration.optional(),
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
    /**
     * What the de-identification gate accepts (model/deidentification-settings.ts):
     * PS3.15 options (default none), the root of re-generated UIDs, the form of pseudonyms.
     */
    deidentification: DeidentificationSettings.prefault({}),
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
    /** Drift charts on per-batch gold results (CUSUM, EWMA; model/protocol-drift.ts). Absent: the defaults (`driftOf`). */
    drift: ProtocolDrift.optional(),
    /**
     * The annotation instructions the workforce works from. A change beyond
     * whitespace is material: workforces qualify again (functions/domain/qualification.ts).
     */
    instructions: z.string().min(1).max(100_000).optional(),
    /** Qualification exams before production work (model/qualification.ts). Absent: no workforce needs one. */
    qualification: ProtocolQualification.optional(),
    createdBy: z.string().min(1),
    createdAt: z.iso.datetime(),
  })
  .superRefine((p, ctx) => {
    const ids = new Set<string>();
    for (const [i, r] of p.routing.rules.entries()) {
      if (ids.has(r.id)) ctx.addIssue({ code: 'custom', path: ['routing', 'rules', i, 'id'], message: `duplicate rule id "${r.id}"` });
      ids.add(r.id);
      for (const [j, cond] of r.when.entries()) {
        for (const problem of conditionProblems(cond, p.attributes)) {
          ctx.addIssue({ code: 'custom', path: ['routing', 'rules', i, 'when', j, ...problem.path], message: problem.message });
        }
      }
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
