/**
 * The expert panel's agreement on adjudications (issue 11, bullet 5): where two
 * experts decided the same case, Cohen's κ between them; and each expert's
 * agreement with the labels of the workforces whose disagreement (or critical
 * miss) the expert settled. Pure: adjudication records in, rows out.
 *
 * Caveat stated in the note: adjudicated cases are the hard ones (chosen because
 * labels disagreed), so agreement there is lower than on ordinary cases, and with
 * two disagreeing workforces the expert can agree with at most one of them.
 */
import { cohenKappa, isDefined } from './scoring/index.js';

export interface DecidedAdjudication {
  decidedBy?: string;
  status: string;
  needs: readonly { caseId: string; labels: Readonly<Record<string, string>> }[];
  decisions?: readonly { caseId: string; label: string }[];
}

export interface ExpertAgreementRow {
  expertId: string;
  /** Another expert's id, or the workforce whose labels are compared. */
  comparedWith: string;
  kind: 'expert-vs-expert' | 'expert-vs-workforce';
  /** Cases both decided / labelled. */
  n: number;
  agreed: number;
  /** Cohen's κ (unweighted); null when undefined (the reason in `kappaNote`). */
  kappa: number | null;
  kappaNote?: string;
}

export interface ExpertPanelAgreement {
  experts: string[];
  rows: ExpertAgreementRow[];
  note: string;
}

function row(expertId: string, comparedWith: string, kind: ExpertAgreementRow['kind'], pairs: [string, string][]): ExpertAgreementRow {
  const k = cohenKappa(
    pairs.map((p) => p[0]),
    pairs.map((p) => p[1]),
  );
  return {
    expertId,
    comparedWith,
    kind,
    n: pairs.length,
    agreed: pairs.filter(([a, b]) => a === b).length,
    kappa: isDefined(k) ? k.value : null,
    ...(isDefined(k) ? {} : { kappaNote: k.reason ?? 'undefined' }),
  };
}

/**
 * Agreement of the expert panel on its decided adjudications.
 *
 * @example expertPanelAgreement(adjudications).rows[0] // { expertId: 'expert-1', comparedWith: 'vendor-a', kind: 'expert-vs-workforce', n: 4, agreed: 3, kappa: 0.5 }
 */
export function expertPanelAgreement(adjudications: readonly DecidedAdjudication[]): ExpertPanelAgreement {
  // caseId → expert → label (the latest decision of an expert on a case counts once).
  const byCase = new Map<string, Map<string, string>>();
  const workforcePairs = new Map<string, [string, string][]>();
  for (const a of adjudications) {
    if (a.status !== 'decided' || !a.decidedBy || !a.decisions) continue;
    const needs = new Map(a.needs.map((n) => [n.caseId, n]));
    for (const d of a.decisions) {
      const experts = byCase.get(d.caseId) ?? new Map<string, string>();
      byCase.set(d.caseId, experts);
      experts.set(a.decidedBy, d.label);
      for (const [who, label] of Object.entries(needs.get(d.caseId)?.labels ?? {})) {
        const key = `${a.decidedBy}\u0000${who}`;
        const pairs = workforcePairs.get(key) ?? [];
        workforcePairs.set(key, pairs);
        pairs.push([d.label, label]);
      }
    }
  }
  const experts = [...new Set([...byCase.values()].flatMap((m) => [...m.keys()]))].sort();
  const rows: ExpertAgreementRow[] = [];
  for (let i = 0; i < experts.length; i++) {
    for (let j = i + 1; j < experts.length; j++) {
      const pairs: [string, string][] = [];
      for (const m of byCase.values()) {
        const a = m.get(experts[i]);
        const b = m.get(experts[j]);
        if (a !== undefined && b !== undefined) pairs.push([a, b]);
      }
      if (pairs.length > 0) rows.push(row(experts[i], experts[j], 'expert-vs-expert', pairs));
    }
  }
  for (const key of [...workforcePairs.keys()].sort()) {
    const [expertId, who] = key.split('\u0000');
    rows.push(row(expertId, who, 'expert-vs-workforce', workforcePairs.get(key)!));
  }
  const twoExperts = rows.some((r) => r.kind === 'expert-vs-expert');
  const note =
    experts.length === 0
      ? 'no adjudication decided yet: no expert agreement to report'
      : `${twoExperts ? 'κ between experts on the cases two of them decided; ' : `${experts.length === 1 ? 'one expert' : 'no two experts on the same case'}: agreement is reported as each expert's decision against the labels of the workforces it adjudicated (no second expert's decision to compare with); `}` +
        'adjudicated cases are the disputed ones, so agreement there understates agreement on ordinary cases';
  return { experts, rows, note };
}
