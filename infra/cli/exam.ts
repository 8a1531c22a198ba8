/**
 * `goldline exam start|status|waive|revoke` (PM; QA may read the status): a
 * workforce's qualification exam on a protocol version — a gold-only batch the
 * workforce works like any batch — and a PM's waiver or revocation with a reason
 * (docs/vendor-management.md, Exams).
 */
import type { Command } from 'commander';
import { contextOf, protocolRefOption } from './context.js';
import { table } from './format.js';
import type { GoldlineIo } from './io.js';

const PM = 'pm';
const enc = encodeURIComponent;

interface Row {
  workforceId: string;
  kind: string;
  required: boolean;
  qualified: boolean;
  status: string;
  basis?: string;
  carriedFrom?: string;
  reason: string;
  attempts: number;
  openExam?: { batchId: string; attempt: number };
  pooled: { n: number; wrong: number; attempts: number };
}

const rows = (items: readonly Row[]): string =>
  table(
    ['workforce', 'kind', 'required', 'status', 'basis', 'attempts', 'open exam', 'why'],
    items.map((r) => [
      r.workforceId,
      r.kind,
      r.required ? 'yes' : 'no',
      r.status,
      r.basis ?? (r.carriedFrom ? `carried from ${r.carriedFrom}` : ''),
      r.attempts,
      r.openExam?.batchId ?? '',
      r.reason,
    ]),
  );

export function registerExamCommands(root: Command, io: GoldlineIo): void {
  const exam = root.command('exam').description('qualification exams: before production work on a protocol version, a workforce passes a gold-only batch or holds a waiver (PM)');
  const path = (program: string, rest: string) => `/v1/programs/${enc(program)}${rest}`;

  exam
    .command('start <workforceId>')
    .description("send the workforce its exam (a retake after a failure draws gold it has not seen); it works the batch like any other")
    .requiredOption('--protocol <id@version>', 'the protocol version', protocolRefOption)
    .action(async (workforceId: string, o: { protocol: { ref: string } }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const r = await ctx.api.call<{ batchId: string; attempt: number; items: number; planned: number; rule: string; started: boolean; note?: string }>(
        'POST',
        path(ctx.program(), '/exams'),
        { body: { workforceId, protocol: o.protocol.ref } },
      );
      if (ctx.json) return ctx.printJson(r);
      io.out(`${r.started ? 'Exam' : 'Exam already open'}: ${r.batchId} — attempt ${r.attempt}, ${r.items} gold item(s) (rule ${r.rule}, ${r.planned} planned)`);
      if (r.note) io.out(`note: ${r.note}`);
    });

  exam
    .command('status')
    .description("each workforce's qualification on a protocol version (or one workforce's)")
    .requiredOption('--protocol <id@version>', 'the protocol version', protocolRefOption)
    .option('--workforce <id>', 'only this workforce')
    .action(async (o: { protocol: { ref: string }; workforce?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const r = await ctx.api.call<{ protocol: string; items: Row[] }>('GET', path(ctx.program(), '/qualifications'), {
        query: { protocol: o.protocol.ref, workforceId: o.workforce },
      });
      if (ctx.json) return ctx.printJson(r);
      io.out(`Qualification on ${r.protocol}:`);
      io.out(rows(r.items));
    });

  for (const [name, route, description] of [
    ['waive', '/qualifications/waivers', 'qualify the workforce without an exam (the reason is kept in the ledger)'],
    ['revoke', '/qualifications/revocations', "withdraw the workforce's qualification: no production work until an exam or a waiver"],
  ] as const) {
    exam
      .command(`${name} <workforceId>`)
      .description(description)
      .requiredOption('--protocol <id@version>', 'the protocol version', protocolRefOption)
      .requiredOption('--reason <text>', 'why (kept in the ledger)')
      .action(async (workforceId: string, o: { protocol: { ref: string }; reason: string }, cmd: Command) => {
        const ctx = await contextOf(cmd, io, PM);
        const r = await ctx.api.call<Row>('POST', path(ctx.program(), route), { body: { workforceId, protocol: o.protocol.ref, reason: o.reason } });
        if (ctx.json) return ctx.printJson(r);
        io.out(rows([r]));
      });
  }
}
