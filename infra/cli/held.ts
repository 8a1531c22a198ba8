/**
 * `goldline program decide-held` (PM): decide a vendor's held (inconclusive)
 * batches of a protocol version now, by the SPRT's truncation rule, when no
 * further batch will decide them — the program ends, the vendor is paused or
 * out of work. The reason is kept in the ledger with who asked; asked twice,
 * the batches are decided once (docs/acceptance-sampling.md, The lifecycle).
 */
import type { Command } from 'commander';
import { contextOf, protocolRefOption } from './context.js';
import type { GoldlineIo } from './io.js';

const PM = 'pm';
const enc = encodeURIComponent;

interface HeldDecision {
  decision: 'accepted' | 'rejected' | 'none';
  batches: string[];
  reason: string;
  decisionId?: string;
}

export function registerProgramCommands(program: Command, io: GoldlineIo): void {
  const group = program.command('program').description("program manager: end-of-work decisions on the program (--program, or the profile's)");
  group
    .command('decide-held <workforceId>')
    .description("decide the vendor's held (inconclusive) batches of a protocol version now, by the SPRT's truncation rule (when no further batch will)")
    .requiredOption('--protocol <id@version>', 'the protocol version the batches ran under', protocolRefOption)
    .requiredOption('--reason <text>', 'why no further batch will decide them (kept in the ledger)')
    .action(async (workforceId: string, o: { protocol: { ref: string }; reason: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const r = await ctx.api.call<HeldDecision>('POST', `/v1/programs/${enc(ctx.program())}/held-batches/decide`, {
        body: { workforceId, protocol: o.protocol.ref, reason: o.reason },
      });
      if (ctx.json) return ctx.printJson(r);
      if (r.decision === 'none') return io.out(r.reason);
      io.out(`${workforceId}: ${r.batches.length} held batch(es) ${r.decision} — ${r.reason}`);
      for (const id of r.batches) io.out(`  ${id}`);
      if (r.decisionId) io.out(`ledger: held-batches.decided ${r.decisionId}`);
    });
}
