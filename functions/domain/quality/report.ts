/**
 * The QA lead's quality report (issue 12): every figure the scoring engine
 * computes, per workforce, annotator, round, protocol version or case attribute,
 * from what is stored — labels, batch scores against gold, batches, the ledger.
 * Pure: the use case (functions/use-cases/quality-report.ts) reads the inputs.
 *
 * Gold figures come from the stored per-gold-item results (BatchScore.items);
 * agreement and Dawid–Skene from the workforces' own labels (report-agreement.ts);
 * operations from the ledger's batch events (report-operations.ts).
 */
import type { Batch, BatchScore, Case, LedgerEvent, ProtocolVersion, StoredLabel } from '../model/index.js';
import { type FrocScan, type Lesion, LUNA16_FP_RATES, froc, isDefined } from '../scoring/index.js';
import { type RaterAnswer, dawidSkeneView, overlapAgreement } from './report-agreement.js';
import { distribution, groupBy, proportion } from './report-figures.js';
import { operationsFigures } from './report-operations.js';
import { type StapleCaseMasks, stapleView } from './report-staple.js';
import { type Correction, diagnoseSubgroups } from './subgroups.js';
import type { GroupReport, QualityGrouping, QualityReport } from './report-schema.js';

/** Everything a report is computed from (one program, one protocol id). */
export interface QualityInputs {
  programId: string;
  /** The protocol version whose task, classes and minimum the report uses. */
  protocol: ProtocolVersion;
  by: QualityGrouping;
  /** By subgroup: the multiplicity correction of the subgroup tests (default Holm). */
  correction?: Correction;
  batches: readonly Pick<Batch, 'batchId' | 'round' | 'protocol' | 'workforceId' | 'status'>[];
  scores: readonly BatchScore[];
  /** The labels of those batches (every status). Adjudicated labels may be included: they are left out of agreement. */
  labels: readonly StoredLabel[];
  cases: readonly Pick<Case, 'caseId' | 'modality' | 'bodyPart' | 'site' | 'scanner' | 'subgroup' | 'flags'>[];
  events: readonly LedgerEvent[];
  /** Detection: the gold findings of gold cases (for FROC); omitted: FROC not computed. */
  goldFindings?: ReadonlyMap<string, readonly Lesion[]>;
  /** Segmentation: the masks of cases three or more raters segmented (for STAPLE); omitted: STAPLE not computed. */
  stapleCases?: readonly StapleCaseMasks[];
}

/** One scored gold item with where it belongs. */
interface GoldItemRow {
  batchId: string;
  caseId: string;
  workforceId: string;
  round: number;
  protocol: string;
  annotatorId?: string;
  item: BatchScore['items'][number];
}

export const REPORT_METHODS = {
  proportions: 'Wilson score interval, 95%',
  agreement:
    "Cohen's κ (quadratic weights on an ordinal scale), Gwet's AC1, Fleiss' κ and Krippendorff's α with percentile bootstrap 95% intervals over cases (1000 resamples, seed 1)",
  quantiles: 'linear interpolation between order statistics (numpy default)',
} as const;

/** An annotator's key: `<workforce>/<annotator>` (annotator ids that already start with their workforce are kept as they are). */
export const annotatorKey = (workforceId: string, annotatorId: string): string =>
  annotatorId.startsWith(`${workforceId}/`) ? annotatorId : `${workforceId}/${annotatorId}`;

/** A case's value of an attribute: site, modality, bodyPart, scanner, flags.<flag>, subgroup.<key> or a bare subgroup key. */
export function attributeValue(c: QualityInputs['cases'][number] | undefined, attribute: string): string {
  if (!c) return '(unknown case)';
  const fixed: Record<string, string | undefined> = { site: c.site, modality: c.modality, bodyPart: c.bodyPart, scanner: c.scanner };
  if (Object.hasOwn(fixed, attribute)) return fixed[attribute] ?? '(none)';
  const [root, key] = attribute.split('.');
  if (root === 'flags' && key) return String((c.flags as Record<string, boolean> | undefined)?.[key] ?? false);
  const sub = root === 'subgroup' && key ? key : attribute;
  return c.subgroup?.[sub] ?? '(none)';
}

/**
 * Builds the report.
 *
 * @example buildQualityReport({ programId: 'demo-cxr', protocol, by: 'workforce', batches, scores, labels, cases, events }).groups[0].classification?.goldAccuracy
 */
