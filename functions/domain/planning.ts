/**
 * Round planning: route every case, then split each pool's work across
 * workforces by allocation shares, qualifications and capacity.
 */
import type { Case, ProtocolVersion, Shares, Workforce } from './model/index.js';
import { type RoutingDecision, routeCase } from './routing.js';

export interface RoundPlan {
  decisions: RoutingDecision[];
  /** Cases per workforce, in input order. */
  assignments: Record<string, Case[]>;
  excluded: RoutingDecision[];
  /** Cases no qualified workforce had capacity for this round, with the reason. */
  deferred: { caseId: string; reason: string }[];
}

export interface PlanRoundInput {
  cases: readonly Case[];
  protocol: ProtocolVersion;
  workforces: readonly Workforce[];
  /** Vendor allocation shares (vendor id → share). Missing vendors get 0. */
  shares: Shares;
}

const qualified = (w: Workforce, required: readonly string[]): boolean =>
  w.status !== 'suspended' && required.every((q) => w.qualifications.includes(q));

/**
 * Capacity for real cases this round: hidden gold items take vendor capacity too,
 * so a vendor with capacity C and gold rate r can take ⌊C·(1−r)⌋ real cases.
 */
export function caseCapacity(w: Workforce, protocol: ProtocolVersion): number {
  const goldRate = w.kind === 'vendor' ? protocol.goldRate : 0;
  return Math.floor(w.capacityPerRound * (1 - goldRate));
}

/**
 * Largest-remainder apportionment of `total` items by `weights`, each capped by
 * `caps`; what a capped party cannot take flows to the others by their weights.
 */
export function apportion(total: number, weights: readonly number[], caps: readonly number[]): number[] {
  const counts = weights.map(() => 0);
  let remaining = total;
  let open = weights.map((w, i) => (w > 0 && caps[i] > 0 ? i : -1)).filter((i) => i >= 0);
  while (remaining > 0 && open.length > 0) {
    const sum = open.reduce((s, i) => s + weights[i], 0);
    const quotas = open.map((i) => (remaining * weights[i]) / sum);
    const floors = quotas.map(Math.floor);
    let left = remaining - floors.reduce((s, x) => s + x, 0);
    const order = open
      .map((i, k) => ({ k, frac: quotas[k] - floors[k], i }))
      .sort((a, b) => b.frac - a.frac || a.i - b.i);
    for (const { k } of order) {
      if (left === 0) break;
      floors[k] += 1;
      left -= 1;
    }
    let placed = 0;
    open.forEach((i, k) => {
      const take = Math.min(floors[k], caps[i] - counts[i]);
      counts[i] += take;
      placed += take;
    });
    remaining -= placed;
    if (placed === 0) break;
    open = open.filter((i) => counts[i] < caps[i]);
  }
  return counts;
}

/**
 * Plans a round. Routing is per case (see routeCase); then, per pool and per set
 * of required qualifications, the cases are apportioned: vendors by share
 * (largest remainder), internal teams by capacity. Capacity is never exceeded;
 * what does not fit is deferred with a reason.
 *
 * @example planRound({ cases, protocol, workforces, shares: { 'vendor-a': 0.5, 'vendor-b': 0.5 } })
 */
export function planRound(input: PlanRoundInput): RoundPlan {
  const { cases, protocol, workforces, shares } = input;
  const decisions = cases.map((c) => routeCase(c, protocol));
  const byId = new Map(cases.map((c) => [c.caseId, c]));
  const remaining = new Map(workforces.map((w) => [w.workforceId, caseCapacity(w, protocol)]));
  const assignments: Record<string, Case[]> = Object.fromEntries(workforces.map((w) => [w.workforceId, []]));
  const excluded: RoutingDecision[] = [];
  const deferred: { caseId: string; reason: string }[] = [];

  // Group by pool + qualification set, keeping input order inside each group.
  const groups = new Map<string, { pool: 'internal' | 'vendor'; quals: string[]; cases: Case[] }>();
  for (const d of decisions) {
    if (d.route.pool === 'exclude') {
      excluded.push(d);
      continue;
    }
    const quals = [...d.route.qualifications].sort();
    const key = `${d.route.pool}|${quals.join(',')}`;
    let g = groups.get(key);
    if (!g) {
      g = { pool: d.route.pool, quals, cases: [] };
      groups.set(key, g);
    }
    g.cases.push(byId.get(d.caseId)!);
  }

  for (const g of groups.values()) {
    const candidates = workforces.filter((w) => w.kind === g.pool && qualified(w, g.quals));
    const weights = candidates.map((w) =>
      g.pool === 'vendor' ? (shares[w.workforceId] ?? 0) : caseCapacity(w, protocol),
    );
    const caps = candidates.map((w) => remaining.get(w.workforceId) ?? 0);
    const counts = apportion(g.cases.length, weights, caps);
    let next = 0;
    candidates.forEach((w, i) => {
      const take = g.cases.slice(next, next + counts[i]);
      next += counts[i];
      assignments[w.workforceId].push(...take);
      remaining.set(w.workforceId, (remaining.get(w.workforceId) ?? 0) - take.length);
    });
    const quals = g.quals.join(', ') || 'no qualifications';
    const reason =
      candidates.length === 0
        ? `no active ${g.pool} workforce has qualifications [${quals}]`
        : weights.every((w) => w <= 0)
          ? `no qualified ${g.pool} workforce has an allocation share`
          : `${g.pool} capacity for [${quals}] exhausted this round`;
    for (const c of g.cases.slice(next)) deferred.push({ caseId: c.caseId, reason });
  }
  return { decisions, assignments, excluded, deferred };
}
