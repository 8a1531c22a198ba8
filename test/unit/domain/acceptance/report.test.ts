import { describe, expect, it } from 'vitest';
import {
  acceptancePlanReport,
  formatAcceptancePlanReport,
  ocCurve,
  sprtDesign,
  sprtOcCurve,
} from '../../../../functions/domain/acceptance/index.js';

const CHEST_XRAY = { aql: 0.95, rql: 0.8 };

describe('Function: acceptancePlanReport', () => {
  it('gives the chest-xray plan, both OC curves and the gold pool for 1,200 cases over 2 vendors', () => {
    // Act
    const r = acceptancePlanReport(CHEST_XRAY, { goldPerBatch: 7, reuseCap: 3, volume: { cases: 1200, batchSize: 60, vendors: 2 } });

    // Assert
    expect([r.single?.n, r.single?.c]).toEqual([38, 4]);
    expect([r.sprt.lookEvery, r.sprt.maxItems, r.sprt.terminalC]).toEqual([7, 70, 7]);
    expect(r.oc.map((p) => p.single)).toEqual(ocCurve({ n: 38, c: 4 }).map((p) => p.pAccept));
    expect(r.oc.map((p) => p.sprt)).toEqual(sprtOcCurve(sprtDesign(CHEST_XRAY, 7)).map((p) => p.pAccept));
    expect(r.pool).toMatchObject({ reuseCap: 3, single: { poolForReuseCap: 152, poolWithoutRepeats: 380 }, sprt: { poolForReuseCap: 28, poolWithoutRepeats: 70 } });
  });

  it('reports the SPRT alone, with the reason, when the single plan exceeds maxGoldPerBatch', () => {
    const r = acceptancePlanReport({ ...CHEST_XRAY, maxGoldPerBatch: 20 }, { goldPerBatch: 7, reuseCap: 3 });
    expect(r.single).toBeNull();
    expect(r.singleNote).toMatch(/needs 38 gold items per batch/);
    expect(r.oc.every((p) => p.single === null)).toBe(true);
    expect(r.pool).toBeNull();
  });
});

describe('Function: formatAcceptancePlanReport', () => {
  it('prints the risks, the plans, an OC row per rule and the gold pool', () => {
    // Act
    const lines = formatAcceptancePlanReport(
      acceptancePlanReport(CHEST_XRAY, { goldPerBatch: 7, reuseCap: 3, volume: { cases: 1200, batchSize: 60, vendors: 2 } }),
    );

    // Assert
    expect(lines[0]).toBe('acceptance  AQL 0.95, RQL 0.80; α=0.05 = P(reject) at AQL, β=0.10 = P(accept) at RQL');
    expect(lines[1]).toBe('single plan 38 gold items per batch, accept with ≤ 4 wrong; exact α=0.0397, β=0.0986');
    expect(lines.find((l) => l.trim().startsWith('single ') && l.includes('0.9603'))).toBeDefined();
    expect(lines.at(-1)).toBe(
      'gold pool   20 batches (10 for the busiest vendor), reuse cap 3: single plan 152 gold cases (380 never to repeat one); SPRT 28 (70)',
    );
  });
});
