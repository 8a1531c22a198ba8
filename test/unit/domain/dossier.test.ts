import { describe, expect, it } from 'vitest';
import {
  Dossier,
  type DossierInputs,
  acceptanceMinimum,
  acceptanceRisk,
  binomialUpperTail,
  buildDossier,
  escapeHtml,
  renderDossierHtml,
} from '../../../functions/domain/dossier/index.js';
import { type BatchScore, ProtocolVersion, type Scorecard } from '../../../functions/domain/model/index.js';
import { acceptanceOf } from '../../../functions/domain/acceptance-protocol.js';
import { wilsonInterval } from '../../../functions/domain/scoring/index.js';
import { makeCase, makeProtocol, makeWorkforce } from '../fakes.js';

/** Exact P(X ≥ k) for X ~ Binomial(n, a/b), as a rational in BigInt, then one rounding to a double. */
function exactUpperTail(n: number, k: number, a: number, b: number): number {
  let num = 0n;
  let c = 1n; // C(n, i)
  for (let i = 0; i <= n; i++) {
    if (i > 0) c = (c * BigInt(n - i + 1)) / BigInt(i);
    if (i >= k) num += c * BigInt(a) ** BigInt(i) * BigInt(b - a) ** BigInt(n - i);
  }
  const den = BigInt(b) ** BigInt(n);
  // 1e15 resolution is far below the tolerance the tests use.
  return Number((num * 10n ** 15n) / den) / 1e15;
}

describe('Function: binomialUpperTail', () => {
  it('equals hand-computed sums for the gold counts of the demo (6 and 8 items)', () => {
    // 0.8⁶; 1 − 0.95⁶; 0.8⁸ + 8·0.2·0.8⁷; 1 − (0.95⁸ + 8·0.05·0.95⁷)
    expect(binomialUpperTail(6, 6, 0.8)).toBeCloseTo(0.262144, 12);
    expect(1 - binomialUpperTail(6, 6, 0.95)).toBeCloseTo(0.264908109375, 12);
    expect(binomialUpperTail(8, 7, 0.8)).toBeCloseTo(0.50331648, 12);
    expect(1 - binomialUpperTail(8, 7, 0.95)).toBeCloseTo(0.0572446502734375, 12);
  });

  it('equals the exact rational sum for larger plans', () => {
    for (const [n, k, a, b] of [
      [20, 17, 9, 10],
      [50, 45, 19, 20],
      [80, 70, 4, 5],
      [125, 119, 24, 25],
    ]) {
      expect(binomialUpperTail(n, k, a / b)).toBeCloseTo(exactUpperTail(n, k, a, b), 10);
    }
  });

  it('gives 1 at k ≤ 0, 0 above n, and the certain outcomes at p = 0 and p = 1', () => {
    expect(binomialUpperTail(10, 0, 0.3)).toBe(1);
    expect(binomialUpperTail(10, 11, 0.3)).toBe(0);
    expect(binomialUpperTail(10, 1, 0)).toBe(0);
    expect(binomialUpperTail(10, 10, 1)).toBe(1);
    // Complement symmetry, and no underflow at n = 2000.
    expect(binomialUpperTail(2000, 1900, 0.95) + binomialUpperTail(2000, 101, 0.05)).toBeCloseTo(1, 10);
  });

  it('refuses a probability outside [0, 1] and a fractional n', () => {
    expect(() => binomialUpperTail(10, 5, 1.2)).toThrow(/p must lie in \[0, 1\]/);
    expect(() => binomialUpperTail(2.5, 1, 0.5)).toThrow(/whole number/);
  });
});

