/**
 * Rebalancing: vendor allocation shares move toward quality-adjusted value,
 * within capacity; a vendor under tightened inspection (probation) weighs less,
 * a suspended (discontinued) one gets nothing — the levels themselves come from
 * the switching rules (inspection.ts); every change carries its reason.
 */
import type { LedgerEvent, ProtocolVersion, Scorecard, Shares, Workforce } from './model/index.js';
import { InspectionFactors } from './acceptance/index.js';
import { apportion, caseCapacity } from './planning.js';

export interface ShareChange {
  workforceId: string;
  from: number;
  to: number;
  reason: string;
}

export interface RebalanceInput {
  protocol: ProtocolVersion;
  vendors: readonly Workforce[];
  previous: Shares;
  scorecards: Readonly<Record<string, Scorecard>>;
  /** Vendor-pool cases expected next round: turns capacity into a share cap. */
  expectedVendorCases: number;
}

/** A vendor under tightened inspection weighs this much less in the share targets (acceptance/switching.ts). */
const TIGHTENED_SHARE = InspectionFactors.parse({}).tightenedShare;

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

/**
 * Round 1's shares: equal among the vendors not suspended, to four decimals
 * (dispatch stores them; the round preview shows them before that).
 *
 * @example initialShares([vendorA, vendorB, internalTeam]) // { 'vendor-a': 0.5, 'vendor-b': 0.5 }
 */
export function initialShares(workforces: readonly Workforce[]): Shares {
  const vendors = workforces.filter((w) => w.kind === 'vendor' && w.status !== 'suspended');
  return Object.fromEntries(vendors.map((v) => [v.workforceId, round4(1 / vendors.length)]));
}

/**
 * Moves shares toward value. Quality is the lower Wilson bound of gold accuracy,
 * so a vendor with few gold items is not over-trusted. The target share of a
 * vendor with enough gold is proportional to
 *   (quality − floor)⁺ × SLA adherence × (cheapest cost per accepted case / own)^costWeight,
 * shares move `learningRate` of the way to the target; vendors with too little
 * gold keep their share; a vendor under tightened inspection (probation) has its
 * weight multiplied by the tightened share factor (0.5); suspended vendors get 0; a vendor above the floor keeps
 * at least `minShare`; no share implies more cases than the vendor's capacity
 * (the excess flows to vendors with headroom).
 *
 * @example rebalanceShares({ protocol, vendors, previous: { a: 0.5, b: 0.5 }, scorecards, expectedVendorCases: 400 })
 */
