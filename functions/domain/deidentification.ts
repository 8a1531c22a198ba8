/**
 * The de-identification gate's header inspection: which attributes of the
 * DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile that
 * identify a person, an institution, a device or a care episode are still
 * present in a DICOM Part 10 file, and whether the case may go to a vendor.
 *
 * Pure: bytes in, plain data out. Never throws on bad input: a file that is
 * not readable DICOM is a finding (`ok: false`), and the verdict treats it as
 * unsafe. Results name attributes, never their values, because findings are
 * stored on the case, logged and shown to PMs; echoing a patient's name there
 * would leak the very thing the gate exists to stop.
 */
import dicomParser, { type DataSet, type Element } from 'dicom-parser';

export type { GateFinding, GateRule, ImageFormat } from './deidentification/finding.js';

/** Annex E options that would keep an attribute the Basic Profile removes (PS3.15 Table E.1-1). */
export type RetainOption =
  | 'Retain Patient Characteristics Option'
  | 'Retain Institution Identity Option'
  | 'Retain Device Identity Option';

/** One row of {@link IDENTIFYING_ATTRIBUTES}. */
export interface IdentifyingAttribute {
  /** dicom-parser's tag form, `xGGGGEEEE`, lower-case hex. */
  tag: string;
  /** DICOM keyword (PS3.6). */
  keyword: string;
  /** DICOM attribute name (PS3.6). */
  name: string;
  /** Value representation (PS3.6); a person name (PN) is empty when only its separators are left. */
  vr: string;
  /** Basic Profile action in PS3.15 Table E.1-1 (X remove, Z empty, D dummy; `X/Z` etc.: by IOD type). */
  action: string;
  /** Why the attribute identifies someone or something. */
  why: string;
  /** The Annex E option that would keep it; Goldline accepts none of them (see below). */
  retainedBy?: RetainOption;
}

const row = (
  tag: string,
  keyword: string,
  name: string,
  vr: string,
  action: string,
  why: string,
  retainedBy?: RetainOption,
): IdentifyingAttribute => ({ tag, keyword, name, vr, action, why, ...(retainedBy ? { retainedBy } : {}) });

const PATIENT_CHARACTERISTICS: RetainOption = 'Retain Patient Characteristics Option';
const INSTITUTION: RetainOption = 'Retain Institution Identity Option';
const DEVICE: RetainOption = 'Retain Device Identity Option';

/**
 * The attributes the gate checks: the identity-bearing rows of DICOM PS3.15
 * Annex E, Table E.1-1 "Application Level Confidentiality Profile Attributes"
 * (https://dicom.nema.org/medical/dicom/current/output/chtml/part15/chapter_E.html#table_E.1-1),
 * cross-checked against its machine-readable extraction
 * `standard/confidentiality_profile_attributes.json` in innolitics/dicom-standard.
 * Every row is one the Basic Profile removes (X) or empties (Z), or removes
 * unless the IOD needs it (X/Z, X/Z/D).
 *
 * How to read it:
 * - A row is breached when the element is present with a non-empty value
 *   (after padding, multi-value and person-name separators are set aside).
 *   An empty PatientName, as a de-identifier that must keep the Type 2
 *   attribute leaves it, is fine.
 * - Z and X/Z/D also allow a "dummy" value. The gate cannot tell a dummy from a
 *   real name, so it fails closed: Goldline asks de-identifiers for empty values.
 * - The Retain Patient Characteristics, Institution Identity and Device Identity
 *   options are not accepted: Goldline carries the subgroup attributes it needs
 *   (sex, age band, site, scanner) in its own manifest, and vendors need none of
 *   these to label. To accept an option later, filter the rows by `retainedBy`.
 *   (EthnicGroup is in the Basic Profile, action X, retained only by that option.)
 *
 * Not checked here, on purpose:
 * - UIDs (action U): a de-identifier replaces them, so presence proves nothing.
 * - Dates and times other than birth: the Retain Longitudinal Temporal
 *   Information options keep them legitimately.
 * - Free-text descriptions and comments: the Clean Descriptors option keeps
 *   cleaned text, which a presence check cannot judge.
 * - Attributes whose Basic Profile action is D (a dummy must be present).
 * - Private attributes, and identity burned into pixels: the attestation
 *   covers those (Clean Pixel Data, Retain Safe Private options).
 *
 * @example
 * IDENTIFYING_ATTRIBUTES.find((a) => a.keyword === 'PatientName')
 * // { tag: 'x00100010', keyword: 'PatientName', name: "Patient's Name", vr: 'PN', action: 'Z', why: 'names the patient' }
 */
