/**
 * The de-identification gate for images that are not DICOM: NIfTI-1 and
 * NIfTI-2 (`.nii`, `.hdr`, gzipped `.nii.gz`), PNG, JPEG and Netpbm (PGM/PPM/PBM).
 * What each format can carry besides pixels, and how the gate treats it:
 *
 * | format  | inspected                                                                 |
 * |---------|---------------------------------------------------------------------------|
 * | NIfTI   | `descrip`, `aux_file`, `intent_name`, `db_name`, `data_type` (NIfTI-1), `unused_str` (NIfTI-2); every header extension: DICOM (ecode 2) by the DICOM gate, MRS JSON (ecode 44) by key, COMMENT (ecode 6) as free text, any other ecode is content the gate cannot read |
 * | PNG     | tEXt, zTXt, iTXt (inflated with a cap), eXIf (EXIF tags); data after IEND |
 * | JPEG    | COM, APP1 Exif (tags, thumbnail), APP1 XMP, APP13 IPTC, APP0 thumbnails, unknown APPn; data after EOI |
 * | Netpbm  | `#` comments in the header                                                |
 *
 * **The free-text rule (strict by default).** A text field passes only when it is
 * empty once NUL and space padding are set aside, or when its whole value is a
 * documented tool stamp ({@link ALLOWED_TOOL_STAMPS}: a tool name and a version
 * number, nothing else). Any other text is a finding: the gate cannot tell a name
 * from a harmless note, PS3.15 removes free-text descriptions and comments unless
 * the Clean Descriptors option is declared (Table E.1-1), and none of these formats
 * can declare it. A person makes the judgement instead: the PM replaces the image
 * or releases the case with a recorded reason (`functions/use-cases/quarantine.ts`).
 * The same rule covers PNG text chunks, JPEG comments, XMP and IPTC, and EXIF tags
 * other than the image-geometry ones in {@link NEUTRAL_EXIF_TAGS}.
 *
 * Findings name the field, chunk, segment or tag, never the value found there
 * (a PNG keyword or JSON key is named only when it is a registered one).
 *
 * **Bounded work.** The image is read through prefix reads (a ranged GET of the
 * first n bytes) that double from the first read up to {@link MAX_INSPECTED_BYTES};
 * a NIfTI is read only to the end of its header and extensions (`vox_offset`);
 * a gzipped NIfTI is inflated as a stream, stopping at its header's end, and never
 * past {@link MAX_INFLATED_HEADER_BYTES}; compressed PNG text is inflated with
 * zlib's `maxOutputLength` ({@link MAX_TEXT_BYTES}); EXIF directories and JSON
 * are walked with depth and count caps. What exceeds a cap is refused with that
 * reason, never read on. Bad input never throws: it is a finding.
 */
import { Readable } from 'node:stream';
import { createGunzip, inflateSync } from 'node:zlib';
import type { GateFinding, ImageFormat } from './deidentification/finding.js';

/** Reads the first `length` bytes of the image (fewer at its end), or undefined when it is missing: a ranged GET. */
export type ImagePrefixReader = (length: number) => Promise<Uint8Array | undefined>;

/** Most bytes of one image the gate reads: a PNG, JPEG or Netpbm file whole, a NIfTI to `vox_offset`. */
export const MAX_INSPECTED_BYTES = 64 * 1024 * 1024;
/** Most bytes a gzipped NIfTI is inflated to: its header and extensions must end before this. */
export const MAX_INFLATED_HEADER_BYTES = 16 * 1024 * 1024;
/** Most bytes one compressed PNG text chunk (zTXt, iTXt) is inflated to. */
export const MAX_TEXT_BYTES = 1024 * 1024;
/** Most bytes of a NIfTI MRS JSON extension parsed. */
const MAX_JSON_BYTES = 4 * 1024 * 1024;
const MAX_JSON_DEPTH = 32;
const MAX_JSON_NODES = 100_000;
const MAX_EXIF_DIRECTORIES = 8;
const MAX_EXIF_ENTRIES = 4096;
const MAX_NIFTI_EXTENSIONS = 256;

