/**
 * Judging a parsed DICOM header against PS3.15 Table E.1-1 and the program's
 * settings (../deidentification.ts): each attribute the profile removes, empties
 * or replaces, private groups, UIDs not regenerated, and the pixel flags — with
 * the options that would allow each and where the file and the program stand.
 */
import type { DataSet, Element } from 'dicom-parser';
import {
  DEIDENTIFICATION_OPTIONS,
  type DeidentificationOption,
  type DeidentificationSettings,
} from '../model/deidentification-settings.js';
import { BASIC_PROFILE_CODE, MAX_SEQUENCE_DEPTH, TAG, formatTag, hasValue, opaqueItems } from './dicom-reading.js';
import type { GateFinding } from './finding.js';
import { type ProfileAttribute, PRIVATE_ATTRIBUTES, isPrivateTag, profileAttribute } from './profile.js';

/** The longest value the gate tries as a pseudonym (a PN component group is at most 64 characters). */
export const MAX_PSEUDONYM_LENGTH = 64;

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

const ACTION_WORDS = {
  X: 'remove it',
  Z: 'empty it',
  D: 'replace it with a dummy',
  U: 'replace it with a new UID',
} as const;

/** Walks a data set and collects findings: each attribute reported once, wherever it first fails. */
export class Judge {
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
