/**
 * What every non-DICOM format reader of the de-identification gate shares
 * (../deidentification-formats.ts): the image read through doubling prefix reads
 * up to {@link MAX_INSPECTED_BYTES}, the two refusals (a format error, a cap
 * exceeded — findings, never thrown out of the gate), and the free-text rule
 * for fixed-size text fields ({@link ALLOWED_TOOL_STAMPS}).
 */
import type { GateFinding, ImageFormat } from './finding.js';

/** Reads the first `length` bytes of the image (fewer at its end), or undefined when it is missing: a ranged GET. */
export type ImagePrefixReader = (length: number) => Promise<Uint8Array | undefined>;

/** Most bytes of one image the gate reads: a PNG, JPEG or Netpbm file whole, a NIfTI to `vox_offset`. */
export const MAX_INSPECTED_BYTES = 64 * 1024 * 1024;

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

export class FormatError extends Error {
  constructor(
    readonly format: ImageFormat,
    message: string,
  ) {
    super(message);
    this.name = 'FormatError';
  }
}

export class TooLargeError extends Error {
  constructor(
    readonly format: ImageFormat,
    message: string,
  ) {
    super(message);
    this.name = 'TooLargeError';
  }
}

/** The image's leading bytes, grown by doubling prefix reads up to {@link MAX_INSPECTED_BYTES}. */
export class PrefixSource {
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

export const mib = (n: number) => `${n / 1024 / 1024} MiB`;
export const startsWith = (b: Uint8Array, prefix: readonly number[], at = 0) =>
  b.length >= at + prefix.length && prefix.every((x, i) => b[at + i] === x);
export const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;
export const latin1 = (b: Uint8Array) => Array.from(b, (x) => String.fromCharCode(x)).join('');

/** The text of a fixed-size field without NUL/space padding; '' when that leaves nothing. */
export function fieldText(b: Uint8Array): string {
  let end = b.indexOf(0);
  if (end < 0) end = b.length;
  // Bytes after the first NUL are still in the file: count them as text when they are not padding.
  const tail = b.subarray(end);
  const head = latin1(b.subarray(0, end)).replace(/^[\s\0]+|[\s\0]+$/g, '');
  const tailHasText = tail.some((x) => x !== 0 && !isSpace(x));
  return tailHasText ? `${head}\u0000${latin1(tail)}` : head;
}

export function isAllowedText(field: string, text: string): boolean {
  return text === '' || (ALLOWED_TOOL_STAMPS[field] ?? []).some((r) => r.test(text));
}

export function dedupe(findings: GateFinding[]): GateFinding[] {
  const seen = new Map<string, GateFinding>();
  for (const f of findings) seen.set(`${f.rule}|${f.location}|${f.message}`, f);
  return [...seen.values()];
}