describe('Function: acceptanceRisk', () => {
  it('needs every gold item right with 6 items at 0.85, so a 95%-accurate vendor loses about a quarter of its batches', () => {
    const r = acceptanceRisk({ goldItems: 6, threshold: 0.85, minGoldItems: 5, aql: 0.95, rql: 0.8 });
    expect(r).toMatchObject({ goldItems: 6, acceptMinimum: 6, maxMisses: 0 });
    expect(r.pRejectAtAql).toBeCloseTo(0.264908109375, 12);
    expect(r.pAcceptAtRql).toBeCloseTo(0.262144, 12);
    expect(r.oc.map((p) => p.accuracy)).toEqual([0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1]);
    expect(r.oc.at(-1)?.pAccept).toBe(1);
  });

  it('decides the threshold with the scorer’s own comparison (17 of 20 meets 0.85)', () => {
    expect(acceptanceMinimum(20, 0.85)).toBe(17);
    expect(acceptanceMinimum(10, 0.85)).toBe(9);
    expect(acceptanceMinimum(8, 0.85)).toBe(7);
  });

  it('accepts every batch with fewer gold items than the minimum (no verdict): no producer’s risk, full consumer’s risk', () => {
    const r = acceptanceRisk({ goldItems: 4, threshold: 0.85, minGoldItems: 5, aql: 0.95, rql: 0.8 });
    expect(r).toMatchObject({ acceptMinimum: null, maxMisses: null, pRejectAtAql: 0, pAcceptAtRql: 1 });
  });
});

// ---------------------------------------------------------------------------
// A hand-built release: chest-xray@2 (v1 → v2 raised the gold rate and quarantines gate failures)
// ---------------------------------------------------------------------------

const SCRIPT = '<script>alert("x")</script>';
const v1 = makeProtocol({ thresholds: { goldAccuracy: 0.85, minGoldItems: 5 }, batchSize: 54, goldRate: 0.1 });
const v2 = makeProtocol({
  version: 2,
  thresholds: { goldAccuracy: 0.85, minGoldItems: 5 },
  batchSize: 54,
  goldRate: 0.15,
  createdAt: '2025-03-02T09:00:00.000Z',
  routing: {
    rules: [{ id: 'sensitive-inside', when: [{ attribute: 'flags.sensitive', op: 'isTrue' }], route: { pool: 'internal' }, reason: 'kept inside' }],
    default: { pool: 'vendor' },
    onDeidentificationFailure: 'quarantine',
  },
  deidentification: { acceptedOptions: ['retainDeviceIdentity'], pseudonymPattern: '^ANON-\\d{4}$' },
});
const SHA = (c: string) => c.repeat(64);
const at = (minute: number) => `2025-03-03T10:${String(minute).padStart(2, '0')}:00.000Z`;
const ev = (eventId: string, type: string, subject: string, data: unknown, protocol = 'chest-xray@2', reason = `${type} ${subject}`) => ({
  eventId,
  type,
  at: at(Number(eventId.replace(/\D/g, '')) % 60),
  actor: 'system',
  protocol,
  subject,
  reason,
  data,
});
const score = (batchId: string, workforceId: string, goldN: number, goldCorrect: number, kappa: number | null): BatchScore => {
  const w = wilsonInterval(goldCorrect, goldN);
  return {
    batchId,
    workforceId,
    protocol: 'chest-xray@2',
    taskType: 'classification',
    goldN,
    goldCorrect,
    accuracy: goldCorrect / goldN,
    interval: { lower: w.lower, upper: w.upper },
    kappa,
    summary: {},
    verdict: goldCorrect / goldN >= 0.85 ? 'accepted' : 'rejected',
    notes: [],
    items: [],
  };
};
const bl = (caseId: string, workforceId: string, label: string) => ({ caseId, workforceId, label, gold: false, protocol: 'chest-xray@2' });
const card: Scorecard = {
  workforceId: 'vendor-a',
  protocolId: 'chest-xray',
  batches: 3,
  batchesAccepted: 3,
  batchesRejected: 0,
  goldN: 26,
  goldCorrect: 25,
  accuracy: 25 / 26,
  interval: { lower: 0.81, upper: 0.99 },
  insufficient: false,
  slaMisses: 0,
  slaAdherence: 1,
  acceptedCases: 150,
  paid: 300,
  costPerAcceptedCase: 2,
};

