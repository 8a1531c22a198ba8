import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { completeCaseIngest, ingestCaseManifest } from '../../../functions/use-cases/case-ingest.js';
import { InvalidInputError, NotFoundError } from '../../../functions/use-cases/errors.js';
import { registerProtocolVersion } from '../../../functions/use-cases/setup-program.js';
import { buildPng, tEXt } from '../../support/images.js';
import { type FakeDeps, makeCase, makeFakeDeps, makeProtocol } from '../fakes.js';

const PROGRAM = 'prog-i';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const clean = buildPng();
const named = buildPng([tEXt('Author', 'DOE^JANE')]);

const csv = (rows: [string, Uint8Array, string?][]) =>
  [
    'caseId,modality,bodyPart,site,deidentified,flags.sensitive,subgroup.ageBand,image,imageSizeBytes,imageSha256,goldLabel,goldExpert',
    ...rows.map(([id, img, gold]) => `${id},CR,CHEST,site-a,true,false,18-64,${id}.png,${img.length},${sha(img)},${gold ?? ''},${gold ? 'dr-lead' : ''}`),
  ].join('\n');

async function seed(deps: FakeDeps, policy: 'internal' | 'quarantine' = 'internal') {
  await registerProtocolVersion(
    deps,
    makeProtocol({ attributes: { subgroup: { ageBand: ['18-64', '65+'] } }, routing: { rules: [], default: { pool: 'vendor' }, onDeidentificationFailure: policy } }),
  );
}

