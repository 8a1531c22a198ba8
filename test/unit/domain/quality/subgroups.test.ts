import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type SubgroupItem, benjaminiHochberg, diagnoseSubgroups, fisherExact, holm } from '../../../../functions/domain/quality/index.js';
import { seededRandomSource } from '../../../../functions/domain/random.js';

/** scipy's values (scripts/reference/subgroups_reference.py writes test/fixtures/reference/subgroups.json). */
const reference = JSON.parse(readFileSync(new URL('../../../fixtures/reference/subgroups.json', import.meta.url), 'utf8')) as {
  scipy: string;
  fisher: { table: [number, number, number, number]; less: number; greater: number; 'two-sided': number }[];
  bh: { p: number[]; adjusted: number[] }[];
};

const relErr = (x: number, ref: number): number => Math.abs(x - ref) / Math.max(Math.abs(ref), 1e-300);

describe(`Function: fisherExact (reference: scipy ${reference.scipy} stats.fisher_exact)`, () => {
  it.each(reference.fisher.map((r) => [r.table.join(', '), r] as const))('matches scipy on [[a, b], [c, d]] = [%s], all three alternatives', (_, r) => {
    const [a, b, c, d] = r.table;
    expect(relErr(fisherExact(a, b, c, d, 'less'), r.less)).toBeLessThan(1e-9);
    expect(relErr(fisherExact(a, b, c, d, 'greater'), r.greater)).toBeLessThan(1e-9);
    expect(relErr(fisherExact(a, b, c, d, 'two-sided'), r['two-sided'])).toBeLessThan(1e-9);
  });

  it('returns Fisher’s tea-tasting value by hand: P(A ≥ 3) for [[3, 1], [1, 3]] = 17/70', () => {
    expect(fisherExact(3, 1, 1, 3, 'greater')).toBeCloseTo(17 / 70, 14);
  });

  it('refuses a cell that is not a count', () => {
    expect(() => fisherExact(1.5, 1, 1, 1)).toThrow(/cells must be counts/);
  });
});

describe('Function: holm', () => {
  it('adjusts the textbook example (m = 4) step-down with the running maximum, in input order', () => {
    // Sorted 0.005, 0.01, 0.03, 0.04 → 4·0.005 = 0.02, 3·0.01 = 0.03, 2·0.03 = 0.06, max(1·0.04, 0.06) = 0.06.
    const adjusted = holm([0.01, 0.04, 0.03, 0.005]);
    expect(adjusted.map((x) => Number(x.toFixed(12)))).toEqual([0.03, 0.06, 0.06, 0.02]);
  });

  it('caps at 1 and keeps an empty family empty', () => {
    expect(holm([0.5, 0.6])).toEqual([1, 1]);
    expect(holm([])).toEqual([]);
  });
});

describe('Function: benjaminiHochberg', () => {
  it('rejects the first four of Benjamini & Hochberg’s (1995) 15 p-values at q = 0.05, as the paper does', () => {
    const adjusted = benjaminiHochberg(reference.bh[0].p);
    expect(adjusted.filter((q) => q < 0.05)).toHaveLength(4);
  });

  it.each(reference.bh.map((r, i) => [i, r] as const))('matches scipy false_discovery_control (set %i)', (_, r) => {
    const adjusted = benjaminiHochberg(r.p);
    for (const [i, q] of adjusted.entries()) expect(q).toBeCloseTo(r.adjusted[i], 12);
  });
});

