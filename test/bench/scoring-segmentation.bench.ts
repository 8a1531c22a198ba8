/**
 * Segmentation metrics at clinical size: a 512×512×256 ellipsoid pair at
 * 0.7×0.7×2.5 mm (the second shifted and resized a little; test/bench/masks.ts).
 *
 * Prints: Dice from dense masks and from run lengths, run-length encoding,
 * HD95 (with HD, ASSD, NSD@1,2 mm) from dense and run-length masks, peak memory
 * per voxel; then the same in numpy/scipy (scripts/reference/segmentation_reference.py)
 * (Debian's /usr/bin/python3, installed with apt-get when root and missing, else
 * "baseline unavailable: <command>"), with time ratios and whether the values are equal.
 * The scipy EDT runs on the union bounding box (as MONAI crops) unless
 * GOLDLINE_BENCH_FULL=1 asks for the whole volume (~35 s per direction).
 *
 * Targets: HD95 < 1 s with the full-EDT value; run-length Dice ≥ 10× faster
 * than numpy's dense Dice. Run: `NODE_OPTIONS=--expose-gc npx tsx test/bench/run.ts scoring-segmentation`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeRle3d } from '../../functions/domain/scoring/mask-io.js';
import { dice, diceRle } from '../../functions/domain/scoring/segmentation.js';
import { type SurfaceDistances, surfaceDistances } from '../../functions/domain/scoring/surface.js';
import { fmtBytes, fmtMs, measure, row } from './harness.js';
import { ellipsoidPair, PAIR_SPEC } from './masks.js';
import { debianPython, PYTHON } from './python-baseline.js';

const SPEC = { ...PAIR_SPEC, tolerances: [1, 2] };

const REFERENCE_SCRIPT = fileURLToPath(new URL('../../scripts/reference/segmentation_reference.py', import.meta.url));

/**
 * Peak resident memory added while `fn` runs, from the kernel's high-water mark
 * (reset through /proc/self/clear_refs): a synchronous computation gives a
 * sampling timer no chance to run. Falls back to the harness figure elsewhere.
 */
function peakRssDuring<T>(fn: () => T): { result: T; peakBytes: number | undefined } {
  const status = (key: string): number | undefined => {
    const m = readFileSync('/proc/self/status', 'utf8').match(new RegExp(`${key}:\\s+(\\d+) kB`));
    return m ? Number(m[1]) * 1024 : undefined;
  };
  globalThis.gc?.();
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    return { result: fn(), peakBytes: undefined };
  }
  const before = status('VmRSS');
  const result = fn();
  const peak = status('VmHWM');
  return { result, peakBytes: before !== undefined && peak !== undefined ? peak - before : undefined };
}

interface PythonFigures {
  dice: number;
  diceMs: number;
  surfaceMs: number;
  region: string;
  regionShape: number[];
  hd: number;
  hd95: number;
  assd: number;
  nsd: Record<string, number>;
  surfaceVoxels: { a: number; b: number };
}

function runPython(full: boolean): PythonFigures | string {
  const py = debianPython(['numpy', 'scipy'], ['python3-numpy', 'python3-scipy']);
  if ('unavailable' in py) return py.unavailable;
  const args = [REFERENCE_SCRIPT, 'bench', '--spec', JSON.stringify(SPEC), ...(full ? ['--full'] : [])];
  const run = spawnSync(py.python, args, { encoding: 'utf8', maxBuffer: 1 << 20, timeout: 600_000 });
  if (run.status !== 0) return `python failed: ${(run.stderr || run.error?.message || '').trim().split('\n').pop()}`;
  return JSON.parse(run.stdout) as PythonFigures;
}

const same = (x: number, y: number): string => (x === y ? 'equal' : `differ by ${Math.abs(x - y).toExponential(2)}`);

