import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_INFLATED_HEADER_BYTES,
  MAX_TEXT_BYTES,
  type OtherFormatOptions,
  detectOtherFormat,
  inspectOtherFormat,
  inspectOtherFormatBytes,
} from '../../../functions/domain/deidentification-formats.js';
import { dicomFindings, inspectDicomHeader } from '../../../functions/domain/deidentification.js';
import { buildDicom } from '../../support/dicom.js';

const options: OtherFormatOptions = { inspectDicom: (bytes) => dicomFindings(inspectDicomHeader(bytes)) };
const inspect = (bytes: Uint8Array) => inspectOtherFormatBytes(bytes, options);
const locations = async (bytes: Uint8Array) => (await inspect(bytes)).map((f) => f.location);
const text = (s: string) => new TextEncoder().encode(s);
const PATIENT = 'DOE^JANE 1961-04-02';

// ------------------------------------------------------------------ builders

interface NiftiSpec {
  version?: 1 | 2;
  bigEndian?: boolean;
  fields?: Partial<Record<'descrip' | 'aux_file' | 'intent_name' | 'db_name' | 'data_type', string>>;
  extensions?: { ecode: number; data: Uint8Array }[];
  /** Override vox_offset (default: header + extensions). */
  voxOffset?: number;
  voxels?: number;
}

