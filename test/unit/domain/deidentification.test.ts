import dicomParser from 'dicom-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DicomHeaderInspection,
  IDENTIFYING_ATTRIBUTES,
  deidentificationFindings,
  deidentificationVerdict,
  formatTag,
  inspectDicomHeader,
} from '../../../functions/domain/deidentification.js';
import { type DicomItem, type DicomSpec, type DicomTransferSyntax, buildDicom } from '../../support/dicom.js';

const SYNTAXES: DicomTransferSyntax[] = ['explicit-le', 'implicit-le'];
const UID = { explicit: '1.2.840.10008.1.2.1', implicit: '1.2.840.10008.1.2', deflated: '1.2.840.10008.1.2.1.99' };

/** A header as a Basic Profile de-identifier leaves it: Type 2 identity attributes present but empty. */
const DEIDENTIFIED: DicomSpec['elements'] = {
  PatientName: '',
  PatientID: '',
  PatientBirthDate: '',
  PatientSex: '',
  AccessionNumber: '',
  ReferringPhysicianName: '',
  StudyID: '',
  PatientIdentityRemoved: 'YES',
  DeidentificationMethod: 'Basic Application Confidentiality Profile',
  Modality: 'CT',
  BodyPartExamined: 'CHEST',
  StudyInstanceUID: '2.25.110592634112876938254612903775164431520',
  SeriesInstanceUID: '2.25.255187395019322645211338024517340851906',
  SeriesNumber: '2',
  InstanceNumber: '14',
};

const deidentified = (transferSyntax: DicomTransferSyntax, extra: DicomSpec['elements'] = {}) =>
  buildDicom({ elements: { ...DEIDENTIFIED, ...extra }, transferSyntax });

