/** Human output: aligned tables and a progress bar on stderr (only on a terminal). */
import type { GoldlineIo } from './io.js';

export type Cell = string | number | boolean | undefined | null;

/** Left-aligned columns (numbers right-aligned), two spaces apart, with a header row. */
export function table(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = (c: Cell) => (c === undefined || c === null ? '' : String(c));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => text(r[i]).length)));
  const line = (r: readonly Cell[]) =>
    r
      .map((c, i) => (typeof c === 'number' ? text(c).padStart(widths[i]) : text(c).padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export const percent = (x: number | undefined | null): string => (typeof x === 'number' ? `${(x * 100).toFixed(1)}%` : 'n/a');

export interface Progress {
  tick(n?: number): void;
  done(): void;
}

/** A progress bar for `total` steps, redrawn in place on stderr; silent when stderr is not a terminal. */
export function progress(io: GoldlineIo, label: string, total: number): Progress {
  if (!io.errIsTTY || total <= 0) return { tick: () => {}, done: () => {} };
  let n = 0;
  let drawn = -1;
  const draw = () => {
    const width = 30;
    const filled = Math.round((n / total) * width);
    if (filled === drawn && n !== total) return;
    drawn = filled;
    io.errRaw(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${n}/${total}`);
  };
  draw();
  return {
    tick(k = 1) {
      n = Math.min(total, n + k);
      draw();
    },
    done() {
      n = total;
      draw();
      io.errRaw('\n');
    },
  };
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]);
    }),
  );
  return out;
}
