/**
 * `goldline pm workforce cap|uncap|move` (PM): a vendor's share cap and moving
 * pending work to another workforce, each with a reason kept in the ledger
 * (docs/vendor-management.md, Manual control). Pause and resume are
 * `pm workforce pause|resume --reason`.
 */
import type { Command } from 'commander';
import { contextOf, protocolRefOption } from './context.js';
import type { GoldlineIo } from './io.js';
import { UsageError } from './profile.js';

const PM = 'pm';
const enc = encodeURIComponent;

function shareOption(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 1) throw new UsageError(`<cap> must be a share above 0 and at most 1, e.g. 0.2 (got "${value}")`);
  return n;
}

export function registerManualControlCommands(workforce: Command, io: GoldlineIo): void {

  const capPath = (program: string, w: string) => `/v1/programs/${enc(program)}/workforces/${enc(w)}/share-cap`;
  const say = (r: { workforceId: string; cap: number | null; from: number | null; changed: boolean }) =>
    !r.changed
      ? `workforce ${r.workforceId}: cap already ${r.cap === null ? 'none' : r.cap} (nothing recorded)`
      : `workforce ${r.workforceId}: share cap ${r.from === null ? 'none' : r.from} → ${r.cap === null ? 'none' : r.cap}`;

  for (const [usage, description] of [
    ['cap <workforceId> <cap>', "cap the vendor's share of the vendor pool from the next round on (e.g. 0.2: at most 20% of the vendor cases)"],
    ['uncap <workforceId>', "remove the vendor's share cap"],
  ] as const) {
    workforce
      .command(usage)
      .description(description)
      .requiredOption('--reason <text>', 'why (kept in the ledger)')
      .action(async (workforceId: string, ...rest: unknown[]) => {
        // commander passes <cap> only to `cap`: the options object and the command come last.
        const cmd = rest.at(-1) as Command;
        const o = rest.at(-2) as { reason: string };
        const cap = usage.startsWith('cap ') ? shareOption(rest[0] as string) : null;
        const ctx = await contextOf(cmd, io, PM);
        const r = await ctx.api.call<{ workforceId: string; cap: number | null; from: number | null; changed: boolean }>('PUT', capPath(ctx.program(), workforceId), {
          body: { cap, reason: o.reason },
        });
        if (ctx.json) return ctx.printJson(r);
        io.out(say(r));
      });
  }

  workforce
    .command('move <from> <to>')
    .description("move pending work: an open batch of <from> (--batch) or cases a PM had assigned to <from> (--cases); the next round sends them to <to>")
    .option('--batch <batchId>', 'a batch of <from> that is planned or awaiting its upload')
    .option('--cases <ids...>', 'pending cases assigned to <from>')
    .option('--protocol <id@version>', 'the protocol version the cases are routed by (default: the latest round’s)', protocolRefOption)
    .requiredOption('--reason <text>', 'why (kept in the ledger)')
    .action(async (from: string, to: string, o: { batch?: string; cases?: string[]; protocol?: { ref: string }; reason: string }, cmd: Command) => {
      if (!o.batch && !o.cases?.length) throw new UsageError('name what to move: --batch <batchId> or --cases <ids...>');
      const ctx = await contextOf(cmd, io, PM);
      const r = await ctx.api.call<{ batchId?: string; moved: string[]; refused: { caseId: string; reason: string }[] }>('POST', `/v1/programs/${enc(ctx.program())}/moves`, {
        body: { from, to, reason: o.reason, ...(o.batch ? { batchId: o.batch } : {}), ...(o.cases ? { caseIds: o.cases } : {}), ...(o.protocol ? { protocol: o.protocol.ref } : {}) },
      });
      if (ctx.json) return ctx.printJson(r);
      if (r.batchId) io.out(`batch ${r.batchId} withdrawn from ${from}`);
      io.out(`${r.moved.length} case(s) assigned to ${to} for the next round`);
      for (const x of r.refused) io.out(`  ${x.caseId}: ${x.reason}`);
    });
}
