/**
 * A workforce's statement for a period: a pure fold over the program's ledger.
 * Each line is one money event of one batch, placed in the period of the event
 * (accrual): a decision (accepted, rejected), an SLA miss (overdue), or an
 * adjustment (an acceptance withdrawn by a failure). Its amount is recomputed
 * by `settlementLine` under the contract version in force at the batch's
 * dispatch, from the evidence in the ledger (items, re-dos, delivery time), so
 * a statement can be checked against the ledger to the cent. Inconclusive
 * (carried) batches are shown as pending and billed only when a conclusive
 * decision lands, in that decision's period.
 */
import {
  contractFromWorkforceTerms,
  contractInForce,
  contractRef,
  contractsFromLedger,
  formatMoney,
  latenessOf,
  type SettlementLine,
  settlementLine,
  toCents,
} from './contracts.js';
import type { Contract, LedgerEvent } from './model/index.js';
import { examBatchIds } from './qualification.js';

/** What the ledger says about one batch, as far as money goes. */
export interface BatchFacts {
  batchId: string;
  workforceId: string;
  protocol: string;
  protocolId: string;
  dispatchedAt: string;
  items: number;
  gold: number;
  /** Real primary cases the dispatch assigned (no gold, no overlap second copies). */
  caseIds: string[];
  /** Of them, cases an earlier batch did not deliver (rejected, overdue or failed before this dispatch). */
  reworkItems: number;
  /** The first accepted upload's time. */
  deliveredAt?: string;
  /** Cases put back to the queue from this batch (its work re-done elsewhere). */
  requeued: number;
}

/**
 * Facts of every dispatched batch, folded in ledger order.
 *
 * @example batchFactsFromLedger(events).get('p-r1-vendor-a-1')?.reworkItems // 0
 */
export function batchFactsFromLedger(events: readonly LedgerEvent[]): Map<string, BatchFacts> {
  const facts = new Map<string, BatchFacts>();
  const undelivered = new Set<string>();
  const closeUndelivered = (batchId: string) => {
    for (const c of facts.get(batchId)?.caseIds ?? []) undelivered.add(c);
  };
  for (const e of events) {
    switch (e.type) {
      case 'batch.dispatched': {
        if (facts.has(e.subject)) break;
        const protocolId = e.protocol.split('@')[0];
        const reworkItems = e.data.caseIds.filter((c) => undelivered.has(c)).length;
        facts.set(e.subject, {
          batchId: e.subject,
          workforceId: e.data.workforceId,
          protocol: e.protocol,
          protocolId,
          dispatchedAt: e.at,
          items: e.data.items,
          gold: e.data.gold,
          caseIds: e.data.caseIds,
          reworkItems,
          requeued: 0,
        });
        break;
      }
      case 'submission.accepted': {
        const f = facts.get(e.subject);
        if (f && !f.deliveredAt) f.deliveredAt = e.at;
        break;
      }
      case 'cases.requeued': {
        const f = facts.get(e.subject);
        if (f) f.requeued = Math.max(f.requeued, e.data.cases);
        closeUndelivered(e.subject);
        break;
      }
      case 'batch.overdue': {
        // Overdue re-queues every real case (no cases.requeued event of its own).
        const f = facts.get(e.subject);
        if (f) f.requeued = Math.max(f.requeued, f.caseIds.length);
        closeUndelivered(e.subject);
        break;
      }
      case 'batch.rejected':
      case 'batch.failed':
        closeUndelivered(e.subject);
        break;
    }
  }
  return facts;
}

/**
 * The contract that governs a batch: the version the ledger names for it, else
 * the version in force at its dispatch. Undefined when the pair has none.
 */
export function contractForBatch(contracts: readonly Contract[], facts: BatchFacts, named?: string): { contract: Contract; expired: boolean } | undefined {
  if (named) {
    const c = contracts.find((x) => contractRef(x) === named);
    if (c) return { contract: c, expired: c.validTo !== undefined && Date.parse(facts.dispatchedAt) >= Date.parse(c.validTo) };
  }
  return contractInForce(contracts, facts.workforceId, facts.protocolId, facts.dispatchedAt);
}

