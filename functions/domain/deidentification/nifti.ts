/**
 * The de-identification gate's NIfTI-1 and NIfTI-2 reader (`.nii`, `.hdr`, and
 * gzipped, inflated as a stream only to the end of the header and extensions):
 * the free-text header fields, and every header extension — DICOM (ecode 2) by
 * the DICOM gate, MRS JSON (ecode 44) by key, COMMENT (ecode 6) as free text,
 * any other ecode as content the gate cannot read. See ../deidentification-formats.ts.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { GateFinding } from './finding.js';
import {
  ALLOWED_TOOL_STAMPS,
  FormatError,
  type OtherFormatOptions,
  type PrefixSource,
  TooLargeError,
  fieldText,
  isAllowedText,
  latin1,
  mib,
} from './prefix-source.js';

/** Most bytes a gzipped NIfTI is inflated to: its header and extensions must end before this. */
export const MAX_INFLATED_HEADER_BYTES = 16 * 1024 * 1024;
/** Most bytes of a NIfTI MRS JSON extension parsed. */
const MAX_JSON_BYTES = 4 * 1024 * 1024;
const MAX_JSON_DEPTH = 32;
const MAX_JSON_NODES = 100_000;
const MAX_NIFTI_EXTENSIONS = 256;

interface NiftiLayout {
  version: 1 | 2;
  littleEndian: boolean;
  headerBytes: 348 | 540;
  /** `n+1`/`n+2`: header and data in one file (extensions end at vox_offset); `ni1`/`ni2`: header file only. */
  singleFile: boolean;
}

/** sizeof_hdr (348 or 540, either byte order) and the magic string. */
export function niftiLayout(b: Uint8Array): NiftiLayout | undefined {
  if (b.length < 4) return undefined;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (const littleEndian of [true, false]) {
    const size = view.getInt32(0, littleEndian);
    if (size === 348 && b.length >= 348) {
      const m = latin1(b.subarray(344, 348));
      if (m === 'n+1\0' || m === 'ni1\0') return { version: 1, littleEndian, headerBytes: 348, singleFile: m[1] === '+' };
    }
    if (size === 540 && b.length >= 12) {
      const m = latin1(b.subarray(4, 12));
      if (m === 'n+2\0\r\n\x1a\n' || m === 'ni2\0\r\n\x1a\n') return { version: 2, littleEndian, headerBytes: 540, singleFile: m[1] === '+' };
    }
  }
  return undefined;
}

/** sizeof_hdr 348 without a NIfTI magic: an ANALYZE 7.5 header. */
export function niftiLikeAnalyze(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return view.getInt32(0, true) === 348 || view.getInt32(0, false) === 348;
}

/** The free-text fields of each NIfTI version: name, offset, size. */
const NIFTI_TEXT_FIELDS: Record<1 | 2, readonly [string, number, number][]> = {
  1: [
    ['data_type', 4, 10],
    ['db_name', 14, 18],
    ['descrip', 148, 80],
    ['aux_file', 228, 24],
    ['intent_name', 328, 16],
  ],
  2: [
    ['descrip', 240, 80],
    ['aux_file', 320, 24],
    ['intent_name', 508, 16],
    ['unused_str', 525, 15],
  ],
};

/** NIfTI-1.1 extension codes (nifti1.h, NIFTI_ECODE_*). */
const NIFTI_ECODES: Record<number, string> = {
  0: 'IGNORE',
  2: 'DICOM',
  4: 'AFNI',
  6: 'COMMENT',
  8: 'XCEDE',
  10: 'JIMDIMINFO',
  12: 'WORKFLOW_FWDS',
  14: 'FREESURFER',
  16: 'PYPICKLE',
  18: 'MIND_IDENT',
  20: 'B_VALUE',
  22: 'SPHERICAL_DIRECTION',
  24: 'DT_COMPONENT',
  26: 'SHC_DEGREEORDER',
  28: 'VOXBO',
  30: 'CARET',
  32: 'CIFTI',
  34: 'VARIABLE_FRAME_TIMING',
  38: 'EVAL',
  40: 'MATLAB',
  42: 'QUANTIPHYSE',
  44: 'MRS',
};

