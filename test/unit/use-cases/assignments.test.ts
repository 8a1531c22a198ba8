import { describe, expect, it } from 'vitest';
import { assignCases } from '../../../functions/use-cases/assignments.js';
import { loadBatchKey } from '../../../functions/use-cases/batch-key.js';
import { dispatchRound } from '../../../functions/use-cases/dispatch-round.js';
import { InvalidInputError } from '../../../functions/use-cases/errors.js';
import { planRoundPreview } from '../../../functions/use-cases/round-planning.js';
import { ingestCases, registerProtocolVersion, registerWorkforce } from '../../../functions/use-cases/setup-program.js';
import { type FakeDeps, makeFakeDeps, makeProtocol, makeWorkforce } from '../fakes.js';
import { buildPng, tEXt } from '../../support/images.js';

const PROGRAM = 'prog-a';
const REF = 'chest-xray@1';

/** Two vendors (equal shares), an internal team; sensitive cases stay inside; one case's PNG names a person. */
async function seed(deps: FakeDeps, policy: 'internal' | 'quarantine' = 'internal') {
  await registerProtocolVersion(
    deps,
    makeProtocol({
      attributes: { flags: ['sensitive'] },
      routing: {
        rules: [{ id: 'sensitive-inside', when: [{ attribute: 'flags.sensitive', op: 'isTrue' }], route: { pool: 'internal' }, reason: 'sensitive stays inside' }],
        default: { pool: 'vendor' },
        onDeidentificationFailure: policy,
      },
    }),
  );
  await registerWorkforce(deps, PROGRAM, makeWorkforce('vendor-a'));
  await registerWorkforce(deps, PROGRAM, makeWorkforce('vendor-b'));
  await registerWorkforce(deps, PROGRAM, makeWorkforce('radiology', { kind: 'internal' }));
  const ids = Array.from({ length: 10 }, (_, i) => `case-${i}`);
  for (const id of ids) {
    await deps.objects.putBytes(deps.buckets.images, `images/${id}.png`, id === 'case-9' ? buildPng([tEXt('Author', 'DOE^JANE')]) : buildPng(), 'image/png');
  }
  await ingestCases(deps, {
    programId: PROGRAM,
    protocolId: 'chest-xray',
    protocolVersion: 1,
    cases: ids.map((caseId) => ({ caseId, imageKey: `images/${caseId}.png`, modality: 'CR', bodyPart: 'CHEST', site: 's', deidentified: true, flags: { sensitive: caseId === 'case-8' } })),
    gold: [],
  });
}

