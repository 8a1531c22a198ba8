/**
 * A protocol version's acceptance, resolved: the `acceptance` section (or, for an
 * old document without one, the defaults and a migration note), the exact plans
 * it gives at the protocol's batch size and gold rate, the gold rates per
 * workforce kind and inspection level, and the report `goldline protocol plan`
 * and the dry run print. Pure.
 */
import {
  type AcceptancePlanReport,
  AcceptancePlanError,
  type AcceptanceRule,
  type AcceptanceSpec,
  type PlannedVolume,
  type SinglePlan,
  type SprtDesign,
  acceptProbability,
  acceptancePlanReport,
  formatAcceptancePlanReport,
  formatRisk,
  sprtDesign,
  trySingleSamplingPlan,
} from './acceptance/index.js';
import { goldCountFor } from './batching.js';
import { DEFAULT_ACCEPTANCE, type ProtocolAcceptance, type ProtocolVersion, protocolRef } from './model/index.js';

export interface ResolvedAcceptance {
  /** `protocol`: the document's own section; `defaults`: an old document read with the defaults. */
  source: 'protocol' | 'defaults';
  section: ProtocolAcceptance;
  spec: AcceptanceSpec;
  rule: ProtocolAcceptance['rule'];
  /** Gold items per vendor batch at the protocol's gold rate: the SPRT's look. */
  goldPerBatch: number;
  /** The single sampling plan (null when it exceeds `maxGoldPerBatch`: see `singleNote`). */
  single: SinglePlan | null;
  singleNote?: string;
  /** The truncated SPRT looking once per batch (`goldPerBatch` items). */
  sprt: SprtDesign;
  /** What decides a batch: the `decideBatch` rule for the section's `rule`. */
  decision: AcceptanceRule;
  /** Share of gold per batch: vendors at each inspection level, internal teams. */
  goldRates: { normal: number; reduced: number; tightened: number; internal: number };
  /** For an old document: what was assumed and what to write instead. */
  migrationNote?: string;
}

const cache = new Map<string, ResolvedAcceptance>();

/** The old rule's own plan on `g` gold items: accept iff accuracy ≥ goldAccuracy, i.e. wrong ≤ c. */
export function fixedThresholdPlan(goldAccuracy: number, g: number): { n: number; c: number } {
  let c = -1;
  while (c + 1 <= g && (g - (c + 1)) / g >= goldAccuracy - 1e-12) c++;
  return { n: g, c: Math.max(c, 0) };
}

function migrationNoteFor(p: ProtocolVersion, goldPerBatch: number, single: SinglePlan | null): string {
  const a = DEFAULT_ACCEPTANCE;
  const old = fixedThresholdPlan(p.thresholds.goldAccuracy, goldPerBatch);
  const oldPlan = singleRisks(old.n, old.c, a);
  return (
    `${protocolRef(p)} has no acceptance section: it is decided with the defaults (rule ${a.rule}, AQL ${formatRisk(a.aql)}, RQL ${formatRisk(a.rql)}, ` +
    `α ${formatRisk(a.alpha)}, β ${formatRisk(a.beta)}, internal gold ${formatRisk(a.internalGoldRate)}); thresholds.goldAccuracy ${p.thresholds.goldAccuracy} ` +
    `on ${goldPerBatch} gold items amounted to n ${old.n}, c ${old.c}: α ${oldPlan.alpha.toFixed(3)} at AQL ${formatRisk(a.aql)}, β ${oldPlan.beta.toFixed(3)} at RQL ${formatRisk(a.rql)}` +
    `${single ? ` (the single plan for the defaults needs n ${single.n}, c ${single.c})` : ''}. ` +
    `Write instead: acceptance: { aql: ${a.aql}, rql: ${a.rql}, alpha: ${a.alpha}, beta: ${a.beta}, rule: ${a.rule} } (choose AQL/RQL and the risks you can defend).`
  );
}

function singleRisks(n: number, c: number, a: Pick<AcceptanceSpec, 'aql' | 'rql'>): { alpha: number; beta: number } {
  return { alpha: 1 - acceptProbability(n, c, a.aql), beta: acceptProbability(n, c, a.rql) };
}

/**
 * The protocol's acceptance, resolved and planned.
 *
 * @example acceptanceOf(chestXrayV1).sprt.maxItems // 70 (7 gold per batch, AQL 0.95 / RQL 0.80)
 */
