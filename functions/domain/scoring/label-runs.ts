/**
 * Run-length encoding of every label of a dense label map in one pass: what a
 * NIfTI upload becomes before it is scored (label-file.ts → encodeRle3dLabels).
 * Words (4 voxels) that continue the open run — background between runs, or
 * the inside of a run — are passed over whole; only words where a label
 * changes are read voxel by voxel.
 */

const ONES = 0x01010101;

/** A run list that grows by doubling: start, length pairs. */
class RunList {
  runs = new Uint32Array(64);
  size = 0;

  push(start: number, length: number): void {
    if (this.size + 2 > this.runs.length) {
      const grown = new Uint32Array(this.runs.length * 2);
      grown.set(this.runs);
      this.runs = grown;
    }
    this.runs[this.size++] = start;
    this.runs[this.size++] = length;
  }
}

/**
 * The runs of each non-zero label of `data` over its linear index: for each
 * label present, ascending, `start, length` pairs, maximal and sorted — the
 * same runs as `foregroundRuns(mask, label)` label by label.
 *
 * @example
 * labelRuns(Uint8Array.of(0, 2, 2, 1, 0, 2)) // Map { 1 => [3, 1], 2 => [1, 2, 5, 1] }
 */
export function labelRuns(data: Uint8Array): Map<number, Uint32Array> {
  const lists: (RunList | undefined)[] = new Array(256);
  const n = data.length;
  let current = 0; // label of the open run; 0: none open
  let start = 0;
  /** Voxel i holds v: a change of label closes the open run and opens one. */
  const visit = (i: number, v: number): void => {
    if (v === current) return;
    if (current !== 0) {
      let list = lists[current];
      if (!list) list = lists[current] = new RunList();
      list.push(start, i - start);
    }
    current = v;
    start = i;
  };
  const head = Math.min(n, (4 - (data.byteOffset & 3)) & 3);
  for (let i = 0; i < head; i++) visit(i, data[i]);
  const words = (n - head) >>> 2;
  if (words > 0) {
    const view = new Uint32Array(data.buffer, data.byteOffset + head, words);
    for (let w = 0; w < words; w++) {
      // A word of 4 voxels all labelled `current` changes nothing (byte order does not matter for that).
      if ((view[w] ^ Math.imul(current, ONES)) === 0) continue;
      const i = head + (w << 2);
      visit(i, data[i]);
      visit(i + 1, data[i + 1]);
      visit(i + 2, data[i + 2]);
      visit(i + 3, data[i + 3]);
    }
  }
  for (let i = head + (words << 2); i < n; i++) visit(i, data[i]);
  visit(n, 0); // closes the last run
  const out = new Map<number, Uint32Array>();
  for (let label = 1; label < 256; label++) {
    const list = lists[label];
    if (list) out.set(label, list.runs.slice(0, list.size));
  }
  return out;
}
