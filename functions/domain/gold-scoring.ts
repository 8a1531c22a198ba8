/**
 * Scoring a submission against its hidden gold items, and the batch verdict by
 * the protocol's acceptance rule (accept / reject / inconclusive). Dispatches on the protocol's task type:
 * classification (label match, κ), detection (LUNA16 lesion matching, critical
 * misses) and segmentation (Dice, HD95, NSD on run-length masks).
 */
import type {
  BatchItem,
  BatchScore,
  ClassificationLabelLine,
  DetectionLabelLine,
  DetectionTask,
  GoldAnswer,
  GoldItemScore,
  LabelLine,
  ProtocolVersion,
  SegmentationTask,
} from './model/index.js';
import { GoldFinding, protocolRef } from './model/index.js';
import { decideGold, verdictOf } from './batch-verdict.js';
import { z } from 'zod';

const DetectionGold = z.object({ findings: z.array(GoldFinding) });
import {
  type Lesion,
  type LesionMark,
  type MetricResult,
  type RleMask3D,
  cohenKappa,
  diceRle,
  isDefined,
  parseRle3d,
  scoreLesionItem,
  surfaceDistances,
  wilsonInterval,
} from './scoring/index.js';

export interface ScoreInput {
  batchId: string;
  workforceId: string;
  protocol: ProtocolVersion;
  items: readonly BatchItem[];
  /** alias → submitted label */
  labels: ReadonlyMap<string, string>;
  /** caseId → gold answer (only the batch's gold items are needed) */
  answers: ReadonlyMap<string, string>;
}

export interface SubmissionScoreInput {
  batchId: string;
  workforceId: string;
  protocol: ProtocolVersion;
  items: readonly BatchItem[];
  /** alias → validated label line */
  lines: ReadonlyMap<string, LabelLine>;
  /** alias → decoded masks (segmentation) */
  masks?: ReadonlyMap<string, RleMask3D[]>;
  /** caseId → gold answer */
  answers: ReadonlyMap<string, GoldAnswer>;
}

const num = (m: MetricResult): number | null => (isDefined(m) ? m.value : null);
const fmt = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

/** Gold items of the batch with their answer and submitted line; throws if one is missing. */
function goldPairs<A>(
  items: readonly BatchItem[],
  answerOf: (caseId: string) => A | undefined,
  lineOf: (alias: string) => LabelLine | undefined,
  batchId: string,
): { item: BatchItem; answer: A; line: LabelLine }[] {
  return items
    .filter((i) => i.gold)
    .map((item) => {
      const answer = answerOf(item.caseId);
      if (answer === undefined) throw new Error(`gold answer missing for case ${item.caseId} in batch ${batchId}`);
      const line = lineOf(item.alias);
      if (line === undefined) throw new Error(`label missing for alias ${item.alias} in batch ${batchId}`);
      return { item, answer, line };
    });
}

/**
 * The verdict shared by every task, by the protocol's acceptance rule on this
 * batch's gold alone (accept, reject, or inconclusive: more gold decides — the
 * lifecycle pools a vendor's carried batches in, batch-verdict.ts); blockers
 * (e.g. a critical miss) reject regardless. The decision's reason is the first note.
 */
function verdictFor(
  base: Pick<BatchScore, 'batchId' | 'workforceId' | 'protocol' | 'taskType'>,
  protocol: ProtocolVersion,
  items: GoldItemScore[],
  extra: { kappa: MetricResult | null; summary: Record<string, number | null>; blockers: string[]; notes: string[] },
): BatchScore {
  const n = items.length;
  const correct = items.filter((i) => i.correct).length;
  const w = wilsonInterval(correct, n);
  const decision = decideGold(protocol, { n, wrong: n - correct, blockers: extra.blockers });
  const verdict = verdictOf(decision.decision);
  const notes = [decision.reason, ...extra.notes];
  if (!isDefined(w.estimate)) notes.push(`accuracy undefined: ${w.estimate.reason}`);
  if (extra.kappa && !isDefined(extra.kappa)) notes.push(`κ undefined: ${extra.kappa.reason}`);
  for (const b of extra.blockers) notes.push(b);
  if (n > correct) {
    const what = base.taskType === 'classification' ? 'gold accuracy' : 'gold items passed';
    notes.push(`${what} ${fmt(w.estimate.value)} (${correct}/${n})`);
    for (const i of items.filter((x) => !x.correct && x.reasons?.length)) notes.push(`gold item ${i.caseId}: ${i.reasons!.join('; ')}`);
  }
  return {
    ...base,
    goldN: n,
    goldCorrect: correct,
    accuracy: isDefined(w.estimate) ? w.estimate.value : null,
    interval: isDefined(w.estimate) ? { lower: w.lower, upper: w.upper } : null,
    kappa: extra.kappa && isDefined(extra.kappa) ? extra.kappa.value : null,
    summary: extra.summary,
    verdict,
    decision,
    notes,
    items,
  };
}