/**
 * The only non-empty text values that pass: whole-value tool stamps that can hold
 * a version number and nothing else. `descrip` is the one field tools stamp.
 * (dcm2niix's `descrip`, `TE=…;Time=…`, carries the acquisition time of day: not allowed.)
 */
export const ALLOWED_TOOL_STAMPS: Readonly<Record<string, readonly RegExp[]>> = Object.freeze({
  /** FSL's fslio writes `FSL<version>` (e.g. `FSL5.0`, `FSL6.0.7`). */
  descrip: [/^FSL\d{1,2}(\.\d{1,3}){0,2}$/],
});

/** What the gate needs from the DICOM gate, for a NIfTI DICOM extension: findings for a DICOM Part 10 file. */
export type DicomInspector = (part10: Uint8Array) => GateFinding[];

export interface OtherFormatOptions {
  /** Judges a DICOM data set embedded in a NIfTI extension, wrapped as a Part 10 file (the program's settings applied). */
  inspectDicom: DicomInspector;
  /** How many bytes the read that returned `head` asked for: a shorter head is the whole image (no second read). */
  headRequested?: number;
}

/** Formats this module reads (DICOM is the DICOM gate's). */
export type OtherFormat = 'nifti' | 'nifti-gzip' | 'png' | 'jpeg' | 'netpbm' | 'unknown';

/**
 * Tells the format from the leading bytes (magic numbers only: a file name can lie).
 *
 * @example detectOtherFormat(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) // 'png'
 */
export function detectOtherFormat(head: Uint8Array): OtherFormat {
  if (startsWith(head, PNG_SIGNATURE)) return 'png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'nifti-gzip';
  if (niftiLayout(head) !== undefined) return 'nifti';
  if (head.length >= 3 && head[0] === 0x50 && head[1] >= 0x31 && head[1] <= 0x36 && isSpace(head[2])) return 'netpbm';
  return 'unknown';
}

/**
 * Inspects a non-DICOM image for anything that may identify a person. Returns no
 * finding when the image may leave. Bad bytes never throw (they are findings); a
 * failing reader does, since that is no property of the image and may be retried.
 *
 * @example
 * await inspectOtherFormat((n) => store.getHead(bucket, key, n), head, { inspectDicom })
 * // [{ format: 'nifti', rule: 'identifying-text', location: 'descrip', message: 'NIfTI-1 descrip holds free text (14 characters): …' }]
 */
export async function inspectOtherFormat(read: ImagePrefixReader, head: Uint8Array, options: OtherFormatOptions): Promise<GateFinding[]> {
  const source = new PrefixSource(read, head, options.headRequested);
  const format = detectOtherFormat(head);
  try {
    switch (format) {
      case 'png':
        return await inspectPng(source);
      case 'jpeg':
        return await inspectJpeg(source);
      case 'nifti':
        return await inspectNifti(source, options);
      case 'nifti-gzip':
        return await inspectGzippedNifti(source, options);
      case 'netpbm':
        return await inspectNetpbm(source);
      default:
        return [uninspectable(head)];
    }
  } catch (e) {
    if (e instanceof FormatError) return [{ format: e.format, rule: 'unreadable', message: e.message }];
    if (e instanceof TooLargeError) return [{ format: e.format, rule: 'unreadable', message: e.message }];
    // A reader failure (network, storage) is not a property of the image: let the caller retry.
    throw e;
  }
}

/**
 * Inspects a whole file already in memory (tests, tools): the same rules, no reads.
 *
 * @example await inspectOtherFormatBytes(pngBytes, { inspectDicom }) // []
 */
export function inspectOtherFormatBytes(bytes: Uint8Array, options: OtherFormatOptions): Promise<GateFinding[]> {
  const first = 256 * 1024;
  return inspectOtherFormat(async (n) => bytes.subarray(0, n), bytes.subarray(0, first), { ...options, headRequested: first });
}

// ------------------------------------------------------------------ reading

class FormatError extends Error {
  constructor(
    readonly format: ImageFormat,
    message: string,
  ) {
    super(message);
    this.name = 'FormatError';
  }
}

