/**
 * STAPLE (Simultaneous Truth And Performance Level Estimation) for binary masks:
 * Warfield, Zou & Wells, IEEE TMI 23(7), 2004, with the iteration of ITK
 * `STAPLEImageFilter` (Modules/Filtering/ImageCompare/include/itkSTAPLEImageFilter.hxx).
 *
 * EM over the hidden true segmentation T, with W_i = P(T_i = 1 | D, p, q):
 * - start: W_i = fraction of raters marking voxel i; prior g = mean W over the
 *   region (ITK, `ConfidenceWeight` 1);
 * - M step: p_j = Σ_i W_i D_ij / Σ_i W_i,  q_j = Σ_i (1−W_i)(1−D_ij) / Σ_i (1−W_i);
 * - E step: W_i = g·a_i / (g·a_i + (1−g)·b_i), a_i = Π_j p_j^D_ij (1−p_j)^(1−D_ij),
 *   b_i = Π_j q_j^(1−D_ij) (1−q_j)^D_ij;
 * - stop when every |Δp_j| and |Δq_j| ≤ tol (ITK: squared change ≤ 1e-14),
 *   checked from the second iteration on, or after maxIter iterations.
 *
 * The prior g depends on the field of view: padding the volume with background
 * lowers g and so every W_i. Fix the region of interest (`roi`) before
 * comparing runs; voxels outside it get W = 0 and are not counted.
 *
 * W depends on a voxel only through its pattern of rater votes, so EM runs on a
 * histogram of the (at most 2^raters) patterns present: each iteration costs
 * O(patterns × raters) instead of O(voxels × raters), with the same result.
 */

/** Options of {@link staple}. */
export interface StapleOptions {
  /** Maximum EM iterations (default 100). */
  maxIter?: number;
  /** Convergence threshold on the change of every p_j and q_j (default 1e-6). */
  tol?: number;
  /** Prior probability g of foreground. Omitted: mean rater vote inside the ROI (ITK). */
  prior?: number;
  /** Region of interest (non-zero = inside); same length as the masks. Omitted: the whole volume. */
  roi?: Uint8Array;
}

/** Result of {@link staple}. */
export interface StapleResult {
  /** Consensus segmentation: 1 where W ≥ 0.5. */
  consensus: Uint8Array;
  /** W_i, the posterior probability that voxel i is foreground (0 outside the ROI). */
  weights: Float32Array;
  /** Sensitivity p_j per rater (NaN when the consensus has no foreground). */
  sensitivity: number[];
  /** Specificity q_j per rater (NaN when the consensus has no background). */
  specificity: number[];
  /** The prior g used. */
  prior: number;
  /** EM iterations performed. */
  iterations: number;
  converged: boolean;
}

/** Raters are packed as bits of a pattern code. */
const MAX_RATERS = 30;
/** Up to this many raters the pattern histogram is a dense table of 2^raters entries. */
const DENSE_TABLE_RATERS = 16;

/**
 * Estimates a consensus mask and each rater's sensitivity and specificity from
 * binary masks (non-zero = foreground) of equal length, by Warfield's STAPLE EM
 * as ITK `STAPLEImageFilter` iterates it.
 *
 * Conventions: a voxel whose votes are impossible under the current p, q
 * (0/0 in the E step) keeps W = g; when every mask is empty (or full) inside
 * the ROI, W = g everywhere and the undefined rates are NaN.
 *
 * @example
 * const r = staple([raterA, raterB, raterC], { roi: bodyMask });
 * r.consensus // Uint8Array, 1 where W ≥ 0.5
 * r.sensitivity // [0.97, 0.91, 0.88]
 */