export const IDENTIFYING_ATTRIBUTES: readonly IdentifyingAttribute[] = Object.freeze([
  // The patient: names, identifiers, contact details, relatives.
  row('x00100010', 'PatientName', "Patient's Name", 'PN', 'Z', 'names the patient'),
  row('x00100020', 'PatientID', 'Patient ID', 'LO', 'Z', "the hospital's identifier for the patient"),
  row('x00100021', 'IssuerOfPatientID', 'Issuer of Patient ID', 'LO', 'X', 'names the hospital that issued the patient ID'),
  row('x00100030', 'PatientBirthDate', "Patient's Birth Date", 'DA', 'Z', 'a direct identifier (HIPAA Safe Harbor)'),
  row('x00100032', 'PatientBirthTime', "Patient's Birth Time", 'TM', 'X', 'narrows the birth date to the minute'),
  row('x00100050', 'PatientInsurancePlanCodeSequence', "Patient's Insurance Plan Code Sequence", 'SQ', 'X', "identifies the patient's insurance plan"),
  row('x00101000', 'OtherPatientIDs', 'Other Patient IDs', 'LO', 'X', 'other identifiers for the patient'),
  row('x00101001', 'OtherPatientNames', 'Other Patient Names', 'PN', 'X', 'other names of the patient'),
  row('x00101002', 'OtherPatientIDsSequence', 'Other Patient IDs Sequence', 'SQ', 'X', 'other identifiers for the patient'),
  row('x00101005', 'PatientBirthName', "Patient's Birth Name", 'PN', 'X', "the patient's name at birth"),
  row('x00101040', 'PatientAddress', "Patient's Address", 'LO', 'X', 'where the patient lives'),
  row('x00101050', 'InsurancePlanIdentification', 'Insurance Plan Identification', 'LO', 'X', "identifies the patient's insurance (retired, still in old files)"),
  row('x00101060', 'PatientMotherBirthName', "Patient's Mother's Birth Name", 'PN', 'X', "names the patient's mother"),
  row('x00101080', 'MilitaryRank', 'Military Rank', 'LO', 'X', 'narrows the patient to a small group'),
  row('x00101081', 'BranchOfService', 'Branch of Service', 'LO', 'X', 'narrows the patient to a small group'),
  row('x00101090', 'MedicalRecordLocator', 'Medical Record Locator', 'LO', 'X', "points to the patient's medical record"),
  row('x00101100', 'ReferencedPatientPhotoSequence', 'Referenced Patient Photo Sequence', 'SQ', 'X', "references a photograph of the patient"),
  row('x00102150', 'CountryOfResidence', 'Country of Residence', 'LO', 'X', 'where the patient lives'),
  row('x00102152', 'RegionOfResidence', 'Region of Residence', 'LO', 'X', 'where the patient lives'),
  row('x00102154', 'PatientTelephoneNumbers', "Patient's Telephone Numbers", 'SH', 'X', 'reaches the patient'),
  row('x00102155', 'PatientTelecomInformation', "Patient's Telecom Information", 'LT', 'X', 'reaches the patient'),
  row('x00102180', 'Occupation', 'Occupation', 'SH', 'X', 'narrows the patient to a small group'),
  row('x001021f0', 'PatientReligiousPreference', "Patient's Religious Preference", 'LO', 'X', 'a sensitive personal characteristic'),
  row('x00102297', 'ResponsiblePerson', 'Responsible Person', 'PN', 'X', 'names a relative or guardian'),
  row('x00102299', 'ResponsibleOrganization', 'Responsible Organization', 'LO', 'X', 'names the organization responsible for the patient'),
  row('x00081120', 'ReferencedPatientSequence', 'Referenced Patient Sequence', 'SQ', 'X', "links to the patient's record"),
  row('x00380010', 'AdmissionID', 'Admission ID', 'LO', 'X', "the hospital's identifier for the admission"),
  row('x00380060', 'ServiceEpisodeID', 'Service Episode ID', 'LO', 'X', "the hospital's identifier for the episode of care"),
  row('x00380300', 'CurrentPatientLocation', 'Current Patient Location', 'LO', 'X', 'where the patient is'),
  row('x00380400', 'PatientInstitutionResidence', "Patient's Institution Residence", 'LO', 'X', 'where the patient lives'),
  // The patient's characteristics: quasi-identifiers the Basic Profile removes.
  row('x00100040', 'PatientSex', "Patient's Sex", 'CS', 'Z', 'a quasi-identifier (kept as a subgroup in the manifest)', PATIENT_CHARACTERISTICS),
  row('x00101010', 'PatientAge', "Patient's Age", 'AS', 'X', 'a quasi-identifier; ages over 89 identify (HIPAA)', PATIENT_CHARACTERISTICS),
  row('x00101020', 'PatientSize', "Patient's Size", 'DS', 'X', 'a quasi-identifier', PATIENT_CHARACTERISTICS),
  row('x00101030', 'PatientWeight', "Patient's Weight", 'DS', 'X', 'a quasi-identifier', PATIENT_CHARACTERISTICS),
  row('x00102160', 'EthnicGroup', 'Ethnic Group', 'SH', 'X', 'a sensitive quasi-identifier', PATIENT_CHARACTERISTICS),
  // Staff: they name people other than the patient, and point back to the hospital.
  row('x00080090', 'ReferringPhysicianName', "Referring Physician's Name", 'PN', 'Z', 'names the referring physician'),
  row('x00080092', 'ReferringPhysicianAddress', "Referring Physician's Address", 'ST', 'X', 'locates the referring physician'),
  row('x00080094', 'ReferringPhysicianTelephoneNumbers', "Referring Physician's Telephone Numbers", 'SH', 'X', 'reaches the referring physician'),
  row('x00080096', 'ReferringPhysicianIdentificationSequence', 'Referring Physician Identification Sequence', 'SQ', 'X', 'identifies the referring physician'),
  row('x0008009c', 'ConsultingPhysicianName', "Consulting Physician's Name", 'PN', 'Z', 'names a consulting physician'),
  row('x00081048', 'PhysiciansOfRecord', 'Physician(s) of Record', 'PN', 'X', 'names the physicians of record'),
  row('x00081049', 'PhysiciansOfRecordIdentificationSequence', 'Physician(s) of Record Identification Sequence', 'SQ', 'X', 'identifies the physicians of record'),
  row('x00081050', 'PerformingPhysicianName', "Performing Physician's Name", 'PN', 'X', 'names the performing physician'),
  row('x00081052', 'PerformingPhysicianIdentificationSequence', 'Performing Physician Identification Sequence', 'SQ', 'X', 'identifies the performing physician'),
  row('x00081060', 'NameOfPhysiciansReadingStudy', 'Name of Physician(s) Reading Study', 'PN', 'X', 'names the reading physicians'),
  row('x00081062', 'PhysiciansReadingStudyIdentificationSequence', 'Physician(s) Reading Study Identification Sequence', 'SQ', 'X', 'identifies the reading physicians'),
  row('x00081070', 'OperatorsName', "Operators' Name", 'PN', 'X/Z/D', 'names the technologists'),
  row('x00321032', 'RequestingPhysician', 'Requesting Physician', 'PN', 'X', 'names the requesting physician'),
  row('x00321033', 'RequestingService', 'Requesting Service', 'LO', 'X', 'names the requesting department'),
  row('x00400006', 'ScheduledPerformingPhysicianName', "Scheduled Performing Physician's Name", 'PN', 'X', 'names a physician'),
  row('x00401010', 'NamesOfIntendedRecipientsOfResults', 'Names of Intended Recipients of Results', 'PN', 'X', 'names the recipients of the results'),
  row('x00401102', 'PersonAddress', "Person's Address", 'ST', 'X', 'locates a person'),
  row('x00401103', 'PersonTelephoneNumbers', "Person's Telephone Numbers", 'LO', 'X', 'reaches a person'),
  row('x00402008', 'OrderEnteredBy', 'Order Entered By', 'PN', 'X', 'names who entered the order'),
  row('x00402010', 'OrderCallbackPhoneNumber', 'Order Callback Phone Number', 'SH', 'X', 'reaches the ordering staff'),
  row('x00404037', 'HumanPerformerName', "Human Performer's Name", 'PN', 'X', 'names a person who performed the procedure'),
  row('x0016004d', 'CameraOwnerName', 'Camera Owner Name', 'UT', 'X', 'names the owner of the camera'),
  row('x300e0008', 'ReviewerName', 'Reviewer Name', 'PN', 'X/Z', 'names the reviewer'),
  // The institution.
  row('x00080080', 'InstitutionName', 'Institution Name', 'LO', 'X/Z/D', 'names the hospital (with dates and modality, narrows the patient)', INSTITUTION),
  row('x00080081', 'InstitutionAddress', 'Institution Address', 'ST', 'X', 'locates the hospital', INSTITUTION),
  row('x00080082', 'InstitutionCodeSequence', 'Institution Code Sequence', 'SQ', 'X/Z/D', 'identifies the hospital', INSTITUTION),
  row('x00081040', 'InstitutionalDepartmentName', 'Institutional Department Name', 'LO', 'X', "names the hospital's department", INSTITUTION),
  // The device: a serial number or station name ties the image to one hospital's scanner.
  row('x00081010', 'StationName', 'Station Name', 'SH', 'X/Z/D', 'names the scanner, often after the hospital', DEVICE),
  row('x00181000', 'DeviceSerialNumber', 'Device Serial Number', 'LO', 'X/Z/D', 'ties the image to one scanner', DEVICE),
  row('x00181004', 'PlateID', 'Plate ID', 'LO', 'X', 'ties the image to one imaging plate', DEVICE),
  row('x00181005', 'GeneratorID', 'Generator ID', 'LO', 'X', 'ties the image to one generator', DEVICE),
  row('x00181007', 'CassetteID', 'Cassette ID', 'LO', 'X', 'ties the image to one cassette', DEVICE),
  row('x00181008', 'GantryID', 'Gantry ID', 'LO', 'X', 'ties the image to one gantry', DEVICE),
  row('x00181009', 'UniqueDeviceIdentifier', 'Unique Device Identifier', 'UT', 'X', 'ties the image to one device', DEVICE),
  row('x00400241', 'PerformedStationAETitle', 'Performed Station AE Title', 'AE', 'X', "names the hospital's network node", DEVICE),
  row('x00400242', 'PerformedStationName', 'Performed Station Name', 'SH', 'X', 'names the scanner', DEVICE),
  row('x00400243', 'PerformedLocation', 'Performed Location', 'SH', 'X', 'locates the scanner'),
  // The care episode: identifiers that link back to the hospital's records.
  row('x00080050', 'AccessionNumber', 'Accession Number', 'SH', 'Z', "links to the hospital's order and report"),
  row('x00200010', 'StudyID', 'Study ID', 'SH', 'Z', "the hospital's identifier for the study"),
  row('x00320012', 'StudyIDIssuer', 'Study ID Issuer', 'LO', 'X', 'names who issued the study ID (retired, still in old files)'),
  row('x00400009', 'ScheduledProcedureStepID', 'Scheduled Procedure Step ID', 'SH', 'X', "links to the hospital's worklist"),
  row('x00400253', 'PerformedProcedureStepID', 'Performed Procedure Step ID', 'SH', 'X', "links to the hospital's worklist"),
  row('x00401001', 'RequestedProcedureID', 'Requested Procedure ID', 'SH', 'X', "links to the hospital's order"),
  row('x00402016', 'PlacerOrderNumberImagingServiceRequest', 'Placer Order Number / Imaging Service Request', 'LO', 'Z', "links to the hospital's order"),
  row('x00402017', 'FillerOrderNumberImagingServiceRequest', 'Filler Order Number / Imaging Service Request', 'LO', 'Z', "links to the hospital's order"),
]);

