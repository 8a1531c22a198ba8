import { describe, expect, it } from 'vitest';
import { AgreementInputError } from '../../../functions/domain/scoring/classification.js';
import { type LabelAnnotation, dawidSkene, majorityVote } from '../../../functions/domain/scoring/consensus.js';
import { seededRandom } from '../../../functions/domain/scoring/uncertainty.js';

/** crowd-kit tests/aggregation/test_ds_aggregation.py, fixture `data` (5 tasks, 5 workers). */
const CROWDKIT_TOY: LabelAnnotation[] = [
  't1 w1 no', 't1 w2 yes', 't1 w4 yes', 't1 w5 no',
  't2 w1 yes', 't2 w2 yes', 't2 w3 yes', 't2 w4 no', 't2 w5 no',
  't3 w1 yes', 't3 w2 no', 't3 w3 no', 't3 w4 yes', 't3 w5 no',
  't4 w1 yes', 't4 w2 yes', 't4 w3 yes', 't4 w4 yes', 't4 w5 yes',
  't5 w1 yes', 't5 w2 no', 't5 w3 no', 't5 w4 no', 't5 w5 no',
].map((row) => {
  const [item, annotator, label] = row.split(' ');
  return { item, annotator, label };
});

/** crowd-kit fixtures: [posterior(no), posterior(yes)] per task after n_iter = 0 and 1. */
const CROWDKIT_PROBAS = {
  0: [[0.5, 0.5], [0.4, 0.6], [0.6, 0.4], [0, 1], [0.8, 0.2]],
  1: [[0.35, 0.65], [0.26, 0.74], [0.87, 0.13], [0, 1], [0.95, 0.05]],
} as const;
const CROWDKIT_PRIORS = { 0: [0.46, 0.54], 1: [0.49, 0.51] } as const;
/** crowd-kit errors_.loc[(worker, observed), true]: [observed no | true no, observed no | true yes]. */
const CROWDKIT_ERRORS = {
  0: { w1: [0.22, 0.19], w2: [0.61, 0.22], w3: [0.78, 0.27], w4: [0.52, 0.3], w5: [1.0, 0.63] },
  1: { w1: [0.14, 0.25], w2: [0.75, 0.07], w3: [0.87, 0.09], w4: [0.5, 0.31], w5: [1.0, 0.61] },
} as const;

/** Synthetic crowd with known truth: annotator j is right with probability accuracy[j]. */
function simulateCrowd(items: number, accuracy: number[], categories: string[], seed: number) {
  const rand = seededRandom(seed);
  const truth: string[] = [];
  const annotations: LabelAnnotation[] = [];
  for (let i = 0; i < items; i++) {
    const t = categories[Math.floor(rand() * categories.length)];
    truth.push(t);
    accuracy.forEach((acc, j) => {
      const wrong = categories.filter((c) => c !== t);
      const label = rand() < acc ? t : wrong[Math.floor(rand() * wrong.length)];
      annotations.push({ item: i, annotator: `a${j}`, label });
    });
  }
  return { truth, annotations };
}