/**
 * Classification scoring: accuracy on gold items with a Wilson 95% interval and
 * Cohen's κ against the expert answers (labels = the protocol's classes, so
 * unused classes do not change weighted κ; quadratic weights for ordinal scales).
 */
export function scoreClassificationSubmission(input: ScoreInput): BatchScore {
  const { protocol } = input;
  if (protocol.task.type !== 'classification') throw new Error(`protocol ${protocolRef(protocol)} is not a classification protocol`);
  const task = protocol.task;
  const pairs = goldPairs(
    input.items,
    (id) => input.answers.get(id),
    (alias) => {
      const label = input.labels.get(alias);
      return label === undefined ? undefined : { alias, label, annotator: '' };
    },
    input.batchId,
  );
  const items: GoldItemScore[] = pairs.map(({ item, answer, line }) => {
    const got = (line as ClassificationLabelLine).label;
    return { caseId: item.caseId, expected: answer, got, correct: got === answer };
  });
  const kappa = cohenKappa(
    items.map((i) => i.got!),
    items.map((i) => i.expected!),
    { labels: task.classes, weights: task.ordinal ? 'quadratic' : 'none' },
  );
  return verdictFor(
    { batchId: input.batchId, workforceId: input.workforceId, protocol: protocolRef(protocol), taskType: 'classification' },
    protocol,
    items,
    { kappa, summary: {}, blockers: [], notes: [] },
  );
}

/**
 * Detection scoring (LUNA16 rule, see scoring/detection.ts): per gold item, marks
 * hit findings strictly inside their radius; the item passes when sensitivity
 * reaches the task's minimum, false marks stay within the allowance and no
 * finding at or above the critical diameter is missed. A critical miss on any
 * gold item rejects the batch, named in the verdict.
 */
function scoreDetection(input: SubmissionScoreInput, task: DetectionTask): BatchScore {
  const pairs = goldPairs(input.items, (id) => input.answers.get(id), (a) => input.lines.get(a), input.batchId);
  const blockers: string[] = [];
  let tp = 0;
  let fn = 0;
  let fp = 0;
  const items: GoldItemScore[] = pairs.map(({ item, answer, line }) => {
    const gold = DetectionGold.safeParse(answer);
    if (!gold.success) throw new Error(`gold answer of case ${item.caseId} is not a findings list`);
    const lesions: Lesion[] = gold.data.findings.map((f, k) => ({ ...f, id: f.id ?? `finding-${k + 1}` }));
    const marks: LesionMark[] = (line as DetectionLabelLine).findings.map((f) => ({ x: f.x, y: f.y, z: f.z, probability: f.probability }));
    const s = scoreLesionItem(marks, lesions, { criticalDiameterMm: task.criticalDiameterMm });
    tp += s.tp;
    fn += s.fn;
    fp += s.fp;
    const reasons: string[] = [];
    const criticalMisses = s.criticalMisses.map((m) => ({
      finding: task.finding,
      ...(m.id !== undefined ? { findingId: m.id } : {}),
      diameterMm: m.diameterMm,
      criticalDiameterMm: task.criticalDiameterMm,
    }));
    for (const m of criticalMisses) {
      const text = `missed a ${fmt(m.diameterMm, 1)} mm ${m.finding} (critical size ${m.criticalDiameterMm} mm)`;
      reasons.push(text);
      blockers.push(`critical miss on gold item ${item.caseId}: ${text}`);
    }
    const sens = s.sensitivity;
    if (isDefined(sens) && sens.value < task.minSensitivity) {
      reasons.push(`sensitivity ${fmt(sens.value)} (${s.tp}/${s.tp + s.fn}) below ${task.minSensitivity}`);
    }
    if (s.fp > task.maxFalsePositivesPerItem) {
      reasons.push(`${s.fp} false-positive marks (allowance ${task.maxFalsePositivesPerItem})`);
    }
    return {
      caseId: item.caseId,
      correct: reasons.length === 0,
      metrics: { tp: s.tp, fp: s.fp, fn: s.fn, sensitivity: num(s.sensitivity), precision: num(s.precision), f1: num(s.f1) },
      reasons,
      ...(criticalMisses.length > 0 ? { criticalMisses } : {}),
    };
  });
  return verdictFor(
    { batchId: input.batchId, workforceId: input.workforceId, protocol: protocolRef(input.protocol), taskType: 'detection' },
    input.protocol,
    items,
    {
      kappa: null,
      summary: { sensitivity: tp + fn > 0 ? tp / (tp + fn) : null, falsePositivesPerItem: items.length ? fp / items.length : null },
      blockers,
      notes: [],
    },
  );
}

/**
 * Segmentation scoring: per gold item and protocol label, Dice from run-length
 * masks and HD95 / NSD from surface distances (anisotropic spacing), by the
 * protocol's `metricConvention` (Goldline's by default), which every item
 * records. The item passes when every label reaches the Dice floor and stays
 * under the HD95 ceiling; a mask on another grid than the reference fails.
 */