describe('Use case: ingestCaseManifest', () => {
  it('issues one write-once image slot per new case, at a key the server chose, bound to the declared size and hash', async () => {
    // Arrange
    const deps = makeFakeDeps();
    await seed(deps);

    // Act
    const r = await ingestCaseManifest(deps, { programId: PROGRAM, protocol: 'chest-xray@1', format: 'csv', body: csv([['case-1', clean], ['case-2', named]]), actor: 'pm:alice' });

    // Assert
    expect(r.slots.map((s) => s.caseId)).toEqual(['case-1', 'case-2']);
    // Issue 14: the slot key is the opaque key vendors get (was images/<program>/<case>/<ingest>.png, which named the case).
    expect(r.slots[0].imageKey).toMatch(/^opaque\/[a-z0-9]{24}\.png$/);
    expect(new Set(r.slots.map((s) => s.imageKey)).size).toBe(2);
    for (const s of r.slots) expect(s.imageKey).not.toMatch(/case|chest|alice/);
    expect(r.slots[0].headers).toMatchObject({
      'content-length': String(clean.length),
      'x-amz-checksum-sha256': Buffer.from(sha(clean), 'hex').toString('base64'),
      'if-none-match': '*',
      'content-type': 'image/png',
    });
    expect(await deps.repo.listCases(PROGRAM)).toEqual([]);
  });

  it('refuses the whole manifest when one row is bad, storing nothing, and a gold label the protocol does not have', async () => {
    const deps = makeFakeDeps();
    await seed(deps);

    await expect(
      ingestCaseManifest(deps, { programId: PROGRAM, protocol: 'chest-xray@1', format: 'csv', body: csv([['case-1', clean]]).replace('true,false', 'sure,false'), actor: 'pm:alice' }),
    ).rejects.toThrow(/manifest: line 2\.deidentified: "sure" is not true\/false/);
    await expect(
      ingestCaseManifest(deps, { programId: PROGRAM, protocol: 'chest-xray@1', format: 'csv', body: csv([['case-1', clean, 'abnormall']]), actor: 'pm:alice' }),
    ).rejects.toThrow(/gold label "abnormall" is not one of normal, abnormal/);
    await expect(ingestCaseManifest(deps, { programId: PROGRAM, protocol: 'chest-xray@9', format: 'csv', body: csv([['case-1', clean]]), actor: 'pm:alice' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(deps.objects.versions.size).toBe(0);
  });

  // Issue 14: the duplicate check read the program's whole case list per manifest (a million-case program read whole to take a few cases).
  it("finds the cases the program has already by the manifest's ids alone, never reading the case list", async () => {
    const deps = makeFakeDeps();
    await seed(deps);
    const stored = Array.from({ length: 300 }, (_, i) => ({ ...makeCase(`old-${String(i).padStart(3, '0')}`), goldPool: false }));
    await deps.repo.putCases(PROGRAM, [...stored, { ...makeCase('case-2'), goldPool: false }]);
    await deps.repo.putCases('prog-other', [{ ...makeCase('case-1'), goldPool: false }]);
    const listCases = vi.spyOn(deps.repo, 'listCases');
    const byId = vi.spyOn(deps.repo, 'existingCaseIds');

    const r = await ingestCaseManifest(deps, {
      programId: PROGRAM,
      protocol: 'chest-xray@1',
      format: 'csv',
      body: csv([['case-1', clean], ['case-2', clean], ['old-007', clean], ['case-3', clean]]),
      actor: 'pm:alice',
    });

    expect(listCases).not.toHaveBeenCalled();
    expect(byId.mock.calls).toEqual([[PROGRAM, ['case-1', 'case-2', 'old-007', 'case-3']]]);
    expect(r.existing).toEqual(['case-2', 'old-007']);
    expect(r.slots.map((s) => s.caseId)).toEqual(['case-1', 'case-3']);
  });
});

describe('Use case: completeCaseIngest', () => {
  it('runs the de-identification gate on each uploaded image and answers each case\'s verdict; cases still without an image wait', async () => {
    // Arrange
    const deps = makeFakeDeps();
    await seed(deps);
    const r = await ingestCaseManifest(deps, {
      programId: PROGRAM,
      protocol: 'chest-xray@1',
      format: 'csv',
      body: csv([['case-1', clean], ['case-2', named], ['case-3', clean, 'normal']]),
      actor: 'pm:alice',
    });
    const upload = (caseId: string, b: Uint8Array) => deps.objects.putBytes(deps.buckets.images, r.slots.find((s) => s.caseId === caseId)!.imageKey, b, 'image/png');
    await upload('case-1', clean);
    await upload('case-2', named);

    // Act
    const first = await completeCaseIngest(deps, { programId: PROGRAM, ingestId: r.ingestId, actor: 'pm:alice' });
    await upload('case-3', clean);
    const second = await completeCaseIngest(deps, { programId: PROGRAM, ingestId: r.ingestId, actor: 'pm:alice' });

    // Assert
    expect(first.cases.map((c) => [c.caseId, c.verdict])).toEqual([
      ['case-1', 'clear'],
      ['case-2', 'internal-only'],
    ]);
    expect(first.cases[1].findings.join()).toContain('tEXt "Author"');
    expect(JSON.stringify(first)).not.toContain('DOE');
    expect(first.awaitingImage).toEqual(['case-3']);
    expect(second.awaitingImage).toEqual([]);
    expect(second.cases.find((c) => c.caseId === 'case-3')).toMatchObject({ verdict: 'clear', gold: true });
    expect((await deps.repo.listCases(PROGRAM)).map((c) => c.caseId).sort()).toEqual(['case-1', 'case-2', 'case-3']);
    const events = (await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'cases.ingested');
    // One event per completion, naming only the cases it stored (same instant: the ledger orders them by id).
    expect(events.map((e) => e.data.cases).sort((a, b) => String(a).localeCompare(String(b)))).toEqual([['case-1', 'case-2'], ['case-3']]);
    expect(events[0]).toMatchObject({ actor: 'pm:alice', protocol: 'chest-xray@1' });
  });

  it('reports a gated case as quarantined when the protocol quarantines, and a second manifest sees existing cases', async () => {
    const deps = makeFakeDeps();
    await seed(deps, 'quarantine');
    const r = await ingestCaseManifest(deps, { programId: PROGRAM, protocol: 'chest-xray@1', format: 'csv', body: csv([['case-2', named]]), actor: 'pm:alice' });
    await deps.objects.putBytes(deps.buckets.images, r.slots[0].imageKey, named, 'image/png');

    const done = await completeCaseIngest(deps, { programId: PROGRAM, ingestId: r.ingestId, actor: 'pm:alice' });
    const again = await ingestCaseManifest(deps, { programId: PROGRAM, protocol: 'chest-xray@1', format: 'csv', body: csv([['case-2', named]]), actor: 'pm:alice' });

    expect(done.cases[0].verdict).toBe('quarantined');
    expect(again.existing).toEqual(['case-2']);
    expect(again.slots).toEqual([]);
  });

  it('stores each case with its upload slot as its opaque image, copying no image', async () => {
    const deps = makeFakeDeps();
    await seed(deps);
    const r = await ingestCaseManifest(deps, { programId: PROGRAM, protocol: 'chest-xray@1', format: 'csv', body: csv([['case-1', clean]]), actor: 'pm:alice' });
    await deps.objects.putBytes(deps.buckets.images, r.slots[0].imageKey, clean, 'image/png');
    const copy = vi.spyOn(deps.objects, 'copy');

    await completeCaseIngest(deps, { programId: PROGRAM, ingestId: r.ingestId, actor: 'pm:alice' });

    const [stored] = await deps.repo.listCases(PROGRAM);
    expect(stored.opaqueImage).toEqual({ key: r.slots[0].imageKey, of: r.slots[0].imageKey });
    expect(copy).not.toHaveBeenCalled();
  });

  it('answers a missing and a malformed ingest id alike: not found', async () => {
    const deps = makeFakeDeps();
    await seed(deps);
    await expect(completeCaseIngest(deps, { programId: PROGRAM, ingestId: 'abcdefgh12', actor: 'pm:alice' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(completeCaseIngest(deps, { programId: PROGRAM, ingestId: '../../gold-sets/x', actor: 'pm:alice' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(completeCaseIngest(deps, { programId: 'Bad Program', ingestId: 'abcdefgh12', actor: 'pm:alice' })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
