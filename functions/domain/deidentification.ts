/**
 * The de-identification gate's DICOM inspection, driven by DICOM PS3.15
 * Annex E Table E.1-1 (all 621 rows, bundled as data: `deidentification/`)
 * and by what the program accepts (`DeidentificationSettings`, the protocol's
 * `deidentification` block).
 *
 * Pure: bytes in, plain data out. Never throws on bad input: a file that is
 * not readable DICOM is `ok: false` with a reason, and the verdict treats it as
 * unsafe. Findings name attributes (tag and name), never their values: they are
 * stored on the case, logged and shown to PMs.
 *
 * How each Basic Profile action is enforced, for every attribute the table
 * lists, wherever it occurs (top level or inside sequence items, at any depth
 * up to {@link MAX_SEQUENCE_DEPTH}):
 * - **Combinations** (`X/Z`, `X/D`, `X/Z/D`, `Z/D`, `X/Z/U*`) are read at their
 *   strictest, the first letter: the gate cannot know which IOD or Type the
 *   de-identifier applied, and the stricter action always satisfies the profile
 *   where the IOD allows it.
 * - **X** (remove): present with a value is a finding. Present but empty (only
 *   padding, `\` and person-name separators; a sequence with no items) passes:
 *   it carries nothing.
 * - **Z** (zero length, or a dummy): must be empty. The gate cannot tell a dummy
 *   from an original by looking at it, and zero length is always allowed for Z,
 *   so asking for it costs a de-identifier nothing. A program whose
 *   de-identifier writes pseudonyms declares their form (`pseudonymPattern`); a
 *   value matching it in full passes.
 * - **D** (a non-zero-length dummy): the attribute must stay present with a
 *   value, so emptiness cannot be asked for. Its value is taken for the
 *   de-identifier's dummy only when the file declares the Basic Profile (code
 *   113100 in De-identification Method Code Sequence (0012,0064)) with Patient
 *   Identity Removed (0012,0062) YES, or when it matches `pseudonymPattern`;
 *   otherwise it is presumed original and is a finding.
 * - **U** (a new, consistent UID): checked only when the program requires
 *   re-generated UIDs (`requireRegeneratedUids.root`): a UID outside that root
 *   is a finding. Otherwise presence proves nothing and UIDs pass.
 * - **Options**: an attribute the table keeps (K) or cleans (C) under an option
 *   passes when the file declares that option in (0012,0064) (with Patient
 *   Identity Removed YES) AND the program lists it in `acceptedOptions`. A
 *   cleaned (C) value is trusted as cleaned: no program can check that from the
 *   value. Each finding lists every option that would allow it, and whether the
 *   file declared it and the program accepts it.
 * - **Pixels**: Burned In Annotation (0028,0301) YES is a finding unless Clean
 *   Pixel Data (113101) is declared and accepted; Recognizable Visual Features
 *   (0028,0302) YES likewise, with Clean Recognizable Visual Features (113102).
 *   An absent attribute is not a finding: the attestation covers it.
 * - **Private attributes** (odd groups, at any depth): a finding per group
 *   unless Retain Safe Private (113111) is declared and accepted. The gate has
 *   no list of "safe" private attributes, so under that option it trusts the
 *   de-identifier's declaration for all of them.
 *
 * Sequences dicom-parser leaves as bytes — a private sequence in implicit VR
 * (it has no dictionary to tell one from other bytes) and a sequence encoded
 * as UN (PS3.5 §6.2.2: implicit VR little endian inside) — are parsed here
 * when their value opens with an item, so what they hold is judged too. A
 * value that does not parse as items stays opaque bytes: a private attribute
 * (blocked unless Retain Safe Private applies) or a value.
 *
 * This module parses and answers; the judging is ./deidentification/dicom-judge.ts
 * and the header reading it relies on ./deidentification/dicom-reading.ts.
 */