class TooLargeError extends Error {
  constructor(
    readonly format: ImageFormat,
    message: string,
  ) {
    super(message);
    this.name = 'TooLargeError';
  }
}

/** The image's leading bytes, grown by doubling prefix reads up to {@link MAX_INSPECTED_BYTES}. */
class PrefixSource {
  private bytes: Uint8Array;
  private requested: number;
  private ended = false;

  constructor(
    private readonly read: ImagePrefixReader,
    head: Uint8Array,
    headRequested?: number,
  ) {
    this.bytes = head;
    this.requested = Math.max(headRequested ?? head.length, 1);
    this.ended = headRequested !== undefined && head.length < headRequested;
  }

  /** At least the first `n` bytes, or all there are when the image is shorter. */
  async upTo(n: number, format: ImageFormat, what: string): Promise<Uint8Array> {
    if (n > MAX_INSPECTED_BYTES) {
      throw new TooLargeError(format, `${what} would need ${n} bytes read, more than the gate reads (${mib(MAX_INSPECTED_BYTES)}): it cannot be checked whole`);
    }
    while (this.bytes.length < n && !this.ended) {
      const want = Math.min(Math.max(n, this.requested * 2), MAX_INSPECTED_BYTES);
      const got = await this.read(want);
      if (got === undefined) throw new FormatError(format, 'the image disappeared while it was read');
      this.requested = want;
      if (got.length < want) this.ended = true;
      this.bytes = got;
    }
    return this.bytes;
  }

  /** The whole image (up to the cap); refuses one larger than the cap. */
  async whole(format: ImageFormat, what: string): Promise<Uint8Array> {
    while (!this.ended) {
      if (this.requested >= MAX_INSPECTED_BYTES) {
        throw new TooLargeError(format, `${what} is larger than the gate reads (${mib(MAX_INSPECTED_BYTES)}): it cannot be checked whole`);
      }
      await this.upTo(Math.min(this.requested * 2, MAX_INSPECTED_BYTES), format, what);
    }
    return this.bytes;
  }
}

const mib = (n: number) => `${n / 1024 / 1024} MiB`;
const startsWith = (b: Uint8Array, prefix: readonly number[], at = 0) =>
  b.length >= at + prefix.length && prefix.every((x, i) => b[at + i] === x);
const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;
const latin1 = (b: Uint8Array) => Array.from(b, (x) => String.fromCharCode(x)).join('');

/** The text of a fixed-size field without NUL/space padding; '' when that leaves nothing. */
function fieldText(b: Uint8Array): string {
  let end = b.indexOf(0);
  if (end < 0) end = b.length;
  // Bytes after the first NUL are still in the file: count them as text when they are not padding.
  const tail = b.subarray(end);
  const head = latin1(b.subarray(0, end)).replace(/^[\s\0]+|[\s\0]+$/g, '');
  const tailHasText = tail.some((x) => x !== 0 && !isSpace(x));
  return tailHasText ? `${head}\u0000${latin1(tail)}` : head;
}

function isAllowedText(field: string, text: string): boolean {
  return text === '' || (ALLOWED_TOOL_STAMPS[field] ?? []).some((r) => r.test(text));
}

function uninspectable(head: Uint8Array): GateFinding {
  const what =
    head.length === 0
      ? 'the file is empty'
      : niftiLikeAnalyze(head)
        ? 'an ANALYZE 7.5 header (no NIfTI magic): its patient_id and other history fields are not read by the gate'
        : `the gate does not recognise the format from its first bytes (not DICOM, NIfTI, PNG, JPEG or Netpbm)`;
  return {
    format: 'unknown',
    rule: 'uninspectable-format',
    message: `${what}: an image the gate cannot inspect may leave only with an explicit attestation on the case, or convert it to a format the gate reads`,
  };
}

// ------------------------------------------------------------------ NIfTI

interface NiftiLayout {
  version: 1 | 2;
  littleEndian: boolean;
  headerBytes: 348 | 540;
  /** `n+1`/`n+2`: header and data in one file (extensions end at vox_offset); `ni1`/`ni2`: header file only. */
  singleFile: boolean;
}

