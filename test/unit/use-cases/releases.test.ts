import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { StoredLabel } from '../../../functions/domain/index.js';
import { adjudicationObject } from '../../../functions/use-cases/adjudication.js';
import { ConflictError, IntegrityError, NotFoundError } from '../../../functions/use-cases/errors.js';
import { record } from '../../../functions/use-cases/ledger.js';
import { createRelease, ledgerHeadOf, listReleases, releaseLabels, showRelease, verifyRelease } from '../../../functions/use-cases/releases.js';
import { type FakeDeps, T0, makeFakeDeps, makeProtocol, makeWorkforce } from '../fakes.js';

const P = 'prog-1';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const REQUEST = { programId: P, protocolId: 'chest-xray', version: 1, actor: 'qa:quinn' };

/** A label whose upload (or decision record) is stored with the SHA-256 it records. */
async function label(deps: FakeDeps, caseId: string, batchId: string, over: Partial<StoredLabel> & { bucket?: 'uploads' | 'exports' } = {}): Promise<StoredLabel> {
  const { bucket = 'uploads', ...rest } = over;
  const key = rest.submissionKey ?? `uploads/${rest.workforceId ?? 'vendor-a'}/${batchId}/up${caseId}.jsonl`;
  const bytes = new TextEncoder().encode(`${JSON.stringify({ caseId, label: rest.label ?? 'normal' })}\n`);
  await deps.objects.putBytes(deps.buckets[bucket], key, bytes, 'application/json');
  const versionId = (await deps.objects.getObject(deps.buckets[bucket], key))?.versionId;
  const l: StoredLabel = {
    caseId,
    batchId,
    label: 'normal',
    workforceId: 'vendor-a',
    annotatorId: 'reader-1',
    protocol: 'chest-xray@1',
    submissionKey: key,
    submissionSha256: sha(bytes),
    ...(bucket === 'uploads' && versionId ? { submissionVersionId: versionId } : {}),
    gold: false,
    status: 'accepted',
    createdAt: T0,
    ...rest,
  };
  await deps.repo.putLabels([l]);
  return l;
}

