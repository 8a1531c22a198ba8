/**
 * Reading a DICOM header for the de-identification gate (../deidentification.ts):
 * the tags it reads besides PS3.15's table, why dicom-parser failed in one
 * sentence, where the header overruns the buffer or nests too deep, sequences
 * left opaque, and whether an element carries a value.
 */
import dicomParser, { type DataSet, type Element } from 'dicom-parser';

/** Deeper sequence nesting than this is refused: no real header needs it, and walking it is unbounded work. */
export const MAX_SEQUENCE_DEPTH = 64;

/** Tags read besides the table. */
export const TAG = {
  transferSyntax: 'x00020010',
  modality: 'x00080060',
  codeValue: 'x00080100',
  codingSchemeDesignator: 'x00080102',
  patientIdentityRemoved: 'x00120062',
  deidentificationMethod: 'x00120063',
  deidentificationMethodCodeSequence: 'x00120064',
  burnedInAnnotation: 'x00280301',
  recognizableVisualFeatures: 'x00280302',
  pixelData: 'x7fe00010',
} as const;

/** CID 7050 code of the Basic Application Confidentiality Profile. */
export const BASIC_PROFILE_CODE = '113100';

const DEFLATED_EXPLICIT_LE = '1.2.840.10008.1.2.1.99';

/**
 * `x00100010` → `(0010,0010)`, the form DICOM documents and tools print.
 *
 * @example formatTag('x0008009c') // '(0008,009C)'
 */
export function formatTag(tag: string): string {
  const hex = tag.replace(/^x/, '').toUpperCase();
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}

/**
 * The items of a value dicom-parser left as bytes although it is a sequence: a
 * private sequence in implicit VR, or one encoded as UN. Both are implicit VR
 * little endian inside; the value must open with an Item tag (FFFE,E000).
 * Empty when the value is not a sequence or does not parse as one.
 */
export function opaqueItems(dataSet: DataSet, element: Element): DataSet[] {
  const bytes = dataSet.byteArray;
  const start = element.dataOffset;
  const end = element.hadUndefinedLength ? bytes.length : start + element.length;
  if (end > bytes.length || end - start < 8) return [];
  if (!(bytes[start] === 0xfe && bytes[start + 1] === 0xff && bytes[start + 2] === 0x00 && bytes[start + 3] === 0xe0)) return [];
  try {
    const sequence = {
      tag: element.tag,
      dataOffset: start,
      length: element.hadUndefinedLength ? UNDEFINED_LENGTH : element.length,
    } as Element;
    const stream = new dicomParser.ByteStream(dicomParser.littleEndianByteArrayParser, bytes, start);
    dicomParser.readSequenceItemsImplicit(stream, sequence);
    // Depth is judged by the walk; an item whose values run past the buffer stays opaque.
    const whole = (d: DataSet) => [undefined, DEPTH_EXCEEDED].includes(findOverrun(d, 0));
    return (sequence.items ?? []).flatMap((i) => (i.dataSet && whole(i.dataSet) ? [i.dataSet] : []));
  } catch {
    return [];
  }
}

/** CID 7050 codes (scheme DCM) in De-identification Method Code Sequence (0012,0064). */
export function declaredCodes(dataSet: DataSet): Set<string> {
  const codes = new Set<string>();
  for (const item of dataSet.elements[TAG.deidentificationMethodCodeSequence]?.items ?? []) {
    const code = item.dataSet ? readText(item.dataSet, TAG.codeValue) : undefined;
    const scheme = item.dataSet ? readText(item.dataSet, TAG.codingSchemeDesignator) : undefined;
    if (code && scheme === 'DCM') codes.add(code);
  }
  return codes;
}

export class DeflatedTransferSyntaxError extends Error {
  override name = 'DeflatedTransferSyntaxError';
}

export function hasDicmMarker(bytes: Uint8Array): boolean {
  return bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d; // 'DICM'
}

