import { describe, expect, it, vi } from 'vitest';
import { planRound } from '../../../functions/domain/index.js';
import { NotFoundError } from '../../../functions/use-cases/errors.js';
import { registerWorkforce } from '../../../functions/use-cases/setup-program.js';
import { changeWorkforce, listWorkforces } from '../../../functions/use-cases/workforces.js';
import { type FakeDeps, makeCase, makeFakeDeps, makeProtocol, makeWorkforce } from '../fakes.js';

async function seed(deps: FakeDeps) {
  await deps.repo.putWorkforce('prog-1', makeWorkforce('vendor-b', { status: 'probation', goldSeen: ['g-1'] }));
  await deps.repo.putWorkforce('prog-1', makeWorkforce('vendor-a'));
}

describe('Use case: listWorkforces', () => {
  it('lists the program\'s workforces by id, with terms, status and pause, without gold history', async () => {
    const deps = makeFakeDeps();
    await seed(deps);

    const list = await listWorkforces(deps, { programId: 'prog-1' });

    expect(list.items.map((w) => [w.workforceId, w.status, w.paused])).toEqual([
      ['vendor-a', 'active', false],
      ['vendor-b', 'probation', false],
    ]);
    expect(JSON.stringify(list)).not.toContain('goldSeen');
  });
});

