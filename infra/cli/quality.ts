/**
 * `goldline qa quality`, `qa export-file` and `qa round-report`: the quality
 * report (per workforce, annotator, round, protocol or case attribute), exports
 * written to the exports bucket, and a round's printable HTML report.
 */
import { type Command, Option } from 'commander';
import type { QualityReport } from '../../functions/domain/quality/report-schema.js';
import { type CommandContext, contextOf, positiveInt } from './context.js';
import { percent, table } from './format.js';
import type { GoldlineIo } from './io.js';

const QA = 'qa';
const enc = encodeURIComponent;
const programPath = (ctx: CommandContext, rest: string) => `/v1/programs/${enc(ctx.program())}${rest}`;

type Prop = { value: number | null; interval: { lower: number; upper: number } | null; k: number; n: number; insufficient: boolean } | undefined;
const prop = (p: Prop) =>
  !p ? '' : `${percent(p.value)} [${percent(p.interval?.lower ?? null)}, ${percent(p.interval?.upper ?? null)}] ${p.k}/${p.n}${p.insufficient ? ' insufficient' : ''}`;
const fixed = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '—' : x.toFixed(d));

/** Registers the commands under `qa`. */
export function registerQualityCommands(qa: Command, io: GoldlineIo): void {
  qa.command('quality')
    .description('quality report: gold accuracy, per-class figures, κ/AC1 agreement matrix, Dawid–Skene confusions, operations')
    .option('--protocol <id>', "the protocol (default: the program's only one)")
    .option('--by <grouping>', 'workforce | annotator | round | protocol | subgroup:<attribute> (e.g. subgroup:site)', 'workforce')
    .addOption(new Option('--correction <name>', 'by subgroup: the multiplicity correction').choices(['holm', 'benjamini-hochberg']))
    .action(async (o: { protocol?: string; by: string; correction?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, QA);
      const r = await ctx.api.call<QualityReport>('GET', programPath(ctx, '/quality'), { query: { protocol: o.protocol, by: o.by, correction: o.correction } });
      if (ctx.json) return ctx.printJson(r);
      io.out(`${r.programId} · ${r.protocol} (${r.taskType}) · by ${r.by} · minimum n ${r.minGoldItems}`);
      io.out(
        table(
          ['group', 'gold [95% CI] k/n', 'batches', 'accepted', 'rejected', 'SLA', 'cost/case (¢)'],
          r.groups.map((g) => [
            g.key,
            prop(g.classification?.goldAccuracy ?? g.segmentation?.goldPass ?? g.detection?.goldPass),
            g.operations?.batches,
            g.operations?.accepted,
            g.operations?.rejected,
            g.operations ? percent(g.operations.slaAdherence.value) : '',
            g.operations ? fixed(g.operations.costPerAcceptedCaseMinor, 1) : '',
          ]),
        ),
      );
      if (r.agreement?.pairs.length) {
        io.out(`\nagreement on ${r.agreement.overlapCases} overlap cases (κ weights ${r.agreement.kappaWeights})`);
        io.out(table(['a', 'b', 'n', 'agree', 'κ', 'κ 95% CI', 'AC1'], r.agreement.pairs.map((p) => [p.a, p.b, p.n, percent(p.percentAgreement.value), fixed(p.kappa.value), p.kappa.interval ? `[${fixed(p.kappa.interval.lower)}, ${fixed(p.kappa.interval.upper)}]` : '', fixed(p.ac1.value)])));
      }
      if (r.dawidSkene) {
        io.out('\nDawid–Skene: the confusion each rater makes most');
        io.out(table(['rater', 'answers', 'true', 'answered', 'P'], r.dawidSkene.raters.map((x) => [x.rater, x.answers, x.worstConfusion?.trueClass ?? '—', x.worstConfusion?.answered ?? '—', fixed(x.worstConfusion?.probability, 3)])));
      }
      if (r.subgroups) {
        io.out(`\nsubgroups of ${r.subgroups.attribute} against each workforce's rest: ${r.subgroups.test}; ${r.subgroups.correctionName}, α ${r.subgroups.alpha}`);
        io.out(table(['workforce', r.subgroups.attribute, 'n', 'accuracy', 'rest', 'p', 'adjusted p', ''], r.subgroups.rows.map((x) => [x.unit, x.value, x.n, percent(x.accuracy), percent(x.rest.accuracy), fixed(x.pValue, 4), fixed(x.adjustedPValue, 4), x.flagged ? 'FLAGGED' : x.insufficient ? 'insufficient' : ''])));
      }
      for (const n of r.notes) io.out(`note: ${n}`);
    });

  qa.command('export-file <what>')
    .description('write an export to the exports bucket and print its key, SHA-256 and presigned URL (what: scorecards | gold-items | labels)')
    .addOption(new Option('--format <format>', 'file format').choices(['csv', 'json']).default('csv'))
    .action(async (what: string, o: { format: 'csv' | 'json' }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, QA);
      const r = await ctx.api.call<{ key: string; sha256: string; rows: number; url: string }>('POST', programPath(ctx, `/exports/${enc(what)}`), { query: { format: o.format } });
      if (ctx.json) return ctx.printJson(r);
      io.out(`${r.key}  ${r.rows} rows  sha256 ${r.sha256}\n${r.url}`);
    });

  qa.command('round-report <round>')
    .description("a round's printable HTML quality report")
    .requiredOption('--out <file>', 'write the HTML here')
    .action(async (round: string, o: { out: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, QA);
      const n = positiveInt('round', 1_000_000)(round);
      const html = await ctx.api.call<string>('GET', programPath(ctx, `/rounds/${n}/report.html`));
      await io.writeBytes(o.out, String(html));
      io.err(`wrote ${o.out}`);
    });
}
