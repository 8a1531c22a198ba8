/**
 * Qualification (issue 13, docs/vendor-management.md "Exams"): before production
 * work on a protocol version whose document has a `qualification` section, a
 * workforce passes a gold-only exam batch or holds a PM's waiver. Pure: the exam
 * rule, the draw of its gold, the decision, the fold of the ledger into each
 * workforce's qualification, what counts as a material change between versions,
 * and the planner's eligibility filter. No AWS imports.
 */
import { acceptanceOf } from './acceptance-protocol.js';
import { type AcceptanceRule, decideBatch, sprtDesign } from './acceptance/index.js';
import { mixGoldItems } from './batching.js';
import type { BatchItem, Case, LedgerEvent, ProtocolVersion, Workforce } from './model/index.js';
import { protocolRef } from './model/index.js';
import { diffProtocolVersions, formatProtocolDiff } from './protocol-document.js';
import { type RandomSource, shuffled } from './random.js';
import { routeCase } from './routing.js';

// ---------------------------------------------------------------------------
// Material change
// ---------------------------------------------------------------------------

/**
 * Task fields that never change what a label means or whether a gold item passes
 * (reported beside the metrics only). Every other `task` field — type, classes,
 * ordinal, finding, segmentation labels, the per-item pass bounds (minDice,
 * maxHd95Mm, minSensitivity, maxFalsePositivesPerItem, criticalDiameterMm) and
 * the metric convention that computes them — is material.
 */
const NOT_MATERIAL_TASK_FIELDS = new Set(['task.nsdToleranceMm']);

const squash = (s: string | undefined): string => (s ?? '').replace(/\s+/g, ' ').trim();

/**
 * Whether going from version `from` to `to` of a protocol changes the task
 * materially, so a workforce qualified on `from` must qualify again: any change
 * of the label scale or of what passes a gold item (every `task` field but
 * `nsdToleranceMm`), or of the instructions beyond whitespace (runs of
 * whitespace squashed to one space, ends trimmed). Routing, gold rates,
 * thresholds, acceptance, rebalancing, SLA and title are not material.
 *
 * @example materialChange(v1, v2) // { material: true, reasons: ['added    task.classes[2]: "indeterminate"'] }
 */
export function materialChange(from: ProtocolVersion, to: ProtocolVersion): { material: boolean; reasons: string[] } {
  const reasons = diffProtocolVersions(from, to)
    .filter((c) => (c.path === 'task' || c.path.startsWith('task.') || c.path.startsWith('task[')) && !NOT_MATERIAL_TASK_FIELDS.has(c.path))
    .map((c) => formatProtocolDiff([c]));
  if (squash(from.instructions) !== squash(to.instructions)) reasons.push('instructions: the text changed beyond whitespace');
  return { material: reasons.length > 0, reasons };
}

// ---------------------------------------------------------------------------
// The exam and its decision
// ---------------------------------------------------------------------------

export interface ExamRule {
  /** Gold items per attempt. */
  items: number;
  rule: AcceptanceRule;
  /** `acceptance`: the protocol's acceptance plan; `gold-accuracy-bar`: a document without one (thresholds.goldAccuracy). */
  source: 'acceptance' | 'gold-accuracy-bar';
}

/**
 * The exam of a protocol version: `qualification.examItems` gold items (default:
 * the acceptance plan's single-plan n, or the SPRT's truncation when no single
 * plan fits), decided by the acceptance section's rule — `single-plan`: the
 * plan on the exam's items; `sprt`: the truncated SPRT looking once per attempt,
 * so an inconclusive attempt's evidence carries into the retake — or, for a
 * document without an acceptance section, by the gold accuracy bar
 * (`thresholds.goldAccuracy`, at least `minGoldItems` items).
 *
 * @example examRuleOf(chestXrayV1) // { items: 38, rule: { kind: 'sprt', … }, source: 'acceptance' }
 */
