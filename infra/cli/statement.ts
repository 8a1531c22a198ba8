/**
 * `goldline statement show|list|csv|issue`: what Goldline owes a workforce for a
 * period, folded from the ledger by the API. PMs (the default user) read any
 * workforce's; a vendor (`--as vendor-a`) its own, and without `--workforce`
 * the one its token names.
 */
import type { Command } from 'commander';
import { formatMoney, type Statement } from '../../functions/domain/index.js';
import { type CommandContext, contextOf } from './context.js';
import { table } from './format.js';
import type { GoldlineIo } from './io.js';
import { UsageError } from './profile.js';

const PM = 'pm';
const enc = encodeURIComponent;

interface PeriodOptions {
  workforce?: string;
  period?: string;
  from?: string;
  to?: string;
}

/** `--period 2026-11` (a calendar month, UTC) or `--from`/`--to` (ISO 8601). */
export function periodOf(o: PeriodOptions): { from: string; to: string } {
  if (o.period) {
    const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(o.period);
    if (!m || o.from || o.to) throw new UsageError(`--period must be a month YYYY-MM, without --from/--to (got "${o.period}")`);
    const [y, mo] = [Number(m[1]), Number(m[2])];
    return { from: new Date(Date.UTC(y, mo - 1, 1)).toISOString(), to: new Date(Date.UTC(y, mo, 1)).toISOString() };
  }
  if (!o.from || !o.to) throw new UsageError('which period? pass --period YYYY-MM or --from and --to (ISO 8601)');
  const [from, to] = [Date.parse(o.from), Date.parse(o.to)];
  if (Number.isNaN(from) || Number.isNaN(to) || to <= from) throw new UsageError(`--from and --to must be ISO 8601 times with --to after --from (got "${o.from}", "${o.to}")`);
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

/**
 * Where a command reads: a PM (or `--workforce`) the program's routes for that
 * workforce; a vendor without `--workforce` its own, under /v1/statements (its
 * workforce is its token's).
 */
async function target(ctx: CommandContext, o: PeriodOptions): Promise<{ workforceId: string; own: boolean }> {
  if (o.workforce) return { workforceId: o.workforce, own: false };
  const me = await ctx.api.call<{ roles: string[]; workforceId?: string }>('GET', '/v1/me');
  if (!me.workforceId || !me.roles.includes('vendor')) throw new UsageError('which workforce? pass --workforce ID');
  return { workforceId: me.workforceId, own: true };
}

const base = (ctx: CommandContext, workforceId: string) => `/v1/programs/${enc(ctx.program())}/workforces/${enc(workforceId)}`;

/**
 * A statement as a PM reads it: one row per line (amounts in the contract's
 * currency), the rule of each line, then the totals.
 *
 * @example formatStatement(statement).join('\n')
 */
export function formatStatement(s: Statement): string[] {
  const m = (c: number) => formatMoney(c, s.currency);
  const out = [`Statement ${s.workforceId} · ${s.from} … ${s.to} (${s.currency})`];
  if (s.lines.length === 0) return [...out, '  no batches in this period'];
  const rows = s.lines.map((l) => [
    l.batchId,
    l.kind === 'settlement' ? l.outcome : l.kind,
    l.contract,
    l.items,
    l.delivered,
    l.accepted,
    l.rejected,
    l.redoneElsewhere,
    l.slaMiss ? `${l.lateDays}d` : '',
    m(l.grossCents),
    l.penaltyCents ? m(-l.penaltyCents) : '',
    l.creditCents ? m(-l.creditCents) : '',
    l.billed ? m(l.amountCents) : `(${m(l.grossCents)} pending)`,
  ]);
  const header = ['batch', 'line', 'contract', 'items', 'delivered', 'accepted', 'rejected', 'redone', 'late', 'gross', 'penalty', 'credit', 'amount'];
  out.push(...table(header, rows).split('\n').map((r) => `  ${r}`));
  out.push('  rules:');
  for (const l of s.lines) out.push(`    ${l.batchId}: ${l.rule}${l.adjusts ? ` (adjusts ${l.adjusts})` : ''}`);
  const t = s.totals;
  out.push(
    `  total ${m(t.totalCents)} · gross ${m(t.grossCents)} · penalties ${m(-t.penaltyCents)} · credits ${m(-t.creditCents)} · ` +
      `${t.accepted} accepted / ${t.rejected} rejected items, ${t.redoneElsewhere} re-done elsewhere, ${t.slaMisses} SLA miss(es)` +
      (t.pendingCents > 0 ? ` · pending (not billed) ${m(t.pendingCents)}` : ''),
  );
  return out;
}

export function registerStatementCommands(root: Command, io: GoldlineIo): void {
  const statement = root.command('statement').description("what Goldline owes a workforce for a period, per batch with the rule (PM; a vendor its own: --as vendor-a)");
  const period = (c: Command) =>
    c
      .option('--workforce <id>', "the workforce (a vendor: default its own)")
      .option('--period <YYYY-MM>', 'a calendar month (UTC)')
      .option('--from <iso>', 'start of the period (inclusive)')
      .option('--to <iso>', 'end of the period (exclusive)');

  period(statement.command('show').description('the statement as the ledger gives it now: lines, rules, totals, pending batches')).action(
    async (o: PeriodOptions, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const p = periodOf(o);
      const t = await target(ctx, o);
      const s = t.own
        ? await ctx.api.call<Statement>('GET', '/v1/statements', { query: { programId: ctx.program(), ...p } })
        : await ctx.api.call<Statement>('GET', `${base(ctx, t.workforceId)}/statement`, { query: p });
      if (ctx.json) return ctx.printJson(s);
      for (const line of formatStatement(s)) io.out(line);
    },
  );

  period(statement.command('csv').description('the statement as CSV (stable header, amounts in cents)'))
    .option('--out <file>', 'write the CSV here instead of printing it')
    .action(async (o: PeriodOptions & { out?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const t = await target(ctx, o);
      const query = { ...periodOf(o), format: 'csv' };
      const csv = t.own
        ? await ctx.api.call<string>('GET', '/v1/statements', { query: { programId: ctx.program(), ...query } })
        : await ctx.api.call<string>('GET', `${base(ctx, t.workforceId)}/statement`, { query });
      if (!o.out) return io.out(csv.replace(/\r\n$/, ''));
      await io.writeBytes(o.out, csv);
      io.out(`wrote ${o.out}`);
    });

  period(statement.command('issue').description('issue the statement: stored with its ledger anchor and recorded (PM)')).action(
    async (o: PeriodOptions, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const r = await ctx.api.call<{ issued: { eventId: string; data: { key: string; sha256: string; totalCents: number; currency: string; anchor: { seq: number; hash: string } } }; created: boolean }>(
        'POST',
        `${base(ctx, o.workforce ?? (await target(ctx, o)).workforceId)}/statements`,
        { body: periodOf(o) },
      );
      if (ctx.json) return ctx.printJson(r);
      const d = r.issued.data;
      io.out(`${r.created ? 'Issued' : 'Already issued'}: total ${formatMoney(d.totalCents, d.currency)} · ${d.key} · SHA-256 ${d.sha256}`);
      io.out(`  ledger anchor: ${d.anchor.seq} events, last ${d.anchor.hash}`);
    },
  );

  statement
    .command('list')
    .description("the workforce's issued statements")
    .option('--workforce <id>', 'the workforce (a vendor: default its own)')
    .action(async (o: PeriodOptions, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      type Issued = { items: { at: string; data: { from: string; to: string; totalCents: number; pendingCents: number; currency: string; lines: number; sha256: string } }[] };
      const t = await target(ctx, o);
      const r = t.own
        ? await ctx.api.call<Issued>('GET', '/v1/statements/issued', { query: { programId: ctx.program() } })
        : await ctx.api.call<Issued>('GET', `${base(ctx, t.workforceId)}/statements`);
      if (ctx.json) return ctx.printJson(r);
      if (r.items.length === 0) return io.out('no statements issued');
      io.out(
        table(
          ['issued', 'from', 'to', 'lines', 'total', 'pending', 'sha256'],
          r.items.map((i) => [i.at, i.data.from, i.data.to, i.data.lines, formatMoney(i.data.totalCents, i.data.currency), formatMoney(i.data.pendingCents, i.data.currency), i.data.sha256.slice(0, 16)]),
        ),
      );
    });
}
