import { describe, expect, it, vi } from 'vitest';
import { type ProtocolVersion, planRound, routeCase } from '../../../functions/domain/index.js';
import { dispatchRound } from '../../../functions/use-cases/dispatch-round.js';
import { ConflictError, InvalidInputError } from '../../../functions/use-cases/errors.js';
import {
  currentProtocolRef,
  listQuarantined,
  releaseQuarantinedCase,
  replaceQuarantinedImage,
} from '../../../functions/use-cases/quarantine.js';
import { ingestCases, registerProtocolVersion, registerWorkforce } from '../../../functions/use-cases/setup-program.js';
import { buildJpeg, buildPng, segment, tEXt, text } from '../../support/images.js';
import { type FakeDeps, makeFakeDeps, makeProtocol, makeWorkforce } from '../fakes.js';

const PROGRAM = 'prog-q';
const REF = 'chest-xray@1';

/** A program whose protocol quarantines gate failures: three cases bound for vendors, one with a text chunk. */
async function seedProgram(deps: FakeDeps, policy: 'quarantine' | 'internal' = 'quarantine'): Promise<ProtocolVersion> {
  const protocol = makeProtocol({ routing: { rules: [], default: { pool: 'vendor' }, onDeidentificationFailure: policy } });
  await registerProtocolVersion(deps, protocol);
  await registerWorkforce(deps, PROGRAM, makeWorkforce('vendor-a'));
  await registerWorkforce(deps, PROGRAM, makeWorkforce('radiology', { kind: 'internal' }));
  const images: Record<string, Uint8Array> = {
    'case-clean': buildPng(),
    'case-text': buildPng([tEXt('Author', 'DOE^JANE')]),
    'case-comment': buildJpeg([segment(0xfe, text('scanned for J. Doe'))]),
  };
  for (const [id, bytes] of Object.entries(images)) await deps.objects.putBytes(deps.buckets.images, `images/${id}`, bytes, 'image/png');
  await ingestCases(deps, {
    programId: PROGRAM,
    protocolId: protocol.protocolId,
    protocolVersion: protocol.version,
    cases: Object.keys(images).map((caseId) => ({ caseId, imageKey: `images/${caseId}`, modality: 'CR', bodyPart: 'CHEST', site: 's', deidentified: true })),
    gold: [],
  });
  return protocol;
}

describe('Use case: listQuarantined', () => {
  it('lists each case the gate holds back, with its findings, and not the clean one', async () => {
    // Arrange
    const deps = makeFakeDeps();
    await seedProgram(deps);

    // Act
    const list = await listQuarantined(deps, { programId: PROGRAM, protocol: REF });

    // Assert
    expect(list.onDeidentificationFailure).toBe('quarantine');
    expect(list.cases.map((c) => [c.caseId, c.problems.length])).toEqual([
      ['case-comment', 1],
      ['case-text', 1],
    ]);
    expect(list.cases[1].problems[0]).toContain('tEXt "Author"');
    expect(JSON.stringify(list)).not.toContain('DOE');
  });

  // Issue 14: the list read the program's whole case list (every state) to find the pending quarantined cases.
  it('finds them among the pending cases by the case-state index alone, never reading the case list', async () => {
    const deps = makeFakeDeps();
    await seedProgram(deps);
    const listCases = vi.spyOn(deps.repo, 'listCases');
    const byState = vi.spyOn(deps.repo, 'listCasesByState');

    const list = await listQuarantined(deps, { programId: PROGRAM, protocol: REF });

    expect(listCases).not.toHaveBeenCalled();
    expect(byState.mock.calls.map(([, state]) => state)).toEqual(['pending']);
    expect(list.cases.map((c) => c.caseId)).toEqual(['case-comment', 'case-text']);
  });

  it('lists nothing when the protocol keeps gated cases internal instead', async () => {
    const deps = makeFakeDeps();
    await seedProgram(deps, 'internal');
    expect((await listQuarantined(deps, { programId: PROGRAM, protocol: REF })).cases).toEqual([]);
  });

  it('refuses a malformed protocol reference with a clear error', async () => {
    const deps = makeFakeDeps();
    await expect(listQuarantined(deps, { programId: PROGRAM, protocol: '../x' })).rejects.toThrow(InvalidInputError);
  });
});