/** One line of a statement: a batch's counts and its money (the settlement line's fields; amounts of an adjustment are differences). */
export interface StatementLine extends Pick<SettlementLine, 'grossCents' | 'penaltyCents' | 'creditCents' | 'amountCents' | 'billed' | 'rule'> {
  batchId: string;
  protocol: string;
  /** The ledger event the line comes from (a reference a reader can look up). */
  eventId: string;
  at: string;
  kind: 'settlement' | 'sla-miss' | 'adjustment' | 'pending';
  outcome: SettlementLine['outcome'] | 'withdrawn';
  /** `id@version`, or `none` for a batch settled before contracts. */
  contract: string;
  items: number;
  delivered: number;
  accepted: number;
  rejected: number;
  /** Cases put back to the queue: the work was re-done elsewhere. */
  redoneElsewhere: number;
  reworkItems: number;
  slaMiss: boolean;
  lateDays: number;
  /** For an adjustment: the event of the line it corrects. */
  adjusts?: string;
}

export interface StatementTotals {
  batches: number;
  delivered: number;
  accepted: number;
  rejected: number;
  redoneElsewhere: number;
  slaMisses: number;
  grossCents: number;
  penaltyCents: number;
  creditCents: number;
  /** Sum of the billed lines: what Goldline owes for the period (negative: the workforce owes credits). */
  totalCents: number;
  /** Gross of the pending (inconclusive) batches: not billed. */
  pendingCents: number;
}

export interface Statement {
  programId: string;
  workforceId: string;
  /** The period: events at or after `from` and before `to`. */
  from: string;
  to: string;
  currency: string;
  lines: StatementLine[];
  totals: StatementTotals;
}

/** `<workforce>:<from>:<to>`: the stable id of a workforce's statement for a period. */
export const statementIdOf = (workforceId: string, from: string, to: string): string => `${workforceId}:${from}:${to}`;

/**
 * A workforce's statement for a period, folded from the ledger (every event of
 * the program in ledger order; events after the period do not change it).
 * Decisions recorded before contracts existed carry their recorded charge (in
 * cents) and say so.
 *
 * @example statementFromLedger(events, { programId: 'p', workforceId: 'vendor-a', from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' }).totals.totalCents
 */
export function statementFromLedger(
  events: readonly LedgerEvent[],
  period: { programId: string; workforceId: string; from: string; to: string },
): Statement {
  const from = Date.parse(period.from);
  const to = Date.parse(period.to);
  if (!(from < to)) throw new RangeError(`the period must end after it starts: ${period.from} … ${period.to}`);
  const within = (at: string) => {
    const t = Date.parse(at);
    return t >= from && t < to;
  };
  const before = events.filter((e) => Date.parse(e.at) < to);
  const facts = batchFactsFromLedger(before);
  const contracts = contractsFromLedger(before);
  // Qualification exams are not production work: not on a statement.
  const exams = examBatchIds(before);
  const lines: StatementLine[] = [];
  const settled = new Map<string, StatementLine>();
  const inconclusive = new Map<string, LedgerEvent & { type: 'batch.inconclusive' }>();
  const decisions = new Map<string, LedgerEvent & { type: 'batch.accepted' | 'batch.rejected' }>();

  for (const e of before) {
    const f = facts.get(e.subject);
    if (!f || f.workforceId !== period.workforceId || exams.has(e.subject)) continue;
    switch (e.type) {
      case 'batch.accepted':
      case 'batch.rejected': {
        inconclusive.delete(e.subject);
        const outcome = e.type === 'batch.accepted' ? 'accepted' : 'rejected';
        const line = decisionLine(e, f, contracts, outcome);
        settled.set(e.subject, line);
        decisions.set(e.subject, e);
        if (within(e.at)) lines.push(line);
        break;
      }
      case 'batch.inconclusive':
        inconclusive.set(e.subject, e);
        break;
      case 'batch.rescored': {
        // An upheld dispute re-decided the batch (use-cases/disputes.ts): one adjustment, the new decision's line less the old one's.
        const prior = decisions.get(e.subject);
        const original = settled.get(e.subject);
        if (!e.data.flipped || !prior || !original) break;
        const outcome = e.data.decision;
        const next =
          outcome === 'inconclusive'
            ? undefined
            : decisionLine({ ...prior, type: outcome === 'accepted' ? 'batch.accepted' : 'batch.rejected', eventId: e.eventId, at: e.at, data: { ...prior.data, charge: e.data.settlement?.charge ?? prior.data.charge } }, f, contracts, outcome);
        if (next) settled.set(e.subject, next);
        else settled.delete(e.subject);
        if (!within(e.at)) break;
        const now = next ?? { accepted: 0, rejected: 0, grossCents: 0, penaltyCents: 0, creditCents: 0, amountCents: 0 };
        const amount = now.amountCents - original.amountCents;
        lines.push({
          ...original,
          eventId: e.eventId,
          at: e.at,
          kind: 'adjustment',
          outcome: next ? next.outcome : 'withdrawn',
          delivered: 0,
          accepted: now.accepted - original.accepted,
          rejected: now.rejected - original.rejected,
          grossCents: now.grossCents - original.grossCents,
          penaltyCents: now.penaltyCents - original.penaltyCents,
          creditCents: now.creditCents - original.creditCents,
          amountCents: amount,
          rule: `re-scored against corrected gold (dispute ${e.data.disputeId}): ${original.outcome} → ${outcome}; ${formatSigned(amount)} adjusts ${original.eventId}`,
          adjusts: original.eventId,
        });
        break;
      }
      case 'batch.overdue':
        if (within(e.at)) lines.push(overdueLine(e, f, contracts));
        break;
      case 'batch.failed': {
        const original = settled.get(e.subject);
        if (!e.data.revokedAcceptance || !original || !within(e.at)) break;
        lines.push({
          ...original,
          eventId: e.eventId,
          at: e.at,
          kind: 'adjustment',
          outcome: 'withdrawn',
          delivered: 0,
          accepted: -original.accepted,
          grossCents: -original.grossCents,
          penaltyCents: -original.penaltyCents,
          creditCents: -original.creditCents,
          amountCents: -original.amountCents,
          rule: `acceptance withdrawn (the batch failed before its labels were recorded): ${formatSigned(-original.amountCents)} reverses ${original.eventId}`,
          adjusts: original.eventId,
        });
        break;
      }
    }
  }
  for (const e of inconclusive.values()) {
    const f = facts.get(e.subject);
    if (f) lines.push(pendingLine(e, f, contracts));
  }
  lines.sort((a, b) => a.at.localeCompare(b.at) || a.batchId.localeCompare(b.batchId));
  const currency = lines.map((l) => contracts.find((c) => contractRef(c) === l.contract)?.terms.currency).find(Boolean) ?? 'USD';
  return { programId: period.programId, workforceId: period.workforceId, from: period.from, to: period.to, currency, lines, totals: totalsOf(lines) };
}

