/**
 * DynamoDB requests counted by who made them: per command, the adapter method
 * that sent it and the use case (or demo harness step) above that, the calls,
 * the items returned and their bytes. A read whose items per call grow with the
 * round is the first thing to look for when a round slows as it grows: that is
 * how session 6 found the two reads that made a 100,000-case round's vendors'
 * phase slow (docs/scale.md, "Rounds of any size").
 *
 * Opt-in (`GOLDLINE_BENCH_BY_CALLER=1` for round-100k): it takes a stack trace
 * per request, which costs CPU the round's own figures would include.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface CallerRow {
  command: string;
  caller: string;
  calls: number;
  items: number;
  bytes: number;
}

/** A stack frame's function and file:line below functions/ or infra/ (`Class.method (adapters/x.ts:1:2)`), undefined for another frame. */
function frameOf(line: string): string | undefined {
  const m = line.trim().match(/^at (?:async )?(?:(.+?) \()?(?:file:\/\/)?[^()]*?\/((?:functions|infra)\/[^()]+?)\)?$/);
  if (!m) return undefined;
  return `${m[1] ?? '<anonymous>'} (${m[2].replace(/^functions\//, '').replace(/^infra\//, '')})`;
}

/**
 * Who sent a request, from the stack where it was sent: the outermost adapter
 * method (the port method a use case called; request counters and query helpers
 * passed over) and the first frame outside the adapters —
 * `DynamoRepository.listRoundBatches (adapters/…) <= carriesHeld (use-cases/…)`.
 */
export function callerOf(stack: string): string {
  const frames = stack
    .split('\n')
    .slice(1)
    .map(frameOf)
    .filter((f): f is string => f !== undefined && !/request-(recorder|counter)\.ts|dynamo-query\.ts/.test(f));
  const inAdapter = (f: string | undefined) => f?.includes('(adapters/') ?? false;
  const i = frames.findIndex((f) => !inAdapter(f));
  const above = i === -1 ? undefined : frames[i];
  const port = i === -1 ? frames.at(-1) : inAdapter(frames[i - 1]) ? frames[i - 1] : undefined;
  return [port, above].filter(Boolean).join(' <= ') || '(outside Goldline)';
}

export class CallerMeter {
  private readonly rows = new Map<string, CallerRow>();

  /** Counts every request `client` sends from now on. */
  attach(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName ?? '?').replace(/Command$/, '');
        const caller = callerOf(new Error().stack ?? '');
        const out = await next(args);
        const o = (out.output ?? {}) as { Items?: unknown[]; Item?: unknown; Count?: number };
        const key = `${command}\u0000${caller}`;
        const row = this.rows.get(key) ?? { command, caller, calls: 0, items: 0, bytes: 0 };
        row.calls++;
        row.items += o.Items ? o.Items.length : o.Item ? 1 : 0;
        row.bytes += o.Items ? JSON.stringify(o.Items).length : o.Item ? JSON.stringify(o.Item).length : 0;
        this.rows.set(key, row);
        return out;
      },
      { step: 'initialize', name: 'goldline-caller-meter' },
    );
  }

  reset(): void {
    this.rows.clear();
  }

  /** The rows, most bytes returned first. */
  snapshot(): CallerRow[] {
    return [...this.rows.values()].sort((a, b) => b.bytes - a.bytes || b.calls - a.calls);
  }
}

/** The `top` rows as lines: calls, items (and per call), MB returned, command and caller. */
export function formatCallerRows(rows: readonly CallerRow[], top = 12): string[] {
  return rows
    .slice(0, top)
    .map(
      (r) =>
        `${String(r.calls).padStart(7)} calls ${String(r.items).padStart(9)} items (${(r.items / Math.max(r.calls, 1)).toFixed(1).padStart(7)} a call) ${(r.bytes / 1e6).toFixed(1).padStart(7)} MB  ${r.command} ${r.caller}`,
    );
}
