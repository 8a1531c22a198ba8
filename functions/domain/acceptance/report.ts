/**
 * What `goldline protocol plan` and the dry run print for a protocol's
 * acceptance spec: the single plan, the truncated SPRT at the protocol's gold
 * per batch, both OC curves and the gold pool a planned volume needs. Pure: the
 * CLI only prints the lines.
 */
import { formatRisk } from './decision.js';
import {
  AcceptanceSpec,
  type AcceptanceSpecInput,
  type GoldPoolNeed,
  OC_ACCURACIES,
  type PlannedVolume,
  type SinglePlan,
  goldPoolNeed,
  ocCurve,
  trySingleSamplingPlan,
} from './plan.js';
import { type SprtDesign, sprtDesign, sprtOcCurve } from './sprt.js';

export interface AcceptancePlanReportInput {
  /** Gold items per batch the protocol's gold rate gives (`goldCountFor(batchSize, goldRate)`): the SPRT's look. */
  goldPerBatch: number;
  /** The planned volume, for the gold-pool need (optional). */
  volume?: PlannedVolume;
  reuseCap: number;
  accuracies?: readonly number[];
}

export interface AcceptancePlanReport {
  spec: AcceptanceSpec;
  /** Null when the single plan exceeds `maxGoldPerBatch` (see `singleNote`). */
  single: SinglePlan | null;
  singleNote?: string;
  sprt: SprtDesign;
  oc: { accuracy: number; single: number | null; sprt: number; sprtExpectedItems: number }[];
  pool: { reuseCap: number; single: GoldPoolNeed | null; sprt: GoldPoolNeed } | null;
}

/**
 * The plan report for a spec.
 *
 * @example acceptancePlanReport({ aql: 0.95, rql: 0.8 }, { goldPerBatch: 7, reuseCap: 3 }).single?.n // 38
 */
export function acceptancePlanReport(input: AcceptanceSpecInput, opts: AcceptancePlanReportInput): AcceptancePlanReport {
  const spec = AcceptanceSpec.parse(input);
  const { single, note: singleNote } = trySingleSamplingPlan(spec);
  const sprt = sprtDesign(spec, opts.goldPerBatch);
  const accuracies = opts.accuracies ?? OC_ACCURACIES;
  const sprtOc = sprtOcCurve(sprt, accuracies);
  const singleOc = single ? ocCurve(single, accuracies) : null;
  const oc = accuracies.map((accuracy, i) => ({
    accuracy,
    single: singleOc ? singleOc[i].pAccept : null,
    sprt: sprtOc[i].pAccept,
    sprtExpectedItems: sprtOc[i].expectedItems,
  }));
  const pool = opts.volume
    ? {
        reuseCap: opts.reuseCap,
        single: single ? goldPoolNeed(single, opts.volume, opts.reuseCap) : null,
        sprt: goldPoolNeed({ n: opts.goldPerBatch }, opts.volume, opts.reuseCap),
      }
    : null;
  return { spec, single, ...(singleNote ? { singleNote } : {}), sprt, oc, pool };
}

const prob = (x: number): string => (x === 1 ? '1' : x >= 0.0001 ? x.toFixed(4) : x.toExponential(1));
const signed = (x: number): string => (x < 0 ? `−${(-x).toFixed(3)}` : x.toFixed(3));

/** The report as aligned lines for a terminal. */
export function formatAcceptancePlanReport(r: AcceptancePlanReport): string[] {
  const { spec, single, sprt } = r;
  const pad = (label: string) => label.padEnd(12);
  const lines = [
    `${pad('acceptance')}AQL ${formatRisk(spec.aql)}, RQL ${formatRisk(spec.rql)}; α=${formatRisk(spec.alpha)} = P(reject) at AQL, β=${formatRisk(spec.beta)} = P(accept) at RQL`,
    single
      ? `${pad('single plan')}${single.n} gold items per batch, accept with ≤ ${single.c} wrong; exact α=${single.risks.alpha.toFixed(4)}, β=${single.risks.beta.toFixed(4)}`
      : `${pad('single plan')}none: ${r.singleNote}`,
    `${pad('SPRT')}${sprt.lookEvery} gold items per batch, pooled over a vendor's batches; accept when Λ ≤ ${signed(sprt.bounds.accept)}, reject when Λ ≥ ${signed(sprt.bounds.reject)}; ` +
      `decides by ${sprt.maxItems} items (${Math.ceil(sprt.maxItems / sprt.lookEvery)} batches) with ≤ ${sprt.terminalC} wrong`,
    `${pad('')}exact α=${sprt.risks.alpha.toFixed(4)} per decision / ${sprt.batchRisks.alpha.toFixed(4)} per batch, β=${sprt.risks.beta.toFixed(4)} / ${sprt.batchRisks.beta.toFixed(4)}; ` +
      `expected ${sprt.asn.atAql.toFixed(1)} gold items per decision at AQL, ${sprt.asn.atRql.toFixed(1)} at RQL`,
    `${pad('OC')}${'accuracy'.padEnd(10)}${r.oc.map((p) => p.accuracy.toFixed(2).padStart(9)).join('')}`,
  ];
  if (single) lines.push(`${pad('')}${'single'.padEnd(10)}${r.oc.map((p) => prob(p.single ?? Number.NaN).padStart(9)).join('')}`);
  lines.push(`${pad('')}${'SPRT'.padEnd(10)}${r.oc.map((p) => prob(p.sprt).padStart(9)).join('')}`);
  lines.push(`${pad('')}${'E[gold]'.padEnd(10)}${r.oc.map((p) => p.sprtExpectedItems.toFixed(1).padStart(9)).join('')}`);
  if (r.pool) {
    const p = r.pool.sprt;
    const singlePart = r.pool.single ? `single plan ${r.pool.single.poolForReuseCap} gold cases (${r.pool.single.poolWithoutRepeats} never to repeat one); ` : '';
    lines.push(
      `${pad('gold pool')}${p.batches} batches (${p.batchesPerVendor} for the busiest vendor), reuse cap ${r.pool.reuseCap}: ` +
        `${singlePart}SPRT ${p.poolForReuseCap} (${p.poolWithoutRepeats})`,
    );
  }
  return lines;
}
