/**
 * Do two workforces' labels of the same (overlap) case agree? The test follows
 * the protocol's task: the same class; the same findings (every mark of one
 * within a finding radius of a distinct mark of the other); masks whose Dice
 * reaches the protocol's floor for every label.
 */
import type { Task } from './model/index.js';
import { type RleMask3D, diceRle, isDefined } from './scoring/index.js';

export interface LabelContent {
  label?: string;
  findings?: readonly { x: number; y: number; z: number; diameterMm?: number }[];
  masks?: readonly RleMask3D[];
}

export interface Agreement {
  agree: boolean;
  detail: string;
}

/**
 * Agreement of two labels of one case under a task.
 *
 * Detection: marks are paired greedily by distance; a pair counts when the
 * distance is below half the larger diameter (the task's critical diameter when
 * a mark gives none) — the LUNA16 hit rule applied symmetrically. Any unpaired
 * mark is a disagreement.
 *
 * Segmentation: Dice per protocol label from run-length masks; a label empty in
 * both agrees; below `minDice` disagrees.
 *
 * @example overlapAgreement({ type: 'classification', classes: ['a', 'b'], ordinal: false }, { label: 'a' }, { label: 'b' }).agree // false
 */
export function overlapAgreement(task: Task, a: LabelContent, b: LabelContent): Agreement {
  switch (task.type) {
    case 'classification':
      return a.label === b.label
        ? { agree: true, detail: `both "${a.label}"` }
        : { agree: false, detail: `"${a.label}" vs "${b.label}"` };
    case 'detection': {
      const fa = a.findings ?? [];
      const fb = b.findings ?? [];
      const pairs: { i: number; j: number; d: number }[] = [];
      for (const [i, p] of fa.entries()) {
        for (const [j, q] of fb.entries()) {
          const d = Math.hypot(p.x - q.x, p.y - q.y, p.z - q.z);
          const r = Math.max(p.diameterMm ?? task.criticalDiameterMm, q.diameterMm ?? task.criticalDiameterMm) / 2;
          if (d < r) pairs.push({ i, j, d });
        }
      }
      pairs.sort((x, y) => x.d - y.d);
      const usedA = new Set<number>();
      const usedB = new Set<number>();
      for (const p of pairs) {
        if (usedA.has(p.i) || usedB.has(p.j)) continue;
        usedA.add(p.i);
        usedB.add(p.j);
      }
      const unpaired = fa.length - usedA.size + (fb.length - usedB.size);
      return unpaired === 0
        ? { agree: true, detail: `${fa.length} finding(s) each, all paired` }
        : { agree: false, detail: `${fa.length} vs ${fb.length} finding(s), ${unpaired} unpaired` };
    }
    case 'segmentation': {
      const problems: string[] = [];
      const ga = a.masks?.[0]?.dims;
      const gb = b.masks?.[0]?.dims;
      if (ga && gb && ga.some((d, k) => d !== gb[k])) {
        return { agree: false, detail: `masks on different grids [${ga.join('×')}] vs [${gb.join('×')}]` };
      }
      for (const [value, name] of Object.entries(task.labels)) {
        const label = Number(value);
        const ma = a.masks?.find((m) => m.label === label);
        const mb = b.masks?.find((m) => m.label === label);
        const like = ma ?? mb;
        if (!like) continue;
        const empty = { ...like, label, runs: new Uint32Array(0) };
        const d = diceRle(ma ?? empty, { ...(mb ?? empty), spacing: (ma ?? empty).spacing });
        if (isDefined(d) && d.value < task.minDice) problems.push(`${name}: Dice ${d.value.toFixed(3)} below ${task.minDice}`);
      }
      return problems.length === 0
        ? { agree: true, detail: 'masks agree' }
        : { agree: false, detail: problems.join('; ') };
    }
  }
}
