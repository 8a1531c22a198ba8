/**
 * Vendor dispute commands: dispute a rejected batch (or one item of it, by
 * alias) with a reason, list your disputes, show one. An expert decides a
 * dispute with `goldline expert adjudications decide`.
 */
import type { Command } from 'commander';
import type { DisputeView, ProgramDisputeView } from '../../functions/use-cases/disputes.js';
import { contextOf } from './context.js';
import { table } from './format.js';
import type { GoldlineIo } from './io.js';

const enc = encodeURIComponent;

function printDispute(io: GoldlineIo, d: DisputeView): void {
  io.out(`${d.disputeId}  ${d.status}  batch ${d.batchId}${d.alias ? ` item ${d.alias}` : ''}`);
  io.out(`  reason: ${d.reason}`);
  io.out(`  opened ${d.openedAt}${d.deadline ? ` · deadline ${d.deadline}` : ''}${d.decidedAt ? ` · decided ${d.decidedAt}` : ''}`);
  if (d.outcome) io.out(`  ${d.outcome}`);
  if (d.rescore) io.out(`  batch re-scored: ${d.rescore.before} → ${d.rescore.after}`);
}

export function registerDisputeCommands(root: Command, io: GoldlineIo): void {
  const dispute = root.command('dispute').description('vendor: dispute the gold answers that rejected your batch (--as vendor-b)');
  dispute
    .command('open <batchId>')
    .description('dispute a rejected batch of yours, or one item of it (--alias); an expert reviews the gold by the deadline')
    .requiredOption('--reason <text>', 'why the gold answer is wrong (at least 10 characters)')
    .option('--alias <alias>', 'the one item you dispute (as your manifest names it)')
    .action(async (batchId: string, o: { reason: string; alias?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, undefined);
      const body = { reason: o.reason, ...(o.alias ? { alias: o.alias } : {}) };
      const d = await ctx.api.call<DisputeView>('POST', `/v1/batches/${enc(batchId)}/disputes`, { body });
      if (ctx.json) return ctx.printJson(d);
      printDispute(io, d);
    });
  dispute
    .command('list')
    .description('your disputes, newest first')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, undefined);
      const r = await ctx.api.call<{ items: DisputeView[] }>('GET', '/v1/disputes');
      if (ctx.json) return ctx.printJson(r);
      if (r.items.length === 0) return io.out('no disputes');
      io.out(
        table(
          ['dispute', 'batch', 'item', 'status', 'opened', 'deadline', 're-score'],
          r.items.map((d) => [d.disputeId, d.batchId, d.alias, d.status, d.openedAt, d.deadline, d.rescore ? `${d.rescore.before} → ${d.rescore.after}` : undefined]),
        ),
      );
    });
  dispute
    .command('all')
    .description("PM, QA: every dispute of the program — who disputed, the gold items reviewed, status and the ledger's reason (--as qa)")
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, 'qa');
      const r = await ctx.api.call<{ items: ProgramDisputeView[] }>('GET', `/v1/programs/${enc(ctx.program())}/disputes`);
      if (ctx.json) return ctx.printJson(r);
      if (r.items.length === 0) return io.out('no disputes');
      io.out(
        table(
          ['dispute', 'vendor', 'gold items', 'status', 'decided by', 'reason'],
          r.items.map((d) => [d.disputeId, d.workforceId, d.goldCaseIds.join(' '), d.status, d.decidedBy, d.ledgerReason ?? d.reason]),
        ),
      );
    });
  dispute
    .command('show <disputeId>')
    .description('one of your disputes: status, outcome and the re-score of its batch')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, undefined);
      const d = await ctx.api.call<DisputeView>('GET', `/v1/disputes/${enc(id)}`);
      if (ctx.json) return ctx.printJson(d);
      printDispute(io, d);
    });
}
