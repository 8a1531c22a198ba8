/**
 * Proof by simulation of the acceptance rules (issue 11): per scenario — a vendor
 * at AQL, at RQL, halfway, and one that degrades from AQL to RQL mid-stream —
 * 10,000 simulated batches under (a) the single sampling plan, (b) the truncated
 * SPRT pooling 6 gold items per batch, (c) today's fixed rule (gold accuracy ≥
 * 0.85 on the 6 gold items of a 60-item batch), side by side. Seeded (mulberry32),
 * so figures repeat. Prints figures; never asserts.
 *
 * Run: `npm run bench -- acceptance`.
 */
import {
  type AcceptanceRule,
  type BatchDecision,
  decideBatch,
  initialSwitchingState,
  nextInspection,
  ocCurve,
  singleSamplingPlan,
  sprtDesign,
  sprtOcCurve,
  sprtOperatingCharacteristic,
} from '../../functions/domain/acceptance/index.js';
import { type RandomSource, seededRandomSource } from '../../functions/domain/random.js';
import { printSwitching, singlePlanFamily, sprtFamily } from './acceptance-switching.js';
import { fmtMs, measure, row } from './harness.js';

const SPEC = { aql: 0.95, rql: 0.8, alpha: 0.05, beta: 0.1 };
/** The demo's batches: 60 items, 10% hidden gold → 54 real cases and 6 gold items. */
const REAL_PER_BATCH = 54;
const DEMO_GOLD = 6;
const BATCHES = 10_000;
const DEGRADE_AFTER = 20;
/** Static scenarios run as independent vendors of this many batches each (200 × 50 = 10,000). */
const STREAM = 50;
const SEED = 20261129;

interface RuleUnderTest {
  name: string;
  rule: AcceptanceRule;
  goldPerBatch: number;
  /** Pools gold over batches until a conclusive decision (the SPRT). */
  pooled: boolean;
}

const plan = singleSamplingPlan(SPEC);
const design = sprtDesign(SPEC, DEMO_GOLD);
const design12 = sprtDesign(SPEC, 2 * DEMO_GOLD);
const RULES: RuleUnderTest[] = [
  { name: `single plan n=${plan.n} c=${plan.c}`, rule: { kind: 'single-plan', plan }, goldPerBatch: plan.n, pooled: false },
  { name: `SPRT ${DEMO_GOLD}/batch, N=${design.maxItems} c_N=${design.terminalC}`, rule: { kind: 'sprt', design }, goldPerBatch: DEMO_GOLD, pooled: true },
  {
    name: `SPRT ${2 * DEMO_GOLD}/batch, N=${design12.maxItems} c_N=${design12.terminalC}`,
    rule: { kind: 'sprt', design: design12 },
    goldPerBatch: 2 * DEMO_GOLD,
    pooled: true,
  },
  {
    name: `fixed ≥ 0.85 on ${DEMO_GOLD} gold (today)`,
    rule: { kind: 'fixed-threshold', goldAccuracy: 0.85, minGoldItems: 5 },
    goldPerBatch: DEMO_GOLD,
    pooled: false,
  },
];

/** Wrong answers among g gold items at a true accuracy. */
function wrongAnswers(g: number, accuracy: number, random: RandomSource): number {
  let wrong = 0;
  for (let i = 0; i < g; i++) if (random.next() >= accuracy) wrong++;
  return wrong;
}

/** A vendor's stream of batches under one rule: each batch's accuracy from `accuracyAt`. */
class Stream {
  private pending = { batches: 0, n: 0, wrong: 0 };
  constructor(
    private readonly r: RuleUnderTest,
    private readonly random: RandomSource,
  ) {}

  /** Adds one batch; returns the decision it completes (with the batches it settles), if any. */
  batch(accuracy: number): { decision: BatchDecision; settles: number } | undefined {
    const wrong = wrongAnswers(this.r.goldPerBatch, accuracy, this.random);
    this.pending = { batches: this.pending.batches + 1, n: this.pending.n + this.r.goldPerBatch, wrong: this.pending.wrong + wrong };
    const d = decideBatch(this.r.rule, this.pending);
    if (d.decision === 'inconclusive') {
      if (!this.r.pooled) throw new Error(`${this.r.name}: an unpooled rule left a full batch inconclusive`);
      return undefined;
    }
    const settles = this.pending.batches;
    this.pending = { batches: 0, n: 0, wrong: 0 };
    return { decision: d, settles };
  }
}

interface StaticFigures {
  decisions: number;
  rejectedDecisions: number;
  settledBatches: number;
  rejectedBatches: number;
  /** Per decision: (batches, rejected batches), for the cluster standard error. */
  clusters: [number, number][];
  goldItems: number;
  acceptedCases: number;
  /** Vendors (streams) ever put on tightened inspection / discontinued by the switching rules. */
  tightened: number;
  discontinued: number;
  streams: number;
}

