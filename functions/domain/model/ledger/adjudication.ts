/** Ledger events of adjudications (overlap disagreements and critical misses on gold). */
import { z } from 'zod';
import { ids, ledgerKind } from './base.js';

export const adjudicationEvents = [
  ledgerKind('adjudication.requested', {
    batchId: z.string(),
    cases: ids(),
    kinds: z.array(z.enum(['overlap-disagreement', 'critical-miss', 'gold-dispute'])),
  }),
  ledgerKind('adjudication.decided', {
    batchId: z.string(),
    workforceId: z.string(),
    expertId: z.string(),
    decisions: z.array(z.object({ caseId: z.string(), label: z.string(), note: z.string().optional() })),
  }),
  ledgerKind('adjudication.expired', { batchId: z.string(), cases: ids() }),
] as const;
