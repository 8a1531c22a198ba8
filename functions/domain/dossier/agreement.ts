/**
 * Agreement between workforces on the cases both labelled (overlap items): per
 * pair of workforces, the share of cases where their labels agree, with its
 * Wilson 95% interval and n, and (classification) Cohen's κ over those cases.
 * Agreement follows the task (functions/domain/agreement.ts `overlapAgreement`):
 * the same class; the same findings. Masks are not compared here (the stored
 * label holds a pointer, not the mask): their disagreements are in the
 * adjudication records.
 */
import { overlapAgreement } from '../agreement.js';
import type { Task } from '../model/index.js';
import { cohenKappa, isDefined, wilsonInterval } from '../scoring/index.js';

/** A workforce's label of a case, as far as agreement reads it (a stored label is one). */
export interface AgreementLabel {
  caseId: string;
  workforceId: string;
  label: string;
  findings?: readonly { x: number; y: number; z: number; diameterMm?: number }[];
  gold: boolean;
  adjudicationId?: string;
}

export interface PairAgreement {
  workforceA: string;
  workforceB: string;
  /** Cases both labelled. */
  n: number;
  agreements: number;
  rate: number | null;
  interval: { lower: number; upper: number } | null;
  /** Cohen's κ between the two (classification; quadratic weights on an ordinal scale); null where undefined. */
  kappa: number | null;
  /** Why κ is undefined, or a convention it used. */
  kappaNote: string | null;
}

export interface WorkforceAgreement {
  method: string;
  pairs: PairAgreement[];
}

/**
 * Pairwise agreement over the cases two or more workforces labelled. Gold items
 * and adjudicated labels (an expert's decision, not a workforce's answer) are left out.
 *
 * @example workforceAgreement(task, labels).pairs[0] // { workforceA: 'vendor-a', workforceB: 'vendor-b', n: 40, agreements: 31, rate: 0.775, … }
 */
export function workforceAgreement(task: Task, labels: readonly AgreementLabel[]): WorkforceAgreement {
  if (task.type === 'segmentation') {
    return { method: 'not computed for segmentation: masks are compared when the batch is checked; disagreements are in the adjudication records', pairs: [] };
  }
  const byCase = new Map<string, Map<string, AgreementLabel>>();
  for (const l of labels) {
    if (l.gold || l.adjudicationId) continue;
    const m = byCase.get(l.caseId) ?? new Map<string, AgreementLabel>();
    byCase.set(l.caseId, m);
    if (!m.has(l.workforceId)) m.set(l.workforceId, l);
  }
  const pairs = new Map<string, { a: string; b: string; agree: boolean[]; la: string[]; lb: string[] }>();
  for (const m of [...byCase.values()]) {
    const ws = [...m.keys()].sort();
    for (let i = 0; i < ws.length; i++) {
      for (let j = i + 1; j < ws.length; j++) {
        const key = `${ws[i]}\u0000${ws[j]}`;
        const p = pairs.get(key) ?? { a: ws[i], b: ws[j], agree: [], la: [], lb: [] };
        pairs.set(key, p);
        const x = m.get(ws[i])!;
        const y = m.get(ws[j])!;
        p.agree.push(overlapAgreement(task, { label: x.label, findings: x.findings }, { label: y.label, findings: y.findings }).agree);
        p.la.push(x.label);
        p.lb.push(y.label);
      }
    }
  }
  return {
    method:
      task.type === 'classification'
        ? `the same class; Cohen's κ${task.ordinal ? ' with quadratic weights' : ''} over the classes ${task.classes.join(', ')}`
        : 'the same findings: every mark of one within a finding radius of a distinct mark of the other',
    pairs: [...pairs.values()]
      .sort((p, q) => p.a.localeCompare(q.a) || p.b.localeCompare(q.b))
      .map((p) => {
        const agreements = p.agree.filter(Boolean).length;
        const w = wilsonInterval(agreements, p.agree.length);
        let kappa: number | null = null;
        let kappaNote: string | null = task.type === 'classification' ? null : 'κ is for classes only';
        if (task.type === 'classification') {
          try {
            const k = cohenKappa(p.la, p.lb, { labels: task.classes, weights: task.ordinal ? 'quadratic' : 'none' });
            kappa = isDefined(k) ? k.value : null;
            kappaNote = k.reason ?? null;
          } catch (e) {
            kappaNote = (e as Error).message;
          }
        }
        return {
          workforceA: p.a,
          workforceB: p.b,
          n: p.agree.length,
          agreements,
          rate: isDefined(w.estimate) ? w.estimate.value : null,
          interval: isDefined(w.estimate) ? { lower: w.lower, upper: w.upper } : null,
          kappa,
          kappaNote,
        };
      }),
  };
}