function inputs(): DossierInputs {
  return {
    generatedAt: '2025-03-04T08:00:00.000Z',
    generatedBy: 'qa:quinn',
    release: {
      releaseId: 'rel-1',
      programId: 'demo',
      protocolId: 'chest-xray',
      version: 2,
      createdAt: '2025-03-04T07:00:00.000Z',
      createdBy: 'qa:quinn',
      ledgerHead: { seq: 12, hash: SHA('a') },
      labels: [
        { caseId: 'c-attested', batchId: 'b-a-1', workforceId: 'vendor-a' },
        { caseId: 'c-clear', batchId: 'adj-1', workforceId: 'radiology', adjudicationId: 'adj-1' },
        { caseId: 'c-released', batchId: 'b-a-1', workforceId: 'vendor-a' },
      ],
      labelsSha256: SHA('b'),
    },
    manifestKey: 'releases/demo/rel-1/manifest.json',
    manifestSha256: SHA('c'),
    protocolVersions: [v2, v1],
    workforces: [
      makeWorkforce('vendor-b', { name: `Sloppy ${SCRIPT} Ltd`, pricePerCase: 1.5, qualifications: ['cxr'] }),
      makeWorkforce('vendor-a', { name: 'Careful & Co', qualifications: ['cxr', 'ct'] }),
      makeWorkforce('radiology', { kind: 'internal', name: 'Radiology team', pricePerCase: 12, qualifications: ['adjudicator'] }),
    ],
    scorecards: [card],
    batches: [
      { batchId: 'b-a-1', round: 1, protocol: 'chest-xray@2', workforceId: 'vendor-a', itemCount: 64, goldCount: 10, status: 'accepted' },
      { batchId: 'b-a-2', round: 2, protocol: 'chest-xray@2', workforceId: 'vendor-a', itemCount: 40, goldCount: 8, status: 'accepted' },
      { batchId: 'b-b-1', round: 1, protocol: 'chest-xray@2', workforceId: 'vendor-b', itemCount: 64, goldCount: 10, status: 'rejected' },
      { batchId: 'b-old', round: 1, protocol: 'chest-xray@1', workforceId: 'vendor-b', itemCount: 60, goldCount: 6, status: 'rejected' },
    ],
    scores: [score('b-a-1', 'vendor-a', 10, 10, 1), score('b-a-2', 'vendor-a', 8, 7, 0.75), score('b-b-1', 'vendor-b', 10, 6, null)],
    adjudications: [
      {
        adjudicationId: 'adj-1',
        batchId: 'b-b-1',
        protocol: 'chest-xray@2',
        status: 'decided',
        needs: [{ caseId: 'c-clear', kind: 'overlap-disagreement', reason: `labels differ ${SCRIPT}`, labels: { 'vendor-a/a1': 'normal', 'vendor-b/b1': 'abnormal' } }],
        createdAt: at(20),
        decidedBy: 'radiology/dr-ray',
        decidedAt: at(25),
        decisions: [{ caseId: 'c-clear', label: 'normal', note: 'no opacity' }],
        record: { key: 'adjudications/adj-1.json', sha256: SHA('d') },
      },
      { adjudicationId: 'adj-old', batchId: 'b-old', protocol: 'chest-xray@1', status: 'open', needs: [], createdAt: at(1) },
    ],
    cases: [
      makeCase('c-clear'),
      makeCase('c-noattest', { deidentified: false }),
      makeCase('c-released', {
        deidentificationFindings: ['(0010,0010) PatientName is not empty'],
        quarantineRelease: { by: 'pm:alice', reason: `tool stamp ${SCRIPT}`, at: at(5), imageKey: 'images/c-released.dcm', overrides: ['(0010,0010) PatientName is not empty'] },
      }),
      makeCase('c-internal', { flags: { sensitive: true }, deidentificationFindings: ['(0008,0080) InstitutionName present'] }),
      makeCase('c-attested', { uninspectedFormatAttestation: { by: 'pm:bob', reason: 'vendor tool writes no identifiers' } }),
    ],
    caseLabels: [
      { caseId: 'c-clear', batchId: 'b-b-1', workforceId: 'vendor-b', label: 'abnormal', protocol: 'chest-xray@2', status: 'superseded' },
      { caseId: 'c-clear', batchId: 'adj-1', workforceId: 'radiology', label: 'normal', protocol: 'chest-xray@2', status: 'accepted' },
    ],
    batchLabels: [
      bl('c-clear', 'vendor-a', 'normal'),
      bl('c-clear', 'vendor-b', 'abnormal'),
      bl('c-released', 'vendor-a', 'normal'),
      bl('c-released', 'vendor-b', 'normal'),
      bl('c-x3', 'vendor-a', 'abnormal'),
      bl('c-x3', 'vendor-b', 'abnormal'),
      bl('c-y', 'radiology', 'normal'),
      bl('c-y', 'vendor-a', 'normal'),
      // Left out: a gold item, an expert's adjudicated label, a label under another version.
      { ...bl('g-1', 'vendor-b', 'normal'), gold: true },
      { ...bl('c-x3', 'radiology', 'normal'), adjudicationId: 'adj-1' },
      { ...bl('c-y', 'vendor-b', 'abnormal'), protocol: 'chest-xray@1' },
    ],
    ledger: [
      ev('e1', 'workforce.created', 'vendor-b', { workforceId: 'vendor-b' }, '', `registered ${SCRIPT}`),
      ev('e2', 'cases.ingested', 'ingest i-1', { ingestId: 'i-1', cases: ['c-clear'], gated: [] }),
      ev('e3', 'case.format-attested', 'c-attested', { caseId: 'c-attested', imageKey: 'images/c-attested.bin', uninspected: ['unknown format (first bytes 00 01)'] }, 'chest-xray'),
      ev('e4', 'batch.rejected', 'b-b-1', { workforceId: 'vendor-b', goldN: 10 }),
      ev('e5', 'cases.requeued', 'b-b-1', { workforceId: 'vendor-b', caseIds: ['x1', 'x2', 'x3'], exclude: 'vendor-b' }),
      ev('e6', 'workforce.status-changed', 'vendor-b', { workforceId: 'vendor-b', from: 'active', to: 'probation', round: 1 }),
      ev('e7', 'cases.requeued', 'b-old', { workforceId: 'vendor-b', cases: 5 }, 'chest-xray@1'),
      ev('e8', 'batch.overdue', 'b-a-2', { workforceId: 'vendor-a', slaHours: 48 }),
    ],
    ledgerCheck: { head: { seq: 14, hash: SHA('e') }, events: 14, ok: true, problems: [], anchorHolds: true },
  };
}

