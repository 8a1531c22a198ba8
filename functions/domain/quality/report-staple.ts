/**
 * STAPLE on the cases three or more raters segmented (Warfield et al. 2004;
 * functions/domain/scoring/staple.ts, as ITK's STAPLEImageFilter): per case and
 * structure, the consensus size and each rater's sensitivity and specificity
 * against it; per rater, the mean over the cases it segmented. Masks are
 * handed in decoded (the use case reads them from the uploads, bounded).
 */
import type { z } from 'zod';
import { type RleMask3D, staple } from '../scoring/index.js';
import type { StapleFigures } from './report-schema.js';

/** The masks of one case: one per rater (each a list of run-length labels on one grid). */
export interface StapleCaseMasks {
  caseId: string;
  raters: { rater: string; masks: RleMask3D[] }[];
}

const voxels = (dims: readonly number[]) => dims[0] * dims[1] * dims[2];

/** A binary mask of one label value (all zero when the rater drew none). */
function binary(masks: readonly RleMask3D[], label: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (const m of masks) {
    if (m.label !== label) continue;
    for (let k = 0; k < m.runs.length; k += 2) out.fill(1, m.runs[k], m.runs[k] + m.runs[k + 1]);
  }
  return out;
}

const nullIfNaN = (x: number) => (Number.isFinite(x) ? x : null);

/**
 * STAPLE per case and structure over the raters' masks.
 *
 * @example stapleView([{ caseId: 'abd-001', raters: [a, b, c] }], { '1': 'liver' }).cases[0].raters[0].sensitivity
 */
export function stapleView(cases: readonly StapleCaseMasks[], structures: Readonly<Record<string, string>>): z.infer<typeof StapleFigures> {
  const out: z.infer<typeof StapleFigures>['cases'] = [];
  const notes: string[] = [];
  for (const c of cases) {
    if (c.raters.length < 3) continue;
    const grids = c.raters.map((r) => r.masks[0]?.dims.join('×') ?? 'none');
    if (new Set(grids).size !== 1 || grids[0] === 'none') {
      notes.push(`${c.caseId}: the raters' masks are not on one grid (${grids.join(', ')}); STAPLE skipped`);
      continue;
    }
    const n = voxels(c.raters[0].masks[0].dims);
    for (const [value, structure] of Object.entries(structures)) {
      const r = staple(c.raters.map((x) => binary(x.masks, Number(value), n)));
      let consensusVoxels = 0;
      for (const v of r.consensus) consensusVoxels += v;
      out.push({
        caseId: c.caseId,
        structure,
        consensusVoxels,
        iterations: r.iterations,
        converged: r.converged,
        raters: c.raters.map((x, i) => ({ rater: x.rater, sensitivity: nullIfNaN(r.sensitivity[i]), specificity: nullIfNaN(r.specificity[i]) })),
      });
    }
  }
  const byRater = new Map<string, { sens: number[]; spec: number[]; cases: Set<string> }>();
  for (const c of out) {
    for (const r of c.raters) {
      const a = byRater.get(r.rater) ?? { sens: [], spec: [], cases: new Set<string>() };
      byRater.set(r.rater, a);
      a.cases.add(c.caseId);
      if (r.sensitivity !== null) a.sens.push(r.sensitivity);
      if (r.specificity !== null) a.spec.push(r.specificity);
    }
  }
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);
  const raters = [...byRater.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([rater, a]) => ({ rater, cases: a.cases.size, meanSensitivity: mean(a.sens), meanSpecificity: mean(a.spec) }));
  return { cases: out, raters, notes };
}
