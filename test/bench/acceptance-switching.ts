/**
 * The switching rules in action, for acceptance.bench.ts: each inspection level
 * decides with its own rule (inspectionPolicy: tightened β × 0.5 with more gold,
 * reduced β × 2.5 with less), the level moves by nextInspection, a discontinued
 * vendor gets no more batches. Prints figures; never asserts.
 */
import {
  type AcceptanceRule,
  type AcceptanceSpec,
  type InspectionLevel,
  type SwitchingState,
  decideBatch,
  initialSwitchingState,
  inspectionPolicy,
  nextInspection,
  passesTightened,
  singleSamplingPlan,
  sprtDesign,
} from '../../functions/domain/acceptance/index.js';
import { type RandomSource, seededRandomSource } from '../../functions/domain/random.js';
import { row } from './harness.js';

type Level = Exclude<InspectionLevel, 'discontinued'>;

interface LevelRule {
  rule: AcceptanceRule;
  goldPerBatch: number;
}

export interface SwitchingFamily {
  name: string;
  levels: Record<Level, LevelRule>;
  tightenedSpec: AcceptanceSpec;
}

/** Single plans per level: the level's n gold items per batch. */
export function singlePlanFamily(spec: AcceptanceSpec): SwitchingFamily {
  const at = (level: Level): LevelRule => {
    const plan = singleSamplingPlan(inspectionPolicy(spec, level).spec!);
    return { rule: { kind: 'single-plan', plan }, goldPerBatch: plan.n };
  };
  const levels = { normal: at('normal'), tightened: at('tightened'), reduced: at('reduced') };
  const n = (l: Level) => levels[l].goldPerBatch;
  return { name: `single plan (n ${n('reduced')}/${n('normal')}/${n('tightened')})`, levels, tightenedSpec: inspectionPolicy(spec, 'tightened').spec! };
}

/** SPRTs per level with the given gold per batch (reduced / normal / tightened). */
export function sprtFamily(spec: AcceptanceSpec, gold: Record<Level, number>): SwitchingFamily {
  const at = (level: Level): LevelRule => ({
    rule: { kind: 'sprt', design: sprtDesign(inspectionPolicy(spec, level).spec!, gold[level]) },
    goldPerBatch: gold[level],
  });
  return {
    name: `SPRT (${gold.reduced}/${gold.normal}/${gold.tightened} gold per batch)`,
    levels: { normal: at('normal'), tightened: at('tightened'), reduced: at('reduced') },
    tightenedSpec: inspectionPolicy(spec, 'tightened').spec!,
  };
}

interface VendorRun {
  batches: number;
  batchesAt: Record<Level, number>;
  goldItems: number;
  rejectedBatches: number;
  settledBatches: number;
  firstTightened?: number;
  discontinuedAt?: number;
}

function wrongAnswers(g: number, accuracy: number, random: RandomSource): number {
  let wrong = 0;
  for (let i = 0; i < g; i++) if (random.next() >= accuracy) wrong++;
  return wrong;
}