describe('Use case: assignCases', () => {
  it('assigns pending cases to the named vendor with the reason, one ledger event per case', async () => {
    // Arrange
    const deps = makeFakeDeps();
    await seed(deps);

    // Act
    const r = await assignCases(deps, { programId: PROGRAM, protocol: REF, caseIds: ['case-0', 'case-1'], workforceId: 'vendor-b', reason: 'vendor-b reads pediatric films best', actor: 'pm:alice' });

    // Assert
    expect(r.assigned).toEqual([
      { caseId: 'case-0', workforceId: 'vendor-b' },
      { caseId: 'case-1', workforceId: 'vendor-b' },
    ]);
    expect(r.refused).toEqual([]);
    expect((await deps.repo.getCase(PROGRAM, 'case-0'))?.assignment).toMatchObject({ workforceId: 'vendor-b', by: 'pm:alice' });
    const events = (await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'case.assigned');
    expect(events.map((e) => [e.subject, e.actor, e.reason])).toEqual([
      ['case-0', 'pm:alice', 'vendor-b reads pediatric films best'],
      ['case-1', 'pm:alice', 'vendor-b reads pediatric films best'],
    ]);
  });

  it('never sends a gated case to a vendor: it is refused with the gate\'s finding, and so is a case routing keeps inside', async () => {
    const deps = makeFakeDeps();
    await seed(deps);

    const r = await assignCases(deps, { programId: PROGRAM, protocol: REF, caseIds: ['case-9', 'case-8', 'case-404'], workforceId: 'vendor-a', reason: 'try', actor: 'pm:alice' });

    expect(r.assigned).toEqual([]);
    expect(r.refused.map((x) => x.caseId)).toEqual(['case-9', 'case-8', 'case-404']);
    expect(r.refused[0].reason).toMatch(/de-identification gate keeps it from vendors: .*tEXt "Author"/);
    expect(r.refused[1].reason).toMatch(/routing keeps it internal: rule "sensitive-inside"/);
    expect(r.refused[2].reason).toBe('no such case in this program');
    expect((await deps.repo.getCase(PROGRAM, 'case-9'))?.assignment).toBeUndefined();
    expect((await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'case.assigned')).toEqual([]);
  });

  it('refuses a quarantined case even for the internal team, a paused workforce, and a case already dispatched', async () => {
    const deps = makeFakeDeps();
    await seed(deps, 'quarantine');
    await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, limit: 2, actor: 'pm:alice' });

    const inside = await assignCases(deps, { programId: PROGRAM, caseIds: ['case-9', 'case-0'], workforceId: 'radiology', reason: 'r', actor: 'pm:alice' });
    await deps.repo.updateWorkforceTerms(PROGRAM, 'vendor-a', { paused: true });
    const paused = await assignCases(deps, { programId: PROGRAM, caseIds: ['case-5'], workforceId: 'vendor-a', reason: 'r', actor: 'pm:alice' });

    expect(inside.refused[0].reason).toMatch(/holds it back for a PM/);
    expect(inside.refused[1].reason).toMatch(/it is assigned \(batch prog-a-r1-/);
    expect(paused.refused[0].reason).toBe('vendor-a is paused');
  });

  it('is given by a PM only: an assignment in ingested case rows is dropped', async () => {
    const deps = makeFakeDeps();
    await seed(deps);
    await deps.objects.putBytes(deps.buckets.images, 'images/case-x.png', buildPng(), 'image/png');

    await ingestCases(deps, {
      programId: PROGRAM,
      protocolId: 'chest-xray',
      protocolVersion: 1,
      cases: [{ caseId: 'case-x', imageKey: 'images/case-x.png', modality: 'CR', bodyPart: 'CHEST', site: 's', deidentified: true, assignment: { workforceId: 'vendor-b', reason: 'r', by: 'pm:mallory', at: '2025-03-01T09:00:00.000Z' } }],
      gold: [],
    });

    expect((await deps.repo.getCase(PROGRAM, 'case-x'))?.assignment).toBeUndefined();
  });

  it('needs the protocol named before the first round, and refuses a case named twice', async () => {
    const deps = makeFakeDeps();
    await seed(deps);

    await expect(assignCases(deps, { programId: PROGRAM, caseIds: ['case-0'], workforceId: 'vendor-a', reason: 'r', actor: 'pm:alice' })).rejects.toThrow(/protocol: no round was dispatched/);
    await expect(
      assignCases(deps, { programId: PROGRAM, protocol: REF, caseIds: ['case-0', 'case-0'], workforceId: 'vendor-a', reason: 'r', actor: 'pm:alice' }),
    ).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('Use case: dispatchRound honours assignments', () => {
  it('sends assigned cases to the named workforce in the next round, shares notwithstanding', async () => {
    // Arrange: vendor-b has no share at all this round.
    const deps = makeFakeDeps();
    await seed(deps);
    await deps.repo.createShares(PROGRAM, 'chest-xray', 1, { 'vendor-a': 1, 'vendor-b': 0 });
    await assignCases(deps, { programId: PROGRAM, protocol: REF, caseIds: ['case-3', 'case-4'], workforceId: 'vendor-b', reason: 'second opinion', actor: 'pm:alice' });

    // Act
    const preview = await planRoundPreview(deps, { programId: PROGRAM, protocol: REF });
    const result = await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm:alice' });

    // Assert
    const vendorB = result.batches.filter((b) => b.workforceId === 'vendor-b');
    expect(vendorB).toHaveLength(1);
    const key = await loadBatchKey(deps, vendorB[0].batchId);
    expect(key.items.filter((i) => !i.gold).map((i) => i.caseId).sort()).toEqual(['case-3', 'case-4']);
    expect(result.assignments?.honoured).toEqual(preview.explicit);
    expect(preview.explicit).toEqual([
      { caseId: 'case-3', workforceId: 'vendor-b' },
      { caseId: 'case-4', workforceId: 'vendor-b' },
    ]);
    expect(Object.fromEntries(preview.workforces.map((w) => [w.workforceId, w.cases]))).toEqual({
      radiology: result.routing.radiology,
      'vendor-a': result.routing['vendor-a'],
      'vendor-b': result.routing['vendor-b'],
    });
  });

  it('routes an assigned case as usual when its workforce was paused since, and says so', async () => {
    const deps = makeFakeDeps();
    await seed(deps);
    await assignCases(deps, { programId: PROGRAM, protocol: REF, caseIds: ['case-3'], workforceId: 'vendor-b', reason: 'second opinion', actor: 'pm:alice' });
    await deps.repo.updateWorkforceTerms(PROGRAM, 'vendor-b', { paused: true });

    const result = await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm:alice' });

    expect(result.assignments).toEqual({ honoured: [], ignored: [{ caseId: 'case-3', workforceId: 'vendor-b', reason: 'vendor-b is paused' }] });
    expect(result.batches.map((b) => b.workforceId)).not.toContain('vendor-b');
    expect((await deps.repo.getCase(PROGRAM, 'case-3'))?.state).toBe('assigned');
  });
});
