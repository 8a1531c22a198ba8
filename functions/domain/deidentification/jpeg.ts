/**
 * The de-identification gate's JPEG reader: COM, APP1 Exif (tags, thumbnail),
 * APP1 XMP, APP13 IPTC, APP0 thumbnails, unknown APPn segments, and data after
 * EOI. See ../deidentification-formats.ts.
 */
import { exifFindings } from './exif.js';
import type { GateFinding } from './finding.js';
import { FormatError, type PrefixSource, dedupe, fieldText, latin1 } from './prefix-source.js';

const XMP = 'http://ns.adobe.com/xap/1.0/\0';
const XMP_EXTENDED = 'http://ns.adobe.com/xmp/extension/\0';

export async function inspectJpeg(source: PrefixSource): Promise<GateFinding[]> {
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
