/**
 * One hostile upload ingested on the embedded stack, in a process of its own so
 * its peak RSS is its own (run by ingest-memory.test.ts):
 *   node --import tsx test/integration/ingest-memory.child.ts <case>
 * Prints one JSON line: the case, the submission status, its first reasons,
 * whether `submission.rejected` reached the ledger and the report was written,
 * and `maxRssMb` (process.resourceUsage().maxRSS).
 */
import '../../infra/local/polyfills.js';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ProtocolVersion, writeNifti } from '../../functions/domain/index.js';
import { reportObject, storeBatchKey } from '../../functions/use-cases/batch-key.js';
import { uploadObject } from '../../functions/use-cases/ingest-upload.js';
import { startLocalStack } from '../../infra/local/stack.js';

const T0 = '2026-11-01T00:00:00.000Z';
const PROGRAM = 'prog-mem';
const BATCH = 'prog-mem-r1-vendor-a-1';
const ALIASES = ['k3v9x2m7qa8d', 'p4w8h2n6tr5e', 'z7c3b9f2gu4s'];
const GRID = { dims: [48, 48, 24] as [number, number, number], spacing: [1, 1, 2] as [number, number, number] };
/** A 512×512×512 image: its masks may fill the whole segmentation line ceiling. */
const LARGE_GRID = { dims: [512, 512, 512] as [number, number, number], spacing: [0.7, 0.7, 0.7] as [number, number, number] };

/** 1 GiB of zeros as 1,024 gzip members of 1 MiB (about 1 MB in all). */
const gigabyteOfGzippedZeros = (): Buffer => {
  const member = gzipSync(new Uint8Array(1024 * 1024), { level: 9 });
  return Buffer.concat(Array.from({ length: 1024 }, () => member));
};

/** A NIfTI-1 header (352 bytes) declaring nx×ny×nz uint8 voxels, 1 mm. */
function niftiHeader(nx: number, ny: number, nz: number): Uint8Array {
  const out = new Uint8Array(352);
  const v = new DataView(out.buffer);
  v.setInt32(0, 348, true);
  for (const [i, d] of [3, nx, ny, nz, 1, 1, 1, 1].entries()) v.setInt16(40 + 2 * i, d, true);
  v.setInt16(70, 2, true);
  v.setInt16(72, 8, true);
  for (const [i, p] of [1, 1, 1, 1, 0, 0, 0, 0].entries()) v.setFloat32(76 + 4 * i, p, true);
  v.setFloat32(108, 352, true);
  out[123] = 2;
  out.set([0x6e, 0x2b, 0x31, 0x00], 344);
  return out;
}

const niftiLine = (alias: string, bytes: Uint8Array) =>
  JSON.stringify({ alias, annotator: 'vendor-a/r', mask: { format: 'nifti', encoding: 'base64', data: Buffer.from(bytes).toString('base64') } });

const small = () => {
  const data = new Uint8Array(48 * 48 * 24);
  data.fill(1, 1000, 3000);
  return writeNifti({ dims: [48, 48, 24], spacing: [1, 1, 2], data }, { gzip: true });
};

/** One goldline-rle3d/1 line whose runs list fills the line up to just under 8 MiB. */
function* rleLine(value: (k: number) => string): Iterable<string> {
  yield `{"alias":"${ALIASES[0]}","annotator":"r","mask":{"format":"goldline-rle3d/1","dims":[48,48,24],"spacing":[1,1,2],"labels":[{"label":1,"runs":[`;
  const budget = 8 * 1024 * 1024 - 4096;
  let size = 0;
  for (let k = 0; size < budget; k++) {
    const part = `${k ? ',' : ''}${value(k)}`;
    size += part.length;
    yield part;
  }
  yield ']}]}}';
}

/** The upload, as chunks: written to a file and streamed to S3, so the setup never holds it whole. */
type Chunks = () => Iterable<string | Uint8Array>;

const CASES: Record<string, { task: 'segmentation' | 'classification'; grid: boolean | 'large'; file: Chunks }> = {
  // A 1.4 MB line: a valid 48×48×24 NIfTI followed by 1 GiB of gzipped zeros.
  'nifti-bomb': { task: 'segmentation', grid: true, file: () => [niftiLine(ALIASES[0], Buffer.concat([small(), gigabyteOfGzippedZeros()]))] },
  'nifti-bomb-no-grid': { task: 'segmentation', grid: false, file: () => [niftiLine(ALIASES[0], Buffer.concat([small(), gigabyteOfGzippedZeros()]))] },
  // A gzipped NIfTI declaring 1024³ voxels, its "data" 1 GiB of gzipped zeros.
  'header-1024-cubed': {
    task: 'segmentation',
    grid: true,
    file: () => [niftiLine(ALIASES[0], Buffer.concat([gzipSync(niftiHeader(1024, 1024, 1024)), gigabyteOfGzippedZeros()]))],
  },
  'header-1024-cubed-no-grid': {
    task: 'segmentation',
    grid: false,
    file: () => [niftiLine(ALIASES[0], Buffer.concat([gzipSync(niftiHeader(1024, 1024, 1024)), gigabyteOfGzippedZeros()]))],
  },
  // Lines of just under 8 MiB (the segmentation line ceiling): 4 million runs, numbers then strings;
  // on a 48×48×24 grid (refused by the grid's line cap) and on a grid too large for it to apply.
  'rle-runs-8mib': { task: 'segmentation', grid: true, file: () => rleLine((k) => String(k % 10)) },
  'rle-runs-8mib-large-grid': { task: 'segmentation', grid: 'large', file: () => rleLine((k) => String(k % 10)) },
  'rle-strings-8mib-large-grid': { task: 'segmentation', grid: 'large', file: () => rleLine(() => '"a"') },
  // A correctly declared 49 MB single-line file with a giant alias.
  'giant-alias': {
    task: 'classification',
    grid: false,
    file: function* () {
      yield '{"alias":"';
      for (let i = 0; i < 49; i++) yield 'k'.repeat(1024 * 1024);
      yield '","label":"normal","annotator":"r"}';
    },
  },
  // 200 lines with 200 KB labels.
  'huge-labels': {
    task: 'classification',
    grid: false,
    file: function* () {
      for (let i = 0; i < 200; i++) yield `${JSON.stringify({ alias: ALIASES[0], label: 'x'.repeat(200_000), annotator: 'r' })}\n`;
    },
  },
};

