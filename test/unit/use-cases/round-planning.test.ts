import { describe, expect, it } from 'vitest';
import { dispatchRound } from '../../../functions/use-cases/dispatch-round.js';
import { ConflictError } from '../../../functions/use-cases/errors.js';
import { planRoundPreview } from '../../../functions/use-cases/round-planning.js';
import { ingestCases, registerProtocolVersion, registerWorkforce } from '../../../functions/use-cases/setup-program.js';
import { buildPng } from '../../support/images.js';
import { type FakeDeps, makeFakeDeps, makeLedgerEvent, makeProtocol, makeWorkforce } from '../fakes.js';

const PROGRAM = 'prog-p';

async function seed(deps: FakeDeps) {
  await registerProtocolVersion(
    deps,
    makeProtocol({
      batchSize: 4,
      attributes: { flags: ['sensitive'] },
      routing: {
        rules: [{ id: 'sensitive-inside', when: [{ attribute: 'flags.sensitive', op: 'isTrue' }], route: { pool: 'internal' }, reason: 'sensitive stays inside' }],
        default: { pool: 'vendor' },
      },
    }),
  );
  await registerWorkforce(deps, PROGRAM, makeWorkforce('vendor-a'));
  await registerWorkforce(deps, PROGRAM, makeWorkforce('vendor-b'));
  await registerWorkforce(deps, PROGRAM, makeWorkforce('radiology', { kind: 'internal', capacityPerRound: 1 }));
  const ids = Array.from({ length: 12 }, (_, i) => `case-${String(i).padStart(2, '0')}`);
  for (const id of ids) await deps.objects.putBytes(deps.buckets.images, `images/${id}.png`, buildPng(), 'image/png');
  await ingestCases(deps, {
    programId: PROGRAM,
    protocolId: 'chest-xray',
    protocolVersion: 1,
    cases: ids.map((caseId, i) => ({ caseId, imageKey: `images/${caseId}.png`, modality: 'CR', bodyPart: 'CHEST', site: 's', deidentified: true, flags: { sensitive: i < 2 } })),
    gold: [],
  });
}

/** Everything the fakes hold, to show a preview writes nothing. */
const snapshot = (deps: FakeDeps) =>
  JSON.stringify([
    [...deps.repo.cases],
    [...deps.repo.batches],
    [...deps.repo.ledger],
    [...deps.repo.rounds],
    [...deps.repo.shares],
    [...deps.repo.workforces],
    [...deps.objects.versions.keys()],
    deps.workflows.started,
  ]);

describe('Use case: planRoundPreview', () => {
  it('plans round 1 as dispatch would, explaining each case, and writes nothing', async () => {
    // Arrange
    const deps = makeFakeDeps();
    await seed(deps);
    const before = snapshot(deps);

    // Act
    const preview = await planRoundPreview(deps, { programId: PROGRAM, protocol: 'chest-xray@1' });

    // Assert
    expect(snapshot(deps)).toBe(before);
    expect(preview.round).toBe(1);
    expect(preview.sharesSource).toBe('initial-equal');
    expect(preview.pendingCases).toBe(12);
    const sensitive = preview.cases.filter((c) => c.rule === 'sensitive-inside');
    expect(sensitive.map((c) => [c.caseId, c.outcome, c.workforceId ?? null])).toEqual([
      ['case-00', 'planned', 'radiology'],
      ['case-01', 'deferred', null],
    ]);
    expect(sensitive[1].reason).toMatch(/internal capacity .* exhausted/);
    expect(sensitive[0].explanation).toContain('sensitive stays inside');

    const dispatched = await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm:alice' });
    expect(preview.workforces.map((w) => w.cases)).toEqual([1, 5, 5]);
    const byWorkforce = Object.fromEntries(preview.workforces.map((w) => [w.workforceId, w.cases]));
    expect(byWorkforce).toEqual({ radiology: dispatched.routing.radiology, 'vendor-a': dispatched.routing['vendor-a'], 'vendor-b': dispatched.routing['vendor-b'] });
    expect(preview.workforces.find((w) => w.workforceId === 'vendor-a')?.batches).toEqual(
      dispatched.batches.filter((b) => b.workforceId === 'vendor-a').map((b) => b.items - b.gold),
    );
  });

  it('plans the next round by default, says a share proposal awaits approval, and refuses a round already dispatched', async () => {
    const deps = makeFakeDeps();
    await seed(deps);
    await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, limit: 4, actor: 'pm:alice' });
    await deps.repo.appendLedger(makeLedgerEvent({ eventId: `${PROGRAM}:chest-xray:r2:proposal`, programId: PROGRAM, type: 'shares.proposed', data: { round: 2, shares: {}, changes: [] } }));

    const preview = await planRoundPreview(deps, { programId: PROGRAM });

    expect(preview.round).toBe(2);
    expect(preview.protocol).toBe('chest-xray@1');
    expect(preview.sharesSource).toBe('carried-over');
    expect(preview.pendingProposal).toMatch(/await approval/);
    await expect(planRoundPreview(deps, { programId: PROGRAM, round: 1 })).rejects.toBeInstanceOf(ConflictError);
  });
});
