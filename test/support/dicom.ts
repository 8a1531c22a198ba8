/**
 * A tiny DICOM Part 10 writer for tests: real bytes, so the code under test
 * reads files the way it will read a scanner's, not a mock of a parser.
 *
 * Layout (PS3.10 §7.1, PS3.5 §7.1): 128-byte preamble, `DICM`, the File Meta
 * group (0002,xxxx) always in explicit VR little endian with its group length,
 * then the data set in the chosen transfer syntax, elements in ascending tag
 * order, every value padded to even length (space for text, NUL for UI and
 * binary). Sequences are written with defined lengths (PS3.5 §7.5.1), or with
 * undefined lengths and delimitation items when asked.
 *
 * Its dictionary is its own on purpose: it does not borrow the VRs of the
 * module under test, so a wrong VR there cannot be confirmed by a matching
 * wrong VR here.
 */

/** Transfer syntaxes the writer can produce. */
export type DicomTransferSyntax = 'explicit-le' | 'implicit-le' | 'explicit-be';

/** One sequence item: attribute (keyword or tag) → value. */
export type DicomItem = { [attribute: string]: DicomValue };
/**
 * A text or numeric value as DICOM writes it (multiple values joined by `\`),
 * or sequence items; with `vr` for a tag the writer's dictionary lacks (and
 * bytes for a binary VR: OB, OW, UN…).
 */
export type DicomValue = string | DicomItem[] | { vr: string; value: string | DicomItem[] | Uint8Array };

export interface DicomSpec {
  /** Attribute (keyword like `PatientName`, or tag like `x00100010`, `00100010`, `(0010,0010)`) → value. */
  elements: Record<string, DicomValue>;
  transferSyntax?: DicomTransferSyntax;
  /** Declare another Transfer Syntax UID than the one written (to test a reader's refusal); the data set stays as `transferSyntax` encodes it. */
  transferSyntaxUid?: string;
  /** Raw pixel bytes, 8 or 16 bits per sample, one sample per pixel; needs `rows` and `columns`. */
  pixels?: Uint8Array;
  rows?: number;
  columns?: number;
  /** Write sequences and their items with undefined length and delimitation items (PS3.5 §7.5.2), as many scanners do. */
  undefinedLengthSequences?: boolean;
}

const TRANSFER_SYNTAX_UID: Record<DicomTransferSyntax, string> = {
  'explicit-le': '1.2.840.10008.1.2.1',
  'implicit-le': '1.2.840.10008.1.2',
  'explicit-be': '1.2.840.10008.1.2.2',
};

/** Secondary Capture Image Storage: the SOP class that fits any test image. */
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
/** UUID-derived root (PS3.5 §B.2): valid without a registered org root. */
const TEST_UID_ROOT = '2.25.';
const IMPLEMENTATION_CLASS_UID = `${TEST_UID_ROOT}203040506070809010111213141516171819`;

