/**
 * The committed scipy/numpy reference (test/fixtures/reference/acceptance.json),
 * typed. Regenerate with `python3 scripts/reference/acceptance_reference.py`.
 */
import { readFileSync } from 'node:fs';

export interface SpecRef {
  aql: number;
  rql: number;
  alpha: number;
  beta: number;
}

export interface Reference {
  scipy: string;
  binomial: { n: number; p: number; k: number; pmf: number; logpmf: number; cdf: number; sf: number }[];
  plans: { spec: SpecRef; plan: { n: number; c: number; alpha: number; beta: number } }[];
  iso: {
    letter: string;
    letterN: number;
    aqlPercent: number;
    usedLetter: string;
    n: number;
    ac: number;
    re: number;
    pAcceptAtAql: number;
    lq10: number;
    oc: { accuracy: number; pAccept: number }[];
  }[];
  sprt: {
    spec: SpecRef;
    lookEvery: number;
    perBatch: boolean;
    wald: { accept: number; reject: number; slope: number; h0: number; h1: number; wrong: number; right: number };
    shrinkSteps: number;
    maxItems: number;
    terminalC: number;
    oc: {
      accuracy: number;
      pAccept: number;
      pReject: number;
      expectedItems: number;
      rejectedWorkShare: number;
      acceptedWorkShare: number;
    }[];
  }[];
}

export const reference = JSON.parse(
  readFileSync(new URL('../../../fixtures/reference/acceptance.json', import.meta.url), 'utf8'),
) as Reference;

/** |a − b| ≤ tol·max(|b|, tiny): a relative comparison that also works at 1e-300. */
export function relativeError(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(b), Number.MIN_VALUE);
}
