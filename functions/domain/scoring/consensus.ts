/**
 * Consensus labels without gold (METRICS.md § Consensus without gold): majority
 * vote with explicit, reported ties, and Dawid–Skene EM with per-annotator
 * confusion matrices.
 */
import { AgreementInputError, compareLabels, type CategoryLabel, sortedLabelUnion, sortedLabelUnionOf } from './classification.js';
import { type MetricResult, metric, undefinedMetric } from './metric-result.js';

/**
 * How a tie between the most-voted labels is settled:
 * - 'abstain': no consensus label (null); the item is reported as tied;
 * - 'first-in-order': the tied label that comes first in `order` (e.g. list the
 *   more severe grade first to resolve towards it);
 * - a function of the tied labels (in `order`) and the item's index.
 * Every choice is deterministic; ties are reported whichever is used.
 */
export type TieBreak =
  | 'abstain'
  | 'first-in-order'
  | ((tied: readonly CategoryLabel[], itemIndex: number) => CategoryLabel);

export interface MajorityVoteOptions {
  /** Default 'abstain': a tie is not a consensus. */
  tieBreak?: TieBreak;
  /** Label order for 'first-in-order' and for `tied`; defaults to sorted labels. */
  order?: readonly CategoryLabel[];
}

export interface MajorityVoteItem {
  /** The consensus label; null when no votes, or tied and tieBreak 'abstain'. */
  label: CategoryLabel | null;
  /** Votes for the winning label(s). */
  votes: number;
  /** Non-missing votes on the item. */
  total: number;
  /** votes / total: the share behind the label (undefined without votes). */
  agreement: MetricResult;
  /** Labels sharing the top count, in `order`; more than one means a tie. */
  tied: CategoryLabel[];
  tie: boolean;
}

export interface MajorityVoteResult {
  items: MajorityVoteItem[];
  /** Indices of the items whose top count was shared. */
  tiedItems: number[];
}

/**
 * Plain majority vote per item (crowd-kit `MajorityVote`, hard labels), with ties
 * settled by an explicit, deterministic rule and always reported.
 *
 * Edge cases: `null`/`undefined` votes are ignored; an item without votes gets
 * label null and undefined agreement; a function tie-break must return one of the
 * tied labels, otherwise throws.
 *
 * @example
 * majorityVote([['a', 'a', 'b'], ['a', 'b']], { tieBreak: 'abstain' })
 * // items[0].label 'a' (2/3); items[1].label null, tie true; tiedItems [1]
 */
export function majorityVote(
  labelsPerItem: readonly (readonly (CategoryLabel | null | undefined)[])[],
  options: MajorityVoteOptions = {},
): MajorityVoteResult {
  const tieBreak = options.tieBreak ?? 'abstain';
  const order = options.order ?? sortedLabelUnionOf(labelsPerItem);
  const rank = new Map<CategoryLabel, number>();
  order.forEach((l, i) => {
    rank.set(l, i);
  });
  const byOrder = (x: CategoryLabel, y: CategoryLabel): number => {
    const rx = rank.get(x);
    const ry = rank.get(y);
    if (rx !== undefined && ry !== undefined) return rx - ry;
    if (rx !== undefined) return -1;
    if (ry !== undefined) return 1;
    return compareLabels(x, y);
  };

  const tiedItems: number[] = [];
  const items = labelsPerItem.map((votes, itemIndex): MajorityVoteItem => {
    const counts = new Map<CategoryLabel, number>();
    let total = 0;
    for (const v of votes) {
      if (v === null || v === undefined) continue;
      counts.set(v, (counts.get(v) ?? 0) + 1);
      total++;
    }
    if (total === 0) {
      return {
        label: null,
        votes: 0,
        total: 0,
        agreement: undefinedMetric('no votes on this item'),
        tied: [],
        tie: false,
      };
    }
    let top = 0;
    for (const c of counts.values()) top = Math.max(top, c);
    const tied = [...counts].filter(([, c]) => c === top).map(([l]) => l).sort(byOrder);
    const tie = tied.length > 1;
    if (tie) tiedItems.push(itemIndex);
    return {
      label: tie ? settleTie(tied, itemIndex, tieBreak) : tied[0],
      votes: top,
      total,
      agreement: metric(top / total),
      tied,
      tie,
    };
  });
  return { items, tiedItems };
}

function settleTie(tied: readonly CategoryLabel[], itemIndex: number, tieBreak: TieBreak): CategoryLabel | null {
  if (tieBreak === 'abstain') return null;
  if (tieBreak === 'first-in-order') return tied[0];
  const chosen = tieBreak(tied, itemIndex);
  if (!tied.includes(chosen)) {
    throw new AgreementInputError(
      `majorityVote: the tie-break for item ${itemIndex} chose ${JSON.stringify(chosen)}, which is not among the tied labels`,
    );
  }
  return chosen;
}

