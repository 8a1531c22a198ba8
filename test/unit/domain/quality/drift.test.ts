import { describe, expect, it } from 'vitest';
import {
  type CusumParams,
  type EwmaParams,
  type GoldResult,
  cusumArl,
  cusumChart,
  cusumDetectionBatches,
  cusumLattice,
  cusumRunLengthCdf,
  designCusum,
  driftAlarms,
  ewmaChart,
  ewmaDetectionBatches,
  ewmaRunLength,
  runCusum,
  runEwma,
} from '../../../../functions/domain/quality/index.js';
import { ProtocolDrift, driftOf } from '../../../../functions/domain/model/index.js';
import { type RandomSource, seededRandomSource } from '../../../../functions/domain/random.js';

/** The documented designs (docs/quality-alarms.md): 10 gold items per batch, AQL 0.95, RQL 0.80. */
const N = 10;
const CUSUM: CusumParams = { p0: 0.95, p1: 0.8, h: 2 };
const EWMA: EwmaParams = { p0: 0.95, lambda: 0.2, L: 2.7 };

const batch = (random: RandomSource, n: number, accuracy: number): GoldResult => {
  let correct = 0;
  for (let i = 0; i < n; i++) if (random.next() < accuracy) correct += 1;
  return { goldN: n, goldCorrect: correct };
};

const stepper = (chart: 'cusum' | 'ewma') => (chart === 'cusum' ? cusumChart(CUSUM) : ewmaChart(EWMA));

/** Batches until the first alarm of a chart at a constant true accuracy (capped). */
function runLength(random: RandomSource, chart: 'cusum' | 'ewma', accuracy: number, cap: number): number {
  const c = stepper(chart);
  for (let t = 1; t <= cap; t++) if (c.push(batch(random, N, accuracy)).alarm) return t;
  return cap;
}

describe('Function: cusumLattice', () => {
  it('rounds the likelihood-ratio reference value for 0.95 → 0.80 (γ = 0.1103) to 1/9', () => {
    const lat = cusumLattice(CUSUM);
    expect(lat.gammaExact).toBeCloseTo(Math.log(0.95 / 0.8) / Math.log((0.2 * 0.95) / (0.05 * 0.8)), 12);
    expect(lat.gammaExact).toBeCloseTo(0.1103, 4);
    expect(lat.m).toBe(9);
    expect(lat.H).toBe(18);
  });

  it('refuses p1 at or above p0 with a clear error', () => {
    expect(() => cusumLattice({ p0: 0.8, p1: 0.9, h: 2 })).toThrow(/p1 \(0.9\) must be below p0 \(0.8\)/);
  });
});

describe('Function: runCusum', () => {
  it('accumulates errors beyond γ per item, by hand, and restarts after the alarm', () => {
    // m = 9: a batch of 10 adds 9·wrong − 10 (scaled); h = 2 → H = 18.
    const series = [
      { goldN: 10, goldCorrect: 10 }, // 0 → max(0, −10) = 0
      { goldN: 10, goldCorrect: 8 }, //  0 + 18 − 10 = 8
      { goldN: 10, goldCorrect: 9 }, //  8 + 9 − 10 = 7
      { goldN: 10, goldCorrect: 7 }, //  7 + 27 − 10 = 24 ≥ 18: alarm
      { goldN: 10, goldCorrect: 8 }, //  restarted: 0 + 8 = 8
    ];
    const { points, excursions } = runCusum(series, CUSUM);
    expect(points.map((p) => p.statistic * 9)).toEqual([0, 8, 7, 24, 8].map((x) => expect.closeTo(x, 9)));
    expect(points.map((p) => p.alarm)).toEqual([false, false, false, true, false]);
    expect(excursions).toEqual([{ chart: 'cusum', indices: [1, 2, 3], statistic: expect.closeTo(24 / 9, 12), limit: 2 }]);
  });

  it('refuses a gold result that is not a count out of gold items', () => {
    expect(() => runCusum([{ goldN: 5, goldCorrect: 6 }], CUSUM)).toThrow(/batch 0: gold result 6\/5/);
  });
});