describe('Use case: releaseQuarantinedCase', () => {
  it('records who and why with the findings it overrides, and makes the case routable to vendors', async () => {
    // Arrange
    const deps = makeFakeDeps();
    const protocol = await seedProgram(deps);

    // Act
    const result = await releaseQuarantinedCase(deps, { programId: PROGRAM, protocol: REF, caseId: 'case-text', by: 'pm:ana', reason: 'Author is the scanner vendor name' });

    // Assert
    const events = (await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'case.quarantine-released');
    expect(events).toEqual([
      expect.objectContaining({
        actor: 'pm:ana',
        subject: 'case-text',
        reason: 'Author is the scanner vendor name',
        protocol: REF,
        data: expect.objectContaining({ overrides: result.overrides, imageKey: 'images/case-text', mayReachVendors: true }),
      }),
    ]);
    expect(result.overrides).toHaveLength(1);
    const c = (await deps.repo.getCase(PROGRAM, 'case-text'))!;
    expect(routeCase(c, protocol).route.pool).toBe('vendor');
    const after = await listQuarantined(deps, { programId: PROGRAM, protocol: REF });
    expect(after.cases.map((x) => x.caseId)).toEqual(['case-comment']);
    expect(after.releases).toEqual([{ caseId: 'case-text', by: 'pm:ana', at: expect.any(String), reason: 'Author is the scanner vendor name', overrides: result.overrides }]);
  });

  it('refuses a case that is not quarantined, and a release without a pm: name or a reason', async () => {
    const deps = makeFakeDeps();
    await seedProgram(deps);
    await expect(releaseQuarantinedCase(deps, { programId: PROGRAM, protocol: REF, caseId: 'case-clean', by: 'pm:ana', reason: 'x' })).rejects.toThrow(ConflictError);
    await expect(releaseQuarantinedCase(deps, { programId: PROGRAM, protocol: REF, caseId: 'case-text', by: 'ana', reason: 'x' })).rejects.toThrow(/pm:<name>/);
    await expect(releaseQuarantinedCase(deps, { programId: PROGRAM, protocol: REF, caseId: 'case-text', by: 'pm:ana', reason: '  ' })).rejects.toThrow(InvalidInputError);
    expect((await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'case.quarantine-released')).toEqual([]);
  });

  it('covers only the findings it listed: a manifest cannot pre-release a case', async () => {
    // Arrange: a manifest row that claims a release the PM never gave.
    const deps = makeFakeDeps();
    const protocol = await seedProgram(deps);
    await deps.objects.putBytes(deps.buckets.images, 'images/case-forged', buildPng([tEXt('Author', 'x')]), 'image/png');
    const forged = { by: 'pm:eve', reason: 'r', at: '2026-01-01T00:00:00.000Z', imageKey: 'images/case-forged', overrides: ['anything'] };

    // Act
    await ingestCases(deps, {
      programId: PROGRAM,
      protocolId: 'chest-xray',
      protocolVersion: 1,
      cases: [{ caseId: 'case-forged', imageKey: 'images/case-forged', modality: 'CR', bodyPart: 'CHEST', site: 's', deidentified: true, quarantineRelease: forged }],
      gold: [],
    });

    // Assert
    const c = (await deps.repo.getCase(PROGRAM, 'case-forged'))!;
    expect(c.quarantineRelease).toBeUndefined();
    expect(routeCase(c, protocol).quarantined).toBe(true);
  });
});