import dicomParser, { type DataSet } from 'dicom-parser';
import { type DicomFinding, Judge } from './deidentification/dicom-judge.js';
import {
  BASIC_PROFILE_CODE,
  DEPTH_EXCEEDED,
  DeflatedTransferSyntaxError,
  MAX_SEQUENCE_DEPTH,
  TAG,
  declaredCodes,
  declaredMetaEnd,
  describeParseFailure,
  findOverrun,
  hasDicmMarker,
  readText,
} from './deidentification/dicom-reading.js';
import type { GateFinding } from './deidentification/finding.js';
import {
  DEIDENTIFICATION_OPTIONS,
  type DeidentificationOption,
  DeidentificationSettings,
  type DeidentificationSettingsInput,
} from './model/deidentification-settings.js';

export type { GateFinding, GateRule, ImageFormat } from './deidentification/finding.js';
export { PROFILE_ATTRIBUTES, PRIVATE_ATTRIBUTES, type ProfileAttribute, profileAttribute } from './deidentification/profile.js';
export { type DicomFinding, MAX_PSEUDONYM_LENGTH, type OptionStatus } from './deidentification/dicom-judge.js';
export { formatTag, MAX_SEQUENCE_DEPTH } from './deidentification/dicom-reading.js';

/** What the header says about identity; or why it could not be read. */
export type DicomHeaderInspection =
  | {
      ok: true;
      /** Everything that stops the file from leaving, ordered by tag; each attribute once. */
      findings: DicomFinding[];
      /** Patient Identity Removed (0012,0062) is YES: the de-identifier's own claim. */
      patientIdentityRemoved: boolean;
      /** Options the file declares in (0012,0064); none unless Patient Identity Removed is YES. */
      declaredOptions: DeidentificationOption[];
      /** The file declares the Basic Profile (113100) with Patient Identity Removed YES. */
      basicProfileDeclared: boolean;
      /** De-identification Method (0012,0063), as written (values joined by `\`). */
      deidentificationMethod?: string;
      modality?: string;
      /** Transfer Syntax UID (0002,0010). */
      transferSyntax?: string;
      /** The bytes reached Pixel Data (7FE0,0010): everything before it was read. */
      reachedPixelData: boolean;
    }
  | {
      ok: false;
      reason: string;
      /** The bytes end inside the header: more of the file may make it readable. */
      truncated: boolean;
    };

/**
 * Inspects a DICOM Part 10 file's header against PS3.15 Table E.1-1 and the
 * program's settings (default: the Basic Profile, no option accepted).
 *
 * Parsing stops at Pixel Data (7FE0,0010), so a 500 MB image costs what its
 * header costs. Explicit and implicit VR little endian and explicit VR big
 * endian are read; deflated files are refused, because their header can only be
 * read by inflating the whole file, pixel data included, which is unbounded
 * work for a gate.
 *
 * @example
 * const inspection = inspectDicomHeader(bytes, { acceptedOptions: ['retainPatientCharacteristics'] });
 * if (inspection.ok) inspection.findings.map((f) => f.location); // ["(0010,0010) Patient's Name"]
 * else inspection.reason; // 'no DICM marker at byte 128: not a DICOM Part 10 file'
 */
