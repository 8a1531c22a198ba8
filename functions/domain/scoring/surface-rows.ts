/**
 * Masks as per-row foreground intervals, the form every surface computation
 * starts from (voxel surfaces in surface.ts, DeepMind surfels in surfels.ts):
 * dense label maps and run-length masks alike, never expanded to a volume.
 */
import {
  assertMask,
  assertRuns,
  foregroundRuns,
  type Mask3D,
  type RleMask3D,
  voxelCount,
} from './segmentation.js';

/** A dense label map or a run-length mask. */
export type AnyMask = Mask3D | RleMask3D;

export const isRle = (m: AnyMask): m is RleMask3D => 'runs' in m;

/** Per-row foreground intervals [x0, x1) of a mask; rows are r = y + ny·z. */
export interface RowRuns {
  rowPtr: Uint32Array;
  x0: Uint32Array;
  x1: Uint32Array;
}

/** Splits linear runs at row ends and joins touching pieces, giving maximal intervals per row. */
export function toRowRuns(runs: Uint32Array, nx: number, rows: number): RowRuns {
  let bound = 0;
  for (let k = 0; k < runs.length; k += 2) {
    if (runs[k + 1] === 0) continue;
    const first = Math.floor(runs[k] / nx);
    const last = Math.floor((runs[k] + runs[k + 1] - 1) / nx);
    bound += last - first + 1;
  }
  const x0 = new Uint32Array(bound);
  const x1 = new Uint32Array(bound);
  const rowPtr = new Uint32Array(rows + 1);
  let n = 0;
  let filledRows = 0; // rowPtr[0..filledRows] are final
  let lastRow = -1;
  let lastEnd = -1;
  for (let k = 0; k < runs.length; k += 2) {
    let s = runs[k];
    const e = s + runs[k + 1];
    while (s < e) {
      const row = Math.floor(s / nx);
      const rowBase = row * nx;
      const segEnd = Math.min(e, rowBase + nx);
      if (row === lastRow && s === lastEnd) {
        x1[n - 1] = segEnd - rowBase;
      } else {
        while (filledRows <= row) rowPtr[filledRows++] = n;
        x0[n] = s - rowBase;
        x1[n] = segEnd - rowBase;
        n++;
      }
      lastRow = row;
      lastEnd = segEnd;
      s = segEnd;
    }
  }
  while (filledRows <= rows) rowPtr[filledRows++] = n;
  return { rowPtr, x0, x1 };
}

/** Foreground runs of a mask: its own runs (checked), or those of `label` in a dense map. */
export function runsOf(mask: AnyMask, label: number | undefined): Uint32Array {
  if (isRle(mask)) {
    assertRuns(mask.runs, voxelCount(mask.dims));
    return mask.runs;
  }
  assertMask(mask);
  return foregroundRuns(mask, label);
}

