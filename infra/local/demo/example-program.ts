/**
 * The demo program: a chest X-ray normal/abnormal protocol, one internal team,
 * two vendors of different quality, synthetic de-identified cases whose tiny
 * images carry their own ground truth (an abnormal image has a bright blob).
 */
import type { CaseInput, GoldLabel, ProtocolVersionInput, WorkforceInput } from '../../../functions/domain/index.js';
import type { RandomSource } from '../../../functions/domain/index.js';

export const PROGRAM_ID = 'demo-cxr';

/** The demo's acceptance rule (`npm start -- --acceptance`). */
export type DemoAcceptance = 'sprt' | 'single-plan';

/**
 * `--acceptance single-plan`: a plan small enough for the demo's ~6 gold items a
 * batch, so every vendor batch is decided within its round (no held batch): 5 gold,
 * accept with ≤ 1 wrong — α 0.023 at AQL 0.95, but β 0.19 at RQL 0.5 (a 74%-accurate
 * vendor passes about 61% of its batches). A demo plan, not a production one: the
 * protocol's own AQL 0.95 / RQL 0.80 single plan needs 38 gold items a batch.
 */
const DEMO_SINGLE_PLAN = { aql: 0.95, rql: 0.5, alpha: 0.05, beta: 0.2, rule: 'single-plan' } as const;

/**
 * The demo's protocol. `overlapRate` (default 0) sends that share of vendor cases
 * to a second workforce too; disagreements then go to an internal expert.
 * `acceptance` (default `sprt`) picks the acceptance rule.
 */
export const chestXrayProtocol = (
  createdAt: string,
  opts: { overlapRate?: number; acceptance?: DemoAcceptance } = {},
): ProtocolVersionInput => ({
  protocolId: 'chest-xray',
  version: 1,
  title: 'Chest X-ray triage: normal vs abnormal',
  task: { type: 'classification', classes: ['normal', 'abnormal'] },
  // Issue 11: batches are decided by the plan derived from AQL/RQL and the two risks
  // (SPRT over a vendor's consecutive batches); internal teams get 2% blind gold.
  acceptance: {
    ...(opts.acceptance === 'single-plan' ? DEMO_SINGLE_PLAN : { aql: 0.95, rql: 0.8, alpha: 0.05, beta: 0.1, rule: 'sprt' as const }),
    internalGoldRate: 0.02,
  },
  // The old fixed threshold, still read for comparison.
  thresholds: { goldAccuracy: 0.85, minGoldItems: 5 },
  goldRate: 0.1,
  overlapRate: opts.overlapRate ?? 0,
  batchSize: 60,
  slaHours: 48,
  routing: {
    rules: [
      {
        id: 'sensitive-stays-inside',
        when: [{ attribute: 'flags.sensitive', op: 'isTrue' }],
        route: { pool: 'internal', qualifications: ['radiologist'] },
        reason: 'sensitive studies are labelled by our own radiologists',
      },
      {
        id: 'paediatric-stays-inside',
        when: [{ attribute: 'subgroup.ageBand', op: 'equals', value: '0-17' }],
        route: { pool: 'internal', qualifications: ['radiologist'] },
        reason: 'paediatric chest films need a paediatric read',
      },
      {
        id: 'adult-cxr-to-vendors',
        when: [
          { attribute: 'modality', op: 'in', values: ['CR', 'DX'] },
          { attribute: 'bodyPart', op: 'equals', value: 'CHEST' },
        ],
        route: { pool: 'vendor', qualifications: ['cxr'] },
        reason: 'routine adult chest radiographs may be outsourced',
      },
    ],
    default: { pool: 'internal', qualifications: [] },
  },
  // Rules may only name declared keys and values (a misspelt one is refused).
  attributes: { flags: ['sensitive', 'rare', 'complex'], subgroup: { ageBand: ['0-17', '18-64', '65+'], sex: ['F', 'M'] } },
  rebalancing: { floor: 0.7, learningRate: 0.6, minShare: 0.05 },
  createdBy: 'pm:demo',
  createdAt,
});

