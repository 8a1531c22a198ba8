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
 *
 * This module tells the format and dispatches; each format's reader is its own
 * module in ./deidentification/ (nifti.ts, png.ts, jpeg.ts, netpbm.ts, exif.ts),
 * with the prefix reads and the free-text rule they share in prefix-source.ts.
 */
import type { GateFinding } from './deidentification/finding.js';
import { inspectJpeg } from './deidentification/jpeg.js';
import { inspectNetpbm } from './deidentification/netpbm.js';
import { inspectGzippedNifti, inspectNifti, niftiLayout, niftiLikeAnalyze } from './deidentification/nifti.js';
import { PNG_SIGNATURE, inspectPng } from './deidentification/png.js';
import { FormatError, type ImagePrefixReader, type OtherFormatOptions, PrefixSource, TooLargeError, isSpace, startsWith } from './deidentification/prefix-source.js';

export { NEUTRAL_EXIF_TAGS } from './deidentification/exif.js';
export { MAX_INFLATED_HEADER_BYTES } from './deidentification/nifti.js';
export { MAX_TEXT_BYTES } from './deidentification/png.js';
export {
  ALLOWED_TOOL_STAMPS,
  type DicomInspector,
  type ImagePrefixReader,
  MAX_INSPECTED_BYTES,
  type OtherFormatOptions,
} from './deidentification/prefix-source.js';

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
