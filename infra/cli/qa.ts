/**
 * QA lead commands: scorecards, batches with their scores, the ledger (filters,
 * time order), a case's trace and CSV/JSON exports.
 */
import { type Command, Option } from 'commander';
import { type CommandContext, contextOf, positiveInt } from './context.js';
import { percent, table } from './format.js';
import type { GoldlineIo } from './io.js';
import type { ExpertPanelAgreement } from '../../functions/domain/expert-agreement.js';
import { UsageError } from './profile.js';
import { registerQualityCommands } from './quality.js';
import { registerTraceCommand } from './trace.js';

const QA = 'qa';
const enc = encodeURIComponent;
const programPath = (ctx: CommandContext, rest: string) => `/v1/programs/${enc(ctx.program())}${rest}`;

interface Scorecard {
  workforceId: string;
  protocolId?: string;
  goldN?: number;
  accuracy?: number | null;
  interval?: { lower: number; upper: number } | [number, number] | null;
  batchesAccepted?: number;
  batchesRejected?: number;
  insufficient?: boolean;
  status?: string;
  [k: string]: unknown;
}
interface ScoredBatch {
  batchId: string;
  round: number;
  workforceId: string;
  status: string;
  items: number;
  gold: number;
  score?: { goldN: number; goldCorrect: number; accuracy: number | null; kappa?: number | null; verdict?: string };
}
interface LedgerEvent {
  at: string;
  type: string;
  subject?: string;
  actor?: string;
  reason?: string;
  [k: string]: unknown;
}

const interval = (i: Scorecard['interval']) => {
  if (!i) return '';
  const [lo, hi] = Array.isArray(i) ? i : [i.lower, i.upper];
  return `[${percent(lo)}, ${percent(hi)}]`;
};

export function registerQaCommands(root: Command, io: GoldlineIo): void {
  const qa = root.command('qa').description('QA lead: scorecards, scored batches, ledger, traces, exports');

  qa.command('scorecards')
    .description('per workforce: gold accuracy with its Wilson 95% interval, n, batches accepted/rejected')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, QA);
      const r = await ctx.api.call<{ items: Scorecard[]; expertAgreement?: ExpertPanelAgreement }>('GET', programPath(ctx, '/scorecards'));
      if (ctx.json) return ctx.printJson(r);
      if (r.items.length === 0) io.out('no scorecards yet');
      else
        io.out(
          table(
            ['workforce', 'protocol', 'gold acc', 'interval', 'n', 'accepted', 'rejected', 'status'],
            r.items.map((s) => [s.workforceId, s.protocolId, percent(s.accuracy), interval(s.interval), s.goldN, s.batchesAccepted, s.batchesRejected, s.status ?? (s.insufficient ? 'insufficient gold' : '')]),
          ),
        );
      const panel = r.expertAgreement;
      if (!panel) return;
      io.out('');
      io.out(`expert panel agreement on adjudications: ${panel.note}`);
      if (panel.rows.length > 0) {
        io.out(
          table(
            ['expert', 'compared with', 'n', 'agreed', 'κ'],
            panel.rows.map((a) => [a.expertId, a.comparedWith, a.n, a.agreed, a.kappa === null ? `n/a (${a.kappaNote})` : a.kappa.toFixed(2)]),
          ),
        );
      }
    });

  qa.command('batches')
    .description("the program's batches with their scores (accuracy, κ, gold n)")
    .option('--round <n>', 'one round only', positiveInt('--round', 100_000))
    .action(async (o: { round?: number }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, QA);
      const items = await ctx.api.all<ScoredBatch>(programPath(ctx, '/batches'), { round: o.round });
      if (ctx.json) return ctx.printJson({ items });
      io.out(
        table(
          ['round', 'batch', 'workforce', 'status', 'items', 'gold', 'gold acc', 'κ', 'verdict'],
          items.map((b) => [b.round, b.batchId, b.workforceId, b.status, b.items, b.gold, b.score ? percent(b.score.accuracy) : '', b.score?.kappa?.toFixed(2), b.score?.verdict]),
        ),
      );
    });

  qa.command('ledger')
    .description("the program's ledger in time order")
    .option('--case <id>', 'events about this case')
    .option('--batch <id>', 'events about this batch')
    .option('--workforce <id>', 'events about this workforce')
    .option('--kind <type>', 'an event type (batch.accepted) or family (batch)')
    .option('--limit <n>', 'at most this many events', positiveInt('--limit', 1_000_000), 1000)
    .action(async (o: { case?: string; batch?: string; workforce?: string; kind?: string; limit: number }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, QA);
      const items = (
        await ctx.api.all<LedgerEvent>(programPath(ctx, '/ledger'), { caseId: o.case, batchId: o.batch, workforceId: o.workforce, kind: o.kind }, o.limit)
      ).slice(0, o.limit);
      if (ctx.json) return ctx.printJson({ items });
      for (const e of items) io.out(`${e.at}  ${e.type.padEnd(28)} ${(e.subject ?? '').padEnd(32)} ${e.actor ?? ''}${e.reason ? `  — ${e.reason}` : ''}`);
    });

  // `qa trace` is the top-level `trace` (infra/cli/trace.ts), kept under qa as well.
  registerTraceCommand(qa, io);
  registerQualityCommands(qa, io);

  qa.command('export <what>')
    .description('export scorecards or accepted labels (what: scorecards | labels)')
    .addOption(new Option('--format <format>', 'file format').choices(['csv', 'json']).default('csv'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (what: string, o: { format: 'csv' | 'json'; out?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, QA);
      if (what !== 'scorecards' && what !== 'labels') throw new UsageError(`export takes scorecards or labels (got "${what}")`);
      const r = await ctx.api.call<unknown>('GET', programPath(ctx, `/exports/${what}`), { query: { format: o.format } });
      const text = typeof r === 'string' ? r : JSON.stringify(r, null, 2);
      if (o.out) {
        await io.writeBytes(o.out, text);
        io.err(`wrote ${o.out}`);
      } else io.out(text.replace(/\n$/, ''));
    });
}
