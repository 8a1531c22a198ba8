/**
 * Expert commands: the internal batches (the same work commands as a vendor) and
 * adjudications — the open ones, one with its competing labels and image URLs,
 * and a decision.
 */
import type { Command } from 'commander';
import { contextOf } from './context.js';
import { table } from './format.js';
import type { GoldlineIo } from './io.js';
import { UsageError } from './profile.js';
import { registerWorkCommands } from './work.js';

const EXPERT = 'expert';

interface AdjudicationSummary {
  adjudicationId: string;
  programId: string;
  batchId: string;
  protocol: string;
  createdAt: string;
  deadline?: string;
  cases: { caseId: string; kind: string; reason: string }[];
}

/** `CASE=LABEL` pairs, one per case of the adjudication. */
function decision(value: string, prev: { caseId: string; label: string }[] = []) {
  const at = value.indexOf('=');
  if (at < 1 || at === value.length - 1) throw new UsageError(`--label takes CASE=LABEL (got "${value}")`);
  return [...prev, { caseId: value.slice(0, at), label: value.slice(at + 1) }];
}

export function registerExpertCommands(root: Command, io: GoldlineIo): void {
  const expert = root.command('expert').description('internal expert: internal batches (as a vendor does) and adjudications');
  registerWorkCommands(expert, io, EXPERT);

  const adj = expert.command('adjudications').description('adjudications waiting for an expert');
  adj
    .command('list')
    .description('open adjudications, oldest first')
    .option('--program <id>', 'of one program only')
    .action(async (o: { program?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, EXPERT);
      const r = await ctx.api.call<{ items: AdjudicationSummary[] }>('GET', '/v1/adjudications', { query: { programId: o.program } });
      if (ctx.json) return ctx.printJson(r);
      if (r.items.length === 0) return io.out('no open adjudications');
      io.out(
        table(
          ['adjudication', 'program', 'batch', 'cases', 'created', 'deadline'],
          r.items.map((a) => [a.adjudicationId, a.programId, a.batchId, a.cases.length, a.createdAt, a.deadline]),
        ),
      );
    });
  adj
    .command('show <adjudicationId>')
    .description('one adjudication: per case the competing labels (presigned URLs to their files), the image and the allowed choices')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, EXPERT);
      ctx.printJson(await ctx.api.call('GET', `/v1/adjudications/${encodeURIComponent(id)}`));
    });
  adj
    .command('decide <adjudicationId>')
    .description('decide every case of an adjudication (once; a repeat changes nothing)')
    .requiredOption('--label <case=label>', 'the accepted label of one case (repeat for each case)', decision)
    .option('--note <text>', 'a note recorded with each decision')
    .action(async (id: string, o: { label: { caseId: string; label: string }[]; note?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, EXPERT);
      const decisions = o.label.map((d) => ({ ...d, ...(o.note ? { note: o.note } : {}) }));
      const r = await ctx.api.call<{ status: string; decidedBy: string }>('POST', `/v1/adjudications/${encodeURIComponent(id)}/decision`, { body: { decisions } });
      if (ctx.json) return ctx.printJson(r);
      io.out(r.status === 'decided' ? `${id} decided by ${r.decidedBy}` : `${id} was already decided by ${r.decidedBy} (nothing changed)`);
    });
}
