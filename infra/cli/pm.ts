/**
 * Program manager commands: protocol versions, routing dry run, workforces,
 * case ingest, rounds (plan, dispatch, status), explicit assignments, shares and
 * the quarantine. Each command is one or a few API requests; the API decides.
 */
import { basename } from 'node:path';
import { type Command, Option } from 'commander';
import { type CommandContext, contextOf, nonNegative, positiveInt, protocolRefOption } from './context.js';
import { ingestCaseFile, ingestWithImages } from './cases.js';
import { registerManualControlCommands } from './manual-control.js';
import { table } from './format.js';
import { type GoldlineIo, readInput } from './io.js';
import { UsageError } from './profile.js';
import { type PlanVolumeOptions, PlanOptionError, plannedVolume, protocolPlanLines } from './protocol-plan.js';
import { acceptanceOf, protocolPlanReport } from '../../functions/domain/acceptance-protocol.js';
import { ProtocolVersion, protocolRef } from '../../functions/domain/model/protocol.js';
import { parseProtocolDocument } from '../../functions/domain/protocol-document.js';

const enc = encodeURIComponent;
const programPath = (ctx: CommandContext, rest = '') => `/v1/programs/${enc(ctx.program())}${rest}`;
const PM = 'pm';

interface Workforce {
  workforceId: string;
  kind: string;
  name: string;
  capacityPerRound: number;
  pricePerCase: number;
  slaHours?: number;
  qualifications?: string[];
  paused?: boolean;
  status?: string;
}

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