export function examRuleOf(p: ProtocolVersion): ExamRule {
  const a = acceptanceOf(p);
  const items = p.qualification?.examItems ?? a.single?.n ?? a.sprt.maxItems;
  if (a.source === 'defaults') {
    return {
      items: Math.max(items, p.thresholds.minGoldItems),
      rule: { kind: 'fixed-threshold', goldAccuracy: p.thresholds.goldAccuracy, minGoldItems: p.thresholds.minGoldItems },
      source: 'gold-accuracy-bar',
    };
  }
  if (a.rule === 'single-plan' && a.single) return { items, rule: { kind: 'single-plan', plan: a.single }, source: 'acceptance' };
  return { items, rule: { kind: 'sprt', design: sprtDesign(a.spec, items) }, source: 'acceptance' };
}

export interface ExamEvidence {
  /** Gold items scored, pooled since the workforce's last conclusive exam on this version. */
  n: number;
  wrong: number;
  attempts: number;
  /** Findings that fail an attempt whatever the counts (a critical miss). */
  blockers?: readonly string[];
}

export interface ExamDecision {
  outcome: 'passed' | 'failed' | 'inconclusive';
  rule: 'single-plan' | 'single-plan-curtailed' | 'sprt' | 'sprt-truncated' | 'fixed-threshold' | 'blocker';
  evidence: { n: number; wrong: number; attempts: number; c: number | null; llr: number | null };
  reason: string;
}

/**
 * Decides an exam on its (pooled) evidence by the protocol's exam rule. An
 * inconclusive exam is retaken with fresh gold and decided on the pooled items.
 *
 * @example decideExam(p, { n: 38, wrong: 1, attempts: 1 }).outcome // 'passed'
 */
