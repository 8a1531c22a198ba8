/**
 * Tiny writers of real image files for tests — NIfTI-1/-2, PNG (with valid
 * CRCs), JPEG marker structure, EXIF blocks — so the gate reads files the way
 * it will read a scanner's or a converter's, not a mock of a parser.
 */
import { deflateSync } from 'node:zlib';

export const text = (s: string) => new TextEncoder().encode(s);

export interface NiftiSpec {
  version?: 1 | 2;
  bigEndian?: boolean;
  fields?: Partial<Record<'descrip' | 'aux_file' | 'intent_name' | 'db_name' | 'data_type', string>>;
  extensions?: { ecode: number; data: Uint8Array }[];
  /** Override vox_offset (default: header + extensions). */
  voxOffset?: number;
  voxels?: number;
}

/** A NIfTI-1 (348-byte) or NIfTI-2 (540-byte) single file: header, extensions, then `voxels` bytes of uint8 data. */
export function buildNifti(spec: NiftiSpec = {}): Uint8Array {
  const version = spec.version ?? 1;
  const le = !spec.bigEndian;
  const headerBytes = version === 1 ? 348 : 540;
  const extBytes = (spec.extensions ?? []).reduce((s, e) => s + Math.ceil((e.data.length + 8) / 16) * 16, 0);
  const vox = spec.voxOffset ?? headerBytes + 4 + extBytes;
  const voxels = spec.voxels ?? 8;
  const out = new Uint8Array(Math.max(vox, headerBytes + 4 + extBytes) + voxels);
  const v = new DataView(out.buffer);
  const put = (offset: number, size: number, s: string) => out.set(text(s).subarray(0, size), offset);
  if (version === 1) {
    v.setInt32(0, 348, le);
    v.setInt16(40, 3, le);
    for (const [i, d] of [2, 2, 2].entries()) v.setInt16(42 + 2 * i, d, le);
    v.setInt16(70, 2, le); // uint8
    v.setInt16(72, 8, le);
    v.setFloat32(108, vox, le);
    put(344, 4, 'n+1\0');
    const at = { data_type: 4, db_name: 14, descrip: 148, aux_file: 228, intent_name: 328 };
    for (const [k, s] of Object.entries(spec.fields ?? {})) put(at[k as keyof typeof at], 80, s);
  } else {
    v.setInt32(0, 540, le);
    out.set([0x6e, 0x2b, 0x32, 0, 0x0d, 0x0a, 0x1a, 0x0a], 4);
    v.setInt16(12, 2, le);
    v.setInt16(14, 8, le);
    v.setBigInt64(16, 3n, le);
    v.setBigInt64(168, BigInt(vox), le);
    const at = { descrip: 240, aux_file: 320, intent_name: 508 };
    for (const [k, s] of Object.entries(spec.fields ?? {})) put(at[k as keyof typeof at], 16, s);
  }
  if (spec.extensions?.length) {
    out[headerBytes] = 1;
    let at = headerBytes + 4;
    for (const e of spec.extensions) {
      const esize = Math.ceil((e.data.length + 8) / 16) * 16;
      v.setInt32(at, esize, le);
      v.setInt32(at + 4, e.ecode, le);
      out.set(e.data, at + 8);
      at += esize;
    }
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (b: Uint8Array) => {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

export function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(text(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}
export const join = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** A valid 2×2 greyscale PNG with extra chunks between IHDR and IDAT. */
export function buildPng(extra: Uint8Array[] = [], trailer: Uint8Array = new Uint8Array()): Uint8Array {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, 2);
  new DataView(ihdr.buffer).setUint32(4, 2);
  ihdr[8] = 8; // bit depth; colour type 0 (grey)
  const raw = new Uint8Array([0, 10, 20, 0, 30, 40]); // filter byte + 2 pixels per row
  return join(
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...extra,
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array()),
    trailer,
  );
}
export const tEXt = (keyword: string, value: string) => chunk('tEXt', join(text(`${keyword}\0`), text(value)));
export const zTXt = (keyword: string, compressed: Uint8Array) => chunk('zTXt', join(text(`${keyword}\0`), new Uint8Array([0]), compressed));
export const iTXt = (keyword: string, value: string) => chunk('iTXt', join(text(`${keyword}\0`), new Uint8Array([1, 0]), text('\0\0'), deflateSync(text(value))));

/** A TIFF-structured EXIF block (little endian) with one IFD0 of (tag, ASCII value) entries, optionally a thumbnail IFD1. */
export function buildExif(entries: [number, string][], thumbnail = false): Uint8Array {
  const count = entries.length;
  const ifdSize = 2 + count * 12 + 4;
  const valuesAt = 8 + ifdSize;
  const values = entries.map(([, s]) => text(`${s}\0`));
  const ifd1At = valuesAt + values.reduce((s, v) => s + v.length, 0);
  const out = new Uint8Array(ifd1At + (thumbnail ? 2 + 12 + 4 : 0));
  const v = new DataView(out.buffer);
  out.set(text('II'), 0);
  v.setUint16(2, 42, true);
  v.setUint32(4, 8, true);
  v.setUint16(8, count, true);
  let valueAt = valuesAt;
  entries.forEach(([tag], i) => {
    const e = 10 + i * 12;
    v.setUint16(e, tag, true);
    v.setUint16(e + 2, 2, true); // ASCII
    v.setUint32(e + 4, values[i].length, true);
    v.setUint32(e + 8, valueAt, true);
    out.set(values[i], valueAt);
    valueAt += values[i].length;
  });
  v.setUint32(10 + count * 12, thumbnail ? ifd1At : 0, true);
  if (thumbnail) {
    v.setUint16(ifd1At, 1, true);
    v.setUint16(ifd1At + 2, 0x0103, true); // Compression
    v.setUint16(ifd1At + 4, 3, true);
    v.setUint32(ifd1At + 6, 1, true);
    v.setUint16(ifd1At + 10, 6, true);
  }
  return out;
}

export function segment(marker: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + data.length);
  out[0] = 0xff;
  out[1] = marker;
  new DataView(out.buffer).setUint16(2, data.length + 2);
  out.set(data, 4);
  return out;
}
export const JFIF = segment(0xe0, new Uint8Array([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]));

/** A JPEG's marker structure: SOI, JFIF, extra segments, tables, a frame, one scan with entropy-coded bytes (stuffed 0xFF00, a restart marker), EOI. */
export function buildJpeg(extra: Uint8Array[] = [], trailer: Uint8Array = new Uint8Array()): Uint8Array {
  const dqt = segment(0xdb, new Uint8Array(65).fill(1).map((x, i) => (i === 0 ? 0 : x)));
  const sof = segment(0xc0, new Uint8Array([8, 0, 2, 0, 2, 1, 1, 0x11, 0]));
  const dht = segment(0xc4, new Uint8Array([0, 1, ...new Array(15).fill(0), 0]));
  const sos = segment(0xda, new Uint8Array([1, 1, 0, 0, 63, 0]));
  const scan = new Uint8Array([0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56]);
  return join(new Uint8Array([0xff, 0xd8]), JFIF, ...extra, dqt, sof, dht, sos, scan, new Uint8Array([0xff, 0xd9]), trailer);
}

