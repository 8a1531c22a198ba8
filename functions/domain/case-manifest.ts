/**
 * A PM's case manifest, as JSON or CSV: one row per case with its attributes,
 * de-identification attestation, the image file to upload (name, size,
 * SHA-256: the upload slot is bound to them), and optionally an expert's gold
 * label. Parsed whole before anything is stored; every problem is reported
 * with its row and field.
 */
import { z } from 'zod';
import { CsvError, parseCsv } from './csv.js';
import { CASE_FLAGS, GoldAnswer, Identifier, ImageGrid, SubgroupKey } from './model/index.js';
import { closestName } from './spelling.js';

/** Largest manifest accepted (bytes), as the API's body limit for manifests. */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;
/** Most cases in one manifest. */
export const MAX_MANIFEST_CASES = 10_000;
/** Largest image accepted for one case (a slot is bound to the declared size). */
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024 * 1024 - 1;

/** Image formats the de-identification gate reads, by file extension, with the content type of the upload. */
export const IMAGE_EXTENSIONS = {
  dcm: 'application/dicom',
  'nii.gz': 'application/gzip',
  nii: 'application/octet-stream',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  pgm: 'image/x-portable-graymap',
  ppm: 'image/x-portable-pixmap',
} as const;
export type ImageExtension = keyof typeof IMAGE_EXTENSIONS;

/** The extension of an image file name, from the allowlist (longest match first), or undefined. */
export function imageExtension(fileName: string): ImageExtension | undefined {
  const lower = fileName.toLowerCase();
  return (Object.keys(IMAGE_EXTENSIONS) as ImageExtension[]).sort((a, b) => b.length - a.length).find((e) => lower.endsWith(`.${e}`));
}

const FileName = z
  .string()
  .min(1)
  .max(255)
  .refine((n) => imageExtension(n) !== undefined, `an image file name ending in ${Object.keys(IMAGE_EXTENSIONS).map((e) => `.${e}`).join(', ')}`);

export const ManifestImage = z.strictObject({
  /** The client's file name: only its extension is used (the server chooses the key). */
  fileName: FileName,
  sizeBytes: z.number().int().min(1).max(MAX_IMAGE_BYTES),
  sha256Hex: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits (the SHA-256 of the image file)'),
});

export const ManifestCase = z.strictObject({
  caseId: Identifier,
  modality: z.string().trim().min(1).max(64),
  bodyPart: z.string().trim().min(1).max(64),
  site: z.string().trim().min(1).max(128),
  scanner: z.string().trim().min(1).max(128).optional(),
  subgroup: z.record(SubgroupKey, z.string().trim().min(1).max(128)).default({}),
  flags: z.strictObject({ sensitive: z.boolean().optional(), rare: z.boolean().optional(), complex: z.boolean().optional() }).default({}),
  /** The de-identification attestation: without it a case never reaches a vendor. */
  deidentified: z.boolean(),
  grid: ImageGrid.optional(),
  uninspectedFormatAttestation: z.strictObject({ by: z.string().min(1).max(200), reason: z.string().min(1).max(2000) }).optional(),
  image: ManifestImage,
  /** An expert's reference label: the case joins the gold pool (never dispatched as work). */
  gold: z.strictObject({ label: GoldAnswer, expertId: z.string().min(1).max(128) }).optional(),
});
export type ManifestCase = z.infer<typeof ManifestCase>;

export const JsonCaseManifest = z.strictObject({ cases: z.array(ManifestCase).min(1).max(MAX_MANIFEST_CASES) });

/** A manifest that cannot be taken, with every problem (`path` as zod gives it, plus the CSV line). */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  constructor(readonly problems: { path: (string | number)[]; message: string }[]) {
    super(problems.slice(0, 20).map((p) => `${p.path.join('.') || 'manifest'}: ${p.message}`).join('; ') + (problems.length > 20 ? `; and ${problems.length - 20} more` : ''));
  }
}