export function registerPmCommands(root: Command, io: GoldlineIo): void {
  const pm = root.command('pm').description('program manager: protocols, workforces, cases, rounds, shares, quarantine');

  const protocol = pm.command('protocol').description('protocol versions');
  protocol
    .command('register <file>')
    .description('register a protocol version from its YAML/JSON document (same content: nothing changes; other content under a used version: refused with the diff)')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const document = new TextDecoder().decode(await readInput(io, file, 256 * 1024));
      const r = await ctx.api.call<{ status: string; protocol: string; warnings: string[] }>('POST', '/v1/protocols', {
        body: { document, filename: basename(file) },
      });
      if (ctx.json) return ctx.printJson(r);
      io.out(`${r.protocol} ${r.status === 'created' ? 'registered' : 'already registered with this content (nothing changed)'}`);
      for (const w of r.warnings) io.err(`warning: ${w}`);
    });
  protocol
    .command('show <ref>')
    .description('a registered protocol version (id@version)')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const { protocolId, version } = protocolRefOption(ref);
      ctx.printJson(await ctx.api.call('GET', `/v1/protocols/${enc(protocolId)}/versions/${version}`));
    });
  protocol
    .command('diff <protocolId> <from> <to>')
    .description('what changed between two registered versions')
    .action(async (protocolId: string, from: string, to: string, _o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const query = { from: positiveInt('<from>')(from), to: positiveInt('<to>')(to) };
      const r = await ctx.api.call<{ changes: unknown[]; text: string }>('GET', `/v1/protocols/${enc(protocolId)}/diff`, { query });
      if (ctx.json) return ctx.printJson(r);
      io.out(`${protocolId}@${from} → ${protocolId}@${to}: ${r.changes.length} change${r.changes.length === 1 ? '' : 's'}`);
      io.out(r.text);
    });

  protocol
    .command('plan <fileOrRef>')
    .description("the acceptance plan of a registered version (id@version) or a protocol file: rule, single plan n/c, SPRT bounds and truncation, exact α/β, OC table, gold pool")
    .option('--batches <n>', "planned vendor batches (cases = n × the protocol's batchSize)", positiveInt('--batches'))
    .option('--volume <n>', 'planned real cases for vendors', positiveInt('--volume'))
    .option('--vendors <n>', 'vendors sharing the volume (default 1: the busiest vendor takes it all)', positiveInt('--vendors'))
    .action(async (fileOrRef: string, o: PlanVolumeOptions, cmd: Command) => {
      const p = await protocolFor(cmd, fileOrRef);
      if (cmd.optsWithGlobals<{ json?: boolean }>().json) {
        return io.out(JSON.stringify({ protocol: protocolRef(p), acceptance: acceptanceOf(p).section, report: protocolPlanReport(p, plannedVolume(p, o)) }, null, 2));
      }
      for (const line of planOrUsage(p, o)) io.out(line);
    });

  /** A registered version (id@version, from the API) or a protocol document on disk. */
  const protocolFor = async (cmd: Command, fileOrRef: string): Promise<ProtocolVersion> => {
    if (/^[a-z0-9][a-z0-9._-]{0,63}@[1-9]\d{0,8}$/.test(fileOrRef)) {
      const ctx = await contextOf(cmd, io, PM);
      const { protocolId, version } = protocolRefOption(fileOrRef);
      return ProtocolVersion.parse(await ctx.api.call('GET', `/v1/protocols/${enc(protocolId)}/versions/${version}`));
    }
    const parsed = parseProtocolDocument(new TextDecoder().decode(await readInput(io, fileOrRef, 256 * 1024)), { filename: basename(fileOrRef) });
    if (!parsed.ok) throw new UsageError(`${fileOrRef} is not a valid protocol:\n  - ${parsed.problems.join('\n  - ')}`);
    return parsed.protocol;
  };
  const planOrUsage = (p: ProtocolVersion, o: PlanVolumeOptions): string[] => {
    try {
      return protocolPlanLines(p, o);
    } catch (e) {
      if (e instanceof PlanOptionError) throw new UsageError(e.message);
      throw e;
    }
  };

  pm.command('dry-run')
    .description("route the program's cases by a protocol version, writing nothing, with a reason per case")
    .requiredOption('--protocol <id@version>', 'the protocol version to route by')
    .action(async (o: { protocol: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      protocolRefOption(o.protocol);
      const r = await ctx.api.call<{ text: string }>('POST', programPath(ctx, '/dry-run'), { body: { protocol: o.protocol } });
      if (ctx.json) return ctx.printJson(r);
      io.out(r.text);
      // The acceptance plan for the cases this dry run sends to vendors.
      const vendorCases = Number(/^by pool: .*\bvendor (\d+)/m.exec(r.text)?.[1] ?? 0);
      io.out('');
      for (const line of planOrUsage(await protocolFor(cmd, o.protocol), { volume: vendorCases })) io.out(line);
    });

  const workforce = pm.command('workforce').description("the program's workforces");
  workforce
    .command('list')
    .description('workforces with their terms and status')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const { items } = await ctx.api.call<{ items: Workforce[] }>('GET', programPath(ctx, '/workforces'));
      if (ctx.json) return ctx.printJson({ items });
      io.out(
        table(
          ['workforce', 'kind', 'name', 'capacity', 'price', 'SLA h', 'qualifications', 'status'],
          items.map((w) => [w.workforceId, w.kind, w.name, w.capacityPerRound, w.pricePerCase, w.slaHours, (w.qualifications ?? []).join(','), w.status ?? (w.paused ? 'paused' : 'active')]),
        ),
      );
    });
  workforce
    .command('create <workforceId>')
    .description('create a workforce (or set all its terms)')
    .addOption(new Option('--kind <kind>', 'internal team or outside vendor').choices(['internal', 'vendor']).makeOptionMandatory())
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--capacity <cases>', 'cases per round', positiveInt('--capacity'))
    .requiredOption('--price <usd>', 'price per case', nonNegative('--price'))
    .requiredOption('--sla <hours>', 'batch SLA in hours', positiveInt('--sla', 24 * 365))
    .option('--qualifications <list>', 'comma-separated (e.g. cxr,radiologist)', list)
    .action(async (workforceId: string, o: { kind: string; name: string; capacity: number; price: number; sla: number; qualifications?: string[] }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const w = await putWorkforce(ctx, workforceId, {
        kind: o.kind,
        name: o.name,
        capacityPerRound: o.capacity,
        pricePerCase: o.price,
        slaHours: o.sla,
        ...(o.qualifications ? { qualifications: o.qualifications } : {}),
      });
      if (ctx.json) return ctx.printJson(w);
      io.out(`workforce ${w.workforceId} (${w.kind}): capacity ${w.capacityPerRound}/round, $${w.pricePerCase}/case`);
    });
  workforce
    .command('change <workforceId>')
    .description("change some of a workforce's terms (recorded in the ledger with you as actor)")
    .option('--capacity <cases>', 'cases per round', positiveInt('--capacity'))
    .option('--price <usd>', 'price per case', nonNegative('--price'))
    .option('--sla <hours>', 'batch SLA in hours', positiveInt('--sla', 24 * 365))
    .option('--qualifications <list>', 'comma-separated; replaces the list', list)
    .action(async (workforceId: string, o: { capacity?: number; price?: number; sla?: number; qualifications?: string[] }, cmd: Command) => {
      const patch = {
        ...(o.capacity !== undefined ? { capacityPerRound: o.capacity } : {}),
        ...(o.price !== undefined ? { pricePerCase: o.price } : {}),
        ...(o.sla !== undefined ? { slaHours: o.sla } : {}),
        ...(o.qualifications !== undefined ? { qualifications: o.qualifications } : {}),
      };
      if (Object.keys(patch).length === 0) throw new UsageError('nothing to change: give --capacity, --price, --sla or --qualifications');
      await changeWorkforce(await contextOf(cmd, io, PM), workforceId, patch);
    });
  for (const [name, status] of [['pause', 'paused'], ['resume', 'active']] as const) {
    workforce
      .command(`${name} <workforceId>`)
      .description(status === 'paused' ? 'send the workforce no new work from the next round on' : 'send the workforce work again')
      .option('--reason <text>', 'why (recorded in the ledger)')
      .action(async (workforceId: string, o: { reason?: string }, cmd: Command) =>
        changeWorkforce(await contextOf(cmd, io, PM), workforceId, { status, ...(o.reason ? { reason: o.reason } : {}) }),
      );
  }
  registerManualControlCommands(workforce, io);

  const cases = pm.command('cases').description("the program's cases");
  cases
    .command('ingest <file>')
    .description('ingest cases from a JSON, JSON Lines or CSV manifest (CSV: a header row; flags.*, subgroup.* columns; goldLabel + goldExpert for gold cases)')
    .requiredOption('--protocol <id@version>', 'the protocol version the cases are ingested under (its de-identification settings)')
    .option('--images <dir>', 'upload each case\'s image (column "image", a file in DIR) through the slots the API returns; without it, the images named by imageKey are already in the images bucket')
    .action(async (file: string, o: { protocol: string; images?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const ref = protocolRefOption(o.protocol);
      if (o.images) await ingestWithImages(ctx, file, ref.ref, o.images);
      else await ingestCaseFile(ctx, file, ref);
    });

  const round = pm.command('round').description('rounds of work');
  round
    .command('plan')
    .description('what dispatching the next round would do, and why for each case (nothing is written)')
    .option('--protocol <id@version>', "the protocol version (default: the latest round's)")
    .option('--round <n>', 'the round to plan (default: the next)', positiveInt('--round', 100_000))
    .option('--limit <cases>', 'plan at most this many pending cases', positiveInt('--limit'))
    .option('--cases', 'list every case with where it would go and why')
    .action(async (o: { protocol?: string; round?: number; limit?: number; cases?: boolean }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      if (o.protocol) protocolRefOption(o.protocol);
      const r = await ctx.api.call<RoundPreview>('GET', programPath(ctx, '/round-preview'), { query: { protocol: o.protocol, round: o.round, limit: o.limit } });
      if (ctx.json) return ctx.printJson(r);
      io.out(`round ${r.round} (${r.protocol}) would plan ${r.pendingCases} pending case(s); shares ${formatShares(r.shares)} (${r.sharesSource})`);
      if (r.pendingProposal) io.out(`note: ${r.pendingProposal}`);
      io.out(table(['workforce', 'kind', 'cases', 'batches'], r.workforces.map((w) => [w.workforceId, w.kind, w.cases, w.batches.length])));
      for (const x of r.ineligible ?? []) io.out(`no work for ${x.workforceId}: ${x.reason}`);
      for (const x of r.capped ?? []) io.out(`${x.workforceId} capped at ${x.cap}: at most ${x.limit} case(s), ${x.cases} planned`);
      io.out(Object.entries(r.outcomes).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(' · '));
      if (!o.cases) return;
      // The per-case list comes a page at a time (the counts above are the whole round's).
      for (let page = r; ; ) {
        for (const c of page.cases) io.out(`${c.caseId} → ${c.workforceId ?? c.outcome} (rule "${c.rule}"): ${c.explanation}${c.gate ? `; ${c.gate}` : ''}${c.reason ? `; ${c.reason}` : ''}`);
        if (!page.next) break;
        page = await ctx.api.call<RoundPreview>('GET', programPath(ctx, '/round-preview'), { query: { protocol: o.protocol, round: o.round, limit: o.limit, cursor: page.next } });
      }
    });
  round
    .command('dispatch')
    .description('plan and dispatch a round: batches with hidden gold, one lifecycle each')
    .requiredOption('--protocol <id@version>', 'the protocol version of the round')
    .requiredOption('--round <n>', 'round number', positiveInt('--round', 100_000))
    .option('--limit <cases>', 'dispatch at most this many cases', positiveInt('--limit'))
    .action(async (o: { protocol: string; round: number; limit?: number }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const { protocolId, version } = protocolRefOption(o.protocol);
      const r = await ctx.api.call<RoundLike>('POST', programPath(ctx, '/rounds'), {
        body: { protocolId, version, round: o.round, ...(o.limit ? { limit: o.limit } : {}) },
      });
      if (ctx.json) return ctx.printJson(r);
      printRound(io, r, `round ${o.round} dispatched`);
    });
  round
    .command('status <round>')
    .description("a round's batches and how far each has come")
    .action(async (n: string, _o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const r = await ctx.api.call<RoundStatus>('GET', programPath(ctx, `/rounds/${positiveInt('<round>', 100_000)(n)}`));
      if (ctx.json) return ctx.printJson(r);
      printRoundStatus(io, r);
    });

  pm.command('assign <caseIds...>')
    .description('assign pending cases to a workforce, overriding the shares (the de-identification gate still holds)')
    .requiredOption('--workforce <id>', 'the workforce that gets them')
    .requiredOption('--reason <text>', 'why (recorded in the ledger)')
    .option('--protocol <id@version>', "the protocol version the cases are routed by (default: the latest round's)")
    .action(async (caseIds: string[], o: { workforce: string; reason: string; protocol?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      if (o.protocol) protocolRefOption(o.protocol);
      const r = await ctx.api.call<{ assigned: { caseId: string }[]; refused: { caseId: string; reason: string }[] }>('POST', programPath(ctx, '/assignments'), {
        body: { caseIds, workforceId: o.workforce, reason: o.reason, ...(o.protocol ? { protocol: o.protocol } : {}) },
      });
      if (ctx.json) return ctx.printJson(r);
      io.out(`assigned to ${o.workforce} for the next round: ${r.assigned.length ? r.assigned.map((a) => a.caseId).join(', ') : 'none'}`);
      for (const f of r.refused ?? []) io.out(`  refused ${f.caseId}: ${f.reason}`);
    });

  const shares = pm.command('shares').description('allocation shares proposed by rebalancing');
  shares
    .command('list')
    .description('proposed shares and whether they are approved')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      const r = await ctx.api.call<{ items: ShareProposal[] }>('GET', programPath(ctx, '/share-proposals'));
      if (ctx.json) return ctx.printJson(r);
      if (r.items.length === 0) return io.out('no share proposals');
      io.out(
        table(
          ['round', 'protocol', 'status', 'proposed', 'decided by'],
          r.items.map((p) => [p.round, p.protocol, p.status, formatShares(p.proposed), p.decidedBy]),
        ),
      );
    });
  for (const verb of ['approve', 'refuse'] as const) {
    shares
      .command(verb)
      .description(verb === 'approve' ? "approve a round's proposed shares (rebalancing mode approval)" : "refuse a round's proposed shares (the previous shares carry over)")
      .requiredOption('--round <n>', 'the round the shares are for', positiveInt('--round', 100_000))
      .requiredOption('--protocol <id@version>', 'the protocol version')
      .option('--reason <text>', 'why (recorded; required to refuse)')
      .action(async (o: { round: number; protocol: string; reason?: string }, cmd: Command) => {
        const ctx = await contextOf(cmd, io, PM);
        const { protocolId, version } = protocolRefOption(o.protocol);
        if (verb === 'refuse' && !o.reason?.trim()) throw new UsageError('refusing shares needs --reason "…" (it is recorded in the ledger)');
        const r = await ctx.api.call<{ shares?: Record<string, number> }>('POST', programPath(ctx, `/rounds/${o.round}/shares/${verb}`), {
          body: verb === 'approve' ? { protocolId, version } : { protocolId, reason: o.reason },
        });
        if (ctx.json) return ctx.printJson(r);
        io.out(verb === 'approve' ? `round ${o.round} shares approved: ${formatShares(r.shares ?? {})}` : `round ${o.round} shares refused`);
      });
  }

  const quarantine = pm.command('quarantine').description('cases the de-identification gate holds back');
  quarantine
    .command('list')
    .description('quarantined cases with their findings, and past releases')
    .requiredOption('--protocol <id@version>', 'the protocol version (its de-identification settings)')
    .action(async (o: { protocol: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      protocolRefOption(o.protocol);
      const r = await ctx.api.call<{ quarantined?: { caseId: string; findings: string[] }[] }>('GET', programPath(ctx, '/quarantine'), { query: { protocol: o.protocol } });
      if (ctx.json) return ctx.printJson(r);
      const held = r.quarantined ?? [];
      if (held.length === 0) io.out('no case is quarantined');
      for (const c of held) io.out(`${c.caseId}\n${c.findings.map((f) => `  - ${f}`).join('\n')}`);
    });
  quarantine
    .command('release <caseId>')
    .description('release a quarantined case with a recorded reason (it may then reach vendors)')
    .requiredOption('--protocol <id@version>', 'the protocol version')
    .requiredOption('--reason <text>', 'why the findings do not identify anyone')
    .action(async (caseId: string, o: { protocol: string; reason: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, PM);
      protocolRefOption(o.protocol);
      const r = await ctx.api.call<{ caseId: string; overrides: string[]; eventId: string }>('POST', programPath(ctx, `/quarantine/${enc(caseId)}/release`), {
        body: { protocol: o.protocol, reason: o.reason },
      });
      if (ctx.json) return ctx.printJson(r);
      io.out(`released ${r.caseId} (ledger event ${r.eventId}); overrides ${r.overrides.length} finding(s)`);
    });
}

