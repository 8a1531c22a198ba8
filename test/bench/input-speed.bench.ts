/**
 * Input speed (issue 14 item 5): reading the bench's 512×512×256 uint8 mask pair
 * from NIfTI (.nii and .nii.gz) and its dense Dice, in Goldline and in Python
 * on the same files, side by side with the ratio Goldline / Python. Figures
 * only, no timed assertion.
 *
 * Goldline: readNifti(readFileSync(path)) for both files; dice() on the masks read;
 * also, Goldline only, the runs an upload is scored from (encodeRle3dLabels).
 * Python (scripts/reference/input_speed_reference.py, Debian's numpy and nibabel,
 * installed with apt-get when root and missing, else "baseline unavailable:
 * <command>"): nib.load(path, mmap=False) + np.asanyarray(dataobj) (uint8 as
 * stored), and 2·count_nonzero(a & b)/(count_nonzero(a) + count_nonzero(b));
 * Dice per label on a 3-label version of the pair: dicePerLabel's single pass
 * against numpy's a == l, b == l per label.
 * Times are the best of 7 runs per read and 25 per Dice, wall clock and CPU (user + system); the files are written to a temporary
 * folder and removed at the end. Run: `npm run bench -- input-speed`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeRle3dLabels, readNifti, writeNifti } from '../../functions/domain/scoring/mask-io.js';
import { dice, dicePerLabel, type Mask3D } from '../../functions/domain/scoring/segmentation.js';
import { fmtMs, row } from './harness.js';
import { ellipsoidPair, PAIR_SPEC } from './masks.js';
import { debianPython } from './python-baseline.js';

/** Runs per step (best kept): reads, and the faster Dice, which a busy machine disturbs more often. */
const REPEAT = { read: 7, dice: 25 };
const SCRIPT = fileURLToPath(new URL('../../scripts/reference/input_speed_reference.py', import.meta.url));

/** Best wall-clock and best CPU time (user + system, this process) of `repeat` runs. */
interface Timing {
  wallMs: number;
  cpuMs: number;
}

/**
 * Runs `fn` `repeat` times (after one GC, when exposed, as the harness does: a
 * forced GC before every run made the next run of some steps twice as slow);
 * keeps the best wall and the best CPU time. CPU time is what other processes
 * on a shared machine disturb least.
 */
function bestOf<T>(fn: () => T, repeat: number): { result: T; t: Timing } {
  let result!: T;
  const t: Timing = { wallMs: Number.POSITIVE_INFINITY, cpuMs: Number.POSITIVE_INFINITY };
  globalThis.gc?.();
  for (let i = 0; i < repeat; i++) {
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    result = fn();
    const wall = performance.now() - wall0;
    const cpu = process.cpuUsage(cpu0);
    t.wallMs = Math.min(t.wallMs, wall);
    t.cpuMs = Math.min(t.cpuMs, (cpu.user + cpu.system) / 1000);
  }
  return { result, t };
}

interface PythonFigures {
  readNii: Timing;
  readGz: Timing;
  dice: Timing;
  diceValue: number;
  perLabel: Timing;
  perLabelValues: Record<string, number>;
  dtype: string;
  shape: number[];
  versions: Record<string, string>;
}

/** The Python baseline's figures, or why there are none. */
function pythonFigures(folder: string): PythonFigures | string {
  const py = debianPython(['numpy', 'nibabel'], ['python3-numpy', 'python3-nibabel']);
  if ('unavailable' in py) return py.unavailable;
  const run = spawnSync(py.python, [SCRIPT, folder, String(REPEAT.read), String(REPEAT.dice)], { encoding: 'utf8', maxBuffer: 1 << 20, timeout: 600_000 });
  if (run.status !== 0) return `${py.python} ${SCRIPT} failed: ${(run.stderr || run.error?.message || '').trim().split('\n').pop()}`;
  return JSON.parse(run.stdout) as PythonFigures;
}

/** Slices per label of the 3-label pair: 256 slices → labels 1, 2, 3 (the Python script's SLAB). */
const SLAB = 86;

/** A 0/1 mask as 3 labels by z slab: a foreground voxel of slice z gets 1 + ⌊z / SLAB⌋. */
function labelled(mask: Mask3D): Mask3D {
  const [nx, ny] = mask.dims;
  const data = Uint8Array.from(mask.data, (v, i) => v * (1 + Math.floor(i / (nx * ny) / SLAB)));
  return { ...mask, data };
}

const sameVoxels = (x: Mask3D, y: Mask3D): boolean => Buffer.compare(x.data, y.data) === 0;
const ratio = (goldline: number, python: number): string => `${(goldline / python).toFixed(2)}×`;