const FIXED_COLUMNS = [
  'caseId',
  'modality',
  'bodyPart',
  'site',
  'scanner',
  'deidentified',
  'image',
  'imageSizeBytes',
  'imageSha256',
  'goldLabel',
  'goldExpert',
  'attestedBy',
  'attestationReason',
] as const;
const REQUIRED_COLUMNS = ['caseId', 'modality', 'bodyPart', 'site', 'deidentified', 'image', 'imageSizeBytes', 'imageSha256'];

const BOOLEAN = new Map([
  ['true', true],
  ['yes', true],
  ['1', true],
  ['false', false],
  ['no', false],
  ['0', false],
]);

/**
 * Parses a manifest. JSON: `{ "cases": [ … ] }`. CSV: a header row naming the
 * columns (caseId, modality, bodyPart, site, scanner, deidentified, image,
 * imageSizeBytes, imageSha256, goldLabel, goldExpert, attestedBy,
 * attestationReason, `flags.<flag>`, `subgroup.<key>`), one row per case;
 * booleans are true/false, yes/no or 1/0; an empty optional cell is absent.
 * Case ids must be unique. Throws ManifestError naming each problem.
 *
 * @example parseCaseManifest('csv', bytes).map((c) => c.caseId)
 */
export function parseCaseManifest(format: 'json' | 'csv', body: Uint8Array): ManifestCase[] {
  if (body.length > MAX_MANIFEST_BYTES) {
    throw new ManifestError([{ path: [], message: `the manifest is ${body.length} bytes, more than the ${MAX_MANIFEST_BYTES} accepted` }]);
  }
  const cases = format === 'json' ? parseJson(body) : parseCsvManifest(body);
  const seen = new Map<string, number>();
  const dup: { path: (string | number)[]; message: string }[] = [];
  cases.forEach((c, i) => {
    if (seen.has(c.caseId)) dup.push({ path: ['cases', i, 'caseId'], message: `case ${c.caseId} is already row ${seen.get(c.caseId)! + 1}` });
    else seen.set(c.caseId, i);
  });
  if (dup.length) throw new ManifestError(dup);
  return cases;
}

function parseJson(body: Uint8Array): ManifestCase[] {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (e) {
    throw new ManifestError([{ path: [], message: `not valid JSON (${e instanceof Error ? e.message.slice(0, 200) : 'unreadable'})` }]);
  }
  const r = JsonCaseManifest.safeParse(json);
  if (!r.success) throw new ManifestError(r.error.issues.map((i) => ({ path: i.path as (string | number)[], message: i.message })));
  return r.data.cases;
}