describe('Use case: dataset releases', () => {
  let deps: FakeDeps;
  let expert: StoredLabel;

  beforeEach(async () => {
    deps = makeFakeDeps();
    await deps.repo.putProtocolVersion(makeProtocol());
    for (const w of [makeWorkforce('vendor-a'), makeWorkforce('vendor-b'), makeWorkforce('radiology', { kind: 'internal' })]) await deps.repo.putWorkforce(P, w);
    await deps.repo.createRound({ programId: P, protocolId: 'chest-xray', round: 1, batchIds: ['b-a', 'b-b'], settledBatchIds: [], createdAt: T0 });
    await deps.repo.createAdjudication({
      adjudicationId: 'b-b-adj',
      programId: P,
      batchId: 'b-b',
      protocol: 'chest-xray@1',
      needs: [{ caseId: 'case-1', kind: 'overlap-disagreement', reason: 'disagree', labels: {} }],
      status: 'open',
      createdAt: T0,
    });
    await deps.repo.decideAdjudication('b-b-adj', { decidedBy: 'radiology/dr-lead', decidedAt: T0, decisions: [{ caseId: 'case-1', label: 'abnormal' }] });
    await label(deps, 'case-1', 'b-a', { status: 'superseded' });
    await label(deps, 'case-1', 'b-b', { workforceId: 'vendor-b', label: 'abnormal', status: 'superseded' });
    // The expert's class: its lineage is the adjudication's decision record in the exports bucket.
    expert = await label(deps, 'case-1', 'b-b-adj', {
      workforceId: 'radiology',
      annotatorId: 'dr-lead',
      label: 'abnormal',
      adjudicationId: 'b-b-adj',
      submissionKey: adjudicationObject('b-b-adj'),
      bucket: 'exports',
    });
    await label(deps, 'case-2', 'b-a');
    await label(deps, 'case-3', 'b-a', { gold: true });
    await label(deps, 'case-4', 'b-b', { workforceId: 'vendor-b', status: 'rejected' });
    await label(deps, 'case-5', 'b-b', { workforceId: 'vendor-b', protocol: 'chest-xray@2' });
    await record(deps, { eventId: 'case-2:assigned', programId: P, type: 'case.assigned', actor: 'pm:alice', protocol: 'chest-xray@1', subject: 'case-2', reason: 'seed', data: { caseId: 'case-2', workforceId: 'vendor-a' } });
  });

  it('releases the accepted labels of the protocol version (the expert’s where one decided), then records release.created with the manifest’s SHA-256', async () => {
    const { release, created } = await createRelease(deps, REQUEST);
    expect(created).toBe(true);
    const m = await showRelease(deps, { programId: P, releaseId: release.releaseId });
    expect(m.labels.map((l) => [l.caseId, l.batchId, l.workforceKind])).toEqual([
      ['case-1', 'b-b-adj', 'internal'],
      ['case-2', 'b-a', 'vendor'],
    ]);
    expect(m.ledgerHead.seq).toBe(1);
    const stored = await deps.objects.getBytes(deps.buckets.releases, release.manifestKey);
    expect(release.manifestSha256).toBe(sha(stored!));
    const events = await deps.repo.listLedger(P);
    expect(events.at(-1)).toMatchObject({
      eventId: `${release.releaseId}:created`,
      type: 'release.created',
      actor: 'qa:quinn',
      data: { releaseId: release.releaseId, protocolId: 'chest-xray', version: 1, labels: 2, manifestKey: release.manifestKey, manifestSha256: release.manifestSha256, ledgerHead: ledgerHeadOf(events.slice(0, 1)) },
    });
    expect((await releaseLabels(deps, { programId: P, releaseId: release.releaseId, caseId: 'case-1' })).items).toMatchObject([{ adjudicationId: 'b-b-adj', label: 'abnormal' }]);
  });

  it('verifies a release, re-hashing the decision record an expert’s label points to in the exports bucket, and names it once it changed', async () => {
    const { release } = await createRelease(deps, REQUEST);
    expect(await verifyRelease(deps, { programId: P, releaseId: release.releaseId })).toMatchObject({ ok: true, labels: 2, objectsChecked: 2, problems: [] });
    await deps.objects.putBytes(deps.buckets.exports, expert.submissionKey, new TextEncoder().encode('{"rewritten":true}'), 'application/json');
    const v = await verifyRelease(deps, { programId: P, releaseId: release.releaseId });
    expect(v.ok).toBe(false);
    expect(v.problems).toMatchObject([{ check: 'submission', caseId: 'case-1', batchId: 'b-b-adj', detail: expect.stringContaining(expert.submissionKey) }]);
  });

  it('names a label whose stored record was changed after the release, and stays quiet about a later supersession', async () => {
    const { release } = await createRelease(deps, REQUEST);
    const [l2] = await deps.repo.listCaseLabels('case-2');
    await deps.repo.putLabels([{ ...l2, label: 'abnormal' }]);
    expect((await verifyRelease(deps, { programId: P, releaseId: release.releaseId })).problems).toMatchObject([
      { check: 'label', caseId: 'case-2', detail: 'differs from the stored label in label' },
    ]);
    await deps.repo.putLabels([{ ...l2, status: 'superseded' }]);
    expect((await verifyRelease(deps, { programId: P, releaseId: release.releaseId })).ok).toBe(true);
  });

  it('answers the recorded release for the same labels, and a new one when the labels change', async () => {
    const a = await createRelease(deps, REQUEST);
    const again = await createRelease(deps, { ...REQUEST, actor: 'pm:alice' });
    expect(again).toEqual({ release: a.release, created: false });
    await label(deps, 'case-6', 'b-a');
    const b = await createRelease(deps, REQUEST);
    expect(b.created).toBe(true);
    expect(b.release.releaseId).not.toBe(a.release.releaseId);
    expect((await listReleases(deps, { programId: P })).items.map((r) => r.releaseId)).toEqual([a.release.releaseId, b.release.releaseId]);
  });

  it('refuses a release with nothing to release, and a protocol version that does not exist', async () => {
    await expect(createRelease(deps, { ...REQUEST, version: 2 })).rejects.toThrow(NotFoundError);
    await deps.repo.putProtocolVersion(makeProtocol({ version: 3 }));
    await expect(createRelease(deps, { ...REQUEST, version: 3 })).rejects.toThrow(ConflictError);
    await expect(createRelease(deps, { ...REQUEST, version: 3 })).rejects.toThrow('no accepted labels for chest-xray@3 in program prog-1');
  });

  it('lists nothing and shows nothing for a manifest whose ledger event was never recorded; verify says so', async () => {
    const appendLedger = deps.repo.appendLedger.bind(deps.repo);
    deps.repo.appendLedger = async () => {
      throw new Error('crash');
    };
    await expect(createRelease(deps, REQUEST)).rejects.toThrow('crash');
    deps.repo.appendLedger = appendLedger;
    expect((await listReleases(deps, { programId: P })).items).toEqual([]);
    const [key] = [...deps.objects.objects.keys()].filter((k) => k.startsWith(`${deps.buckets.releases}/`));
    const releaseId = key.split('/')[3];
    await expect(showRelease(deps, { programId: P, releaseId })).rejects.toThrow(NotFoundError);
    expect(await verifyRelease(deps, { programId: P, releaseId })).toMatchObject({ ok: false, problems: [{ check: 'ledger-event' }] });
    // The retry finds the manifest it wrote and records its event.
    const retry = await createRelease(deps, REQUEST);
    expect(retry).toMatchObject({ created: true, release: { releaseId } });
    expect((await verifyRelease(deps, { programId: P, releaseId })).ok).toBe(true);
  });

  it('refuses to record a manifest already at the release key that is not this release (a forgery placed before the create)', async () => {
    const putOnce = deps.objects.putOnce.bind(deps.objects);
    deps.objects.putOnce = async (bucket, key, body, contentType) => {
      const m = JSON.parse(new TextDecoder().decode(body));
      const forged = { ...m, labels: m.labels.map((l: { label: string }) => ({ ...l, label: 'forged' })) };
      await deps.objects.putBytes(bucket, key, new TextEncoder().encode(JSON.stringify(forged)), contentType);
      return putOnce(bucket, key, body, contentType);
    };
    await expect(createRelease(deps, REQUEST)).rejects.toThrow(IntegrityError);
    await expect(createRelease(deps, REQUEST)).rejects.toThrow(/exists but is not this release's \(labels hash to [0-9a-f]{64}/);
    expect((await listReleases(deps, { programId: P })).items).toEqual([]);
  });
});
