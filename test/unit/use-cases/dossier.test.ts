import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { Dossier } from '../../../functions/domain/dossier/index.js';
import type { StoredLabel } from '../../../functions/domain/index.js';
import { adjudicationObject } from '../../../functions/use-cases/adjudication.js';
import { dossierKeys, exportDossier, readDossierFile } from '../../../functions/use-cases/dossier.js';
import { InvalidInputError, NotFoundError } from '../../../functions/use-cases/errors.js';
import { record } from '../../../functions/use-cases/ledger.js';
import { createRelease } from '../../../functions/use-cases/releases.js';
import { type FakeDeps, T0, makeCase, makeFakeDeps, makeProtocol, makeWorkforce } from '../fakes.js';

const P = 'prog-1';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const dossierOf = async (deps: FakeDeps, key: string) => Dossier.parse(JSON.parse(new TextDecoder().decode(await deps.objects.getBytes(deps.buckets.exports, key))));

/** A label whose upload (or decision record) is stored with the SHA-256 it records. */
async function label(deps: FakeDeps, caseId: string, batchId: string, over: Partial<StoredLabel> & { bucket?: 'uploads' | 'exports' } = {}): Promise<StoredLabel> {
  const { bucket = 'uploads', ...rest } = over;
  const key = rest.submissionKey ?? `uploads/${rest.workforceId ?? 'vendor-a'}/${batchId}/up.jsonl`;
  const bytes = (await deps.objects.getBytes(deps.buckets[bucket], key)) ?? new TextEncoder().encode(`${JSON.stringify({ batchId })}\n`);
  await deps.objects.putBytes(deps.buckets[bucket], key, bytes, 'application/json');
  const l: StoredLabel = {
    caseId,
    batchId,
    label: 'normal',
    workforceId: 'vendor-a',
    annotatorId: 'reader-1',
    protocol: 'chest-xray@1',
    submissionKey: key,
    submissionSha256: sha(bytes),
    gold: false,
    status: 'accepted',
    createdAt: T0,
    ...rest,
  };
  await deps.repo.putLabels([l]);
  return l;
}

