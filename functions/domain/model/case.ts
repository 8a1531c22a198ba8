/** Cases: one manifest row per de-identified image (study) to be labelled. */
import { z } from 'zod';
import { Identifier } from './protocol.js';

/**
 * The voxel grid of an image: dims `[nx, ny, nz]` (a 2D image has nz = 1) and
 * voxel spacing in mm. Masks must be on it; detection coordinates (mm from the
 * first voxel's corner) must lie within it.
 */
export const ImageGrid = z.strictObject({
  dims: z.tuple([z.number().int().min(1).max(65535), z.number().int().min(1).max(65535), z.number().int().min(1).max(65535)]),
  spacing: z.tuple([z.number().positive().max(1000), z.number().positive().max(1000), z.number().positive().max(1000)]),
});
export type ImageGrid = z.infer<typeof ImageGrid>;

/**
 * A PM's release of a quarantined case (functions/use-cases/quarantine.ts): it
 * overrides exactly the problems it lists, for the image it names. A problem it
 * does not list, or another image (a replacement), quarantines the case again.
 */
export const QuarantineRelease = z.strictObject({
  /** `pm:<name>`: the person who released it. */
  by: z.string().regex(/^pm:[A-Za-z0-9._@-]{1,64}$/, 'pm:<name> (letters, digits, ".", "_", "@" or "-")'),
  reason: z.string().trim().min(1).max(2000),
  at: z.iso.datetime(),
  imageKey: z.string().min(1),
  overrides: z.array(z.string()).min(1),
});
export type QuarantineRelease = z.infer<typeof QuarantineRelease>;

/**
 * A PM's explicit assignment of a pending case to a workforce (an override of
 * the shares, functions/use-cases/assignments.ts): the next round sends the case
 * there, as long as routing, the de-identification gate and the workforce's
 * qualifications, exclusions and capacity still allow it.
 */
export const CaseAssignment = z.strictObject({
  workforceId: Identifier,
  reason: z.string().trim().min(1).max(2000),
  /** `<role>:<name>`: who assigned it. */
  by: z.string().min(1).max(200),
  at: z.iso.datetime(),
});
export type CaseAssignment = z.infer<typeof CaseAssignment>;

export const Case = z.object({
  caseId: Identifier,
  /** Key of the de-identified image in the images bucket. */
  imageKey: z.string().min(1),
  /**
   * The other image objects of the case when it is a series (one DICOM file per
   * slice or frame), in the images bucket. The de-identification gate checks
   * every one, and `imageKey`.
   */
  seriesKeys: z.array(z.string().min(1)).max(5000).optional(),
  /**
   * The image's opaque key, assigned by the server at ingest (docs/blinding.md):
   * `key` (random, unlinkable to the case id) is what vendors get presigned GETs
   * for; `of` is the `imageKey` it was made for, so a replaced image is never
   * served under its predecessor's opaque key.
   */
  opaqueImage: z.strictObject({ key: z.string().min(1), of: z.string().min(1) }).optional(),
  /**
   * The image's voxel grid, where the PM's manifest gives it (a NIfTI image's
   * header gives it at dispatch otherwise). Masks and findings are checked against it.
   */
  grid: ImageGrid.optional(),
  modality: z.string().min(1),
  bodyPart: z.string().min(1),
  site: z.string().min(1),
  scanner: z.string().optional(),
  subgroup: z.record(z.string(), z.string()).default({}),
  flags: z
    .object({ sensitive: z.boolean().default(false), rare: z.boolean().default(false), complex: z.boolean().default(false) })
    .prefault({}),
  /** De-identification attestation: without it a case never reaches a vendor. */
  deidentified: z.boolean(),
  /**
   * Set by the de-identification gate at ingest: why this case may not leave
   * (identifying DICOM attributes, no attestation, unreadable header).
   */
  deidentificationFindings: z.array(z.string()).default([]),
  /**
   * An explicit attestation for an image, or part of one, the gate cannot
   * inspect (an unknown format, a NIfTI extension or JPEG segment it cannot
   * read): who vouches that it carries nothing identifying, and why. The gate
   * then lets that part pass, and ingest records it in the ledger
   * (`case.format-attested`). It covers nothing the gate can read.
   */
  uninspectedFormatAttestation: z.strictObject({ by: z.string().min(1).max(200), reason: z.string().min(1).max(2000) }).optional(),
  /** A PM's release of the case from quarantine (see {@link QuarantineRelease}). */
  quarantineRelease: QuarantineRelease.optional(),
  /** A PM's explicit assignment (see {@link CaseAssignment}); never from a manifest. */
  assignment: CaseAssignment.optional(),
  /** Workforces that must not get this case again (missed SLA, rejected batch). */
  excludedWorkforces: z.array(z.string()).default([]),
});
export type Case = z.infer<typeof Case>;
export type CaseInput = z.input<typeof Case>;

/** A reference finding (detection gold): centroid and diameter in mm. */
export const GoldFinding = z.strictObject({
  x: z.number().finite(),
  y: z.number().finite(),
  z: z.number().finite(),
  diameterMm: z.number().positive(),
  /** LUNA16 "irrelevant finding": marks on it are neither hits nor false positives. */
  excluded: z.boolean().default(false),
  id: z.string().optional(),
});
export type GoldFinding = z.infer<typeof GoldFinding>;

/**
 * An expert reference label for a case: the hidden answer of a gold item. Its
 * shape follows the protocol's task: a class name, `{ findings }`, or a
 * goldline-rle3d/1 mask document.
 */
export const GoldAnswer = z.union([
  z.string().min(1),
  z.strictObject({ findings: z.array(GoldFinding) }),
  // A goldline-rle3d/1 document (docs/mask-formats.md); runs are checked by parseRle3d.
  z.object({
    format: z.literal('goldline-rle3d/1'),
    dims: z.tuple([z.number(), z.number(), z.number()]),
    spacing: z.tuple([z.number(), z.number(), z.number()]),
    labels: z.array(z.object({ label: z.number(), runs: z.array(z.number()) })),
  }),
]);
export type GoldAnswer = z.infer<typeof GoldAnswer>;

export const GoldLabel = z.object({
  caseId: Identifier,
  label: GoldAnswer,
  expertId: z.string().min(1),
});
export type GoldLabel = z.infer<typeof GoldLabel>;
export type GoldLabelInput = z.input<typeof GoldLabel>;