export async function inspectNifti(source: PrefixSource, options: OtherFormatOptions): Promise<GateFinding[]> {
  const first = await source.upTo(540, 'nifti', 'the NIfTI header');
  const layout = niftiLayout(first)!;
  const fixed = await source.upTo(layout.headerBytes + 4, 'nifti', 'the NIfTI header');
  const end = niftiHeaderEnd(fixed, layout);
  // Single file: extensions end at vox_offset. Header file (.hdr): they run to the end of the file.
  const bytes = layout.singleFile ? await source.upTo(end, 'nifti', 'the NIfTI header and extensions') : await source.whole('nifti', 'the NIfTI header file');
  return niftiFindings(bytes, layout, layout.singleFile ? end : bytes.length, options);
}

/** Where header and extensions end (vox_offset) in a single-file NIfTI; the header's end for a header-only file. */
function niftiHeaderEnd(b: Uint8Array, layout: NiftiLayout): number {
  if (b.length < layout.headerBytes) throw new FormatError('nifti', `the NIfTI header is truncated: the file ends at byte ${b.length} of ${layout.headerBytes}`);
  if (!layout.singleFile) return layout.headerBytes;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const vox = layout.version === 1 ? view.getFloat32(108, layout.littleEndian) : Number(view.getBigInt64(168, layout.littleEndian));
  if (!Number.isFinite(vox) || vox < layout.headerBytes || !Number.isInteger(vox)) {
    throw new FormatError('nifti', `the NIfTI vox_offset is not a byte offset past the ${layout.headerBytes}-byte header: the header cannot be read`);
  }
  return vox;
}

async function niftiFindings(b: Uint8Array, layout: NiftiLayout, end: number, options: OtherFormatOptions): Promise<GateFinding[]> {
  const findings: GateFinding[] = [];
  if (b.length < layout.headerBytes) throw new FormatError('nifti', `the NIfTI header is truncated: the file ends at byte ${b.length} of ${layout.headerBytes}`);
  for (const [field, offset, size] of NIFTI_TEXT_FIELDS[layout.version]) {
    const text = fieldText(b.subarray(offset, offset + size));
    if (!isAllowedText(field, text)) {
      findings.push({
        format: 'nifti',
        rule: 'identifying-text',
        location: field,
        message: `NIfTI-${layout.version} ${field} holds free text (${text.length} characters): only empty text${ALLOWED_TOOL_STAMPS[field] ? ' or a tool stamp such as FSL6.0' : ''} passes; empty the field`,
      });
    }
  }
  if (end > b.length) throw new FormatError('nifti', `the NIfTI header is truncated: vox_offset is ${end} but the file ends at byte ${b.length}`);
  const extender = layout.headerBytes;
  if (end < extender + 4 || b[extender] === 0) return findings; // no extensions (or no room for the flag)
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = extender + 4;
  for (let n = 1; at + 8 <= end; n++) {
    if (n > MAX_NIFTI_EXTENSIONS) throw new TooLargeError('nifti', `the NIfTI header has more than ${MAX_NIFTI_EXTENSIONS} extensions: it cannot be checked whole`);
    const esize = view.getInt32(at, layout.littleEndian);
    const ecode = view.getInt32(at + 4, layout.littleEndian);
    if (esize < 16 || esize % 16 !== 0 || at + esize > end) {
      throw new FormatError('nifti', `NIfTI extension ${n} has an invalid size (esize must be a multiple of 16 within vox_offset): the header cannot be read`);
    }
    const data = b.subarray(at + 8, at + esize);
    findings.push(...(await extensionFindings(n, ecode, data, options)));
    at += esize;
  }
  return findings;
}

/**
 * The DICOM gate's findings on an ecode-2 extension. An extension is zero-padded to a
 * multiple of 16 bytes (NIfTI-1 header extensions), so up to 15 trailing zeros may be
 * padding, not DICOM: when the whole extension does not read as a data set, it is read
 * again without them (bounded: at most 15 more reads of the same small buffer).
 */
