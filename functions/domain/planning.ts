/**
 * Round planning: route every case, then split each pool's work across
 * workforces by allocation shares, qualifications and capacity.
 */
import { DEFAULT_ACCEPTANCE, type Case, type ProtocolVersion, type Shares, type Workforce } from './model/index.js';
import { goldCountFor } from './batching.js';
import { stableHash } from './random.js';
import { assignmentProblem } from './assignment.js';
import { type RoutingDecision, routeCase } from './routing.js';

export interface RoundPlan {
  decisions: RoutingDecision[];
  /** Cases per workforce, in input order (overlap cases appear under both workforces). */
  assignments: Record<string, Case[]>;
  excluded: RoutingDecision[];
  /** Cases no qualified workforce had capacity for this round, with the reason. */
  deferred: { caseId: string; reason: string }[];
  /** Internal cases that went to a vendor because internal capacity ran out (the protocol allowed it). */
  overflowed: { caseId: string; workforceId: string }[];
  /** Cases also sent to a second workforce, for agreement. */
  overlaps: { caseId: string; primary: string; secondary: string }[];
  /** Cases placed by a PM's explicit assignment (`Case.assignment`), before any share. */
  explicit: { caseId: string; workforceId: string }[];
  /** Assignments that could not be honoured (the case was routed as usual), with why. */
  ignoredAssignments: { caseId: string; workforceId: string; reason: string }[];
}

export interface PlanRoundInput {
  cases: readonly Case[];
  protocol: ProtocolVersion;
  workforces: readonly Workforce[];
  /** Vendor allocation shares (vendor id → share). Missing vendors get 0. */
  shares: Shares;
  /** Real cases each workforce may still take this round (a later page of a paged plan); default its whole capacity. */
  capacityLeft?: Readonly<Record<string, number>>;
}

const qualified = (w: Workforce, required: readonly string[]): boolean =>
  w.status !== 'suspended' && !w.paused && required.every((q) => w.qualifications.includes(q));

/**
 * Share of a workforce's batch that is hidden gold: a vendor's by its
 * inspection level (docs/acceptance-sampling.md) — `goldRate` under normal
 * inspection; tightened (probation): `acceptance.tightenedGoldRate`, else
 * `probation.goldRate`; reduced: `acceptance.reducedGoldRate`, else half the
 * `goldRate`; an internal team's `acceptance.internalGoldRate` (default 0.02:
 * every workforce is measured).
 */
export function goldRateFor(w: Pick<Workforce, 'kind' | 'status'>, protocol: ProtocolVersion): number {
  const section = protocol.acceptance ?? DEFAULT_ACCEPTANCE;
  if (w.kind !== 'vendor') return section.internalGoldRate;
  if (w.status === 'probation') return section.tightenedGoldRate ?? protocol.probation.goldRate;
  if (w.status === 'reduced') return section.reducedGoldRate ?? protocol.goldRate / 2;
  return protocol.goldRate;
}

/**
 * Capacity for real cases this round: hidden gold items take vendor capacity too,
 * so a vendor with capacity C and gold rate r can take ⌊C·(1−r)⌋ real cases.
 */
