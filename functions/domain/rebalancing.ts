/**
 * Rebalancing: vendor allocation shares move toward quality, within capacity,
 * and every change carries its reason.
 */
import type { ProtocolVersion, Scorecard, Shares, Workforce } from './model/index.js';
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

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

/**
 * First rebalancing rule. Quality is the lower Wilson bound of gold accuracy, so
 * a vendor with few gold items is not over-trusted. Among vendors with enough
 * gold, the target share is proportional to (quality − floor)⁺; shares move a
 * fraction (the protocol's learning rate) of the way to the target; vendors with
 * too little gold keep their share; suspended vendors get 0; a share never
 * implies more cases than the vendor's capacity (the excess flows to others).
 *
 * @example rebalanceShares({ protocol, vendors, previous: { a: 0.5, b: 0.5 }, scorecards, expectedVendorCases: 400 })
 */
export function rebalanceShares(input: RebalanceInput): { shares: Shares; changes: ShareChange[] } {
  const { protocol, vendors, previous, scorecards } = input;
  const { floor, learningRate, minShare } = protocol.rebalancing;
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
  const mass = prev.reduce((s, p, i) => s + (evidence[i] ? p : 0), 0);
  const weights = ids.map((_, i) => (evidence[i] ? Math.max(quality[i] - floor, 0) : 0));
  const weightSum = weights.reduce((s, w) => s + w, 0);

  ids.forEach((id, i) => {
    const sc = scorecards[id];
    if (vendors[i].status === 'suspended') {
      next[i] = 0;
      reasons[i] = 'suspended: no work';
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
      reasons[i] =
        `gold accuracy lower bound ${quality[i].toFixed(3)} (n=${sc!.goldN}) ${above ? 'above' : 'below'} floor ${floor}: ` +
        `target ${target.toFixed(3)}, moved ${learningRate} of the way`;
    }
  });

  // Normalise, then enforce capacity: apportion a large number of units with
  // caps from capacity, which moves any excess to vendors with headroom.
  const total = next.reduce((s, x) => s + x, 0);
  let shares = total > 0 ? next.map((x) => x / total) : next;
  if (input.expectedVendorCases > 0 && total > 0) {
    const UNITS = 1_000_000;
    const caps = vendors.map((v) =>
      Math.floor((caseCapacity(v, protocol) / input.expectedVendorCases) * UNITS),
    );
    const capped = apportion(UNITS, shares, caps);
    const placed = capped.reduce((s, x) => s + x, 0);
    if (placed > 0) {
      capped.forEach((units, i) => {
        const s = units / UNITS;
        if (s + 1e-9 < shares[i]) reasons[i] += `; capped by capacity (${vendors[i].capacityPerRound}/round)`;
      });
      shares = capped.map((u) => u / UNITS);
    }
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
