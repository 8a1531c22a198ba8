/**
 * EXIF blocks (TIFF-structured: PNG eXIf, JPEG APP1 Exif) for the
 * de-identification gate: only tags of the image's geometry and encoding pass
 * ({@link NEUTRAL_EXIF_TAGS}); directories and entries are walked with caps.
 */
import type { GateFinding, ImageFormat } from './finding.js';
import { latin1 } from './prefix-source.js';

const MAX_EXIF_DIRECTORIES = 8;
const MAX_EXIF_ENTRIES = 4096;

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
export function exifFindings(tiff: Uint8Array, format: ImageFormat, where: string): GateFinding[] {
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
