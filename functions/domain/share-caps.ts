/**
 * A PM's controls over round planning (issue 13, docs/vendor-management.md
 * "Manual control"): share caps and the qualification filter, applied around the
 * pure planner. Pure; no AWS imports.
 */
import type { LedgerEvent, Shares } from './model/index.js';
import { type PlanRoundInput, type RoundPlan, caseCapacity, planRound } from './planning.js';

/**
 * Each vendor's share cap as the ledger states it (`workforce.share-capped`;
 * a null cap removes it), in ledger order, each eventId once.
 *
 * @example shareCapsFromLedger(events) // { 'vendor-b': 0.2 }
 */
export function shareCapsFromLedger(events: readonly LedgerEvent[]): Record<string, number> {
  const caps: Record<string, number> = {};
  const seen = new Set<string>();
  for (const e of events) {
    if (seen.has(e.eventId) || e.type !== 'workforce.share-capped') continue;
    seen.add(e.eventId);
    if (e.data.cap === null) delete caps[e.data.workforceId];
    else caps[e.data.workforceId] = e.data.cap;
  }
  return caps;
}

/**
 * Shares with each capped vendor held at its cap (as a fraction of the vendor
 * pool) and the excess given to the uncapped vendors in proportion to their
 * shares (water-filling, repeated until no vendor is over its cap). With nobody
 * left to take the excess, the shares sum to less than 1.
 *
 * @example capShares({ a: 0.5, b: 0.5 }, { b: 0.2 }) // { a: 0.8, b: 0.2 }
 */
export function capShares(shares: Shares, caps: Readonly<Record<string, number>>): Shares {
  const total = Object.values(shares).reduce((s, x) => s + x, 0);
  if (total <= 0) return { ...shares };
  const f: Record<string, number> = Object.fromEntries(Object.entries(shares).map(([k, v]) => [k, v / total]));
  const fixed = new Set<string>();
  for (let guard = 0; guard <= Object.keys(f).length; guard++) {
    const over = Object.keys(f).filter((k) => !fixed.has(k) && caps[k] !== undefined && f[k] > caps[k] + 1e-12);
    if (over.length === 0) break;
    let excess = 0;
    for (const k of over) {
      excess += f[k] - caps[k];
      f[k] = caps[k];
      fixed.add(k);
    }
    const takers = Object.keys(f).filter((k) => !fixed.has(k) && f[k] > 0);
    const base = takers.reduce((s, k) => s + f[k], 0);
    if (base <= 0) break;
    for (const k of takers) f[k] += (excess * f[k]) / base;
  }
  return Object.fromEntries(Object.entries(f).map(([k, v]) => [k, Math.round(v * 1e6) / 1e6]));
}

/** A paged plan's input: real cases each workforce may still take this round (planning.ts). */
type WithCapacityLeft = PlanRoundInput & { capacityLeft?: Readonly<Record<string, number>> };

export interface PlanControls {
  /** Workforces that may get no production work this round (unqualified), with why. */
  ineligible: readonly { workforceId: string; reason: string }[];
  /** Share caps per vendor (fraction of the round's vendor-routed cases). */
  caps: Readonly<Record<string, number>>;
}

export interface ControlledRoundPlan extends RoundPlan {
  ineligible: { workforceId: string; reason: string }[];
  /** Capped vendors: the cap, the most cases it allowed and the cases planned. */
  capped: { workforceId: string; cap: number; limit: number; cases: number }[];
}

/**
 * Plans a round under a PM's controls: ineligible workforces are left out (an
 * explicit assignment to one is ignored with the reason); capped vendors'
 * shares are held at their caps (capShares); and a capped vendor gets at most
 * ⌊cap × the round's vendor-routed cases⌋ (counted in a first plan), so when
 * the other vendors lack capacity the rest waits (deferred) rather than going
 * over the cap. Without controls this is planRound itself.
 *
 * @example planUnderControls({ cases, protocol, workforces, shares }, { ineligible: [], caps: { 'vendor-b': 0.2 } }).capped
 */
export function planUnderControls(input: PlanRoundInput, controls: PlanControls): ControlledRoundPlan {
  const out = new Map(controls.ineligible.map((x) => [x.workforceId, x.reason]));
  const workforces = input.workforces.filter((w) => !out.has(w.workforceId));
  const capsOf = Object.fromEntries(
    Object.entries(controls.caps).filter(([id]) => workforces.some((w) => w.workforceId === id && w.kind === 'vendor')),
  );
  const shares = Object.keys(capsOf).length > 0 ? capShares(input.shares, capsOf) : input.shares;
  let plan = planRound({ ...input, workforces, shares });
  const vendorCases = (p: RoundPlan) => workforces.filter((w) => w.kind === 'vendor').reduce((s, w) => s + (p.assignments[w.workforceId]?.length ?? 0), 0);
  const total = vendorCases(plan);
  const limits = Object.fromEntries(Object.entries(capsOf).map(([id, cap]) => [id, Math.floor(cap * total + 1e-9)]));
  const over = Object.keys(limits).filter((id) => (plan.assignments[id]?.length ?? 0) > limits[id]);
  if (over.length > 0) {
    // Hold the capped vendors to their limits through their capacity left: the rest goes to others or waits.
    const given = (input as WithCapacityLeft).capacityLeft;
    const capacityLeft: Record<string, number> = { ...(given ?? {}) };
    for (const id of over) {
      const w = workforces.find((x) => x.workforceId === id)!;
      capacityLeft[id] = Math.min(capacityLeft[id] ?? caseCapacity(w, input.protocol), limits[id]);
    }
    const limited: WithCapacityLeft = { ...input, workforces, shares, capacityLeft };
    plan = planRound(limited);
  }
  const ignoredAssignments = plan.ignoredAssignments.map((a) => (out.has(a.workforceId) ? { ...a, reason: out.get(a.workforceId)! } : a));
  return {
    ...plan,
    ignoredAssignments,
    ineligible: [...controls.ineligible],
    capped: Object.entries(capsOf).map(([workforceId, cap]) => ({ workforceId, cap, limit: limits[workforceId], cases: plan.assignments[workforceId]?.length ?? 0 })),
  };
}