function parseCsvManifest(body: Uint8Array): ManifestCase[] {
  let csv: ReturnType<typeof parseCsv>;
  try {
    csv = parseCsv(body, { maxBytes: MAX_MANIFEST_BYTES, maxRows: MAX_MANIFEST_CASES });
  } catch (e) {
    if (e instanceof CsvError) throw new ManifestError([{ path: e.line ? [`line ${e.line}`] : [], message: e.message.replace(/^line \d+: /, '') }]);
    throw e;
  }
  const problems: { path: (string | number)[]; message: string }[] = [];
  const known = [...FIXED_COLUMNS, ...CASE_FLAGS.map((f) => `flags.${f}`)];
  for (const h of csv.header) {
    if ((FIXED_COLUMNS as readonly string[]).includes(h)) continue;
    if (h.startsWith('flags.') && (CASE_FLAGS as readonly string[]).includes(h.slice(6))) continue;
    if (h.startsWith('subgroup.') && SubgroupKey.safeParse(h.slice(9)).success) continue;
    const near = closestName(h, known);
    problems.push({ path: ['header', h.slice(0, 64)], message: `unknown column${near ? `: did you mean "${near}"?` : ''} (columns: ${FIXED_COLUMNS.join(', ')}, flags.<${CASE_FLAGS.join('|')}>, subgroup.<key>)` });
  }
  for (const c of REQUIRED_COLUMNS) if (!csv.header.includes(c)) problems.push({ path: ['header'], message: `the column "${c}" is missing` });
  if (csv.rows.length === 0) problems.push({ path: [], message: 'no case rows after the header' });
  if (problems.length) throw new ManifestError(problems);

  const out: ManifestCase[] = [];
  csv.rows.forEach((row) => {
    const cell = (name: string): string | undefined => {
      const k = csv.header.indexOf(name);
      const v = k < 0 ? undefined : row.cells[k].trim();
      return v === '' ? undefined : v;
    };
    const rowProblems: { path: (string | number)[]; message: string }[] = [];
    const bool = (name: string, v: string | undefined): boolean | undefined => {
      if (v === undefined) return undefined;
      const b = BOOLEAN.get(v.toLowerCase());
      if (b === undefined) rowProblems.push({ path: [name], message: `${JSON.stringify(v.slice(0, 32))} is not true/false, yes/no or 1/0` });
      return b;
    };
    const number = (name: string, v: string | undefined): number | undefined => {
      if (v === undefined) return undefined;
      if (!/^\d{1,16}$/.test(v)) {
        rowProblems.push({ path: [name], message: `${JSON.stringify(v.slice(0, 32))} is not a whole number of bytes` });
        return undefined;
      }
      return Number(v);
    };
    const flags = Object.fromEntries(CASE_FLAGS.flatMap((f) => (cell(`flags.${f}`) === undefined ? [] : [[f, bool(`flags.${f}`, cell(`flags.${f}`))]])));
    const subgroup = Object.fromEntries(csv.header.filter((h) => h.startsWith('subgroup.')).flatMap((h) => (cell(h) === undefined ? [] : [[h.slice(9), cell(h)]])));
    const goldLabel = cell('goldLabel');
    const attestedBy = cell('attestedBy');
    const attestationReason = cell('attestationReason');
    const candidate = {
      caseId: cell('caseId'),
      modality: cell('modality'),
      bodyPart: cell('bodyPart'),
      site: cell('site'),
      ...(cell('scanner') !== undefined ? { scanner: cell('scanner') } : {}),
      subgroup,
      flags,
      deidentified: bool('deidentified', cell('deidentified')),
      ...(attestedBy !== undefined || attestationReason !== undefined ? { uninspectedFormatAttestation: { by: attestedBy, reason: attestationReason } } : {}),
      image: { fileName: cell('image'), sizeBytes: number('imageSizeBytes', cell('imageSizeBytes')), sha256Hex: cell('imageSha256')?.toLowerCase() },
      ...(goldLabel !== undefined ? { gold: { label: goldLabel, expertId: cell('goldExpert') } } : {}),
    };
    const where = `line ${row.line}`;
    if (rowProblems.length) {
      for (const p of rowProblems) problems.push({ path: [where, ...p.path], message: p.message });
      return;
    }
    const r = ManifestCase.safeParse(candidate);
    if (!r.success) {
      for (const issue of r.error.issues) problems.push({ path: [where, ...csvColumn(issue.path as (string | number)[])], message: issue.message });
      return;
    }
    out.push(r.data);
  });
  if (problems.length) throw new ManifestError(problems);
  return out;
}

/** The CSV column a ManifestCase path comes from. */
function csvColumn(path: (string | number)[]): (string | number)[] {
  const [head, sub] = path;
  if (head === 'image') return [sub === 'fileName' ? 'image' : sub === 'sizeBytes' ? 'imageSizeBytes' : sub === 'sha256Hex' ? 'imageSha256' : 'image'];
  if (head === 'gold') return [sub === 'expertId' ? 'goldExpert' : 'goldLabel'];
  if (head === 'uninspectedFormatAttestation') return [sub === 'by' ? 'attestedBy' : 'attestationReason'];
  if (head === 'flags' || head === 'subgroup') return [`${head}.${String(sub)}`];
  return path;
}
