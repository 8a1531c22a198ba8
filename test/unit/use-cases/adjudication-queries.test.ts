import { describe, expect, it } from 'vitest';
import { getAdjudication, listOpenAdjudications } from '../../../functions/use-cases/adjudication-queries.js';
import { NotFoundError } from '../../../functions/use-cases/errors.js';
import type { StoredLabel } from '../../../functions/domain/model/index.js';
import { type FakeDeps, makeCase, makeFakeDeps, makeProtocol, makeWorkforce, T0 } from '../fakes.js';

const label = (batchId: string, workforceId: string, value: string, overrides: Partial<StoredLabel> = {}): StoredLabel => ({
  caseId: 'case-7',
  batchId,
  label: value,
  workforceId,
  annotatorId: 'reader-1',
  protocol: 'chest-xray@1',
  submissionKey: `uploads/${workforceId}/${batchId}/up${workforceId.length}0000000.jsonl`,
  submissionSha256: 'a'.repeat(64),
  gold: false,
  status: 'accepted',
  createdAt: T0,
  ...overrides,
});

async function seed(deps: FakeDeps) {
  await deps.repo.putProtocolVersion(makeProtocol());
  for (const p of ['prog-1', 'prog-2']) await deps.repo.putWorkforce(p, makeWorkforce('vendor-a'));
  await deps.repo.putCases('prog-1', [{ ...makeCase('case-7', { seriesKeys: ['images/case-7.dcm', 'images/case-7-2.dcm'] }), goldPool: false }]);
  await deps.repo.putLabels([
    label('b-a', 'vendor-a', 'normal', { submissionVersionId: 'v-17' }),
    label('b-b', 'vendor-b', 'abnormal'),
    // Not competing: another protocol, and an earlier adjudicated label.
    label('b-c', 'vendor-c', 'normal', { protocol: 'chest-xray@2' }),
    label('old-adj', 'radiology', 'normal', { adjudicationId: 'old-adj' }),
  ]);
  await deps.repo.createAdjudication({
    adjudicationId: 'b-a-adj',
    programId: 'prog-1',
    batchId: 'b-a',
    protocol: 'chest-xray@1',
    needs: [{ caseId: 'case-7', kind: 'overlap-disagreement', reason: 'overlap labels disagree', labels: { 'vendor-a/reader-1': 'normal', 'vendor-b/reader-1': 'abnormal' } }],
    status: 'open',
    taskToken: 'secret-task-token',
    deadline: '2025-03-04T09:00:00.000Z',
    createdAt: '2025-03-02T09:00:00.000Z',
  });
  await deps.repo.createAdjudication({
    adjudicationId: 'b-z-adj',
    programId: 'prog-2',
    batchId: 'b-z',
    protocol: 'chest-xray@1',
    needs: [],
    status: 'open',
    createdAt: '2025-03-01T09:00:00.000Z',
  });
  await deps.repo.createAdjudication({ adjudicationId: 'b-done-adj', programId: 'prog-1', batchId: 'b-done', protocol: 'chest-xray@1', needs: [], status: 'decided', createdAt: T0 });
}

describe('Use case: listOpenAdjudications', () => {
  it('lists the open adjudications of every program, oldest first, without task tokens', async () => {
    const deps = makeFakeDeps();
    await seed(deps);

    const list = await listOpenAdjudications(deps, {});

    expect(list.items.map((a) => a.adjudicationId)).toEqual(['b-z-adj', 'b-a-adj']);
    expect(JSON.stringify(list)).not.toContain('secret-task-token');
  });

  it('lists one program\'s when asked', async () => {
    const deps = makeFakeDeps();
    await seed(deps);

    expect((await listOpenAdjudications(deps, { programId: 'prog-1' })).items.map((a) => a.adjudicationId)).toEqual(['b-a-adj']);
  });
});

describe('Use case: getAdjudication', () => {
  it('shows the competing labels with presigned GETs of the ingested versions, the image and the choices', async () => {
    const deps = makeFakeDeps();
    await seed(deps);

    const view = await getAdjudication(deps, { adjudicationId: 'b-a-adj' });

    expect(view.status).toBe('open');
    const need = view.needs[0];
    expect(need.choices).toEqual(['normal', 'abnormal']);
    expect(need.competingLabels.map((l) => [l.by, l.label])).toEqual([
      ['vendor-a/reader-1', 'normal'],
      ['vendor-b/reader-1', 'abnormal'],
    ]);
    expect(need.competingLabels[0].fileUrl).toBe('memory://uploads/uploads/vendor-a/b-a/up80000000.jsonl?get&expires=3600&versionId=v-17');
    expect(need.competingLabels[1].fileUrl).not.toContain('versionId');
    expect(need.imageUrl).toBe('memory://images/images/case-7.dcm?get&expires=3600');
    expect(need.seriesObjects).toBe(1);
    expect(JSON.stringify(view)).not.toContain('secret-task-token');
  });

  it('answers a missing and a malformed id alike: not found', async () => {
    const deps = makeFakeDeps();
    await seed(deps);

    await expect(getAdjudication(deps, { adjudicationId: 'nope-adj' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(getAdjudication(deps, { adjudicationId: '../../etc/passwd' })).rejects.toBeInstanceOf(NotFoundError);
  });
});
