/** Ledger events of contracts (every version) and of issued statements. */
import { z } from 'zod';
import { Cents, ContractId, ContractTerms } from '../contract.js';
import { count, ledgerKind } from './base.js';

const version = {
  contractId: ContractId,
  workforceId: z.string(),
  protocolId: z.string(),
  version: z.number().int().min(1),
  validFrom: z.iso.datetime(),
  validTo: z.iso.datetime().optional(),
  terms: ContractTerms,
};

export const contractEvents = [
  /** Version 1. `origin: workforce-terms`: made from the workforce's terms (the migration to contracts). */
  ledgerKind('contract.registered', { ...version, origin: z.enum(['registered', 'workforce-terms']) }),
  /** A later version; `changed` names the terms (and validity fields) that differ from `previousVersion`. */
  ledgerKind('contract.amended', { ...version, previousVersion: z.number().int().min(1), changed: z.array(z.string()) }),
  /** A statement generated and stored: what it totals and the ledger event it was folded up to. */
  ledgerKind('statement.issued', {
    statementId: z.string(),
    workforceId: z.string(),
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    /** Where the statement is stored (exports bucket) and its SHA-256. */
    key: z.string(),
    sha256: z.string(),
    currency: z.string(),
    /** Billed total: may be negative (credits exceeding the work delivered). */
    totalCents: z.number().int(),
    pendingCents: Cents,
    lines: count(),
    /** How many events (in ledger time order) the statement folded, the last one's hash, and the frontier (last seq per chain) that selects them again: recomputing within it gives the same statement. */
    anchor: z.object({ seq: count(), hash: z.string(), frontier: z.record(z.string(), count()).optional() }),
  }),
] as const;