export default async function (): Promise<void> {
  const voxels = SPEC.dims[0] * SPEC.dims[1] * SPEC.dims[2];
  const [a, b] = ellipsoidPair();
  console.log(`grid ${SPEC.dims.join('×')} at ${SPEC.spacing.join('×')} mm (${(voxels / 1e6).toFixed(1)} M voxels)`);
  row('step', 'time', 'peak RSS', 'B/voxel', 'value');

  // Memory first, while the allocator has not yet kept pages from earlier runs.
  const options = { tolerances: SPEC.tolerances };
  const memory = peakRssDuring(() => surfaceDistances(a, b, options));

  const denseDice = await measure('dice (dense)', () => dice(a, b), 3);
  row('Dice, dense masks', fmtMs(denseDice.m.ms), '', '', denseDice.result.value.toFixed(6));

  const encoded = await measure('encodeRle3d ×2', () => [encodeRle3d(a), encodeRle3d(b)] as const, 3);
  const [ra, rb] = encoded.result;
  row('run-length encode, both masks', fmtMs(encoded.m.ms), '', '', `${(ra.runs.length + rb.runs.length) / 2} runs`);

  const rleDice = await measure('diceRle', () => diceRle(ra, rb), 20);
  row('Dice, run-length masks (merge-walk)', fmtMs(rleDice.m.ms), '', '', rleDice.result.value.toFixed(6));

  const timed = await measure('surfaceDistances (dense)', () => surfaceDistances(a, b, options), 3);
  const peak = memory.peakBytes === undefined ? 'n/a' : fmtBytes(memory.peakBytes);
  const perVoxel = memory.peakBytes === undefined ? 'n/a' : (memory.peakBytes / voxels).toFixed(3);
  row('HD95 + HD, ASSD, NSD@1,2 mm (dense)', fmtMs(timed.m.ms), peak, perVoxel, timed.result.hd95.value.toFixed(6));
  const fromRuns = await measure('surfaceDistances (rle)', () => surfaceDistances(ra, rb, options), 3);
  row('HD95 + HD, ASSD, NSD@1,2 mm (run-length)', fmtMs(fromRuns.m.ms), '', '', fromRuns.result.hd95.value.toFixed(6));
  console.log('  (time: best of 3; peak RSS: kernel high-water mark of the first dense run, beyond the two input masks)');
  const r: SurfaceDistances = timed.result;
  console.log(
    `  HD ${r.hd.value.toFixed(6)} mm, HD95 ${r.hd95.value.toFixed(6)} mm, ASSD ${r.assd.value.toFixed(6)} mm, ` +
      `NSD@1 ${r.nsd[1].value.toFixed(6)}, NSD@2 ${r.nsd[2].value.toFixed(6)}, surface voxels ${r.surfaceVoxels.a} + ${r.surfaceVoxels.b}`,
  );

  const full = process.env.GOLDLINE_BENCH_FULL === '1';
  console.log(`\nnumpy/scipy reference (${PYTHON}; EDT on ${full ? 'the full volume' : 'the union bounding box, GOLDLINE_BENCH_FULL=1 for the full volume'})`);
  const py = runPython(full);
  if (typeof py === 'string') {
    console.log(`  baseline unavailable: ${py}`);
    return;
  }
  row('numpy dense Dice (count_nonzero)', fmtMs(py.diceMs), '', '', py.dice.toFixed(6));
  row(`scipy EDT metrics, ${py.regionShape.join('×')} (z,y,x)`, fmtMs(py.surfaceMs), '', '', py.hd95.toFixed(6));
  console.log(`  region: ${py.region}`);
  row('ratio numpy Dice / run-length Dice', `${(py.diceMs / rleDice.m.ms).toFixed(0)}×`, '', '', '(target ≥ 10×)');
  row('ratio numpy Dice / dense Dice', `${(py.diceMs / denseDice.m.ms).toFixed(2)}×`);
  row('ratio scipy EDT / Goldline surface metrics', `${(py.surfaceMs / timed.m.ms).toFixed(0)}×`);
  console.log(
    `  HD95 ${same(r.hd95.value, py.hd95)}; HD ${same(r.hd.value, py.hd)}; ASSD ${same(r.assd.value, py.assd)}; ` +
      `NSD@1 ${same(r.nsd[1].value, py.nsd['1'])}; NSD@2 ${same(r.nsd[2].value, py.nsd['2'])}; ` +
      `Dice ${same(denseDice.result.value, py.dice)}; surface voxels ${
        r.surfaceVoxels.a === py.surfaceVoxels.a && r.surfaceVoxels.b === py.surfaceVoxels.b ? 'equal' : 'differ'
      }`,
  );
}
