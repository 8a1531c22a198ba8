import { describe, expect, it } from 'vitest';
import type { CaseTrace } from '../../../functions/use-cases/case-trace.js';
import { formatTrace } from '../../../infra/cli/trace.js';

const SHA = 'a'.repeat(64);

/** A gold case the gate holds (no attestation), with one label whose recorded upload version is gone. */
const trace: CaseTrace = {
  programId: 'prog-1',
  caseId: 'g-1',
  case: { caseId: 'g-1', state: 'pending', goldPool: true },
  gate: { verdict: 'held', attested: false, imageKey: 'images/g-1.dcm', findings: [], problems: ['no de-identification attestation'] },
  batches: [],
  labels: [
    {
      version: 1,
      batchId: 'b-1',
      round: 2,
      protocol: 'chest-xray@1',
      label: 'normal',
      workforce: { id: 'vendor-b', kind: 'vendor' },
      annotatorId: 'reader-1',
      preLabel: { model: 'cxr-triage', version: '2.1.0' },
      gold: true,
      status: 'rejected',
      createdAt: '2025-03-01T09:10:00.000Z',
      submission: { bucket: 'uploads', key: 'uploads/vendor-b/b-1/up1.jsonl', versionId: 'v7', sha256: SHA, sizeBytes: 80, verification: { verified: false, why: 'uploads/vendor-b/b-1/up1.jsonl (version v7) is missing from the uploads bucket' } },
    },
  ],
  accepted: [],
  gold: [{ batchId: 'b-1', workforceId: 'vendor-b', round: 2, correct: false, expected: 'abnormal', got: 'normal' }],
  adjudications: [],
  verification: { requested: true, allVerified: false, objects: 1 },
  events: [],
  timeline: [],
};

describe('Function: formatTrace', () => {
  it('prints a failed verification with its reason, the pre-label model, the gold results and the gate holding the case', () => {
    const text = formatTrace(trace).join('\n');

    expect(text).toContain('Case g-1 · program prog-1 · state pending · gold case');
    expect(text).toContain('de-identification gate: held (not attested; no findings; holding it back: no de-identification attestation)');
    expect(text).toContain('Label versions: 1 · objects re-read and re-hashed: 1, NOT ALL VERIFIED');
    expect(text).toContain('  v1  2025-03-01T09:10:00.000Z  rejected (gold item)  "normal"');
    expect(text).toContain('by vendor-b (vendor) / annotator reader-1 (pre-label model cxr-triage@2.1.0) · chest-xray@1 · batch b-1 · round 2');
    expect(text).toContain(`version v7 · SHA-256 ${SHA} · 80 bytes · NOT VERIFIED: uploads/vendor-b/b-1/up1.jsonl (version v7) is missing from the uploads bucket`);
    expect(text).toContain('Gold results:\n  b-1 (vendor-b, round 2): WRONG · expected "abnormal" got "normal"');
    expect(text).toContain('Timeline:\n  (nothing recorded yet)');
  });
});
