import { describe, expect, it, vi } from 'vitest';
import { isLedgerEvent } from '../../../functions/domain/index.js';
import { ingestCases, registerProtocolVersion, registerWorkforce } from '../../../functions/use-cases/setup-program.js';
import { buildPng, tEXt } from '../../support/images.js';
import { makeFakeDeps, makeProtocol, makeWorkforce } from '../fakes.js';

const PROGRAM = 'prog-1';

describe('Use case: ingestCases', () => {
  // Found in review: putCases overwrote each case whole, so a repeated ingest re-queued labelled work and forgot which vendors had failed the cases.
  it('keeps labelled cases labelled and keeps their exclusions when the same rows are ingested again', async () => {
    const deps = makeFakeDeps();
    await deps.repo.putProtocolVersion(makeProtocol());
    const rows = ['c1', 'c2', 'g1'].map((caseId) => ({
      caseId, imageKey: `images/${caseId}.png`, modality: 'CR', bodyPart: 'CHEST', site: 's', deidentified: true,
    }));
    for (const r of rows) await deps.objects.putBytes(deps.buckets.images, r.imageKey, new Uint8Array([0x89, 0x50]), 'image/png');
    const gold = [{ caseId: 'g1', label: 'normal', expertId: 'dr-x' }];
    await ingestCases(deps, { programId: PROGRAM, protocolId: 'chest-xray', cases: rows, gold });
    // Round 1: c1 labelled; c2 rejected at vendor-b and re-queued away from it.
    await deps.repo.setCaseState(PROGRAM, ['c1'], 'labelled', 'b1');
    await deps.repo.setCaseState(PROGRAM, ['c2'], 'assigned', 'b2');
    await deps.repo.requeueCases(PROGRAM, ['c2'], { batchId: 'b2', exclude: 'vendor-b' });

    // The very same request is delivered again (a retried PM request / Lambda retry).
    await ingestCases(deps, { programId: PROGRAM, protocolId: 'chest-xray', cases: rows, gold });

    const byId = new Map((await deps.repo.listCases(PROGRAM)).map((c) => [c.caseId, c]));
    expect({ c1: byId.get('c1')!.state, c2: byId.get('c2')!.excludedWorkforces }).toEqual({ c1: 'labelled', c2: ['vendor-b'] });
  });

  it('reports the cases whose subgroup values the protocol version does not declare, and stores them all', async () => {
    // Arrange
    const deps = makeFakeDeps();
    await deps.repo.putProtocolVersion(makeProtocol({ attributes: { subgroup: { ageBand: ['0-17', '18-64', '65+'] } } }));
    const rows = (
      [
        { caseId: 'c1', subgroup: { ageBand: '18-64' } },
        { caseId: 'c2', subgroup: { ageBand: '18-65' } },
        { caseId: 'c3', subgroup: { agegroup: 'adult' } },
      ] as { caseId: string; subgroup: Record<string, string> }[]
    ).map((r) => ({ ...r, imageKey: `images/${r.caseId}.png`, modality: 'CR', bodyPart: 'CHEST', site: 's', deidentified: true }));
    for (const r of rows) await deps.objects.putBytes(deps.buckets.images, r.imageKey, new Uint8Array([0x89, 0x50]), 'image/png');

    // Act
    const result = await ingestCases(deps, { programId: PROGRAM, protocolId: 'chest-xray', protocolVersion: 1, cases: rows, gold: [] });

    // Assert
    expect(result.undeclared).toEqual([
      { caseId: 'c2', problems: ['subgroup.ageBand="18-65" is not a declared value (declared: "0-17", "18-64", "65+"): did you mean "18-64"?'] },
      { caseId: 'c3', problems: ['subgroup.agegroup is not a declared subgroup key (declared: ageBand)'] },
    ]);
    expect((await deps.repo.listCases(PROGRAM)).map((c) => c.caseId)).toEqual(['c1', 'c2', 'c3']);
  });
  it('passes an image the gate cannot inspect only on an explicit attestation, flagged in the ledger with who vouched', async () => {
    // Arrange: a GIF (no format the gate reads) twice, and a PNG with a text chunk, attested too.
    const deps = makeFakeDeps();
    await deps.repo.putProtocolVersion(makeProtocol());
    const gif = new TextEncoder().encode('GIF89a\x01\x00\x01\x00');
    const png = buildPng([tEXt('Author', 'DOE^JANE')]);
    await deps.objects.putBytes(deps.buckets.images, 'images/a.gif', gif, 'image/gif');
    await deps.objects.putBytes(deps.buckets.images, 'images/b.gif', gif, 'image/gif');
    await deps.objects.putBytes(deps.buckets.images, 'images/c.png', png, 'image/png');
    const attestation = { by: 'pm:ana', reason: 'exported from our own viewer: pixels only' };
    const row = (caseId: string, imageKey: string, attested: boolean) => ({
      caseId, imageKey, modality: 'CR', bodyPart: 'CHEST', site: 's', deidentified: true, ...(attested ? { uninspectedFormatAttestation: attestation } : {}),
    });

    // Act
    await ingestCases(deps, { programId: PROGRAM, protocolId: 'chest-xray', protocolVersion: 1, cases: [row('a', 'images/a.gif', false), row('b', 'images/b.gif', true), row('c', 'images/c.png', true)], gold: [] });

    // Assert
    const byId = new Map((await deps.repo.listCases(PROGRAM)).map((c) => [c.caseId, c.deidentificationFindings]));
    expect(byId.get('a')).toEqual([expect.stringContaining('explicit attestation')]);
    expect(byId.get('b')).toEqual([]);
    expect(byId.get('c')).toEqual([expect.stringContaining('tEXt "Author"')]);
    const flagged = (await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'case.format-attested');
    expect(flagged).toEqual([
      expect.objectContaining({ subject: 'b', actor: 'pm:ana', reason: attestation.reason, protocol: 'chest-xray@1', data: expect.objectContaining({ imageKey: 'images/b.gif', uninspected: [expect.any(String)] }) }),
    ]);
  });

  it('records the gate verdict of every new case in cases.ingested before storing the cases; a retry after a crash records it once', async () => {
    // Arrange: the case writes fail once (a crash after the event).
    const deps = makeFakeDeps();
    await deps.repo.putProtocolVersion(makeProtocol());
    await deps.objects.putBytes(deps.buckets.images, 'images/a.png', buildPng([]), 'image/png');
    await deps.objects.putBytes(deps.buckets.images, 'images/b.png', buildPng([tEXt('Author', 'DOE^JANE')]), 'image/png');
    const rows = [['a', 'images/a.png'], ['b', 'images/b.png']].map(([caseId, imageKey]) => ({ caseId, imageKey, modality: 'CR', bodyPart: 'CHEST', site: 's', deidentified: true }));
    vi.spyOn(deps.repo, 'putCases').mockRejectedValueOnce(new Error('crash'));
    const ingest = () => ingestCases(deps, { programId: PROGRAM, protocolId: 'chest-xray', protocolVersion: 1, cases: rows, gold: [], actor: 'pm:ana' });
    await expect(ingest()).rejects.toThrow('crash');

    // Act
    await ingest();

    // Assert
    expect((await deps.repo.listCases(PROGRAM)).map((c) => c.caseId)).toEqual(['a', 'b']);
    const events = (await deps.repo.listLedger(PROGRAM)).filter(isLedgerEvent('cases.ingested'));
    expect(events.map((e) => [e.actor, e.data.cases, e.data.gated, e.data.verdicts])).toEqual([
      ['pm:ana', ['a', 'b'], ['b'], [{ caseId: 'a', verdict: 'clear', findings: 0 }, { caseId: 'b', verdict: 'quarantined', findings: 1 }]],
    ]);
  });
});

describe('Use case: registerProtocolVersion and registerWorkforce', () => {
  it('records protocol.registered in the program\'s ledger and workforce.created, each before its item, once', async () => {
    const deps = makeFakeDeps();
    const p = makeProtocol();

    await registerProtocolVersion(deps, p, { programId: PROGRAM, actor: 'pm:ana' });
    await registerProtocolVersion(deps, p, { programId: PROGRAM, actor: 'pm:ana' });
    await registerWorkforce(deps, PROGRAM, makeWorkforce('vendor-a'), 'pm:ana');
    await registerWorkforce(deps, PROGRAM, makeWorkforce('vendor-a'), 'pm:ana');

    const events = await deps.repo.listLedger(PROGRAM);
    expect(events.map((e) => [e.type, e.subject, e.actor])).toEqual([
      ['protocol.registered', 'chest-xray@1', 'pm:ana'],
      ['workforce.created', 'vendor-a', 'pm:ana'],
    ]);
    expect(events[0].data).toMatchObject({ protocolId: 'chest-xray', version: 1, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });
});