const BY_TAG: ReadonlyMap<string, IdentifyingAttribute> = new Map(IDENTIFYING_ATTRIBUTES.map((a) => [a.tag, a]));

/** Tags read besides the table. */
const TAG = {
  transferSyntax: 'x00020010',
  modality: 'x00080060',
  patientIdentityRemoved: 'x00120062',
  deidentificationMethod: 'x00120063',
  pixelData: 'x7fe00010',
} as const;

const DEFLATED_EXPLICIT_LE = '1.2.840.10008.1.2.1.99';

/** An identifying attribute found in a header: which one, never its value. */
export interface IdentifyingFinding {
  tag: string;
  keyword: string;
  name: string;
}

/** What the header says about identity; or why it could not be read. */
export type DicomHeaderInspection =
  | {
      ok: true;
      /** Identifying attributes present with a value, in {@link IDENTIFYING_ATTRIBUTES} order; each once. */
      identifying: IdentifyingFinding[];
      /** Patient Identity Removed (0012,0062) is YES: the de-identifier's own claim, evidence only. */
      patientIdentityRemoved: boolean;
      /** De-identification Method (0012,0063), as written (values joined by `\`). */
      deidentificationMethod?: string;
      modality?: string;
      /** Transfer Syntax UID (0002,0010). */
      transferSyntax?: string;
    }
  | { ok: false; reason: string };

