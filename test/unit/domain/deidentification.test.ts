import { isDeepStrictEqual } from 'node:util';
import dicomParser from 'dicom-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DicomHeaderInspection,
  MAX_PSEUDONYM_LENGTH,
  MAX_SEQUENCE_DEPTH,
  PROFILE_ATTRIBUTES,
  type ProfileAttribute,
  deidentificationFindings,
  deidentificationVerdict,
  formatTag,
  inspectDicomHeader,
  profileAttribute,
} from '../../../functions/domain/deidentification.js';
import {
  DEIDENTIFICATION_OPTIONS,
  type DeidentificationOption,
  type DeidentificationSettingsInput,
} from '../../../functions/domain/model/deidentification-settings.js';
import { type DicomItem, type DicomSpec, type DicomTransferSyntax, buildDicom } from '../../support/dicom.js';

const SYNTAXES: DicomTransferSyntax[] = ['explicit-le', 'implicit-le', 'explicit-be'];
const UID = {
  explicit: '1.2.840.10008.1.2.1',
  implicit: '1.2.840.10008.1.2',
  bigEndian: '1.2.840.10008.1.2.2',
  deflated: '1.2.840.10008.1.2.1.99',
};
const SYNTAX_UID: Record<DicomTransferSyntax, string> = {
  'explicit-le': UID.explicit,
  'implicit-le': UID.implicit,
  'explicit-be': UID.bigEndian,
};

/** A De-identification Method Code Sequence item for a CID 7050 code. */
const methodCode = (code: string): DicomItem => ({ CodeValue: code, CodingSchemeDesignator: 'DCM', CodeMeaning: `code ${code}` });
const codeOf = (option: DeidentificationOption) => DEIDENTIFICATION_OPTIONS[option].code;

/** What a de-identifier writes to say what it did: Patient Identity Removed YES and its method codes (113100 + options). */
const declaring = (...options: DeidentificationOption[]): DicomSpec['elements'] => ({
  PatientIdentityRemoved: 'YES',
  DeidentificationMethod: 'Basic Application Confidentiality Profile',
  DeidentificationMethodCodeSequence: [methodCode('113100'), ...options.map((o) => methodCode(codeOf(o)))],
});

