/**
 * Agreement on overlap cases and the Dawid–Skene view of a quality report
 * (classification). Raters are workforces, or annotators (`<workforce>/<annotator>`).
 * The labels read are each rater's answers: gold items and adjudicated labels
 * (an expert's decision, not an answer) are left out; a rater's first label of a
 * case counts; a label outside the protocol's classes is left out with a note.
 */
import type { z } from 'zod';
import {
  type CategoryLabel,
  type KappaWeights,
  categoryCounts,
  cohenKappa,
  dawidSkene,
  fleissKappa,
  gwetAC1,
  krippendorffAlpha,
} from '../scoring/index.js';
import { bootstrapEstimate, proportion } from './report-figures.js';
import type { AgreementFigures, DawidSkeneFigures, Estimate } from './report-schema.js';

/** One rater's answer on a case. */
export interface RaterAnswer {
  caseId: string;
  rater: string;
  label: string;
}

/** The label scale and how disagreements weigh (quadratic on an ordinal scale). */
export interface AgreementScale {
  classes: readonly string[];
  ordinal: boolean;
  minN: number;
}

/** The κ weights a protocol implies: quadratic for ordinal grades, none otherwise. */
export const kappaWeightsFor = (ordinal: boolean): KappaWeights => (ordinal ? 'quadratic' : 'none');

/** Case → rater → label, each rater's first answer kept; raters sorted. */
export function answersByCase(answers: readonly RaterAnswer[]): { byCase: Map<string, Map<string, string>>; raters: string[] } {
  const byCase = new Map<string, Map<string, string>>();
  const raters = new Set<string>();
  for (const a of answers) {
    const m = byCase.get(a.caseId) ?? new Map<string, string>();
    byCase.set(a.caseId, m);
    if (!m.has(a.rater)) m.set(a.rater, a.label);
    raters.add(a.rater);
  }
  return { byCase, raters: [...raters].sort() };
}

/**
 * Pairwise Cohen's κ (weighted on an ordinal scale) and Gwet's AC1 between every
 * two raters over the cases both labelled, with bootstrap intervals over those
 * cases; Fleiss' κ (cases with the modal count of three or more raters) and
 * Krippendorff's α (all overlap cases) when three or more raters labelled a case.
 */
export function overlapAgreement(answers: readonly RaterAnswer[], scale: AgreementScale): z.infer<typeof AgreementFigures> {
  const { byCase, raters } = answersByCase(answers);
  const weights = kappaWeightsFor(scale.ordinal);
  const classes = [...scale.classes];
  const overlap = [...byCase.entries()].filter(([, m]) => m.size >= 2).sort(([a], [b]) => a.localeCompare(b));
  const pairs: z.infer<typeof AgreementFigures>['pairs'] = [];
  for (let i = 0; i < raters.length; i++) {
    for (let j = i + 1; j < raters.length; j++) {
      const a = raters[i];
      const b = raters[j];
      const both: [string, string][] = [];
      for (const [, m] of overlap) {
        const x = m.get(a);
        const y = m.get(b);
        if (x !== undefined && y !== undefined) both.push([x, y]);
      }
      if (both.length === 0) continue;
      pairs.push({
        a,
        b,
        n: both.length,
        percentAgreement: proportion(both.filter(([x, y]) => x === y).length, both.length, scale.minN),
        kappa: bootstrapEstimate(both, (s) => cohenKappa(s.map((p) => p[0]), s.map((p) => p[1]), { weights, labels: classes }), scale.minN),
        ac1: bootstrapEstimate(both, (s) => gwetAC1([s.map((p) => p[0]), s.map((p) => p[1])], { categories: classes }), scale.minN),
      });
    }
  }
  const maxRaters = Math.max(0, ...overlap.map(([, m]) => m.size));
  let fleiss: Estimate | null = null;
  let alpha: Estimate | null = null;
  if (maxRaters >= 3) {
    const m = modalCountAtLeast3(overlap.map(([, r]) => r.size));
    const fleissCases = overlap.filter(([, r]) => r.size === m).map(([, r]) => [...r.values()]);
    fleiss = bootstrapEstimate(fleissCases, (s) => fleissKappa(categoryCounts(transpose(s, m), classes)), scale.minN);
    const units = overlap.map(([, r]) => raters.map((x) => r.get(x) ?? null));
    const level = scale.ordinal ? 'ordinal' : 'nominal';
    alpha = bootstrapEstimate(units, (s) => krippendorffAlpha(transpose(s, raters.length), level, { scale: classes }), scale.minN);
    fleiss.note = [`over the ${fleissCases.length} cases with ${m} raters`, fleiss.note].filter(Boolean).join('; ');
  }
  return { raters, overlapCases: overlap.length, kappaWeights: weights, pairs, fleissKappa: fleiss, krippendorffAlpha: alpha };
}

