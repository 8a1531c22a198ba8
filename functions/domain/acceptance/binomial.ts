/**
 * Exact binomial probabilities, stable for n up to many thousands: the pmf by
 * Loader's saddle-point form (C. Loader, "Fast and accurate computation of
 * binomial probabilities", 2000 — the algorithm behind R's dbinom and scipy's
 * binom.pmf), in log space so that no term underflows before it is summed. No
 * normal approximation anywhere: acceptance risks are sums of these terms.
 *
 * Conventions: p is the per-item probability of the counted event (here a
 * wrong gold answer, the "defective" of acceptance sampling); k outside 0…n has
 * probability 0; p = 0 and p = 1 are exact point masses.
 */

const LN_2PI = Math.log(2 * Math.PI);

/** ln k! for small k, summed exactly enough (k ≤ 15: terms are small). */
function lnFactorialSmall(k: number): number {
  let s = 0;
  for (let i = 2; i <= k; i++) s += Math.log(i);
  return s;
}

/**
 * Stirling's error δ(n) = ln n! − ln(√(2πn)(n/e)^n), for integer n ≥ 0
 * (Loader 2000, eq. 3; the series coefficients are 1/12, 1/360, 1/1260, 1/1680, 1/1188).
 */
export function stirlingError(n: number): number {
  if (n <= 15) {
    if (n === 0) return 0; // δ(0) is never used with a finite weight; 0 keeps formulas finite.
    return lnFactorialSmall(n) - (n + 0.5) * Math.log(n) + n - 0.5 * LN_2PI;
  }
  const S0 = 1 / 12;
  const S1 = 1 / 360;
  const S2 = 1 / 1260;
  const S3 = 1 / 1680;
  const S4 = 1 / 1188;
  const nn = n * n;
  if (n > 500) return (S0 - S1 / nn) / n;
  if (n > 80) return (S0 - (S1 - S2 / nn) / nn) / n;
  if (n > 35) return (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n;
  return (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n;
}

/**
 * The deviance term x·ln(x/m) + m − x, computed without cancellation when
 * x ≈ m (Loader 2000, eq. 5: a series in v = (x − m)/(x + m)).
 */
export function binomialDeviance(x: number, m: number): number {
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    let v = (x - m) / (x + m);
    let s = (x - m) * v;
    let ej = 2 * x * v;
    v *= v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
    return s;
  }
  return x * Math.log(x / m) + m - x;
}

function assertArgs(n: number, p: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`binomial n must be a whole number ≥ 0, got ${n}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binomial p must be in [0, 1], got ${p}`);
}

/**
 * ln P(X = k) for X ~ Binomial(n, p); −Infinity where the probability is 0.
 *
 * @example Math.exp(binomialLogPmf(1, 13, 0.05)) // 0.35123… = 13·0.05·0.95¹²
 */
export function binomialLogPmf(k: number, n: number, p: number): number {
  assertArgs(n, p);
  if (!Number.isInteger(k) || k < 0 || k > n) return Number.NEGATIVE_INFINITY;
  const q = 1 - p;
  if (p === 0) return k === 0 ? 0 : Number.NEGATIVE_INFINITY;
  if (q === 0) return k === n ? 0 : Number.NEGATIVE_INFINITY;
  if (k === 0) {
    if (n === 0) return 0;
    return p < 0.1 ? -binomialDeviance(n, n * q) - n * p : n * Math.log(q);
  }
  if (k === n) return q < 0.1 ? -binomialDeviance(n, n * p) - n * q : n * Math.log(p);
  const lc =
    stirlingError(n) -
    stirlingError(k) -
    stirlingError(n - k) -
    binomialDeviance(k, n * p) -
    binomialDeviance(n - k, n * q);
  const lf = LN_2PI + Math.log(k) + Math.log1p(-k / n);
  return lc - 0.5 * lf;
}

/** P(X = k) for X ~ Binomial(n, p). */
export const binomialPmf = (k: number, n: number, p: number): number => Math.exp(binomialLogPmf(k, n, p));

/** ln Σ exp(x) without overflow or underflow of the largest term. */
function logSumExp(xs: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const x of xs) if (x > max) max = x;
  if (max === Number.NEGATIVE_INFINITY) return max;
  let s = 0;
  for (const x of xs) s += Math.exp(x - max);
  return max + Math.log(s);
}

function logTerms(from: number, to: number, n: number, p: number): number[] {
  const out: number[] = [];
  for (let k = Math.max(0, from); k <= Math.min(n, to); k++) out.push(binomialLogPmf(k, n, p));
  return out;
}

/** ln P(X ≤ c): the log of an acceptance probability, meaningful even below 1e-300. */
export function binomialLogCdf(c: number, n: number, p: number): number {
  assertArgs(n, p);
  if (c < 0) return Number.NEGATIVE_INFINITY;
  if (c >= n) return 0;
  return logSumExp(logTerms(0, Math.floor(c), n, p));
}

/**
 * P(X ≤ c) for X ~ Binomial(n, p): the acceptance probability of a single
 * sampling plan (n, c) when each gold answer is wrong with probability p.
 * Summed term by term, never as 1 − P(X > c), so a tiny probability keeps its digits.
 *
 * @example binomialCdf(1, 13, 0.05) // 0.86458…
 */
export function binomialCdf(c: number, n: number, p: number): number {
  assertArgs(n, p);
  if (c < 0) return 0;
  if (c >= n) return 1;
  return Math.min(1, sumExp(logTerms(0, Math.floor(c), n, p)));
}

/** P(X > c) for X ~ Binomial(n, p), summed from the upper tail. */
export function binomialSf(c: number, n: number, p: number): number {
  assertArgs(n, p);
  if (c < 0) return 1;
  if (c >= n) return 0;
  return Math.min(1, sumExp(logTerms(Math.floor(c) + 1, n, n, p)));
}

function sumExp(xs: readonly number[]): number {
  // Smallest first: the large terms absorb the rounding of the small ones last.
  const sorted = xs.map(Math.exp).sort((a, b) => a - b);
  let s = 0;
  for (const x of sorted) s += x;
  return s;
}

/** The whole distribution P(X = 0…n) as an array (convolutions in the SPRT's exact OC). */
export function binomialDistribution(n: number, p: number): Float64Array {
  assertArgs(n, p);
  const out = new Float64Array(n + 1);
  for (let k = 0; k <= n; k++) out[k] = binomialPmf(k, n, p);
  return out;
}
