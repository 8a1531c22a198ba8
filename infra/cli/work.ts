/**
 * Vendor and expert work commands (the same routes serve both): your batches, one
 * batch, download its manifest and images, submit a label file through an upload
 * slot and wait for its validation report, read a report.
 */
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { type CommandContext, contextOf, positiveInt } from './context.js';
import { mapLimit, progress, table } from './format.js';
import { type GoldlineIo, readInput } from './io.js';
import { ReportedFailure, UsageError } from './profile.js';
import { MAX_UPLOAD_BYTES } from '../../functions/use-cases/vendor-portal.js';
import type { WorkBatchSummary } from '../../functions/use-cases/work-queries.js';

/** Aliases per image-URL request (the route's limit). */
const ALIASES_PER_REQUEST = 1000;

interface WorkBatch {
  batchId: string;
  status: string;
  protocol: string;
  items: number;
  slaDeadline?: string;
  manifestUrl: string;
}
interface Manifest {
  batchId: string;
  protocol: string;
  task: { type: string };
  upload: { format: string; line: Record<string, string> };
  items: { alias: string; image: string }[];
}
interface Slot {
  uploadId: string;
  url: string;
  headers: Record<string, string>;
  expiresAt: string;
}
export interface UploadReport {
  status: 'pending' | 'rejected' | 'accepted' | 'superseded';
  uploadId?: string;
  problems?: { line: number; reason: string }[];
  checkedAt?: string;
}

const enc = encodeURIComponent;

/** Registers `batches`, `batch show`, `download`, `submit`, `report` on a role's command group. */
export function registerWorkCommands(group: Command, io: GoldlineIo, defaultUser: string | undefined): void {
  group
    .command('batches')
    .description('list your batches, newest first')
    .option('--limit <n>', 'at most this many', positiveInt('--limit', 100_000), 1000)
    .action(async (o: { limit: number }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, defaultUser);
      const items = await ctx.api.all<WorkBatchSummary>('/v1/batches', {}, o.limit);
      if (ctx.json) return ctx.printJson({ items });
      if (items.length === 0) return io.out('no batches');
      io.out(table(['batch', 'round', 'status', 'items', 'protocol', 'SLA deadline'], items.map((b) => [b.batchId, b.round, b.status, b.items, b.protocol, b.slaDeadline])));
    });

  group
    .command('batch')
    .description('one of your batches')
    .command('show <batch>')
    .description('status, protocol, item count, SLA deadline and the presigned manifest URL')
    .action(async (batchId: string, _o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, defaultUser);
      const b = await ctx.api.call<WorkBatch>('GET', `/v1/batches/${enc(batchId)}`);
      if (ctx.json) return ctx.printJson(b);
      io.out(table(['batch', 'status', 'items', 'protocol', 'SLA deadline'], [[b.batchId, b.status, b.items, b.protocol, b.slaDeadline]]));
      io.out(`manifest: ${b.manifestUrl}`);
    });

  group
    .command('download <batch>')
    .description('download the manifest and every image of a batch into a directory')
    .option('--out <dir>', 'where to write (default: ./<batch>)')
    .action(async (batchId: string, o: { out?: string }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, defaultUser);
      const r = await downloadBatch(ctx, batchId, o.out ?? batchId);
      if (ctx.json) return ctx.printJson(r);
      io.out(`${r.manifest}  (${r.images} images in ${r.imagesDir})`);
    });

  group
    .command('submit <batch> <file>')
    .description('upload a label file: SHA-256, upload slot, PUT, then wait for and print the validation report')
    .option('--wait <seconds>', 'how long to wait for the report', positiveInt('--wait', 3600), 120)
    .action(async (batchId: string, file: string, o: { wait: number }, cmd: Command) => {
      const ctx = await contextOf(cmd, io, defaultUser);
      const report = await submitLabelFile(ctx, batchId, file, o.wait);
      printReport(ctx, batchId, report);
      if (report.status === 'pending' || report.status === 'rejected') throw new ReportedFailure();
    });

  group
    .command('report <batch> <upload>')
    .description("an upload's status and validation report")
    .action(async (batchId: string, uploadId: string, _o: unknown, cmd: Command) => {
      const ctx = await contextOf(cmd, io, defaultUser);
      printReport(ctx, batchId, await ctx.api.call<UploadReport>('GET', `/v1/batches/${enc(batchId)}/uploads/${enc(uploadId)}`));
    });
}