export default async function (): Promise<void> {
  const [a, b] = ellipsoidPair();
  const folder = mkdtempSync(join(tmpdir(), 'goldline-input-speed-'));
  try {
    const files = (ext: string): [string, string] => [join(folder, `a.${ext}`), join(folder, `b.${ext}`)];
    for (const [gzip, ext] of [[false, 'nii'], [true, 'nii.gz']] as const) {
      const [fa, fb] = files(ext);
      writeFileSync(fa, writeNifti(a, { gzip }));
      writeFileSync(fb, writeNifti(b, { gzip }));
    }
    const sizes = (ext: string): string => files(ext).map((f) => `${(readFileSync(f).length / 1e6).toFixed(2)} MB`).join(' + ');
    console.log(`pair: ${PAIR_SPEC.dims.join('×')} uint8, .nii ${sizes('nii')}, .nii.gz ${sizes('nii.gz')} (${folder})`);

    const readPair = (ext: string): [Mask3D, Mask3D] => files(ext).map((f) => readNifti(readFileSync(f))) as [Mask3D, Mask3D];
    const nii = bestOf(() => readPair('nii'), REPEAT.read);
    const gz = bestOf(() => readPair('nii.gz'), REPEAT.read);
    const [ra, rb] = gz.result;
    const readsBack = [...nii.result, ...gz.result].every((m, i) => sameVoxels(m, i % 2 === 0 ? a : b));
    const niiBytes = files('nii').map((f) => readFileSync(f));
    const niiOnly = bestOf(() => niiBytes.map((bytes) => readNifti(bytes)), REPEAT.read);
    const gzBytes = files('nii.gz').map((f) => readFileSync(f));
    const gzOnly = bestOf(() => gzBytes.map((bytes) => readNifti(bytes)), REPEAT.read);
    const denseDice = bestOf(() => dice(ra, rb), REPEAT.dice);
    const encode = bestOf(() => [ra, rb].map((m) => encodeRle3dLabels(m)), REPEAT.read);
    const [la, lb] = [labelled(ra), labelled(rb)];
    const perLabel = bestOf(() => dicePerLabel(la, lb), REPEAT.read);
    const perLabelText = [...perLabel.result].map(([l, r]) => `${l}: ${r.value.toFixed(4)}`).join(', ');

    const py = pythonFigures(folder);
    const baseline = typeof py === 'string' ? undefined : py;
    row('step (both files of the pair)', 'Goldline', 'Python', 'ratio', 'Goldline CPU', 'Python CPU', 'ratio CPU', 'value');
    const line = (step: string, g: Timing, p: Timing | undefined, value = ''): void => {
      const na = (f: (x: Timing) => string): string => (p === undefined ? 'n/a' : f(p));
      row(step, fmtMs(g.wallMs), na((x) => fmtMs(x.wallMs)), na((x) => ratio(g.wallMs, x.wallMs)), fmtMs(g.cpuMs), na((x) => fmtMs(x.cpuMs)), na((x) => ratio(g.cpuMs, x.cpuMs)), value);
    };
    line('read .nii (file → voxels in memory)', nii.t, baseline?.readNii, readsBack ? 'voxels equal' : 'VOXELS DIFFER');
    line('  of which readNifti, bytes in memory', niiOnly.t, undefined);
    line('read .nii.gz (file → voxels in memory)', gz.t, baseline?.readGz);
    line('  of which readNifti, bytes in memory', gzOnly.t, undefined);
    line('dense Dice (uint8 arrays read)', denseDice.t, baseline?.dice, denseDice.result.value.toFixed(6));
    line('runs of every label (encodeRle3dLabels)', encode.t, undefined, `${encode.result.flat().reduce((k, m) => k + m.runs.length / 2, 0)} runs`);
    line('Dice per label, 3-label pair', perLabel.t, baseline?.perLabel, perLabelText);
    console.log(
      `  (best of ${REPEAT.read} reads, ${REPEAT.dice} Dice; ratio = Goldline / Python; targets: read ≤ 1.00×, Dice ≤ 1.20×; ` +
        `load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores)`,
    );
    if (!baseline) {
      console.log(`  baseline unavailable: ${py}`);
      return;
    }
    const v = baseline.versions;
    console.log(
      `  Python ${v.python}, numpy ${v.numpy}, nibabel ${v.nibabel}: nib.load(mmap=False) + np.asanyarray(dataobj) → ${baseline.dtype} ${baseline.shape.join('×')}; ` +
        `Dice ${baseline.diceValue === denseDice.result.value ? 'equal' : `differs: ${baseline.diceValue}`}; ` +
        `per label ${[...perLabel.result].every(([l, r]) => baseline.perLabelValues[String(l)] === r.value) ? 'equal' : `differs: ${JSON.stringify(baseline.perLabelValues)}`}`,
    );
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