/** sizeof_hdr (348 or 540, either byte order) and the magic string. */
function niftiLayout(b: Uint8Array): NiftiLayout | undefined {
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
function niftiLikeAnalyze(b: Uint8Array): boolean {
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

async function inspectNifti(source: PrefixSource, options: OtherFormatOptions): Promise<GateFinding[]> {
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
async function inspectGzippedNifti(source: PrefixSource, options: OtherFormatOptions): Promise<GateFinding[]> {
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

// ------------------------------------------------------------------ PNG

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

/** Registered PNG text keywords (PNG spec 11.3.4.2): the only keywords a finding names. */
const PNG_KEYWORDS = new Set(['Title', 'Author', 'Description', 'Copyright', 'Creation Time', 'Software', 'Disclaimer', 'Warning', 'Source', 'Comment']);

/** Chunks that hold pixels, colour or layout, never text (PNG 1.2/3rd edition, APNG). */
const PNG_NEUTRAL_CHUNKS = new Set([
  'IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'cHRM', 'gAMA', 'iCCP', 'sBIT', 'sRGB', 'cICP', 'mDCV', 'cLLI', 'bKGD', 'hIST', 'pHYs', 'sPLT', 'acTL', 'fcTL', 'fdAT',
]);

async function inspectPng(source: PrefixSource): Promise<GateFinding[]> {
  const b = await source.whole('png', 'the PNG file');
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const findings: GateFinding[] = [];
  let at = 8;
  let sawEnd = false;
  let sawData = false;
  for (let first = true; at + 8 <= b.length; first = false) {
    const length = view.getUint32(at);
    const type = latin1(b.subarray(at + 4, at + 8));
    if (length > 0x7fffffff || at + 12 + length > b.length) {
      throw new FormatError('png', `the PNG is truncated or corrupt: chunk at byte ${at} runs past the end of the file`);
    }
    if (!/^[A-Za-z]{4}$/.test(type)) throw new FormatError('png', `the PNG is corrupt: the chunk at byte ${at} has no valid type`);
    const data = b.subarray(at + 8, at + 8 + length);
    at += 12 + length;
    if (type === 'IEND') {
      sawEnd = true;
      break;
    }
    if (first && type !== 'IHDR') throw new FormatError('png', 'the PNG is corrupt: it does not start with IHDR');
    if (type === 'IDAT') sawData = true;
    findings.push(...pngChunkFindings(type, data));
  }
  if (!sawEnd) throw new FormatError('png', 'the PNG is truncated: it ends before its IEND chunk');
  if (!sawData) throw new FormatError('png', 'the PNG holds no image: no IDAT chunk before IEND');
  const trailing = b.length - at;
  if (trailing > 0 && b.subarray(at).some((x) => x !== 0)) {
    findings.push({ format: 'png', rule: 'uninspectable-format', location: 'after IEND', message: `the PNG has ${trailing} bytes after its end (IEND) that the gate cannot inspect: remove them` });
  }
  return dedupe(findings);
}

function pngChunkFindings(type: string, data: Uint8Array): GateFinding[] {
  if (PNG_NEUTRAL_CHUNKS.has(type)) return [];
  if (type === 'tEXt' || type === 'zTXt' || type === 'iTXt') return pngTextFindings(type, data);
  if (type === 'eXIf') return exifFindings(data, 'png', 'eXIf');
  return [
    {
      format: 'png',
      rule: 'uninspectable-format',
      location: /^[A-Za-z]{4}$/.test(type) ? `chunk ${type}` : 'an unknown chunk',
      message: `the PNG holds a ${type} chunk the gate does not know (${data.length} bytes): remove it, or attest the case explicitly`,
    },
  ];
}

function pngTextFindings(type: 'tEXt' | 'zTXt' | 'iTXt', data: Uint8Array): GateFinding[] {
  const nul = data.indexOf(0);
  const keyword = nul > 0 ? latin1(data.subarray(0, nul)) : '';
  const location = PNG_KEYWORDS.has(keyword) ? `${type} "${keyword}"` : `${type} (unregistered keyword)`;
  const finding = (message: string, rule: GateFinding['rule'] = 'identifying-text'): GateFinding[] => [{ format: 'png', rule, location, message }];
  if (nul < 1 || nul > 79) return finding(`the PNG ${type} chunk is malformed (no keyword of 1–79 bytes): it cannot be checked`, 'unreadable');
  let text: Uint8Array;
  if (type === 'tEXt') text = data.subarray(nul + 1);
  else if (type === 'zTXt') {
    if (data[nul + 1] !== 0) return finding(`the PNG ${location} uses an unknown compression method: it cannot be checked`, 'unreadable');
    const inflated = inflateCapped(data.subarray(nul + 2));
    if (typeof inflated === 'string') return finding(`the PNG ${location} ${inflated}`, 'unreadable');
    text = inflated;
  } else {
    const compressed = data[nul + 1] === 1;
    if (data[nul + 2] !== 0 && compressed) return finding(`the PNG ${location} uses an unknown compression method: it cannot be checked`, 'unreadable');
    const lang = data.indexOf(0, nul + 3);
    const translated = lang < 0 ? -1 : data.indexOf(0, lang + 1);
    if (translated < 0) return finding(`the PNG ${location} is malformed: it cannot be checked`, 'unreadable');
    // The language tag and translated keyword are text too.
    if (translated > nul + 4) return finding(`the PNG ${location} carries a translated keyword or language tag: remove the chunk`);
    const body = data.subarray(translated + 1);
    if (compressed) {
      const inflated = inflateCapped(body);
      if (typeof inflated === 'string') return finding(`the PNG ${location} ${inflated}`, 'unreadable');
      text = inflated;
    } else text = body;
  }
  const value = fieldText(text);
  return value === '' ? [] : finding(`the PNG ${location} holds free text (${text.length} bytes): remove the chunk`);
}

/** Inflates zlib data to at most {@link MAX_TEXT_BYTES}; a string says why it could not. */
function inflateCapped(data: Uint8Array): Uint8Array | string {
  try {
    return inflateSync(data, { maxOutputLength: MAX_TEXT_BYTES });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError
      ? `inflates past ${mib(MAX_TEXT_BYTES)} (refused while inflating): it cannot be checked`
      : 'is not valid compressed text: it cannot be checked';
  }
}

// ------------------------------------------------------------------ EXIF

/**
 * EXIF/TIFF tags that describe only the image's geometry and encoding (TIFF 6.0,
 * EXIF 2.32): they pass. Every other tag — Artist, Copyright, ImageDescription,
 * UserComment, dates, Make/Model/serial numbers, GPS, MakerNote — is a finding.
 */
export const NEUTRAL_EXIF_TAGS: ReadonlySet<number> = new Set([
  0x0001, 0x0002, // InteropIndex, InteropVersion
  0x0100, 0x0101, 0x0102, 0x0103, 0x0106, 0x0112, 0x0115, 0x011a, 0x011b, 0x011c, 0x0128, // geometry, encoding
  0x0211, 0x0212, 0x0213, 0x0214, // YCbCr
  0x8769, 0xa005, // pointers to the EXIF and interoperability directories (followed)
  0x9000, 0x9101, 0xa000, 0xa001, 0xa002, 0xa003, // versions, colour space, pixel dimensions
]);

/** Names of the tags a PM is most likely to meet in a finding. */
const EXIF_TAG_NAMES: ReadonlyMap<number, string> = new Map([
  [0x010e, 'ImageDescription'],
  [0x010f, 'Make'],
  [0x0110, 'Model'],
  [0x0131, 'Software'],
  [0x0132, 'DateTime'],
  [0x013b, 'Artist'],
  [0x013c, 'HostComputer'],
  [0x8298, 'Copyright'],
  [0x8825, 'GPSInfo'],
  [0x9003, 'DateTimeOriginal'],
  [0x9004, 'DateTimeDigitized'],
  [0x927c, 'MakerNote'],
  [0x9286, 'UserComment'],
  [0x9c9b, 'XPTitle'],
  [0x9c9c, 'XPComment'],
  [0x9c9d, 'XPAuthor'],
  [0x9c9e, 'XPKeywords'],
  [0x9c9f, 'XPSubject'],
  [0xa420, 'ImageUniqueID'],
  [0xa430, 'CameraOwnerName'],
  [0xa431, 'BodySerialNumber'],
  [0xa435, 'LensSerialNumber'],
]);

const hex4 = (n: number) => `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;

/** Findings for a TIFF-structured EXIF block (PNG eXIf data, JPEG APP1 after `Exif\0\0`). */
function exifFindings(tiff: Uint8Array, format: ImageFormat, where: string): GateFinding[] {
  const bad = (why: string): GateFinding[] => [{ format, rule: 'unreadable', location: where, message: `the ${where} EXIF block ${why}: it cannot be checked` }];
  if (tiff.length < 8) return tiff.length === 0 ? [] : bad('is truncated');
  const order = latin1(tiff.subarray(0, 2));
  if (order !== 'II' && order !== 'MM') return bad('has no TIFF byte-order mark');
  const le = order === 'II';
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  if (view.getUint16(2, le) !== 42) return bad('has no TIFF magic number');
  const findings = new Map<string, GateFinding>();
  const visited = new Set<number>();
  const queue: { offset: number; name: string }[] = [{ offset: view.getUint32(4, le), name: 'IFD0' }];
  let entriesSeen = 0;
  while (queue.length > 0) {
    const { offset, name } = queue.shift()!;
    if (offset === 0) continue;
    if (visited.has(offset)) continue;
    if (visited.size >= MAX_EXIF_DIRECTORIES) return bad(`has more than ${MAX_EXIF_DIRECTORIES} directories`);
    visited.add(offset);
    if (offset + 2 > tiff.length) return bad(`points past its end (${name})`);
    const count = view.getUint16(offset, le);
    entriesSeen += count;
    if (entriesSeen > MAX_EXIF_ENTRIES) return bad(`has more than ${MAX_EXIF_ENTRIES} entries`);
    if (offset + 2 + count * 12 + 4 > tiff.length) return bad(`is truncated (${name})`);
    for (let i = 0; i < count; i++) {
      const e = offset + 2 + i * 12;
      const tag = view.getUint16(e, le);
      if (name === 'IFD1') break; // the thumbnail directory is reported once, below
      if (tag === 0x8769) queue.push({ offset: view.getUint32(e + 8, le), name: 'EXIF IFD' });
      else if (tag === 0xa005) queue.push({ offset: view.getUint32(e + 8, le), name: 'Interoperability IFD' });
      if (NEUTRAL_EXIF_TAGS.has(tag)) continue;
      const tagName = EXIF_TAG_NAMES.get(tag);
      const location = `${where}: tag ${hex4(tag)}${tagName ? ` (${tagName})` : ''}`;
      findings.set(location, {
        format,
        rule: 'identifying-text',
        location,
        message: `the ${where} EXIF block carries tag ${hex4(tag)}${tagName ? ` (${tagName})` : ''}, which may identify a person, place, device or time: strip the EXIF metadata`,
      });
    }
    if (name === 'IFD0') {
      const next = view.getUint32(offset + 2 + count * 12, le);
      if (next !== 0) {
        findings.set(`${where}: IFD1`, {
          format,
          rule: 'identifying-text',
          location: `${where}: IFD1 (thumbnail)`,
          message: `the ${where} EXIF block holds a thumbnail (IFD1), a second picture the gate does not compare with the image: strip the EXIF metadata`,
        });
        queue.push({ offset: next, name: 'IFD1' });
      }
    }
  }
  return [...findings.values()];
}

// ------------------------------------------------------------------ JPEG

const XMP = 'http://ns.adobe.com/xap/1.0/\0';
const XMP_EXTENDED = 'http://ns.adobe.com/xmp/extension/\0';

async function inspectJpeg(source: PrefixSource): Promise<GateFinding[]> {
  const b = await source.whole('jpeg', 'the JPEG file');
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const findings: GateFinding[] = [];
  let at = 2;
  let sawEnd = false;
  let sawScan = false;
  while (at < b.length) {
    if (b[at] !== 0xff) throw new FormatError('jpeg', `the JPEG is corrupt: no marker at byte ${at}`);
    let marker = b[at + 1];
    while (marker === 0xff && at + 2 < b.length) marker = b[++at + 1]; // fill bytes
    if (marker === undefined) break;
    at += 2;
    if (marker === 0xd9) {
      sawEnd = true;
      break;
    }
    if (marker === 0xda) sawScan = true;
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue; // RSTn, TEM: no length
    if (at + 2 > b.length) break;
    const length = view.getUint16(at);
    if (length < 2 || at + length > b.length) throw new FormatError('jpeg', `the JPEG is truncated: segment 0x${marker.toString(16).toUpperCase()} at byte ${at - 2} runs past the end of the file`);
    const data = b.subarray(at + 2, at + length);
    at += length;
    findings.push(...jpegSegmentFindings(marker, data));
    if (marker === 0xda) at = skipEntropyCoded(b, at);
  }
  if (!sawEnd) throw new FormatError('jpeg', 'the JPEG is truncated: it ends before its end-of-image marker (EOI)');
  if (!sawScan) throw new FormatError('jpeg', 'the JPEG holds no image: no scan (SOS) before its end (EOI)');
  const trailing = b.length - at;
  if (trailing > 0 && b.subarray(at).some((x) => x !== 0)) {
    findings.push({ format: 'jpeg', rule: 'uninspectable-format', location: 'after EOI', message: `the JPEG has ${trailing} bytes after its end (EOI) that the gate cannot inspect: remove them` });
  }
  return dedupe(findings);
}

/** From the end of a SOS header to the next marker that is not a stuffed 0xFF00 or a restart marker. */
function skipEntropyCoded(b: Uint8Array, from: number): number {
  for (let i = from; i + 1 < b.length; i++) {
    if (b[i] !== 0xff) continue;
    const next = b[i + 1];
    if (next === 0x00 || next === 0xff || (next >= 0xd0 && next <= 0xd7)) continue;
    return i;
  }
  return b.length;
}

function jpegSegmentFindings(marker: number, data: Uint8Array): GateFinding[] {
  const name = marker === 0xfe ? 'COM' : marker >= 0xe0 && marker <= 0xef ? `APP${marker - 0xe0}` : undefined;
  if (name === undefined) return []; // frame, scan, tables, restart interval: structure only
  const starts = (s: string) => latin1(data.subarray(0, s.length)) === s;
  const text = (location: string, what: string): GateFinding[] => [
    { format: 'jpeg', rule: 'identifying-text', location, message: `the JPEG ${what} (${data.length} bytes): remove it` },
  ];
  if (marker === 0xfe) return fieldText(data) === '' ? [] : text('COM', 'has a comment (COM segment)');
  if (marker === 0xe0 && starts('JFIF\0')) {
    const thumbnail = data.length >= 14 && data[12] * data[13] > 0;
    return thumbnail ? text('APP0 JFIF thumbnail', 'JFIF header holds a thumbnail, a second picture the gate does not compare with the image') : [];
  }
  if (marker === 0xe0 && starts('JFXX\0')) return text('APP0 JFXX', 'holds a JFIF extension thumbnail');
  if (marker === 0xe1 && starts('Exif\0')) return exifFindings(data.subarray(6), 'jpeg', 'APP1 Exif');
  if (marker === 0xe1 && (starts(XMP) || starts(XMP_EXTENDED))) return text('APP1 XMP', 'holds XMP metadata (free-form: authors, dates, descriptions)');
  if (marker === 0xed) return text('APP13 IPTC', 'holds an APP13 (Photoshop/IPTC) block: captions, names, places');
  if (marker === 0xe2 && starts('ICC_PROFILE\0')) return []; // colour management (the profile's own description)
  if (marker === 0xee && starts('Adobe')) return []; // colour transform flags
  return [
    {
      format: 'jpeg',
      rule: 'uninspectable-format',
      location: name,
      message: `the JPEG holds an ${name} segment the gate does not know (${data.length} bytes): remove it, or attest the case explicitly`,
    },
  ];
}

// ------------------------------------------------------------------ Netpbm

/**
 * Netpbm (P1–P6): the header is whitespace-separated numbers (width, height and,
 * but for bitmaps, maxval); `#` starts a comment to the end of the line. Then one
 * whitespace byte and the raster: binary (P4–P6) of a size the header fixes, or
 * plain (P1–P3) digits and whitespace. Anything else in the file is a finding.
 */
async function inspectNetpbm(source: PrefixSource): Promise<GateFinding[]> {
  const b = await source.whole('netpbm', 'the Netpbm file');
  const kind = b[1] - 0x30; // 1..6
  const bitmap = kind === 1 || kind === 4; // no maxval
  const values: number[] = [];
  let at = 2;
  let comments = 0;
  let commentBytes = 0;
  while (values.length < (bitmap ? 2 : 3)) {
    if (at >= b.length) throw new FormatError('netpbm', 'the Netpbm header is truncated: it cannot be read');
    const c = b[at];
    if (isSpace(c)) at++;
    else if (c === 0x23) {
      let end = at + 1;
      while (end < b.length && b[end] !== 0x0a && b[end] !== 0x0d) end++;
      if (fieldText(b.subarray(at + 1, end)) !== '') {
        comments++;
        commentBytes += end - at - 1;
      }
      at = end;
    } else if (c >= 0x30 && c <= 0x39) {
      const from = at;
      while (at < b.length && b[at] >= 0x30 && b[at] <= 0x39) at++;
      values.push(at - from > 9 ? Number.POSITIVE_INFINITY : Number(latin1(b.subarray(from, at))));
    } else throw new FormatError('netpbm', `the Netpbm header is malformed at byte ${at}: it cannot be read`);
  }
  const [width, height, maxval = 1] = values;
  if (!(width >= 1 && height >= 1 && maxval >= 1 && maxval <= 65535)) {
    throw new FormatError('netpbm', 'the Netpbm header declares an empty image or a maxval outside 1–65535: it cannot be read');
  }
  if (at >= b.length || !isSpace(b[at])) throw new FormatError('netpbm', 'the Netpbm header does not end in a whitespace byte before the raster: it cannot be read');
  const raster = b.subarray(at + 1);
  const findings: GateFinding[] = [];
  if (comments > 0) {
    findings.push({
      format: 'netpbm',
      rule: 'identifying-text',
      location: 'header comment',
      message: `the Netpbm header holds ${comments} comment line(s) (${commentBytes} bytes) of free text: remove them`,
    });
  }
  if (kind <= 3) {
    // Plain rasters are text: only digits and whitespace belong there.
    if (raster.some((x) => !isSpace(x) && (x < 0x30 || x > 0x39))) {
      findings.push({ format: 'netpbm', rule: 'identifying-text', location: 'raster', message: 'the plain Netpbm raster holds characters other than digits and whitespace: remove them' });
    }
    return findings;
  }
  const bytesPerSample = maxval > 255 ? 2 : 1;
  const expected = kind === 4 ? Math.ceil(width / 8) * height : width * height * bytesPerSample * (kind === 6 ? 3 : 1);
  if (raster.length < expected) throw new FormatError('netpbm', `the Netpbm raster is truncated: ${raster.length} of ${expected} bytes`);
  const trailing = raster.subarray(expected);
  if (trailing.some((x) => x !== 0)) {
    findings.push({ format: 'netpbm', rule: 'uninspectable-format', location: 'after the raster', message: `the Netpbm file has ${trailing.length} bytes after its raster that the gate cannot inspect: remove them` });
  }
  return findings;
}

function dedupe(findings: GateFinding[]): GateFinding[] {
  const seen = new Map<string, GateFinding>();
  for (const f of findings) seen.set(`${f.rule}|${f.location}|${f.message}`, f);
  return [...seen.values()];
}
