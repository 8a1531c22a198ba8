/** Ledger events of dataset releases and exports (shapes fixed by the issue-10 design). */
import { z } from 'zod';
import { count, ledgerKind } from './base.js';

export const releaseEvents = [
  ledgerKind('release.created', {
    releaseId: z.string(),
    protocolId: z.string(),
    version: z.number().int(),
    labels: count(),
    manifestKey: z.string(),
    manifestSha256: z.string(),
    /** The ledger's last event when the release was made: an anchor `release verify` checks. */
    /** The ledger's head when the release was cut (a sharded ledger's: every chain's head, `heads`; ledger-chain.ts ChainAnchor). */
    ledgerHead: z.object({
      seq: z.number().int(),
      hash: z.string(),
      heads: z.array(z.object({ chain: z.string(), seq: z.number().int(), hash: z.string() })).optional(),
    }),
  }),
  ledgerKind('export.created', {
    /** What was exported: 'labels', 'scorecards', 'dossier', … */
    what: z.string(),
    key: z.string().optional(),
    sha256: z.string(),
    rows: count(),
    releaseId: z.string().optional(),
  }),
] as const;