/** A header as a Basic Profile de-identifier leaves it: Type 2 identity attributes present but empty, UIDs re-generated. */
const DEIDENTIFIED: DicomSpec['elements'] = {
  PatientName: '',
  PatientID: '',
  PatientBirthDate: '',
  PatientSex: '',
  AccessionNumber: '',
  ReferringPhysicianName: '',
  StudyID: '',
  StudyDate: '',
  ...declaring(),
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
const inspect = (bytes: Uint8Array, settings: DeidentificationSettingsInput = {}) => readable(inspectDicomHeader(bytes, settings));
/** Findings as `rule (gggg,eeee)`, the order the gate reports them in. */
const findingsIn = (bytes: Uint8Array, settings: DeidentificationSettingsInput = {}) =>
  inspect(bytes, settings).findings.map((f) => `${f.rule} ${formatTag(f.tag)}`);

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('Function: inspectDicomHeader', () => {
  describe.each(SYNTAXES)('a de-identified header (%s)', (syntax) => {
    it('returns no finding, with the de-identifier claim, its declared options, modality and transfer syntax', () => {
      // Arrange
      const bytes = deidentified(syntax);

      // Act
      const inspection = inspectDicomHeader(bytes, { requireRegeneratedUids: { root: '2.25.' } });

      // Assert
      expect(inspection).toEqual({
        ok: true,
        findings: [],
        patientIdentityRemoved: true,
        declaredOptions: [],
        basicProfileDeclared: true,
        deidentificationMethod: 'Basic Application Confidentiality Profile',
        modality: 'CT',
        transferSyntax: SYNTAX_UID[syntax],
        reachedPixelData: false,
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

      expect(findingsIn(bytes)).toEqual([]);
    });

    it('reports patientIdentityRemoved false, and no declared option, when the header makes no such claim', () => {
      const { PatientIdentityRemoved: _claim, ...rest } = { ...DEIDENTIFIED, ...declaring('retainPatientCharacteristics') };
      const inspection = inspect(buildDicom({ elements: rest, transferSyntax: syntax }));

      expect(inspection.patientIdentityRemoved).toBe(false);
      expect(inspection.declaredOptions).toEqual([]);
      expect(inspection.basicProfileDeclared).toBe(false);
    });
  });

  describe.each(SYNTAXES)('one identifying attribute left in (%s)', (syntax) => {
    it.each([
      ['PatientName', 'Doe^Jane', "(0010,0010) Patient's Name"],
      ['PatientID', 'MRN-0042', '(0010,0020) Patient ID'],
      ['PatientBirthDate', '19610412', "(0010,0030) Patient's Birth Date"],
      ['InstitutionName', 'St Elsewhere General', '(0008,0080) Institution Name'],
      ['AccessionNumber', 'A2024-991', '(0008,0050) Accession Number'],
      ['ReferringPhysicianName', 'House^Gregory', "(0008,0090) Referring Physician's Name"],
    ])('names %s by tag and name when it carries a value', (keyword, value, location) => {
      // Arrange
      const bytes = deidentified(syntax, { [keyword]: value });

      // Act
      const { findings } = inspect(bytes);

      // Assert
      expect(findings).toEqual([expect.objectContaining({ rule: 'identifying-attribute', location })]);
    });
  });

  describe('Table E.1-1, every row', () => {
    // Rows of the command (0000), file meta (0002) and directory (0004) groups never occur in a data set.
    const ROWS = PROFILE_ATTRIBUTES.filter((a) => !/^x000[024]/.test(a.tag));
    /** A tag a file can carry: repeating groups (`60xx`) as their first group. */
    const concrete = (a: ProfileAttribute) => a.tag.slice(1).replace(/x/g, '0');
    /** Any VR reads as bytes: UN in explicit syntaxes; implicit VR writes no VR. */
    const element = (a: ProfileAttribute) => ({
      vr: 'UN',
      value: new TextEncoder().encode(a.enforced === 'U' ? '1.2.840.113619.2.55' : 'IDENTIFYING VALUE'),
    });
    const fileWith = (a: ProfileAttribute, syntax: DicomTransferSyntax, extra: DicomSpec['elements'] = {}) =>
      buildDicom({ elements: { ...extra, [concrete(a)]: element(a) }, transferSyntax: syntax });
    const expected = (a: ProfileAttribute) => [
      // The writer copies SOP Instance UID into the file meta's Media Storage SOP Instance UID, also a U row.
      ...(a.tag === 'x00080018' ? ['uid-not-regenerated (0002,0003)'] : []),
      `${a.enforced === 'U' ? 'uid-not-regenerated' : 'identifying-attribute'} ${formatTag(`x${concrete(a)}`)}`,
    ];

    it('holds the whole table: 620 attributes and the private-attribute row, each tag once', () => {
      expect(PROFILE_ATTRIBUTES).toHaveLength(620);
      expect(new Set(PROFILE_ATTRIBUTES.map((a) => a.tag)).size).toBe(620);
      expect(profileAttribute('x00100010')).toMatchObject({ name: "Patient's Name", basicProfile: 'Z', enforced: 'Z' });
      expect(profileAttribute('x60023000')).toMatchObject({ name: 'Overlay Data', enforced: 'X' });
    });

    it('reads each combination at its strictest: its first action', () => {
      const byAction = new Map(PROFILE_ATTRIBUTES.map((a) => [a.basicProfile, a.enforced]));

      expect(Object.fromEntries(byAction)).toEqual({
        X: 'X',
        Z: 'Z',
        D: 'D',
        U: 'U',
        'X/Z': 'X',
        'X/D': 'X',
        'X/Z/D': 'X',
        'Z/D': 'Z',
        'X/Z/U*': 'X',
      });
    });

    it.each(SYNTAXES)('reports every attribute carrying a value, by its Basic Profile action, and nothing else (%s)', (syntax) => {
      const wrong: string[] = [];
      for (const a of ROWS) {
        const got = findingsIn(fileWith(a, syntax), { requireRegeneratedUids: { root: '2.25.' } });
        if (!isDeepStrictEqual(got, expected(a))) wrong.push(`${a.displayTag} ${a.name} (${a.basicProfile}): ${got.join(', ')}`);
      }

      expect(wrong).toEqual([]);
    });

    it('lets every attribute an option keeps or cleans pass when the file declares that option and the program accepts it', () => {
      const all = Object.keys(DEIDENTIFICATION_OPTIONS) as DeidentificationOption[];
      const wrong: string[] = [];
      for (const a of ROWS) {
        for (const { option } of a.options) {
          const settings = { acceptedOptions: [option], requireRegeneratedUids: { root: '2.25.' } };
          const got = findingsIn(fileWith(a, 'explicit-le', declaring(option)), settings);
          if (got.length > 0) wrong.push(`${a.displayTag} ${a.name} under ${option}: ${got.join(', ')}`);
        }
        if (a.options.length === 0) {
          // No option keeps it: declaring and accepting them all changes nothing (D passes: 113100 is declared).
          const got = findingsIn(fileWith(a, 'explicit-le', declaring(...all)), { acceptedOptions: all, requireRegeneratedUids: { root: '2.25.' } });
          const want = a.enforced === 'D' ? [] : expected(a);
          if (!isDeepStrictEqual(got, want)) wrong.push(`${a.displayTag} ${a.name} with every option: ${got.join(', ')}`);
        }
      }

      expect(wrong).toEqual([]);
    });

    it('keeps the finding when an option is declared but not accepted, or accepted but not declared, and says which', () => {
      const wrong: string[] = [];
      for (const a of ROWS.filter((r) => r.options.length > 0)) {
        const option = a.options[0].option;
        const declaredOnly = inspect(fileWith(a, 'implicit-le', declaring(option)), { requireRegeneratedUids: { root: '2.25.' } });
        const acceptedOnly = inspect(fileWith(a, 'implicit-le'), { acceptedOptions: [option], requireRegeneratedUids: { root: '2.25.' } });
        // D passes once 113100 is declared; its option statuses are checked on the other rows.
        if (a.enforced === 'D') continue;
        const statusOf = (i: typeof declaredOnly) => i.findings[0]?.options.find((o) => o.option === option);
        if (statusOf(declaredOnly)?.declared !== true || statusOf(declaredOnly)?.accepted !== false) {
          wrong.push(`${a.displayTag} declared only: ${JSON.stringify(statusOf(declaredOnly))}`);
        }
        if (statusOf(acceptedOnly)?.declared !== false || statusOf(acceptedOnly)?.accepted !== true) {
          wrong.push(`${a.displayTag} accepted only: ${JSON.stringify(statusOf(acceptedOnly))}`);
        }
      }

      expect(wrong).toEqual([]);
    });
  });

  describe('the actions, as the gate reads them', () => {
    it('Z must be empty: a kept Study Date is a finding unless a temporal option is declared and accepted', () => {
      const kept = deidentified('explicit-le', { StudyDate: '20240317' });

      expect(deidentificationFindings(inspectDicomHeader(kept))).toEqual([
        'header still carries Study Date (0008,0020): Basic Profile action Z: empty it; allowed only under ' +
          'Retain Longitudinal Temporal Information With Full Dates Option (113106, keep: not declared in the file, not accepted by the program) or ' +
          'Retain Longitudinal Temporal Information With Modified Dates Option (113107, clean: not declared in the file, not accepted by the program)',
      ]);
    });

    it('Z/D is read as Z: a Patient ID stays a finding even when the file declares the Basic Profile', () => {
      const { findings } = inspect(deidentified('explicit-le', { PatientID: 'MRN-0042' }));

      expect(findings).toEqual([expect.objectContaining({ location: '(0010,0020) Patient ID', basicProfile: 'Z/D', options: [] })]);
      expect(findings[0].message).toContain('Basic Profile action Z/D, read as Z: empty it; no option keeps it');
    });

    it('X/Z/D is read as X: an Institution Name is a finding whatever the file declares, unless Retain Institution Identity is accepted', () => {
      const bytes = deidentified('implicit-le', { InstitutionName: 'St Elsewhere General', ...declaring('retainInstitutionIdentity') });

      expect(findingsIn(bytes)).toEqual(['identifying-attribute (0008,0080)']);
      expect(findingsIn(bytes, { acceptedOptions: ['retainInstitutionIdentity'] })).toEqual([]);
    });

    it('D passes as a dummy only when the file declares the Basic Profile with Patient Identity Removed YES', () => {
      const dummy = { VerifyingObserverName: 'Observer^Dummy', ClinicalTrialSubjectID: 'SUBJ-7' };
      const { PatientIdentityRemoved: _pir, DeidentificationMethodCodeSequence: _codes, ...undeclared } = DEIDENTIFIED;

      expect(findingsIn(deidentified('explicit-le', dummy))).toEqual([]);
      expect(findingsIn(buildDicom({ elements: { ...undeclared, ...dummy } }))).toEqual([
        'identifying-attribute (0012,0040)',
        'identifying-attribute (0040,A075)',
      ]);
      expect(deidentificationFindings(inspectDicomHeader(buildDicom({ elements: { ...undeclared, ...dummy } })))[0]).toContain(
        'replace it with a dummy; the file does not declare the Basic Profile (113100) with Patient Identity Removed (0012,0062) YES, so the value is taken for the original',
      );
    });

    it('a pseudonym of the program pattern passes for Z and D; anything else does not', () => {
      const settings = { pseudonymPattern: 'LIDC-IDRI-\\d{4}' };

      expect(findingsIn(deidentified('explicit-le', { PatientName: 'LIDC-IDRI-0001', PatientID: 'LIDC-IDRI-0001' }), settings)).toEqual([]);
      expect(findingsIn(deidentified('explicit-le', { PatientName: 'Doe^Jane', PatientID: 'LIDC-IDRI-0001x' }), settings)).toEqual([
        'identifying-attribute (0010,0010)',
        'identifying-attribute (0010,0020)',
      ]);
      // A pattern never excuses an X attribute.
      expect(findingsIn(deidentified('explicit-le', { OtherPatientIDs: 'LIDC-IDRI-0001' }), settings)).toEqual(['identifying-attribute (0010,1000)']);
    });

    it('never tries a value longer than a pseudonym can be against the pattern', () => {
      // (a+)+$ backtracks exponentially on "aaa…b": the file chooses the value, so its length is bounded first.
      const settings = { pseudonymPattern: '(a+)+' };
      const long = 'a'.repeat(MAX_PSEUDONYM_LENGTH);

      expect(findingsIn(deidentified('explicit-le', { PatientID: long }), settings)).toEqual([]);
      expect(findingsIn(deidentified('explicit-le', { PatientID: 'a'.repeat(MAX_PSEUDONYM_LENGTH + 1) }), settings)).toEqual([
        'identifying-attribute (0010,0020)',
      ]);
      expect(findingsIn(deidentified('explicit-le', { PatientName: `${'a'.repeat(4000)}b` }), settings)).toEqual([
        'identifying-attribute (0010,0010)',
      ]);
    });

    it('U: a UID outside the program root is a finding when re-generated UIDs are required, at any depth, and passes under Retain UIDs', () => {
      const original = '1.2.840.113619.2.55.3.604688119';
      const bytes = deidentified('explicit-le', {
        StudyInstanceUID: original,
        ProcedureCodeSequence: [{ ...methodCode('P1'), ReferencedSOPInstanceUID: `2.25.1\\${original}` }],
      });

      expect(findingsIn(bytes)).toEqual([]); // no UID requirement: presence proves nothing
      expect(findingsIn(bytes, { requireRegeneratedUids: { root: '2.25.' } })).toEqual([
        'uid-not-regenerated (0008,1155)',
        'uid-not-regenerated (0020,000D)',
      ]);
      const kept = deidentified('explicit-le', { StudyInstanceUID: original, ...declaring('retainUids') });
      expect(findingsIn(kept, { requireRegeneratedUids: { root: '2.25.' }, acceptedOptions: ['retainUids'] })).toEqual([]);
      expect(findingsIn(kept, { requireRegeneratedUids: { root: '2.25.' } })).toEqual(['uid-not-regenerated (0020,000D)']);
    });

    it('checks the file meta Media Storage SOP Instance UID too', () => {
      const bytes = buildDicom({ elements: { ...DEIDENTIFIED, SOPInstanceUID: '1.2.840.113619.2.55.3.1' } });

      expect(findingsIn(bytes, { requireRegeneratedUids: { root: '2.25.' } })).toEqual([
        'uid-not-regenerated (0002,0003)',
        'uid-not-regenerated (0008,0018)',
      ]);
    });

    it('counts method codes only from the DCM scheme and only with Patient Identity Removed YES', () => {
      const local = deidentified('explicit-le', {
        PatientSex: 'F',
        DeidentificationMethodCodeSequence: [methodCode('113100'), { ...methodCode('113108'), CodingSchemeDesignator: '99LOCAL' }],
      });
      const noClaim = deidentified('explicit-le', { PatientSex: 'F', ...declaring('retainPatientCharacteristics'), PatientIdentityRemoved: 'NO' });
      const settings = { acceptedOptions: ['retainPatientCharacteristics' as const] };

      expect(findingsIn(local, settings)).toEqual(['identifying-attribute (0010,0040)']);
      expect(findingsIn(noClaim, settings)).toEqual(['identifying-attribute (0010,0040)']);
    });
  });

  describe('the issue 8 cases', () => {
    // Issue 8: the hand-typed list let a free-text Patient Comments through; PS3.15 removes it (X, kept cleaned only under Clean Descriptors).
    it('refuses free-text Patient Comments unless Clean Descriptors is declared and accepted', () => {
      const bytes = deidentified('explicit-le', { PatientComments: 'lives with daughter, 12 Elm St', ...declaring('cleanDescriptors') });

      expect(findingsIn(bytes)).toEqual(['identifying-attribute (0010,4000)']);
      expect(findingsIn(bytes, { acceptedOptions: ['cleanDescriptors'] })).toEqual([]);
    });

    // Issue 8: a kept Study Date passed with no temporal option declared; Study Date is Z in the Basic Profile.
    it('refuses a kept Study Date without a declared and accepted temporal option', () => {
      const undeclared = deidentified('implicit-le', { StudyDate: '20240317' });
      const declared = deidentified('implicit-le', { StudyDate: '20240317', ...declaring('retainLongitudinalFullDates') });

      expect(findingsIn(undeclared, { acceptedOptions: ['retainLongitudinalFullDates'] })).toEqual(['identifying-attribute (0008,0020)']);
      expect(findingsIn(declared, { acceptedOptions: ['retainLongitudinalFullDates'] })).toEqual([]);
    });

    // Issue 8: Sex and Age kept under a declared Retain Patient Characteristics Option were refused: the option could not be accepted.
    it('accepts Patient Sex and Age kept under Retain Patient Characteristics when the file declares it and the program accepts it', () => {
      const bytes = deidentified('explicit-be', { PatientSex: 'F', PatientAge: '062Y', ...declaring('retainPatientCharacteristics') });

      expect(findingsIn(bytes, { acceptedOptions: ['retainPatientCharacteristics'] })).toEqual([]);
      expect(findingsIn(bytes)).toEqual(['identifying-attribute (0010,0040)', 'identifying-attribute (0010,1010)']);
    });

    // Issue 8: Burned In Annotation YES passed: identifying text in the pixels went out.
    it.each(SYNTAXES)('refuses Burned In Annotation YES unless Clean Pixel Data is declared and accepted (%s)', (syntax) => {
      const settings = { acceptedOptions: ['cleanPixelData' as const] };

      expect(findingsIn(deidentified(syntax, { BurnedInAnnotation: 'NO' }))).toEqual([]);
      expect(findingsIn(deidentified(syntax, { BurnedInAnnotation: 'YES' }), settings)).toEqual(['burned-in-annotation (0028,0301)']);
      expect(findingsIn(deidentified(syntax, { BurnedInAnnotation: 'YES', ...declaring('cleanPixelData') }))).toEqual([
        'burned-in-annotation (0028,0301)',
      ]);
      expect(findingsIn(deidentified(syntax, { BurnedInAnnotation: 'YES', ...declaring('cleanPixelData') }), settings)).toEqual([]);
    });

    it('says for Burned In Annotation which option would allow it, and where file and program stand', () => {
      const [message] = deidentificationFindings(inspectDicomHeader(deidentified('explicit-le', { BurnedInAnnotation: 'YES', ...declaring('cleanPixelData') })));

      expect(message).toBe(
        'Burned In Annotation (0028,0301) is YES: the pixels carry burned-in text that may identify the patient; ' +
          'allowed only under Clean Pixel Data Option (113101, clean: declared in the file, not accepted by the program)',
      );
    });

    it('refuses Recognizable Visual Features YES unless Clean Recognizable Visual Features is declared and accepted', () => {
      const settings = { acceptedOptions: ['cleanRecognizableVisualFeatures' as const] };
      const yes = { RecognizableVisualFeatures: 'YES' };

      expect(findingsIn(deidentified('implicit-le', yes), settings)).toEqual(['recognizable-visual-features (0028,0302)']);
      expect(findingsIn(deidentified('implicit-le', { ...yes, ...declaring('cleanRecognizableVisualFeatures') }))).toEqual([
        'recognizable-visual-features (0028,0302)',
      ]);
      expect(findingsIn(deidentified('implicit-le', { ...yes, ...declaring('cleanRecognizableVisualFeatures') }), settings)).toEqual([]);
      // Clean Pixel Data is another option: it does not cover the face.
      expect(findingsIn(deidentified('implicit-le', { ...yes, ...declaring('cleanPixelData') }), { acceptedOptions: ['cleanPixelData'] })).toEqual([
        'recognizable-visual-features (0028,0302)',
      ]);
    });

    // Issue 8: a private group holding a patient name passed; PS3.15 removes private attributes unless Retain Safe Private applies.
    it.each(SYNTAXES)('refuses private attributes unless Retain Safe Private is declared and accepted (%s)', (syntax) => {
      const privateName = { '00090010': { vr: 'LO', value: 'ACME RESEARCH 1.0' }, '00091001': { vr: 'PN', value: 'Doe^Jane' } };
      const settings = { acceptedOptions: ['retainSafePrivate' as const] };

      expect(findingsIn(deidentified(syntax, privateName))).toEqual(['private-attribute (0009,XXXX)']);
      expect(findingsIn(deidentified(syntax, privateName), settings)).toEqual(['private-attribute (0009,XXXX)']);
      expect(findingsIn(deidentified(syntax, { ...privateName, ...declaring('retainSafePrivate') }))).toEqual(['private-attribute (0009,XXXX)']);
      expect(findingsIn(deidentified(syntax, { ...privateName, ...declaring('retainSafePrivate') }), settings)).toEqual([]);
    });

    it('names each private group once, with its count, never the private value', () => {
      const bytes = deidentified('explicit-le', {
        '00090010': { vr: 'LO', value: 'ACME RESEARCH 1.0' },
        '00091001': { vr: 'PN', value: 'Doe^Jane' },
        ProcedureCodeSequence: [{ ...methodCode('P1'), '00190010': { vr: 'LO', value: 'OTHER' } }],
      });

      const messages = deidentificationFindings(inspectDicomHeader(bytes));

      expect(messages).toEqual([
        'header carries 2 private attribute(s) in group (0009,XXXX) (first (0009,0010)): Basic Profile action X: remove it; ' +
          'allowed only under Retain Safe Private Option (113111, clean: not declared in the file, not accepted by the program)',
        expect.stringMatching(/^header carries 1 private attribute\(s\) in group \(0019,XXXX\)/),
      ]);
      expect(messages.join()).not.toContain('Doe');
      expect(messages.join()).not.toContain('ACME');
    });
  });

  describe.each(SYNTAXES)('sequences (%s)', (syntax) => {
    /** `depth` nested Procedure Code Sequence items, the innermost holding `inner`. */
    const nested = (depth: number, inner: DicomItem): DicomSpec['elements'] => {
      let item = inner;
      for (let i = 1; i < depth; i++) item = { ...methodCode(`L${i}`), ProcedureCodeSequence: [item] };
      return { ProcedureCodeSequence: [item] };
    };

    it.each([false, true])('finds an attribute nested four items deep (undefined lengths: %s)', (undefinedLengthSequences) => {
      const bytes = buildDicom({
        elements: { ...DEIDENTIFIED, ...nested(4, { ...methodCode('P1'), PatientName: 'Doe^Jane', '00110010': { vr: 'LO', value: 'X' } }) },
        transferSyntax: syntax,
        undefinedLengthSequences,
      });

      expect(findingsIn(bytes)).toEqual(['identifying-attribute (0010,0010)', 'private-attribute (0011,XXXX)']);
    });

    it(`refuses sequences nested deeper than ${MAX_SEQUENCE_DEPTH} items`, () => {
      const within = buildDicom({ elements: { ...DEIDENTIFIED, ...nested(MAX_SEQUENCE_DEPTH, methodCode('P1')) }, transferSyntax: syntax });
      const beyond = buildDicom({ elements: { ...DEIDENTIFIED, ...nested(MAX_SEQUENCE_DEPTH + 1, methodCode('P1')) }, transferSyntax: syntax });

      expect(findingsIn(within)).toEqual([]);
      expect(inspectDicomHeader(beyond)).toEqual({
        ok: false,
        truncated: false,
        reason: `sequences are nested deeper than ${MAX_SEQUENCE_DEPTH} levels`,
      });
    });
  });

  describe('sequences dicom-parser leaves as bytes', () => {
    /** One implicit-VR little-endian item holding Patient's Name, as UN-encoded and implicit private sequences carry it. */
    const implicitItem = (name: string) => {
      const value = new TextEncoder().encode(name.length % 2 ? `${name} ` : name);
      const out = new Uint8Array(16 + value.length);
      const view = new DataView(out.buffer);
      view.setUint16(0, 0xfffe, true);
      view.setUint16(2, 0xe000, true);
      view.setUint32(4, 8 + value.length, true);
      view.setUint16(8, 0x0010, true);
      view.setUint16(10, 0x0010, true);
      view.setUint32(12, value.length, true);
      out.set(value, 16);
      return out;
    };
    const keptPrivate = { acceptedOptions: ['retainSafePrivate' as const] };

    it.each([false, true])('judges what a private sequence holds in implicit VR, even under Retain Safe Private (undefined lengths: %s)', (undefinedLengthSequences) => {
      const bytes = buildDicom({
        elements: {
          ...DEIDENTIFIED,
          ...declaring('retainSafePrivate'),
          '00090010': { vr: 'LO', value: 'ACME RESEARCH 1.0' },
          '00091001': { vr: 'SQ', value: [{ PatientName: 'Doe^Jane' }] },
        },
        transferSyntax: 'implicit-le',
        undefinedLengthSequences,
      });

      expect(findingsIn(bytes, keptPrivate)).toEqual(['identifying-attribute (0010,0010)']);
    });

    it.each(['explicit-le', 'explicit-be'] as const)('judges what a sequence encoded as UN holds (%s)', (syntax) => {
      const bytes = deidentified(syntax, { OtherPatientIDsSequence: { vr: 'UN', value: implicitItem('Doe^Jane') } });

      expect(findingsIn(bytes)).toEqual(['identifying-attribute (0010,0010)', 'identifying-attribute (0010,1002)']);
    });

    it('leaves a value that only opens like an item as opaque bytes', () => {
      const broken = implicitItem('Doe^Jane').slice(0, 12);
      const bytes = deidentified('explicit-le', { ...declaring('retainSafePrivate'), '00091001': { vr: 'UN', value: broken } });

      expect(findingsIn(bytes, keptPrivate)).toEqual([]);
      expect(findingsIn(bytes)).toEqual(['private-attribute (0009,XXXX)']);
    });
  });

  it('reports every finding once, ordered by tag, each attribute once however often it occurs', () => {
    const bytes = deidentified('explicit-le', {
      AccessionNumber: 'A2024-991',
      PatientName: 'Doe^Jane',
      StationName: 'CT-ELSEWHERE-2',
      DeviceSerialNumber: 'SN88231',
      ProcedureCodeSequence: [{ ...methodCode('P1'), PatientName: 'Doe^J' }, { ...methodCode('P2'), PatientName: 'Doe' }],
    });

    expect(findingsIn(bytes)).toEqual([
      'identifying-attribute (0008,0050)',
      'identifying-attribute (0008,1010)',
      'identifying-attribute (0010,0010)',
      'identifying-attribute (0018,1000)',
    ]);
  });

  it('never returns an identifying value itself', () => {
    const inspection = inspectDicomHeader(
      deidentified('explicit-le', {
        PatientName: 'Doe^Jane',
        PatientID: 'MRN-0042',
        StudyInstanceUID: '1.2.840.113619.99',
        '00091001': { vr: 'PN', value: 'Roe^Richard' },
      }),
      { requireRegeneratedUids: { root: '2.25.' } },
    );

    const shown = JSON.stringify([inspection, deidentificationVerdict(inspection, true)]);
    expect(shown).not.toContain('Doe');
    expect(shown).not.toContain('MRN-0042');
    expect(shown).not.toContain('1.2.840.113619.99');
    expect(shown).not.toContain('Roe');
  });

  describe('files that are not readable DICOM', () => {
    const clean = deidentified('explicit-le');
    const metaEnd = 144 + new DataView(clean.buffer).getUint32(140, true);

    it.each([
      ['a PNG', Uint8Array.from([...PNG_SIGNATURE, ...new Array(400).fill(0x41)]), /no DICM marker at byte 128/, false],
      ['an empty file', new Uint8Array(0), /empty/, false],
      ['a file shorter than the preamble', Uint8Array.from(PNG_SIGNATURE), /no DICM marker/, false],
      ['a DICOM cut inside its file meta information', clean.slice(0, 200), /truncated.*file meta information/, true],
      ['a DICOM with file meta information and no data set', clean.slice(0, metaEnd), /no data set/, true],
      ['a DICOM cut inside its data set', clean.slice(0, metaEnd + 31), /truncated/, true],
      ['an implicit-VR DICOM cut inside a value', deidentified('implicit-le').slice(0, metaEnd + 20), /truncated/, true],
      ['a big-endian DICOM cut inside a sequence', deidentified('explicit-be').slice(0, clean.length - 120), /truncated/, true],
    ])('returns ok:false with a reason for %s', (_what, bytes, reason, truncated) => {
      const inspection = inspectDicomHeader(bytes);

      expect(inspection).toEqual({ ok: false, reason: expect.stringMatching(reason), truncated });
    });

    it('refuses a deflated file instead of inflating it whole', () => {
      const bytes = buildDicom({ elements: DEIDENTIFIED, transferSyntaxUid: UID.deflated });

      expect(inspectDicomHeader(bytes)).toEqual({ ok: false, truncated: false, reason: expect.stringMatching(/deflated transfer syntax/) });
    });

    it.each(SYNTAXES)('never throws, wherever a file is cut (%s)', (syntax) => {
      const bytes = buildDicom({
        elements: { ...DEIDENTIFIED, ProcedureCodeSequence: [{ ...methodCode('P1'), ReferencedSOPInstanceUID: '2.25.7' }] },
        transferSyntax: syntax,
        undefinedLengthSequences: syntax === 'implicit-le',
      });

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

    it.each(SYNTAXES)('inspects the header in front of the pixels and says it reached them (%s)', (syntax) => {
      const bytes = buildDicom({ elements: { ...DEIDENTIFIED, PatientName: 'Doe^Jane' }, transferSyntax: syntax, pixels, rows, columns });

      const inspection = inspect(bytes);

      expect(inspection.findings.map((f) => f.location)).toEqual(["(0010,0010) Patient's Name"]);
      expect(inspection.reachedPixelData).toBe(true);
    });

    it('stops before the pixel data: a file cut inside its pixels still inspects', () => {
      // A full parse must walk the pixel data and fails on the cut; the gate's
      // parse stops at (7FE0,0010), so what follows the header is never read.
      const whole = buildDicom({ elements: DEIDENTIFIED, pixels, rows, columns });
      const cut = whole.slice(0, whole.length - rows * columns);
      expect(() => dicomParser.parseDicom(cut)).toThrow();

      expect(inspect(cut)).toMatchObject({ findings: [], reachedPixelData: true });
    });

    it('says when the bytes end, cleanly, before Pixel Data: the header may go on', () => {
      const whole = buildDicom({ elements: DEIDENTIFIED, pixels, rows, columns });
      const pixelStart = dicomParser.parseDicom(whole, { untilTag: 'x7fe00010' }).elements.x7fe00010.dataOffset - 12;

      expect(inspect(whole.slice(0, pixelStart))).toMatchObject({ findings: [], reachedPixelData: false });
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

  it('is unsafe when the header claims Patient Identity Removed YES but still carries a Patient Name', () => {
    const inspection = inspectDicomHeader(deidentified('explicit-le', { PatientName: 'Doe^Jane' }));

    expect(readable(inspection).patientIdentityRemoved).toBe(true);
    expect(deidentificationVerdict(inspection, true)).toEqual({
      vendorSafe: false,
      reasons: ["header still carries Patient's Name (0010,0010): Basic Profile action Z: empty it; no option keeps it"],
    });
  });

  it('names every problem: each finding in tag order, then the missing attestation', () => {
    const inspection = inspectDicomHeader(
      deidentified('implicit-le', { AccessionNumber: 'A2024-991', ReferringPhysicianName: 'House^Gregory' }),
    );

    expect(deidentificationVerdict(inspection, false)).toEqual({
      vendorSafe: false,
      reasons: [
        'header still carries Accession Number (0008,0050): Basic Profile action Z: empty it; no option keeps it',
        "header still carries Referring Physician's Name (0008,0090): Basic Profile action Z: empty it; no option keeps it",
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

    expect(deidentificationFindings(inspection)).toEqual([
      'header still carries Patient ID (0010,0020): Basic Profile action Z/D, read as Z: empty it; no option keeps it',
    ]);
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

  it('writes big-endian data sets after a little-endian meta group, as PS3.10 requires', () => {
    const bytes = deidentified('explicit-be');
    const view = new DataView(bytes.buffer);
    const metaEnd = 144 + view.getUint32(140, true);

    expect([view.getUint16(metaEnd, false), view.getUint16(metaEnd + 2, false)]).toEqual([0x0008, 0x0016]);
    const dataSet = dicomParser.parseDicom(bytes);
    expect([dataSet.elements.x00100010.length, dataSet.string('x00080060'), dataSet.string('x00200011')]).toEqual([0, 'CT', '2']);
  });

  it('pads values to even length: text with a space, UIDs with a NUL', () => {
    const dataSet = dicomParser.parseDicom(buildDicom({ elements: { PatientName: 'Doe', SOPInstanceUID: '2.25.1234' } }));

    const name = dataSet.elements.x00100010;
    const uid = dataSet.elements.x00080018;
    expect([name.length, dataSet.byteArray[name.dataOffset + 3]]).toEqual([4, 0x20]);
    expect([uid.length, dataSet.byteArray[uid.dataOffset + 9]]).toEqual([10, 0x00]);
  });
});
