/** Cases: one manifest row per de-identified image (study) to be labelled. */
import { z } from 'zod';
import { Identifier } from './protocol.js';

export const Case = z.object({
  caseId: Identifier,
  /** Key of the de-identified image in the images bucket. */
  imageKey: z.string().min(1),
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
});
export type Case = z.infer<typeof Case>;
export type CaseInput = z.input<typeof Case>;

/** An expert reference label for a case: the hidden answer of a gold item. */
export const GoldLabel = z.object({
  caseId: Identifier,
  label: z.string().min(1),
  expertId: z.string().min(1),
});
export type GoldLabel = z.infer<typeof GoldLabel>;