describe('Function: buildDossier', () => {
  it('states the release: id, protocol, creator, label count per workforce, manifest SHA-256 and ledger anchor', () => {
    const d = buildDossier(inputs());
    expect(d.release).toEqual({
      releaseId: 'rel-1',
      programId: 'demo',
      protocol: 'chest-xray@2',
      createdAt: '2025-03-04T07:00:00.000Z',
      createdBy: 'qa:quinn',
      labels: 3,
      labelsByWorkforce: { 'vendor-a': 2, radiology: 1 },
      adjudicatedLabels: 1,
      manifestKey: 'releases/demo/rel-1/manifest.json',
      manifestSha256: SHA('c'),
      labelsSha256: SHA('b'),
      ledgerAnchor: { seq: 12, hash: SHA('a') },
    });
    expect(d.ledger).toEqual({ head: { seq: 14, hash: SHA('e') }, events: 14, verified: true, problems: [], anchorHolds: true });
  });

  it('lists every protocol version in order, marks the one in force and words the diff between them', () => {
    const d = buildDossier(inputs());
    expect(d.protocol.versions.map((v) => [v.version, v.inForce, v.goldRate])).toEqual([
      [1, false, 0.1],
      [2, true, 0.15],
    ]);
    expect(d.protocol.diffs).toHaveLength(1);
    const texts = d.protocol.diffs[0].changes.map((c) => c.text);
    expect(texts).toContain('changed  goldRate: 0.1 → 0.15');
    expect(texts).toContain('changed  routing.onDeidentificationFailure: "internal" → "quarantine"');
    expect(d.protocol.diffs[0].changes.some((c) => c.path === 'routing.rules[id=sensitive-inside]' && c.kind === 'added')).toBe(true);
  });

  it('gives each workforce its kind, qualifications, price, labels in the release and ledger history', () => {
    const d = buildDossier(inputs());
    expect(d.workforces.map((w) => [w.workforceId, w.kind, w.qualifications, w.pricePerCase, w.labelsInRelease])).toEqual([
      ['radiology', 'internal', ['adjudicator'], 12, 1],
      ['vendor-a', 'vendor', ['cxr', 'ct'], 2, 2],
      ['vendor-b', 'vendor', ['cxr'], 1.5, 0],
    ]);
    expect(d.workforces[2].history.map((h) => h.type)).toEqual(['workforce.created', 'workforce.status-changed']);
  });

  it('pools gold over this version’s batches with the Wilson interval and n, and summarizes κ', () => {
    const d = buildDossier(inputs());
    const a = d.quality.find((q) => q.workforceId === 'vendor-a')!;
    const w = wilsonInterval(17, 18);
    expect(a.gold).toEqual({ n: 18, correct: 17, accuracy: 17 / 18, interval: { lower: w.lower, upper: w.upper } });
    expect(a.kappa).toEqual({ n: 2, mean: 0.875, min: 0.75, max: 1 });
    expect(a.scorecard).toMatchObject({ goldN: 26, goldCorrect: 25, batchesAccepted: 3 });
    const b = d.quality.find((q) => q.workforceId === 'vendor-b')!;
    // b-old is under chest-xray@1: not this release's version.
    expect(b.batches.map((x) => x.batchId)).toEqual(['b-b-1']);
    expect(b.kappa).toEqual({ n: 0, mean: null, min: null, max: null });
    expect(b.scorecard).toBeNull();
  });

  it('measures agreement between each pair of workforces on the cases both labelled, with interval, n and κ', () => {
    const d = buildDossier(inputs());
    expect(d.agreement.method).toBe("the same class; Cohen's κ over the classes normal, abnormal");
    const [radA, ab] = d.agreement.pairs;
    // vendor-a: normal, normal, abnormal; vendor-b: abnormal, normal, abnormal → po = 2/3, pe = 4/9, κ = (2/9)/(5/9) = 0.4.
    const w = wilsonInterval(2, 3);
    expect(ab).toMatchObject({ workforceA: 'vendor-a', workforceB: 'vendor-b', n: 3, agreements: 2, rate: 2 / 3, interval: { lower: w.lower, upper: w.upper } });
    expect(ab.kappa).toBeCloseTo(0.4, 12);
    // One case, the same class from both: agreement 1/1, κ undefined (chance agreement is 1).
    expect(radA).toMatchObject({ workforceA: 'radiology', workforceB: 'vendor-a', n: 1, agreements: 1, kappa: null });
    expect(radA.kappaNote).toMatch(/expected disagreement is 0/);
    expect(d.agreement.pairs).toHaveLength(2);
  });

  it('states the acceptance rule’s risks for a full batch and for each gold count the release’s batches had', () => {
    const d = buildDossier(inputs());
    expect(d.acceptance).toMatchObject({ threshold: 0.85, minGoldItems: 5, aql: 0.95, rql: 0.8 });
    expect(d.acceptance.levelsSource).toMatch(/reference levels/);
    // A full batch of 54 at gold rate 0.15: round(54·0.15/0.85) = 10 gold items; 8 was seen too.
    expect(d.acceptance.plans.map((p) => [p.goldItems, p.acceptMinimum, p.source])).toEqual([
      [10, 9, 'a full batch (54 cases at gold rate 0.15); 2 batch(es) of this release'],
      [8, 7, '1 batch(es) of this release'],
    ]);
    // n = 10, accept at ≥ 9: P(accept | 0.8) = 10·0.8⁹·0.2 + 0.8¹⁰; P(reject | 0.95) = 1 − (10·0.95⁹·0.05 + 0.95¹⁰).
    expect(d.acceptance.plans[0].pAcceptAtRql).toBeCloseTo(0.3758096384, 12);
    expect(d.acceptance.plans[0].pRejectAtAql).toBeCloseTo(0.0861383558993164, 12);
  });

  it('uses the protocol’s own quality levels when it states them', () => {
    const d = buildDossier({ ...inputs(), acceptanceLevels: { aql: 0.9, rql: 0.7, source: 'protocol acceptance section' } });
    expect(d.acceptance).toMatchObject({ aql: 0.9, rql: 0.7, levelsSource: 'protocol acceptance section' });
    expect(d.acceptance.plans[0].pAcceptAtRql).toBeCloseTo(binomialUpperTail(10, 9, 0.7), 15);
  });

  // Issue 11: the dossier states the plan the protocol's acceptance section derives, not only the old threshold's risks.
  it('states the protocol’s derived acceptance plan (rule, n/c, SPRT bounds and truncation, exact α/β, OC rows) from acceptanceOf', () => {
    const withSection = { ...v2, acceptance: ProtocolVersion.shape.acceptance.parse({ aql: 0.95, rql: 0.8, rule: 'sprt' }) };
    const d = buildDossier({ ...inputs(), protocolVersions: [withSection, v1] });
    const a = acceptanceOf(withSection);
    expect(d.acceptance).toMatchObject({ aql: 0.95, rql: 0.8, levelsSource: "the protocol's acceptance section: AQL 0.95, RQL 0.8" });
    expect(d.acceptance.derived).toMatchObject({
      rule: 'sprt',
      source: "the protocol's acceptance section",
      single: { n: a.single!.n, c: a.single!.c, alpha: a.single!.risks.alpha, beta: a.single!.risks.beta },
      sprt: { goldPerBatch: a.goldPerBatch, maxItems: a.sprt.maxItems, terminalC: a.sprt.terminalC, alpha: a.sprt.risks.alpha, beta: a.sprt.risks.beta },
    });
    const derived = d.acceptance.derived as { oc: { accuracy: number; single: number | null; sprt: number | null }[] };
    expect(derived.oc.map((o) => o.accuracy)).toEqual([0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1]);
    expect(derived.oc.find((o) => o.accuracy === 0.8)?.single).toBeCloseTo(a.single!.risks.beta, 12);
    // A protocol without the section: the defaults, and the dossier says so.
    expect(buildDossier(inputs()).acceptance.derived).toMatchObject({ rule: 'sprt', source: 'defaults (the protocol has no acceptance section)' });
  });

  it('keeps the adjudications of this version with expert, times and decision record SHA-256', () => {
    const d = buildDossier(inputs());
    expect(d.adjudications).toHaveLength(1);
    expect(d.adjudications[0]).toMatchObject({
      adjudicationId: 'adj-1',
      expert: 'radiology/dr-ray',
      createdAt: at(20),
      decidedAt: at(25),
      decisions: [{ caseId: 'c-clear', label: 'normal', note: 'no opacity' }],
      recordKey: 'adjudications/adj-1.json',
      recordSha256: SHA('d'),
    });
  });

  it('gives the gate verdict of every case: clear, quarantined, released with its reason, internal-only, attested', () => {
    const d = buildDossier(inputs());
    const byId = Object.fromEntries(d.deidentification.cases.map((c) => [c.caseId, c]));
    expect(byId['c-clear'].verdict).toBe('clear');
    expect(byId['c-noattest']).toMatchObject({ verdict: 'quarantined', findings: ['no de-identification attestation'], inRelease: false });
    expect(byId['c-released']).toMatchObject({ verdict: 'released', inRelease: true, release: { by: 'pm:alice' } });
    expect(byId['c-internal'].verdict).toBe('internal-only');
    expect(byId['c-attested']).toMatchObject({
      verdict: 'clear',
      attestation: { by: 'pm:bob', reason: 'vendor tool writes no identifiers', parts: ['unknown format (first bytes 00 01)'] },
    });
    expect(d.deidentification.counts).toEqual({ cases: 5, clear: 2, internalOnly: 1, quarantined: 1, released: 1, attested: 1 });
    expect(d.deidentification.profile).toMatchObject({
      acceptedOptions: [{ option: 'retainDeviceIdentity', code: '113109', name: 'Retain Device Identity Option' }],
      pseudonymPattern: '^ANON-\\d{4}$',
      onFailure: 'quarantine',
    });
    expect(d.deidentification.events.map((e) => e.type)).toEqual(['cases.ingested', 'case.format-attested']);
  });

  it('counts this version’s rejected and overdue batches, re-queued cases and superseded labels', () => {
    const d = buildDossier(inputs());
    expect(d.reannotation).toMatchObject({ rejectedBatches: 1, overdueBatches: 1, casesRequeued: 3 });
    expect(d.reannotation.events.map((e) => [e.type, e.batchId, e.cases])).toEqual([
      ['batch.rejected', 'b-b-1', null],
      ['cases.requeued', 'b-b-1', 3],
      ['batch.overdue', 'b-a-2', null],
    ]);
    expect(d.reannotation.supersededLabels).toEqual([{ caseId: 'c-clear', batchId: 'b-b-1', workforceId: 'vendor-b', label: 'abnormal' }]);
  });

  it('survives a JSON round trip through its own schema unchanged', () => {
    const d = buildDossier(inputs());
    expect(Dossier.parse(JSON.parse(JSON.stringify(d)))).toEqual(d);
  });

  it('refuses inputs whose protocol versions lack the release’s version', () => {
    expect(() => buildDossier({ ...inputs(), protocolVersions: [v1] })).toThrow('protocol chest-xray@2 is not among the versions given');
  });
});

