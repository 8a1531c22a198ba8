import { describe, expect, it } from 'vitest';
import {
  type ReleaseManifest,
  ReleaseContentError,
  ReleaseManifest as ReleaseManifestSchema,
  type StoredLabel,
  buildReleaseManifest,
  checkReleaseManifest,
  checkSubmissionObject,
  compareReleaseLabel,
  diffReleases,
  labelsSha256,
  releaseIdFor,
  serializeReleaseManifest,
} from '../../../functions/domain/index.js';

const sha = (c: string) => c.repeat(64);
const label = (caseId: string, over: Partial<StoredLabel> = {}): StoredLabel => ({
  caseId,
  batchId: 'b-1',
  label: 'pneumonia',
  workforceId: 'vendor-a',
  annotatorId: 'ann-1',
  protocol: 'cxr@1',
  submissionKey: `uploads/vendor-a/b-1/u1.jsonl`,
  submissionSha256: sha('a'),
  submissionVersionId: 'v1',
  gold: false,
  status: 'accepted',
  createdAt: '2026-11-01T10:00:00.000Z',
  ...over,
});
const workforces = [
  { workforceId: 'vendor-a', kind: 'vendor' as const },
  { workforceId: 'vendor-b', kind: 'vendor' as const },
  { workforceId: 'rad-team', kind: 'internal' as const },
];
const base = {
  programId: 'demo',
  protocolId: 'cxr',
  version: 1,
  workforces,
  ledgerHead: { seq: 42, hash: sha('c') },
  createdAt: '2026-11-02T00:00:00.000Z',
  createdBy: 'qa-lead',
};

describe('Function: buildReleaseManifest', () => {
  it('takes only accepted, non-gold labels of the protocol version, sorted by case, with workforce kind and lineage', () => {
    const labels = [
      label('case-3'),
      label('case-1', { batchId: 'b-2', workforceId: 'vendor-b' }),
      label('case-2', { gold: true }),
      label('case-4', { status: 'superseded' }),
      label('case-5', { status: 'rejected' }),
      label('case-6', { protocol: 'cxr@2' }),
      label('case-1', { batchId: 'b-1-adj', workforceId: 'rad-team', annotatorId: 'dr-x', adjudicationId: 'b-1-adj', submissionKey: 'adjudications/b-1-adj.json' }),
    ];
    const m = buildReleaseManifest({ ...base, labels });
    expect(m.labels.map((l) => `${l.caseId}/${l.batchId}/${l.workforceKind}`)).toEqual(['case-1/b-1-adj/internal', 'case-1/b-2/vendor', 'case-3/b-1/vendor']);
    expect(m.labels[0]).toMatchObject({ adjudicationId: 'b-1-adj', annotatorId: 'dr-x', acceptedAt: '2026-11-01T10:00:00.000Z', submissionVersionId: 'v1' });
    const preLabelled = buildReleaseManifest({ ...base, labels: [label('case-1', { preLabel: { model: 'cxr-triage', version: '2.1' } })] });
    expect(preLabelled.labels[0].preLabel).toEqual({ model: 'cxr-triage', version: '2.1' });
    expect(m.labelsSha256).toBe(labelsSha256(m.labels));
    expect(m.releaseId).toBe(releaseIdFor('demo', 'cxr', 1, m.labelsSha256));
    expect(ReleaseManifestSchema.parse(m)).toEqual(m);
    expect(checkReleaseManifest(m)).toEqual([]);
  });

  it('gives the same id and bytes for the same labels in any order, and another id when a label differs', () => {
    const labels = [label('case-1'), label('case-2'), label('case-3', { label: 'normal' })];
    const a = buildReleaseManifest({ ...base, labels });
    const b = buildReleaseManifest({ ...base, labels: [...labels].reverse() });
    expect(b.releaseId).toBe(a.releaseId);
    expect(Buffer.from(serializeReleaseManifest(b)).equals(Buffer.from(serializeReleaseManifest(a)))).toBe(true);
    const c = buildReleaseManifest({ ...base, labels: [label('case-1'), label('case-2'), label('case-3', { label: 'effusion' })] });
    expect(c.releaseId).not.toBe(a.releaseId);
    expect(c.labelsSha256).not.toBe(a.labelsSha256);
  });

  it('refuses a release with no qualifying label, and a label whose workforce is not the program’s', () => {
    expect(() => buildReleaseManifest({ ...base, labels: [label('case-1', { gold: true })] })).toThrow(ReleaseContentError);
    expect(() => buildReleaseManifest({ ...base, labels: [label('case-1', { workforceId: 'ghost' })] })).toThrow(/ghost/);
  });
});

