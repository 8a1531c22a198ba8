/**
 * Switching rules in the manner of ISO 2859-1:1999 §9 (ANSI/ASQ Z1.4 §8), as a
 * pure state machine over a vendor's conclusive batch decisions for one
 * protocol version:
 *   normal → tightened     when 2 of the last 5 conclusive batches were rejected;
 *   tightened → normal     after 5 consecutive accepted batches (batches settled, so an
 *                          SPRT accept pooling 3 batches counts 3);
 *   tightened → discontinued when rejections under tightened inspection reach 5;
 *   normal → reduced       when the switching score reaches 30 (+3 for each accepted
 *                          batch that would also have passed the tightened rule, reset to 0
 *                          by any other accepted or rejected batch) — 10 clean accepts in a row;
 *   reduced → normal       on one rejected batch, or one inconclusive for lack of gold
 *                          (an SPRT look that keeps pooling is not that);
 *   discontinued → tightened only by `resumeInspection` after corrective action.
 * Departures from the standard, on purpose: an inconclusive batch (possible
 * only here: the SPRT or a short gold pool) is never counted against a vendor —
 * it neither enters the 2-of-5 window nor resets the switching score — except
 * under reduced inspection, where thin evidence sends the vendor back to
 * normal inspection (more gold, no penalty). A vendor none of whose gold
 * answers in the window were wrong is never tightened, whatever decided.
 */
import { z } from 'zod';
import type { AcceptanceSpec } from './plan.js';

export const InspectionLevel = z.enum(['normal', 'tightened', 'reduced', 'discontinued']);
export type InspectionLevel = z.infer<typeof InspectionLevel>;

const Outcome = z.object({
  batchId: z.string().optional(),
  decision: z.enum(['accept', 'reject', 'inconclusive']),
  n: z.number().int().min(0),
  wrong: z.number().int().min(0),
  /** Batches the decision settles (an SPRT decision settles every batch it pooled). */
  batches: z.number().int().min(1).default(1),
});

/** A batch's conclusive-or-not decision as the switching rules see it. */
export const SwitchingOutcome = Outcome.extend({
  /** Accepted, and the same evidence would also pass the tightened rule ("well on the accept side"). */
  passesTightened: z.boolean().default(false),
  /**
   * An inconclusive SPRT look that keeps pooling (the normal course of the SPRT,
   * not thin evidence): neutral at every level, reduced included.
   */
  pooling: z.boolean().default(false),
});
export type SwitchingOutcome = z.input<typeof SwitchingOutcome>;

/** What the machine remembers; plain data, stored beside the vendor and rebuilt from the ledger. */
export const SwitchingState = z.object({
  level: InspectionLevel.default('normal'),
  /** Last conclusive batches at this level, oldest first (the rules' windows). */
  window: z.array(Outcome).default([]),
  /** Consecutive accepted batches at the current level. */
  consecutiveAccepted: z.number().int().min(0).default(0),
  /** Rejections since tightened inspection began. */
  rejectedUnderTightened: z.number().int().min(0).default(0),
  switchingScore: z.number().int().min(0).default(0),
});
export type SwitchingState = z.output<typeof SwitchingState>;

export const SwitchingRules = z.object({
  tightenWindow: z.number().int().min(1).default(5),
  tightenAfterRejected: z.number().int().min(1).default(2),
  relaxAfterAccepted: z.number().int().min(1).default(5),
  discontinueAfterRejected: z.number().int().min(1).default(5),
  reduceAtScore: z.number().int().min(1).default(30),
  scorePerClearAccept: z.number().int().min(1).default(3),
});
export type SwitchingRules = z.output<typeof SwitchingRules>;
export const DEFAULT_SWITCHING_RULES: SwitchingRules = SwitchingRules.parse({});

export const initialSwitchingState = (): SwitchingState => SwitchingState.parse({});

export type SwitchRule =
  | 'two-of-five-rejected'
  | 'accepted-under-tightened'
  | 'rejected-under-tightened'
  | 'switching-score'
  | 'rejected-under-reduced'
  | 'inconclusive-under-reduced'
  | 'corrective-action';