describe('Function: diagnoseSubgroups', () => {
  /** A workforce's gold items over `sites`, each site with its own true accuracy. */
  function items(seed: number, plan: { unit: string; value: string; n: number; accuracy: number }[]): SubgroupItem[] {
    const random = seededRandomSource(seed);
    return plan.flatMap((p) => Array.from({ length: p.n }, () => ({ unit: p.unit, value: p.value, correct: random.next() < p.accuracy })));
  }

  it('flags a planted bad site (0.70 against 0.95 elsewhere) and no null one, under Holm and under BH', () => {
    const data = items(3, [
      { unit: 'vendor-a', value: 'site-1', n: 120, accuracy: 0.95 },
      { unit: 'vendor-a', value: 'site-2', n: 120, accuracy: 0.95 },
      { unit: 'vendor-a', value: 'site-3', n: 120, accuracy: 0.7 },
      { unit: 'vendor-b', value: 'site-1', n: 120, accuracy: 0.9 },
      { unit: 'vendor-b', value: 'site-2', n: 120, accuracy: 0.9 },
      { unit: 'vendor-b', value: 'site-3', n: 120, accuracy: 0.9 },
    ]);
    for (const correction of ['holm', 'benjamini-hochberg'] as const) {
      const d = diagnoseSubgroups(data, { attribute: 'site', correction });
      expect(d.tests).toBe(6);
      expect(d.rows.filter((r) => r.flagged).map((r) => `${r.unit}/${r.value}`)).toEqual(['vendor-a/site-3']);
      expect(d.correctionName).toMatch(correction === 'holm' ? /^Holm/ : /^Benjamini–Hochberg/);
    }
  });

  it('returns per-subgroup counts, Wilson interval and the unit’s rest, by hand', () => {
    const data: SubgroupItem[] = [
      ...Array.from({ length: 8 }, (_, i) => ({ unit: 'w', value: 'CT', correct: i < 4 })),
      ...Array.from({ length: 10 }, (_, i) => ({ unit: 'w', value: 'MR', correct: i < 10 })),
    ];
    const d = diagnoseSubgroups(data, { attribute: 'modality', correction: 'holm' });
    const ct = d.rows.find((r) => r.value === 'CT');
    expect(ct).toMatchObject({ n: 8, correct: 4, accuracy: 0.5, rest: { n: 10, correct: 10, accuracy: 1 }, insufficient: false });
    expect(ct?.lower).toBeCloseTo(0.2152, 4); // Wilson 95% for 4/8
    expect(ct?.pValue).toBeCloseTo(fisherExact(4, 4, 10, 0, 'less'), 15);
    expect(ct?.adjustedPValue).toBeCloseTo(Math.min(1, 2 * (ct?.pValue ?? 1)), 15);
  });

  it('reports a subgroup under minN gold items as insufficient and leaves it out of the family', () => {
    const data: SubgroupItem[] = [
      ...Array.from({ length: 3 }, () => ({ unit: 'w', value: 'rare', correct: false })),
      ...Array.from({ length: 30 }, () => ({ unit: 'w', value: 'common', correct: true })),
    ];
    const d = diagnoseSubgroups(data, { attribute: 'site', minN: 5 });
    expect(d.rows.find((r) => r.value === 'rare')).toMatchObject({ insufficient: true, pValue: null, flagged: false });
    expect(d.tests).toBe(1);
  });

  it('keeps the family-wise false-flag rate over 200 null workforces within Holm’s 5% (plus 3 binomial SE; seeded)', () => {
    let anyFlag = 0;
    for (let s = 0; s < 200; s++) {
      const data = items(100 + s, [
        { unit: 'w', value: 'a', n: 40, accuracy: 0.9 },
        { unit: 'w', value: 'b', n: 40, accuracy: 0.9 },
        { unit: 'w', value: 'c', n: 40, accuracy: 0.9 },
        { unit: 'w', value: 'd', n: 40, accuracy: 0.9 },
      ]);
      if (diagnoseSubgroups(data, { attribute: 'site', correction: 'holm' }).rows.some((r) => r.flagged)) anyFlag += 1;
    }
    // Fisher's test is conservative: the family-wise rate stays at or below 5% (binomial 3-SE margin on 200: 0.05 + 0.046).
    expect(anyFlag / 200).toBeLessThanOrEqual(0.096);
  });
});
