/**
 * `goldline release create|list|show|labels|diff|verify`: dataset releases of a
 * protocol version's accepted labels (QA lead by default; PMs too). A release is
 * written once; `verify` exits 1 and names every problem when it does not hold.
 */
import type { Command } from 'commander';
import type { ReleaseDiff, ReleaseLabel } from '../../functions/domain/index.js';
import type { ReleaseSummary, ReleaseVerdict } from '../../functions/use-cases/releases.js';
import { type CommandContext, contextOf, positiveInt } from './context.js';
import { table } from './format.js';
import type { GoldlineIo } from './io.js';
import { ReportedFailure } from './profile.js';

const QA = 'qa';
const enc = encodeURIComponent;
const releasesPath = (ctx: CommandContext, rest = '') => `/v1/programs/${enc(ctx.program())}/releases${rest}`;

interface ReleaseHeader extends Omit<ReleaseSummary, 'labels' | 'manifestKey'> {
  note?: string;
  labelCount: number;
  labelsSha256: string;
}

const labelRow = (l: ReleaseLabel) => [
  l.caseId,
  l.label ?? '',
  `${l.workforceId} (${l.workforceKind})`,
  l.annotatorId ?? '',
  l.adjudicationId ? `adjudication ${l.adjudicationId}` : l.batchId,
  `${l.submissionKey}${l.submissionVersionId ? ` @${l.submissionVersionId}` : ''}`,
  l.submissionSha256.slice(0, 12),
];
const LABEL_HEADER = ['case', 'label', 'workforce', 'annotator', 'from', 'submission', 'sha256'];

/** Registers the `release` group; returns it so further release commands (the dossier) can join it. */
export function registerReleaseCommands(root: Command, io: GoldlineIo): Command {
  const release = root.command('release').description("dataset releases: a protocol version's accepted labels, written once, with lineage");

  release
    .command('create')
    .description("release a protocol version's accepted labels (the same labels are the same release)")
    .requiredOption('--protocol <id>', 'protocol id')
    .requiredOption('--version <n>', 'protocol version', positiveInt('--version'))
    .option('--note <text>', 'why this release (kept in the manifest)')
    .action(async (o: { protocol: string; version: number; note?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, QA);
      const r = await ctx.api.call<{ release: ReleaseSummary; created: boolean }>('POST', releasesPath(ctx), {
        body: { protocolId: o.protocol, version: o.version, ...(o.note ? { note: o.note } : {}) },
      });
      if (ctx.json) return ctx.printJson(r);
      const s = r.release;
      io.out(`${r.created ? 'Released' : 'Already released as'} ${s.releaseId}: ${s.labels} accepted labels of ${s.protocolId}@${s.version}`);
      io.out(`  manifest ${s.manifestKey} · SHA-256 ${s.manifestSha256}`);
      io.out(`  ledger anchor #${s.ledgerHead.seq} ${s.ledgerHead.hash} · by ${s.createdBy} at ${s.createdAt}`);
    });

  release
    .command('list')
    .description("the program's releases, oldest first")
    .option('--protocol <id>', 'only releases of this protocol')
    .action(async (o: { protocol?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, QA);
      const r = await ctx.api.call<{ items: ReleaseSummary[] }>('GET', releasesPath(ctx), { query: { protocolId: o.protocol } });
      if (ctx.json) return ctx.printJson(r);
      if (r.items.length === 0) return io.out('no releases');
      io.out(
        table(
          ['release', 'protocol', 'labels', 'created', 'by', 'manifest sha256'],
          r.items.map((s) => [s.releaseId, `${s.protocolId}@${s.version}`, s.labels, s.createdAt, s.createdBy, s.manifestSha256]),
        ),
      );
    });

  release
    .command('show <releaseId>')
    .description('a release: protocol version, who and when, hashes, ledger anchor (--labels: its labels too; --case: one case)')
    .option('--labels', 'list every label with its lineage')
    .option('--case <caseId>', "only this case's labels")
    .action(async (releaseId: string, o: { labels?: boolean; case?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, QA);
      const header = await ctx.api.call<ReleaseHeader>('GET', releasesPath(ctx, `/${enc(releaseId)}`));
      const labels = o.labels || o.case ? await ctx.api.all<ReleaseLabel>(releasesPath(ctx, `/${enc(releaseId)}/labels`), { caseId: o.case, limit: 200 }) : undefined;
      if (ctx.json) return ctx.printJson({ ...header, ...(labels ? { labels } : {}) });
      io.out(`Release ${header.releaseId} of ${header.protocolId}@${header.version} · program ${header.programId} · ${header.labelCount} labels`);
      io.out(`  created ${header.createdAt} by ${header.createdBy}${header.note ? ` · ${header.note}` : ''}`);
      io.out(`  manifest SHA-256 ${header.manifestSha256} · labels SHA-256 ${header.labelsSha256}`);
      io.out(`  ledger anchor #${header.ledgerHead.seq} ${header.ledgerHead.hash}`);
      if (labels) io.out(labels.length ? table(LABEL_HEADER, labels.map(labelRow)) : `no label of case ${o.case} in this release`);
    });

  release
    .command('diff <from> <to>')
    .description('what changed between two releases, by case: added, removed, changed (with the fields)')
    .action(async (from: string, to: string, _o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, QA);
      const d = await ctx.api.call<ReleaseDiff>('GET', releasesPath(ctx, `/${enc(from)}/diff`), { query: { to } });
      if (ctx.json) return ctx.printJson(d);
      const cases = (labels: readonly ReleaseLabel[]) => new Set(labels.map((l) => l.caseId)).size;
      io.out(`${d.from} → ${d.to} (cases): ${cases(d.added)} added · ${cases(d.removed)} removed · ${d.changed.length} changed · ${d.unchanged} unchanged`);
      for (const l of d.added) io.out(`  + ${l.caseId}  "${l.label ?? ''}" by ${l.workforceId}`);
      for (const l of d.removed) io.out(`  - ${l.caseId}  "${l.label ?? ''}" by ${l.workforceId}`);
      for (const c of d.changed) {
        const was = c.before.map((l) => `"${l.label ?? ''}" by ${l.workforceId}`).join(', ');
        const now = c.after.map((l) => `"${l.label ?? ''}" by ${l.workforceId}`).join(', ');
        io.out(`  ~ ${c.caseId}  ${c.fields.join(', ')}: ${was} → ${now}`);
      }
    });

  release
    .command('verify <releaseId>')
    .description('re-check a release: ledger event, manifest and labels hashes, every label object by version, the ledger anchor (exit 1 on a problem)')
    .action(async (releaseId: string, _o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, QA);
      const v = await ctx.api.call<ReleaseVerdict>('GET', releasesPath(ctx, `/${enc(releaseId)}/verify`));
      if (ctx.json) ctx.printJson(v);
      else if (v.ok) {
        io.out(
          `Release ${v.releaseId}: verified — manifest SHA-256 ${v.manifestSha256}, labels hash, ${v.objectsChecked} label objects re-hashed, ` +
            `ledger anchor #${v.ledgerHead?.seq} holds`,
        );
      } else {
        io.out(`Release ${v.releaseId}: NOT VERIFIED — ${v.problems.length} problem(s)`);
        for (const p of v.problems) io.out(`  ${p.check}${p.caseId ? ` ${p.caseId}` : ''}${p.batchId ? ` (${p.batchId})` : ''}: ${p.detail}`);
      }
      if (!v.ok) throw new ReportedFailure();
    });

  return release;
}