/** keyword → [tag as 8 hex digits, VR] for the attributes tests write. */
const DICTIONARY: Record<string, readonly [string, string]> = {
  SpecificCharacterSet: ['00080005', 'CS'],
  ImageType: ['00080008', 'CS'],
  SOPClassUID: ['00080016', 'UI'],
  SOPInstanceUID: ['00080018', 'UI'],
  StudyDate: ['00080020', 'DA'],
  ContentDate: ['00080023', 'DA'],
  StudyTime: ['00080030', 'TM'],
  ContentTime: ['00080033', 'TM'],
  AccessionNumber: ['00080050', 'SH'],
  Modality: ['00080060', 'CS'],
  InstitutionName: ['00080080', 'LO'],
  InstitutionAddress: ['00080081', 'ST'],
  InstitutionCodeSequence: ['00080082', 'SQ'],
  ReferringPhysicianName: ['00080090', 'PN'],
  ReferringPhysicianAddress: ['00080092', 'ST'],
  ReferringPhysicianTelephoneNumbers: ['00080094', 'SH'],
  CodeValue: ['00080100', 'SH'],
  CodingSchemeDesignator: ['00080102', 'SH'],
  CodeMeaning: ['00080104', 'LO'],
  StationName: ['00081010', 'SH'],
  StudyDescription: ['00081030', 'LO'],
  ProcedureCodeSequence: ['00081032', 'SQ'],
  InstitutionalDepartmentName: ['00081040', 'LO'],
  PhysiciansOfRecord: ['00081048', 'PN'],
  PerformingPhysicianName: ['00081050', 'PN'],
  NameOfPhysiciansReadingStudy: ['00081060', 'PN'],
  OperatorsName: ['00081070', 'PN'],
  ReferencedStudySequence: ['00081110', 'SQ'],
  ReferencedPatientSequence: ['00081120', 'SQ'],
  ReferencedImageSequence: ['00081140', 'SQ'],
  ReferencedSOPClassUID: ['00081150', 'UI'],
  ReferencedSOPInstanceUID: ['00081155', 'UI'],
  AnatomicRegionSequence: ['00082218', 'SQ'],
  PatientName: ['00100010', 'PN'],
  PatientID: ['00100020', 'LO'],
  IssuerOfPatientID: ['00100021', 'LO'],
  PatientBirthDate: ['00100030', 'DA'],
  PatientBirthTime: ['00100032', 'TM'],
  PatientSex: ['00100040', 'CS'],
  PatientInsurancePlanCodeSequence: ['00100050', 'SQ'],
  OtherPatientIDs: ['00101000', 'LO'],
  OtherPatientNames: ['00101001', 'PN'],
  OtherPatientIDsSequence: ['00101002', 'SQ'],
  PatientAge: ['00101010', 'AS'],
  PatientSize: ['00101020', 'DS'],
  PatientWeight: ['00101030', 'DS'],
  PatientAddress: ['00101040', 'LO'],
  PatientMotherBirthName: ['00101060', 'PN'],
  MilitaryRank: ['00101080', 'LO'],
  BranchOfService: ['00101081', 'LO'],
  MedicalRecordLocator: ['00101090', 'LO'],
  PatientTelephoneNumbers: ['00102154', 'SH'],
  EthnicGroup: ['00102160', 'SH'],
  PatientComments: ['00104000', 'LT'],
  ClinicalTrialSubjectID: ['00120040', 'LO'],
  PatientIdentityRemoved: ['00120062', 'CS'],
  DeidentificationMethod: ['00120063', 'LO'],
  DeidentificationMethodCodeSequence: ['00120064', 'SQ'],
  BodyPartExamined: ['00180015', 'CS'],
  DeviceSerialNumber: ['00181000', 'LO'],
  StudyInstanceUID: ['0020000D', 'UI'],
  SeriesInstanceUID: ['0020000E', 'UI'],
  StudyID: ['00200010', 'SH'],
  SeriesNumber: ['00200011', 'IS'],
  InstanceNumber: ['00200013', 'IS'],
  SamplesPerPixel: ['00280002', 'US'],
  PhotometricInterpretation: ['00280004', 'CS'],
  Rows: ['00280010', 'US'],
  Columns: ['00280011', 'US'],
  BitsAllocated: ['00280100', 'US'],
  BitsStored: ['00280101', 'US'],
  HighBit: ['00280102', 'US'],
  PixelRepresentation: ['00280103', 'US'],
  BurnedInAnnotation: ['00280301', 'CS'],
  RecognizableVisualFeatures: ['00280302', 'CS'],
  RedPaletteColorLookupTableData: ['00281201', 'OW'],
  RequestingPhysician: ['00321032', 'PN'],
  AdmissionID: ['00380010', 'LO'],
  VerifyingObserverName: ['0040A075', 'PN'],
  IconImageSequence: ['00880200', 'SQ'],
  PixelData: ['7FE00010', 'OW'],
};

const VR_BY_TAG = new Map(Object.values(DICTIONARY).map(([tag, vr]) => [tag, vr]));

/** VRs whose explicit-VR header has 2 reserved bytes and a 4-byte length (PS3.5 Table 7.1-1). */
const LONG_LENGTH_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

interface Attribute {
  group: number;
  element: number;
  vr: string;
  value: string | DicomItem[] | Uint8Array;
}

/**
 * Builds a DICOM Part 10 file.
 *
 * Adds what a reader needs when the caller leaves it out: SOPClassUID
 * (Secondary Capture), SOPInstanceUID (fresh `2.25.` UID), and with `pixels`
 * the image pixel attributes (Rows, Columns, SamplesPerPixel 1, MONOCHROME2,
 * BitsAllocated 8 or 16 from the byte count, PixelRepresentation 0).
 *
 * @example
 * const bytes = buildDicom({
 *   elements: { PatientName: '', PatientIdentityRemoved: 'YES', Modality: 'CT' },
 *   transferSyntax: 'implicit-le',
 * });
 */