export function caseCapacity(w: Workforce, protocol: ProtocolVersion): number {
  const goldRate = goldRateFor(w, protocol);
  if (w.kind !== 'vendor') {
    // Internal gold is small: the most real cases m with m + its gold within capacity
    // (a team of capacity 1 still gets its case: 1 real case carries no gold).
    let m = w.capacityPerRound;
    while (m > 0 && m + goldCountFor(m, goldRate) > w.capacityPerRound) m--;
    return m;
  }
  // The epsilon keeps float error (90 × 0.7 = 62.99999…) from losing a case.
  return Math.floor(w.capacityPerRound * (1 - goldRate) + 1e-9);
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

interface Group {
  pool: 'internal' | 'vendor';
  quals: string[];
  excluded: string[];
  overflow: boolean;
  cases: Case[];
}

/**
 * Plans a round. Routing is per case (see routeCase); then, per pool, set of
 * required qualifications and set of excluded workforces (a workforce that
 * missed its SLA or had the batch rejected does not get those cases back), the
 * cases are apportioned: internal teams by capacity first, vendors by share
 * (largest remainder). Internal cases beyond internal capacity go to vendors
 * only where the protocol's route allows overflow. Capacity is never exceeded;
 * what does not fit is deferred with a reason. Finally `overlapRate` of the
 * vendor cases (chosen by a stable hash of the case id) also go to a second
 * workforce — another vendor, else an internal team — for agreement.
 *
 * @example planRound({ cases, protocol, workforces, shares: { 'vendor-a': 0.5, 'vendor-b': 0.5 } })
 */
export function planRound(input: PlanRoundInput): RoundPlan {
  const { cases, protocol, workforces, shares } = input;
  const decisions = cases.map((c) => routeCase(c, protocol));
  const byId = new Map(cases.map((c) => [c.caseId, c]));
  const remaining = new Map(workforces.map((w) => [w.workforceId, input.capacityLeft?.[w.workforceId] ?? caseCapacity(w, protocol)]));
  const assignments: Record<string, Case[]> = Object.fromEntries(workforces.map((w) => [w.workforceId, []]));
  const assignedTo = new Map<string, string>();
  const excluded: RoutingDecision[] = [];
  const deferred: { caseId: string; reason: string }[] = [];
  const overflowed: { caseId: string; workforceId: string }[] = [];

  // A PM's explicit assignment comes first, where routing, the gate and the
  // workforce still allow it (assignment.ts); otherwise the case routes as usual.
  const explicit: RoundPlan['explicit'] = [];
  const ignoredAssignments: RoundPlan['ignoredAssignments'] = [];
  const placed = new Set<string>();
  for (const d of decisions) {
    const c = byId.get(d.caseId)!;
    if (!c.assignment) continue;
    const id = c.assignment.workforceId;
    const w = workforces.find((x) => x.workforceId === id);
    const problem = assignmentProblem(c, d, w, id);
    if (problem || !w) {
      ignoredAssignments.push({ caseId: c.caseId, workforceId: id, reason: problem ?? `workforce ${id} is not registered` });
      continue;
    }
    placed.add(c.caseId);
    if ((remaining.get(id) ?? 0) <= 0) {
      deferred.push({ caseId: c.caseId, reason: `assigned to ${id} by ${c.assignment.by}: ${id} has no capacity left this round` });
      continue;
    }
    assignments[id].push(c);
    assignedTo.set(c.caseId, id);
    remaining.set(id, (remaining.get(id) ?? 0) - 1);
    explicit.push({ caseId: c.caseId, workforceId: id });
  }

  const groups = new Map<string, Group>();
  const addToGroup = (pool: Group['pool'], quals: readonly string[], c: Case, overflow: boolean) => {
    const q = [...quals].sort();
    const ex = [...c.excludedWorkforces].sort();
    const key = `${pool}|${q.join(',')}|${ex.join(',')}|${overflow}`;
    let g = groups.get(key);
    if (!g) {
      g = { pool, quals: q, excluded: ex, overflow, cases: [] };
      groups.set(key, g);
    }
    g.cases.push(c);
  };
  for (const d of decisions) {
    if (placed.has(d.caseId)) continue;
    if (d.route.pool === 'exclude') {
      excluded.push(d);
      continue;
    }
    addToGroup(d.route.pool, d.route.qualifications, byId.get(d.caseId)!, d.route.pool === 'internal' && d.route.overflowToVendors);
  }

  const place = (g: Group): Case[] => {
    const candidates = workforces.filter(
      (w) => w.kind === g.pool && qualified(w, g.quals) && !g.excluded.includes(w.workforceId),
    );
    const weights = candidates.map((w) => (g.pool === 'vendor' ? (shares[w.workforceId] ?? 0) : caseCapacity(w, protocol)));
    const caps = candidates.map((w) => remaining.get(w.workforceId) ?? 0);
    const counts = apportion(g.cases.length, weights, caps);
    let next = 0;
    candidates.forEach((w, i) => {
      const take = g.cases.slice(next, next + counts[i]);
      next += counts[i];
      for (const c of take) {
        assignments[w.workforceId].push(c);
        assignedTo.set(c.caseId, w.workforceId);
      }
      remaining.set(w.workforceId, (remaining.get(w.workforceId) ?? 0) - take.length);
    });
    const left = g.cases.slice(next);
    if (left.length > 0 && !(g.pool === 'internal' && g.overflow)) {
      const quals = g.quals.join(', ') || 'no qualifications';
      const reason =
        candidates.length === 0
          ? `no active ${g.pool} workforce has qualifications [${quals}]${g.excluded.length ? ` (excluded: ${g.excluded.join(', ')})` : ''}`
          : weights.every((w) => w <= 0)
            ? `no qualified ${g.pool} workforce has an allocation share`
            : `${g.pool} capacity for [${quals}] exhausted this round`;
      for (const c of left) deferred.push({ caseId: c.caseId, reason });
      return [];
    }
    return left;
  };

  // Internal first: its overflow may become vendor work.
  const overflow: Case[] = [];
  const internalGroups = [...groups.values()].filter((g) => g.pool === 'internal');
  for (const g of internalGroups) {
    const left = place(g);
    for (const c of left) {
      overflow.push(c);
      addToGroup('vendor', g.quals, c, false);
    }
  }
  for (const g of [...groups.values()].filter((x) => x.pool === 'vendor')) place(g);
  for (const c of overflow) {
    const w = assignedTo.get(c.caseId);
    if (w) overflowed.push({ caseId: c.caseId, workforceId: w });
  }

  // Overlap: a stable share of vendor cases also goes to a second workforce.
  const overlaps: { caseId: string; primary: string; secondary: string }[] = [];
  if (protocol.overlapRate > 0) {
    const vendorIds = new Set(workforces.filter((w) => w.kind === 'vendor').map((w) => w.workforceId));
    const decisionOf = new Map(decisions.map((d) => [d.caseId, d]));
    const vendorCases = [...assignedTo.entries()].filter(([, w]) => vendorIds.has(w)).map(([id]) => id);
    const wanted = Math.round(vendorCases.length * protocol.overlapRate);
    const chosen = vendorCases.sort((a, b) => stableHash(a) - stableHash(b) || a.localeCompare(b)).slice(0, wanted);
    for (const caseId of chosen) {
      const primary = assignedTo.get(caseId)!;
      const c = byId.get(caseId)!;
      const route = decisionOf.get(caseId)!.route;
      const quals = route.pool === 'exclude' ? [] : route.qualifications;
      // Spread overlap pairs over the eligible vendors (a stable choice per case).
      const otherVendor = () => {
        const eligible = workforces.filter(
          (w) =>
            w.kind === 'vendor' &&
            w.workforceId !== primary &&
            qualified(w, quals) &&
            !c.excludedWorkforces.includes(w.workforceId) &&
            (remaining.get(w.workforceId) ?? 0) > 0 &&
            (shares[w.workforceId] ?? 0) > 0,
        );
        return eligible.length ? eligible[stableHash(`${caseId}:overlap`) % eligible.length] : undefined;
      };
      const internalTeam = () =>
        workforces.find((w) => w.kind === 'internal' && qualified(w, quals) && (remaining.get(w.workforceId) ?? 0) > 0);
      const second =
        protocol.overlapWith === 'internal'
          ? internalTeam()
          : protocol.overlapWith === 'vendor'
            ? otherVendor()
            : (otherVendor() ?? internalTeam());
      if (!second) continue;
      assignments[second.workforceId].push(c);
      remaining.set(second.workforceId, (remaining.get(second.workforceId) ?? 0) - 1);
      overlaps.push({ caseId, primary, secondary: second.workforceId });
    }
  }
  return { decisions, assignments, excluded, deferred, overflowed, overlaps, explicit, ignoredAssignments };
}
