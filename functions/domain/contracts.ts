/**
 * Contracts as the ledger states them, the version in force for a batch, and
 * the one rule that turns a batch's decision into money: `settlementLine`.
 * Settlement (use-cases/settle-batch.ts) and statements (statements.ts) both
 * call it, so what was recorded and what a statement recomputes cannot differ.
 *
 * Money is integer minor units (cents). The only division is a share withheld
 * on rejection, in basis points: `round half up` to the cent, once per batch
 * line (`withheldShare`). Dollar figures of the older workforce terms become
 * cents by decimal rounding (`toCents`), never by truncating a float.
 */
import type { Contract, ContractTerms, LedgerEvent } from './model/index.js';
import { contractIdOf } from './model/index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Every contract version the ledger holds, in ledger order. */
export function contractsFromLedger(events: readonly LedgerEvent[]): Contract[] {
  const out: Contract[] = [];
  for (const e of events) {
    if (e.type === 'contract.registered') {
      const { origin, ...v } = e.data;
      out.push({ ...v, origin });
    } else if (e.type === 'contract.amended') {
      const { previousVersion: _p, changed: _c, ...v } = e.data;
      out.push({ ...v, origin: 'amended' });
    }
  }
  return out;
}

/** `id@version`, as batches and statements name a contract. */
export const contractRef = (c: Pick<Contract, 'contractId' | 'version'>): string => `${c.contractId}@${c.version}`;

/**
 * The version that governs work dispatched at `at`: the highest version that
 * starts at or before it. Work dispatched before the first version starts is
 * paid under version 1 (a contract registered after work began covers it);
 * work dispatched after the last version's `validTo` is still paid under it,
 * and `expired` says so. Undefined when the pair has no contract.
 *
 * @example contractInForce(contracts, 'vendor-a', 'chest-xray', '2026-11-02T09:00:00.000Z')
 */
export function contractInForce(
  contracts: readonly Contract[],
  workforceId: string,
  protocolId: string,
  at: string,
): { contract: Contract; expired: boolean } | undefined {
  const id = contractIdOf(workforceId, protocolId);
  const versions = contracts.filter((c) => c.contractId === id).sort((a, b) => a.version - b.version);
  if (versions.length === 0) return undefined;
  const t = Date.parse(at);
  const started = versions.filter((c) => Date.parse(c.validFrom) <= t);
  const contract = started.at(-1) ?? versions[0];
  return { contract, expired: contract.validTo !== undefined && t >= Date.parse(contract.validTo) };
}

/**
 * Dollars (the older workforce and protocol figures) to cents, by decimal
 * rounding: `toCents(0.285)` is 29, where `Math.round(0.285 * 100)` gives 28.
 */
export function toCents(dollars: number): number {
  if (!Number.isFinite(dollars) || dollars < 0) throw new RangeError(`expected an amount ≥ 0, got ${dollars}`);
  return Math.round(Number(`${dollars}e2`));
}