export function buildDicom(spec: DicomSpec): Uint8Array {
  const transferSyntax = spec.transferSyntax ?? 'explicit-le';
  const encoding: Encoding = {
    explicit: transferSyntax !== 'implicit-le',
    littleEndian: transferSyntax !== 'explicit-be',
    undefinedLength: spec.undefinedLengthSequences ?? false,
  };

  const attributes = new Map<string, Attribute>();
  const put = (key: string, value: DicomValue | Uint8Array) => {
    const attribute = resolve(key, value);
    attributes.set(tagKey(attribute), attribute);
  };
  put('SOPClassUID', SECONDARY_CAPTURE);
  put('SOPInstanceUID', freshUid());
  if (spec.pixels) for (const [key, value] of Object.entries(pixelModule(spec))) put(key, value);
  for (const [key, value] of Object.entries(spec.elements)) put(key, value);
  if (spec.pixels) {
    put('PixelData', spec.pixels);
    // 8-bit samples are OB; OW is for 16-bit words (PS3.5 §8.2).
    if (spec.pixels.length === spec.rows! * spec.columns!) attributes.get('7FE00010')!.vr = 'OB';
  }

  const sopClass = attributes.get('00080016')!.value as string;
  const sopInstance = attributes.get('00080018')!.value as string;
  const dataSet = encodeDataSet([...attributes.values()], encoding);

  const meta = encodeDataSet(
    [
      { group: 2, element: 0x0001, vr: 'OB', value: Uint8Array.of(0x00, 0x01) },
      { group: 2, element: 0x0002, vr: 'UI', value: sopClass },
      { group: 2, element: 0x0003, vr: 'UI', value: sopInstance },
      { group: 2, element: 0x0010, vr: 'UI', value: spec.transferSyntaxUid ?? TRANSFER_SYNTAX_UID[transferSyntax] },
      { group: 2, element: 0x0012, vr: 'UI', value: IMPLEMENTATION_CLASS_UID },
      { group: 2, element: 0x0013, vr: 'SH', value: 'GOLDLINE_TEST' },
    ],
    META_ENCODING,
  );
  // (0002,0000) counts the meta bytes that follow it (PS3.10 Table 7.1-1).
  const groupLength = new Uint8Array(4);
  new DataView(groupLength.buffer).setUint32(0, meta.length, true);
  const metaGroupLength = encodeElement({ group: 2, element: 0, vr: 'UL', value: groupLength }, META_ENCODING);

  return concat([new Uint8Array(128), ascii('DICM'), metaGroupLength, meta, dataSet]);
}

/** A fresh UID under the UUID-derived root, as a de-identifier would mint. */
export function freshUid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return TEST_UID_ROOT + n.toString(10);
}

function pixelModule(spec: DicomSpec): Record<string, string> {
  const { pixels, rows, columns } = spec;
  if (!pixels || !rows || !columns) throw new Error('buildDicom: pixels need rows and columns');
  const bytesPerPixel = pixels.length / (rows * columns);
  if (bytesPerPixel !== 1 && bytesPerPixel !== 2) {
    throw new Error(`buildDicom: ${pixels.length} pixel bytes do not fit ${rows}×${columns} at 8 or 16 bits`);
  }
  const bits = bytesPerPixel * 8;
  return {
    SamplesPerPixel: '1',
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: String(rows),
    Columns: String(columns),
    BitsAllocated: String(bits),
    BitsStored: String(bits),
    HighBit: String(bits - 1),
    PixelRepresentation: '0',
  };
}

function resolve(key: string, given: DicomValue | Uint8Array): Attribute {
  const hex = DICTIONARY[key]?.[0] ?? parseTag(key);
  const withVr = typeof given === 'object' && !Array.isArray(given) && !(given instanceof Uint8Array);
  const vr = withVr ? given.vr : VR_BY_TAG.get(hex);
  if (!vr) throw new Error(`buildDicom: no VR known for ${key}; give { vr, value } or add it to the test dictionary`);
  const group = Number.parseInt(hex.slice(0, 4), 16);
  const element = Number.parseInt(hex.slice(4), 16);
  return { group, element, vr, value: withVr ? given.value : given };
}