export function staple(masks: Uint8Array[], options: StapleOptions = {}): StapleResult {
  const { maxIter = 100, tol = 1e-6, roi } = options;
  const raters = masks.length;
  if (raters < 1 || raters > MAX_RATERS) throw new RangeError(`STAPLE needs 1..${MAX_RATERS} masks, got ${raters}`);
  const n = masks[0].length;
  if (masks.some((m) => m.length !== n)) throw new RangeError('STAPLE masks must all have the same length');
  if (roi && roi.length !== n) throw new RangeError(`roi has ${roi.length} voxels, masks have ${n}`);
  if (options.prior !== undefined && !(options.prior > 0 && options.prior < 1)) {
    throw new RangeError(`prior must be in (0, 1), got ${options.prior}`);
  }

  // Histogram of vote patterns inside the ROI (a dense table for up to 2^16 patterns).
  const voteCode = (i: number): number => {
    let code = 0;
    for (let j = 0; j < raters; j++) if (masks[j][i] !== 0) code |= 1 << j;
    return code;
  };
  const countByCode = new Map<number, number>();
  if (raters <= DENSE_TABLE_RATERS) {
    const table = new Float64Array(2 ** raters);
    for (let i = 0; i < n; i++) if (roi?.[i] !== 0) table[voteCode(i)]++;
    table.forEach((c, code) => {
      if (c > 0) countByCode.set(code, c);
    });
  } else {
    for (let i = 0; i < n; i++) {
      if (roi && roi[i] === 0) continue;
      const code = voteCode(i);
      countByCode.set(code, (countByCode.get(code) ?? 0) + 1);
    }
  }
  const patterns = [...countByCode.keys()];
  const count = Float64Array.from(patterns, (c) => countByCode.get(c) ?? 0);
  const votes = patterns.map((c) => Array.from({ length: raters }, (_, j) => (c >>> j) & 1));
  const w = Float64Array.from(votes, (v) => v.reduce((s, x) => s + x, 0) / raters);

  let inRoi = 0;
  let voteSum = 0;
  for (let k = 0; k < patterns.length; k++) {
    inRoi += count[k];
    voteSum += count[k] * w[k];
  }
  const g = options.prior ?? (inRoi > 0 ? voteSum / inRoi : 0);

  const p = new Array<number>(raters).fill(Number.NaN);
  const q = new Array<number>(raters).fill(Number.NaN);
  let iterations = 0;
  let converged = false;
  if (g <= 0 || g >= 1) {
    // Every mask empty (or full) in the ROI: nothing to estimate.
    w.fill(g);
    for (let j = 0; j < raters; j++) {
      if (g <= 0) q[j] = 1;
      else p[j] = 1;
    }
    converged = true;
  } else {
    const lastP = new Array<number>(raters).fill(-10);
    const lastQ = new Array<number>(raters).fill(-10);
    for (let iter = 0; iter < maxIter; iter++) {
      iterations = iter + 1;
      // M step: rater performance from the current W.
      let sumW = 0;
      let sumNotW = 0;
      for (let k = 0; k < patterns.length; k++) {
        sumW += count[k] * w[k];
        sumNotW += count[k] * (1 - w[k]);
      }
      for (let j = 0; j < raters; j++) {
        let pNum = 0;
        let qNum = 0;
        for (let k = 0; k < patterns.length; k++) {
          if (votes[k][j] === 1) pNum += count[k] * w[k];
          else qNum += count[k] * (1 - w[k]);
        }
        p[j] = pNum / sumW;
        q[j] = qNum / sumNotW;
      }
      // E step: W per vote pattern from the new p, q.
      for (let k = 0; k < patterns.length; k++) {
        let a = 1;
        let b = 1;
        for (let j = 0; j < raters; j++) {
          if (votes[k][j] === 1) {
            a *= p[j];
            b *= 1 - q[j];
          } else {
            a *= 1 - p[j];
            b *= q[j];
          }
        }
        const denom = g * a + (1 - g) * b;
        w[k] = denom > 0 ? (g * a) / denom : g;
      }
      if (iter > 0 && p.every((v, j) => Math.abs(v - lastP[j]) <= tol && Math.abs(q[j] - lastQ[j]) <= tol)) {
        converged = true;
        break;
      }
      for (let j = 0; j < raters; j++) {
        lastP[j] = p[j];
        lastQ[j] = q[j];
      }
    }
  }

  // Write W back to voxels through their pattern.
  const wByCode = new Map<number, number>();
  patterns.forEach((c, k) => {
    wByCode.set(c, w[k]);
  });
  const wTable = raters <= DENSE_TABLE_RATERS ? new Float64Array(2 ** raters) : undefined;
  if (wTable) for (const [c, wc] of wByCode) wTable[c] = wc;
  const weights = new Float32Array(n);
  const consensus = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (roi && roi[i] === 0) continue;
    const code = voteCode(i);
    const wi = wTable ? wTable[code] : (wByCode.get(code) ?? 0);
    weights[i] = wi;
    consensus[i] = wi >= 0.5 ? 1 : 0;
  }
  return { consensus, weights, sensitivity: p, specificity: q, prior: g, iterations, converged };
}