export const workforces: WorkforceInput[] = [
  {
    workforceId: 'radiology-team',
    kind: 'internal',
    name: 'Internal radiology team',
    capacityPerRound: 200,
    pricePerCase: 12,
    slaHours: 72,
    qualifications: ['radiologist', 'cxr', 'adjudicator'],
  },
  {
    workforceId: 'vendor-a',
    kind: 'vendor',
    name: 'Vendor A (careful)',
    capacityPerRound: 400,
    pricePerCase: 1.8,
    slaHours: 48,
    qualifications: ['cxr'],
  },
  {
    workforceId: 'vendor-b',
    kind: 'vendor',
    name: 'Vendor B (fast, sloppy)',
    capacityPerRound: 400,
    pricePerCase: 1.1,
    slaHours: 48,
    qualifications: ['cxr'],
  },
];

/** Simulated labelling accuracy of each workforce (the demo's hidden truth). */
export const simulatedAccuracy: Record<string, number> = {
  'radiology-team': 0.98,
  'vendor-a': 0.95,
  'vendor-b': 0.74,
};

const SIZE = 16;

/** A 16×16 8-bit PGM; abnormal images carry a bright 4×4 blob near the centre. */
export function syntheticImage(abnormal: boolean, random: RandomSource): Uint8Array {
  const header = new TextEncoder().encode(`P5\n${SIZE} ${SIZE}\n255\n`);
  const px = new Uint8Array(SIZE * SIZE);
  for (let i = 0; i < px.length; i++) px[i] = 40 + random.int(60);
  if (abnormal) {
    const x0 = 4 + random.int(6);
    const y0 = 4 + random.int(6);
    for (let y = y0; y < y0 + 4; y++) for (let x = x0; x < x0 + 4; x++) px[y * SIZE + x] = 230 + random.int(25);
  }
  const out = new Uint8Array(header.length + px.length);
  out.set(header);
  out.set(px, header.length);
  return out;
}

/** What a careful reader sees in a synthetic image. */
export function readSyntheticImage(bytes: Uint8Array): 'normal' | 'abnormal' {
  const px = bytes.subarray(bytes.length - SIZE * SIZE);
  return px.some((v) => v >= 200) ? 'abnormal' : 'normal';
}

export interface SyntheticCases {
  cases: CaseInput[];
  gold: GoldLabel[];
  images: { key: string; bytes: Uint8Array }[];
}

/**
 * `total` cases, `goldFraction` of them in the gold pool (expert-labelled), about
 * 30% abnormal, 8% sensitive, 6% paediatric, 5% CT (routed internal by default).
 */
export function syntheticCases(total: number, goldFraction: number, random: RandomSource): SyntheticCases {
  const all: SyntheticCases = { cases: [], gold: [], images: [] };
  for (const part of syntheticCaseChunks(total, goldFraction, random, Math.max(total, 1))) {
    all.cases.push(...part.cases);
    all.gold.push(...part.gold);
    all.images.push(...part.images);
  }
  return all;
}

/**
 * The same cases as `syntheticCases` (the same draws in the same order), made
 * `size` at a time: a large program's setup holds one chunk, never the whole set.
 */
export function* syntheticCaseChunks(total: number, goldFraction: number, random: RandomSource, size: number): Generator<SyntheticCases> {
  const goldEvery = Math.round(1 / goldFraction);
  for (let start = 0; start < total; start += size) {
    const part: SyntheticCases = { cases: [], gold: [], images: [] };
    for (let i = start; i < Math.min(total, start + size); i++) {
      const caseId = `case-${String(i + 1).padStart(5, '0')}`;
      const abnormal = random.next() < 0.3;
      const imageKey = `images/${caseId}.pgm`;
      part.images.push({ key: imageKey, bytes: syntheticImage(abnormal, random) });
      part.cases.push({
        caseId,
        imageKey,
        modality: random.next() < 0.05 ? 'CT' : random.next() < 0.5 ? 'CR' : 'DX',
        bodyPart: 'CHEST',
        site: ['site-north', 'site-south', 'site-east'][random.int(3)],
        scanner: ['vendor-x-2019', 'vendor-y-2022'][random.int(2)],
        subgroup: { sex: random.next() < 0.5 ? 'F' : 'M', ageBand: random.next() < 0.06 ? '0-17' : random.next() < 0.5 ? '18-64' : '65+' },
        flags: { sensitive: random.next() < 0.08, rare: false, complex: false },
        deidentified: true,
      });
      if (i % goldEvery === 0) part.gold.push({ caseId, label: abnormal ? 'abnormal' : 'normal', expertId: 'expert:dr-lee' });
    }
    yield part;
  }
}