/**
 * Inspects a DICOM Part 10 file's header for identifying attributes.
 *
 * Parsing stops at Pixel Data (7FE0,0010), so a 500 MB image costs what its
 * header costs; nothing the table checks is lost, since a data set is in tag
 * order and every row's tag sorts before it. Nested sequences are searched too: Annex E applies to
 * attributes wherever they occur. Explicit and implicit VR little endian (and
 * explicit big endian) are read; deflated files are refused, because their
 * header can only be read by inflating the whole file, pixel data included,
 * which is unbounded work for a gate.
 *
 * @example
 * const inspection = inspectDicomHeader(bytes);
 * if (inspection.ok) inspection.identifying.map((f) => f.keyword); // ['PatientName', 'AccessionNumber']
 * else inspection.reason; // 'no DICM marker at byte 128: not a DICOM Part 10 file'
 */
export function inspectDicomHeader(bytes: Uint8Array): DicomHeaderInspection {
  if (bytes.length < 132 || !hasDicmMarker(bytes)) {
    return {
      ok: false,
      reason:
        bytes.length === 0
          ? 'the file is empty'
          : `no DICM marker at byte 128: not a DICOM Part 10 file (${bytes.length} bytes)`,
    };
  }

  const metaEnd = declaredMetaEnd(bytes);
  if (metaEnd !== undefined && metaEnd > bytes.length) {
    return { ok: false, reason: 'the header is truncated: the file ends inside its file meta information' };
  }
  if (metaEnd === bytes.length) return { ok: false, reason: 'the file has file meta information but no data set' };

  let dataSet: DataSet;
  try {
    dataSet = dicomParser.parseDicom(bytes, {
      untilTag: TAG.pixelData,
      inflater: () => {
        throw new DeflatedTransferSyntaxError();
      },
    });
  } catch (e) {
    return { ok: false, reason: describeParseFailure(e) };
  }

  // dicom-parser skips over a value without checking that it fits the buffer:
  // a file cut short inside its header parses "successfully" and must not pass.
  const overrun = findOverrun(dataSet);
  if (overrun) return { ok: false, reason: `the header is truncated: ${overrun} runs past the end of the file` };

  const present = new Set<string>();
  collectIdentifying(dataSet, present);
  const identifying = IDENTIFYING_ATTRIBUTES.filter((a) => present.has(a.tag)).map(({ tag, keyword, name }) => ({
    tag,
    keyword,
    name,
  }));

  const method = readText(dataSet, TAG.deidentificationMethod);
  const modality = readText(dataSet, TAG.modality);
  const transferSyntax = readText(dataSet, TAG.transferSyntax);
  return {
    ok: true,
    identifying,
    patientIdentityRemoved: readText(dataSet, TAG.patientIdentityRemoved)?.toUpperCase() === 'YES',
    ...(method !== undefined ? { deidentificationMethod: method } : {}),
    ...(modality !== undefined ? { modality } : {}),
    ...(transferSyntax !== undefined ? { transferSyntax } : {}),
  };
}

