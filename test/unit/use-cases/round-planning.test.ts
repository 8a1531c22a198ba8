import { describe, expect, it, vi } from 'vitest';
import { dispatchRound } from '../../../functions/use-cases/dispatch-round.js';
import { ConflictError, InvalidInputError } from '../../../functions/use-cases/errors.js';
import { planRoundChunks } from '../../../functions/use-cases/plan-round.js';
import { loadRoundChunk } from '../../../functions/use-cases/round-chunk-store.js';
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

async function seededAfterRound1(): Promise<FakeDeps> {
  const deps = makeFakeDeps();
  await seed(deps);
  await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, limit: 4, actor: 'pm:alice' });
  return deps;
}

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

  // Issue 14: the preview read the program's whole case list (every state) and planned it as one page, unlike PlanRound.
  it("plans from the pending-case index page by page as PlanRound does, never reading the program's case list", async () => {
    // Arrange: round 1 took some of the 12 cases
    const deps = await seededAfterRound1();
    const pending = [...deps.repo.cases.values()].filter((c) => c.state === 'pending').length;
    expect(pending).toBeLessThan(12);
    const listCases = vi.spyOn(deps.repo, 'listCases');
    const byState = vi.spyOn(deps.repo, 'listCasesByState');

    // Act
    const preview = await planRoundPreview(deps, { programId: PROGRAM }, { pageCases: 3 });

    // Assert: only pending cases were read, and the plan is the one PlanRound makes with the same pages
    expect(listCases).not.toHaveBeenCalled();
    expect(byState.mock.calls.every(([, state]) => state === 'pending')).toBe(true);
    const read = await Promise.all(byState.mock.results.map((r) => r.value as ReturnType<typeof deps.repo.listCasesByState>));
    expect(read.reduce((n, p) => n + p.items.length, 0)).toBe(pending);
    expect(preview.pendingCases).toBe(pending);
    listCases.mockRestore();
    byState.mockRestore();
    const plan = await planRoundChunks(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 2, actor: 'pm:alice' }, { pageCases: 3 });
    const chunks = await Promise.all(plan.chunks.map((c) => loadRoundChunk(deps, PROGRAM, 2, c.chunk)));
    const batches = chunks.flatMap((c) => c.batches);
    for (const w of preview.workforces) {
      expect(w.cases).toBe(plan.routing[w.workforceId]);
      expect(w.batches).toEqual(batches.filter((b) => b.workforceId === w.workforceId).map((b) => b.items.filter((i) => !i.gold).length));
    }
    expect(preview.outcomes.deferred).toBe(plan.routing.deferred);
  });

  it("lists the cases a page at a time after the cursor, each page carrying the whole round's counts", async () => {
    const deps = makeFakeDeps();
    await seed(deps);
    const whole = await planRoundPreview(deps, { programId: PROGRAM, protocol: 'chest-xray@1' });

    const pages = [];
    let cursor: string | undefined;
    do {
      const p = await planRoundPreview(deps, { programId: PROGRAM, protocol: 'chest-xray@1', caseLimit: 5, ...(cursor ? { cursor } : {}) });
      pages.push(p);
      cursor = p.next;
    } while (cursor);

    expect(whole.next).toBeUndefined();
    expect(pages.map((p) => p.cases.length)).toEqual([5, 5, 2]);
    expect(pages.flatMap((p) => p.cases)).toEqual(whole.cases);
    expect(pages.flatMap((p) => p.deferred)).toEqual(whole.deferred);
    expect(whole.outcomes).toEqual({ planned: 11, excluded: 0, quarantined: 0, deferred: 1 });
    for (const p of pages) expect([p.outcomes, p.workforces, p.pendingCases]).toEqual([whole.outcomes, whole.workforces, whole.pendingCases]);
    await expect(planRoundPreview(deps, { programId: PROGRAM, protocol: 'chest-xray@1', cursor: Buffer.from('{"batchId":"x"}').toString('base64url') })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
  });
});