export function decideExam(p: ProtocolVersion, e: ExamEvidence): ExamDecision {
  const r = examRuleOf(p);
  const evidence = (c: number | null, llr: number | null) => ({ n: e.n, wrong: e.wrong, attempts: e.attempts, c, llr });
  if (r.rule.kind === 'fixed-threshold' && e.n < r.rule.minGoldItems && !(e.blockers && e.blockers.length > 0)) {
    return {
      outcome: 'inconclusive',
      rule: 'fixed-threshold',
      evidence: evidence(null, null),
      reason: `inconclusive: ${e.n} gold item(s), fewer than the protocol's minimum ${r.rule.minGoldItems}: a retake adds items`,
    };
  }
  const d = decideBatch(r.rule, { n: e.n, wrong: e.wrong, batches: e.attempts, ...(e.blockers ? { blockers: e.blockers } : {}) });
  const outcome = d.decision === 'accept' ? 'passed' : d.decision === 'reject' ? 'failed' : 'inconclusive';
  const reason = d.reason.replace(/^accepted/, 'passed').replace(/^rejected/, 'failed').replace(/the vendor's next gold decides/, 'a retake with fresh gold decides');
  return { outcome, rule: d.rule, evidence: evidence(d.evidence.c, d.evidence.llr), reason };
}

/**
 * The gold cases an exam may draw for a workforce: gold with an answer that the
 * protocol would send to it (routing, qualifications; vendors only vendor-routed
 * cases — the rule hidden gold follows), none it saw within the reuse cap and
 * none shown in an earlier exam attempt on this version (a retake is fresh gold).
 * Gold it never saw comes first, in a random order.
 */
export function examGoldPool(input: {
  cases: readonly (Case & { goldPool: boolean })[];
  answered: ReadonlySet<string>;
  protocol: ProtocolVersion;
  workforce: Workforce;
  examSeen: ReadonlySet<string>;
  random: RandomSource;
}): string[] {
  const { protocol, workforce: w } = input;
  const recent = new Set(protocol.goldReuseCap > 0 ? w.recentGold.slice(-protocol.goldReuseCap).flatMap((g) => g.caseIds) : []);
  const seen = new Set(w.goldSeen);
  const eligible = input.cases
    .filter((c) => c.goldPool && input.answered.has(c.caseId) && !recent.has(c.caseId) && !input.examSeen.has(c.caseId))
    .filter((c) => {
      const d = routeCase(c, protocol);
      const quals = d.route.pool === 'exclude' ? [] : d.route.qualifications;
      if (w.kind === 'vendor') return d.route.pool === 'vendor' && quals.every((q) => w.qualifications.includes(q));
      return d.route.pool !== 'exclude' && (d.route.pool === 'vendor' || quals.every((q) => w.qualifications.includes(q)));
    })
    .map((c) => c.caseId)
    .sort();
  const order = shuffled(eligible, input.random);
  return [...order.filter((id) => !seen.has(id)), ...order.filter((id) => seen.has(id))];
}

/**
 * An exam batch's items: every item gold, each with a fresh random alias, in a
 * shuffled order — the same aliasing and shuffle as a production batch
 * (mixGoldItems), so the manifest has the same shape.
 */
export function examItems(goldCaseIds: readonly string[], random: RandomSource): BatchItem[] {
  return mixGoldItems({ caseIds: goldCaseIds, goldPool: [], goldRate: 0, random }).items.map((i) => ({ ...i, gold: true }));
}

// ---------------------------------------------------------------------------
// The fold
// ---------------------------------------------------------------------------

export type QualificationStatus = 'unqualified' | 'examining' | 'qualified' | 'failed' | 'revoked';

export interface QualificationState {
  workforceId: string;
  /** `protocolId@version`. */
  protocol: string;
  status: QualificationStatus;
  /** How a qualified workforce got there. */
  basis?: 'exam' | 'waiver' | 'grandfathered';
  reason: string;
  /** Exam attempts on this version. */
  attempts: number;
  openExam?: { batchId: string; attempt: number };
  /** Evidence of inconclusive attempts since the last conclusive one (pooled into the next). */
  pooled: { n: number; wrong: number; attempts: number };
  /** Every gold case shown in this version's exams (a retake draws others). */
  examCases: string[];
  /** When the status last changed. */
  at?: string;
}

/** Every workforce's qualification per protocol version, as the ledger states it. */
export type Qualifications = Record<string, Record<string, QualificationState>>;

const fresh = (workforceId: string, protocol: string): QualificationState => ({
  workforceId,
  protocol,
  status: 'unqualified',
  reason: 'no exam passed and no waiver',
  attempts: 0,
  pooled: { n: 0, wrong: 0, attempts: 0 },
  examCases: [],
});

/**
 * Folds a program's ledger (in order; each eventId once) into qualifications:
 * `exam.dispatched` opens an attempt, `exam.decided` closes it (passed →
 * qualified; failed → failed, retake allowed; inconclusive → evidence pooled
 * into the retake; void → as before the attempt), `qualification.waived`
 * qualifies, `qualification.revoked` revokes, and a suspension
 * (`workforce.status-changed` to suspended, or `workforce.inspection-switched`
 * to discontinued) revokes every qualification the workforce holds. Migration: a production `batch.dispatched` for a workforce
 * with no qualification event on that version, never revoked, grandfathers it.
 *
 * @example projectQualifications(events)['vendor-c']['chest-xray@2'].status // 'qualified'
 */
export function projectQualifications(events: readonly LedgerEvent[]): Qualifications {
  const out: Qualifications = {};
  const seen = new Set<string>();
  const examBatches = new Set<string>();
  const everRevoked = new Set<string>();
  const before = new Map<string, Pick<QualificationState, 'status' | 'reason' | 'basis'>>();
  const stateOf = (w: string, ref: string): QualificationState => {
    out[w] ??= {};
    out[w][ref] ??= fresh(w, ref);
    return out[w][ref];
  };
  const set = (s: QualificationState, status: QualificationStatus, reason: string, at: string, basis?: QualificationState['basis']) => {
    s.status = status;
    s.reason = reason;
    s.at = at;
    if (basis) s.basis = basis;
    else delete s.basis;
  };
  for (const e of events) {
    if (seen.has(e.eventId)) continue;
    seen.add(e.eventId);
    switch (e.type) {
      case 'exam.dispatched': {
        const s = stateOf(e.data.workforceId, e.protocol);
        examBatches.add(e.data.batchId);
        s.attempts = Math.max(s.attempts, e.data.attempt);
        s.examCases = [...new Set([...s.examCases, ...e.data.caseIds])].sort();
        s.openExam = { batchId: e.data.batchId, attempt: e.data.attempt };
        before.set(e.data.batchId, { status: s.status, reason: s.reason, ...(s.basis ? { basis: s.basis } : {}) });
        if (s.status !== 'qualified') set(s, 'examining', `exam attempt ${e.data.attempt} (${e.data.batchId}) is open`, e.at);
        break;
      }
      case 'exam.decided': {
        const s = stateOf(e.data.workforceId, e.protocol);
        if (s.openExam?.batchId === e.data.batchId) delete s.openExam;
        const { n, wrong, attempts } = e.data.evidence;
        if (e.data.outcome === 'passed') {
          set(s, 'qualified', `passed exam attempt ${e.data.attempt}: ${e.reason}`, e.at, 'exam');
          s.pooled = { n: 0, wrong: 0, attempts: 0 };
        } else if (e.data.outcome === 'failed') {
          set(s, 'failed', `failed exam attempt ${e.data.attempt}: ${e.reason}; a retake draws fresh gold`, e.at);
          s.pooled = { n: 0, wrong: 0, attempts: 0 };
        } else if (e.data.outcome === 'inconclusive') {
          set(s, 'failed', `exam attempt ${e.data.attempt} inconclusive: ${e.reason}`, e.at);
          s.pooled = { n, wrong, attempts };
        } else {
          const b = before.get(e.data.batchId);
          if (b && s.status === 'examining') set(s, b.status, b.reason, e.at, b.basis);
        }
        break;
      }
      case 'qualification.waived':
        set(stateOf(e.data.workforceId, e.protocol), 'qualified', `waived by ${e.actor}: ${e.reason}`, e.at, 'waiver');
        break;
      case 'qualification.revoked':
        set(stateOf(e.data.workforceId, e.protocol), 'revoked', `revoked (${e.data.cause}) by ${e.actor}: ${e.reason}`, e.at);
        break;
      case 'workforce.status-changed':
      case 'workforce.inspection-switched': {
        // Suspended (discontinued inspection): the resume path goes through an exam or a waiver.
        const to = e.type === 'workforce.status-changed' ? e.data.to : e.data.status.to;
        if (to !== 'suspended') break;
        everRevoked.add(e.data.workforceId);
        for (const s of Object.values(out[e.data.workforceId] ?? {})) {
          if (s.status === 'qualified') set(s, 'revoked', `suspended: ${e.reason}; qualifies again by an exam or a waiver`, e.at);
        }
        break;
      }
      case 'batch.dispatched': {
        if (examBatches.has(e.subject) || everRevoked.has(e.data.workforceId)) break;
        if (out[e.data.workforceId]?.[e.protocol]) break;
        set(stateOf(e.data.workforceId, e.protocol), 'qualified', `grandfathered: production work (${e.subject}) before any qualification event`, e.at, 'grandfathered');
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/** The batch ids the ledger's `exam.dispatched` events name: exam batches, never production work. */
export function examBatchIds(events: readonly LedgerEvent[]): Set<string> {
  return new Set(events.flatMap((e) => (e.type === 'exam.dispatched' ? [e.data.batchId] : [])));
}

export interface QualificationView extends QualificationState {
  qualified: boolean;
  /** Whether this protocol version requires this workforce to qualify at all. */
  required: boolean;
  /** Set when the qualification comes from an earlier version whose change to this one is not material. */
  carriedFrom?: string;
}

/** Whether a protocol version requires this workforce to pass an exam (or hold a waiver) before production work. */
export const examRequired = (p: ProtocolVersion, w: Pick<Workforce, 'kind'>): boolean =>
  p.qualification !== undefined && (w.kind === 'vendor' || p.qualification.required === 'all');

/**
 * A workforce's qualification on a protocol version: its own state where the
 * ledger has one; otherwise the previous version's, carried over when the
 * change between the two is not material (`materialChange`), else unqualified
 * with the material changes named.
 */
export function qualificationOf(
  q: Qualifications,
  w: Pick<Workforce, 'workforceId' | 'kind'>,
  p: ProtocolVersion,
  versionOf: (version: number) => ProtocolVersion | undefined,
): QualificationView {
  const required = examRequired(p, w);
  const ref = protocolRef(p);
  const own = q[w.workforceId]?.[ref];
  const view = (s: QualificationState, carriedFrom?: string): QualificationView => ({
    ...s,
    qualified: s.status === 'qualified',
    // A revoked workforce (suspended, or by a PM) qualifies again before production work on any version.
    required: required || s.status === 'revoked',
    ...(carriedFrom ? { carriedFrom } : {}),
  });
  if (own) return view(own);
  const prev = p.version > 1 ? versionOf(p.version - 1) : undefined;
  if (!prev) return view(fresh(w.workforceId, ref));
  const earlier = qualificationOf(q, w, prev, versionOf);
  if (!earlier.qualified) return view(fresh(w.workforceId, ref));
  const change = materialChange(prev, p);
  if (change.material) {
    return view({ ...fresh(w.workforceId, ref), reason: `qualified on ${protocolRef(prev)}, but ${ref} changes the task materially: ${change.reasons.join('; ')}` });
  }
  return view({ ...earlier, protocol: ref, reason: `carried from ${earlier.carriedFrom ?? protocolRef(prev)} (no material change): ${earlier.reason}` }, earlier.carriedFrom ?? protocolRef(prev));
}

/**
 * The planner's eligibility filter: who may get production work on this
 * protocol version. A workforce the version requires to qualify and that is not
 * qualified is left out, with why — and so, on any version, is one whose
 * qualification was revoked (a suspension, or a PM) until an exam or a waiver.
 *
 * @example productionEligibility(workforces, p, (w) => qualificationOf(q, w, p, versionOf)).ineligible
 *   // [{ workforceId: 'vendor-c', reason: 'not qualified on chest-xray@2: failed exam attempt 1: …' }]
 */
export function productionEligibility<W extends Pick<Workforce, 'workforceId' | 'kind'>>(
  workforces: readonly W[],
  p: ProtocolVersion,
  view: (w: W) => Pick<QualificationView, 'qualified' | 'reason' | 'status'>,
): { eligible: W[]; ineligible: { workforceId: string; reason: string }[] } {
  const eligible: W[] = [];
  const ineligible: { workforceId: string; reason: string }[] = [];
  for (const w of workforces) {
    const v = view(w);
    // The version's rule, and the resume rule: a revoked workforce needs an exam or a waiver on any version.
    if (v.qualified || (!examRequired(p, w) && v.status !== 'revoked')) eligible.push(w);
    else ineligible.push({ workforceId: w.workforceId, reason: `not qualified on ${protocolRef(p)}: ${v.reason}` });
  }
  return { eligible, ineligible };
}

/**
 * An exam batch's score: measured like any batch (the same items, figures and
 * interval) but never accepted, rejected or held by the production rule — the
 * exam rule decides it (decideExam) — so its verdict is `accepted` with no
 * acceptance decision, and the note says so.
 *
 * @example examBatchScore(score).notes[0] // 'qualification exam: 37/38 gold items passed; decided by the exam rule, not as production work'
 */
export function examBatchScore<S extends { verdict: string; goldN: number; goldCorrect: number; notes: string[]; decision?: unknown }>(score: S): Omit<S, 'decision'> {
  const { decision: _production, ...measured } = score;
  return {
    ...measured,
    verdict: 'accepted',
    notes: [`qualification exam: ${score.goldCorrect}/${score.goldN} gold items passed; decided by the exam rule, not as production work`, ...score.notes.filter((n) => n !== (score.decision as { reason?: string } | undefined)?.reason)],
  };
}
