/**
 * `goldline contract list|show|register|amend`: a workforce's contract for a
 * protocol (PM; QA may read). Amounts are given in cents; every version is a
 * ledger event.
 */
import type { Command } from 'commander';
import { type Contract, formatMoney } from '../../functions/domain/index.js';
import { contextOf } from './context.js';
import { table } from './format.js';
import type { GoldlineIo } from './io.js';
import { UsageError } from './profile.js';

const PM = 'pm';
const enc = encodeURIComponent;

/** Parses a whole number of cents (or basis points); a usage error names the option otherwise. */
function wholeNumber(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n > max) throw new UsageError(`${name} must be a whole number from 0 to ${max} (got "${value}")`);
    return n;
  };
}

interface TermOptions {
  priceCents?: number;
  reworkCents?: number;
  slaHours?: string;
  lateBatchCents?: number;
  lateDayCents?: number;
  withholdBp?: number;
  withholdPerItemCents?: number;
  currency?: string;
}

function termsOf(o: TermOptions): Record<string, unknown> {
  if (o.withholdBp !== undefined && o.withholdPerItemCents !== undefined) throw new UsageError('pass one rejection rule: --withhold-bp or --withhold-per-item-cents');
  const lateCredit = {
    ...(o.lateBatchCents !== undefined ? { perLateBatchCents: o.lateBatchCents } : {}),
    ...(o.lateDayCents !== undefined ? { perLateDayCents: o.lateDayCents } : {}),
  };
  const sla = o.slaHours === undefined ? undefined : Number(o.slaHours);
  if (sla !== undefined && !(Number.isFinite(sla) && sla > 0)) throw new UsageError(`--sla-hours must be a number > 0 (got "${o.slaHours}")`);
  return {
    ...(o.currency ? { currency: o.currency } : {}),
    ...(o.priceCents !== undefined ? { pricePerAcceptedCaseCents: o.priceCents } : {}),
    ...(o.reworkCents !== undefined ? { pricePerReworkCents: o.reworkCents } : {}),
    ...(sla !== undefined ? { slaHours: sla } : {}),
    ...(Object.keys(lateCredit).length > 0 ? { lateCredit } : {}),
    ...(o.withholdBp !== undefined ? { rejection: { rule: 'withhold-share', basisPoints: o.withholdBp } } : {}),
    ...(o.withholdPerItemCents !== undefined ? { rejection: { rule: 'withhold-per-item', centsPerItem: o.withholdPerItemCents } } : {}),
  };
}

const termOptions = (c: Command) =>
  c
    .option('--price-cents <n>', 'price per accepted case, in cents', wholeNumber('--price-cents'))
    .option('--rework-cents <n>', 'price per re-done case, in cents', wholeNumber('--rework-cents'))
    .option('--sla-hours <h>', "the contract's delivery time, dispatch to accepted upload")
    .option('--late-batch-cents <n>', 'credit per late batch, in cents', wholeNumber('--late-batch-cents'))
    .option('--late-day-cents <n>', 'credit per late day started, in cents', wholeNumber('--late-day-cents'))
    .option('--withhold-bp <n>', 'rejection: share of the batch price withheld, in basis points (10000 = all)', wholeNumber('--withhold-bp', 10_000))
    .option('--withhold-per-item-cents <n>', 'rejection: amount withheld per item, in cents', wholeNumber('--withhold-per-item-cents'))
    .option('--currency <code>', 'ISO 4217 code (default USD)');

function contractRows(items: readonly Contract[]) {
  return table(
    ['contract', 'version', 'valid from', 'valid to', 'price', 'rework', 'SLA h', 'late batch', 'late day', 'rejection', 'origin'],
    items.map((c) => {
      const t = c.terms;
      const m = (x: number) => formatMoney(x, t.currency);
      const rejection = t.rejection.rule === 'withhold-share' ? `withhold ${t.rejection.basisPoints / 100}%` : `withhold ${m(t.rejection.centsPerItem)}/item`;
      return [c.contractId, c.version, c.validFrom, c.validTo ?? '', m(t.pricePerAcceptedCaseCents), m(t.pricePerReworkCents), t.slaHours, m(t.lateCredit.perLateBatchCents), m(t.lateCredit.perLateDayCents), rejection, c.origin];
    }),
  );
}