export function inspectDicomHeader(
  bytes: Uint8Array,
  settingsInput: DeidentificationSettingsInput = {},
): DicomHeaderInspection {
  const settings = DeidentificationSettings.parse(settingsInput);
  if (bytes.length < 132 || !hasDicmMarker(bytes)) {
    return {
      ok: false,
      truncated: false,
      reason:
        bytes.length === 0
          ? 'the file is empty'
          : `no DICM marker at byte 128: not a DICOM Part 10 file (${bytes.length} bytes)`,
    };
  }

  const metaEnd = declaredMetaEnd(bytes);
  if (metaEnd !== undefined && metaEnd > bytes.length) {
    return { ok: false, truncated: true, reason: 'the header is truncated: the file ends inside its file meta information' };
  }
  if (metaEnd === bytes.length) return { ok: false, truncated: true, reason: 'the file has file meta information but no data set' };

  let dataSet: DataSet;
  try {
    dataSet = dicomParser.parseDicom(bytes, {
      untilTag: TAG.pixelData,
      inflater: () => {
        throw new DeflatedTransferSyntaxError();
      },
    });
  } catch (e) {
    return describeParseFailure(e);
  }

  // dicom-parser skips over a value without checking that it fits the buffer:
  // a file cut short inside its header parses "successfully" and must not pass.
  const overrun = findOverrun(dataSet, 0);
  if (overrun === DEPTH_EXCEEDED) {
    return { ok: false, truncated: false, reason: `sequences are nested deeper than ${MAX_SEQUENCE_DEPTH} levels` };
  }
  if (overrun) return { ok: false, truncated: true, reason: `the header is truncated: ${overrun} runs past the end of the file` };

  const patientIdentityRemoved = readText(dataSet, TAG.patientIdentityRemoved)?.toUpperCase() === 'YES';
  const codes = patientIdentityRemoved ? declaredCodes(dataSet) : new Set<string>();
  const declaredOptions = (Object.keys(DEIDENTIFICATION_OPTIONS) as DeidentificationOption[]).filter((o) =>
    codes.has(DEIDENTIFICATION_OPTIONS[o].code),
  );
  const judge = new Judge(settings, new Set(declaredOptions), codes.has(BASIC_PROFILE_CODE));
  judge.walk(dataSet);

  const method = readText(dataSet, TAG.deidentificationMethod);
  const modality = readText(dataSet, TAG.modality);
  const transferSyntax = readText(dataSet, TAG.transferSyntax);
  return {
    ok: true,
    findings: judge.findings(),
    patientIdentityRemoved,
    declaredOptions,
    basicProfileDeclared: codes.has(BASIC_PROFILE_CODE),
    ...(method !== undefined ? { deidentificationMethod: method } : {}),
    ...(modality !== undefined ? { modality } : {}),
    ...(transferSyntax !== undefined ? { transferSyntax } : {}),
    reachedPixelData: dataSet.elements[TAG.pixelData] !== undefined,
  };
}

/**
 * The gate's findings for one DICOM file: each finding, or the one reason the
 * header cannot be read.
 *
 * @example
 * dicomFindings(inspectDicomHeader(new Uint8Array(0)))
 * // [{ format: 'dicom', rule: 'unreadable', message: 'image is not a readable DICOM file: the file is empty' }]
 */
export function dicomFindings(inspection: DicomHeaderInspection): GateFinding[] {
  if (!inspection.ok) {
    return [{ format: 'dicom', rule: 'unreadable', message: `image is not a readable DICOM file: ${inspection.reason}` }];
  }
  return inspection.findings;
}

/**
 * What in the header stops the case from reaching a vendor, in words a PM
 * reads (empty: nothing). These are what ingest stores as the case's
 * `deidentificationFindings`; the attestation is judged apart, by routing.
 *
 * @example
 * deidentificationFindings(inspectDicomHeader(bytes))
 * // ["header still carries Patient's Name (0010,0010): Basic Profile action Z: empty it; no option keeps it"]
 */
export function deidentificationFindings(inspection: DicomHeaderInspection): string[] {
  return dicomFindings(inspection).map((f) => f.message);
}

/**
 * The gate's verdict: a case is vendor-safe only when someone attested its
 * de-identification AND its header is readable AND nothing in it is a finding.
 * Patient Identity Removed = YES does not count on its own: it is the
 * de-identifier's claim, and the header is checked regardless.
 *
 * @example
 * deidentificationVerdict(inspectDicomHeader(bytes), false)
 * // { vendorSafe: false, reasons: ["header still carries Patient's Name (0010,0010): …", 'no de-identification attestation'] }
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
 * Whether the gate reads an image as DICOM: a Part 10 file (`DICM` at byte
 * 128), or any file named `.dcm` (one without the marker is then refused as
 * unreadable, not passed unseen).
 *
 * @example isDicomImage(bytes, 'images/case-1.dcm') // true
 */
export function isDicomImage(head: Uint8Array, key: string): boolean {
  return hasDicmMarker(head) || /\.dcm$/i.test(key);
}
