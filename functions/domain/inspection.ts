/**
 * A vendor's inspection level (normal / tightened / reduced / discontinued),
 * rebuilt from the ledger: the switching rules of acceptance/switching.ts
 * folded over the vendor's batch decisions for one protocol, in ledger order.
 * Every switch the fold finds is recorded once as `workforce.inspection-switched`
 * (rebalance.ts); a PM's corrective action (the same event, rule
 * `corrective-action`) is the only way out of discontinuation. Pure.
 */
import {
  type InspectionLevel,
  type InspectionSwitch,
  type SwitchingOutcome,
  type SwitchingState,
  inspectionPolicy,
  initialSwitchingState,
  nextInspection,
  passesTightened,
  resumeInspection,
} from './acceptance/index.js';
import { acceptanceOf } from './acceptance-protocol.js';
import { DEFAULT_ACCEPTANCE, type LedgerEvent, type ProtocolVersion, type Workforce } from './model/index.js';
import { type FoldableEvent, distinctInOrder } from './projections.js';

/** The workforce status each inspection level shows (API, CLI, dashboard, planning). */
export function statusOfLevel(level: InspectionLevel): Workforce['status'] {
  switch (level) {
    case 'normal':
      return 'active';
    case 'tightened':
      return 'probation';
    case 'reduced':
      return 'reduced';
    case 'discontinued':
      return 'suspended';
  }
}

export interface InspectionFold {
  state: SwitchingState;
  /** Every switch the rules made, in order (the k-th is recorded with id suffix `:k`). */
  switches: InspectionSwitch[];
}

type Decided = Extract<LedgerEvent, { type: 'batch.accepted' | 'batch.rejected' }>;

/** A decision event as the switching rules count it (null: not one to count — a carried batch's share of a decision counted once). */
function outcomeOf(e: Decided, tightened: ReturnType<typeof inspectionPolicy>['spec']): SwitchingOutcome | null {
  const d = e.data.decision;
  // A carried batch is settled by another batch's decision, counted there — except a forced
  // decision (no deciding batch): counted once, on its last carried batch.
  if (e.data.decidedWith && !(d?.rule === 'sprt-forced' && d.carried.at(-1) === e.subject)) return null;
  const n = d?.evidence.n ?? e.data.goldN;
  const wrong = d?.evidence.wrong ?? Math.round(e.data.goldN * (1 - (e.data.accuracy ?? 1)));
  const decision = e.type === 'batch.accepted' ? 'accept' : 'reject';
  return {
    batchId: e.subject,
    decision,
    n,
    wrong,
    batches: d?.evidence.batches ?? 1,
    passesTightened: decision === 'accept' && tightened !== null && passesTightened(tightened, { n, wrong }),
  };
}

/**
 * Folds a program's ledger into one vendor's inspection state for a protocol.
 *
 * @example foldInspection(ledger, { workforceId: 'vendor-b', protocol }).state.level // 'tightened'
 */
export function foldInspection(
  events: readonly FoldableEvent[],
  opts: { workforceId: string; protocol: ProtocolVersion },
): InspectionFold {
  const { workforceId, protocol } = opts;
  const section = protocol.acceptance ?? DEFAULT_ACCEPTANCE;
  const rules = section.switching;
  const tightened = inspectionPolicy(acceptanceOf(protocol).spec, 'tightened').spec;
  const prefix = `${protocol.protocolId}@`;
  let state = initialSwitchingState();
  const switches: InspectionFold['switches'] = [];
  // A qualification exam is decided by the exam rule (qualification.ts), never counted as a production decision.
  const exams = new Set<string>();
  for (const e of distinctInOrder(events)) {
    if (e.type === 'exam.dispatched') exams.add(e.data.batchId);
    if (exams.has(e.subject)) continue;
    if (!e.protocol.startsWith(prefix) || !('workforceId' in e.data) || e.data.workforceId !== workforceId) continue;
    let outcome: SwitchingOutcome | null = null;
    if (e.type === 'batch.accepted' || e.type === 'batch.rejected') outcome = outcomeOf(e, tightened);
    else if (e.type === 'batch.inconclusive') {
      const d = e.data.decision;
      outcome = { batchId: e.subject, decision: 'inconclusive', n: d.evidence.n, wrong: d.evidence.wrong, pooling: d.rule === 'sprt' };
    } else if (e.type === 'workforce.inspection-switched' && e.data.rule === 'corrective-action' && state.level === 'discontinued') {
      state = resumeInspection(state, e.reason).state;
    }
    if (!outcome) continue;
    const step = nextInspection(state, outcome, rules);
    state = step.state;
    if (step.switch) switches.push(step.switch);
  }
  return { state, switches };
}
