/**
 * `goldline ledger verify [--program P] [--json]`: has the API check the
 * program's hash-chained ledger. Exit 0 with "ledger intact: N events, head
 * #seq hash…" when every event is there, unchanged and in its place; exit 1
 * with one line per problem (naming the event: seq, eventId, type) otherwise.
 * Benign duplicates (an append retried after a crash) are listed and keep exit 0.
 */
import type { Command } from 'commander';
import type { LedgerVerification } from '../../functions/use-cases/ledger-verify.js';
import { contextOf } from './context.js';
import type { GoldlineIo } from './io.js';
import { ReportedFailure } from './profile.js';

/** The verdict as text, one line each (pure: tested without a server). */
export function formatLedgerVerification(v: LedgerVerification): string[] {
  const head = `head #${v.head.seq} ${v.head.hash.slice(0, 16)}…`;
  const anchors = v.anchors.length ? `, ${v.anchors.length} release head${v.anchors.length === 1 ? '' : 's'} checked` : '';
  const out: string[] = [];
  if (v.ok) out.push(`ledger intact: ${v.events} events, ${head}${anchors}`);
  else out.push(`LEDGER BROKEN: ${v.problems.filter((p) => p.kind !== 'duplicate').length} problem(s) in ${v.events} events of ${v.programId} (${head}${anchors})`);
  for (const p of v.problems) out.push(`  ${p.kind === 'duplicate' ? 'note' : p.kind.toUpperCase()}: ${p.message}`);
  return out;
}

export function registerLedgerCommands(root: Command, io: GoldlineIo): void {
  const ledger = root.command('ledger').description("the program's ledger: verify its hash chain (QA, PM)");
  ledger
    .command('verify')
    .description('check that no ledger event was altered, deleted or reordered; exit 1 naming each one that was')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, 'qa');
      const v = await ctx.api.call<LedgerVerification>('GET', `/v1/programs/${encodeURIComponent(ctx.program())}/ledger/verify`);
      if (ctx.json) ctx.printJson(v);
      else {
        const lines = formatLedgerVerification(v);
        if (v.ok) for (const l of lines) io.out(l);
        else for (const l of lines) io.err(l);
      }
      if (!v.ok) throw new ReportedFailure();
    });
}