describe('Use case: changeWorkforce', () => {
  it('changes only what differs, keeps probation and gold history, and records each change with the PM', async () => {
    // Arrange
    const deps = makeFakeDeps();
    await seed(deps);

    // Act
    const r = await changeWorkforce(deps, {
      programId: 'prog-1',
      workforceId: 'vendor-b',
      patch: { pricePerCase: 1.5, capacityPerRound: 1000, qualifications: ['peds', 'adult', 'peds'] },
      actor: 'pm:alice',
    });

    // Assert
    expect(r.changes).toEqual({ pricePerCase: { from: 2, to: 1.5 }, qualifications: { from: [], to: ['adult', 'peds'] } });
    const stored = (await deps.repo.listWorkforces('prog-1')).find((w) => w.workforceId === 'vendor-b')!;
    expect(stored).toMatchObject({ pricePerCase: 1.5, status: 'probation', goldSeen: ['g-1'], qualifications: ['adult', 'peds'] });
    const events = await deps.repo.listLedger('prog-1');
    expect(events.map((e) => [e.type, e.actor, e.subject])).toEqual([['workforce.changed', 'pm:alice', 'vendor-b']]);
    expect(events[0].reason).toBe('pricePerCase 2 → 1.5; qualifications [] → ["adult","peds"]');
  });

  it('pauses a workforce so the next plan gives it nothing, and resumes it, each recorded', async () => {
    const deps = makeFakeDeps();
    await seed(deps);

    await changeWorkforce(deps, { programId: 'prog-1', workforceId: 'vendor-a', patch: { status: 'paused' }, actor: 'pm:alice' });
    const paused = await deps.repo.listWorkforces('prog-1');
    const plan = planRound({
      cases: [makeCase('c-1'), makeCase('c-2')],
      protocol: makeProtocol(),
      workforces: paused,
      shares: { 'vendor-a': 0.5, 'vendor-b': 0.5 },
    });
    // A later re-registration of its terms keeps the pause.
    await registerWorkforce(deps, 'prog-1', { workforceId: 'vendor-a', kind: 'vendor', name: 'A', capacityPerRound: 1000, pricePerCase: 3, slaHours: 48 });
    const stillPaused = (await deps.repo.listWorkforces('prog-1')).find((w) => w.workforceId === 'vendor-a');
    await changeWorkforce(deps, { programId: 'prog-1', workforceId: 'vendor-a', patch: { status: 'active' }, actor: 'pm:bob' });

    expect(plan.assignments['vendor-a']).toEqual([]);
    expect(plan.assignments['vendor-b']).toHaveLength(2);
    expect(stillPaused?.paused).toBe(true);
    // The re-registration's new terms are recorded too (by the registering PM).
    expect((await deps.repo.listLedger('prog-1')).map((e) => [e.type, e.actor])).toEqual([
      ['workforce.paused', 'pm:alice'],
      ['workforce.changed', 'pm'],
      ['workforce.resumed', 'pm:bob'],
    ]);
  });

  it("records the PM's reason with a pause, and refuses a patch that names only a reason", async () => {
    const deps = makeFakeDeps();
    await seed(deps);
    await changeWorkforce(deps, { programId: 'prog-1', workforceId: 'vendor-a', patch: { status: 'paused', reason: 'audit of its annotators' }, actor: 'pm:alice' });
    expect((await deps.repo.listLedger('prog-1')).map((e) => [e.type, e.reason])).toEqual([
      ['workforce.paused', 'paused by a PM: no new work until resumed: audit of its annotators'],
    ]);
    await expect(changeWorkforce(deps, { programId: 'prog-1', workforceId: 'vendor-a', patch: { reason: 'why not' }, actor: 'pm:alice' })).rejects.toThrow(/name at least one of/);
  });

  it('leaves the workforce unchanged when its ledger event cannot be written', async () => {
    // Arrange
    const deps = makeFakeDeps();
    await seed(deps);
    vi.spyOn(deps.repo, 'appendLedger').mockRejectedValueOnce(new Error('ledger unavailable'));

    // Act
    const change = changeWorkforce(deps, { programId: 'prog-1', workforceId: 'vendor-a', patch: { pricePerCase: 9, status: 'paused' }, actor: 'pm:alice' });

    // Assert
    await expect(change).rejects.toThrow('ledger unavailable');
    const stored = (await deps.repo.listWorkforces('prog-1')).find((w) => w.workforceId === 'vendor-a');
    expect(stored).toMatchObject({ pricePerCase: makeWorkforce('vendor-a').pricePerCase, paused: false });
  });

  it('writes a change recorded before a crash when the PM retries, without recording it twice', async () => {
    // Arrange: the event is appended, then the item update fails (a crash between the two).
    const deps = makeFakeDeps();
    await seed(deps);
    vi.spyOn(deps.repo, 'updateWorkforceTerms').mockRejectedValueOnce(new Error('crash'));
    const patch = { pricePerCase: 9, status: 'paused' as const };
    await expect(changeWorkforce(deps, { programId: 'prog-1', workforceId: 'vendor-a', patch, actor: 'pm:alice' })).rejects.toThrow('crash');

    // Act
    const retry = await changeWorkforce(deps, { programId: 'prog-1', workforceId: 'vendor-a', patch, actor: 'pm:alice' });

    // Assert
    expect(retry.workforce).toMatchObject({ pricePerCase: 9, paused: true });
    expect(retry.events).toEqual([]);
    expect((await deps.repo.listLedger('prog-1')).map((e) => e.type)).toEqual(['workforce.changed', 'workforce.paused']);
  });

  it('records nothing when the patch changes nothing', async () => {
    const deps = makeFakeDeps();
    await seed(deps);

    const r = await changeWorkforce(deps, { programId: 'prog-1', workforceId: 'vendor-a', patch: { pricePerCase: 2, status: 'active' }, actor: 'pm:alice' });

    expect(r.events).toEqual([]);
    expect(await deps.repo.listLedger('prog-1')).toEqual([]);
  });

  it('refuses an empty patch, unknown fields and bad values, naming the field, and an unknown workforce', async () => {
    const deps = makeFakeDeps();
    await seed(deps);
    const change = (patch: unknown, workforceId = 'vendor-a') =>
      changeWorkforce(deps, { programId: 'prog-1', workforceId, patch: patch as { pricePerCase: number }, actor: 'pm:alice' });

    await expect(change({})).rejects.toThrow(/patch: name at least one/);
    await expect(change({ status: 'suspended' })).rejects.toThrow(/patch.status/);
    await expect(change({ capacityPerRound: -1 })).rejects.toThrow(/patch.capacityPerRound/);
    await expect(change({ goldSeen: [] })).rejects.toThrow(/goldSeen/);
    await expect(change({ pricePerCase: 1 }, 'vendor-x')).rejects.toBeInstanceOf(NotFoundError);
  });
});
