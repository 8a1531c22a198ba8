/**
 * Per-partition-key request rates, against DynamoDB's per-partition limits
 * (docs/data-model.md, "Keys that scale"). A partition key's items live in one
 * physical partition, which serves at most 1,000 write capacity units and 3,000
 * read capacity units per second ("Best practices for designing and using
 * partition keys effectively", Amazon DynamoDB Developer Guide); adaptive
 * capacity moves partitions apart but never splits one key's throughput beyond
 * that. So the figure that matters is each key's peak rate over a short window,
 * not the table's total: the peak over any sliding 1-second window is reported
 * per key, with the mean over the run and, given the number of cases the run
 * processed, the units per case — what a faster run (more cases per second on
 * AWS) would multiply.
 */

/** DynamoDB's per-partition-key ceilings, per second. */
export const PARTITION_LIMITS = { wcuPerSecond: 1000, rcuPerSecond: 3000 } as const;

/** One request's effect on one partition key (a GSI key counts as a key of its own). */
export interface KeyRequest {
  /** Milliseconds, any monotonic origin. */
  t: number;
  /** The partition key value, prefixed with the index for a GSI key (`gsi1:CASESTATE#p#pending#03`). */
  key: string;
  wcu: number;
  rcu: number;
}

export interface KeyRate {
  key: string;
  requests: number;
  wcu: number;
  rcu: number;
  /** The most write units in any window of 1 s. */
  peakWcuPerSecond: number;
  peakRcuPerSecond: number;
  /** Units over the whole run's duration (at least 1 s). */
  meanWcuPerSecond: number;
  meanRcuPerSecond: number;
  /** Units per case processed (when the run's case count is given). */
  wcuPerCase?: number;
  rcuPerCase?: number;
}

export interface KeyRateReport {
  /** Milliseconds from the first request to the last. */
  durationMs: number;
  requests: number;
  keys: number;
  cases?: number;
  limits: typeof PARTITION_LIMITS;
  /** Hottest first: by peak share of its limit (write or read, whichever is nearer). */
  hottest: KeyRate[];
  /** Keys whose peak exceeded a limit (empty when none did). */
  over: KeyRate[];
  /**
   * With a case count: the cases per second at which the first key, of all keys (not
   * only the hottest listed), would reach a limit at its units per case.
   */
  limitAt?: { casesPerSecond: number; key: string };
}

/** The largest sum of `units` over any window [t, t + 1000 ms), records sorted by time. */
function peakPerSecond(records: readonly KeyRequest[], units: (r: KeyRequest) => number): number {
  let best = 0;
  let sum = 0;
  let start = 0;
  for (let end = 0; end < records.length; end++) {
    sum += units(records[end]);
    while (records[end].t - records[start].t >= 1000) sum -= units(records[start++]);
    if (sum > best) best = sum;
  }
  return best;
}

const load = (k: KeyRate): number => Math.max(k.peakWcuPerSecond / PARTITION_LIMITS.wcuPerSecond, k.peakRcuPerSecond / PARTITION_LIMITS.rcuPerSecond);
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Per partition key: requests, units, peak units in any 1 s window, mean units per
 * second and (with `cases`) units per case; keys hottest first; those over a limit.
 *
 * @example keyRateReport([{ t: 0, key: 'LEDGER#p#00', wcu: 2, rcu: 0 }], { cases: 1 }).hottest[0].peakWcuPerSecond // 2
 */