function scoreSegmentation(input: SubmissionScoreInput, task: SegmentationTask): BatchScore {
  const pairs = goldPairs(input.items, (id) => input.answers.get(id), (a) => input.lines.get(a), input.batchId);
  const labels = Object.keys(task.labels).map(Number);
  const dices: number[] = [];
  const hd95s: number[] = [];
  const items: GoldItemScore[] = pairs.map(({ item, answer }) => {
    const reference = parseRle3d(answer);
    const got = input.masks?.get(item.alias);
    if (!got) throw new Error(`decoded mask missing for alias ${item.alias} in batch ${input.batchId}`);
    const reasons: string[] = [];
    const metrics: Record<string, number | null> = {};
    const conventions = new Set<string>();
    const ref0 = reference[0];
    const sub0 = got[0];
    if (sub0 && ref0 && sub0.dims.some((d, k) => d !== ref0.dims[k])) {
      reasons.push(`mask grid [${sub0.dims.join('×')}] differs from the image grid [${ref0.dims.join('×')}]`);
      return { caseId: item.caseId, correct: false, metrics, reasons };
    }
    for (const label of labels) {
      const name = task.labels[String(label)];
      const empty = (like: RleMask3D): RleMask3D => ({ ...like, label, runs: new Uint32Array(0) });
      const a = got.find((m) => m.label === label) ?? empty(sub0 ?? ref0);
      const b = reference.find((m) => m.label === label) ?? empty(ref0 ?? sub0);
      // Use the reference's spacing: the image grid is the expert's.
      const sub = { ...a, spacing: b.spacing };
      // The protocol's metric convention, named on every figure and stored with the item.
      const convention = task.metricConvention ?? 'goldline';
      const d = diceRle(sub, b, { convention });
      const sd = surfaceDistances(sub, b, { tolerances: [task.nsdToleranceMm], convention });
      conventions.add(d.convention ?? convention).add(sd.convention ?? convention);
      metrics[`dice:${name}`] = num(d);
      metrics[`hd95Mm:${name}`] = Number.isFinite(sd.hd95.value) ? sd.hd95.value : null;
      metrics[`nsd@${task.nsdToleranceMm}mm:${name}`] = num(sd.nsd[task.nsdToleranceMm]);
      if (!isDefined(d)) {
        reasons.push(`${name}: Dice undefined (${d.reason})`);
        continue;
      }
      dices.push(d.value);
      if (Number.isFinite(sd.hd95.value)) hd95s.push(sd.hd95.value);
      if (d.value < task.minDice) reasons.push(`${name}: Dice ${fmt(d.value)} below ${task.minDice}`);
      if (!(sd.hd95.value <= task.maxHd95Mm)) {
        reasons.push(`${name}: HD95 ${fmt(sd.hd95.value, 2)} mm above ${task.maxHd95Mm} mm`);
      }
    }
    return { caseId: item.caseId, correct: reasons.length === 0, metrics, metricConvention: [...conventions].join(', '), reasons };
  });
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);
  return verdictFor(
    { batchId: input.batchId, workforceId: input.workforceId, protocol: protocolRef(input.protocol), taskType: 'segmentation' },
    input.protocol,
    items,
    { kappa: null, summary: { meanDice: mean(dices), meanHd95Mm: mean(hd95s) }, blockers: [], notes: [] },
  );
}

/**
 * Scores a validated submission against the batch's gold items, by the
 * protocol's task type. Pure: the caller loads the lines, masks and answers.
 *
 * @example scoreSubmissionAgainstGold({ batchId, workforceId, protocol, items, lines, masks, answers }).verdict
 */
export function scoreSubmissionAgainstGold(input: SubmissionScoreInput): BatchScore {
  const score = scoreByTask(input);
  // Each gold item's annotator, from its line: a held batch's report and exports have no stored label to ask.
  const aliasOf = new Map(input.items.filter((i) => i.gold).map((i) => [i.caseId, i.alias]));
  const items = score.items.map((item) => {
    const annotator = input.lines.get(aliasOf.get(item.caseId) ?? '')?.annotator;
    return annotator ? { ...item, annotatorId: annotator } : item;
  });
  return { ...score, items };
}

function scoreByTask(input: SubmissionScoreInput): BatchScore {
  const task = input.protocol.task;
  switch (task.type) {
    case 'classification': {
      const labels = new Map<string, string>();
      for (const [alias, line] of input.lines) labels.set(alias, (line as ClassificationLabelLine).label);
      const answers = new Map<string, string>();
      for (const [caseId, a] of input.answers) {
        if (typeof a !== 'string') throw new Error(`gold answer of case ${caseId} is not a class label`);
        answers.set(caseId, a);
      }
      return scoreClassificationSubmission({ ...input, labels, answers });
    }
    case 'detection':
      return scoreDetection(input, task);
    case 'segmentation':
      return scoreSegmentation(input, task);
  }
}