describe('Function: renderDossierHtml', () => {
  const html = renderDossierHtml(buildDossier(inputs()));

  it('shows a <script> in a workforce name, a release reason and an adjudication reason as text', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('Sloppy &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Ltd');
    expect(html).toContain('tool stamp &lt;script&gt;');
    expect(html).toContain('labels differ &lt;script&gt;');
    expect(html).toContain('registered &lt;script&gt;');
  });

  it('is a self-contained printable document: no external resource, print CSS with page breaks, every part under its heading', () => {
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(html).not.toMatch(/\b(src|href)="(?!#)/);
    expect(html).not.toMatch(/@import|url\(/);
    expect(html).toMatch(/@media print \{[\s\S]*section \{ break-before: page; \}/);
    for (const h of ['1. Release', '2. Protocol versions', '3. Workforces', '4. Gold and agreement', '5. Acceptance rule', '6. Adjudication', '7. De-identification', '8. Re-annotation', '9. Ledger']) {
      expect(html).toContain(`>${h}`);
    }
  });

  it('prints the figures a reader checks: manifest SHA-256, risks, interval, decision record', () => {
    expect(html).toContain(SHA('c'));
    expect(html).toContain('<td>0.0861</td><td>0.3758</td>');
    expect(html).toContain(SHA('d'));
    expect(html).toContain('<td>vendor-a · vendor-b</td><td>3</td><td>2</td><td>66.7%</td>');
    expect(html).toContain('every event’s hash and link verified');
  });

  it('says when the ledger chain does not verify and names the problem', () => {
    const bad = renderDossierHtml(buildDossier({ ...inputs(), ledgerCheck: { head: null, events: 3, ok: false, problems: ['event 2 <altered>'], anchorHolds: false } }));
    expect(bad).toContain('the chain does NOT verify');
    expect(bad).toContain('<li>event 2 &lt;altered&gt;</li>');
  });
});

describe('Function: escapeHtml', () => {
  it('escapes the five characters that can open markup or leave an attribute', () => {
    expect(escapeHtml(`<a href='x' title="y">&</a>`)).toBe('&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;&lt;/a&gt;');
  });
});
