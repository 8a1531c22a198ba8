/**
 * The gate's reading of one image object: ranged reads that grow until the
 * header is whole (or the object ends, or the cap is reached). The reader here
 * is the port's contract — the first n bytes, fewer at the end, undefined when
 * missing — over bytes in memory; test/integration/deidentification-samples.test.ts
 * runs the same gate over real ranged GETs on the embedded S3.
 */
import { describe, expect, it } from 'vitest';
import { DeidentificationSettings } from '../../../functions/domain/index.js';
import {
  FIRST_READ_BYTES,
  type ImageHeadReader,
  MAX_HEADER_BYTES,
  inspectImage,
} from '../../../functions/use-cases/deidentification-gate.js';
import { type DicomSpec, buildDicom } from '../../support/dicom.js';

const NONE = DeidentificationSettings.parse({});

/** A reader over bytes that records the lengths asked for. */
function readerOver(bytes: Uint8Array | undefined): { read: ImageHeadReader; lengths: number[] } {
  const lengths: number[] = [];
  return {
    lengths,
    read: async (n) => {
      lengths.push(n);
      return bytes?.subarray(0, n);
    },
  };
}

const CLEAN: DicomSpec['elements'] = { PatientName: '', PatientIdentityRemoved: 'YES', Modality: 'CT' };

/** A header made long by a palette table (no identity in it) before group 0032, then pixels. */
function longHeader(paletteBytes: number, extra: DicomSpec['elements'] = {}): Uint8Array {
  return buildDicom({
    elements: { ...CLEAN, RedPaletteColorLookupTableData: { vr: 'OW', value: new Uint8Array(paletteBytes) }, ...extra },
    pixels: new Uint8Array(64 * 64),
    rows: 64,
    columns: 64,
  });
}

describe('Function: inspectImage (DICOM)', () => {
  it('reads a small file once and passes it when its header is clean', async () => {
    const { read, lengths } = readerOver(buildDicom({ elements: CLEAN, pixels: new Uint8Array(16), rows: 4, columns: 4 }));

    expect(await inspectImage(read, 'images/a.dcm', NONE)).toEqual([]);
    expect(lengths).toEqual([FIRST_READ_BYTES]);
  });

  // Issue 8: the gate read a fixed 256 KiB and refused every longer header as unreadable.
  it('grows its ranged reads until the header is whole, and finds an attribute past the first 256 KiB', async () => {
    const bytes = longHeader(300 * 1024, { RequestingPhysician: 'House^Gregory' });
    const { read, lengths } = readerOver(bytes);

    const findings = await inspectImage(read, 'images/long.dcm', NONE);

    expect(findings).toEqual([
      expect.objectContaining({ format: 'dicom', rule: 'identifying-attribute', location: '(0032,1032) Requesting Physician' }),
    ]);
    expect(lengths).toEqual([FIRST_READ_BYTES, 2 * FIRST_READ_BYTES]);
  });

  it('refuses a header cut short by the end of the object, after reading to that end', async () => {
    const whole = longHeader(600 * 1024);
    const cut = whole.subarray(0, 500 * 1024); // inside the palette table
    const { read, lengths } = readerOver(cut);

    const findings = await inspectImage(read, 'images/cut.dcm', NONE);

    expect(findings).toEqual([
      { format: 'dicom', rule: 'unreadable', message: expect.stringMatching(/^image is not a readable DICOM file: the header is truncated/) },
    ]);
    expect(lengths).toEqual([FIRST_READ_BYTES, 2 * FIRST_READ_BYTES]);
  });

  it(`refuses a header that goes on past ${MAX_HEADER_BYTES / 1024 / 1024} MiB without reading further`, async () => {
    // A palette table longer than the cap: the header cannot end before it.
    const bytes = longHeader(MAX_HEADER_BYTES + 1024, { RequestingPhysician: 'House^Gregory' });
    const { read, lengths } = readerOver(bytes);

    const findings = await inspectImage(read, 'images/huge.dcm', NONE);

    expect(findings).toEqual([
      expect.objectContaining({ rule: 'unreadable', message: expect.stringMatching(/header goes on past 64 MiB without reaching Pixel Data/) }),
    ]);
    expect(Math.max(...lengths)).toBe(MAX_HEADER_BYTES);
    expect(lengths).toHaveLength(Math.log2(MAX_HEADER_BYTES / FIRST_READ_BYTES) + 1);
  });

  it('reads a file without pixel data (a structured report) to its end and judges it', async () => {
    const { read, lengths } = readerOver(buildDicom({ elements: { ...CLEAN, PatientName: 'Doe^Jane' } }));

    expect(await inspectImage(read, 'images/sr.dcm', NONE)).toEqual([expect.objectContaining({ location: "(0010,0010) Patient's Name" })]);
    expect(lengths).toEqual([FIRST_READ_BYTES]);
  });

  it('reports a missing object, naming its key', async () => {
    const { read } = readerOver(undefined);

    expect(await inspectImage(read, 'images/gone.dcm', NONE)).toEqual([
      { format: 'unknown', rule: 'unreadable', message: 'image images/gone.dcm not found: its header cannot be checked' },
    ]);
  });

  it('judges with the program settings it is given', async () => {
    const bytes = buildDicom({
      elements: {
        ...CLEAN,
        PatientSex: 'F',
        DeidentificationMethodCodeSequence: [{ CodeValue: '113108', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Retain Patient Characteristics' }],
      },
    });

    expect(await inspectImage(readerOver(bytes).read, 'images/x.dcm', NONE)).toHaveLength(1);
    expect(
      await inspectImage(readerOver(bytes).read, 'images/x.dcm', DeidentificationSettings.parse({ acceptedOptions: ['retainPatientCharacteristics'] })),
    ).toEqual([]);
  });
});