async function putWorkforce(ctx: CommandContext, workforceId: string, terms: Record<string, unknown>): Promise<Workforce> {
  return ctx.api.call<Workforce>('PUT', programPath(ctx, `/workforces/${enc(workforceId)}`), { body: terms });
}

/** A targeted change of a workforce (PATCH): prints what changed, from → to. */
async function changeWorkforce(ctx: CommandContext, workforceId: string, patch: Record<string, unknown>): Promise<void> {
  const r = await ctx.api.call<{ workforce: Workforce; changes: Record<string, { from: unknown; to: unknown }> }>(
    'PATCH',
    programPath(ctx, `/workforces/${enc(workforceId)}`),
    { body: patch },
  );
  if (ctx.json) {
    ctx.printJson(r);
    return;
  }
  const changes = Object.entries(r.changes);
  if (changes.length === 0) ctx.io.out(`workforce ${workforceId}: nothing changed`);
  for (const [field, c] of changes) ctx.io.out(`workforce ${workforceId}: ${field} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`);
}

interface RoundPreview {
  round: number;
  protocol: string;
  shares: Record<string, number>;
  sharesSource: string;
  pendingProposal?: string;
  pendingCases: number;
  workforces: { workforceId: string; kind: string; cases: number; batches: number[] }[];
  outcomes: Record<string, number>;
  cases: { caseId: string; outcome: string; workforceId?: string; rule: string; explanation: string; gate?: string; reason?: string }[];
  next?: string;
  ineligible?: { workforceId: string; reason: string }[];
  capped?: { workforceId: string; cap: number; limit: number; cases: number }[];
}