export function keyRateReport(records: readonly KeyRequest[], opts: { cases?: number; top?: number } = {}): KeyRateReport {
  const byKey = new Map<string, KeyRequest[]>();
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const r of records) {
    const list = byKey.get(r.key);
    if (list) list.push(r);
    else byKey.set(r.key, [r]);
    first = Math.min(first, r.t);
    last = Math.max(last, r.t);
  }
  const durationMs = records.length ? last - first : 0;
  const seconds = Math.max(1, durationMs / 1000);
  const rates: KeyRate[] = [...byKey.entries()].map(([key, list]) => {
    list.sort((a, b) => a.t - b.t);
    const wcu = list.reduce((s, r) => s + r.wcu, 0);
    const rcu = list.reduce((s, r) => s + r.rcu, 0);
    return {
      key,
      requests: list.length,
      wcu: round3(wcu),
      rcu: round3(rcu),
      peakWcuPerSecond: round3(peakPerSecond(list, (r) => r.wcu)),
      peakRcuPerSecond: round3(peakPerSecond(list, (r) => r.rcu)),
      meanWcuPerSecond: round3(wcu / seconds),
      meanRcuPerSecond: round3(rcu / seconds),
      ...(opts.cases ? { wcuPerCase: round3(wcu / opts.cases), rcuPerCase: round3(rcu / opts.cases) } : {}),
    };
  });
  rates.sort((a, b) => load(b) - load(a) || a.key.localeCompare(b.key));
  let limitAt: { casesPerSecond: number; key: string } | undefined;
  if (opts.cases) {
    for (const k of rates) {
      const at = Math.min(
        k.wcu > 0 ? PARTITION_LIMITS.wcuPerSecond / (k.wcu / opts.cases) : Number.POSITIVE_INFINITY,
        k.rcu > 0 ? PARTITION_LIMITS.rcuPerSecond / (k.rcu / opts.cases) : Number.POSITIVE_INFINITY,
      );
      if (Number.isFinite(at) && (!limitAt || at < limitAt.casesPerSecond)) limitAt = { casesPerSecond: Math.round(at), key: k.key };
    }
  }
  return {
    durationMs,
    requests: records.length,
    keys: rates.length,
    ...(opts.cases ? { cases: opts.cases } : {}),
    limits: PARTITION_LIMITS,
    hottest: rates.slice(0, opts.top ?? 10),
    over: rates.filter((k) => k.peakWcuPerSecond > PARTITION_LIMITS.wcuPerSecond || k.peakRcuPerSecond > PARTITION_LIMITS.rcuPerSecond),
    ...(limitAt ? { limitAt } : {}),
  };
}

/**
 * The cases per second a run could go before its first key reaches a limit, from
 * each key's units per case (a key's rate grows with throughput, not with round size).
 * Undefined without a case count.
 */
export function casesPerSecondAtLimit(report: KeyRateReport): { casesPerSecond: number; key: string } | undefined {
  return report.limitAt;
}

/** The report as printed lines (bench output): one row per hot key, the limits, what is over. */
export function formatKeyRateReport(report: KeyRateReport): string[] {
  const pad = (s: string | number, w: number) => String(s).padStart(w);
  const lines = [
    `Partition keys: ${report.keys} keys, ${report.requests} requests over ${(report.durationMs / 1000).toFixed(1)} s; limits per key ${report.limits.wcuPerSecond} WCU/s, ${report.limits.rcuPerSecond} RCU/s (peak = most units in any 1 s window)`,
    `  ${'key'.padEnd(44)} ${pad('requests', 9)} ${pad('peak WCU/s', 11)} ${pad('mean WCU/s', 11)} ${pad('peak RCU/s', 11)} ${pad('mean RCU/s', 11)}${report.cases ? ` ${pad('WCU/case', 9)} ${pad('RCU/case', 9)}` : ''}`,
  ];
  for (const k of report.hottest) {
    lines.push(
      `  ${k.key.slice(0, 44).padEnd(44)} ${pad(k.requests, 9)} ${pad(k.peakWcuPerSecond.toFixed(1), 11)} ${pad(k.meanWcuPerSecond.toFixed(1), 11)} ${pad(k.peakRcuPerSecond.toFixed(1), 11)} ${pad(k.meanRcuPerSecond.toFixed(1), 11)}${report.cases ? ` ${pad((k.wcuPerCase ?? 0).toFixed(3), 9)} ${pad((k.rcuPerCase ?? 0).toFixed(3), 9)}` : ''}`,
    );
  }
  const limit = casesPerSecondAtLimit(report);
  if (limit) lines.push(`  at its units per case, the first key to reach a limit does so at about ${limit.casesPerSecond} cases/s (${limit.key})`);
  lines.push(report.over.length ? `  OVER THE LIMIT: ${report.over.map((k) => k.key).join(', ')}` : '  no key over its limit');
  return lines;
}