/** Writes the chunks to a temp file; returns its path, size and SHA-256. */
function writeUpload(chunks: Chunks): { path: string; sizeBytes: number; sha256Hex: string } {
  const path = join(mkdtempSync(join(tmpdir(), 'goldline-mem-')), 'upload.jsonl');
  const fd = openSync(path, 'w');
  const hash = createHash('sha256');
  let sizeBytes = 0;
  let pending: string[] = [];
  let pendingChars = 0;
  const write = (b: Uint8Array) => {
    writeSync(fd, b);
    hash.update(b);
    sizeBytes += b.length;
  };
  const flush = () => {
    if (pending.length) write(Buffer.from(pending.join('')));
    pending = [];
    pendingChars = 0;
  };
  for (const c of chunks()) {
    if (typeof c !== 'string') {
      flush();
      write(c);
      continue;
    }
    pending.push(c);
    pendingChars += c.length;
    if (pendingChars >= 1024 * 1024) flush();
  }
  pending.push('\n');
  flush();
  closeSync(fd);
  return { path, sizeBytes, sha256Hex: hash.digest('hex') };
}

async function main(name: string): Promise<void> {
  const c = CASES[name];
  if (!c) throw new Error(`unknown case ${name}: ${Object.keys(CASES).join(', ')}`);
  const stack = await startLocalStack();
  try {
    const { deps } = stack;
    const protocol = ProtocolVersion.parse({
      protocolId: 'mem',
      version: 1,
      title: 'Memory bound',
      task:
        c.task === 'segmentation'
          ? { type: 'segmentation', labels: { '1': 'liver' }, minDice: 0.8, maxHd95Mm: 5, nsdToleranceMm: 2 }
          : { type: 'classification', classes: ['normal', 'abnormal'] },
      thresholds: { goldAccuracy: 0.8, minGoldItems: 1 },
      goldRate: 0.1,
      batchSize: 10,
      slaHours: 48,
      routing: { rules: [], default: { pool: 'vendor' } },
      createdBy: 'pm:test',
      createdAt: T0,
    });
    await deps.repo.putProtocolVersion(protocol);
    await deps.repo.createBatch({
      batchId: BATCH,
      programId: PROGRAM,
      round: 1,
      protocol: 'mem@1',
      workforceId: 'vendor-a',
      workforceKind: 'vendor',
      itemCount: 3,
      goldCount: 0,
      slaHours: 48,
      status: 'awaiting-submission',
      createdAt: T0,
    });
    await storeBatchKey(deps, {
      batchId: BATCH,
      round: 1,
      protocol: 'mem@1',
      workforceId: 'vendor-a',
      workforceKind: 'vendor',
      slaHours: 48,
      createdAt: T0,
      items: ALIASES.map((alias, i) => ({
        alias,
        caseId: `case-${i}`,
        gold: false,
        imageKey: `images/case-${i}.json`,
        ...(c.grid ? { grid: c.grid === 'large' ? LARGE_GRID : GRID } : {}),
      })),
      answers: {},
    });
    const upload = writeUpload(c.file);
    const uploadId = 'upmem00001';
    const key = uploadObject('vendor-a', BATCH, uploadId);
    await deps.repo.putUploadSlot({
      batchId: BATCH,
      uploadId,
      key,
      workforceId: 'vendor-a',
      sizeBytes: upload.sizeBytes,
      sha256Hex: upload.sha256Hex,
      expiresAt: '2099-01-01T00:00:00.000Z',
    });
    // Streamed to S3; the S3 event of this put runs IngestUpload, as in AWS.
    await stack.s3.send(
      new PutObjectCommand({
        Bucket: deps.buckets.uploads,
        Key: key,
        Body: createReadStream(upload.path),
        ContentLength: upload.sizeBytes,
        ContentType: 'application/x-ndjson',
      }),
    );
    rmSync(dirname(upload.path), { recursive: true, force: true });
    await stack.idle();
    const submission = (await deps.repo.listSubmissions(BATCH)).find((s) => s.uploadId === uploadId);
    const ledger = (await deps.repo.listLedger(PROGRAM)).filter((e) => e.type === 'submission.rejected');
    const report = await deps.objects.getJson<{ status: string }>(deps.buckets.exports, reportObject('vendor-a', BATCH, uploadId));
    process.stdout.write(
      `${JSON.stringify({
        case: name,
        sizeBytes: upload.sizeBytes,
        status: submission?.status,
        reasons: submission?.problems.map((p) => p.reason).slice(0, 3),
        ledgerRejected: ledger.length,
        report: report?.status,
        maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      })}\n`,
    );
  } finally {
    await stack.stop();
  }
}

main(process.argv[2]).then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  },
);
