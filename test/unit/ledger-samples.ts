/**
 * A sample `data` of every ledger event kind. The mapped type makes this list
 * complete: a kind added to the union without a sample here does not compile.
 */
import type { LedgerEventOf, LedgerEventType } from '../../functions/domain/model/index.js';

type Samples = { [K in LedgerEventType]: LedgerEventOf<K>['data'] };

const verdict = { workforceId: 'vendor-a', goldN: 6, accuracy: 5 / 6, items: 63, realItems: 57, pricePerCase: 0.5, penalty: 0, charge: 31.5 };

export const LEDGER_SAMPLES: Samples = {
  'batch.dispatched': { workforceId: 'vendor-a', items: 63, gold: 6, caseIds: ['case-1', 'case-2'] },
  'submission.accepted': { workforceId: 'vendor-a', uploadId: 'u1', key: 'uploads/vendor-a/b-1/u1.jsonl', sha256Hex: 'ab'.repeat(32) },
  'submission.rejected': { workforceId: 'vendor-b', uploadId: 'u2', key: 'uploads/vendor-b/b-2/u2.jsonl', sha256Hex: 'cd'.repeat(32) },
  'batch.scored': { workforceId: 'vendor-a', goldN: 6, goldCorrect: 5, accuracy: 5 / 6, kappa: 0.66, verdict: 'accepted' },
  'batch.accepted': verdict,
  'batch.rejected': { ...verdict, workforceId: 'vendor-b', penalty: 1, charge: 0 },
  'batch.overdue': { workforceId: 'vendor-b', slaHours: 48, timeout: 'States.Timeout' },
  'batch.failed': { workforceId: 'vendor-a', statusBefore: 'accepted', revokedAcceptance: { realItems: 57, charge: 31.5 } },
  'labels.recorded': { workforceId: 'vendor-a', labels: 63, submissionKey: 'uploads/vendor-a/b-1/u1.jsonl', sha256: 'ab'.repeat(32), caseIds: ['case-1'] },
  'cases.requeued': { workforceId: 'vendor-b', cases: 2, caseIds: ['case-3', 'case-4'], exclude: 'vendor-b' },
  'workforce.created': {
    workforceId: 'vendor-a',
    kind: 'vendor',
    name: 'Vendor A',
    capacityPerRound: 200,
    pricePerCase: 0.5,
    slaHours: 48,
    qualifications: ['cxr'],
    status: 'active',
    paused: false,
  },
  'workforce.changed': { workforceId: 'vendor-a', changes: { pricePerCase: { from: 0.5, to: 0.6 }, qualifications: { from: [], to: ['cxr'] } } },
  'workforce.paused': { workforceId: 'vendor-b', from: 'active', to: 'paused' },
  'workforce.resumed': { workforceId: 'vendor-b', from: 'paused', to: 'active' },
  'workforce.status-changed': { workforceId: 'vendor-b', from: 'active', to: 'probation', round: 1 },
  'shares.changed': { workforceId: 'vendor-a', from: 0.5, to: 0.6, round: 2 },
  'shares.proposed': { round: 2, shares: { 'vendor-a': 0.6, 'vendor-b': 0.4 }, changes: [{ workforceId: 'vendor-a', from: 0.5, to: 0.6, reason: 'better gold' }] },
  'shares.approved': { round: 2, shares: { 'vendor-a': 0.6, 'vendor-b': 0.4 } },
  'shares.refused': { round: 2, refused: { 'vendor-a': 0.6, 'vendor-b': 0.4 }, carriedOver: { 'vendor-a': 0.5, 'vendor-b': 0.5 } },
  'protocol.registered': { protocolId: 'chest-xray', version: 1, taskType: 'classification', sha256: 'ef'.repeat(32) },
  'cases.ingested': {
    cases: ['case-1', 'case-2', 'case-3'],
    gated: ['case-2'],
    verdicts: [
      { caseId: 'case-1', verdict: 'clear', findings: 0 },
      { caseId: 'case-2', verdict: 'quarantined', findings: 2 },
      { caseId: 'case-3', verdict: 'attested', findings: 0 },
    ],
  },
  'case.quarantine-released': { caseId: 'case-2', imageKey: 'images/case-2.dcm', overrides: ['(0010,0010)'], goldPool: false, mayReachVendors: true },
  'case.image-replaced': { caseId: 'case-2', from: 'images/case-2.dcm', to: 'replacements/case-2.png', sha256: '12'.repeat(32), findings: [], quarantined: false },
  'case.format-attested': { caseId: 'case-5', imageKey: 'images/case-5.raw', uninspected: ['images/case-5.raw'] },
  'case.assigned': { caseId: 'case-6', workforceId: 'radiology-team', previous: 'vendor-a' },
  'round.planned': {
    round: 1,
    batches: [{ batchId: 'p-r1-vendor-a-1', workforceId: 'vendor-a', items: 63, gold: 6 }],
    routing: { 'vendor-a': 57, excluded: 0, deferred: 0, overlap: 0, overflow: 0 },
  },
  'adjudication.requested': { batchId: 'b-1', cases: ['case-1'], kinds: ['overlap-disagreement'] },
  'adjudication.decided': { batchId: 'b-1', workforceId: 'radiology-team', expertId: 'dr-x', decisions: [{ caseId: 'case-1', label: 'abnormal', note: 'nodule' }] },
  'adjudication.expired': { batchId: 'b-1', cases: ['case-1'] },
  'release.created': {
    releaseId: 'rel-1',
    protocolId: 'chest-xray',
    version: 1,
    labels: 540,
    manifestKey: 'releases/p/rel-1/manifest.json',
    manifestSha256: '34'.repeat(32),
    ledgerHead: { seq: 812, hash: '56'.repeat(32) },
  },
  'export.created': { what: 'dossier', key: 'dossiers/p/rel-1.json', sha256: '78'.repeat(32), rows: 1, releaseId: 'rel-1' },
  'alarm.raised': {
    chart: 'cusum',
    workforceId: 'vendor-b',
    statistic: 2.22,
    limit: 2,
    batchIds: ['b-3', 'b-4'],
    batchId: 'b-4',
    firstBatchAt: '2026-01-02T00:00:00.000Z',
    params: { p0: 0.95, p1: 0.8, h: 2 },
  },
  'contract.registered': {
    contractId: 'vendor-a.chest-xray',
    workforceId: 'vendor-a',
    protocolId: 'chest-xray',
    version: 1,
    validFrom: '2026-01-01T00:00:00.000Z',
    terms: {
      currency: 'USD',
      pricePerAcceptedCaseCents: 50,
      pricePerReworkCents: 40,
      slaHours: 48,
      lateCredit: { perLateBatchCents: 500, perLateDayCents: 100 },
      rejection: { rule: 'withhold-share', basisPoints: 10_000 },
    },
    origin: 'registered',
  },
  'contract.amended': {
    contractId: 'vendor-a.chest-xray',
    workforceId: 'vendor-a',
    protocolId: 'chest-xray',
    version: 2,
    validFrom: '2026-06-01T00:00:00.000Z',
    validTo: '2027-06-01T00:00:00.000Z',
    terms: {
      currency: 'USD',
      pricePerAcceptedCaseCents: 55,
      pricePerReworkCents: 40,
      slaHours: 36,
      lateCredit: { perLateBatchCents: 500, perLateDayCents: 100 },
      rejection: { rule: 'withhold-per-item', centsPerItem: 30 },
    },
    previousVersion: 1,
    changed: ['pricePerAcceptedCaseCents', 'slaHours', 'rejection', 'validFrom', 'validTo'],
  },
  'statement.issued': {
    statementId: 'vendor-a:2026-11-01T00:00:00.000Z:2026-12-01T00:00:00.000Z',
    workforceId: 'vendor-a',
    from: '2026-11-01T00:00:00.000Z',
    to: '2026-12-01T00:00:00.000Z',
    key: 'statements/p/vendor-a/2026-11-01T00:00:00.000Z_2026-12-01T00:00:00.000Z/9a.json',
    sha256: '9a'.repeat(32),
    currency: 'USD',
    totalCents: 12_345,
    pendingCents: 3_150,
    lines: 4,
    anchor: { seq: 120, hash: 'bc'.repeat(32) },
  },
};

/** One kind's sample data, with some fields replaced. */
export function sampleData<K extends LedgerEventType>(type: K, overrides: Partial<Samples[K]> = {}): Samples[K] {
  return Object.assign({}, LEDGER_SAMPLES[type], overrides);
}
