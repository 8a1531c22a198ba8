/**
 * Agreement and consensus at scale: Cohen's κ (unweighted and quadratic) on
 * 1,000,000 label pairs and Dawid–Skene on 10,000 items × 5 annotators. Where
 * Debian's /usr/bin/python3 has scikit-learn, the same κ runs there on the same
 * data (passed through a temp file) and the ratio python / ours is printed.
 *
 * Run: `npx tsx test/bench/run.ts scoring-classification`. Prints; never asserts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cohenKappa, type KappaWeights } from '../../functions/domain/scoring/classification.js';
import { type LabelAnnotation, dawidSkene } from '../../functions/domain/scoring/consensus.js';
import { seededRandom } from '../../functions/domain/scoring/uncertainty.js';
import { fmtMs, measure, row } from './harness.js';

const PAIRS = 1_000_000;
const GRADES = [0, 1, 2, 3, 4];
const ITEMS = 10_000;
const ANNOTATORS = 5;
const PYTHON = '/usr/bin/python3';

/** Two readers on a 5-grade scale: the second copies the first 70% of the time. */
function labelPairs(n: number, seed: number): { a: Int32Array; b: Int32Array } {
  const rand = seededRandom(seed);
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = Math.floor(rand() * GRADES.length);
    b[i] = rand() < 0.7 ? a[i] : Math.floor(rand() * GRADES.length);
  }
  return { a, b };
}

/** Annotators with accuracies 0.9…0.6 on three classes. */
function crowd(items: number, annotators: number, seed: number): LabelAnnotation[] {
  const rand = seededRandom(seed);
  const out: LabelAnnotation[] = [];
  for (let i = 0; i < items; i++) {
    const truth = Math.floor(rand() * 3);
    for (let j = 0; j < annotators; j++) {
      const right = rand() < 0.9 - 0.075 * j;
      out.push({ item: i, annotator: j, label: right ? truth : (truth + 1 + Math.floor(rand() * 2)) % 3 });
    }
  }
  return out;
}

interface PythonTimes {
  none: { ms: number; kappa: number };
  quadratic: { ms: number; kappa: number };
  sklearn: string;
}

/** Times sklearn's cohen_kappa_score on the same arrays; null when unavailable. */
function sklearnKappa(a: Int32Array, b: Int32Array): PythonTimes | null {
  if (!existsSync(PYTHON)) return null;
  const dir = mkdtempSync(join(tmpdir(), 'goldline-kappa-'));
  try {
    writeFileSync(join(dir, 'a.i32'), a);
    writeFileSync(join(dir, 'b.i32'), b);
    const script = `
import json, sys, time
import numpy as np
import sklearn
from sklearn.metrics import cohen_kappa_score
d = sys.argv[1]
a = np.fromfile(d + "/a.i32", dtype=np.int32)
b = np.fromfile(d + "/b.i32", dtype=np.int32)
labels = ${JSON.stringify(GRADES)}
out = {"sklearn": sklearn.__version__}
for name, w in (("none", None), ("quadratic", "quadratic")):
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        k = cohen_kappa_score(a, b, labels=labels, weights=w)
        best = min(best, (time.perf_counter() - t0) * 1000)
    out[name] = {"ms": best, "kappa": float(k)}
print(json.dumps(out))
`;
    const run = spawnSync(PYTHON, ['-c', script, dir], { encoding: 'utf8' });
    if (run.status !== 0) {
      console.log(`(sklearn comparison skipped: ${run.stderr.trim().split('\n').pop()})`);
      return null;
    }
    return JSON.parse(run.stdout) as PythonTimes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function (): Promise<void> {
  const { a, b } = labelPairs(PAIRS, 20240611);
  // The public API takes label arrays (as a caller would pass them), not typed arrays.
  const aLabels = Array.from(a);
  const bLabels = Array.from(b);

  const ours: Record<'none' | 'quadratic', { ms: number; kappa: number }> = {
    none: { ms: 0, kappa: 0 },
    quadratic: { ms: 0, kappa: 0 },
  };
  for (const weights of ['none', 'quadratic'] as const satisfies readonly KappaWeights[]) {
    const { result, m } = await measure(
      `cohenKappa ${weights}`,
      () => cohenKappa(aLabels, bLabels, { weights, labels: GRADES }),
      3,
    );
    ours[weights] = { ms: m.ms, kappa: result.value };
  }
  const python = sklearnKappa(a, b);

  row('measurement', 'goldline', python ? `sklearn ${python.sklearn}` : 'sklearn', 'python / ours');
  for (const weights of ['none', 'quadratic'] as const) {
    const py = python?.[weights];
    row(
      `Cohen κ (${weights}), ${PAIRS.toLocaleString('en')} pairs`,
      fmtMs(ours[weights].ms),
      py ? fmtMs(py.ms) : 'n/a',
      py ? `${(py.ms / ours[weights].ms).toFixed(1)}×` : 'n/a',
    );
    if (py && Math.abs(py.kappa - ours[weights].kappa) > 1e-9) {
      console.log(`  ! κ differs: ours ${ours[weights].kappa}, sklearn ${py.kappa}`);
    }
  }

  const annotations = crowd(ITEMS, ANNOTATORS, 7);
  const { result: ds, m } = await measure('dawidSkene', () => dawidSkene(annotations), 3);
  row(
    `Dawid–Skene, ${ITEMS.toLocaleString('en')} items × ${ANNOTATORS} annotators`,
    fmtMs(m.ms),
    `${ds.iterations} iterations`,
    ds.converged ? 'converged' : 'not converged',
  );
}
