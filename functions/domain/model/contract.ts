/**
 * Contracts: what Goldline pays a workforce for work on one protocol, and what
 * it deducts. Versioned like protocols: a version is never changed, an
 * amendment is a new version with its own validity. Every version is a ledger
 * event (`contract.registered`, `contract.amended`); the ledger is the only store.
 *
 * Money is in integer minor units (cents of `currency`), never floating point.
 * The one division (a share withheld on rejection) is in basis points and
 * rounds half up to the cent, once per batch line (functions/domain/contracts.ts).
 */
import { z } from 'zod';
import { Identifier } from './protocol.js';

/** An amount in minor units (cents): a non-negative integer. */
export const Cents = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER / 10_000);
export type Cents = z.infer<typeof Cents>;

/** What a rejected batch costs the workforce. */
export const RejectionRule = z.discriminatedUnion('rule', [
  /** A share of the batch's price is withheld, in basis points (10000 = the whole price: today's default). */
  z.strictObject({ rule: z.literal('withhold-share'), basisPoints: z.number().int().min(0).max(10_000) }),
  /** A fixed amount per item of the batch is withheld, at most the batch's price. */
  z.strictObject({ rule: z.literal('withhold-per-item'), centsPerItem: Cents }),
]);
export type RejectionRule = z.infer<typeof RejectionRule>;

export const ContractTerms = z.strictObject({
  /** ISO 4217 code; every amount of the contract is in its minor unit. */
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD')
    .default('USD'),
  /** Paid per item of an accepted batch (gold included: the workforce cannot tell gold from work). */
  pricePerAcceptedCaseCents: Cents,
  /** Paid instead, per case that is a re-do: work another batch did not deliver (rejected, overdue or failed before). */
  pricePerReworkCents: Cents,
  /** The contract's delivery time, from dispatch to the accepted upload. A batch delivered later is late. */
  slaHours: z.number().positive().max(24 * 365),
  /** Service credits: deducted per late batch and per late day started (a batch never delivered counts its days to closing). */
  lateCredit: z.strictObject({ perLateBatchCents: Cents.default(0), perLateDayCents: Cents.default(0) }).default({
    perLateBatchCents: 0,
    perLateDayCents: 0,
  }),
  rejection: RejectionRule,
});
export type ContractTerms = z.infer<typeof ContractTerms>;
export type ContractTermsInput = z.input<typeof ContractTerms>;

/** `<workforceId>.<protocolId>`: one contract per workforce and protocol, amended by versions. */
export const ContractId = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}\.[a-z0-9][a-z0-9._-]{0,63}$/, '<workforceId>.<protocolId>');

export const Contract = z
  .strictObject({
    contractId: ContractId,
    workforceId: Identifier,
    protocolId: Identifier,
    version: z.number().int().min(1),
    /** Work dispatched at or after this instant is paid under this version (until a later version starts). */
    validFrom: z.iso.datetime(),
    /** Work dispatched at or after this instant is outside the contract (absent: open-ended). */
    validTo: z.iso.datetime().optional(),
    terms: ContractTerms,
    /** `workforce-terms`: version 1 made from a workforce's terms when contracts arrived (the migration). */
    origin: z.enum(['registered', 'amended', 'workforce-terms']),
  })
  .refine((c) => c.validTo === undefined || Date.parse(c.validTo) > Date.parse(c.validFrom), {
    message: 'validTo must be after validFrom',
    path: ['validTo'],
  })
  .refine((c) => c.contractId === contractIdOf(c.workforceId, c.protocolId), {
    message: 'contractId must be <workforceId>.<protocolId>',
    path: ['contractId'],
  });
export type Contract = z.infer<typeof Contract>;

/** `id@version`, as batches and statements name the contract they ran under. */
export const ContractRef = z.string().regex(/^[a-z0-9][a-z0-9._-]*@\d+$/);

/** @example contractIdOf('vendor-a', 'chest-xray') // 'vendor-a.chest-xray' */
export function contractIdOf(workforceId: string, protocolId: string): string {
  return `${workforceId}.${protocolId}`;
}
