/**
 * A protocol's `qualification` section (issue 13): before production work on a
 * protocol version, a workforce must pass a gold-only exam batch (or hold a PM's
 * waiver). A document without the section gates nothing — every workforce is
 * eligible, as before the section existed (docs/vendor-management.md, Exams).
 */
import { z } from 'zod';

export const ProtocolQualification = z.strictObject({
  /** Who must qualify before production work: vendors only (default), or internal teams too. */
  required: z.enum(['vendors', 'all']).default('vendors'),
  /**
   * Gold items per exam attempt. Omitted: the acceptance plan's single-plan n
   * (or the SPRT's truncation when no single plan fits).
   */
  examItems: z.number().int().min(1).max(1000).optional(),
});
export type ProtocolQualification = z.output<typeof ProtocolQualification>;

/** What an exam attempt came to. `void`: the lifecycle failed (not the workforce's doing): a new attempt may start. */
export const ExamOutcome = z.enum(['passed', 'failed', 'inconclusive', 'void']);
export type ExamOutcome = z.infer<typeof ExamOutcome>;
