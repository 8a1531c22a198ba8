/**
 * The de-identification gate at ingest: reads every image object of a case
 * far enough to see its whole header, and returns what would stop the case
 * from reaching a vendor.
 *
 * Primary course, per image object (`imageKey`, then each of `seriesKeys`):
 * 1. Read the first {@link FIRST_READ_BYTES} with a ranged GET (the object
 *    store's `getHead`).
 * 2. DICOM (`DICM` at byte 128, or a `.dcm` name): parse up to Pixel Data
 *    (7FE0,0010). While the bytes end before it and the object goes on, read
 *    twice as much and parse again, up to {@link MAX_HEADER_BYTES}; a header
 *    still incomplete there is refused with that reason, as is one cut short by
 *    the end of the object.
 * 3. Judge the header against PS3.15 Table E.1-1 and the program's settings
 *    (`functions/domain/deidentification.ts`).
 * 4. Any other format: `inspectOtherFormat` (`functions/domain/deidentification-formats.ts`).
 *
 * A missing object is a finding too: nothing unseen leaves.
 */
import {
  type Case,
  type DeidentificationSettings,
  type GateFinding,
  dicomFindings,
  inspectDicomHeader,
  isDicomImage,
} from '../domain/index.js';
import { inspectOtherFormat } from '../domain/deidentification-formats.js';
import type { Deps } from './ports.js';

export type { GateFinding, GateRule, ImageFormat } from '../domain/index.js';

/** First read of an image: most DICOM headers end well before this. */
export const FIRST_READ_BYTES = 256 * 1024;

/**
 * The most the gate reads to find the end of one DICOM header: 64 MiB (the
 * reads double from {@link FIRST_READ_BYTES}: 256 KiB, 512 KiB, … 64 MiB, nine
 * ranged GETs at most; each starts at byte 0, as the port's `getHead` does, so a
 * header costs at most twice its own bytes). A header (everything before Pixel Data) longer than
 * this is refused rather than read on: it is malformed or carries large
 * embedded objects (documents, overlays, private blobs) a person must look at
 * anyway, and a Lambda must hold what it parses in memory.
 */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;

/**
 * Reads the first `length` bytes of one image object (fewer when the object
 * is shorter), or undefined when there is no such object: a ranged GET.
 */
export type ImageHeadReader = (length: number) => Promise<Uint8Array | undefined>;

/**
 * The gate for one case: every image object it names, checked in turn. Each
 * finding is one sentence for the PM, prefixed with the object's key when the
 * case has more than one.
 *
 * @example
 * await gateCase(deps, c, protocol.deidentification)
 * // ["header still carries Patient's Name (0010,0010): Basic Profile action Z: empty it; no option keeps it"]
 */
export async function gateCase(deps: Deps, c: Case, settings: DeidentificationSettings, attested: string[] = []): Promise<string[]> {
  const keys = [c.imageKey, ...(c.seriesKeys ?? []).filter((k) => k !== c.imageKey)];
  const out: string[] = [];
  for (const key of keys) {
    const findings = await inspectImage((n) => deps.objects.getHead(deps.buckets.images, key, n), key, settings);
    for (const f of findings) {
      const message = keys.length > 1 ? `${key}: ${f.message}` : f.message;
      // An explicit attestation covers what the gate cannot inspect, never what it can; `attested` collects it for the ledger.
      if (f.rule === 'uninspectable-format' && c.uninspectedFormatAttestation) attested.push(message);
      else out.push(message);
    }
  }
  return out;
}

/**
 * Inspects one image object for anything that identifies a person: the
 * dispatch point by format. Returns no finding when the image may leave.
 *
 * @example
 * const read = (n: number) => deps.objects.getHead(deps.buckets.images, key, n);
 * await inspectImage(read, key, protocol.deidentification);
 * // [{ format: 'dicom', rule: 'identifying-attribute', location: "(0010,0010) Patient's Name", message: '…' }]
 */
export async function inspectImage(
  read: ImageHeadReader,
  objectKey: string,
  settings: DeidentificationSettings,
): Promise<GateFinding[]> {
  const head = await read(FIRST_READ_BYTES);
  if (head === undefined) {
    return [{ format: 'unknown', rule: 'unreadable', message: `image ${objectKey} not found: its header cannot be checked` }];
  }
  if (isDicomImage(head, objectKey)) return inspectDicomObject(read, head, settings);
  // NIfTI (a DICOM extension is judged by the DICOM gate with these settings), PNG, JPEG, Netpbm; anything else needs an attestation.
  return inspectOtherFormat(read, head, {
    inspectDicom: (part10) => dicomFindings(inspectDicomHeader(part10, settings)),
    headRequested: FIRST_READ_BYTES,
  });
}

/** Reads a DICOM object's header whole (growing ranged reads) and judges it. */
async function inspectDicomObject(
  read: ImageHeadReader,
  first: Uint8Array,
  settings: DeidentificationSettings,
): Promise<GateFinding[]> {
  let bytes = first;
  let requested = FIRST_READ_BYTES;
  for (;;) {
    const endOfObject = bytes.length < requested;
    const inspection = inspectDicomHeader(bytes, settings);
    const headerComplete = inspection.ok ? inspection.reachedPixelData : !inspection.truncated;
    if (headerComplete || endOfObject) return dicomFindings(inspection);
    if (requested >= MAX_HEADER_BYTES) {
      return [
        {
          format: 'dicom',
          rule: 'unreadable',
          message: `image is not a readable DICOM file: its header goes on past ${MAX_HEADER_BYTES / 1024 / 1024} MiB without reaching Pixel Data (7FE0,0010), more than the gate reads: it cannot be checked whole`,
        },
      ];
    }
    requested = Math.min(requested * 2, MAX_HEADER_BYTES);
    const more = await read(requested);
    if (more === undefined) {
      return [{ format: 'dicom', rule: 'unreadable', message: 'image is not a readable DICOM file: it disappeared while its header was read' }];
    }
    bytes = more;
  }
}
