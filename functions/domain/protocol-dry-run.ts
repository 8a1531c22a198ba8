/** Routing sample cases by a protocol version without writing anything, with a reason per case. Part of protocol-document.ts. */
import type { Case } from './model/case.js';
import { type ProtocolVersion, protocolRef } from './model/protocol.js';
import { type RoutingDecision, routeCase, undeclaredCaseAttributes } from './routing.js';

export interface DryRunSummaryRow {
  /** A rule id, or `default`. */
  ruleId: string;
  /**
   * Where the cases went: the rule's pool, or, for a vendor rule's cases the
   * de-identification gate stopped, `internal` (or `exclude` when quarantined).
   */
  pool: string;
  count: number;
}

export interface DryRunResult {
  decisions: RoutingDecision[];
  /**
   * One row per rule in protocol order, then `default`, each with the rule's own
   * pool (count 0 when it matched nothing, so dead rules show); a vendor rule with
   * cases stopped by the de-identification gate gets an extra row per pool they went to.
   */
  summary: DryRunSummaryRow[];
  /**
   * Cases carrying attribute values the protocol does not declare (see
   * `undeclaredCaseAttributes`): no rule can name those values, so check them.
   */
  undeclared: { caseId: string; problems: string[] }[];
  /** The per-case explanations, the summary table and the undeclared values, ready to print. */
  text: string;
}

/**
 * Routes every case with `routeCase` and explains each decision, as a PM checks a
 * protocol version before a round: `case-0007 → internal (rule "adult-cxr-to-vendors"): …`.
 *
 * @example dryRunRouting(cases, protocol).summary // [{ ruleId: 'sensitive-stays-inside', pool: 'internal', count: 2 }, …]
 */
export function dryRunRouting(cases: readonly Case[], protocol: ProtocolVersion): DryRunResult {
  const decisions = cases.map((c) => routeCase(c, protocol));
  // One pass over the decisions (a dry run may hold hundreds of thousands of
  // cases): per rule, the cases it kept in its own pool and, for the ones the
  // de-identification gate moved, the pool each went to.
  const tally = new Map<string, { own: number; gated: Map<string, number> }>();
  for (const d of decisions) {
    let t = tally.get(d.ruleId);
    if (!t) {
      t = { own: 0, gated: new Map() };
      tally.set(d.ruleId, t);
    }
    if (d.gate) t.gated.set(d.route.pool, (t.gated.get(d.route.pool) ?? 0) + 1);
    else t.own++;
  }
  const rows: (DryRunSummaryRow & { gated: boolean })[] = [];
  const declared = [...protocol.routing.rules.map((r) => ({ ruleId: r.id, pool: r.route.pool })), { ruleId: 'default', pool: protocol.routing.default.pool }];
  for (const { ruleId, pool } of declared) {
    const t = tally.get(ruleId);
    rows.push({ ruleId, pool, count: t?.own ?? 0, gated: false });
    // The gate changes where a vendor rule's cases go (internal, or excluded
    // when the protocol quarantines them): one extra row per resulting pool.
    for (const [gatedPool, count] of t?.gated ?? []) rows.push({ ruleId, pool: gatedPool, count, gated: true });
  }
  const summary = rows.map(({ ruleId, pool, count }) => ({ ruleId, pool, count }));

  const idWidth = widest(cases.map((c) => c.caseId), 0);
  const lines = [`Dry run: ${cases.length} case${cases.length === 1 ? '' : 's'} through ${protocolRef(protocol)} (${protocol.title})`, ''];
  const reasons = new Map(protocol.routing.rules.map((r) => [r.id, r.reason]));
  for (const d of decisions) {
    const via = d.ruleId === 'default' ? 'default' : `rule "${d.ruleId}"`;
    // routeCase opens with `rule "id" (reason): `; the line already names the rule.
    const opening = `rule "${d.ruleId}" (${reasons.get(d.ruleId)}): `;
    const why = d.explanation.startsWith(opening) ? `${reasons.get(d.ruleId)} — ${d.explanation.slice(opening.length)}` : d.explanation;
    lines.push(`${d.caseId.padEnd(idWidth)} → ${d.route.pool} (${via}): ${why}`);
  }
  const ruleWidth = widest(rows.map((r) => r.ruleId), 4);
  const poolWidth = widest(rows.map((r) => r.pool), 4);
  lines.push('', `${'rule'.padEnd(ruleWidth)}  ${'pool'.padEnd(poolWidth)}  cases`);
  for (const r of rows) {
    const gate = r.pool === 'exclude' ? 'quarantined' : `kept ${r.pool}`;
    const note = r.gated ? `  (de-identification gate: ${gate} instead of vendor)` : r.count === 0 ? '  (matched no case)' : '';
    lines.push(`${r.ruleId.padEnd(ruleWidth)}  ${r.pool.padEnd(poolWidth)}  ${String(r.count).padStart(5)}${note}`);
  }
  lines.push(`${'total'.padEnd(ruleWidth)}  ${''.padEnd(poolWidth)}  ${String(decisions.length).padStart(5)}`);
  const byPool = new Map<string, number>();
  for (const d of decisions) byPool.set(d.route.pool, (byPool.get(d.route.pool) ?? 0) + 1);
  lines.push('', `by pool: ${[...byPool].map(([pool, n]) => `${pool} ${n}`).join(' · ')}`);
  const undeclared: DryRunResult['undeclared'] = [];
  for (const c of cases) {
    const problems = undeclaredCaseAttributes(c, protocol);
    if (problems.length) undeclared.push({ caseId: c.caseId, problems });
  }
  if (undeclared.length) {
    lines.push('', `Cases with attribute values the protocol does not declare (${undeclared.length}): no rule can name these values`);
    for (const u of undeclared) for (const p of u.problems) lines.push(`  ${u.caseId.padEnd(idWidth)}  ${p}`);
  }
  return { decisions, summary, undeclared, text: lines.join('\n') };
}

/**
 * The length of the longest text, at least `min`. A loop, not `Math.max(...xs)`:
 * spreading an array into a call puts every element on the stack, and a list of
 * about 120,000 or more overflows it.
 */
function widest(texts: readonly string[], min: number): number {
  let width = min;
  for (const t of texts) if (t.length > width) width = t.length;
  return width;
}