interface RoundLike {
  shares?: Record<string, number>;
  routing?: Record<string, number>;
  batches?: { batchId: string; workforceId: string; items: number; gold: number }[];
  deferred?: unknown[];
  excluded?: unknown[];
}
interface RoundStatus {
  round: number;
  protocolId: string;
  batches: { batchId: string; workforceId: string; status: string; items: number; gold: number; slaDeadline?: string }[];
  byStatus: Record<string, number>;
  settled: number;
  complete: boolean;
}
interface ShareProposal {
  round: number;
  protocol: string;
  status: string;
  proposed: Record<string, number>;
  decidedBy?: string;
}

const formatShares = (s: Record<string, number>) =>
  Object.entries(s)
    .map(([w, x]) => `${w} ${(x * 100).toFixed(1)}%`)
    .join(' · ') || '(none)';

function printRound(io: GoldlineIo, r: RoundLike, heading: string): void {
  io.out(`${heading}: ${(r.batches ?? []).length} batches · shares ${formatShares(r.shares ?? {})}`);
  if (r.routing) io.out(`routing: ${Object.entries(r.routing).map(([k, v]) => `${k} ${v}`).join(' · ')}`);
  if (r.batches?.length) io.out(table(['batch', 'workforce', 'items', 'gold'], r.batches.map((b) => [b.batchId, b.workforceId, b.items, b.gold])));
  if (r.deferred?.length) io.out(`deferred: ${r.deferred.length} case(s) (capacity)`);
  if (r.excluded?.length) io.out(`excluded: ${r.excluded.length} case(s)`);
}

export function printRoundStatus(io: GoldlineIo, r: RoundStatus): void {
  io.out(`round ${r.round} (${r.protocolId}): ${r.settled}/${r.batches.length} settled${r.complete ? ' — complete' : ''} · ${Object.entries(r.byStatus).map(([k, v]) => `${k} ${v}`).join(' · ')}`);
  io.out(table(['batch', 'workforce', 'status', 'items', 'gold', 'SLA deadline'], r.batches.map((b) => [b.batchId, b.workforceId, b.status, b.items, b.gold, b.slaDeadline])));
}