export function buildQualityReport(input: QualityInputs): QualityReport {
  const p = input.protocol;
  const minN = p.thresholds.minGoldItems;
  const mine = (ref: string) => ref.startsWith(`${p.protocolId}@`);
  const batches = new Map(input.batches.filter((b) => mine(b.protocol)).map((b) => [b.batchId, b]));
  const labels = input.labels.filter((l) => mine(l.protocol) && (batches.has(l.batchId) || l.adjudicationId));
  const cases = new Map(input.cases.map((c) => [c.caseId, c]));
  const notes: string[] = [];

  // Who answered each gold item: its stored label, else the score's line (a held batch has no label until it is decided).
  const goldAnnotator = new Map<string, string>();
  for (const l of labels) if (l.gold && !goldAnnotator.has(`${l.batchId}/${l.caseId}`)) goldAnnotator.set(`${l.batchId}/${l.caseId}`, l.annotatorId);
  const rows: GoldItemRow[] = [];
  for (const s of input.scores) {
    const b = batches.get(s.batchId);
    if (!b) continue;
    for (const item of s.items) {
      rows.push({ batchId: s.batchId, caseId: item.caseId, workforceId: s.workforceId, round: b.round, protocol: s.protocol, annotatorId: goldAnnotator.get(`${s.batchId}/${item.caseId}`) ?? item.annotatorId, item });
    }
  }

  const keyOf = groupKey(input.by, cases);
  const raterOf = (l: { workforceId: string; annotatorId: string }) => (input.by === 'annotator' ? annotatorKey(l.workforceId, l.annotatorId) : l.workforceId);
  const goldGroups = groupBy(rows, (r) => keyOf({ ...r, annotatorId: r.annotatorId ?? '(unknown)' }));
  const batchGroups = new Map<string, Set<string>>();
  if (input.by === 'workforce' || input.by === 'round' || input.by === 'protocol') {
    for (const b of batches.values()) {
      const k = input.by === 'workforce' ? b.workforceId : input.by === 'round' ? String(b.round) : b.protocol;
      batchGroups.set(k, (batchGroups.get(k) ?? new Set()).add(b.batchId));
    }
  }
  const keys = [...new Set([...goldGroups.keys(), ...batchGroups.keys()])];
  const numeric = keys.every((k) => /^\d+$/.test(k));
  keys.sort((a, b) => (numeric ? Number(a) - Number(b) : a.localeCompare(b)));

  const labelOf = new Map(labels.filter((l) => l.gold).map((l) => [`${l.batchId}/${l.caseId}`, l]));
  const groups: GroupReport[] = keys.map((key) => {
    const items = goldGroups.get(key) ?? [];
    const ids = batchGroups.get(key);
    return {
      key,
      classification: p.task.type === 'classification' ? classificationFigures(items, p.task.classes, minN) : null,
      segmentation: p.task.type === 'segmentation' ? segmentationFigures(items, minN) : null,
      detection: p.task.type === 'detection' ? detectionFigures(items, minN, labelOf, input.goldFindings) : null,
      operations: ids ? operationsFigures(ids, input.events, minN) : null,
    };
  });

  let agreement: QualityReport['agreement'] = null;
  let dawidSkene: QualityReport['dawidSkene'] = null;
  if (p.task.type === 'classification') {
    const classes = new Set(p.task.classes);
    const answers: RaterAnswer[] = [];
    let outside = 0;
    for (const l of [...labels].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.batchId.localeCompare(b.batchId))) {
      if (l.gold || l.adjudicationId) continue;
      if (!classes.has(l.label)) {
        outside++;
        continue;
      }
      answers.push({ caseId: l.caseId, rater: raterOf(l), label: l.label });
    }
    if (outside) notes.push(`${outside} label(s) outside the protocol's classes left out of agreement and Dawid–Skene`);
    const scale = { classes: p.task.classes, ordinal: p.task.ordinal, minN };
    agreement = overlapAgreement(answers, scale);
    dawidSkene = dawidSkeneView(answers, scale);
    if (agreement.overlapCases === 0) notes.push('no overlap case: no rater labelled a case another rater labelled, so there is no agreement to measure');
  } else {
    notes.push(`${p.task.type}: agreement and Dawid–Skene are classification figures; masks and findings are compared against gold`);
  }
  let stapleFigures: QualityReport['staple'] = null;
  if (p.task.type === 'segmentation') {
    if (input.stapleCases) {
      stapleFigures = stapleView(input.stapleCases, p.task.labels);
      if (stapleFigures.cases.length === 0) notes.push('STAPLE: no case was segmented by three or more raters');
    } else notes.push('STAPLE not computed: the masks were not read');
  }
  if (p.task.type === 'detection' && !input.goldFindings) notes.push('FROC not computed: the gold findings were not read');
  if (input.by === 'annotator' || input.by.startsWith('subgroup:')) notes.push('operations are per batch: not split by annotator or case attribute');

  return {
    programId: input.programId,
    protocol: `${p.protocolId}@${p.version}`,
    taskType: p.task.type,
    by: input.by,
    minGoldItems: minN,
    methods: { ...REPORT_METHODS },
    groups,
    agreement,
    dawidSkene,
    staple: stapleFigures,
    subgroups: input.by.startsWith('subgroup:')
      ? diagnoseSubgroups(
          rows.map((r) => ({ unit: r.workforceId, value: attributeValue(cases.get(r.caseId), input.by.slice('subgroup:'.length)), correct: r.item.correct })),
          { attribute: input.by.slice('subgroup:'.length), correction: input.correction ?? 'holm', minN },
        )
      : null,
    notes,
  };
}