export function rebalanceShares(input: RebalanceInput): { shares: Shares; changes: ShareChange[] } {
  const { protocol, vendors, previous, scorecards } = input;
  const { floor, learningRate, minShare, costWeight } = protocol.rebalancing;
  const ids = vendors.map((v) => v.workforceId);
  const prev = ids.map((id) => previous[id] ?? 0);
  const reasons: string[] = ids.map(() => '');
  const next = prev.slice();

  const evidence = ids.map((id, i) => {
    const sc = scorecards[id];
    if (vendors[i].status === 'suspended') return false;
    return sc !== undefined && !sc.insufficient && sc.interval !== null;
  });
  const quality = ids.map((id) => scorecards[id]?.interval?.lower ?? Number.NaN);
  const sla = ids.map((id) => scorecards[id]?.slaAdherence ?? 1);
  const costs = ids.map((id) => scorecards[id]?.costPerAcceptedCase ?? null);
  const known = costs.filter((c, i): c is number => c !== null && c > 0 && evidence[i]);
  const cheapest = known.length ? known.reduce((a, b) => Math.min(a, b)) : null;
  const costFactor = costs.map((c) => (cheapest !== null && c !== null && c > 0 ? (cheapest / c) ** costWeight : 1));
  const mass = prev.reduce((s, p, i) => s + (evidence[i] ? p : 0), 0);
  const inspection = vendors.map((v) => (v.status === 'probation' ? TIGHTENED_SHARE : 1));
  const weights = ids.map((_, i) => (evidence[i] ? Math.max(quality[i] - floor, 0) * sla[i] * costFactor[i] * inspection[i] : 0));
  const weightSum = weights.reduce((s, w) => s + w, 0);

  ids.forEach((id, i) => {
    const sc = scorecards[id];
    if (vendors[i].status === 'suspended') {
      next[i] = 0;
      reasons[i] = 'suspended: no work';
    } else if (!evidence[i] && sc?.slaAdherence !== null && sc?.slaAdherence !== undefined && sc.slaAdherence < 1) {
      // No quality evidence, but missed SLAs: the share shrinks with adherence.
      next[i] = prev[i] + learningRate * (prev[i] * sc.slaAdherence - prev[i]);
      reasons[i] = `SLA adherence ${sc.slaAdherence.toFixed(2)} (${sc.slaMisses} batch(es) overdue) and too little gold evidence (n=${sc.goldN}): share cut, moved ${learningRate} of the way`;
    } else if (!evidence[i]) {
      reasons[i] = `too little gold evidence (n=${sc?.goldN ?? 0} < ${protocol.thresholds.minGoldItems}): share kept`;
    } else if (weightSum === 0) {
      reasons[i] = `no vendor's gold accuracy lower bound is above the floor ${floor}: shares kept`;
    } else {
      const target = (mass * weights[i]) / weightSum;
      let moved = prev[i] + learningRate * (target - prev[i]);
      const above = quality[i] >= floor;
      if (above && moved < minShare) moved = minShare;
      next[i] = moved;
      const parts = [`gold accuracy lower bound ${quality[i].toFixed(3)} (n=${sc!.goldN}) ${above ? 'above' : 'below'} floor ${floor}`];
      if (inspection[i] < 1) parts.push(`tightened inspection: weight × ${inspection[i]}`);
      if (sc!.slaAdherence !== null && sc!.slaAdherence < 1) parts.push(`SLA adherence ${sc!.slaAdherence.toFixed(2)}`);
      if (costs[i] !== null && cheapest !== null && costWeight > 0) parts.push(`cost per accepted case ${costs[i]!.toFixed(2)}`);
      reasons[i] = `${parts.join(', ')}: target ${target.toFixed(3)}, moved ${learningRate} of the way`;
    }
  });

  // Normalise, then enforce capacity: apportion a large number of units with
  // caps from capacity, which moves any excess to vendors with headroom.
  const total = next.reduce((s, x) => s + x, 0);
  let shares = total > 0 ? next.map((x) => x / total) : next;
  if (input.expectedVendorCases > 0 && total > 0) {
    const UNITS = 1_000_000;
    const caps = vendors.map((v) =>
      v.status === 'suspended' ? 0 : Math.floor((caseCapacity(v, protocol) / input.expectedVendorCases) * UNITS),
    );
    const capped = apportion(UNITS, shares, caps);
    const placed = capped.reduce((s, x) => s + x, 0);
    if (placed > 0) {
      capped.forEach((units, i) => {
        if (units / UNITS + 1e-9 < shares[i]) reasons[i] += `; capped by capacity (${vendors[i].capacityPerRound}/round)`;
      });
      shares = capped.map((u) => u / placed);
    }
  }
  // minShare holds after normalisation: pin the vendors above the floor that
  // fell below it and scale the others into what is left.
  const floorOk = ids.map((_, i) => evidence[i] && quality[i] >= floor && vendors[i].status !== 'suspended');
  const low = shares.map((x, i) => floorOk[i] && x < minShare);
  if (low.some(Boolean) && low.filter(Boolean).length * minShare < 1) {
    const pinned = low.filter(Boolean).length * minShare;
    const rest = shares.reduce((s, x, i) => s + (low[i] ? 0 : x), 0);
    shares = shares.map((x, i) => (low[i] ? minShare : rest > 0 ? (x * (1 - pinned)) / rest : x));
  }
  const result: Shares = {};
  const changes: ShareChange[] = [];
  ids.forEach((id, i) => {
    const to = round4(shares[i]);
    result[id] = to;
    if (to !== round4(prev[i])) changes.push({ workforceId: id, from: round4(prev[i]), to, reason: reasons[i] });
  });
  return { shares: result, changes };
}

/**
 * Shares per round, recomputed from the ledger: each round's shares are the
 * previous round's with that round's `shares.changed` events applied (round 1
 * starts from zero, its initial shares being recorded as changes too).
 */
export function projectShares(events: readonly LedgerEvent[], protocolId: string): Record<number, Shares> {
  const byRound = new Map<number, { workforceId: string; to: number }[]>();
  const seen = new Set<string>();
  for (const e of events) {
    if (e.type !== 'shares.changed' || seen.has(e.eventId) || !e.protocol.startsWith(`${protocolId}@`)) continue;
    seen.add(e.eventId);
    const { round, workforceId, to } = e.data;
    const list = byRound.get(round) ?? [];
    list.push({ workforceId, to });
    byRound.set(round, list);
  }
  const out: Record<number, Shares> = {};
  const rounds = [...byRound.keys()].sort((a, b) => a - b);
  if (rounds.length === 0) return out;
  let current: Shares = {};
  for (let r = rounds[0]; r <= rounds[rounds.length - 1]; r++) {
    current = { ...current };
    for (const c of byRound.get(r) ?? []) current[c.workforceId] = c.to;
    out[r] = current;
  }
  return out;
}