/** One annotator's label on one item. */
export interface LabelAnnotation {
  item: string | number;
  annotator: string | number;
  label: CategoryLabel;
}

export interface DawidSkeneOptions {
  /**
   * The schema's categories (order fixes the posterior columns and breaks ties
   * in hard labels). Defaults to the sorted labels seen. A category nobody used
   * keeps prior 0 (as crowd-kit, whose label set is the labels seen).
   */
  categories?: readonly CategoryLabel[];
  /** At most this many EM iterations (crowd-kit `n_iter`, default 100). */
  maxIter?: number;
  /** Stop when the per-answer evidence lower bound improves by less (default 1e-5). */
  tol?: number;
}

export interface DawidSkeneResult {
  categories: CategoryLabel[];
  /** Items in order of first appearance. */
  items: (string | number)[];
  /** posteriors[i][c] = P(true label of items[i] = categories[c]); rows sum to 1. */
  posteriors: number[][];
  /** Most probable category per item (first in `categories` on equal posteriors). */
  labels: CategoryLabel[];
  /** Annotators in order of first appearance. */
  annotators: (string | number)[];
  /**
   * confusion[a][t][l] = P(annotators[a] answers categories[l] | true categories[t]);
   * rows sum to 1. Labels an annotator never gave have probability 0.
   */
  confusion: number[][][];
  /** Class priors P(true = categories[c]). */
  priors: number[];
  /** EM iterations run (0 when maxIter is 0: the majority-vote start). */
  iterations: number;
  /** True when the bound improved by less than `tol` before `maxIter` ran out. */
  converged: boolean;
  /** Evidence lower bound per answer after each iteration. */
  boundHistory: number[];
}

/** crowd-kit `_EPS`: floor for confusion counts of labels an annotator did give. */
const CLIP = 1e-10;

/**
 * Dawid–Skene consensus (Dawid & Skene 1979, JRSS C 28:20), following Toloka
 * crowd-kit `DawidSkene.fit`: start from the soft majority vote, M-step (confusion
 * counts clipped at 1e-10, normalised per annotator and true class), then repeat
 * E-step → priors → M-step → evidence lower bound per answer, stopping when the
 * bound improves by less than `tol` or after `maxIter` iterations.
 *
 * Categories, items and annotators are integer-coded into typed arrays, so
 * 10,000 items × 5 annotators runs in a few tens of milliseconds.
 *
 * Edge cases: no annotations → empty result, converged; a label outside
 * `categories` → throws; an annotator's repeated answers on one item all count
 * (as crowd-kit).
 *
 * @example
 * dawidSkene([{ item: 't1', annotator: 'w1', label: 'yes' }, ...]).labels
 */
