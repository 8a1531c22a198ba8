/**
 * `goldline release dossier <releaseId> [--out DIR]`: has the API export the
 * release's regulatory dossier (JSON and printable HTML, recorded in the
 * ledger), prints the stored keys and SHA-256s, and writes dossier.json and
 * dossier.html into DIR (default: the current directory).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { DossierExport } from '../../functions/use-cases/dossier.js';
import { contextOf } from './context.js';
import type { GoldlineIo } from './io.js';

const enc = encodeURIComponent;

/** Registers `dossier <releaseId>` under the `release` command group. */
export function registerDossierCommand(release: Command, io: GoldlineIo): void {
  release
    .command('dossier <releaseId>')
    .description("export a release's regulatory dossier and write dossier.json and dossier.html locally")
    .option('--out <dir>', 'directory for dossier.json and dossier.html', '.')
    .action(async (releaseId: string, o: { out: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, 'qa');
      const path = `/v1/programs/${enc(ctx.program())}/releases/${enc(releaseId)}/dossier`;
      const made = await ctx.api.call<DossierExport>('POST', path);
      const written: { file: string; sha256: string; matches: boolean }[] = [];
      for (const format of ['json', 'html'] as const) {
        const body = await ctx.api.call<unknown>('GET', path, { query: { format } });
        // The JSON is written as the export wrote it (two-space indent and a newline): parsing
        // and re-serializing it gives the same bytes, so its SHA-256 is the ledger's.
        const text = typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
        const bytes = new TextEncoder().encode(text);
        const file = join(o.out, `dossier.${format}`);
        await io.writeBytes(file, bytes);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        written.push({ file, sha256, matches: sha256 === made[format].sha256 });
      }
      if (ctx.json) return ctx.printJson({ ...made, written });
      io.out(`Dossier of release ${made.releaseId} (${made.protocol}), generated ${made.generatedAt}`);
      io.out(`  ${made.json.key}  SHA-256 ${made.json.sha256}  ${made.json.bytes} bytes`);
      io.out(`  ${made.html.key}  SHA-256 ${made.html.sha256}  ${made.html.bytes} bytes`);
      io.out(
        `  ledger: ${made.ledger.verified ? 'chain verified' : 'chain does NOT verify'} · release anchor ${made.ledger.anchorHolds ? 'holds' : 'does NOT hold'}` +
          `${made.ledger.head ? ` · head #${made.ledger.head.seq}` : ''}`,
      );
      for (const w of written) io.out(`wrote ${w.file}${w.matches ? '' : ' (its SHA-256 differs from the export: it was re-exported meanwhile)'}`);
    });
}