export function registerContractCommands(root: Command, io: GoldlineIo): void {
  const contract = root.command('contract').description('contracts per workforce and protocol: prices, SLA, credits, rejection rule, validity (PM)');
  const path = (program: string, rest = '') => `/v1/programs/${enc(program)}/contracts${rest}`;

  contract
    .command('list')
    .description("every version of the program's contracts")
    .option('--workforce <id>', "only this workforce's")
    .action(async (o: { workforce?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const r = await ctx.api.call<{ items: Contract[] }>('GET', path(ctx.program()), { query: { workforceId: o.workforce } });
      if (ctx.json) return ctx.printJson(r);
      io.out(r.items.length === 0 ? 'no contracts (settlement registers version 1 from each workforce’s terms when it first needs one)' : contractRows(r.items));
    });

  contract
    .command('show <contractId>')
    .description("a contract's versions (<workforceId>.<protocolId>)")
    .action(async (contractId: string, _o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const r = await ctx.api.call<{ items: Contract[] }>('GET', path(ctx.program(), `/${enc(contractId)}`));
      if (ctx.json) return ctx.printJson(r);
      io.out(contractRows(r.items));
    });

  termOptions(
    contract
      .command('register')
      .description('version 1 of a workforce’s contract for a protocol')
      .requiredOption('--workforce <id>', 'the workforce')
      .requiredOption('--protocol <id>', 'the protocol id')
      .requiredOption('--from <iso>', 'valid for work dispatched from')
      .option('--to <iso>', 'valid for work dispatched until (exclusive)')
      .option('--reason <text>', 'why (kept in the ledger)'),
  ).action(async (o: TermOptions & { workforce: string; protocol: string; from: string; to?: string; reason?: string }, cmd: Command) => {
    const ctx = await contextOf(cmd, io, PM);
    const terms = termsOf(o);
    for (const k of ['pricePerAcceptedCaseCents', 'pricePerReworkCents', 'slaHours', 'rejection']) {
      if (!(k in terms)) throw new UsageError('register needs --price-cents, --rework-cents, --sla-hours and a rejection rule (--withhold-bp or --withhold-per-item-cents)');
    }
    const r = await ctx.api.call<{ contract: Contract; created: boolean }>('POST', path(ctx.program()), {
      body: { workforceId: o.workforce, protocolId: o.protocol, validFrom: o.from, ...(o.to ? { validTo: o.to } : {}), terms, ...(o.reason ? { reason: o.reason } : {}) },
    });
    if (ctx.json) return ctx.printJson(r);
    io.out(`${r.created ? 'Registered' : 'Already registered'} ${r.contract.contractId}@${r.contract.version}`);
    io.out(contractRows([r.contract]));
  });

  termOptions(
    contract
      .command('amend <contractId>')
      .description('a new version: the latest terms with these changed, for work dispatched from --from')
      .requiredOption('--from <iso>', 'the new version is valid from')
      .option('--to <iso>', 'valid until (exclusive)')
      .requiredOption('--reason <text>', 'why (kept in the ledger)'),
  ).action(async (contractId: string, o: TermOptions & { from: string; to?: string; reason: string }, cmd: Command) => {
    const ctx = await contextOf(cmd, io, PM);
    const r = await ctx.api.call<{ contract: Contract }>('POST', path(ctx.program(), `/${enc(contractId)}/amendments`), {
      body: { validFrom: o.from, ...(o.to ? { validTo: o.to } : {}), terms: termsOf(o), reason: o.reason },
    });
    if (ctx.json) return ctx.printJson(r);
    io.out(`Amended: ${r.contract.contractId}@${r.contract.version}`);
    io.out(contractRows([r.contract]));
  });
}