describe('Module: consensus', () => {
  describe('Function: majorityVote', () => {
    it('returns the most voted label with its share', () => {
      const { items } = majorityVote([['benign', 'benign', 'malignant']]);

      expect(items[0]).toMatchObject({ label: 'benign', votes: 2, total: 3, tie: false });
      expect(items[0].agreement.value).toBeCloseTo(2 / 3, 12);
    });

    // Issue 7 finding 10 (sweep): the label scale came from sortedLabelUnion(...labelsPerItem), which overflows the stack past ~120,000 items.
    it('returns a vote for each of 200,000 items', () => {
      const { items } = majorityVote(Array.from({ length: 200_000 }, (_, i) => (i % 2 ? ['a', 'a', 'b'] : ['b', 'b'])));

      expect(items).toHaveLength(200_000);
      expect(items[1]).toMatchObject({ label: 'a', votes: 2 });
    });

    it('abstains on a tie by default and reports the tied labels and item', () => {
      const result = majorityVote([['a', 'a'], ['b', 'a']]);

      expect(result.items[1]).toMatchObject({ label: null, tie: true, tied: ['a', 'b'] });
      expect(result.tiedItems).toEqual([1]);
    });

    it("settles a tie on the label first in the given order with 'first-in-order'", () => {
      // Arrange: list the more severe grade first to resolve ties towards it.
      const order = ['severe', 'moderate', 'mild'];

      // Act
      const result = majorityVote([['mild', 'severe']], { tieBreak: 'first-in-order', order });

      // Assert
      expect(result.items[0].label).toBe('severe');
      expect(result.items[0].tie).toBe(true);
      expect(result.tiedItems).toEqual([0]);
    });

    it('settles ties the same way on every run (deterministic)', () => {
      const votes = [['b', 'a'], ['a', 'b'], ['c', 'b', 'a']];

      const first = majorityVote(votes, { tieBreak: 'first-in-order' });
      const second = majorityVote(votes, { tieBreak: 'first-in-order' });

      expect(first).toEqual(second);
      expect(first.items.map((i) => i.label)).toEqual(['a', 'a', 'a']);
    });

    it('uses a custom tie-break and rejects a choice that was not tied', () => {
      const pickLast = majorityVote([['a', 'b']], { tieBreak: (tied) => tied[tied.length - 1] });
      expect(pickLast.items[0].label).toBe('b');

      expect(() => majorityVote([['a', 'b']], { tieBreak: () => 'c' })).toThrow(AgreementInputError);
    });

    it('ignores missing votes and leaves an item without votes unlabelled, with undefined agreement', () => {
      const { items } = majorityVote([[null, 'a', undefined], []]);

      expect(items[0]).toMatchObject({ label: 'a', votes: 1, total: 1 });
      expect(items[1].label).toBeNull();
      expect(items[1].agreement.value).toBeNaN();
      expect(items[1].agreement.reason).toMatch(/no votes/);
    });
  });

  describe('Function: dawidSkene', () => {
    it.each([0, 1] as const)('matches crowd-kit step by step after %i iteration(s)', (iterations) => {
      // Act
      const result = dawidSkene(CROWDKIT_TOY, { maxIter: iterations });

      // Assert (crowd-kit compares with atol 0.005)
      expect(result.categories).toEqual(['no', 'yes']);
      expect(result.items).toEqual(['t1', 't2', 't3', 't4', 't5']);
      result.posteriors.forEach((row, i) => {
        row.forEach((p, c) => {
          expect(Math.abs(p - CROWDKIT_PROBAS[iterations][i][c])).toBeLessThan(0.005);
        });
      });
      result.priors.forEach((p, c) => {
        expect(Math.abs(p - CROWDKIT_PRIORS[iterations][c])).toBeLessThan(0.005);
      });
      for (const [worker, [noGivenNo, noGivenYes]] of Object.entries(CROWDKIT_ERRORS[iterations])) {
        const m = result.confusion[result.annotators.indexOf(worker)];
        expect(Math.abs(m[0][0] - noGivenNo)).toBeLessThan(0.005);
        expect(Math.abs(m[1][0] - noGivenYes)).toBeLessThan(0.005);
      }
      expect(result.iterations).toBe(iterations);
    });

    it('converges on the crowd-kit toy data within 100 iterations with the crowd-kit labels', () => {
      const result = dawidSkene(CROWDKIT_TOY);

      expect(result.converged).toBe(true);
      expect(result.iterations).toBeLessThanOrEqual(100);
      expect(result.labels).toEqual(['yes', 'yes', 'no', 'yes', 'no']);
      // The bound never decreases under EM.
      for (let i = 1; i < result.boundHistory.length; i++) {
        expect(result.boundHistory[i]).toBeGreaterThanOrEqual(result.boundHistory[i - 1] - 1e-12);
      }
    });

    it('reproduces crowd-kit test_dawid_skene_overlap: posteriors 1/3 and 2/3 for 300 workers', () => {
      // Arrange: worker w answers task t "yes" unless (w − t) mod 3 = 0.
      const annotations: LabelAnnotation[] = [];
      for (let w = 0; w < 300; w++) {
        for (let t = 0; t < 3; t++) annotations.push({ item: t, annotator: w, label: (w - t) % 3 ? 'yes' : 'no' });
      }

      // Act
      const result = dawidSkene(annotations, { maxIter: 20 });

      // Assert
      for (const row of result.posteriors) {
        expect(row[0]).toBeCloseTo(1 / 3, 2);
        expect(row[1]).toBeCloseTo(2 / 3, 2);
      }
      expect(result.labels).toEqual(['yes', 'yes', 'yes']);
      expect(result.priors[0]).toBeCloseTo(1 / 3, 2);
    });

    it('returns probability rows that sum to 1, for posteriors and every confusion matrix', () => {
      const { annotations } = simulateCrowd(200, [0.9, 0.7, 0.6], ['a', 'b', 'c'], 11);

      const result = dawidSkene(annotations);

      for (const row of result.posteriors) expect(row.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 12);
      for (const m of result.confusion) for (const row of m) expect(row.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 12);
      expect(result.priors.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 12);
    });

    it('beats majority vote when one annotator is reliable and the others are noisy', () => {
      // Arrange
      const categories = ['none', 'mild', 'severe'];
      const { truth, annotations } = simulateCrowd(2000, [0.95, 0.45, 0.45, 0.45, 0.45], categories, 2024);
      const byItem: string[][] = truth.map(() => []);
      for (const a of annotations) byItem[a.item as number].push(a.label as string);

      // Act
      const ds = dawidSkene(annotations, { categories });
      const mv = majorityVote(byItem, { tieBreak: 'first-in-order', order: categories });

      // Assert
      const accuracy = (labels: (string | number | null)[]) =>
        labels.filter((l, i) => l === truth[i]).length / truth.length;
      expect(accuracy(ds.labels)).toBeGreaterThan(accuracy(mv.items.map((i) => i.label)) + 0.05);
      // The confusion matrices tell the reliable annotator from the noisy ones.
      const diagonal = (annotator: string) => {
        const m = ds.confusion[ds.annotators.indexOf(annotator)];
        return (m[0][0] + m[1][1] + m[2][2]) / 3;
      };
      expect(diagonal('a0')).toBeGreaterThan(0.8);
      for (const noisy of ['a1', 'a2', 'a3', 'a4']) expect(diagonal(noisy)).toBeLessThan(0.6);
    });

    it('keeps a schema category nobody used at prior 0 and posterior 0', () => {
      const result = dawidSkene(CROWDKIT_TOY, { categories: ['no', 'unsure', 'yes'] });

      expect(result.priors[1]).toBe(0);
      for (const row of result.posteriors) expect(row[1]).toBe(0);
      expect(result.labels).toEqual(['yes', 'yes', 'no', 'yes', 'no']);
    });

    it('throws for a label outside the given categories', () => {
      expect(() => dawidSkene([{ item: 1, annotator: 'x', label: 'maybe' }], { categories: ['yes', 'no'] })).toThrow(
        /not one of the categories/,
      );
    });

    it('returns an empty, converged result for no annotations', () => {
      const result = dawidSkene([]);

      expect(result).toMatchObject({ items: [], posteriors: [], labels: [], iterations: 0, converged: true });
    });

    it('stops at maxIter and says it did not converge', () => {
      const { annotations } = simulateCrowd(300, [0.8, 0.6, 0.6], ['a', 'b'], 5);

      const result = dawidSkene(annotations, { maxIter: 2, tol: 0 });

      expect(result.iterations).toBe(2);
      expect(result.converged).toBe(false);
    });
  });
});