function embeddedDicomFindings(data: Uint8Array, options: OtherFormatOptions): GateFinding[] {
  const unreadable = (findings: GateFinding[]) => findings.some((f) => f.rule === 'unreadable');
  const whole = options.inspectDicom(wrapAsPart10(data));
  for (let pad = 1; pad <= 15 && pad < data.length && data[data.length - pad] === 0 && unreadable(whole); pad++) {
    const trimmed = options.inspectDicom(wrapAsPart10(data.subarray(0, data.length - pad)));
    if (!unreadable(trimmed)) return trimmed;
  }
  return whole;
}

async function extensionFindings(n: number, ecode: number, data: Uint8Array, options: OtherFormatOptions): Promise<GateFinding[]> {
  const name = NIFTI_ECODES[ecode];
  const where = `extension ${n} (ecode ${ecode}${name ? `, ${name}` : ''})`;
  if (data.every((x) => x === 0)) return []; // padding only
  switch (ecode) {
    case 2:
      return embeddedDicomFindings(data, options).map((f) => ({
        ...f,
        format: 'nifti',
        location: `${where}: ${f.location ?? 'DICOM data set'}`,
        message: `NIfTI ${where} embeds DICOM: ${f.message}`,
      }));
    case 6: {
      const text = fieldText(data);
      return text === ''
        ? []
        : [{ format: 'nifti', rule: 'identifying-text', location: where, message: `NIfTI ${where} holds a free-text comment (${text.length} characters): remove the extension` }];
    }
    case 44:
      return jsonFindings(data, where);
    default:
      return [
        {
          format: 'nifti',
          rule: 'uninspectable-format',
          location: where,
          message: `NIfTI ${where} holds ${data.length} bytes the gate cannot inspect (it reads DICOM, COMMENT and MRS JSON extensions): remove it, or attest the case explicitly`,
        },
      ];
  }
}

const DICOM_VRS = new Set(
  'AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '),
);

/**
 * A NIfTI DICOM extension holds a raw data set (no preamble, no file meta); the
 * DICOM gate reads Part 10 files. Wrap it: 128-byte preamble, `DICM`, and a file
 * meta group naming implicit or explicit VR little endian, told from the first
 * element (an explicit VR has two upper-case letters at bytes 4–5).
 */
function wrapAsPart10(data: Uint8Array): Uint8Array {
  if (data.length >= 132 && latin1(data.subarray(128, 132)) === 'DICM') return data;
  const explicit = data.length >= 6 && DICOM_VRS.has(latin1(data.subarray(4, 6)));
  const uid = explicit ? '1.2.840.10008.1.2.1' : '1.2.840.10008.1.2';
  const uidBytes = new TextEncoder().encode(uid.length % 2 ? `${uid}\0` : uid);
  const syntaxElement = new Uint8Array(8 + uidBytes.length);
  const sv = new DataView(syntaxElement.buffer);
  sv.setUint16(0, 0x0002, true);
  sv.setUint16(2, 0x0010, true);
  syntaxElement.set([0x55, 0x49], 4); // 'UI'
  sv.setUint16(6, uidBytes.length, true);
  syntaxElement.set(uidBytes, 8);
  const groupLength = new Uint8Array(12);
  const gv = new DataView(groupLength.buffer);
  gv.setUint16(0, 0x0002, true);
  gv.setUint16(2, 0x0000, true);
  groupLength.set([0x55, 0x4c], 4); // 'UL'
  gv.setUint16(6, 4, true);
  gv.setUint32(8, syntaxElement.length, true);
  const out = new Uint8Array(132 + groupLength.length + syntaxElement.length + data.length);
  out.set([0x44, 0x49, 0x43, 0x4d], 128);
  out.set(groupLength, 132);
  out.set(syntaxElement, 144);
  out.set(data, 144 + syntaxElement.length);
  return out;
}