/** Manifest to `<dir>/manifest.json`, images to `<dir>/images/<file name of the aliased key>`. */
export async function downloadBatch(ctx: CommandContext, batchId: string, dir: string): Promise<{ manifest: string; imagesDir: string; images: number }> {
  const { api, io } = ctx;
  const batch = await api.call<WorkBatch>('GET', `/v1/batches/${enc(batchId)}`);
  const res = await io.fetch(batch.manifestUrl);
  if (!res.ok) throw new Error(`manifest download failed: HTTP ${res.status} (the presigned URL may have expired: run the command again)`);
  const text = await res.text();
  const manifest = JSON.parse(text) as Manifest;
  const manifestPath = join(dir, 'manifest.json');
  await io.writeBytes(manifestPath, text);
  const imagesDir = join(dir, 'images');
  const bar = progress(io, `images ${batchId}`, manifest.items.length);
  for (let i = 0; i < manifest.items.length; i += ALIASES_PER_REQUEST) {
    const chunk = manifest.items.slice(i, i + ALIASES_PER_REQUEST);
    const { urls } = await api.call<{ urls: Record<string, string> }>('POST', `/v1/batches/${enc(batchId)}/image-urls`, {
      body: { aliases: chunk.map((it) => it.alias) },
    });
    await mapLimit(chunk, 8, async (it) => {
      const name = basename(it.image);
      // The key is the server's, but a file name is still checked before it becomes a path.
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(name)) throw new Error(`image key ${it.image} does not end in a plain file name`);
      const img = await io.fetch(urls[it.alias]);
      if (!img.ok) throw new Error(`image ${it.alias}: HTTP ${img.status}`);
      await io.writeBytes(join(imagesDir, name), new Uint8Array(await img.arrayBuffer()));
      bar.tick();
    });
  }
  bar.done();
  return { manifest: manifestPath, imagesDir, images: manifest.items.length };
}

/**
 * Submits a label file the way the API asks: declare its size and SHA-256, PUT
 * the bytes to the slot's URL with exactly the slot's headers, then poll the
 * report until it is no longer pending (or `waitSeconds` pass).
 */
export async function submitLabelFile(ctx: CommandContext, batchId: string, file: string, waitSeconds: number): Promise<UploadReport> {
  const { api, io } = ctx;
  const bytes = await readInput(io, file, MAX_UPLOAD_BYTES);
  if (bytes.length === 0) throw new UsageError(`${file} is empty: a label file has one line per alias of the manifest`);
  const sha256Hex = createHash('sha256').update(bytes).digest('hex');
  const slot = await api.call<Slot>('POST', `/v1/batches/${enc(batchId)}/uploads`, { body: { sizeBytes: bytes.length, sha256Hex } });
  const put = await io.fetch(slot.url, { method: 'PUT', headers: slot.headers, body: bytes });
  if (!put.ok) throw new Error(`upload to the slot failed: HTTP ${put.status} ${(await put.text()).slice(0, 300)}`);
  if (!ctx.json) io.err(`uploaded ${file} (${bytes.length} bytes, sha256 ${sha256Hex}) as upload ${slot.uploadId}; waiting for the validation report…`);
  const path = `/v1/batches/${enc(batchId)}/uploads/${enc(slot.uploadId)}`;
  const until = Date.now() + waitSeconds * 1000;
  for (;;) {
    const report = await api.call<UploadReport>('GET', path);
    if (report.status !== 'pending' || Date.now() >= until) return { ...report, uploadId: report.uploadId ?? slot.uploadId };
    await io.sleep(250);
  }
}

function printReport(ctx: CommandContext, batchId: string, r: UploadReport): void {
  if (ctx.json) {
    ctx.printJson(r);
    return;
  }
  const { io } = ctx;
  if (r.status === 'pending') {
    io.out(`upload ${r.uploadId ?? ''} pending: not validated yet (later: goldline vendor report ${batchId} ${r.uploadId ?? 'UPLOAD'})`);
    return;
  }
  io.out(`upload ${r.uploadId ?? ''} ${r.status}${r.checkedAt ? ` (checked ${r.checkedAt})` : ''}`);
  for (const p of r.problems ?? []) io.out(`  ${p.line === 0 ? 'file' : `line ${p.line}`}: ${p.reason}`);
}