/**
 * What in the header stops the case from reaching a vendor, in words a PM
 * reads (empty: nothing). These are what ingest stores as the case's
 * `deidentificationFindings`; the attestation is judged apart, by routing.
 *
 * @example
 * deidentificationFindings(inspectDicomHeader(bytes))
 * // ['header still carries PatientName (0010,0010)', 'header still carries AccessionNumber (0008,0050)']
 */
export function deidentificationFindings(inspection: DicomHeaderInspection): string[] {
  if (!inspection.ok) return [`image is not a readable DICOM file: ${inspection.reason}`];
  return inspection.identifying.map((f) => `header still carries ${f.keyword} ${formatTag(f.tag)}`);
}

/**
 * The gate's verdict: a case is vendor-safe only when someone attested its
 * de-identification AND its header is readable AND no identifying attribute
 * is left. Patient Identity Removed = YES does not count on its own: it is the
 * de-identifier's claim, and the header is checked regardless.
 *
 * @example
 * deidentificationVerdict(inspectDicomHeader(bytes), false)
 * // { vendorSafe: false, reasons: ['header still carries PatientName (0010,0010)', 'no de-identification attestation'] }
 */
export function deidentificationVerdict(
  inspection: DicomHeaderInspection,
  attested: boolean,
): { vendorSafe: boolean; reasons: string[] } {
  const reasons = deidentificationFindings(inspection);
  if (!attested) reasons.push('no de-identification attestation');
  return { vendorSafe: reasons.length === 0, reasons };
}