describe('Function: diffReleases', () => {
  it('lists cases added, removed and changed (with the fields that changed), and counts the unchanged', () => {
    const a = buildReleaseManifest({ ...base, labels: [label('case-1'), label('case-2'), label('case-3')] });
    const b = buildReleaseManifest({
      ...base,
      labels: [label('case-1'), label('case-3', { label: 'normal', submissionSha256: sha('b') }), label('case-4', { batchId: 'b-9' })],
    });
    const d = diffReleases(a, b);
    expect(d).toMatchObject({ from: a.releaseId, to: b.releaseId, unchanged: 1 });
    expect(d.added.map((l) => l.caseId)).toEqual(['case-4']);
    expect(d.removed.map((l) => l.caseId)).toEqual(['case-2']);
    expect(d.changed.map((c) => [c.caseId, c.fields])).toEqual([['case-3', ['label', 'submissionSha256']]]);
    expect(d.changed[0].before[0].label).toBe('pneumonia');
    expect(d.changed[0].after[0].label).toBe('normal');
  });

  it('reports a case that gained a second label as changed in its label count', () => {
    const a = buildReleaseManifest({ ...base, labels: [label('case-1')] });
    const b = buildReleaseManifest({ ...base, labels: [label('case-1'), label('case-1', { batchId: 'b-2', workforceId: 'vendor-b' })] });
    expect(diffReleases(a, b).changed).toMatchObject([{ caseId: 'case-1', fields: ['labels'] }]);
    expect(diffReleases(a, a)).toMatchObject({ added: [], removed: [], changed: [], unchanged: 1 });
  });
});

describe('Release verify checks', () => {
  const stored = [label('case-1'), label('case-2', { label: 'normal' })];
  const m = buildReleaseManifest({ ...base, labels: stored });

  it('passes an untouched manifest whose labels match the stored ones and whose objects hash as recorded', () => {
    expect(checkReleaseManifest(m)).toEqual([]);
    expect(m.labels.flatMap((l, i) => compareReleaseLabel(l, stored[i], 'vendor'))).toEqual([]);
    const bytes = new TextEncoder().encode('x');
    const l = { ...m.labels[0], submissionSha256: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881' };
    expect(checkSubmissionObject(l, bytes)).toEqual([]);
  });

  it('detects an edited label: the labels hash no longer matches, and the label is named against the stored one', () => {
    const edited: ReleaseManifest = { ...m, labels: m.labels.map((l) => (l.caseId === 'case-2' ? { ...l, label: 'pneumonia' } : l)) };
    expect(checkReleaseManifest(edited).map((p) => p.check)).toEqual(['labels-sha256']);
    expect(compareReleaseLabel(edited.labels[1], stored[1], 'vendor')).toEqual([
      { check: 'label', caseId: 'case-2', batchId: 'b-1', detail: 'differs from the stored label in label' },
    ]);
    // Re-hashed to cover the edit, the id no longer is the one the content gives.
    const rehashed = { ...edited, labelsSha256: labelsSha256(edited.labels) };
    expect(checkReleaseManifest(rehashed)).toMatchObject([{ check: 'manifest', detail: expect.stringMatching(/release id .* is not the one its content gives/) }]);
  });

  it('names a missing or changed submission object, a label of another protocol version, and a missing stored label', () => {
    const l = m.labels[0];
    expect(checkSubmissionObject(l, undefined)).toMatchObject([{ check: 'submission', caseId: 'case-1', detail: `${l.submissionKey} (version v1) is missing` }]);
    expect(checkSubmissionObject(l, new TextEncoder().encode('other'))[0].detail).toMatch(/hashes to [0-9a-f]{64}, the release records a{64}/);
    const wrong = { ...m, labels: [{ ...l, protocol: 'cxr@2' }, m.labels[1]] };
    expect(checkReleaseManifest(wrong).filter((p) => p.check === 'label')).toMatchObject([{ caseId: 'case-1', detail: 'protocol cxr@2, not cxr@1' }]);
    expect(compareReleaseLabel(l, undefined, undefined)[0].detail).toBe('no stored label of this case from this batch');
    expect(compareReleaseLabel(l, stored[0], 'internal')[0].detail).toBe('differs from the stored label in workforceKind');
  });
});