function groupKey(by: QualityGrouping, cases: Map<string, QualityInputs['cases'][number]>) {
  return (r: { workforceId: string; annotatorId: string; round: number; protocol: string; caseId: string }): string => {
    if (by === 'workforce') return r.workforceId;
    if (by === 'annotator') return annotatorKey(r.workforceId, r.annotatorId);
    if (by === 'round') return String(r.round);
    if (by === 'protocol') return r.protocol;
    return attributeValue(cases.get(r.caseId), by.slice('subgroup:'.length));
  };
}

/** Gold accuracy, per-class sensitivity / specificity and the confusion matrix (rows gold, columns given). */
export function classificationFigures(items: readonly GoldItemRow[], classes: readonly string[], minN: number): NonNullable<GroupReport['classification']> {
  const index = new Map(classes.map((c, i) => [c, i]));
  const counts = classes.map(() => classes.map(() => 0));
  const pairs = items.filter((r) => r.item.expected !== undefined).map((r) => [r.item.expected as string, r.item.got] as const);
  for (const [e, g] of pairs) {
    const i = index.get(e);
    const j = g === undefined ? undefined : index.get(g);
    if (i !== undefined && j !== undefined) counts[i][j] += 1;
  }
  const perClass = classes.map((c) => {
    const pos = pairs.filter(([e]) => e === c);
    const neg = pairs.filter(([e]) => e !== c);
    return {
      class: c,
      sensitivity: proportion(pos.filter(([, g]) => g === c).length, pos.length, minN),
      specificity: proportion(neg.filter(([, g]) => g !== c).length, neg.length, minN),
    };
  });
  return { goldAccuracy: proportion(items.filter((r) => r.item.correct).length, items.length, minN), perClass, confusion: { classes: [...classes], counts } };
}

/** Gold pass rate and the distribution of every per-item metric (Dice, HD95, NSD per structure). */
export function segmentationFigures(items: readonly GoldItemRow[], minN: number): NonNullable<GroupReport['segmentation']> {
  const names = [...new Set(items.flatMap((r) => Object.keys(r.item.metrics ?? {})))].sort();
  return {
    goldPass: proportion(items.filter((r) => r.item.correct).length, items.length, minN),
    metrics: names.map((metric) => ({ metric, distribution: distribution(items.map((r) => r.item.metrics?.[metric] ?? null), minN) })),
  };
}

/** Gold pass rate, lesion sensitivity, false positives per image, and FROC/CPM where the gold findings are given. */
export function detectionFigures(
  items: readonly GoldItemRow[],
  minN: number,
  labelOf: ReadonlyMap<string, StoredLabel>,
  goldFindings: ReadonlyMap<string, readonly Lesion[]> | undefined,
): NonNullable<GroupReport['detection']> {
  let tp = 0;
  let fn = 0;
  let fp = 0;
  for (const r of items) {
    tp += r.item.metrics?.tp ?? 0;
    fn += r.item.metrics?.fn ?? 0;
    fp += r.item.metrics?.fp ?? 0;
  }
  let frocView: NonNullable<GroupReport['detection']>['froc'] = null;
  if (goldFindings) {
    const scans: FrocScan[] = [];
    for (const r of items) {
      const lesions = goldFindings.get(r.caseId);
      if (!lesions) continue;
      const marks = (labelOf.get(`${r.batchId}/${r.caseId}`)?.findings ?? []).map((f) => ({ x: f.x, y: f.y, z: f.z, probability: f.probability }));
      scans.push({ marks, lesions });
    }
    const f = froc(scans);
    const defined = isDefined(f.cpm);
    frocView = {
      points: f.sensitivityAtFpRates.map((s, i) => ({ fpRate: LUNA16_FP_RATES[i] ?? s.fpRate, sensitivity: isDefined(s.sensitivity) ? s.sensitivity.value : null })),
      cpm: defined ? f.cpm.value : null,
      lesions: f.lesions,
      scans: f.scans,
      note: defined ? null : (f.cpm.reason ?? null),
    };
  }
  return {
    goldPass: proportion(items.filter((r) => r.item.correct).length, items.length, minN),
    sensitivity: proportion(tp, tp + fn, minN),
    falsePositivesPerImage: { falsePositives: fp, images: items.length, value: items.length ? fp / items.length : null },
    froc: frocView,
  };
}