/**
 * `x00100010` → `(0010,0010)`, the form DICOM documents and tools print.
 *
 * @example formatTag('x0008009c') // '(0008,009C)'
 */
export function formatTag(tag: string): string {
  const hex = tag.replace(/^x/, '').toUpperCase();
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}

// ---------------------------------------------------------------- reading

class DeflatedTransferSyntaxError extends Error {
  override name = 'DeflatedTransferSyntaxError';
}

function hasDicmMarker(bytes: Uint8Array): boolean {
  return bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d; // 'DICM'
}

/** dicom-parser throws strings, Errors, or `{ exception, dataSet }`; make one sentence of any. */
function describeParseFailure(e: unknown): string {
  const cause = typeof e === 'object' && e !== null && 'exception' in e ? (e as { exception: unknown }).exception : e;
  if (cause instanceof DeflatedTransferSyntaxError) {
    return `deflated transfer syntax (${DEFLATED_EXPLICIT_LE}) is not accepted; re-encode the file uncompressed`;
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/missing required meta header attribute 0002,0010/.test(message)) {
    return 'the file meta information has no Transfer Syntax UID (0002,0010)';
  }
  if (/past end of buffer|buffer overr|cannot be greater than or equal to/.test(message)) {
    return 'the header is truncated: the file ends in the middle of an element';
  }
  return `the header cannot be parsed (${message.replace(/^dicomParser[.:]\s*/, '')})`;
}

/**
 * Where the file meta information ends by its own group length, if the file
 * starts with File Meta Information Group Length (0002,0000) UL as PS3.10
 * requires; undefined otherwise (the parser then finds the end itself).
 */
function declaredMetaEnd(bytes: Uint8Array): number | undefined {
  if (bytes.length < 144) return Number.POSITIVE_INFINITY; // not even the group length fits
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isGroupLength = view.getUint32(132, true) === 0x00000002 && bytes[136] === 0x55 && bytes[137] === 0x4c; // (0002,0000) 'UL'
  return isGroupLength ? 144 + view.getUint32(140, true) : undefined;
}

const UNDEFINED_LENGTH = 0xffffffff;

/** The first element (outside Pixel Data) whose value would end past the buffer, as `(gggg,eeee)`. */
function findOverrun(dataSet: DataSet): string | undefined {
  const size = dataSet.byteArray.length;
  for (const element of Object.values(dataSet.elements)) {
    if (element.tag === TAG.pixelData) continue;
    if (element.length !== UNDEFINED_LENGTH && element.dataOffset + element.length > size) return formatTag(element.tag);
    for (const item of element.items ?? []) {
      const inner = item.dataSet ? findOverrun(item.dataSet) : undefined;
      if (inner) return inner;
    }
  }
  return undefined;
}

/** Adds to `present` the table's tags that carry a value here or in any nested item. */
function collectIdentifying(dataSet: DataSet, present: Set<string>): void {
  for (const element of Object.values(dataSet.elements)) {
    const attribute = BY_TAG.get(element.tag);
    if (attribute && hasValue(dataSet, element, attribute.vr)) present.add(element.tag);
    for (const item of element.items ?? []) if (item.dataSet) collectIdentifying(item.dataSet, present);
  }
}

const NUL = 0x00;
const SPACE = 0x20;
const BACKSLASH = 0x5c; // separates multiple values
const CARET = 0x5e; // separates person-name components
const EQUALS = 0x3d; // separates person-name representations

/**
 * Whether an element carries a value: a sequence with at least one item, or
 * text with anything besides padding (space, NUL) and separators. `\` alone is
 * two empty values; `^^^^` an empty person name.
 */
function hasValue(dataSet: DataSet, element: Element, vr: string): boolean {
  if (element.items) return element.items.length > 0;
  const bytes = dataSet.byteArray;
  const end = Math.min(element.dataOffset + element.length, bytes.length);
  const personName = vr === 'PN';
  for (let i = element.dataOffset; i < end; i++) {
    const b = bytes[i];
    if (b === NUL || b === SPACE || b === BACKSLASH) continue;
    if (personName && (b === CARET || b === EQUALS)) continue;
    return true;
  }
  return false;
}

/** A text attribute, trimmed; undefined when absent or empty. */
function readText(dataSet: DataSet, tag: string): string | undefined {
  const text = dataSet.string(tag);
  return text ? text : undefined;
}