/** A NIfTI-1 (348-byte) or NIfTI-2 (540-byte) single file: header, extensions, then `voxels` bytes of uint8 data. */
function buildNifti(spec: NiftiSpec = {}): Uint8Array {
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

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(text(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}
const join = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** A valid 2×2 greyscale PNG with extra chunks between IHDR and IDAT. */
function buildPng(extra: Uint8Array[] = [], trailer: Uint8Array = new Uint8Array()): Uint8Array {
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
const tEXt = (keyword: string, value: string) => chunk('tEXt', join(text(`${keyword}\0`), text(value)));
const zTXt = (keyword: string, compressed: Uint8Array) => chunk('zTXt', join(text(`${keyword}\0`), new Uint8Array([0]), compressed));
const iTXt = (keyword: string, value: string) => chunk('iTXt', join(text(`${keyword}\0`), new Uint8Array([1, 0]), text('\0\0'), deflateSync(text(value))));

/** A TIFF-structured EXIF block (little endian) with one IFD0 of (tag, ASCII value) entries, optionally a thumbnail IFD1. */
function buildExif(entries: [number, string][], thumbnail = false): Uint8Array {
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

function segment(marker: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + data.length);
  out[0] = 0xff;
  out[1] = marker;
  new DataView(out.buffer).setUint16(2, data.length + 2);
  out.set(data, 4);
  return out;
}
const JFIF = segment(0xe0, new Uint8Array([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]));

/** A JPEG's marker structure: SOI, JFIF, extra segments, tables, a frame, one scan with entropy-coded bytes (stuffed 0xFF00, a restart marker), EOI. */
function buildJpeg(extra: Uint8Array[] = [], trailer: Uint8Array = new Uint8Array()): Uint8Array {
  const dqt = segment(0xdb, new Uint8Array(65).fill(1).map((x, i) => (i === 0 ? 0 : x)));
  const sof = segment(0xc0, new Uint8Array([8, 0, 2, 0, 2, 1, 1, 0x11, 0]));
  const dht = segment(0xc4, new Uint8Array([0, 1, ...new Array(15).fill(0), 0]));
  const sos = segment(0xda, new Uint8Array([1, 1, 0, 0, 63, 0]));
  const scan = new Uint8Array([0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56]);
  return join(new Uint8Array([0xff, 0xd8]), JFIF, ...extra, dqt, sof, dht, sos, scan, new Uint8Array([0xff, 0xd9]), trailer);
}

/** A raw DICOM data set (no preamble, no meta), as a NIfTI DICOM extension holds it. */
function rawDataSet(elements: Record<string, string>, transferSyntax: 'explicit-le' | 'implicit-le'): Uint8Array {
  const part10 = buildDicom({ elements, transferSyntax });
  const metaEnd = 144 + new DataView(part10.buffer, part10.byteOffset).getUint32(140, true);
  return part10.slice(metaEnd);
}

// ------------------------------------------------------------------ tests

describe('Function: detectOtherFormat', () => {
  it('tells NIfTI-1, NIfTI-2, gzip, PNG, JPEG and Netpbm from their magic bytes, whatever the name', () => {
    // Arrange / Act / Assert
    expect(detectOtherFormat(buildNifti())).toBe('nifti');
    expect(detectOtherFormat(buildNifti({ version: 2 }))).toBe('nifti');
    expect(detectOtherFormat(buildNifti({ bigEndian: true }))).toBe('nifti');
    expect(detectOtherFormat(gzipSync(buildNifti()))).toBe('nifti-gzip');
    expect(detectOtherFormat(buildPng())).toBe('png');
    expect(detectOtherFormat(buildJpeg())).toBe('jpeg');
    expect(detectOtherFormat(text('P5\n16 16\n255\n'))).toBe('netpbm');
    expect(detectOtherFormat(text('GIF89a'))).toBe('unknown');
  });
});

describe('Function: inspectOtherFormat — NIfTI', () => {
  it.each([1, 2] as const)('passes a clean NIfTI-%i (empty text fields, no extension)', async (version) => {
    expect(await inspect(buildNifti({ version }))).toEqual([]);
  });

  it('passes a documented tool stamp in descrip (FSL6.0) and nothing else like it', async () => {
    expect(await inspect(buildNifti({ fields: { descrip: 'FSL6.0' } }))).toEqual([]);
    expect(await locations(buildNifti({ fields: { descrip: 'FSL6.0 Jane Doe' } }))).toEqual(['descrip']);
  });

  it('blocks a NIfTI with a patient name in descrip, naming the field and never the value', async () => {
    // Arrange
    const bytes = buildNifti({ fields: { descrip: PATIENT } });

    // Act
    const findings = await inspect(bytes);

    // Assert
    expect(findings).toEqual([expect.objectContaining({ format: 'nifti', rule: 'identifying-text', location: 'descrip' })]);
    expect(JSON.stringify(findings)).not.toMatch(/DOE|JANE|1961/);
  });

  it.each(['aux_file', 'intent_name', 'db_name', 'data_type'] as const)('blocks free text in %s', async (field) => {
    expect(await locations(buildNifti({ fields: { [field]: 'jdoe' } }))).toEqual([field]);
  });

  it('reads a big-endian NIfTI-1 and a NIfTI-2 header the same way', async () => {
    expect(await locations(buildNifti({ bigEndian: true, fields: { descrip: PATIENT } }))).toEqual(['descrip']);
    expect(await locations(buildNifti({ version: 2, fields: { aux_file: 'jdoe.txt' } }))).toEqual(['aux_file']);
  });

  it('hands a DICOM extension (ecode 2) carrying PatientName to the DICOM gate, in implicit and explicit VR', async () => {
    for (const syntax of ['implicit-le', 'explicit-le'] as const) {
      // Arrange
      const data = rawDataSet({ PatientName: 'DOE^JANE', Modality: 'MR' }, syntax);
      const bytes = buildNifti({ extensions: [{ ecode: 2, data }] });

      // Act
      const findings = await inspect(bytes);

      // Assert
      expect(findings.length, syntax).toBeGreaterThan(0);
      expect(findings.some((f) => f.location?.startsWith('extension 1 (ecode 2, DICOM): (0010,0010)')), syntax).toBe(true);
      expect(JSON.stringify(findings)).not.toContain('DOE');
    }
  });

  it('passes a DICOM extension the DICOM gate finds clean', async () => {
    const data = rawDataSet({ PatientName: '', Modality: 'MR' }, 'explicit-le');
    expect(await inspect(buildNifti({ extensions: [{ ecode: 2, data }] }))).toEqual([]);
  });

  it('blocks identifying keys and name- or date-shaped values in an MRS JSON extension (ecode 44), naming known keys only', async () => {
    // Arrange
    const json = { SpectrometerFrequency: [123.2], ResonantNucleus: ['1H'], PatientName: 'Jane Doe', Notes: 'DOE^JANE', 'Jane Doe': 3 };
    const bytes = buildNifti({ extensions: [{ ecode: 44, data: text(JSON.stringify(json)) }] });

    // Act
    const found = await locations(bytes);

    // Assert
    expect(found).toEqual(['extension 1 (ecode 44, MRS): PatientName', 'extension 1 (ecode 44, MRS): (key)']);
  });

  it('passes an MRS JSON extension with only acquisition parameters', async () => {
    const json = { SpectrometerFrequency: [123.2], ResonantNucleus: ['1H'], EchoTime: 0.03, PatientName: '' };
    expect(await inspect(buildNifti({ extensions: [{ ecode: 44, data: text(JSON.stringify(json)) }] }))).toEqual([]);
  });

  it('blocks a COMMENT extension with text and any extension it cannot read (AFNI history)', async () => {
    const bytes = buildNifti({ extensions: [{ ecode: 6, data: text('scan of J. Doe') }, { ecode: 4, data: text('<AFNI_attributes/>') }] });
    expect(await inspect(bytes)).toEqual([
      expect.objectContaining({ rule: 'identifying-text', location: 'extension 1 (ecode 6, COMMENT)' }),
      expect.objectContaining({ rule: 'uninspectable-format', location: 'extension 2 (ecode 4, AFNI)' }),
    ]);
  });

  it('refuses a header whose extension runs past vox_offset, and a truncated header, as unreadable', async () => {
    const overrun = buildNifti({ extensions: [{ ecode: 6, data: new Uint8Array(64) }], voxOffset: 368 });
    expect((await inspect(overrun)).map((f) => f.rule)).toEqual(['unreadable']);
    expect((await inspect(buildNifti().subarray(0, 350))).map((f) => f.rule)).toEqual(['unreadable']);
  });

  it('reads a single-file NIfTI only to vox_offset, not its voxels', async () => {
    // Arrange: 8 MiB of voxels after a 352-byte header; the gate's first read is 1 KiB.
    const bytes = buildNifti({ voxels: 8 * 1024 * 1024 });
    let largest = 0;
    const read = async (n: number) => {
      largest = Math.max(largest, n);
      return bytes.subarray(0, n);
    };

    // Act
    const findings = await inspectOtherFormat(read, bytes.subarray(0, 1024), options);

    // Assert
    expect(findings).toEqual([]);
    expect(largest).toBeLessThanOrEqual(1024);
  });
});

describe('Function: inspectOtherFormat — gzipped NIfTI', () => {
  it('inflates the header of a .nii.gz and blocks a name in descrip; passes a clean one', async () => {
    expect(await locations(gzipSync(buildNifti({ fields: { descrip: PATIENT }, voxels: 4096 })))).toEqual(['descrip']);
    expect(await inspect(gzipSync(buildNifti({ voxels: 4096 })))).toEqual([]);
  });

  it('refuses a gzip bomb (a header declaring 1 GiB before its voxels) before inflating past the cap', async () => {
    // Arrange: vox_offset 1 GiB, all zeros — about 1 MB gzipped.
    const header = buildNifti({ voxels: 0 });
    new DataView(header.buffer).setFloat32(108, 1024 * 1024 * 1024, true);
    const gz = gzipSync(join(header, new Uint8Array(64 * 1024 * 1024)), { level: 9 });
    let compressedRead = 0;
    const read = async (n: number) => {
      compressedRead = Math.max(compressedRead, Math.min(n, gz.length));
      return gz.subarray(0, n);
    };

    // Act
    const findings = await inspectOtherFormat(read, gz.subarray(0, 1024), options);

    // Assert: refused with the reason, having read only the start of the stream.
    expect(findings).toEqual([expect.objectContaining({ format: 'nifti', rule: 'unreadable', message: expect.stringContaining('more than the gate inflates') })]);
    expect(compressedRead).toBeLessThan(64 * 1024);
  });

  it('refuses a gzip whose content is not a NIfTI without inflating it whole', async () => {
    // 512 MiB of zeros: about 500 KB of gzip. Inflating it whole would take 512 MiB.
    const bomb = gzipSync(new Uint8Array(512 * 1024 * 1024), { level: 9 });
    const before = process.memoryUsage().rss;
    const findings = await inspect(bomb);
    expect(findings).toEqual([expect.objectContaining({ rule: 'uninspectable-format' })]);
    expect(process.memoryUsage().rss - before).toBeLessThan(MAX_INFLATED_HEADER_BYTES * 4);
  });
});

describe('Function: inspectOtherFormat — PNG', () => {
  it('passes a clean PNG (colour and layout chunks only)', async () => {
    expect(await inspect(buildPng([chunk('pHYs', new Uint8Array(9)), chunk('gAMA', new Uint8Array(4))]))).toEqual([]);
  });

  it('blocks a PNG with a tEXt chunk, naming a registered keyword and never the text', async () => {
    const findings = await inspect(buildPng([tEXt('Author', PATIENT)]));
    expect(findings).toEqual([expect.objectContaining({ format: 'png', rule: 'identifying-text', location: 'tEXt "Author"' })]);
    expect(JSON.stringify(findings)).not.toMatch(/DOE|JANE/);
  });

  it('does not echo an unregistered keyword (it could itself be a name)', async () => {
    expect(await locations(buildPng([tEXt('Jane Doe', 'x')]))).toEqual(['tEXt (unregistered keyword)']);
  });

  it('blocks compressed text in zTXt and iTXt', async () => {
    expect(await locations(buildPng([zTXt('Comment', deflateSync(text(PATIENT))), iTXt('Title', PATIENT)]))).toEqual([
      'zTXt "Comment"',
      'iTXt "Title"',
    ]);
  });

  it('refuses a zTXt bomb while inflating, at the text cap', async () => {
    const bomb = deflateSync(new Uint8Array(MAX_TEXT_BYTES * 64));
    const findings = await inspect(buildPng([zTXt('Comment', bomb)]));
    expect(findings).toEqual([expect.objectContaining({ rule: 'unreadable', location: 'zTXt "Comment"', message: expect.stringContaining('refused while inflating') })]);
  });

  it('blocks identifying EXIF tags in eXIf and passes geometry-only EXIF', async () => {
    expect(await locations(buildPng([chunk('eXIf', buildExif([[0x013b, 'Jane Doe'], [0x0112, '1']]))]))).toEqual(['eXIf: tag 0x013B (Artist)']);
    expect(await inspect(buildPng([chunk('eXIf', buildExif([[0x0112, '1']]))]))).toEqual([]);
  });

  it('flags bytes after IEND and refuses a PNG cut before IEND', async () => {
    expect(await locations(buildPng([], text('DOE^JANE')))).toEqual(['after IEND']);
    const png = buildPng();
    expect((await inspect(png.subarray(0, png.length - 12))).map((f) => f.rule)).toEqual(['unreadable']);
  });
});

describe('Function: inspectOtherFormat — JPEG', () => {
  it('passes a clean JPEG (JFIF, tables, frame, scan, ICC profile)', async () => {
    expect(await inspect(buildJpeg([segment(0xe2, text('ICC_PROFILE\0\x01\x01'))]))).toEqual([]);
  });

  it('blocks a JPEG with a comment (COM), never echoing it', async () => {
    const findings = await inspect(buildJpeg([segment(0xfe, text(PATIENT))]));
    expect(findings).toEqual([expect.objectContaining({ format: 'jpeg', rule: 'identifying-text', location: 'COM' })]);
    expect(JSON.stringify(findings)).not.toMatch(/DOE|JANE/);
  });

  it('blocks EXIF identifying tags and a thumbnail, XMP and IPTC', async () => {
    const exif = segment(0xe1, join(text('Exif\0\0'), buildExif([[0x9003, '2019:04:02 10:11:12'], [0x0112, '1']], true)));
    const xmp = segment(0xe1, join(text('http://ns.adobe.com/xap/1.0/\0'), text('<x:xmpmeta><dc:creator>Jane</dc:creator></x:xmpmeta>')));
    const iptc = segment(0xed, join(text('Photoshop 3.0\0'), text('8BIM')));
    expect(await locations(buildJpeg([exif, xmp, iptc]))).toEqual([
      'APP1 Exif: tag 0x9003 (DateTimeOriginal)',
      'APP1 Exif: IFD1 (thumbnail)',
      'APP1 XMP',
      'APP13 IPTC',
    ]);
  });

  it('finds a comment between scans and bytes after EOI', async () => {
    const jpeg = buildJpeg([], text('trailing'));
    const withComment = join(jpeg.subarray(0, jpeg.length - 10), segment(0xfe, text('x')), jpeg.subarray(jpeg.length - 10));
    expect(await locations(withComment)).toEqual(['COM', 'after EOI']);
  });

  it('refuses a JPEG cut before EOI', async () => {
    const jpeg = buildJpeg([segment(0xfe, text('x'))]);
    expect((await inspect(jpeg.subarray(0, jpeg.length - 2))).map((f) => f.rule)).toEqual(['unreadable']);
  });
});

describe('Function: inspectOtherFormat — Netpbm and unknown formats', () => {
  it('passes a PGM without comments (the demo images) and blocks one with a comment', async () => {
    expect(await inspect(join(text('P5\n2 2\n255\n'), new Uint8Array(4)))).toEqual([]);
    expect(await locations(join(text('P5\n# patient DOE^JANE\n2 2\n255\n'), new Uint8Array(4)))).toEqual(['header comment']);
  });

  it('asks for an explicit attestation for a format it cannot inspect', async () => {
    expect(await inspect(text('GIF89a……'))).toEqual([expect.objectContaining({ format: 'unknown', rule: 'uninspectable-format' })]);
  });
});

describe('Property: the format inspectors on arbitrary bytes', () => {
  const magics: Record<string, number[]> = {
    none: [],
    png: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    jpeg: [0xff, 0xd8, 0xff],
    gzip: [0x1f, 0x8b, 0x08],
    netpbm: [0x50, 0x35, 0x0a],
  };

  it('never throw, and always give a finding with a reason', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(magics)), fc.uint8Array({ maxLength: 2048 }), async (magic, tail) => {
        const bytes = join(new Uint8Array(magics[magic]), tail);
        const findings = await inspect(bytes);
        expect(findings.length).toBeGreaterThan(0);
        for (const f of findings) expect(f.message.length).toBeGreaterThan(10);
      }),
      { numRuns: 400 },
    );
  });

  it('never throw on a NIfTI header with arbitrary fields and extensions, and never echo a field', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 348, maxLength: 1200 }), fc.boolean(), async (noise, gz) => {
        // A real NIfTI-1 magic and size, everything else arbitrary.
        const bytes = noise.slice();
        new DataView(bytes.buffer).setInt32(0, 348, true);
        bytes.set([0x6e, 0x2b, 0x31, 0], 344);
        const findings = await inspect(gz ? gzipSync(bytes) : bytes);
        for (const f of findings) expect(f.message.length).toBeGreaterThan(10);
      }),
      { numRuns: 300 },
    );
  });
});