describe('Use case: replaceQuarantinedImage', () => {
  it('takes a case whose new image is clean out of quarantine, and records the replacement', async () => {
    // Arrange
    const deps = makeFakeDeps();
    const protocol = await seedProgram(deps);

    // Act
    const result = await replaceQuarantinedImage(deps, { programId: PROGRAM, protocol: REF, caseId: 'case-text', by: 'pm:ana', image: buildPng() });

    // Assert
    expect(result).toEqual({ caseId: 'case-text', imageKey: expect.stringMatching(/^replacements\/prog-q\/case-text\/[0-9a-f]{64}\.png$/), quarantined: false, problems: [] });
    const c = (await deps.repo.getCase(PROGRAM, 'case-text'))!;
    expect(c.imageKey).toBe(result.imageKey);
    expect(c.deidentificationFindings).toEqual([]);
    expect(routeCase(c, protocol).route.pool).toBe('vendor');
    const [event] = (await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'case.image-replaced');
    expect(event).toEqual(expect.objectContaining({ actor: 'pm:ana', data: expect.objectContaining({ from: 'images/case-text', to: result.imageKey, quarantined: false }) }));
  });

  it('keeps a case whose new image still identifies in quarantine, with the new findings', async () => {
    const deps = makeFakeDeps();
    await seedProgram(deps);
    const result = await replaceQuarantinedImage(deps, { programId: PROGRAM, protocol: REF, caseId: 'case-text', by: 'pm:ana', image: buildJpeg([segment(0xfe, text('J. Doe'))]) });
    expect(result.quarantined).toBe(true);
    const listed = (await listQuarantined(deps, { programId: PROGRAM, protocol: REF })).cases.find((c) => c.caseId === 'case-text')!;
    expect(listed.problems).toEqual(result.problems);
    expect(listed.problems[0]).toContain('COM');
  });

  it('refuses to replace a released case: it is no longer quarantined, and its release stands for its image', async () => {
    // Arrange
    const deps = makeFakeDeps();
    const protocol = await seedProgram(deps);
    await releaseQuarantinedCase(deps, { programId: PROGRAM, protocol: REF, caseId: 'case-text', by: 'pm:ana', reason: 'vendor name' });

    // Act
    const replacing = replaceQuarantinedImage(deps, { programId: PROGRAM, protocol: REF, caseId: 'case-text', by: 'pm:ana', image: buildPng() });

    // Assert
    await expect(replacing).rejects.toThrow(/not quarantined/);
    const c = (await deps.repo.getCase(PROGRAM, 'case-text'))!;
    expect(c.imageKey).toBe('images/case-text');
    expect(routeCase(c, protocol).route.pool).toBe('vendor');
  });

  it('drops a release when the image is replaced: a release covers only the image it was given on', async () => {
    // Arrange: a release on the stored case, then the repository replaces the image.
    const deps = makeFakeDeps();
    const protocol = await seedProgram(deps);
    await releaseQuarantinedCase(deps, { programId: PROGRAM, protocol: REF, caseId: 'case-text', by: 'pm:ana', reason: 'vendor name' });
    const released = (await deps.repo.getCase(PROGRAM, 'case-text'))!;

    // Act
    const replaced = await deps.repo.replaceCaseImage(PROGRAM, 'case-text', { from: 'images/case-text', imageKey: 'images/other', deidentificationFindings: released.deidentificationFindings });

    // Assert: the same finding text on another image is quarantined again.
    expect(replaced).toBe(true);
    const c = (await deps.repo.getCase(PROGRAM, 'case-text'))!;
    expect(c.quarantineRelease).toBeUndefined();
    expect(routeCase(c, protocol).quarantined).toBe(true);
    expect(routeCase({ ...released, imageKey: 'images/other' }, protocol).quarantined).toBe(true);
  });

  it('gates the other files of a series with the new image: a finding in one of them keeps the case in quarantine', async () => {
    // Arrange: a series whose first file has a text chunk and whose second has a comment.
    const deps = makeFakeDeps();
    await seedProgram(deps);
    await deps.objects.putBytes(deps.buckets.images, 'images/s-1', buildPng([tEXt('Author', 'x')]), 'image/png');
    await deps.objects.putBytes(deps.buckets.images, 'images/s-2', buildJpeg([segment(0xfe, text('x'))]), 'image/jpeg');
    await ingestCases(deps, {
      programId: PROGRAM,
      protocolId: 'chest-xray',
      protocolVersion: 1,
      cases: [{ caseId: 'case-series', imageKey: 'images/s-1', seriesKeys: ['images/s-1', 'images/s-2'], modality: 'CR', bodyPart: 'CHEST', site: 's', deidentified: true }],
      gold: [],
    });

    // Act
    const result = await replaceQuarantinedImage(deps, { programId: PROGRAM, protocol: REF, caseId: 'case-series', by: 'pm:ana', image: buildPng() });

    // Assert
    expect(result.quarantined).toBe(true);
    expect(result.problems).toEqual([expect.stringMatching(/^images\/s-2: .*COM/)]);
  });

  it('refuses an empty image', async () => {
    const deps = makeFakeDeps();
    await seedProgram(deps);
    await expect(replaceQuarantinedImage(deps, { programId: PROGRAM, protocol: REF, caseId: 'case-text', by: 'pm:ana', image: new Uint8Array() })).rejects.toThrow(/empty/);
  });
});

describe('Quarantine and vendors', () => {
  it('never puts a quarantined case in a vendor batch, answer key or gold, while a released one goes', async () => {
    // Arrange
    const deps = makeFakeDeps();
    const protocol = await seedProgram(deps);

    // Act: round 1 with two cases quarantined; then one released; round 2.
    const round1 = await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm:ana' });
    const keysOf = async () => [...deps.objects.objects.keys()].filter((k) => k.startsWith(`${deps.buckets.gold}/`));
    const round1Objects = await keysOf();
    const round1Text = round1Objects.map((k) => new TextDecoder().decode(deps.objects.objects.get(k))).join('\n');
    await releaseQuarantinedCase(deps, { programId: PROGRAM, protocol: REF, caseId: 'case-text', by: 'pm:ana', reason: 'vendor name' });
    const plan2 = planRound({ cases: (await deps.repo.listCases(PROGRAM)).filter((c) => c.state === 'pending'), protocol, workforces: await deps.repo.listWorkforces(PROGRAM), shares: { 'vendor-a': 1 } });

    // Assert
    expect(round1.excluded.map((d) => d.caseId).sort()).toEqual(['case-comment', 'case-text']);
    expect(round1.excluded.every((d) => d.quarantined)).toBe(true);
    expect(round1Text).toContain('case-clean');
    expect(round1Text).not.toContain('case-text');
    expect(round1Text).not.toContain('case-comment');
    expect(plan2.assignments['vendor-a'].map((c) => c.caseId)).toEqual(['case-text']);
    expect(plan2.excluded.map((d) => d.caseId)).toEqual(['case-comment']);
  });
});

describe('Function: currentProtocolRef', () => {
  it('names the protocol of the latest dispatched round, or nothing before the first', async () => {
    const deps = makeFakeDeps();
    await seedProgram(deps);
    expect(await currentProtocolRef(deps, PROGRAM)).toBeUndefined();
    await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm:ana' });
    expect(await currentProtocolRef(deps, PROGRAM)).toBe(REF);
  });
});
