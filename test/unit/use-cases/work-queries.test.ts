import { describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError } from '../../../functions/use-cases/errors.js';
import type { BatchRecord } from '../../../functions/use-cases/ports.js';
import { encodeCursor } from '../../../functions/use-cases/cursor.js';
import { getRoundStatus, listProgramBatches, listWorkforceBatches } from '../../../functions/use-cases/work-queries.js';
import { type FakeDeps, makeFakeDeps, T0 } from '../fakes.js';

const batch = (batchId: string, overrides: Partial<BatchRecord> = {}): BatchRecord => ({
  batchId,
  programId: 'prog-1',
  round: 1,
  protocol: 'chest-xray@1',
  workforceId: 'vendor-a',
  workforceKind: 'vendor',
  itemCount: 10,
  goldCount: 2,
  slaHours: 48,
  status: 'awaiting-submission',
  createdAt: T0,
  ...overrides,
});

async function seedRounds(deps: FakeDeps) {
  for (const round of [1, 2]) {
    const ids = ['vendor-a', 'vendor-b', 'radiology'].map((w) => `prog-1-r${round}-${w}-1`);
    await deps.repo.createRound({ programId: 'prog-1', protocolId: 'chest-xray', round, batchIds: ids, settledBatchIds: [], createdAt: T0 });
    for (const id of ids) {
      const workforceId = id.split('-').slice(3, -1).join('-');
      await deps.repo.createBatch(batch(id, { round, workforceId, workforceKind: workforceId === 'radiology' ? 'internal' : 'vendor', createdAt: `2025-03-0${round}T09:00:00.000Z` }));
    }
  }
  await deps.repo.putScore({
    batchId: 'prog-1-r1-vendor-a-1',
    workforceId: 'vendor-a',
    protocol: 'chest-xray@1',
    taskType: 'classification',
    goldN: 2,
    goldCorrect: 1,
    accuracy: 0.5,
    interval: { lower: 0.09, upper: 0.91 },
    kappa: 0.2,
    summary: {},
    verdict: 'rejected',
    notes: ['gold accuracy 0.5 below 0.8'],
    items: [
      { caseId: 'g-1', correct: true, expected: 'normal', got: 'normal' },
      { caseId: 'g-2', correct: false, expected: 'abnormal', got: 'normal' },
    ],
  });
}

describe('Use case: listWorkforceBatches', () => {
  it('lists only the caller\'s own batches, newest first, without gold counts', async () => {
    // Arrange
    const deps = makeFakeDeps();
    await seedRounds(deps);

    // Act
    const page = await listWorkforceBatches(deps, { workforceId: 'vendor-a' });

    // Assert
    expect(page.items.map((b) => b.batchId)).toEqual(['prog-1-r2-vendor-a-1', 'prog-1-r1-vendor-a-1']);
    expect(page.next).toBeUndefined();
    expect(JSON.stringify(page)).not.toMatch(/gold/i);
  });

  it('pages with an opaque cursor and refuses a cursor issued to another workforce', async () => {
    const deps = makeFakeDeps();
    await seedRounds(deps);

    const first = await listWorkforceBatches(deps, { workforceId: 'vendor-a', limit: 1 });
    const second = await listWorkforceBatches(deps, { workforceId: 'vendor-a', limit: 1, cursor: first.next });

    expect(first.items.map((b) => b.batchId)).toEqual(['prog-1-r2-vendor-a-1']);
    expect(second.items.map((b) => b.batchId)).toEqual(['prog-1-r1-vendor-a-1']);
    await expect(listWorkforceBatches(deps, { workforceId: 'vendor-b', limit: 1, cursor: first.next })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('refuses a cursor that is not base64url JSON of a page key, naming the cursor', async () => {
    const deps = makeFakeDeps();
    for (const cursor of ['not a cursor!', 'eyJ', encodeCursor({ pk: 'WORKFORCE#vendor-a' }).replace(/./g, 'A'), Buffer.from('[1,2]').toString('base64url')]) {
      await expect(listWorkforceBatches(deps, { workforceId: 'vendor-a', cursor })).rejects.toThrow(/cursor/);
    }
  });

  it('refuses a limit above the maximum page size', async () => {
    await expect(listWorkforceBatches(makeFakeDeps(), { workforceId: 'vendor-a', limit: 10_000 })).rejects.toThrow(/limit/);
  });
});

describe('Use case: getRoundStatus', () => {
  it('counts the round\'s batches by status and says whether it is complete', async () => {
    const deps = makeFakeDeps();
    await seedRounds(deps);
    await deps.repo.transitionBatch('prog-1-r1-vendor-a-1', ['awaiting-submission'], 'accepted');
    await deps.repo.markRoundBatchSettled('prog-1', 1, 'prog-1-r1-vendor-a-1');

    const status = await getRoundStatus(deps, { programId: 'prog-1', round: 1 });

    expect(status.byStatus).toEqual({ accepted: 1, 'awaiting-submission': 2 });
    expect(status.settled).toBe(1);
    expect(status.complete).toBe(false);
    expect(status.batches).toHaveLength(3);
  });

  it('answers not found for a round never dispatched', async () => {
    await expect(getRoundStatus(makeFakeDeps(), { programId: 'prog-1', round: 3 })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('Use case: listProgramBatches', () => {
  it('lists every round\'s batches with their scores: accuracy, interval, κ and per-gold-item results', async () => {
    const deps = makeFakeDeps();
    await seedRounds(deps);

    const page = await listProgramBatches(deps, { programId: 'prog-1' });

    expect(page.items.map((b) => `${b.round}:${b.workforceId}`)).toEqual([
      '1:radiology',
      '1:vendor-a',
      '1:vendor-b',
      '2:radiology',
      '2:vendor-a',
      '2:vendor-b',
    ]);
    const scored = page.items.find((b) => b.batchId === 'prog-1-r1-vendor-a-1')!;
    expect(scored.score).toMatchObject({ accuracy: 0.5, kappa: 0.2, interval: { lower: 0.09, upper: 0.91 } });
    expect(scored.score?.items.map((i) => [i.caseId, i.correct])).toEqual([
      ['g-1', true],
      ['g-2', false],
    ]);
    expect(page.items.find((b) => b.batchId === 'prog-1-r1-vendor-b-1')?.score).toBeUndefined();
  });

  it('pages across rounds without losing or repeating a batch', async () => {
    const deps = makeFakeDeps();
    await seedRounds(deps);

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await listProgramBatches(deps, { programId: 'prog-1', limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((b) => b.batchId));
      cursor = page.next;
      if (!cursor) break;
    }

    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
  });

  it('lists one round when asked, and refuses a cursor of another round', async () => {
    const deps = makeFakeDeps();
    await seedRounds(deps);

    const page = await listProgramBatches(deps, { programId: 'prog-1', round: 2, limit: 1 });

    expect(page.items.map((b) => b.round)).toEqual([2]);
    await expect(listProgramBatches(deps, { programId: 'prog-1', round: 1, cursor: page.next })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