describe('Function: runEwma', () => {
  it('uses the exact variance with the time-varying term: λ/(2−λ)·(1−(1−λ)^{2t})·p0(1−p0)/n for a fixed n', () => {
    const series = Array.from({ length: 6 }, () => ({ goldN: N, goldCorrect: 10 }));
    const { points } = runEwma(series, EWMA);
    for (const [i, p] of points.entries()) {
      const t = i + 1;
      const sd = Math.sqrt((0.2 / 1.8) * (1 - 0.8 ** (2 * t)) * ((0.95 * 0.05) / N));
      expect(p.limit).toBeCloseTo(0.95 - 2.7 * sd, 12);
    }
    expect(points[0].statistic).toBeCloseTo(0.2 * 1 + 0.8 * 0.95, 12);
  });

  it('alarms when the smoothed accuracy falls below its lower limit, by hand', () => {
    const { points, excursions } = runEwma(
      [
        { goldN: 10, goldCorrect: 6 },
        { goldN: 10, goldCorrect: 6 },
      ],
      EWMA,
    );
    // z1 = 0.2·0.6 + 0.8·0.95 = 0.88; limit1 = 0.95 − 2.7·0.2·√(0.00475) = 0.9128: alarm.
    expect(points[0].statistic).toBeCloseTo(0.88, 12);
    expect(points[0].limit).toBeCloseTo(0.95 - 2.7 * 0.2 * Math.sqrt(0.00475), 12);
    expect(points[0].alarm).toBe(true);
    expect(excursions.map((e) => e.indices)).toEqual([[0], [1]]);
  });
});

describe('Function: cusumArl (exact Markov chain)', () => {
  it('agrees with the sum of the exact run-length survival function', () => {
    const cdf = cusumRunLengthCdf(CUSUM, N, 0.8, 400);
    const fromCdf = 1 + cdf.reduce((s, c) => s + (1 - c), 0);
    expect(cusumArl(CUSUM, N, 0.8)).toBeCloseTo(fromCdf, 8);
  });

  it('designCusum picks the smallest h on the lattice reaching the ARL0 asked for', () => {
    const d = designCusum({ p0: 0.95, p1: 0.8, arl0: 200, n: N });
    expect(d.params.h).toBeCloseTo(2, 12);
    expect(d.arl0).toBeGreaterThanOrEqual(200);
    expect(cusumArl({ ...d.params, h: d.params.h - 1 / d.m }, N, 0.95)).toBeLessThan(200);
    expect(d.arl0).toBeCloseTo(226.2, 1);
    expect(d.arl1).toBeCloseTo(3.42, 2);
  });
});

describe('Known answer: drift detection, 1,000 simulated vendors (seeded)', () => {
  const K = 20; // the first bad batch
  const SIMS = 1000;

  /** Share of simulations whose first alarm at or after batch K comes within `within` batches (false alarms before K restart the chart). */
  function detectedShare(chart: 'cusum' | 'ewma', within: number, seed: number): number {
    const random = seededRandomSource(seed);
    let detected = 0;
    for (let s = 0; s < SIMS; s++) {
      const c = stepper(chart);
      for (let t = 1; t < K + within; t++) {
        const alarm = c.push(batch(random, N, t < K ? 0.95 : 0.8)).alarm;
        if (alarm && t >= K) {
          detected += 1;
          break;
        }
      }
    }
    return detected / SIMS;
  }

  it('CUSUM (h = 2, 10 gold per batch): accuracy falling 0.95 → 0.80 at batch 20 is alarmed within 6 batches in ≥ 90% of 1,000 simulations', () => {
    expect(cusumDetectionBatches(CUSUM, N, 0.8)).toBe(6);
    const share = detectedShare('cusum', 6, 12);
    expect(share).toBeGreaterThanOrEqual(0.9);
  });

  it('EWMA (λ = 0.2, L = 2.7, 10 gold per batch): accuracy falling 0.95 → 0.80 at batch 20 is alarmed within 6 batches in ≥ 90% of 1,000 simulations', () => {
    // The documented delay is the steady-state one (change after 19 in-control batches); from the zero state it is 5.
    expect(ewmaDetectionBatches(EWMA, N, 0.8, 0.9, K - 1)).toBe(6);
    expect(ewmaDetectionBatches(EWMA, N, 0.8)).toBe(5);
    const share = detectedShare('ewma', 6, 13);
    expect(share).toBeGreaterThanOrEqual(0.9);
  });
});