function simulateStatic(r: RuleUnderTest, accuracy: number, seed: number): StaticFigures {
  const random = seededRandomSource(seed);
  const f: StaticFigures = {
    decisions: 0,
    rejectedDecisions: 0,
    settledBatches: 0,
    rejectedBatches: 0,
    clusters: [],
    goldItems: 0,
    acceptedCases: 0,
    tightened: 0,
    discontinued: 0,
    streams: BATCHES / STREAM,
  };
  for (let v = 0; v < f.streams; v++) {
    // One vendor: its batches in order; SPRT evidence still pending at the end stays undecided.
    const stream = new Stream(r, random);
    let inspection = initialSwitchingState();
    let tightened = false;
    for (let b = 0; b < STREAM; b++) {
      f.goldItems += r.goldPerBatch;
      const out = stream.batch(accuracy);
      if (!out) continue;
      const rejected = out.decision.decision === 'reject';
      f.decisions++;
      f.settledBatches += out.settles;
      f.clusters.push([out.settles, rejected ? out.settles : 0]);
      if (rejected) {
        f.rejectedDecisions++;
        f.rejectedBatches += out.settles;
      } else {
        f.acceptedCases += out.settles * REAL_PER_BATCH;
      }
      // Switching rules on the decisions (the same spec at every level: figures of the rule alone).
      inspection = nextInspection(inspection, { decision: out.decision.decision, n: out.decision.evidence.n, wrong: out.decision.evidence.wrong }).state;
      tightened ||= inspection.level === 'tightened' || inspection.level === 'discontinued';
    }
    if (tightened) f.tightened++;
    if (inspection.level === 'discontinued') f.discontinued++;
  }
  return f;
}

/** Standard error of a proportion. */
const seP = (p: number, m: number): number => Math.sqrt((p * (1 - p)) / m);

/** Standard error of the ratio Σy/Σx over independent clusters (decisions settling several batches). */
function seRatio(clusters: readonly [number, number][]): number {
  const X = clusters.reduce((s, [x]) => s + x, 0);
  const Y = clusters.reduce((s, [, y]) => s + y, 0);
  const r = Y / X;
  const ss = clusters.reduce((s, [x, y]) => s + (y - r * x) ** 2, 0);
  return Math.sqrt((ss * clusters.length) / Math.max(1, clusters.length - 1)) / X;
}

const pct = (x: number, digits = 2): string => `${(100 * x).toFixed(digits)}%`;
const pm = (p: number, se: number): string => `${pct(p)} ± ${pct(se)}`;

interface DegradeFigures {
  streams: number;
  meanRounds: number;
  p90Rounds: number;
  undetected: number;
  falseAlarmsBefore: number;
  batchesBefore: number;
}

/**
 * Streams of DEGRADE_AFTER batches at AQL, then RQL until the first rejection
 * decided on a degraded batch (rounds counted from the first degraded batch,
 * inclusive; one batch per round), capped at 100; streams until 10,000 batches.
 */
function simulateDegrading(r: RuleUnderTest, seed: number): DegradeFigures {
  const random = seededRandomSource(seed);
  const rounds: number[] = [];
  let batches = 0;
  let undetected = 0;
  let falseAlarmsBefore = 0;
  let batchesBefore = 0;
  while (batches < BATCHES) {
    const stream = new Stream(r, random);
    for (let b = 0; b < DEGRADE_AFTER; b++) {
      batches++;
      batchesBefore++;
      if (stream.batch(SPEC.aql)?.decision.decision === 'reject') falseAlarmsBefore++;
    }
    let detectedAt: number | undefined;
    for (let k = 1; k <= 100 && detectedAt === undefined; k++) {
      batches++;
      if (stream.batch(SPEC.rql)?.decision.decision === 'reject') detectedAt = k;
    }
    if (detectedAt === undefined) undetected++;
    else rounds.push(detectedAt);
  }
  rounds.sort((a, b) => a - b);
  return {
    streams: rounds.length + undetected,
    meanRounds: rounds.reduce((s, x) => s + x, 0) / rounds.length,
    p90Rounds: rounds[Math.floor(0.9 * (rounds.length - 1))],
    undetected,
    falseAlarmsBefore,
    batchesBefore,
  };
}

/** P(reject) per decision and the long-run share of batches rejected, exactly (OC and DP). */
function exactRejection(r: RuleUnderTest, accuracy: number): { perDecision: number; perBatch: number } {
  if (r.rule.kind === 'sprt') {
    const oc = sprtOperatingCharacteristic(r.rule.design, accuracy);
    return { perDecision: oc.pReject, perBatch: oc.rejectedWorkShare };
  }
  const c = r.rule.kind === 'single-plan' ? r.rule.plan.c : r.goldPerBatch - Math.ceil(r.rule.goldAccuracy * r.goldPerBatch - 1e-9);
  const p = 1 - ocCurve({ n: r.goldPerBatch, c }, [accuracy])[0].pAccept;
  return { perDecision: p, perBatch: p };
}

