/**
 * Peak memory of IngestUpload on hostile uploads (issue 7): each upload is
 * ingested on the embedded stack in a child process of its own
 * (ingest-memory.child.ts), whose peak RSS (process.resourceUsage().maxRSS,
 * stack included) must stay under IngestUpload's memory setting in
 * infra/definitions.ts. A memory bound, not a time: no clock is asserted.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../infra/definitions.js';

const here = dirname(fileURLToPath(import.meta.url));
const ingestMemoryMb = FUNCTIONS.find((f) => f.name === 'IngestUpload')!.memoryMb;

interface ChildResult {
  case: string;
  sizeBytes: number;
  status?: string;
  reasons?: string[];
  ledgerRejected: number;
  report?: string;
  maxRssMb: number;
}

function ingestInChild(name: string): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'ingest-memory.child.ts'), name], {
    cwd: join(here, '..', '..'),
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (r.status !== 0) throw new Error(`child ${name} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildResult;
}

describe('IngestUpload: peak memory on hostile uploads', () => {
  // Issue 7 finding 1: the 1.41 MB bomb line took ingest's RSS from 187 MB to 3.2 GB and was accepted; the 1024³ header reached 4.2 GB before refusal.
  it.each([
    ['nifti-bomb', /gzip data decompresses to more than \d+ bytes, the most a \[48×48×24\] uint8 NIfTI can hold: refused while inflating/],
    ['nifti-bomb-no-grid', /refused while inflating/],
    ['header-1024-cubed', /mask grid \[1024×1024×1024\] differs from the image grid \[48×48×24\]/],
    ['header-1024-cubed-no-grid', /has 1073741824 voxels, more than the 134217728 allowed/],
  ])(`refuses the decompression bomb %s with peak RSS under IngestUpload's ${ingestMemoryMb} MB`, (name, reason) => {
    const r = ingestInChild(name);

    expect(r.sizeBytes).toBeGreaterThan(1_400_000);
    expect(r.status).toBe('rejected');
    expect(r.reasons?.[0]).toMatch(reason);
    expect(r.ledgerRejected).toBe(1);
    expect(r.report).toBe('rejected');
    expect(r.maxRssMb).toBeLessThan(ingestMemoryMb);
  }, 200_000);

  it.each([
    ['rle-runs-8mib', /^line has 8384659 bytes, more than the 2073341 a segmentation label line may hold$/],
    ['rle-runs-8mib-large-grid', /mask grid \[48×48×24\] differs from the image grid \[512×512×512\]/],
    ['rle-strings-8mib-large-grid', /runs must be an array of numbers/],
  ])(`refuses the 8 MiB run list %s (a line the size of the segmentation ceiling) with peak RSS under ${ingestMemoryMb} MB`, (name, reason) => {
    const r = ingestInChild(name);

    expect(r.status).toBe('rejected');
    expect(r.reasons?.[0]).toMatch(reason);
    expect(r.ledgerRejected).toBe(1);
    expect(r.maxRssMb).toBeLessThan(ingestMemoryMb);
  }, 200_000);

  // Issue 7 finding 4: a 49 MB giant-alias line (or 200 × 200 KB labels) overflowed DynamoDB's item limit; ingest failed every attempt, no submission.rejected.
  it.each([
    ['giant-alias', /^line has 5138\d{4} bytes, more than the 65536 a classification label line may hold$/],
    ['huge-labels', /^line has 2000\d\d bytes, more than the 65536 a classification label line may hold$/],
  ])(`rejects the huge file %s on real DynamoDB, status, report and ledger written, peak RSS under ${ingestMemoryMb} MB`, (name, reason) => {
    const r = ingestInChild(name);

    expect(r.sizeBytes).toBeGreaterThan(40_000_000);
    expect(r.status).toBe('rejected');
    expect(r.reasons?.[0]).toMatch(reason);
    expect(r.ledgerRejected).toBe(1);
    expect(r.report).toBe('rejected');
    expect(r.maxRssMb).toBeLessThan(ingestMemoryMb);
  }, 200_000);
});