function decisionLine(
  e: LedgerEvent & { type: 'batch.accepted' | 'batch.rejected' },
  f: BatchFacts,
  contracts: readonly Contract[],
  outcome: 'accepted' | 'rejected',
): StatementLine {
  const base = baseLine(e, f);
  const inForce = contractForBatch(contracts, f, e.data.contract);
  const counts = { delivered: f.items, accepted: outcome === 'accepted' ? f.items : 0, rejected: outcome === 'rejected' ? f.items : 0 };
  if (!inForce) {
    // Settled before contracts: the charge it recorded, in cents.
    const amount = toCents(e.data.charge);
    const gross = toCents(e.data.items * e.data.pricePerCase);
    return {
      ...base,
      ...counts,
      kind: 'settlement',
      outcome,
      contract: 'none',
      grossCents: gross,
      penaltyCents: gross - amount,
      amountCents: amount,
      rule: `${outcome}: charge recorded before contracts (${formatSigned(amount)})`,
    };
  }
  const terms = inForce.contract.terms;
  const lateness = latenessOf(terms, f.dispatchedAt, f.deliveredAt ?? e.at);
  const line = settlementLine(inForce.contract, { outcome, items: f.items, reworkItems: f.reworkItems }, lateness);
  return {
    ...base,
    ...counts,
    kind: 'settlement',
    outcome,
    contract: line.contract,
    slaMiss: lateness.late,
    lateDays: lateness.lateDays,
    grossCents: line.grossCents,
    penaltyCents: line.penaltyCents,
    creditCents: line.creditCents,
    amountCents: line.amountCents,
    rule: inForce.expired ? `${line.rule}; dispatched after the contract's validTo` : line.rule,
  };
}

function overdueLine(e: LedgerEvent & { type: 'batch.overdue' }, f: BatchFacts, contracts: readonly Contract[]): StatementLine {
  const base = baseLine(e, f);
  const inForce = contractForBatch(contracts, f);
  const contract =
    inForce?.contract ??
    // No contract for the pair: the migration's version 1 has no credits.
    contractFromWorkforceTerms({ workforceId: f.workforceId, protocolId: f.protocolId, pricePerCase: 0, slaHours: e.data.slaHours, rejectionPenalty: 1, validFrom: f.dispatchedAt });
  const lateness = latenessOf(contract.terms, f.dispatchedAt, e.at);
  const line = settlementLine(contract, { outcome: 'overdue', items: f.items, reworkItems: f.reworkItems }, lateness);
  return {
    ...base,
    kind: 'sla-miss',
    outcome: 'overdue',
    contract: inForce ? line.contract : 'none',
    redoneElsewhere: f.requeued,
    slaMiss: true,
    lateDays: Math.max(1, lateness.lateDays),
    creditCents: line.creditCents,
    amountCents: line.amountCents,
    rule: inForce ? line.rule : 'overdue, not delivered: nothing paid; no contract, no credit',
  };
}