function printDesigns(): void {
  console.log(`spec: AQL ${SPEC.aql}, RQL ${SPEC.rql}, α=${SPEC.alpha}, β=${SPEC.beta}; batches of ${REAL_PER_BATCH} real cases; ${BATCHES.toLocaleString('en')} batches per scenario; seed ${SEED}`);
  console.log(
    `single plan: n=${plan.n} c=${plan.c}, exact α=${plan.risks.alpha.toFixed(4)} β=${plan.risks.beta.toFixed(4)}`,
  );
  console.log(
    `SPRT: looks every ${design.lookEvery} gold items, bounds Λ ≤ ${design.bounds.accept.toFixed(3)} accept / ≥ ${design.bounds.reject.toFixed(3)} reject ` +
      `(k ≤ ${design.lines.slope.toFixed(4)}·t − ${design.lines.h0.toFixed(3)} / k ≥ ${design.lines.slope.toFixed(4)}·t + ${design.lines.h1.toFixed(3)}), ` +
      `truncated at N=${design.maxItems} with c_N=${design.terminalC}`,
  );
  console.log(
    `      exact α=${design.risks.alpha.toFixed(4)} β=${design.risks.beta.toFixed(4)} per decision, α=${design.batchRisks.alpha.toFixed(4)} β=${design.batchRisks.beta.toFixed(4)} per batch ` +
      `(untruncated, per decision: α=${design.untruncated.alpha.toFixed(4)} β=${design.untruncated.beta.toFixed(4)});\n      ` +
      `expected gold per decision ${design.asn.atAql.toFixed(1)} at AQL, ${design.asn.atRql.toFixed(1)} at RQL`,
  );
  console.log('\nOC (exact): P(accept) by true gold accuracy');
  row('accuracy', ...ocCurve(plan).map((p) => p.accuracy.toFixed(2)));
  const cells = (xs: number[]) => xs.map((x) => (x < 0.0001 ? x.toExponential(1) : x.toFixed(4)));
  row(`single n=${plan.n} c=${plan.c}`, ...cells(ocCurve(plan).map((p) => p.pAccept)));
  row(`SPRT N=${design.maxItems}`, ...cells(sprtOcCurve(design).map((p) => p.pAccept)));
  row(`fixed (n=${DEMO_GOLD} c=0)`, ...cells(ocCurve({ n: DEMO_GOLD, c: 0 }).map((p) => p.pAccept)));
  row(`SPRT E[gold items]`, ...sprtOcCurve(design).map((p) => p.expectedItems.toFixed(1)));
}

export default async function main(): Promise<void> {
  printDesigns();
  const { m } = await measure('simulation', () => {
    const scenarios: [string, number][] = [
      ['at AQL (0.95)', SPEC.aql],
      ['halfway (0.875)', (SPEC.aql + SPEC.rql) / 2],
      ['at RQL (0.80)', SPEC.rql],
    ];
    for (const [label, accuracy] of scenarios) {
      console.log(`\nvendor ${label}: ${BATCHES.toLocaleString('en')} batches`);
      row('rule', 'rej./decision', '(exact)', 'rej./batch', '(exact)', 'gold/batch', 'gold/acc. case', 'batches/dec.', 'tightened/disc.');
      RULES.forEach((r, i) => {
        const f = simulateStatic(r, accuracy, SEED + 97 * i + Math.round(accuracy * 1000));
        const pd = f.rejectedDecisions / f.decisions;
        const pb = f.rejectedBatches / f.settledBatches;
        const exact = exactRejection(r, accuracy);
        row(
          r.name,
          pm(pd, seP(pd, f.decisions)),
          pct(exact.perDecision),
          pm(pb, seRatio(f.clusters)),
          pct(exact.perBatch),
          `${r.goldPerBatch} (${pct(r.goldPerBatch / (r.goldPerBatch + REAL_PER_BATCH), 0)})`,
          f.acceptedCases === 0 ? '∞' : (f.goldItems / f.acceptedCases).toFixed(3),
          (f.settledBatches / f.decisions).toFixed(2),
          `${f.tightened}/${f.discontinued} of ${f.streams}`,
        );
      });
    }
    console.log(`\nvendor degrading: ${DEGRADE_AFTER} batches at AQL, then at RQL until the first rejection (≥ ${BATCHES.toLocaleString('en')} batches in all)`);
    row('rule', 'streams', 'rounds (mean)', 'rounds (p90)', 'undetected@100', 'false rej. before');
    RULES.forEach((r, i) => {
      const f = simulateDegrading(r, SEED + 7919 * (i + 1));
      row(r.name, f.streams, f.meanRounds.toFixed(2), f.p90Rounds, f.undetected, pct(f.falseAlarmsBefore / f.batchesBefore));
    });
    printSwitching(
      [singlePlanFamily(plan.spec), sprtFamily(plan.spec, { reduced: 3, normal: DEMO_GOLD, tightened: 2 * DEMO_GOLD })],
      plan.spec,
      SEED,
      REAL_PER_BATCH,
    );
  });
  console.log(`\n(simulation ${fmtMs(m.ms)})`);
}