/** The inspection of a file that must be readable. */
const readable = (inspection: DicomHeaderInspection) => {
  if (!inspection.ok) throw new Error(`expected a readable header, got: ${inspection.reason}`);
  return inspection;
};
const keywordsIn = (bytes: Uint8Array) => readable(inspectDicomHeader(bytes)).identifying.map((f) => f.keyword);

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('Function: inspectDicomHeader', () => {
  describe.each(SYNTAXES)('a de-identified header (%s)', (syntax) => {
    it('returns no identifying attribute, with the de-identifier claim, modality and transfer syntax', () => {
      // Arrange
      const bytes = deidentified(syntax);

      // Act
      const inspection = inspectDicomHeader(bytes);

      // Assert
      expect(inspection).toEqual({
        ok: true,
        identifying: [],
        patientIdentityRemoved: true,
        deidentificationMethod: 'Basic Application Confidentiality Profile',
        modality: 'CT',
        transferSyntax: syntax === 'explicit-le' ? UID.explicit : UID.implicit,
      });
    });

    it('reads attributes left empty as a de-identifier leaves them: padding, `\\` and person-name separators only', () => {
      const bytes = deidentified(syntax, {
        PatientName: '^^^^',
        OtherPatientNames: '=^=',
        PatientID: ' ',
        OtherPatientIDs: '\\',
        InstitutionName: '  ',
        OtherPatientIDsSequence: [],
      });

      expect(keywordsIn(bytes)).toEqual([]);
    });

    it('reports patientIdentityRemoved false when the header makes no such claim', () => {
      const { PatientIdentityRemoved: _claim, DeidentificationMethod: _method, ...rest } = DEIDENTIFIED;
      const inspection = readable(inspectDicomHeader(buildDicom({ elements: rest, transferSyntax: syntax })));

      expect(inspection.patientIdentityRemoved).toBe(false);
      expect(inspection.deidentificationMethod).toBeUndefined();
    });
  });

  describe.each(SYNTAXES)('one identifying attribute left in (%s)', (syntax) => {
    it.each([
      ['PatientName', 'Doe^Jane', '(0010,0010)'],
      ['PatientID', 'MRN-0042', '(0010,0020)'],
      ['PatientBirthDate', '19610412', '(0010,0030)'],
      ['InstitutionName', 'St Elsewhere General', '(0008,0080)'],
      ['AccessionNumber', 'A2024-991', '(0008,0050)'],
      ['ReferringPhysicianName', 'House^Gregory', '(0008,0090)'],
    ])('names %s when it carries a value', (keyword, value, tag) => {
      // Arrange
      const bytes = deidentified(syntax, { [keyword]: value });

      // Act
      const inspection = readable(inspectDicomHeader(bytes));

      // Assert
      expect(inspection.identifying).toEqual([expect.objectContaining({ keyword })]);
      expect(formatTag(inspection.identifying[0].tag)).toBe(tag);
    });
  });

  describe.each(SYNTAXES)('every row of IDENTIFYING_ATTRIBUTES (%s)', (syntax) => {
    const SAMPLE: Record<string, string> = { DA: '19610412', TM: '093000', AS: '062Y', DS: '72.5', CS: 'F' };
    const CODE_ITEM: DicomItem = { CodeValue: 'X1', CodingSchemeDesignator: '99LOCAL', CodeMeaning: 'identifying' };

    it.each(IDENTIFYING_ATTRIBUTES.map((a) => [a.keyword, a] as const))('reports %s alone', (_keyword, attribute) => {
      const value = attribute.vr === 'SQ' ? [CODE_ITEM] : (SAMPLE[attribute.vr] ?? 'IDENTIFYING');
      const bytes = buildDicom({ elements: { [attribute.tag]: { vr: attribute.vr, value } }, transferSyntax: syntax });

      expect(keywordsIn(bytes)).toEqual([attribute.keyword]);
    });
  });

  it('reports every identifying attribute present, once each, in table order', () => {
    const bytes = deidentified('explicit-le', {
      AccessionNumber: 'A2024-991',
      PatientName: 'Doe^Jane',
      StationName: 'CT-ELSEWHERE-2',
      DeviceSerialNumber: 'SN88231',
    });

    expect(keywordsIn(bytes)).toEqual(['PatientName', 'StationName', 'DeviceSerialNumber', 'AccessionNumber']);
  });

  it.each(SYNTAXES)('finds an identifying attribute nested in a sequence item (%s)', (syntax) => {
    // Annex E applies wherever an attribute occurs, not only at the top level.
    const bytes = deidentified(syntax, {
      ReferencedImageSequence: [
        { ReferencedSOPClassUID: '1.2.840.10008.5.1.4.1.1.2', ReferencedSOPInstanceUID: '2.25.1', PatientName: 'Doe^Jane' },
      ],
    });

    expect(keywordsIn(bytes)).toEqual(['PatientName']);
  });

  it('never returns the identifying value itself', () => {
    const inspection = inspectDicomHeader(deidentified('explicit-le', { PatientName: 'Doe^Jane', PatientID: 'MRN-0042' }));

    const shown = JSON.stringify([inspection, deidentificationVerdict(inspection, true)]);
    expect(shown).not.toContain('Doe');
    expect(shown).not.toContain('MRN-0042');
  });

  describe('files that are not readable DICOM', () => {
    const clean = deidentified('explicit-le');
    const metaEnd = 144 + new DataView(clean.buffer).getUint32(140, true);

    it.each([
      ['a PNG', Uint8Array.from([...PNG_SIGNATURE, ...new Array(400).fill(0x41)]), /no DICM marker at byte 128/],
      ['an empty file', new Uint8Array(0), /empty/],
      ['a file shorter than the preamble', Uint8Array.from(PNG_SIGNATURE), /no DICM marker/],
      ['a DICOM cut inside its file meta information', clean.slice(0, 200), /truncated.*file meta information/],
      ['a DICOM with file meta information and no data set', clean.slice(0, metaEnd), /no data set/],
      ['a DICOM cut inside its data set', clean.slice(0, metaEnd + 31), /truncated/],
      ['an implicit-VR DICOM cut inside a value', deidentified('implicit-le').slice(0, metaEnd + 20), /truncated/],
    ])('returns ok:false with a reason for %s', (_what, bytes, reason) => {
      const inspection = inspectDicomHeader(bytes);

      expect(inspection.ok).toBe(false);
      expect(inspection.ok ? '' : inspection.reason).toMatch(reason);
    });

    it('refuses a deflated file instead of inflating it whole', () => {
      const bytes = buildDicom({ elements: DEIDENTIFIED, transferSyntaxUid: UID.deflated });

      expect(inspectDicomHeader(bytes)).toEqual({ ok: false, reason: expect.stringMatching(/deflated transfer syntax/) });
    });

    it('never throws, wherever a file is cut', () => {
      const bytes = deidentified('implicit-le', { ReferencedImageSequence: [{ ReferencedSOPInstanceUID: '2.25.7' }] });

      fc.assert(
        fc.property(fc.integer({ min: 0, max: bytes.length }), (cut) => {
          expect(() => inspectDicomHeader(bytes.slice(0, cut))).not.toThrow();
        }),
        { numRuns: 300 },
      );
    });

    it('never throws on random bytes after a DICM marker', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 512 }), (tail) => {
          const bytes = new Uint8Array(132 + tail.length);
          bytes.set([0x44, 0x49, 0x43, 0x4d], 128);
          bytes.set(tail, 132);
          expect(() => inspectDicomHeader(bytes)).not.toThrow();
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('a file with pixel data (512×512, 16 bit)', () => {
    const rows = 512;
    const columns = 512;
    const pixels = new Uint8Array(rows * columns * 2).map((_, i) => i % 251);

    it.each(SYNTAXES)('inspects the header in front of the pixels (%s)', (syntax) => {
      const bytes = buildDicom({ elements: { ...DEIDENTIFIED, PatientName: 'Doe^Jane' }, transferSyntax: syntax, pixels, rows, columns });

      expect(keywordsIn(bytes)).toEqual(['PatientName']);
    });

    it('stops before the pixel data: a file cut inside its pixels still inspects', () => {
      // A full parse must walk the pixel data and fails on the cut; the gate's
      // parse stops at (7FE0,0010), so what follows the header is never read.
      const whole = buildDicom({ elements: DEIDENTIFIED, pixels, rows, columns });
      const cut = whole.slice(0, whole.length - rows * columns);
      expect(() => dicomParser.parseDicom(cut)).toThrow();

      expect(readable(inspectDicomHeader(cut)).identifying).toEqual([]);
    });
  });
});

describe('Function: deidentificationVerdict', () => {
  it.each(SYNTAXES)('is vendor-safe for an attested, de-identified header (%s)', (syntax) => {
    expect(deidentificationVerdict(inspectDicomHeader(deidentified(syntax)), true)).toEqual({ vendorSafe: true, reasons: [] });
  });

  it('is unsafe without an attestation, even for a clean header', () => {
    expect(deidentificationVerdict(inspectDicomHeader(deidentified('explicit-le')), false)).toEqual({
      vendorSafe: false,
      reasons: ['no de-identification attestation'],
    });
  });

  it('is unsafe when the header claims PatientIdentityRemoved YES but still carries a PatientName', () => {
    const inspection = inspectDicomHeader(deidentified('explicit-le', { PatientName: 'Doe^Jane' }));

    expect(readable(inspection).patientIdentityRemoved).toBe(true);
    expect(deidentificationVerdict(inspection, true)).toEqual({
      vendorSafe: false,
      reasons: ['header still carries PatientName (0010,0010)'],
    });
  });

  it('names every problem: each identifying attribute, then the missing attestation', () => {
    const inspection = inspectDicomHeader(
      deidentified('implicit-le', { AccessionNumber: 'A2024-991', ReferringPhysicianName: 'House^Gregory' }),
    );

    expect(deidentificationVerdict(inspection, false)).toEqual({
      vendorSafe: false,
      reasons: [
        'header still carries ReferringPhysicianName (0008,0090)',
        'header still carries AccessionNumber (0008,0050)',
        'no de-identification attestation',
      ],
    });
  });

  it('is unsafe for an unreadable file, saying why it cannot be read', () => {
    const verdict = deidentificationVerdict(inspectDicomHeader(Uint8Array.from(PNG_SIGNATURE)), true);

    expect(verdict.vendorSafe).toBe(false);
    expect(verdict.reasons).toEqual([expect.stringMatching(/^image is not a readable DICOM file: no DICM marker at byte 128/)]);
  });
});

describe('Function: deidentificationFindings', () => {
  it('leaves the attestation out: routing judges it from the case', () => {
    const inspection = inspectDicomHeader(deidentified('explicit-le', { PatientID: 'MRN-0042' }));

    expect(deidentificationFindings(inspection)).toEqual(['header still carries PatientID (0010,0020)']);
  });
});

describe('Constant: IDENTIFYING_ATTRIBUTES', () => {
  it('holds each attribute once, by a well-formed tag', () => {
    const tags = IDENTIFYING_ATTRIBUTES.map((a) => a.tag);

    expect(new Set(tags).size).toBe(tags.length);
    for (const tag of tags) expect(tag).toMatch(/^x[0-9a-f]{8}$/);
  });

  it('holds only attributes the Basic Profile removes or empties', () => {
    for (const a of IDENTIFYING_ATTRIBUTES) expect(a.action).toMatch(/^(X|Z)/);
  });

  it.each([
    ['PatientName', 'x00100010'],
    ['PatientID', 'x00100020'],
    ['IssuerOfPatientID', 'x00100021'],
    ['PatientBirthDate', 'x00100030'],
    ['PatientBirthTime', 'x00100032'],
    ['PatientInsurancePlanCodeSequence', 'x00100050'],
    ['OtherPatientIDs', 'x00101000'],
    ['OtherPatientNames', 'x00101001'],
    ['PatientAge', 'x00101010'],
    ['PatientAddress', 'x00101040'],
    ['PatientMotherBirthName', 'x00101060'],
    ['MilitaryRank', 'x00101080'],
    ['BranchOfService', 'x00101081'],
    ['MedicalRecordLocator', 'x00101090'],
    ['PatientTelephoneNumbers', 'x00102154'],
    ['EthnicGroup', 'x00102160'],
    ['AccessionNumber', 'x00080050'],
    ['InstitutionName', 'x00080080'],
    ['InstitutionAddress', 'x00080081'],
    ['ReferringPhysicianName', 'x00080090'],
    ['ReferringPhysicianAddress', 'x00080092'],
    ['ReferringPhysicianTelephoneNumbers', 'x00080094'],
    ['StationName', 'x00081010'],
    ['InstitutionalDepartmentName', 'x00081040'],
    ['PhysiciansOfRecord', 'x00081048'],
    ['PerformingPhysicianName', 'x00081050'],
    ['NameOfPhysiciansReadingStudy', 'x00081060'],
    ['OperatorsName', 'x00081070'],
    ['DeviceSerialNumber', 'x00181000'],
    ['StudyID', 'x00200010'],
    ['RequestingPhysician', 'x00321032'],
    ['AdmissionID', 'x00380010'],
  ])('checks %s %s', (keyword, tag) => {
    expect(IDENTIFYING_ATTRIBUTES.find((a) => a.keyword === keyword)?.tag).toBe(tag);
  });
});

describe('Test support: buildDicom', () => {
  it('writes the preamble, DICM, and a meta group length that counts the meta bytes exactly', () => {
    const bytes = deidentified('implicit-le');
    const view = new DataView(bytes.buffer);
    const metaEnd = 144 + view.getUint32(140, true);

    expect(bytes.slice(0, 128).every((b) => b === 0)).toBe(true);
    expect(new TextDecoder().decode(bytes.slice(128, 132))).toBe('DICM');
    // The first data-set element, SOPClassUID (0008,0016), starts right where the meta group ends.
    expect([view.getUint16(metaEnd, true), view.getUint16(metaEnd + 2, true)]).toEqual([0x0008, 0x0016]);
  });

  it('pads values to even length: text with a space, UIDs with a NUL', () => {
    const dataSet = dicomParser.parseDicom(buildDicom({ elements: { PatientName: 'Doe', SOPInstanceUID: '2.25.1234' } }));

    const name = dataSet.elements.x00100010;
    const uid = dataSet.elements.x00080018;
    expect([name.length, dataSet.byteArray[name.dataOffset + 3]]).toEqual([4, 0x20]);
    expect([uid.length, dataSet.byteArray[uid.dataOffset + 9]]).toEqual([10, 0x00]);
  });
});