export interface InspectionSwitch {
  from: InspectionLevel;
  to: InspectionLevel;
  rule: SwitchRule;
  evidence: {
    /** The batches the rule counted, oldest first. */
    batches: z.output<typeof Outcome>[];
    rejected: number;
    accepted: number;
    wrong: number;
    goldItems: number;
    switchingScore: number;
  };
  reason: string;
}

export interface SwitchStep {
  state: SwitchingState;
  switch?: InspectionSwitch;
}

const count = (xs: readonly z.output<typeof Outcome>[], d: 'accept' | 'reject'): number => xs.filter((x) => x.decision === d).length;

function evidenceOf(batches: z.output<typeof Outcome>[], score: number): InspectionSwitch['evidence'] {
  return {
    batches,
    rejected: count(batches, 'reject'),
    accepted: count(batches, 'accept'),
    wrong: batches.reduce((s, b) => s + b.wrong, 0),
    goldItems: batches.reduce((s, b) => s + b.n, 0),
    switchingScore: score,
  };
}

const fresh = (level: InspectionLevel): SwitchingState => ({ ...initialSwitchingState(), level });

/**
 * The next inspection state after one batch decision, and the switch it
 * causes, if any.
 *
 * @example nextInspection(initialSwitchingState(), { decision: 'reject', n: 38, wrong: 6 }).state.level // 'normal'
 */
export function nextInspection(
  current: SwitchingState,
  outcomeInput: SwitchingOutcome,
  rules: SwitchingRules = DEFAULT_SWITCHING_RULES,
): SwitchStep {
  const o = SwitchingOutcome.parse(outcomeInput);
  if (o.wrong > o.n) throw new RangeError(`wrong gold answers (${o.wrong}) exceed gold items (${o.n})`);
  const { passesTightened, pooling, ...outcome } = o;
  const s: SwitchingState = { ...current, window: [...current.window] };
  const switchTo = (to: InspectionLevel, rule: SwitchRule, batches: z.output<typeof Outcome>[], reason: string): SwitchStep => ({
    state: fresh(to),
    switch: { from: s.level, to, rule, evidence: evidenceOf(batches, s.switchingScore), reason },
  });

  switch (s.level) {
    case 'discontinued':
      return { state: s };
    case 'normal': {
      if (o.decision === 'inconclusive') return { state: s };
      // Kept long enough to show the clean run behind a switch to reduced inspection.
      s.window = [...s.window, outcome].slice(-Math.max(rules.tightenWindow, Math.ceil(rules.reduceAtScore / rules.scorePerClearAccept)));
      const recent = s.window.slice(-rules.tightenWindow);
      const rejected = count(recent, 'reject');
      const wrong = recent.reduce((sum, b) => sum + b.wrong, 0);
      if (o.decision === 'reject') {
        s.switchingScore = 0;
        s.consecutiveAccepted = 0;
        if (rejected >= rules.tightenAfterRejected && wrong > 0) {
          return switchTo(
            'tightened',
            'two-of-five-rejected',
            recent,
            `tightened inspection: ${rejected} of the last ${recent.length} conclusive batches rejected (${wrong} wrong of ${recent.reduce((x, b) => x + b.n, 0)} gold items)`,
          );
        }
        return { state: s };
      }
      s.consecutiveAccepted += o.batches;
      // Per batch settled, as ISO scores lots: 10 clean batches reach 30, however they were pooled.
      s.switchingScore = passesTightened ? s.switchingScore + rules.scorePerClearAccept * o.batches : 0;
      if (s.switchingScore >= rules.reduceAtScore) {
        // The latest decisions that cover the clean run the score counted.
        const need = Math.ceil(rules.reduceAtScore / rules.scorePerClearAccept);
        let from = s.window.length;
        for (let covered = 0; from > 0 && covered < need; ) covered += s.window[--from].batches;
        const clean = s.window.slice(from);
        return switchTo(
          'reduced',
          'switching-score',
          clean,
          `reduced inspection: switching score ${s.switchingScore} ≥ ${rules.reduceAtScore} (${s.consecutiveAccepted} consecutive accepted batches, each decision also within the tightened acceptance number)`,
        );
      }
      return { state: s };
    }
    case 'tightened': {
      if (o.decision === 'inconclusive') return { state: s };
      s.window = [...s.window, outcome].slice(-Math.max(rules.relaxAfterAccepted, rules.discontinueAfterRejected));
      if (o.decision === 'accept') {
        s.consecutiveAccepted += o.batches;
        if (s.consecutiveAccepted >= rules.relaxAfterAccepted) {
          return switchTo(
            'normal',
            'accepted-under-tightened',
            s.window.slice(-rules.relaxAfterAccepted),
            `normal inspection again: ${s.consecutiveAccepted} consecutive batches accepted under tightened inspection`,
          );
        }
        return { state: s };
      }
      s.consecutiveAccepted = 0;
      s.rejectedUnderTightened += 1;
      if (s.rejectedUnderTightened >= rules.discontinueAfterRejected) {
        return switchTo(
          'discontinued',
          'rejected-under-tightened',
          s.window,
          `inspection discontinued (no further batches): ${s.rejectedUnderTightened} batches rejected under tightened inspection`,
        );
      }
      return { state: s };
    }
    case 'reduced': {
      if (o.decision === 'accept' || (o.decision === 'inconclusive' && pooling)) {
        if (o.decision === 'accept') s.consecutiveAccepted += o.batches;
        return { state: s };
      }
      const rule = o.decision === 'reject' ? 'rejected-under-reduced' : 'inconclusive-under-reduced';
      return switchTo(
        'normal',
        rule,
        [outcome],
        `normal inspection again: a batch ${o.decision === 'reject' ? 'rejected' : 'inconclusive'} under reduced inspection (${o.wrong} wrong of ${o.n} gold items)`,
      );
    }
  }
}

