/**
 * `goldline pm cases ingest FILE`: reads a case manifest (JSON array, JSON Lines
 * or CSV), turns it into the API's case rows and gold labels, and sends them in
 * requests of at most CASES_PER_REQUEST rows, with a progress bar. The API
 * validates every row (zod) and runs the de-identification gate.
 *
 * CSV: a header row; columns `caseId`, `imageKey`, `modality`, `bodyPart`,
 * `site`, `scanner`, `deidentified` (true/false), `flags.<name>` (true/false),
 * `subgroup.<key>`, and for gold cases `goldLabel` with `goldExpert`. An empty
 * cell is an absent value.
 *
 * With `--images DIR` the manifest names each case's image file (`image`,
 * relative to DIR) instead of an `imageKey`: the CLI hashes each file, sends the
 * manifest to `POST …/cases/manifest`, PUTs every image to the slot the API
 * returns (with exactly its signed headers), completes the ingest and prints each
 * case's de-identification verdict.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { CsvError, parseCsv } from '../../functions/domain/csv.js';
import type { CommandContext } from './context.js';
import { mapLimit, progress } from './format.js';
import { readInput } from './io.js';
import { UsageError } from './profile.js';

export const CASES_PER_REQUEST = 2000;
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

type Row = Record<string, unknown>;
export interface CaseManifest {
  cases: Row[];
  gold: { caseId: string; label: unknown; expertId: string }[];
}

const BOOLEAN: Record<string, boolean> = { true: true, false: false, yes: true, no: false, '1': true, '0': false };
const PLAIN_COLUMNS = new Set([
  'caseId',
  'imageKey',
  'image',
  'imageSizeBytes',
  'imageSha256',
  'modality',
  'bodyPart',
  'site',
  'scanner',
  'deidentified',
  'goldLabel',
  'goldExpert',
  'attestedBy',
  'attestationReason',
]);

/** Reads a manifest's bytes by its name (`.csv`, `.jsonl`/`.ndjson`, `.json`), or by its content. */
export function readCaseManifest(bytes: Uint8Array, filename: string): CaseManifest {
  const lower = filename.toLowerCase();
  if (lower.endsWith('.csv')) return fromCsv(bytes, filename);
  const text = new TextDecoder().decode(bytes).replace(/^\uFEFF/, '');
  const rows: Row[] = [];
  if (lower.endsWith('.json') || (!/\.(jsonl|ndjson)$/.test(lower) && text.trimStart().startsWith('['))) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`${filename} is not JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(data)) throw new UsageError(`${filename}: expected a JSON array of cases`);
    rows.push(...(data as Row[]));
  } else {
    text.split(/\r?\n/).forEach((line, i) => {
      if (!line.trim()) return;
      try {
        rows.push(JSON.parse(line) as Row);
      } catch (e) {
        throw new UsageError(`${filename} line ${i + 1}: not valid JSON (${(e as Error).message})`);
      }
    });
  }
  return splitGold(rows, filename);
}

/** A row may carry `goldLabel`/`goldExpert`: they become a gold label, not a case field. */
function splitGold(rows: Row[], filename: string): CaseManifest {
  const cases: Row[] = [];
  const gold: CaseManifest['gold'] = [];
  for (const [i, r] of rows.entries()) {
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw new UsageError(`${filename}: case ${i + 1} is not an object`);
    const { goldLabel, goldExpert, ...c } = r;
    cases.push(c);
    if (goldLabel !== undefined) {
      if (typeof goldExpert !== 'string' || !goldExpert) throw new UsageError(`${filename}: case ${String(c.caseId ?? i + 1)} has goldLabel but no goldExpert (who labelled it)`);
      gold.push({ caseId: String(c.caseId), label: goldLabel, expertId: goldExpert });
    }
  }
  if (cases.length === 0) throw new UsageError(`${filename} holds no cases`);
  return { cases, gold };
}

function fromCsv(bytes: Uint8Array, filename: string): CaseManifest {
  let parsed: ReturnType<typeof parseCsv>;
  try {
    parsed = parseCsv(bytes, { maxBytes: MAX_MANIFEST_BYTES });
  } catch (e) {
    if (e instanceof CsvError) throw new UsageError(`${filename}: ${e.message}`);
    throw e;
  }
  const { header } = parsed;
  for (const h of header) {
    if (!PLAIN_COLUMNS.has(h) && !/^(flags|subgroup)\.[A-Za-z0-9_-]{1,64}$/.test(h)) {
      throw new UsageError(`${filename}: unknown column "${h}" (known: ${[...PLAIN_COLUMNS].join(', ')}, flags.<name>, subgroup.<key>)`);
    }
  }
  if (!header.includes('caseId')) throw new UsageError(`${filename}: the header has no caseId column`);
  const rows = parsed.rows.map(({ line, cells }) => {
    const row: Row = {};
    const flags: Record<string, boolean> = {};
    const subgroup: Record<string, string> = {};
    header.forEach((h, i) => {
      const v = cells[i].trim();
      if (v === '') return;
      const bool = () => {
        const b = BOOLEAN[v.toLowerCase()];
        if (b === undefined) throw new UsageError(`${filename} line ${line}: ${h} must be true or false (got "${v}")`);
        return b;
      };
      if (h.startsWith('flags.')) flags[h.slice(6)] = bool();
      else if (h.startsWith('subgroup.')) subgroup[h.slice(9)] = v;
      else row[h] = h === 'deidentified' ? bool() : v;
    });
    if (Object.keys(flags).length) row.flags = flags;
    if (Object.keys(subgroup).length) row.subgroup = subgroup;
    return row;
  });
  return splitGold(rows, filename);
}

interface IngestResult {
  cases: number;
  gold: number;
  gated: number;
  undeclared: { caseId: string; problems: string[] }[];
}

/** Reads the file and ingests its cases in chunks; prints the totals and every case the API flagged. */
export async function ingestCaseFile(
  ctx: CommandContext,
  file: string,
  protocol: { protocolId: string; version: number },
): Promise<void> {
  const { io, api } = ctx;
  const bytes = await readInput(io, file, MAX_MANIFEST_BYTES);
  const manifest = readCaseManifest(bytes, file);
  const goldOf = new Map<string, CaseManifest['gold']>();
  for (const g of manifest.gold) goldOf.set(g.caseId, [...(goldOf.get(g.caseId) ?? []), g]);
  const total: IngestResult = { cases: 0, gold: 0, gated: 0, undeclared: [] };
  const bar = progress(io, `cases ${file}`, manifest.cases.length);
  for (let i = 0; i < manifest.cases.length; i += CASES_PER_REQUEST) {
    const cases = manifest.cases.slice(i, i + CASES_PER_REQUEST);
    const gold = cases.flatMap((c) => goldOf.get(String(c.caseId)) ?? []);
    const r = await api.call<IngestResult>('POST', `/v1/programs/${encodeURIComponent(ctx.program())}/cases`, {
      body: { protocolId: protocol.protocolId, protocolVersion: protocol.version, cases, gold },
    });
    total.cases += r.cases;
    total.gold += r.gold;
    total.gated += r.gated;
    total.undeclared.push(...r.undeclared);
    bar.tick(cases.length);
  }
  bar.done();
  if (ctx.json) {
    ctx.printJson(total);
    return;
  }
  io.out(`ingested ${total.cases} cases (${total.gold} gold) into ${ctx.program()}; held back by the de-identification gate: ${total.gated}`);
  for (const u of total.undeclared) io.out(`  ${u.caseId}: ${u.problems.join('; ')}`);
}

/** Largest image file the CLI reads (the API's slot limit is larger; a CLI holds one image at a time). */
const MAX_IMAGE_FILE_BYTES = 1024 * 1024 * 1024;

interface ManifestAccepted {
  ingestId: string;
  protocol: string;
  slots: { caseId: string; imageKey: string; url: string; headers: Record<string, string> }[];
  existing: string[];
}
interface IngestCompleted {
  cases: { caseId: string; verdict: 'clear' | 'internal-only' | 'quarantined'; findings: string[]; gold: boolean }[];
  awaitingImage: string[];
  undeclared: { caseId: string; problems: string[] }[];
}

/** Ingest through image slots: hash the images, send the manifest, upload each image, complete; prints the verdicts. */
export async function ingestWithImages(ctx: CommandContext, file: string, protocolRef: string, imagesDir: string): Promise<void> {
  const { io, api } = ctx;
  const bytes = await readInput(io, file, MAX_MANIFEST_BYTES);
  const manifest = readCaseManifest(bytes, file);
  const goldOf = new Map(manifest.gold.map((g) => [g.caseId, g]));
  const readImage = async (caseId: unknown, name: unknown): Promise<Uint8Array> => {
    if (typeof name !== 'string' || !name) throw new UsageError(`${file}: case ${String(caseId)} names no image file (column "image", relative to --images)`);
    return readInput(io, join(imagesDir, name), MAX_IMAGE_FILE_BYTES, `case ${String(caseId)}: `);
  };
  const hashing = progress(io, `hashing ${manifest.cases.length} images`, manifest.cases.length);
  const cases = await mapLimit(manifest.cases, 8, async (row) => {
    const { image, imageSizeBytes: _s, imageSha256: _h, imageKey: _k, attestedBy, attestationReason, ...rest } = row;
    const img = await readImage(rest.caseId, image);
    hashing.tick();
    const gold = goldOf.get(String(rest.caseId));
    return {
      ...rest,
      image: { fileName: String(image).split('/').pop(), sizeBytes: img.length, sha256Hex: createHash('sha256').update(img).digest('hex') },
      ...(gold ? { gold: { label: gold.label, expertId: gold.expertId } } : {}),
      ...(attestedBy !== undefined || attestationReason !== undefined ? { uninspectedFormatAttestation: { by: attestedBy, reason: attestationReason } } : {}),
    };
  });
  hashing.done();
  const imageOf = new Map(manifest.cases.map((c) => [String(c.caseId), c.image]));
  const program = encodeURIComponent(ctx.program());
  const accepted = await api.call<ManifestAccepted>('POST', `/v1/programs/${program}/cases/manifest`, { query: { protocol: protocolRef }, body: { cases } });
  const uploading = progress(io, `uploading ${accepted.slots.length} images`, accepted.slots.length);
  await mapLimit(accepted.slots, 8, async (slot) => {
    const img = await readImage(slot.caseId, imageOf.get(slot.caseId));
    const put = await io.fetch(slot.url, { method: 'PUT', headers: slot.headers, body: img });
    if (!put.ok) throw new Error(`image of ${slot.caseId}: the slot refused it (HTTP ${put.status}) ${(await put.text()).slice(0, 300)}`);
    uploading.tick();
  });
  uploading.done();
  const done = await api.call<IngestCompleted>('POST', `/v1/programs/${program}/cases/manifest/${encodeURIComponent(accepted.ingestId)}/complete`);
  if (ctx.json) {
    ctx.printJson({ ...done, ingestId: accepted.ingestId, existing: accepted.existing });
    return;
  }
  const count = (v: string) => done.cases.filter((c) => c.verdict === v).length;
  io.out(
    `ingested ${done.cases.length} cases (${done.cases.filter((c) => c.gold).length} gold) into ${ctx.program()} under ${accepted.protocol}: ` +
      `clear ${count('clear')} · internal only ${count('internal-only')} · quarantined ${count('quarantined')}` +
      (accepted.existing.length ? ` · already in the program ${accepted.existing.length}` : ''),
  );
  for (const c of done.cases.filter((x) => x.verdict !== 'clear')) io.out(`  ${c.caseId} ${c.verdict}: ${c.findings.join('; ')}`);
  if (done.awaitingImage.length) io.out(`  still waiting for their image: ${done.awaitingImage.join(', ')}`);
  for (const u of done.undeclared) io.out(`  ${u.caseId}: ${u.problems.join('; ')}`);
}