/** Cents as text: `formatMoney(-1250, 'USD')` → `-$12.50`; other currencies by code. */
export function formatMoney(cents: number, currency = 'USD'): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const text = `${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
  return currency === 'USD' ? `${sign}$${text}` : `${sign}${text} ${currency}`;
}

/**
 * The migration to contracts: a workforce's terms (price per case in dollars,
 * SLA hours) and the protocol's rejection penalty (a share) as version 1 of
 * its contract — what settlement paid before contracts existed, in cents:
 * every item at the price, rework at the same price, no service credits, the
 * penalty share withheld on rejection.
 */
export function contractFromWorkforceTerms(input: {
  workforceId: string;
  protocolId: string;
  pricePerCase: number;
  slaHours: number;
  /** Share of the price withheld on rejection (the protocol's `rejectionPenalty`, 0…1). */
  rejectionPenalty: number;
  validFrom: string;
}): Contract {
  const price = toCents(input.pricePerCase);
  return {
    contractId: contractIdOf(input.workforceId, input.protocolId),
    workforceId: input.workforceId,
    protocolId: input.protocolId,
    version: 1,
    validFrom: input.validFrom,
    terms: {
      currency: 'USD',
      pricePerAcceptedCaseCents: price,
      pricePerReworkCents: price,
      slaHours: input.slaHours,
      lateCredit: { perLateBatchCents: 0, perLateDayCents: 0 },
      rejection: { rule: 'withhold-share', basisPoints: Math.round(input.rejectionPenalty * 10_000) },
    },
    origin: 'workforce-terms',
  };
}

/** Names of the terms (and validity fields) that differ between two versions, for `contract.amended`. */
export function changedTerms(before: Contract, after: Omit<Contract, 'origin' | 'version'>): string[] {
  const out: string[] = [];
  const keys = Object.keys({ ...before.terms, ...after.terms }) as (keyof ContractTerms)[];
  for (const k of keys) if (JSON.stringify(before.terms[k]) !== JSON.stringify(after.terms[k])) out.push(k);
  if (before.validFrom !== after.validFrom) out.push('validFrom');
  if (before.validTo !== after.validTo) out.push('validTo');
  return out;
}

/** How late a batch was against its contract's SLA. */
export interface Lateness {
  /** Dispatch + the contract's SLA hours. */
  deadline: string;
  late: boolean;
  /** Days (or part days) past the deadline; 0 when on time. */
  lateDays: number;
}

/**
 * A batch's lateness: delivered (accepted upload) or closed undelivered at
 * `at`, against dispatch + the contract's SLA. Every day started past the
 * deadline counts: 1 minute late is 1 late day, 24 h 1 minute is 2.
 *
 * @example latenessOf(terms /* slaHours 24 *\/, '2026-11-01T00:00:00Z', '2026-11-02T06:00:00Z') // { late: true, lateDays: 1, … }
 */
export function latenessOf(terms: Pick<ContractTerms, 'slaHours'>, dispatchedAt: string, at: string): Lateness {
  const deadlineMs = Date.parse(dispatchedAt) + terms.slaHours * HOUR;
  const past = Date.parse(at) - deadlineMs;
  return { deadline: new Date(deadlineMs).toISOString(), late: past > 0, lateDays: past > 0 ? Math.ceil(past / DAY) : 0 };
}

/** What happened to a batch, as far as money goes. */
export interface SettlementDecision {
  /** pending: inconclusive or carried, not billed until a conclusive decision. */
  outcome: 'accepted' | 'rejected' | 'overdue' | 'pending';
  /** Items of the batch (gold included). */
  items: number;
  /** Of them, cases that are re-dos of work another batch did not deliver. */
  reworkItems: number;
}

/** One batch's money under its contract, and the rule that produced it, in words. */
export interface SettlementLine {
  contract: string;
  outcome: SettlementDecision['outcome'];
  /** Price of the work: items × price, rework at the rework price (0 when nothing was delivered). */
  grossCents: number;
  /** Withheld for a rejection. */
  penaltyCents: number;
  /** Service credit for lateness. */
  creditCents: number;
  /** What the line bills: gross − penalty − credit (negative for an undelivered batch's credit); 0 when pending. */
  amountCents: number;
  /** False for a pending line: shown, not billed. */
  billed: boolean;
  rule: string;
}

/** Round half up of `cents × basisPoints / 10000`, in integers. */
export function withheldShare(cents: number, basisPoints: number): number {
  return Math.floor((cents * basisPoints + 5_000) / 10_000);
}

/**
 * The money of one batch under a contract: the one rule settlement records
 * and statements recompute.
 * - accepted: gross = (items − rework) × price + rework × rework price.
 * - rejected: the contract's rejection rule withholds a share (basis points,
 *   rounded half up) or an amount per item (at most the gross).
 * - late (delivered past the contract's SLA): credit = per late batch + per
 *   late day × days, at most what the line would otherwise pay.
 * - overdue (never delivered): nothing is paid and the credit is owed in
 *   full (a negative line), with at least one late day.
 * - pending (inconclusive, carried): nothing billed; the gross is shown.
 *
 * @example settlementLine(contract, { outcome: 'accepted', items: 63, reworkItems: 0 }, { late: false, lateDays: 0, deadline })
 *   // { amountCents: 3150, rule: 'accepted: 63 × $0.50 = $31.50 (vendor-a.chest-xray@1)', … }
 */
export function settlementLine(contract: Contract, decision: SettlementDecision, lateness: Lateness): SettlementLine {
  const t = contract.terms;
  const ref = contractRef(contract);
  const money = (c: number) => formatMoney(c, t.currency);
  // Re-dos are priced apart only where the contract prices them differently (the same words either way otherwise).
  const rework = t.pricePerReworkCents === t.pricePerAcceptedCaseCents ? 0 : decision.reworkItems;
  const fresh = decision.items - rework;
  const gross = fresh * t.pricePerAcceptedCaseCents + rework * t.pricePerReworkCents;
  const priced =
    `${fresh} × ${money(t.pricePerAcceptedCaseCents)}` +
    (rework > 0 ? ` + ${rework} rework × ${money(t.pricePerReworkCents)}` : '') +
    ` = ${money(gross)}`;
  const lateDays = decision.outcome === 'overdue' ? Math.max(1, lateness.lateDays) : lateness.lateDays;
  const owed = lateness.late || decision.outcome === 'overdue' ? t.lateCredit.perLateBatchCents + t.lateCredit.perLateDayCents * lateDays : 0;
  const creditText = (credit: number) =>
    `late ${lateDays} day${lateDays === 1 ? '' : 's'}: credit ${money(t.lateCredit.perLateBatchCents)} + ${lateDays} × ${money(t.lateCredit.perLateDayCents)}` +
    (credit < owed ? ` = ${money(owed)}, capped at ${money(credit)}` : ` = ${money(credit)}`);

  if (decision.outcome === 'pending') {
    return { contract: ref, outcome: 'pending', grossCents: gross, penaltyCents: 0, creditCents: 0, amountCents: 0, billed: false, rule: `pending (inconclusive, not billed): ${priced} (${ref})` };
  }
  if (decision.outcome === 'overdue') {
    const rule = `overdue, not delivered: nothing paid${owed > 0 ? `; ${creditText(owed)} owed` : '; no credit in the contract'} (${ref})`;
    return { contract: ref, outcome: 'overdue', grossCents: 0, penaltyCents: 0, creditCents: owed, amountCents: -owed, billed: true, rule };
  }
  let penalty = 0;
  let penaltyText = '';
  if (decision.outcome === 'rejected') {
    const r = t.rejection;
    if (r.rule === 'withhold-share') {
      penalty = withheldShare(gross, r.basisPoints);
      penaltyText = `; withheld on rejection: ${formatBasisPoints(r.basisPoints)} = ${money(penalty)}`;
    } else {
      penalty = Math.min(gross, decision.items * r.centsPerItem);
      penaltyText = `; withheld on rejection: ${decision.items} × ${money(r.centsPerItem)} = ${money(penalty)}${penalty < decision.items * r.centsPerItem ? ' (capped at the price)' : ''}`;
    }
  }
  const credit = Math.min(owed, gross - penalty);
  const amount = gross - penalty - credit;
  const rule = `${decision.outcome}: ${priced}${penaltyText}${owed > 0 ? `; ${creditText(credit)}` : ''} → ${money(amount)} (${ref})`;
  return { contract: ref, outcome: decision.outcome, grossCents: gross, penaltyCents: penalty, creditCents: credit, amountCents: amount, billed: true, rule };
}

/** `10000` → `100%`, `2550` → `25.5%`. */
function formatBasisPoints(bp: number): string {
  return `${bp / 100}%`;
}