export function acceptanceOf(p: ProtocolVersion): ResolvedAcceptance {
  const section = p.acceptance ?? DEFAULT_ACCEPTANCE;
  const source = p.acceptance ? 'protocol' : 'defaults';
  const goldPerBatch = goldCountFor(p.batchSize, p.goldRate);
  const key = JSON.stringify([section, source, goldPerBatch, p.batchSize, p.goldRate, p.probation.goldRate, p.thresholds.goldAccuracy, protocolRef(p)]);
  const hit = cache.get(key);
  if (hit) return hit;
  const spec: AcceptanceSpec = {
    aql: section.aql,
    rql: section.rql,
    alpha: section.alpha,
    beta: section.beta,
    ...(section.maxGoldPerBatch !== undefined ? { maxGoldPerBatch: section.maxGoldPerBatch } : {}),
  };
  const { single, note: singleNote } = trySingleSamplingPlan(spec);
  if (section.rule === 'single-plan' && !single) throw new AcceptancePlanError(`${protocolRef(p)}: rule single-plan, but ${singleNote}`);
  if (goldPerBatch < 1) {
    throw new AcceptancePlanError(
      `${protocolRef(p)}: goldRate ${p.goldRate} gives 0 gold items in a batch of ${p.batchSize}; the SPRT needs at least 1 per batch (raise goldRate or batchSize)`,
    );
  }
  const sprt = sprtDesign(spec, goldPerBatch);
  if (section.maxSprtItems !== undefined && sprt.maxItems > section.maxSprtItems) {
    throw new AcceptancePlanError(
      `${protocolRef(p)}: the SPRT for AQL ${spec.aql} / RQL ${spec.rql} (α ${spec.alpha}, β ${spec.beta}) at ${goldPerBatch} gold per batch is truncated at ` +
        `${sprt.maxItems} gold items, more than maxSprtItems ${section.maxSprtItems}: widen AQL−RQL, accept larger risks or raise maxSprtItems`,
    );
  }
  const decision: AcceptanceRule = section.rule === 'single-plan' && single ? { kind: 'single-plan', plan: single } : { kind: 'sprt', design: sprt };
  const resolved: ResolvedAcceptance = {
    source,
    section,
    spec,
    rule: section.rule,
    goldPerBatch,
    single,
    ...(singleNote ? { singleNote } : {}),
    sprt,
    decision,
    goldRates: {
      normal: p.goldRate,
      reduced: section.reducedGoldRate ?? p.goldRate / 2,
      tightened: section.tightenedGoldRate ?? p.probation.goldRate,
      internal: section.internalGoldRate,
    },
    ...(source === 'defaults' ? { migrationNote: migrationNoteFor(p, goldPerBatch, single) } : {}),
  };
  cache.set(key, resolved);
  return resolved;
}

/** The plan report of a protocol (`goldline protocol plan`, the dry run), for a planned volume of real cases. */
export function protocolPlanReport(p: ProtocolVersion, volume?: PlannedVolume): AcceptancePlanReport {
  const a = acceptanceOf(p);
  return acceptancePlanReport(a.spec, { goldPerBatch: a.goldPerBatch, reuseCap: p.goldReuseCap, ...(volume ? { volume } : {}) });
}

/** The printed plan: rule line, the report's lines, the internal teams' gold, and the migration note if any. */
export function formatProtocolPlan(p: ProtocolVersion, volume?: PlannedVolume): string[] {
  const a = acceptanceOf(p);
  const lines = [
    `${'rule'.padEnd(12)}${a.rule === 'sprt' ? `sprt (pools a vendor's consecutive batches of ${protocolRef(p)})` : `single-plan (each batch decided alone)`}${a.source === 'defaults' ? ' — defaults, no acceptance section' : ''}`,
    ...formatAcceptancePlanReport(protocolPlanReport(p, volume)),
    `${'internal'.padEnd(12)}internal teams get ${goldCountFor(p.batchSize, a.goldRates.internal)} blind gold per batch of ${p.batchSize} (internalGoldRate ${formatRisk(a.goldRates.internal)}): measured, never rejected for payment`,
  ];
  if (a.migrationNote) lines.push(`${'migration'.padEnd(12)}${a.migrationNote}`);
  return lines;
}

/**
 * For a document without an `acceptance` section: which rule decides it and what
 * to write instead (undefined when the section is there). Computes no plan.
 */
export function acceptanceMigrationNote(p: ProtocolVersion): string | undefined {
  if (p.acceptance) return undefined;
  const goldPerBatch = goldCountFor(p.batchSize, p.goldRate);
  const { aql, rql, alpha, beta } = DEFAULT_ACCEPTANCE;
  return migrationNoteFor(p, goldPerBatch, trySingleSamplingPlan({ aql, rql, alpha, beta }).single);
}

/** Share of an internal team's batch that is blind gold (`acceptance.internalGoldRate`, default 0.02). */
export const internalGoldRateOf = (p: Pick<ProtocolVersion, 'acceptance'>): number => (p.acceptance ?? DEFAULT_ACCEPTANCE).internalGoldRate;

/**
 * An internal team's batch score: measured like a vendor's (the same items,
 * figures and interval), but never rejected for payment — internal teams are
 * not paid per case. The verdict is `accepted` and the reason says what the gold
 * shows (and what would have decided a vendor batch).
 *
 * @example internalBatchScore(score).notes[0] // 'internal team: measured, not paid per case — gold 0/1 passed; never rejected by its gold'
 */
export function internalBatchScore<S extends { verdict: string; goldN: number; goldCorrect: number; notes: string[] }>(score: S): S {
  const shows = score.goldN === 0 ? 'no gold item in this batch' : `gold ${score.goldCorrect}/${score.goldN} passed`;
  const would = score.verdict === 'accepted' ? '' : ` (a vendor batch would have been ${score.verdict})`;
  return {
    ...score,
    verdict: 'accepted',
    notes: [`internal team: measured, not paid per case — ${shows}; never rejected by its gold${would}`, ...score.notes],
  };
}