/** After corrective action, a discontinued vendor resumes under tightened inspection (ISO 2859-1 §9). */
export function resumeInspection(current: SwitchingState, note: string): SwitchStep {
  if (current.level !== 'discontinued') throw new RangeError(`only a discontinued vendor resumes; this one is under ${current.level} inspection`);
  return {
    state: fresh('tightened'),
    switch: {
      from: 'discontinued',
      to: 'tightened',
      rule: 'corrective-action',
      evidence: evidenceOf([], 0),
      reason: `resumed under tightened inspection after corrective action: ${note}`,
    },
  };
}

export interface InspectionPolicy {
  /** The acceptance spec batches are decided by at this level (null: no batches). */
  spec: AcceptanceSpec | null;
  /** Multiplier on the vendor's allocation share. */
  shareFactor: number;
}

export const InspectionFactors = z.object({
  /** Tightened: consumer's risk × this (more gold: stricter protection against RQL work). */
  tightenedBeta: z.number().gt(0).lt(1).default(0.5),
  /** Reduced: consumer's risk × this, capped below 0.5 (less gold). */
  reducedBeta: z.number().gt(1).default(2.5),
  tightenedShare: z.number().min(0).max(1).default(0.5),
});
export type InspectionFactors = z.output<typeof InspectionFactors>;

/**
 * The spec and share factor at each level, derived from the normal spec as ISO
 * derives its tightened and reduced plans from the normal one: tightened keeps
 * AQL and α and halves β (a larger n, a relatively smaller c); reduced keeps AQL
 * and α and relaxes β (a smaller n).
 *
 * @example inspectionPolicy({ aql: 0.95, rql: 0.8, alpha: 0.05, beta: 0.1 }, 'tightened').spec?.beta // 0.05
 */
export function inspectionPolicy(
  normal: AcceptanceSpec,
  level: InspectionLevel,
  factors: InspectionFactors = InspectionFactors.parse({}),
): InspectionPolicy {
  switch (level) {
    case 'normal':
      return { spec: normal, shareFactor: 1 };
    case 'tightened':
      return { spec: { ...normal, beta: normal.beta * factors.tightenedBeta }, shareFactor: factors.tightenedShare };
    case 'reduced':
      return { spec: { ...normal, beta: Math.min(0.45, normal.beta * factors.reducedBeta) }, shareFactor: 1 };
    case 'discontinued':
      return { spec: null, shareFactor: 0 };
  }
}