describe('Known answer: a stable vendor’s false alarms match the design ARL0 (seeded)', () => {
  const RUNS = 1500;

  function meanRunLength(chart: 'cusum' | 'ewma', seed: number): { mean: number; se: number } {
    const random = seededRandomSource(seed);
    const lengths = Array.from({ length: RUNS }, () => runLength(random, chart, 0.95, 100_000));
    const mean = lengths.reduce((s, x) => s + x, 0) / RUNS;
    const sd = Math.sqrt(lengths.reduce((s, x) => s + (x - mean) ** 2, 0) / (RUNS - 1));
    return { mean, se: sd / Math.sqrt(RUNS) };
  }

  it('CUSUM: the mean run length of 1,500 in-control runs is within 3 standard errors of the exact ARL0 (226.2 batches)', () => {
    const arl0 = cusumArl(CUSUM, N, 0.95);
    const { mean, se } = meanRunLength('cusum', 21);
    expect(Math.abs(mean - arl0)).toBeLessThan(3 * se);
  });

  it('EWMA: the mean run length of 1,500 in-control runs is within 3 standard errors of the Brook–Evans ARL0', () => {
    const { arl } = ewmaRunLength(EWMA, N, 0.95);
    const { mean, se } = meanRunLength('ewma', 22);
    expect(Math.abs(mean - arl)).toBeLessThan(3 * se);
  });
});

describe('Schema: ProtocolDrift (the protocol’s drift section)', () => {
  it('returns the documented defaults for an absent section and fills a partial one', () => {
    expect(driftOf({})).toEqual({ cusum: { p0: 0.95, p1: 0.8, h: 2 }, ewma: { lambda: 0.2, L: 2.7 } });
    expect(ProtocolDrift.parse({ cusum: { h: 3 } })).toEqual({ cusum: { p0: 0.95, p1: 0.8, h: 3 }, ewma: { lambda: 0.2, L: 2.7 } });
  });

  it('refuses p1 at or above p0, pointing at cusum.p1, and an unknown key', () => {
    const bad = ProtocolDrift.safeParse({ cusum: { p0: 0.9, p1: 0.9 } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['cusum.p1', expect.stringMatching(/p1 \(0.9\) must be below p0 \(0.9\)/)]]);
    expect(ProtocolDrift.safeParse({ ewma: { lamda: 0.3 } }).success).toBe(false);
  });
});

describe('Function: driftAlarms', () => {
  it('names each excursion by its batches and first batch time, CUSUM first, with the parameters used', () => {
    const series = [10, 9, 7, 6, 9].map((goldCorrect, i) => ({ batchId: `b-${i + 1}`, at: `2026-01-0${i + 1}T00:00:00.000Z`, goldN: 10, goldCorrect }));
    const alarms = driftAlarms(series, driftOf({}));
    expect(alarms.map((a) => [a.chart, a.batchIds, a.batchId, a.firstBatchAt])).toEqual([
      ['cusum', ['b-3', 'b-4'], 'b-4', '2026-01-03T00:00:00.000Z'],
      ['ewma', ['b-2', 'b-3', 'b-4'], 'b-4', '2026-01-02T00:00:00.000Z'],
    ]);
    expect(alarms[0].params).toEqual({ p0: 0.95, p1: 0.8, h: 2 });
    expect(alarms[0].reason).toMatch(/4\.78 excess errors ≥ h = 2\.00 over 2 batch/);
    expect(alarms[1].params).toEqual({ p0: 0.95, lambda: 0.2, L: 2.7 });
  });
});
