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
 */
import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import type { GateFinding } from './deidentification/finding.js';
import {
  type ProfileAttribute,
  PRIVATE_ATTRIBUTES,
  isPrivateTag,
  profileAttribute,
} from './deidentification/profile.js';
import {
  DEIDENTIFICATION_OPTIONS,
  type DeidentificationOption,
  DeidentificationSettings,
  type DeidentificationSettingsInput,
} from './model/deidentification-settings.js';

export type { GateFinding, GateRule, ImageFormat } from './deidentification/finding.js';
export { PROFILE_ATTRIBUTES, PRIVATE_ATTRIBUTES, type ProfileAttribute, profileAttribute } from './deidentification/profile.js';

/** The longest value the gate tries as a pseudonym (a PN component group is at most 64 characters). */
export const MAX_PSEUDONYM_LENGTH = 64;

/** Deeper sequence nesting than this is refused: no real header needs it, and walking it is unbounded work. */
export const MAX_SEQUENCE_DEPTH = 64;

/** Tags read besides the table. */
const TAG = {
  transferSyntax: 'x00020010',
  modality: 'x00080060',
  codeValue: 'x00080100',
  codingSchemeDesignator: 'x00080102',
  patientIdentityRemoved: 'x00120062',
  deidentificationMethod: 'x00120063',
  deidentificationMethodCodeSequence: 'x00120064',
  burnedInAnnotation: 'x00280301',
  recognizableVisualFeatures: 'x00280302',
  pixelData: 'x7fe00010',
} as const;

/** CID 7050 code of the Basic Application Confidentiality Profile. */
const BASIC_PROFILE_CODE = '113100';

const DEFLATED_EXPLICIT_LE = '1.2.840.10008.1.2.1.99';

/** An option that would allow what a finding reports, and where the file and the program stand on it. */
export interface OptionStatus {
  option: DeidentificationOption;
  /** CID 7050 code, e.g. `113108`. */
  code: string;
  /** e.g. `Retain Patient Characteristics Option`. */
  name: string;
  /** Under the option the attribute is kept (K) or cleaned (C); pixel options clean (C). */
  action: 'K' | 'C';
  /** The file lists it in (0012,0064), with Patient Identity Removed YES. */
  declared: boolean;
  /** The program lists it in `acceptedOptions`. */
  accepted: boolean;
}

/** A DICOM finding, with the attribute and the profile's requirement spelled out. */
export interface DicomFinding extends GateFinding {
  format: 'dicom';
  /** dicom-parser form, `x00100010`; for a private group, `x0019xxxx`. */
  tag: string;
  /** PS3.6 attribute name as Table E.1-1 gives it, e.g. `Patient's Name`. */
  name: string;
  /** Basic Profile action as the table gives it (`Z`, `X/Z/D`…); absent for pixel flags. */
  basicProfile?: string;
  /** Options that would allow it; empty when none does. */
  options: OptionStatus[];
}

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
 * `x00100010` → `(0010,0010)`, the form DICOM documents and tools print.
 *
 * @example formatTag('x0008009c') // '(0008,009C)'
 */
