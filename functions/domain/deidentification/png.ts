/**
 * The de-identification gate's PNG reader: text chunks (tEXt, zTXt, iTXt,
 * inflated with a cap), eXIf, chunks it does not know, and data after IEND.
 * See ../deidentification-formats.ts.
 */
import { inflateSync } from 'node:zlib';
import { exifFindings } from './exif.js';
import type { GateFinding } from './finding.js';
import { FormatError, type PrefixSource, dedupe, fieldText, latin1, mib } from './prefix-source.js';

/** Most bytes one compressed PNG text chunk (zTXt, iTXt) is inflated to. */
export const MAX_TEXT_BYTES = 1024 * 1024;

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

/** Registered PNG text keywords (PNG spec 11.3.4.2): the only keywords a finding names. */
const PNG_KEYWORDS = new Set(['Title', 'Author', 'Description', 'Copyright', 'Creation Time', 'Software', 'Disclaimer', 'Warning', 'Source', 'Comment']);

/** Chunks that hold pixels, colour or layout, never text (PNG 1.2/3rd edition, APNG). */
const PNG_NEUTRAL_CHUNKS = new Set([
  'IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'cHRM', 'gAMA', 'iCCP', 'sBIT', 'sRGB', 'cICP', 'mDCV', 'cLLI', 'bKGD', 'hIST', 'pHYs', 'sPLT', 'acTL', 'fcTL', 'fdAT',
]);

export async function inspectPng(source: PrefixSource): Promise<GateFinding[]> {
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