/**
 * Keys that identify a person, place or episode in a JSON header (NIfTI-MRS uses
 * DICOM keywords and its own: PatientName, PatientDoB, OriginalFile, ConversionTime…),
 * matched on the key lower-cased with non-letters removed.
 */
const IDENTIFYING_JSON_KEY =
  /patient|subject|birth|dob$|^name$|ownername|authorname|personname|address|phone|telecom|email|institution|department|physician|operator|performer|accession|studyid|medicalrecord|mrn$|serialnumber|station|originalfile|date$|datetime|(conversion|acquisition|study|series|content|scan)time$/;
/** Values that look identifying wherever they are: a DICOM person name (`Doe^John`) or a date. */
const IDENTIFYING_JSON_VALUE = /^[^\s^]+\^[^\s^]|^(19|20)\d\d-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])/;

function jsonFindings(data: Uint8Array, where: string): GateFinding[] {
  if (data.length > MAX_JSON_BYTES) throw new TooLargeError('nifti', `NIfTI ${where} is larger than the gate parses (${mib(MAX_JSON_BYTES)})`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data).replace(/[\0\s]+$/, ''));
  } catch {
    return [{ format: 'nifti', rule: 'unreadable', location: where, message: `NIfTI ${where} is not valid UTF-8 JSON: it cannot be checked` }];
  }
  const findings = new Map<string, GateFinding>();
  let nodes = 0;
  const visit = (v: unknown, path: string, depth: number): void => {
    if (++nodes > MAX_JSON_NODES || depth > MAX_JSON_DEPTH) throw new TooLargeError('nifti', `NIfTI ${where} is nested deeper or holds more values than the gate walks`);
    if (typeof v === 'string' && IDENTIFYING_JSON_VALUE.test(v.trim())) {
      findings.set(`value:${path}`, {
        format: 'nifti',
        rule: 'identifying-text',
        location: `${where}: ${path || '(root)'}`,
        message: `NIfTI ${where} holds a value shaped like a person name or a date at ${path || 'its root'}: remove it`,
      });
    }
    if (v === null || typeof v !== 'object') return;
    const entries: [string, unknown][] = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
    for (const [key, child] of entries) {
      const known = !Array.isArray(v) && IDENTIFYING_JSON_KEY.test(key.toLowerCase().replace(/[^a-z]/g, ''));
      // A key is named in a finding only when it is one the gate knows; any other key could itself be a name.
      const childPath = Array.isArray(v) ? `${path}[${key}]` : known ? (path ? `${path}.${key}` : key) : `${path}${path ? '.' : ''}(key)`;
      if (known && hasJsonContent(child)) {
        findings.set(`key:${childPath}`, {
          format: 'nifti',
          rule: 'identifying-text',
          location: `${where}: ${childPath}`,
          message: `NIfTI ${where} carries ${childPath}, an identifying key with a value: remove it or empty it`,
        });
      }
      visit(child, childPath, depth + 1);
    }
  };
  visit(value, '', 0);
  return [...findings.values()];
}

function hasJsonContent(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'string') return v.trim() !== '';
  if (Array.isArray(v)) return v.some(hasJsonContent);
  if (typeof v === 'object') return Object.values(v).some(hasJsonContent);
  return true;
}

/** Inflate one chunk of compressed input at a time: deflate expands at most ~1032×, so one step stays small. */
const GZIP_STEP = 4096;

/**
 * A gzipped NIfTI: inflate as a stream to the end of the header and extensions
 * (vox_offset), never past {@link MAX_INFLATED_HEADER_BYTES}; the pixel data is
 * never inflated. A bomb (a header claiming a huge vox_offset, or a gzip that is
 * not a NIfTI at all) is refused within the cap.
 */