/** dicom-parser throws strings, Errors, or `{ exception, dataSet }`; make one sentence of any. */
export function describeParseFailure(e: unknown): { ok: false; reason: string; truncated: boolean } {
  const cause = typeof e === 'object' && e !== null && 'exception' in e ? (e as { exception: unknown }).exception : e;
  if (cause instanceof DeflatedTransferSyntaxError) {
    return {
      ok: false,
      truncated: false,
      reason: `deflated transfer syntax (${DEFLATED_EXPLICIT_LE}) is not accepted; re-encode the file uncompressed`,
    };
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/missing required meta header attribute 0002,0010/.test(message)) {
    return { ok: false, truncated: false, reason: 'the file meta information has no Transfer Syntax UID (0002,0010)' };
  }
  // An item or value that claims more bytes than are left: the file ends inside it.
  if (/past end of buffer|buffer overr|cannot be greater than or equal to|eof encountered|maxP ?osition/i.test(message)) {
    return { ok: false, truncated: true, reason: 'the header is truncated: the file ends in the middle of an element' };
  }
  if (cause instanceof RangeError) {
    return { ok: false, truncated: false, reason: `the header cannot be parsed (${message})` };
  }
  return { ok: false, truncated: false, reason: `the header cannot be parsed (${message.replace(/^dicomParser[.:]\s*/, '')})` };
}

/**
 * Where the file meta information ends by its own group length, if the file
 * starts with File Meta Information Group Length (0002,0000) UL as PS3.10
 * requires; undefined otherwise (the parser then finds the end itself).
 */
export function declaredMetaEnd(bytes: Uint8Array): number | undefined {
  if (bytes.length < 144) return Number.POSITIVE_INFINITY; // not even the group length fits
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isGroupLength = view.getUint32(132, true) === 0x00000002 && bytes[136] === 0x55 && bytes[137] === 0x4c; // (0002,0000) 'UL'
  return isGroupLength ? 144 + view.getUint32(140, true) : undefined;
}

const UNDEFINED_LENGTH = 0xffffffff;
export const DEPTH_EXCEEDED = 'depth';

/** The first element (outside Pixel Data) whose value would end past the buffer, as `(gggg,eeee)`; or too deep a nesting. */
export function findOverrun(dataSet: DataSet, depth: number): string | undefined {
  if (depth > MAX_SEQUENCE_DEPTH) return DEPTH_EXCEEDED;
  const size = dataSet.byteArray.length;
  for (const element of Object.values(dataSet.elements)) {
    if (element.tag === TAG.pixelData) continue;
    if (element.length !== UNDEFINED_LENGTH && element.dataOffset + element.length > size) return formatTag(element.tag);
    for (const item of element.items ?? []) {
      const inner = item.dataSet ? findOverrun(item.dataSet, depth + 1) : undefined;
      if (inner) return inner;
    }
  }
  return undefined;
}

const NUL = 0x00;
const SPACE = 0x20;
const BACKSLASH = 0x5c; // separates multiple values
const CARET = 0x5e; // separates person-name components
const EQUALS = 0x3d; // separates person-name representations

/**
 * Whether an element carries a value: a sequence with at least one item, or
 * anything besides padding (space, NUL) and separators (`\`, and the
 * person-name `^` and `=`). `\` alone is two empty values; `^^^^` an empty
 * person name. Implicit VR gives no VR to tell a person name from other text,
 * so the separators count as empty everywhere; a value made of nothing else
 * identifies no one whatever its VR.
 */
export function hasValue(dataSet: DataSet, element: Element): boolean {
  if (element.items) return element.items.length > 0;
  const bytes = dataSet.byteArray;
  const end = Math.min(element.dataOffset + element.length, bytes.length);
  for (let i = element.dataOffset; i < end; i++) {
    const b = bytes[i];
    if (b === NUL || b === SPACE || b === BACKSLASH || b === CARET || b === EQUALS) continue;
    return true;
  }
  return false;
}

/** A text attribute, trimmed; undefined when absent or empty. */
export function readText(dataSet: DataSet, tag: string): string | undefined {
  const text = dataSet.string(tag);
  return text ? text : undefined;
}
