/**
 * Counting kernels behind dense Dice and IoU: |A|, |B| and |A∩B| of two label
 * maps of equal length, read 4 voxels a word (SWAR: a byte lane per voxel, no
 * per-voxel branch or closure), 8 voxels a step, skipping steps that are
 * background in both. Counts are exact integers, so every metric built on them
 * is bit-identical to a voxel-by-voxel count (test/unit/scoring/dense-overlap.test.ts).
 */

/** Voxel counts behind Dice and IoU. */
export interface OverlapCounts {
  sizeA: number;
  sizeB: number;
  intersection: number;
}

/** Per-label voxel counts, indexed by label 0..255 (label 0, background, is not counted). */
export interface LabelCounts {
  a: Float64Array;
  b: Float64Array;
  both: Float64Array;
}

const ONES = 0x01010101;
const LOW7 = 0x7f7f7f7f;
/** Words per flush of the byte-lane accumulators: 2 per step, so a lane holds at most 126 (int32 range). */
const FLUSH_WORDS = 126;

/** Sum of the four byte lanes of `x` (each at most 255). */
function laneSum(x: number): number {
  const pairs = (x & 0x00ff00ff) + ((x >>> 8) & 0x00ff00ff);
  return (pairs & 0xffff) + (pairs >>> 16);
}

/**
 * Two word views over the same voxels of `a` and `b`, starting at the first
 * voxel where `a` is 4-byte aligned (`head` voxels before it are left to the
 * caller). `b`'s voxels are copied once when they cannot be aligned with `a`'s.
 */
function wordViews(a: Uint8Array, b: Uint8Array): { head: number; wa: Uint32Array; wb: Uint32Array } {
  const head = Math.min(a.length, (4 - (a.byteOffset & 3)) & 3);
  const words = (a.length - head) >>> 2;
  if (words === 0) return { head, wa: new Uint32Array(0), wb: new Uint32Array(0) }; // a short mask, maybe not alignable at all
  let bytesB = b.subarray(head);
  if ((bytesB.byteOffset & 3) !== 0) bytesB = new Uint8Array(bytesB.subarray(0, words << 2));
  return {
    head,
    wa: new Uint32Array(a.buffer, a.byteOffset + head, words),
    wb: new Uint32Array(bytesB.buffer, bytesB.byteOffset, words),
  };
}

/**
 * |A|, |B|, |A∩B| of two equal-length label maps. `label` (1..255, checked by
 * the caller) given: voxels equal to it are foreground; omitted: every
 * non-zero voxel.
 *
 * @example
 * countOverlap(Uint8Array.of(0, 1, 2, 1), Uint8Array.of(1, 1, 0, 0)) // { sizeA: 3, sizeB: 2, intersection: 1 }
 */
export function countOverlap(a: Uint8Array, b: Uint8Array, label?: number): OverlapCounts {
  const fg = label === undefined ? (v: number) => (v !== 0 ? 1 : 0) : (v: number) => (v === label ? 1 : 0);
  const { head, wa, wb } = wordViews(a, b);
  let sizeA = 0;
  let sizeB = 0;
  let intersection = 0;
  const scalar = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const fa = fg(a[i]);
      const fb = fg(b[i]);
      sizeA += fa;
      sizeB += fb;
      intersection += fa & fb;
    }
  };
  scalar(0, head);
  // Foreground lanes of a word x: non-zero bytes, (((x & LOW7) + LOW7) | x) has their high bit set;
  // with a label, the bytes of x ^ label·ONES that are zero (the same test, inverted by `flip`).
  const labelWord = label === undefined ? 0 : Math.imul(label, ONES);
  const flip = label === undefined ? 0 : -1;
  const steps = wa.length & ~1;
  for (let w0 = 0; w0 < steps; w0 += FLUSH_WORDS) {
    const end = Math.min(steps, w0 + FLUSH_WORDS);
    let laneA = 0;
    let laneB = 0;
    let laneI = 0;
    for (let w = w0; w < end; w += 2) {
      const a0 = wa[w];
      const a1 = wa[w + 1];
      const b0 = wb[w];
      const b1 = wb[w + 1];
      if ((a0 | a1 | b0 | b1) === 0) continue; // 8 background voxels in both: label 0 is never foreground
      const xa0 = a0 ^ labelWord;
      const xa1 = a1 ^ labelWord;
      const xb0 = b0 ^ labelWord;
      const xb1 = b1 ^ labelWord;
      const fa0 = (((((xa0 & LOW7) + LOW7) | xa0) ^ flip) >>> 7) & ONES;
      const fa1 = (((((xa1 & LOW7) + LOW7) | xa1) ^ flip) >>> 7) & ONES;
      const fb0 = (((((xb0 & LOW7) + LOW7) | xb0) ^ flip) >>> 7) & ONES;
      const fb1 = (((((xb1 & LOW7) + LOW7) | xb1) ^ flip) >>> 7) & ONES;
      laneA += fa0 + fa1;
      laneB += fb0 + fb1;
      laneI += (fa0 & fb0) + (fa1 & fb1);
    }
    sizeA += laneSum(laneA);
    sizeB += laneSum(laneB);
    intersection += laneSum(laneI);
  }
  scalar(head + (steps << 2), a.length);
  return { sizeA, sizeB, intersection };
}

/**
 * Per-label |A|, |B|, |A∩B| of two equal-length label maps in one pass: words
 * background in both are skipped, a word of one label in both counts 4 at once,
 * other words byte by byte.
 *
 * @example
 * countPerLabel(Uint8Array.of(1, 2, 2), Uint8Array.of(1, 2, 0)).both[2] // 1
 */
export function countPerLabel(a: Uint8Array, b: Uint8Array): LabelCounts {
  const ca = new Float64Array(256);
  const cb = new Float64Array(256);
  const ci = new Float64Array(256);
  const one = (va: number, vb: number): void => {
    ca[va]++;
    cb[vb]++;
    if (va === vb) ci[va]++;
  };
  const { head, wa, wb } = wordViews(a, b);
  for (let i = 0; i < head; i++) one(a[i], b[i]);
  for (let w = 0; w < wa.length; w++) {
    const va = wa[w];
    const vb = wb[w];
    if ((va | vb) === 0) continue;
    if (va === vb) {
      const l = va & 0xff;
      if ((va ^ Math.imul(l, ONES)) === 0) {
        ca[l] += 4;
        cb[l] += 4;
        ci[l] += 4;
        continue;
      }
    }
    // Lane order does not matter: the same lane of a and b is the same voxel.
    one(va & 0xff, vb & 0xff);
    one((va >>> 8) & 0xff, (vb >>> 8) & 0xff);
    one((va >>> 16) & 0xff, (vb >>> 16) & 0xff);
    one(va >>> 24, vb >>> 24);
  }
  for (let i = head + (wa.length << 2); i < a.length; i++) one(a[i], b[i]);
  ca[0] = 0;
  cb[0] = 0;
  ci[0] = 0;
  return { a: ca, b: cb, both: ci };
}