export async function inspectGzippedNifti(source: PrefixSource, options: OtherFormatOptions): Promise<GateFinding[]> {
  const inflated = await inflatePrefix(source, async (sofar, total) => {
    if (sofar.length < 4) return 4;
    const layout = niftiLayout(sofar);
    if (sofar.length < 540 && layout === undefined) return Math.max(540, total + 1);
    if (layout === undefined) return 0;
    if (sofar.length < layout.headerBytes + 4) return layout.headerBytes + 4;
    if (!layout.singleFile) return MAX_INFLATED_HEADER_BYTES; // a gzipped .hdr: to its end
    const end = niftiHeaderEnd(sofar, layout);
    return end > MAX_INFLATED_HEADER_BYTES ? 0 : end; // over the cap: stop now, refuse below
  });
  const layout = niftiLayout(inflated.bytes);
  if (layout === undefined) {
    return [
      {
        format: 'nifti',
        rule: 'uninspectable-format',
        message: `a gzip file whose content is not a NIfTI header (the gate inflates only NIfTI headers): it cannot be checked`,
      },
    ];
  }
  const end = layout.singleFile ? niftiHeaderEnd(inflated.bytes, layout) : inflated.bytes.length;
  if (end > MAX_INFLATED_HEADER_BYTES) {
    throw new TooLargeError(
      'nifti',
      `the gzipped NIfTI declares ${end} bytes of header and extensions (vox_offset), more than the gate inflates (${mib(MAX_INFLATED_HEADER_BYTES)}): refused without inflating further`,
    );
  }
  if (!layout.singleFile && !inflated.complete) {
    throw new TooLargeError('nifti', `the gzipped NIfTI header file inflates past ${mib(MAX_INFLATED_HEADER_BYTES)}: refused`);
  }
  return niftiFindings(inflated.bytes, layout, end, options);
}

/**
 * Inflates the gzip stream in `source` until `wanted(sofar)` bytes are out (asked
 * again as bytes arrive; 0: stop), the stream ends, or the cap is reached. The
 * stream is paused by backpressure, so at most a chunk beyond what is taken is
 * ever inflated.
 */
async function inflatePrefix(
  source: PrefixSource,
  wanted: (head: Uint8Array, total: number) => Promise<number>,
): Promise<{ bytes: Uint8Array; complete: boolean }> {
  const gunzip = createGunzip({ chunkSize: 16 * 1024 });
  async function* compressed() {
    for (let at = 0; ; at += GZIP_STEP) {
      const b = await source.upTo(at + GZIP_STEP, 'nifti', 'the gzipped NIfTI');
      if (b.length <= at) return;
      yield b.subarray(at, Math.min(at + GZIP_STEP, b.length));
      if (b.length < at + GZIP_STEP) return;
    }
  }
  const input = Readable.from(compressed());
  input.on('error', (e) => gunzip.destroy(e));
  input.pipe(gunzip);
  const parts: Uint8Array[] = [];
  let total = 0;
  let head: Uint8Array = new Uint8Array(0); // the first bytes, for `wanted` (it reads the fixed header only)
  let complete = true;
  try {
    for await (const chunk of gunzip) {
      const bytes = chunk as Buffer;
      parts.push(bytes);
      total += bytes.length;
      if (head.length < WANTED_LOOKS_AT) head = concat(parts).subarray(0, WANTED_LOOKS_AT);
      if (total > MAX_INFLATED_HEADER_BYTES) {
        complete = false;
        break;
      }
      const want = await wanted(head, total);
      if (want === 0 || total >= want) {
        complete = false;
        break;
      }
    }
  } catch (e) {
    if (e instanceof FormatError || e instanceof TooLargeError) throw e;
    if (total === 0 || (e as NodeJS.ErrnoException).code !== 'Z_BUF_ERROR') {
      throw new FormatError('nifti', `the gzip stream is corrupt after ${total} inflated bytes (${(e as Error).message}): the header cannot be read`);
    }
  } finally {
    input.unpipe(gunzip);
    input.destroy();
    gunzip.destroy();
  }
  const out = concat(parts);
  return { bytes: out.subarray(0, Math.min(out.length, MAX_INFLATED_HEADER_BYTES)), complete };
}

/** `wanted` is shown this many leading bytes: the NIfTI-2 header and its extension flag fit. */
const WANTED_LOOKS_AT = 544;

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