export function dawidSkene(annotations: readonly LabelAnnotation[], options: DawidSkeneOptions = {}): DawidSkeneResult {
  const maxIter = options.maxIter ?? 100;
  const tol = options.tol ?? 1e-5;
  const categories = [...(options.categories ?? sortedLabelUnion(annotations.map((a) => a.label)))];
  const k = categories.length;

  const catIndex = new Map<CategoryLabel, number>();
  categories.forEach((c, i) => {
    if (catIndex.has(c)) throw new AgreementInputError(`dawidSkene: category ${JSON.stringify(c)} is listed twice`);
    catIndex.set(c, i);
  });
  const itemIndex = new Map<string | number, number>();
  const workerIndex = new Map<string | number, number>();
  const items: (string | number)[] = [];
  const annotators: (string | number)[] = [];
  const n = annotations.length;
  const ansItem = new Int32Array(n);
  const ansWorker = new Int32Array(n);
  const ansLabel = new Int32Array(n);
  for (let a = 0; a < n; a++) {
    const { item, annotator, label } = annotations[a];
    const l = catIndex.get(label);
    if (l === undefined) {
      throw new AgreementInputError(
        `dawidSkene: label ${JSON.stringify(label)} (annotation ${a}) is not one of the categories`,
      );
    }
    let i = itemIndex.get(item);
    if (i === undefined) {
      i = items.length;
      itemIndex.set(item, i);
      items.push(item);
    }
    let w = workerIndex.get(annotator);
    if (w === undefined) {
      w = annotators.length;
      workerIndex.set(annotator, w);
      annotators.push(annotator);
    }
    ansItem[a] = i;
    ansWorker[a] = w;
    ansLabel[a] = l;
  }
  const nItems = items.length;
  const nWorkers = annotators.length;

  // Soft majority vote: posterior = share of each label among the item's answers.
  const post = new Float64Array(nItems * k);
  const answersPerItem = new Float64Array(nItems);
  for (let a = 0; a < n; a++) {
    post[ansItem[a] * k + ansLabel[a]] += 1;
    answersPerItem[ansItem[a]] += 1;
  }
  for (let i = 0; i < nItems; i++) for (let c = 0; c < k; c++) post[i * k + c] /= answersPerItem[i];

  // Which labels each annotator gave: only those cells are clipped and normalised
  // (crowd-kit groups by (worker, label) pairs that occur).
  const gave = new Uint8Array(nWorkers * k);
  for (let a = 0; a < n; a++) gave[ansWorker[a] * k + ansLabel[a]] = 1;

  const priors = new Float64Array(k);
  const errors = new Float64Array(nWorkers * k * k); // [w][true t][given l]
  const logErrors = new Float64Array(nWorkers * k * k);
  const logPriors = new Float64Array(k);
  const logLik = new Float64Array(nItems * k);

  const updatePriors = (): void => {
    priors.fill(0);
    for (let i = 0; i < nItems; i++) for (let c = 0; c < k; c++) priors[c] += post[i * k + c];
    for (let c = 0; c < k; c++) {
      priors[c] /= nItems;
      logPriors[c] = Math.log(priors[c]);
    }
  };

  const mStep = (): void => {
    errors.fill(0);
    for (let a = 0; a < n; a++) {
      const base = ansWorker[a] * k * k + ansLabel[a];
      const p = ansItem[a] * k;
      for (let t = 0; t < k; t++) errors[base + t * k] += post[p + t];
    }
    for (let w = 0; w < nWorkers; w++) {
      for (let t = 0; t < k; t++) {
        const row = w * k * k + t * k;
        let sum = 0;
        for (let l = 0; l < k; l++) {
          if (!gave[w * k + l]) continue;
          if (errors[row + l] < CLIP) errors[row + l] = CLIP;
          sum += errors[row + l];
        }
        for (let l = 0; l < k; l++) {
          errors[row + l] = gave[w * k + l] ? errors[row + l] / sum : 0;
          logErrors[row + l] = Math.log(errors[row + l]);
        }
      }
    }
  };

  const eStep = (): void => {
    for (let i = 0; i < nItems; i++) for (let t = 0; t < k; t++) logLik[i * k + t] = logPriors[t];
    for (let a = 0; a < n; a++) {
      const base = ansWorker[a] * k * k + ansLabel[a];
      const p = ansItem[a] * k;
      for (let t = 0; t < k; t++) logLik[p + t] += logErrors[base + t * k];
    }
    // Shift each row so its maximum is 0 before exponentiating (no underflow).
    for (let i = 0; i < nItems; i++) {
      const p = i * k;
      let max = Number.NEGATIVE_INFINITY;
      for (let t = 0; t < k; t++) if (logLik[p + t] > max) max = logLik[p + t];
      let sum = 0;
      for (let t = 0; t < k; t++) {
        const e = Math.exp(logLik[p + t] - max);
        post[p + t] = e;
        sum += e;
      }
      for (let t = 0; t < k; t++) post[p + t] /= sum;
    }
  };

  // crowd-kit `_evidence_lower_bound`: Σ_answers Σ_t q_it (log e_w[t,l] + log π_t)
  // plus the posterior entropy; 0·log 0 terms are skipped as pandas' sum skips NaN.
  const evidenceLowerBound = (): number => {
    let joint = 0;
    for (let a = 0; a < n; a++) {
      const base = ansWorker[a] * k * k + ansLabel[a];
      const p = ansItem[a] * k;
      for (let t = 0; t < k; t++) {
        const q = post[p + t];
        if (q > 0) joint += q * (logErrors[base + t * k] + logPriors[t]);
      }
    }
    let entropy = 0;
    for (let x = 0; x < post.length; x++) if (post[x] > 0) entropy -= post[x] * Math.log(post[x]);
    return joint + entropy;
  };

  const boundHistory: number[] = [];
  let iterations = 0;
  let converged = n === 0;
  if (n > 0) {
    updatePriors();
    mStep();
    let bound = Number.NEGATIVE_INFINITY;
    while (iterations < maxIter) {
      eStep();
      updatePriors();
      mStep();
      iterations++;
      const next = evidenceLowerBound() / n;
      boundHistory.push(next);
      if (next - bound < tol) {
        converged = true;
        break;
      }
      bound = next;
    }
  }

  const posteriors: number[][] = [];
  const labels: CategoryLabel[] = [];
  for (let i = 0; i < nItems; i++) {
    const row = Array.from(post.subarray(i * k, (i + 1) * k));
    let best = 0;
    for (let c = 1; c < k; c++) if (row[c] > row[best]) best = c;
    posteriors.push(row);
    labels.push(categories[best]);
  }
  const confusion: number[][][] = [];
  for (let w = 0; w < nWorkers; w++) {
    const m: number[][] = [];
    for (let t = 0; t < k; t++) m.push(Array.from(errors.subarray(w * k * k + t * k, w * k * k + (t + 1) * k)));
    confusion.push(m);
  }
  return {
    categories,
    items,
    posteriors,
    labels,
    annotators,
    confusion,
    priors: Array.from(priors),
    iterations,
    converged,
    boundHistory,
  };
}
