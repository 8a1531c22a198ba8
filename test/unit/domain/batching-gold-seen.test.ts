import { describe, expect, it } from 'vitest';
import { mixGoldItems, seededRandomSource } from '../../../functions/domain/index.js';

const caseIds = Array.from({ length: 18 }, (_, i) => `case-${i}`);

describe('Function: mixGoldItems (gold the vendor has seen)', () => {
  it('draws gold the workforce has never seen before any it has', () => {
    const goldPool = Array.from({ length: 10 }, (_, i) => `gold-${i}`);
    const seenGold = new Set(goldPool.slice(0, 8));
    const r = mixGoldItems({ caseIds, goldPool, goldRate: 0.1, random: seededRandomSource(1), seenGold });
    const gold = r.items.filter((i) => i.gold).map((i) => i.caseId).sort();
    expect(gold).toEqual(['gold-8', 'gold-9']);
    expect(r.note).toBeUndefined();
  });

  it('says so when it must reuse gold the workforce has seen (a repeated image is a tell)', () => {
    const goldPool = ['gold-0', 'gold-1', 'gold-2'];
    const r = mixGoldItems({ caseIds, goldPool, goldRate: 0.1, random: seededRandomSource(1), seenGold: new Set(['gold-0', 'gold-1']) });
    const gold = r.items.filter((i) => i.gold).map((i) => i.caseId);
    expect(gold).toHaveLength(2);
    expect(gold).toContain('gold-2');
    expect(r.note).toMatch(/1 gold item\(s\) this workforce has seen before/);
  });

  it('never draws gold seen within the reuse cap, even when that leaves the batch short', () => {
    const r = mixGoldItems({
      caseIds,
      goldPool: ['gold-0', 'gold-1'],
      goldRate: 0.1,
      random: seededRandomSource(1),
      recentGold: new Set(['gold-0', 'gold-1']),
    });
    expect(r.items.filter((i) => i.gold)).toHaveLength(0);
    expect(r.note).toMatch(/gold pool too small: 0 of 2/);
  });
});