/** The most frequent rater count of at least three (the larger on a tie). */
function modalCountAtLeast3(counts: readonly number[]): number {
  const freq = new Map<number, number>();
  for (const c of counts) if (c >= 3) freq.set(c, (freq.get(c) ?? 0) + 1);
  return [...freq.entries()].sort((x, y) => y[1] - x[1] || y[0] - x[0])[0][0];
}

/** units × raters → raters × units. */
function transpose<T>(units: readonly (readonly T[])[], raters: number): T[][] {
  return Array.from({ length: raters }, (_, r) => units.map((u) => u[r]));
}

/**
 * Dawid–Skene over every rater's answers (crowd-kit's EM, functions/domain/scoring/consensus.ts):
 * each rater's estimated confusion matrix with the confusion it makes most, the
 * class priors, and the consensus it implies (counts per class; on overlap cases
 * the label and its posterior).
 */
export function dawidSkeneView(answers: readonly RaterAnswer[], scale: AgreementScale): z.infer<typeof DawidSkeneFigures> | null {
  if (answers.length === 0) return null;
  const { byCase } = answersByCase(answers);
  const first: { item: string; annotator: string; label: CategoryLabel }[] = [];
  for (const [caseId, m] of [...byCase.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    for (const [rater, label] of [...m.entries()].sort(([a], [b]) => a.localeCompare(b))) first.push({ item: caseId, annotator: rater, label });
  }
  const ds = dawidSkene(first, { categories: [...scale.classes] });
  const classes = ds.categories.map(String);
  const answersOf = new Map<string, number>();
  for (const a of first) answersOf.set(a.annotator, (answersOf.get(a.annotator) ?? 0) + 1);
  const raters = ds.annotators
    .map((r, i) => {
      let worst: { trueClass: string; answered: string; probability: number } | null = null;
      for (const [t, row] of ds.confusion[i].entries()) {
        for (const [l, p] of row.entries()) {
          if (t !== l && p > (worst?.probability ?? 1e-9)) worst = { trueClass: classes[t], answered: classes[l], probability: p };
        }
      }
      return { rater: String(r), answers: answersOf.get(String(r)) ?? 0, confusion: ds.confusion[i], worstConfusion: worst };
    })
    .sort((a, b) => a.rater.localeCompare(b.rater));
  const consensusCounts: Record<string, number> = Object.fromEntries(classes.map((c) => [c, 0]));
  const overlapConsensus: { caseId: string; label: string; posterior: number }[] = [];
  ds.items.forEach((item, i) => {
    const label = String(ds.labels[i]);
    consensusCounts[label] += 1;
    if ((byCase.get(String(item))?.size ?? 0) >= 2) overlapConsensus.push({ caseId: String(item), label, posterior: Math.max(...ds.posteriors[i]) });
  });
  return { classes, priors: ds.priors, iterations: ds.iterations, converged: ds.converged, raters, consensusCounts, overlapConsensus };
}