function pendingLine(e: LedgerEvent & { type: 'batch.inconclusive' }, f: BatchFacts, contracts: readonly Contract[]): StatementLine {
  const base = baseLine(e, f);
  const inForce = contractForBatch(contracts, f);
  const gross = inForce ? settlementLine(inForce.contract, { outcome: 'pending', items: f.items, reworkItems: f.reworkItems }, latenessOf(inForce.contract.terms, f.dispatchedAt, f.deliveredAt ?? e.at)) : undefined;
  const grossCents = gross?.grossCents ?? toCents(e.data.items * e.data.pricePerCase);
  return {
    ...base,
    kind: 'pending',
    outcome: 'pending',
    contract: gross?.contract ?? 'none',
    delivered: f.items,
    grossCents,
    billed: false,
    rule: `${gross?.rule ?? `pending (inconclusive, not billed): ${formatSigned(grossCents)}`}; ${e.data.decision.reason}`,
  };
}

function baseLine(e: LedgerEvent, f: BatchFacts): StatementLine {
  return {
    batchId: f.batchId,
    protocol: f.protocol,
    eventId: e.eventId,
    at: e.at,
    kind: 'settlement',
    outcome: 'accepted',
    contract: 'none',
    items: f.items,
    delivered: 0,
    accepted: 0,
    rejected: 0,
    redoneElsewhere: e.type === 'batch.rejected' ? f.requeued || f.caseIds.length : 0,
    reworkItems: f.reworkItems,
    slaMiss: false,
    lateDays: 0,
    grossCents: 0,
    penaltyCents: 0,
    creditCents: 0,
    amountCents: 0,
    billed: true,
    rule: '',
  };
}

function totalsOf(lines: readonly StatementLine[]): StatementTotals {
  const t: StatementTotals = {
    batches: new Set(lines.map((l) => l.batchId)).size,
    delivered: 0,
    accepted: 0,
    rejected: 0,
    redoneElsewhere: 0,
    slaMisses: 0,
    grossCents: 0,
    penaltyCents: 0,
    creditCents: 0,
    totalCents: 0,
    pendingCents: 0,
  };
  for (const l of lines) {
    if (!l.billed) {
      t.pendingCents += l.grossCents;
      continue;
    }
    t.delivered += l.delivered;
    t.accepted += l.accepted;
    t.rejected += l.rejected;
    t.redoneElsewhere += l.redoneElsewhere;
    if (l.slaMiss) t.slaMisses++;
    t.grossCents += l.grossCents;
    t.penaltyCents += l.penaltyCents;
    t.creditCents += l.creditCents;
    t.totalCents += l.amountCents;
  }
  return t;
}

const formatSigned = (cents: number): string => formatMoney(cents, 'USD');

/** The stable CSV header of a statement export (one row per line). */
export const STATEMENT_CSV_HEADER = [
  'workforce',
  'period_from',
  'period_to',
  'batch',
  'protocol',
  'event',
  'at',
  'kind',
  'outcome',
  'contract',
  'items',
  'delivered',
  'accepted',
  'rejected',
  'redone_elsewhere',
  'rework_items',
  'sla_miss',
  'late_days',
  'gross_cents',
  'penalty_cents',
  'credit_cents',
  'amount_cents',
  'billed',
  'rule',
  'adjusts',
] as const;

/** A statement's lines as CSV rows under `STATEMENT_CSV_HEADER` (amounts in cents: integers). */
export function statementCsvRows(s: Statement): unknown[][] {
  return s.lines.map((l) => [
    s.workforceId,
    s.from,
    s.to,
    l.batchId,
    l.protocol,
    l.eventId,
    l.at,
    l.kind,
    l.outcome,
    l.contract,
    l.items,
    l.delivered,
    l.accepted,
    l.rejected,
    l.redoneElsewhere,
    l.reworkItems,
    l.slaMiss,
    l.lateDays,
    l.grossCents,
    l.penaltyCents,
    l.creditCents,
    l.amountCents,
    l.billed,
    l.rule,
    l.adjusts ?? '',
  ]);
}
