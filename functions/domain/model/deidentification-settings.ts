/**
 * What a program accepts from a de-identifier: the PS3.15 Annex E options
 * (E.3) under which a file may keep or clean what the Basic Profile removes,
 * and the form re-generated UIDs must have. A protocol's `deidentification`
 * block; the gate reads it at ingest.
 */
import { z } from 'zod';

/**
 * The options of PS3.15 Annex E, by the code a de-identified file declares in
 * De-identification Method Code Sequence (0012,0064) (DICOM CID 7050, scheme DCM).
 */
export const DEIDENTIFICATION_OPTIONS = {
  cleanPixelData: { code: '113101', name: 'Clean Pixel Data Option' },
  cleanRecognizableVisualFeatures: { code: '113102', name: 'Clean Recognizable Visual Features Option' },
  cleanGraphics: { code: '113103', name: 'Clean Graphics Option' },
  cleanStructuredContent: { code: '113104', name: 'Clean Structured Content Option' },
  cleanDescriptors: { code: '113105', name: 'Clean Descriptors Option' },
  retainLongitudinalFullDates: { code: '113106', name: 'Retain Longitudinal Temporal Information With Full Dates Option' },
  retainLongitudinalModifiedDates: {
    code: '113107',
    name: 'Retain Longitudinal Temporal Information With Modified Dates Option',
  },
  retainPatientCharacteristics: { code: '113108', name: 'Retain Patient Characteristics Option' },
  retainDeviceIdentity: { code: '113109', name: 'Retain Device Identity Option' },
  retainUids: { code: '113110', name: 'Retain UIDs Option' },
  retainSafePrivate: { code: '113111', name: 'Retain Safe Private Option' },
  retainInstitutionIdentity: { code: '113112', name: 'Retain Institution Identity Option' },
} as const;

export type DeidentificationOption = keyof typeof DEIDENTIFICATION_OPTIONS;

export const DeidentificationOption = z.enum(
  Object.keys(DEIDENTIFICATION_OPTIONS) as [DeidentificationOption, ...DeidentificationOption[]],
);

/** A UID root: dotted decimal components without leading zeros, ending with a dot (`2.25.`, `1.2.826.0.1.3680043.10.`). */
const UidRoot = z
  .string()
  .regex(/^(0|[1-9]\d*)(\.(0|[1-9]\d*))*\.$/, 'a UID root: digits and dots, ending with "." (e.g. "2.25.")')
  .max(60);

export const DeidentificationSettings = z.strictObject({
  /**
   * Annex E options the program accepts (default none: the Basic Profile
   * only). An attribute an option keeps passes only when the file declares that
   * option in (0012,0064) AND it is listed here.
   */
  acceptedOptions: z.array(DeidentificationOption).default([]),
  /**
   * When set, every UID the profile re-generates (action U) must lie under
   * this root, unless the file declares, and the program accepts, Retain UIDs.
   */
  requireRegeneratedUids: z.strictObject({ root: UidRoot }).optional(),
  /**
   * A pattern (regular expression, matched against the whole value) for the
   * pseudonyms the program's de-identifier writes, e.g. `^LIDC-IDRI-\d{4}$`. A
   * value of an attribute the profile empties or replaces with a dummy (Z, D)
   * passes when it matches; without a pattern a Z attribute must be empty.
   */
  pseudonymPattern: z
    .string()
    .min(1)
    .max(200)
    .refine((p) => {
      try {
        new RegExp(p, 'u');
        return true;
      } catch {
        return false;
      }
    }, 'not a valid regular expression')
    .optional(),
});
export type DeidentificationSettings = z.infer<typeof DeidentificationSettings>;
export type DeidentificationSettingsInput = z.input<typeof DeidentificationSettings>;