export function formatTag(tag: string): string {
  const hex = tag.replace(/^x/, '').toUpperCase();
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
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

// ---------------------------------------------------------------- judging

const ACTION_WORDS = {
  X: 'remove it',
  Z: 'empty it',
  D: 'replace it with a dummy',
  U: 'replace it with a new UID',
} as const;

/** Walks a data set and collects findings: each attribute reported once, wherever it first fails. */
class Judge {
  private readonly found = new Map<string, DicomFinding>();
  private readonly privateGroups = new Map<string, { count: number; first: string }>();
  private readonly pseudonym: RegExp | undefined;

  constructor(
    private readonly settings: DeidentificationSettings,
    private readonly declared: ReadonlySet<DeidentificationOption>,
    private readonly basicDeclared: boolean,
  ) {
    this.pseudonym = settings.pseudonymPattern ? new RegExp(`^(?:${settings.pseudonymPattern})$`, 'u') : undefined;
  }

  walk(dataSet: DataSet, depth = 0): void {
    for (const element of Object.values(dataSet.elements)) {
      if (element.tag === TAG.pixelData) continue;
      if (isPrivateTag(element.tag)) this.notePrivate(element.tag);
      else this.check(dataSet, element);
      // findOverrun bounds the depth dicom-parser parsed; items parsed here are bounded here.
      const items = element.items?.flatMap((i) => (i.dataSet ? [i.dataSet] : [])) ?? opaqueItems(dataSet, element);
      if (items.length > 0 && depth >= MAX_SEQUENCE_DEPTH) {
        this.found.set('depth', {
          format: 'dicom',
          rule: 'unreadable',
          tag: element.tag,
          name: 'Sequence',
          options: [],
          location: formatTag(element.tag),
          message: `image is not a readable DICOM file: sequences are nested deeper than ${MAX_SEQUENCE_DEPTH} levels`,
        });
        continue;
      }
      for (const item of items) this.walk(item, depth + 1);
    }
  }

  findings(): DicomFinding[] {
    const privateOption = this.status(PRIVATE_ATTRIBUTES.options);
    const privateKept = privateOption.some((s) => s.declared && s.accepted);
    for (const [group, { count, first }] of privateKept ? [] : this.privateGroups) {
      const tag = `x${group}xxxx`;
      this.found.set(`private:${group}`, {
        format: 'dicom',
        rule: 'private-attribute',
        tag,
        name: PRIVATE_ATTRIBUTES.name,
        basicProfile: PRIVATE_ATTRIBUTES.basicProfile,
        options: privateOption,
        location: `${formatTag(tag)} ${PRIVATE_ATTRIBUTES.name}`,
        message:
          `header carries ${count} private attribute(s) in group ${formatTag(tag)} (first ${formatTag(first)}): ` +
          `Basic Profile action ${PRIVATE_ATTRIBUTES.basicProfile}: ${ACTION_WORDS.X}; ${describeOptions(privateOption)}`,
      });
    }
    return [...this.found.values()].sort((a, b) => a.tag.localeCompare(b.tag) || a.rule.localeCompare(b.rule));
  }

  private notePrivate(tag: string): void {
    const group = tag.slice(1, 5);
    const seen = this.privateGroups.get(group);
    if (seen) seen.count++;
    else this.privateGroups.set(group, { count: 1, first: tag });
  }

  private check(dataSet: DataSet, element: Element): void {
    if (element.tag === TAG.burnedInAnnotation || element.tag === TAG.recognizableVisualFeatures) {
      this.checkPixelFlag(dataSet, element);
      return;
    }
    const attribute = profileAttribute(element.tag);
    if (!attribute || this.found.has(`${attribute.tag}`)) return;
    const options = this.status(attribute.options);
    if (options.some((s) => s.declared && s.accepted)) return;

    if (attribute.enforced === 'U') {
      this.checkUid(dataSet, element, attribute, options);
      return;
    }
    if (!hasValue(dataSet, element)) return;
    if (attribute.enforced === 'Z' && this.isPseudonym(dataSet, element)) return;
    if (attribute.enforced === 'D' && (this.basicDeclared || this.isPseudonym(dataSet, element))) return;

    const requirement =
      attribute.enforced === 'Z' && this.pseudonym
        ? `${ACTION_WORDS.Z}, or write a pseudonym of the program's pattern`
        : attribute.enforced === 'D'
          ? `${ACTION_WORDS.D}; the file does not declare the Basic Profile (${BASIC_PROFILE_CODE}) with Patient Identity Removed (0012,0062) YES${this.pseudonym ? ' and the value is not of the pseudonym pattern' : ''}, so the value is taken for the original`
          : ACTION_WORDS[attribute.enforced];
    this.add(attribute, element.tag, 'identifying-attribute', `header still carries`, requirement, options);
  }

  private checkUid(dataSet: DataSet, element: Element, attribute: ProfileAttribute, options: OptionStatus[]): void {
    const root = this.settings.requireRegeneratedUids?.root;
    if (!root) return;
    const text = dataSet.string(element.tag) ?? '';
    const uids = text.split('\\').map((u) => u.replace(/[\0 ]+$/g, '').trim()).filter((u) => u.length > 0);
    if (uids.every((u) => u.startsWith(root))) return;
    this.add(
      attribute,
      element.tag,
      'uid-not-regenerated',
      `header keeps an original UID in`,
      `${ACTION_WORDS.U} under the program's root ${root}`,
      options,
    );
  }

  private checkPixelFlag(dataSet: DataSet, element: Element): void {
    if (dataSet.string(element.tag)?.trim().toUpperCase() !== 'YES') return;
    const burnedIn = element.tag === TAG.burnedInAnnotation;
    const option: DeidentificationOption = burnedIn ? 'cleanPixelData' : 'cleanRecognizableVisualFeatures';
    const options = this.status([{ option, action: 'C' }]);
    if (options[0].declared && options[0].accepted) return;
    const name = burnedIn ? 'Burned In Annotation' : 'Recognizable Visual Features';
    const what = burnedIn ? 'the pixels carry burned-in text that may identify the patient' : 'the image shows features that may recognise the patient';
    this.found.set(element.tag, {
      format: 'dicom',
      rule: burnedIn ? 'burned-in-annotation' : 'recognizable-visual-features',
      tag: element.tag,
      name,
      options,
      location: `${formatTag(element.tag)} ${name}`,
      message: `${name} ${formatTag(element.tag)} is YES: ${what}; ${describeOptions(options)}`,
    });
  }

  private add(
    attribute: ProfileAttribute,
    tag: string,
    rule: DicomFinding['rule'],
    lead: string,
    requirement: string,
    options: OptionStatus[],
  ): void {
    const shownTag = formatTag(tag);
    const action = attribute.basicProfile === attribute.enforced ? attribute.enforced : `${attribute.basicProfile}, read as ${attribute.enforced}`;
    this.found.set(attribute.tag, {
      format: 'dicom',
      rule,
      tag,
      name: attribute.name,
      basicProfile: attribute.basicProfile,
      options,
      location: `${shownTag} ${attribute.name}`,
      message: `${lead} ${attribute.name} ${shownTag}: Basic Profile action ${action}: ${requirement}; ${describeOptions(options)}`,
    });
  }

  private status(options: readonly { option: DeidentificationOption; action: 'K' | 'C' }[]): OptionStatus[] {
    return options.map(({ option, action }) => ({
      option,
      code: DEIDENTIFICATION_OPTIONS[option].code,
      name: DEIDENTIFICATION_OPTIONS[option].name,
      action,
      declared: this.declared.has(option),
      accepted: this.settings.acceptedOptions.includes(option),
    }));
  }

  /**
   * Every value of a text attribute matches the program's pseudonym pattern in
   * full. Values longer than {@link MAX_PSEUDONYM_LENGTH} are no pseudonym: the
   * file, not the PM, chooses the input, and a long one could make a
   * backtracking pattern run for minutes.
   */
  private isPseudonym(dataSet: DataSet, element: Element): boolean {
    if (!this.pseudonym || element.items || element.length > MAX_PSEUDONYM_LENGTH * 8) return false;
    const values = (dataSet.string(element.tag) ?? '').split('\\').map((v) => v.trim()).filter((v) => v.length > 0);
    return values.length > 0 && values.every((v) => v.length <= MAX_PSEUDONYM_LENGTH && this.pseudonym!.test(v));
  }
}

/** `allowed under X (113108, keep: declared in the file, not accepted by the program)`, or that no option keeps it. */
function describeOptions(options: readonly OptionStatus[]): string {
  if (options.length === 0) return 'no option keeps it';
  const each = options.map(
    (s) =>
      `${s.name} (${s.code}, ${s.action === 'K' ? 'keep' : 'clean'}: ${s.declared ? 'declared' : 'not declared'} in the file, ` +
      `${s.accepted ? 'accepted' : 'not accepted'} by the program)`,
  );
  return `allowed only under ${each.join(' or ')}`;
}

/**
 * The items of a value dicom-parser left as bytes although it is a sequence: a
 * private sequence in implicit VR, or one encoded as UN. Both are implicit VR
 * little endian inside; the value must open with an Item tag (FFFE,E000).
 * Empty when the value is not a sequence or does not parse as one.
 */
function opaqueItems(dataSet: DataSet, element: Element): DataSet[] {
  const bytes = dataSet.byteArray;
  const start = element.dataOffset;
  const end = element.hadUndefinedLength ? bytes.length : start + element.length;
  if (end > bytes.length || end - start < 8) return [];
  if (!(bytes[start] === 0xfe && bytes[start + 1] === 0xff && bytes[start + 2] === 0x00 && bytes[start + 3] === 0xe0)) return [];
  try {
    const sequence = {
      tag: element.tag,
      dataOffset: start,
      length: element.hadUndefinedLength ? UNDEFINED_LENGTH : element.length,
    } as Element;
    const stream = new dicomParser.ByteStream(dicomParser.littleEndianByteArrayParser, bytes, start);
    dicomParser.readSequenceItemsImplicit(stream, sequence);
    // Depth is judged by the walk; an item whose values run past the buffer stays opaque.
    const whole = (d: DataSet) => [undefined, DEPTH_EXCEEDED].includes(findOverrun(d, 0));
    return (sequence.items ?? []).flatMap((i) => (i.dataSet && whole(i.dataSet) ? [i.dataSet] : []));
  } catch {
    return [];
  }
}

/** CID 7050 codes (scheme DCM) in De-identification Method Code Sequence (0012,0064). */
function declaredCodes(dataSet: DataSet): Set<string> {
  const codes = new Set<string>();
  for (const item of dataSet.elements[TAG.deidentificationMethodCodeSequence]?.items ?? []) {
    const code = item.dataSet ? readText(item.dataSet, TAG.codeValue) : undefined;
    const scheme = item.dataSet ? readText(item.dataSet, TAG.codingSchemeDesignator) : undefined;
    if (code && scheme === 'DCM') codes.add(code);
  }
  return codes;
}

// ---------------------------------------------------------------- reading

class DeflatedTransferSyntaxError extends Error {
  override name = 'DeflatedTransferSyntaxError';
}

function hasDicmMarker(bytes: Uint8Array): boolean {
  return bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d; // 'DICM'
}

/** dicom-parser throws strings, Errors, or `{ exception, dataSet }`; make one sentence of any. */
function describeParseFailure(e: unknown): { ok: false; reason: string; truncated: boolean } {
  const cause = typeof e === 'object' && e !== null && 'exception' in e ? (e as { exception: unknown }).exception : e;
  if (cause instanceof DeflatedTransferSyntaxError) {
    return {
      ok: false,
      truncated: false,
      reason: `deflated transfer syntax (${DEFLATED_EXPLICIT_LE}) is not accepted; re-encode the file uncompressed`,
    };
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/missing required meta header attribute 0002,0010/.test(message)) {
    return { ok: false, truncated: false, reason: 'the file meta information has no Transfer Syntax UID (0002,0010)' };
  }
  // An item or value that claims more bytes than are left: the file ends inside it.
  if (/past end of buffer|buffer overr|cannot be greater than or equal to|eof encountered|maxP ?osition/i.test(message)) {
    return { ok: false, truncated: true, reason: 'the header is truncated: the file ends in the middle of an element' };
  }
  if (cause instanceof RangeError) {
    return { ok: false, truncated: false, reason: `the header cannot be parsed (${message})` };
  }
  return { ok: false, truncated: false, reason: `the header cannot be parsed (${message.replace(/^dicomParser[.:]\s*/, '')})` };
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
const DEPTH_EXCEEDED = 'depth';

/** The first element (outside Pixel Data) whose value would end past the buffer, as `(gggg,eeee)`; or too deep a nesting. */
function findOverrun(dataSet: DataSet, depth: number): string | undefined {
  if (depth > MAX_SEQUENCE_DEPTH) return DEPTH_EXCEEDED;
  const size = dataSet.byteArray.length;
  for (const element of Object.values(dataSet.elements)) {
    if (element.tag === TAG.pixelData) continue;
    if (element.length !== UNDEFINED_LENGTH && element.dataOffset + element.length > size) return formatTag(element.tag);
    for (const item of element.items ?? []) {
      const inner = item.dataSet ? findOverrun(item.dataSet, depth + 1) : undefined;
      if (inner) return inner;
    }
  }
  return undefined;
}

const NUL = 0x00;
const SPACE = 0x20;
const BACKSLASH = 0x5c; // separates multiple values
const CARET = 0x5e; // separates person-name components
const EQUALS = 0x3d; // separates person-name representations

/**
 * Whether an element carries a value: a sequence with at least one item, or
 * anything besides padding (space, NUL) and separators (`\`, and the
 * person-name `^` and `=`). `\` alone is two empty values; `^^^^` an empty
 * person name. Implicit VR gives no VR to tell a person name from other text,
 * so the separators count as empty everywhere; a value made of nothing else
 * identifies no one whatever its VR.
 */
function hasValue(dataSet: DataSet, element: Element): boolean {
  if (element.items) return element.items.length > 0;
  const bytes = dataSet.byteArray;
  const end = Math.min(element.dataOffset + element.length, bytes.length);
  for (let i = element.dataOffset; i < end; i++) {
    const b = bytes[i];
    if (b === NUL || b === SPACE || b === BACKSLASH || b === CARET || b === EQUALS) continue;
    return true;
  }
  return false;
}

/** A text attribute, trimmed; undefined when absent or empty. */
function readText(dataSet: DataSet, tag: string): string | undefined {
  const text = dataSet.string(tag);
  return text ? text : undefined;
}