describe('Use case: exportDossier', () => {
  let deps: FakeDeps;
  let releaseId: string;

  beforeEach(async () => {
    deps = makeFakeDeps();
    await deps.repo.putProtocolVersion(makeProtocol());
    await deps.repo.putProtocolVersion(makeProtocol({ version: 2, goldRate: 0.2 }));
    for (const w of [makeWorkforce('vendor-a'), makeWorkforce('vendor-b'), makeWorkforce('radiology', { kind: 'internal' })]) await deps.repo.putWorkforce(P, w);
    await deps.repo.putCases(P, ['case-1', 'case-2'].map((id) => ({ ...makeCase(id), goldPool: false })));
    await deps.repo.createRound({ programId: P, protocolId: 'chest-xray', round: 1, batchIds: ['b-a', 'b-b'], settledBatchIds: [], createdAt: T0 });
    for (const [batchId, workforceId] of [
      ['b-a', 'vendor-a'],
      ['b-b', 'vendor-b'],
    ]) {
      await deps.repo.createBatch({ batchId, programId: P, round: 1, protocol: 'chest-xray@1', workforceId, workforceKind: 'vendor', itemCount: 3, goldCount: 1, slaHours: 48, status: 'accepted', createdAt: T0 });
    }
    await deps.repo.createAdjudication({
      adjudicationId: 'b-b-adj',
      programId: P,
      batchId: 'b-b',
      protocol: 'chest-xray@1',
      needs: [{ caseId: 'case-1', kind: 'overlap-disagreement', reason: 'disagree', labels: { 'vendor-a/reader-1': 'normal', 'vendor-b/reader-1': 'abnormal' } }],
      status: 'open',
      createdAt: T0,
    });
    await deps.repo.decideAdjudication('b-b-adj', { decidedBy: 'radiology/dr-lead', decidedAt: T0, decisions: [{ caseId: 'case-1', label: 'abnormal' }] });
    await deps.objects.putBytes(deps.buckets.exports, adjudicationObject('b-b-adj'), new TextEncoder().encode('{"decision":"abnormal"}'), 'application/json');
    await label(deps, 'case-1', 'b-a', { status: 'superseded' });
    await label(deps, 'case-1', 'b-b', { workforceId: 'vendor-b', label: 'abnormal', status: 'superseded' });
    await label(deps, 'case-1', 'b-b-adj', {
      workforceId: 'radiology',
      annotatorId: 'dr-lead',
      label: 'abnormal',
      adjudicationId: 'b-b-adj',
      submissionKey: adjudicationObject('b-b-adj'),
      bucket: 'exports',
    });
    await label(deps, 'case-2', 'b-a');
    await record(deps, { eventId: 'case-2:assigned', programId: P, type: 'case.assigned', actor: 'pm:alice', protocol: 'chest-xray@1', subject: 'case-2', reason: 'seed', data: { caseId: 'case-2', workforceId: 'vendor-a' } });
    ({ releaseId } = (await createRelease(deps, { programId: P, protocolId: 'chest-xray', version: 1, actor: 'qa:quinn' })).release);
  });

  it('writes dossier.json and dossier.html to exports and records each with its key, SHA-256 and rows', async () => {
    const made = await exportDossier(deps, { programId: P, releaseId, actor: 'qa:quinn' });
    const keys = dossierKeys(releaseId);
    expect([made.json.key, made.html.key]).toEqual([keys.json, keys.html]);
    expect(made.json.sha256).toBe(sha((await deps.objects.getBytes(deps.buckets.exports, keys.json))!));
    expect(made.html.sha256).toBe(sha((await deps.objects.getBytes(deps.buckets.exports, keys.html))!));
    const events = (await deps.repo.listLedger(P)).filter((e) => e.type === 'export.created');
    expect(events.map((e) => [e.actor, e.subject, e.data])).toEqual([
      ['qa:quinn', releaseId, { what: 'dossier', key: keys.json, sha256: made.json.sha256, rows: 2, releaseId }],
      ['qa:quinn', releaseId, { what: 'dossier', key: keys.html, sha256: made.html.sha256, rows: 2, releaseId }],
    ]);
    expect(made.ledger).toMatchObject({ verified: true, anchorHolds: true });
  });

  it('states the adjudication with the SHA-256 of its stored decision record, the labels it superseded and both protocol versions', async () => {
    const made = await exportDossier(deps, { programId: P, releaseId, actor: 'qa:quinn' });
    const d = await dossierOf(deps, made.json.key);
    expect(d.adjudications).toMatchObject([
      { adjudicationId: 'b-b-adj', expert: 'radiology/dr-lead', recordKey: adjudicationObject('b-b-adj'), recordSha256: sha(new TextEncoder().encode('{"decision":"abnormal"}')) },
    ]);
    expect(d.reannotation.supersededLabels.map((l) => [l.caseId, l.batchId])).toEqual([
      ['case-1', 'b-a'],
      ['case-1', 'b-b'],
    ]);
    expect(d.protocol.versions.map((v) => [v.version, v.inForce])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect(d.protocol.diffs[0].changes.map((c) => c.text)).toEqual(['changed  goldRate: 0.1 → 0.2']);
    // vendor-a and vendor-b both labelled case-1 (before the expert decided): one pair, one disagreement.
    expect(d.agreement.pairs).toMatchObject([{ workforceA: 'vendor-a', workforceB: 'vendor-b', n: 1, agreements: 0 }]);
  });

  it('says the ledger does not verify, naming the event, when a ledger item was altered in the store', async () => {
    const [first] = await deps.repo.listLedger(P);
    deps.repo.ledgerItem(P, first.eventId).reason = 'rewritten';
    const made = await exportDossier(deps, { programId: P, releaseId, actor: 'qa:quinn' });
    expect(made.ledger.verified).toBe(false);
    const d = await dossierOf(deps, made.json.key);
    expect(d.ledger.problems.join('\n')).toMatch(new RegExp(`event #${first.seq} of shard \\d\\d \\(${first.eventId}, .*was altered`));
    const html = new TextDecoder().decode(await readDossierFile(deps, { programId: P, releaseId, format: 'html' }));
    expect(html).toContain('the chain does NOT verify');
  });

  it('refuses a release of another program, and a malformed release id, writing nothing', async () => {
    await expect(exportDossier(deps, { programId: 'prog-2', releaseId, actor: 'qa:quinn' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(exportDossier(deps, { programId: P, releaseId: '../x', actor: 'qa:quinn' })).rejects.toBeInstanceOf(InvalidInputError);
    expect(await deps.objects.getBytes(deps.buckets.exports, dossierKeys(releaseId).json)).toBeUndefined();
    expect((await deps.repo.listLedger(P)).filter((e) => e.type === 'export.created')).toEqual([]);
  });
});