function parseTag(key: string): string {
  const hex = key.replace(/^x/i, '').replace(/[(),\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{8}$/.test(hex)) throw new Error(`buildDicom: ${key} is neither a known keyword nor a tag`);
  return hex;
}

const tagKey = (a: Attribute) =>
  (a.group.toString(16).padStart(4, '0') + a.element.toString(16).padStart(4, '0')).toUpperCase();

/** How a data set is written: the transfer syntax, and how sequences are delimited. */
interface Encoding {
  explicit: boolean;
  littleEndian: boolean;
  undefinedLength: boolean;
}

/** File meta information is always explicit VR little endian (PS3.10 §7.1). */
const META_ENCODING: Encoding = { explicit: true, littleEndian: true, undefinedLength: false };

const UNDEFINED_LENGTH = 0xffffffff;

function encodeDataSet(attributes: Attribute[], encoding: Encoding): Uint8Array {
  const sorted = [...attributes].sort((a, b) => a.group - b.group || a.element - b.element);
  return concat(sorted.map((a) => encodeElement(a, encoding)));
}

function encodeElement(attribute: Attribute, encoding: Encoding): Uint8Array {
  const { group, element, vr } = attribute;
  const { explicit, littleEndian } = encoding;
  const value = encodeValue(attribute, encoding);
  const longLength = LONG_LENGTH_VRS.has(vr);
  if (explicit && !longLength && value.length > 0xfffe) {
    throw new Error(`buildDicom: a ${vr} value is limited to 65534 bytes`);
  }
  // A sequence of undefined length ends with a Sequence Delimitation Item (FFFE,E0DD) (PS3.5 §7.5.2).
  const delimited = vr === 'SQ' && encoding.undefinedLength;
  const trailer = delimited ? delimiter(0xe0dd, littleEndian) : new Uint8Array(0);
  const headerLength = !explicit ? 8 : longLength ? 12 : 8;
  const out = new Uint8Array(headerLength + value.length + trailer.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, group, littleEndian);
  view.setUint16(2, element, littleEndian);
  const length = delimited ? UNDEFINED_LENGTH : value.length;
  if (!explicit) {
    view.setUint32(4, length, littleEndian);
  } else {
    out.set(ascii(vr), 4);
    if (longLength) view.setUint32(8, length, littleEndian); // bytes 6–7 reserved, zero
    else view.setUint16(6, length, littleEndian);
  }
  out.set(value, headerLength);
  out.set(trailer, headerLength + value.length);
  return out;
}

function encodeValue(attribute: Attribute, encoding: Encoding): Uint8Array {
  const { vr, value } = attribute;
  if (value instanceof Uint8Array) return padEven(value, 0x00);
  if (Array.isArray(value)) {
    if (vr !== 'SQ') throw new Error(`buildDicom: items given for a ${vr} attribute`);
    return concat(value.map((item) => encodeItem(item, encoding)));
  }
  if (vr === 'SQ') throw new Error('buildDicom: a sequence takes an array of items');
  if (vr === 'US' || vr === 'UL') return encodeUnsigned(value, vr === 'US' ? 2 : 4, encoding.littleEndian);
  if (BINARY_VRS.has(vr)) throw new Error(`buildDicom: give ${vr} values as bytes`);
  return padEven(ascii(value), vr === 'UI' ? 0x00 : 0x20);
}

/** An item (FFFE,E000); no VR even in explicit syntax (PS3.5 §7.5.2). Undefined length ends it with (FFFE,E00D). */
function encodeItem(item: DicomItem, encoding: Encoding): Uint8Array {
  const body = encodeDataSet(
    Object.entries(item).map(([key, value]) => resolve(key, value)),
    encoding,
  );
  const header = new Uint8Array(8);
  const view = new DataView(header.buffer);
  view.setUint16(0, 0xfffe, encoding.littleEndian);
  view.setUint16(2, 0xe000, encoding.littleEndian);
  view.setUint32(4, encoding.undefinedLength ? UNDEFINED_LENGTH : body.length, encoding.littleEndian);
  return concat(encoding.undefinedLength ? [header, body, delimiter(0xe00d, encoding.littleEndian)] : [header, body]);
}

/** An Item (E00D) or Sequence (E0DD) Delimitation Item: tag (FFFE,eeee), length 0. */
function delimiter(element: number, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0xfffe, littleEndian);
  view.setUint16(2, element, littleEndian);
  return out;
}

function encodeUnsigned(text: string, width: 2 | 4, littleEndian: boolean): Uint8Array {
  const values = text === '' ? [] : text.split('\\').map(Number);
  const out = new Uint8Array(values.length * width);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (width === 2) view.setUint16(i * 2, v, littleEndian);
    else view.setUint32(i * 4, v, littleEndian);
  });
  return out;
}

function padEven(bytes: Uint8Array, pad: number): Uint8Array {
  if (bytes.length % 2 === 0) return bytes;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = pad;
  return out;
}

/** Text in the default repertoire (ISO-IR 6), which needs no SpecificCharacterSet (PS3.5 §6.1.2.1). */
function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) throw new Error('buildDicom: text must be ASCII (the writer sets no SpecificCharacterSet)');
    out[i] = code;
  }
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
