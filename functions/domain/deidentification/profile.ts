/**
 * DICOM PS3.15 Table E.1-1 as the gate uses it: the bundled JSON
 * (`ps3.15-table-e.1-1.json`, provenance in `README.md`) parsed with zod once,
 * at load, and indexed by tag. A table that does not parse stops the module
 * from loading: the gate never runs on a table it misread.
 */
import { z } from 'zod';
import { DEIDENTIFICATION_OPTIONS, type DeidentificationOption } from '../model/deidentification-settings.js';
import table from './ps3.15-table-e.1-1.json' with { type: 'json' };

/** Basic Profile actions that occur in the table (PS3.15 E.1.1). */
const BasicAction = z.enum(['X', 'Z', 'D', 'U', 'X/Z', 'X/D', 'X/Z/D', 'Z/D', 'X/Z/U*']);
export type BasicAction = z.infer<typeof BasicAction>;

/** Under an option: K keep, C clean (replace with values of similar meaning that identify no one). */
const OptionAction = z.enum(['K', 'C']);
export type OptionAction = z.infer<typeof OptionAction>;

/** The table's option columns, by the option they stand for. */
const OPTION_COLUMNS = {
  rtnSafePrivOpt: 'retainSafePrivate',
  rtnUIDsOpt: 'retainUids',
  rtnDevIdOpt: 'retainDeviceIdentity',
  rtnInstIdOpt: 'retainInstitutionIdentity',
  rtnPatCharsOpt: 'retainPatientCharacteristics',
  rtnLongFullDatesOpt: 'retainLongitudinalFullDates',
  rtnLongModifDatesOpt: 'retainLongitudinalModifiedDates',
  cleanDescOpt: 'cleanDescriptors',
  cleanStructContOpt: 'cleanStructuredContent',
  cleanGraphOpt: 'cleanGraphics',
} as const satisfies Record<string, DeidentificationOption>;

const PRIVATE_ROW_ID = 'ggggeeee-where-gggg-is-odd';

const TableRow = z.strictObject({
  id: z.union([z.string().regex(/^[0-9a-fx]{8}$/), z.literal(PRIVATE_ROW_ID)]),
  tag: z.string().min(1),
  name: z.string().min(1),
  stdCompIOD: z.enum(['Y', 'N']),
  basicProfile: BasicAction,
  rtnSafePrivOpt: OptionAction.optional(),
  rtnUIDsOpt: OptionAction.optional(),
  rtnDevIdOpt: OptionAction.optional(),
  rtnInstIdOpt: OptionAction.optional(),
  rtnPatCharsOpt: OptionAction.optional(),
  rtnLongFullDatesOpt: OptionAction.optional(),
  rtnLongModifDatesOpt: OptionAction.optional(),
  cleanDescOpt: OptionAction.optional(),
  cleanStructContOpt: OptionAction.optional(),
  cleanGraphOpt: OptionAction.optional(),
});

/** The action the gate enforces for a Basic Profile action: the strictest the combination allows. */
export type EnforcedAction = 'X' | 'Z' | 'D' | 'U';

/** One attribute of the profile, ready for the gate. */
export interface ProfileAttribute {
  /** dicom-parser's tag form, `xggggeeee`; `x60xx3000` for a repeating group. */
  tag: string;
  /** `(0010,0010)`, as the standard prints it. */
  displayTag: string;
  name: string;
  /** As the table gives it, e.g. `X/Z/D`. */
  basicProfile: BasicAction;
  /**
   * The strictest reading: the first letter of a combination. X (nothing left)
   * is stricter than Z (empty), Z than D (a dummy), D than U (a new UID); every
   * combination in the table lists its strictest action first.
   */
  enforced: EnforcedAction;
  /** Options under which the attribute may keep (K) or carry a cleaned (C) value. */
  options: { option: DeidentificationOption; action: OptionAction }[];
}

function toAttribute(row: z.infer<typeof TableRow>): ProfileAttribute {
  const options: ProfileAttribute['options'] = [];
  for (const [column, option] of Object.entries(OPTION_COLUMNS)) {
    const action = row[column as keyof typeof OPTION_COLUMNS];
    if (action) options.push({ option, action });
  }
  // Keep the order of the standard's option codes (113101…113112) in every message.
  options.sort((a, b) => DEIDENTIFICATION_OPTIONS[a.option].code.localeCompare(DEIDENTIFICATION_OPTIONS[b.option].code));
  return {
    tag: `x${row.id}`,
    displayTag: row.tag,
    name: row.name,
    basicProfile: row.basicProfile,
    enforced: row.basicProfile.charAt(0) as EnforcedAction,
    options,
  };
}

const rows = z.array(TableRow).min(1).parse(table);

/** Every row of the table, in the table's order (by name). */
export const PROFILE_ATTRIBUTES: readonly ProfileAttribute[] = Object.freeze(
  rows.filter((r) => r.id !== PRIVATE_ROW_ID).map(toAttribute),
);

/** The row for private attributes (odd groups): X, or C under Retain Safe Private. */
export const PRIVATE_ATTRIBUTES: ProfileAttribute = (() => {
  const row = rows.find((r) => r.id === PRIVATE_ROW_ID);
  if (!row) throw new Error('PS3.15 Table E.1-1 has no row for private attributes');
  return { ...toAttribute(row), tag: 'xggggeeee', displayTag: '(gggg,eeee), gggg odd' };
})();

const BY_TAG: ReadonlyMap<string, ProfileAttribute> = new Map(
  PROFILE_ATTRIBUTES.filter((a) => !a.tag.includes('x', 1)).map((a) => [a.tag, a]),
);

/** Rows of repeating groups (`50xx`, `60xx`), as patterns over dicom-parser tags. */
const REPEATING: readonly { pattern: RegExp; attribute: ProfileAttribute }[] = PROFILE_ATTRIBUTES.filter((a) =>
  a.tag.includes('x', 1),
).map((attribute) => ({
  pattern: new RegExp(`^x${attribute.tag.slice(1).replace(/x/g, '[0-9a-f]')}$`),
  attribute,
}));

/**
 * The profile's row for a tag (dicom-parser form, `xggggeeee`), if it has one.
 * Private tags are answered by {@link isPrivateTag} and {@link PRIVATE_ATTRIBUTES}.
 *
 * @example profileAttribute('x00100010')?.basicProfile // 'Z'
 */
export function profileAttribute(tag: string): ProfileAttribute | undefined {
  return BY_TAG.get(tag) ?? REPEATING.find((r) => r.pattern.test(tag))?.attribute;
}

/**
 * A tag of an odd group: private (PS3.5 §7.8).
 *
 * @example isPrivateTag('x00091001') // true
 */
export function isPrivateTag(tag: string): boolean {
  return Number.parseInt(tag.slice(4, 5), 16) % 2 === 1;
}
