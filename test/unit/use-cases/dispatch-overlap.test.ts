import { describe, expect, it } from 'vitest';
import { loadBatchKey } from '../../../functions/use-cases/batch-key.js';
import { dispatchRound } from '../../../functions/use-cases/dispatch-round.js';
import { PROGRAM, program } from '../../support/scenario.js';

describe('Use case: dispatchRound (overlap copies)', () => {
  it('sends overlap cases to two workforces; the case state follows the first copy only', async () => {
    const deps = await program({ cases: 40, gold: 10, protocol: { overlapRate: 0.25, overlapWith: 'vendor' } });
    const r = await dispatchRound(deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm' });
    expect(r.overlaps.length).toBe(10);
    const cases = new Map((await deps.repo.listCases(PROGRAM)).map((c) => [c.caseId, c]));
    for (const o of r.overlaps) {
      expect(o.secondary).not.toBe(o.primary);
      const holders = [];
      for (const b of r.batches) {
        const key = await loadBatchKey(deps, b.batchId);
        const item = key.items.find((i) => i.caseId === o.caseId);
        if (item) holders.push({ workforceId: b.workforceId, batchId: b.batchId, secondary: item.overlapSecondary, overlap: item.overlap });
      }
      expect(holders).toHaveLength(2);
      expect(holders.every((h) => h.overlap)).toBe(true);
      const first = holders.find((h) => !h.secondary)!;
      expect(first.workforceId).toBe(o.primary);
      expect(holders.find((h) => h.secondary)!.workforceId).toBe(o.secondary);
      expect(cases.get(o.caseId)).toMatchObject({ state: 'assigned', batchId: first.batchId });
    }
  });
});
