/**
 * Benchmark helpers: wall time, CPU and peak memory of a function, printed as
 * figures. Benchmarks print; they never assert a time.
 */
import { performance } from 'node:perf_hooks';

export interface Measurement {
  name: string;
  ms: number;
  /** Peak RSS growth observed while the function ran (bytes), sampled. */
  peakRssDeltaBytes: number;
  /** Heap + external + arrayBuffers growth at the end (bytes). */
  retainedBytes: number;
}

/** Runs `fn` `repeat` times, keeps the best time, samples RSS every 5 ms. */
export async function measure<T>(
  name: string,
  fn: () => T | Promise<T>,
  repeat = 1,
): Promise<{ result: T; m: Measurement }> {
  globalThis.gc?.();
  const before = process.memoryUsage();
  let peak = before.rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  let best = Number.POSITIVE_INFINITY;
  let result!: T;
  try {
    for (let i = 0; i < repeat; i++) {
      const t0 = performance.now();
      result = await fn();
      best = Math.min(best, performance.now() - t0);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
  } finally {
    clearInterval(timer);
  }
  const after = process.memoryUsage();
  return {
    result,
    m: {
      name,
      ms: best,
      peakRssDeltaBytes: Math.max(0, peak - before.rss),
      retainedBytes:
        after.heapUsed + after.external - (before.heapUsed + before.external),
    },
  };
}

export const fmtMs = (ms: number): string =>
  ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;

export const fmtBytes = (b: number): string =>
  b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`;

/** Prints one aligned line of a benchmark table. */
export function row(...cells: (string | number)[]): void {
  console.log(cells.map((c, i) => String(c).padEnd(i === 0 ? 44 : 16)).join(''));
}