/** One vendor for up to `batches` batches; accuracy per batch index (0-based). */
function runVendor(f: SwitchingFamily, accuracyAt: (b: number) => number, batches: number, random: RandomSource): VendorRun {
  let state: SwitchingState = initialSwitchingState();
  let pending = { n: 0, wrong: 0, batches: 0 };
  const run: VendorRun = { batches: 0, batchesAt: { normal: 0, tightened: 0, reduced: 0 }, goldItems: 0, rejectedBatches: 0, settledBatches: 0 };
  for (let b = 0; b < batches; b++) {
    if (state.level === 'discontinued') break;
    const level: Level = state.level;
    const { rule, goldPerBatch } = f.levels[level];
    run.batches++;
    run.batchesAt[level]++;
    run.goldItems += goldPerBatch;
    const wrong = wrongAnswers(goldPerBatch, accuracyAt(b), random);
    pending = { n: pending.n + goldPerBatch, wrong: pending.wrong + wrong, batches: pending.batches + 1 };
    const d = decideBatch(rule, pending);
    if (d.decision !== 'inconclusive') {
      run.settledBatches += pending.batches;
      if (d.decision === 'reject') run.rejectedBatches += pending.batches;
    }
    const clear = d.decision === 'accept' && passesTightened(f.tightenedSpec, pending);
    const step = nextInspection(state, {
      decision: d.decision,
      n: pending.n,
      wrong: pending.wrong,
      batches: pending.batches,
      passesTightened: clear,
      pooling: d.decision === 'inconclusive' && rule.kind === 'sprt',
    });
    if (d.decision !== 'inconclusive') pending = { n: 0, wrong: 0, batches: 0 };
    state = step.state;
    if (step.switch?.to === 'tightened' && run.firstTightened === undefined) run.firstTightened = b;
    if (step.switch?.to === 'discontinued') run.discontinuedAt = b;
  }
  return run;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** Prints the switching section: AQL and RQL vendors over 100 batches, and a degrading one. */
export function printSwitching(families: readonly SwitchingFamily[], spec: AcceptanceSpec, seed: number, realPerBatch: number): void {
  const VENDORS = 100;
  const LENGTH = 100;
  console.log(
    `\nswitching rules in action: ${VENDORS} vendors × ${LENGTH} batches; each level decides with its own rule ` +
      '(reduced / normal / tightened), a discontinued vendor gets no more batches',
  );
  row('rule, vendor', 'at reduced', 'at normal', 'at tightened', 'discontinued', 'rej./batch', 'gold/batch');
  families.forEach((f, i) => {
    for (const [label, accuracy] of [
      ['AQL', spec.aql],
      ['RQL', spec.rql],
    ] as const) {
      const random = seededRandomSource(seed + 31 * i + (label === 'AQL' ? 0 : 7));
      const runs = Array.from({ length: VENDORS }, () => runVendor(f, () => accuracy, LENGTH, random));
      const total = runs.reduce((s, r) => s + r.batches, 0);
      const at = (l: Level) => runs.reduce((s, r) => s + r.batchesAt[l], 0) / total;
      const settled = runs.reduce((s, r) => s + r.settledBatches, 0);
      const gold = runs.reduce((s, r) => s + r.goldItems, 0) / total;
      row(
        `${f.name}, ${label}`,
        pct(at('reduced')),
        pct(at('normal')),
        pct(at('tightened')),
        `${runs.filter((r) => r.discontinuedAt !== undefined).length} of ${VENDORS}`,
        pct(runs.reduce((s, r) => s + r.rejectedBatches, 0) / settled),
        `${gold.toFixed(1)} (${pct(gold / (gold + realPerBatch))})`,
      );
    }
  });
  const CHANGE = 30;
  console.log(`\ndegrading vendor: AQL for ${CHANGE} batches, then RQL; rounds after the change to tightened inspection and to discontinuation`);
  row('rule', 'to tightened', 'p90', 'to discontinued', 'p90', 'discontinued', 'tightened early');
  families.forEach((f, i) => {
    const random = seededRandomSource(seed + 1009 * (i + 1));
    const runs = Array.from({ length: VENDORS }, () => runVendor(f, (b) => (b < CHANGE ? spec.aql : spec.rql), CHANGE + 100, random));
    const after = (x: number | undefined) => (x === undefined || x < CHANGE ? undefined : x - CHANGE + 1);
    const tight = runs.map((r) => r.firstTightened).map(after).filter((x): x is number => x !== undefined);
    const disc = runs.map((r) => after(r.discontinuedAt)).filter((x): x is number => x !== undefined);
    const mean = (xs: number[]) => (xs.length ? (xs.reduce((s, x) => s + x, 0) / xs.length).toFixed(1) : 'n/a');
    const p90 = (xs: number[]) => (xs.length ? String(xs.sort((a, b) => a - b)[Math.floor(0.9 * (xs.length - 1))]) : 'n/a');
    row(
      f.name,
      mean(tight),
      p90(tight),
      mean(disc),
      p90(disc),
      `${disc.length} of ${VENDORS}`,
      `${runs.filter((r) => r.firstTightened !== undefined && r.firstTightened < CHANGE).length} of ${VENDORS}`,
    );
  });
}
