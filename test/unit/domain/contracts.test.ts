import { describe, expect, it } from 'vitest';
import {
  type Contract,
  Contract as ContractSchema,
  contractFromWorkforceTerms,
  contractInForce,
  latenessOf,
  settlementLine,
  toCents,
  withheldShare,
} from '../../../functions/domain/index.js';

const terms = {
  currency: 'USD',
  pricePerAcceptedCaseCents: 50,
  pricePerReworkCents: 40,
  slaHours: 24,
  lateCredit: { perLateBatchCents: 500, perLateDayCents: 100 },
  rejection: { rule: 'withhold-share' as const, basisPoints: 10_000 },
};
const contract = (over: Partial<Contract> = {}): Contract =>
  ContractSchema.parse({
    contractId: 'vendor-a.chest-xray',
    workforceId: 'vendor-a',
    protocolId: 'chest-xray',
    version: 1,
    validFrom: '2026-11-01T00:00:00.000Z',
    terms,
    origin: 'registered',
    ...over,
  });
const onTime = latenessOf(terms, '2026-11-02T00:00:00.000Z', '2026-11-02T10:00:00.000Z');

describe('Domain: contracts', () => {
  describe('Function: settlementLine', () => {
    it('pays every item of an accepted batch at the price, re-dos at the rework price, in cents', () => {
      const line = settlementLine(contract(), { outcome: 'accepted', items: 63, reworkItems: 3 }, onTime);
      expect(line).toMatchObject({ grossCents: 60 * 50 + 3 * 40, penaltyCents: 0, creditCents: 0, amountCents: 3120, billed: true, contract: 'vendor-a.chest-xray@1' });
      expect(line.rule).toBe('accepted: 60 × $0.50 + 3 rework × $0.40 = $31.20 → $31.20 (vendor-a.chest-xray@1)');
    });

    it('withholds a share of a rejected batch rounded half up to the cent', () => {
      const c = contract({ terms: { ...terms, pricePerAcceptedCaseCents: 7, rejection: { rule: 'withhold-share', basisPoints: 2_500 } } });
      // 5 items × 7 cents = 35; 25% = 8.75 → 9 cents withheld.
      const line = settlementLine(c, { outcome: 'rejected', items: 5, reworkItems: 0 }, onTime);
      expect(line).toMatchObject({ grossCents: 35, penaltyCents: 9, amountCents: 26 });
      expect(line.rule).toBe('rejected: 5 × $0.07 = $0.35; withheld on rejection: 25% = $0.09 → $0.26 (vendor-a.chest-xray@1)');
      expect(withheldShare(1, 5_000)).toBe(1); // half a cent rounds up
      expect(withheldShare(1, 4_999)).toBe(0);
    });

    it('withholds a fixed amount per item, never more than the batch price', () => {
      const c = contract({ terms: { ...terms, rejection: { rule: 'withhold-per-item', centsPerItem: 80 } } });
      const line = settlementLine(c, { outcome: 'rejected', items: 10, reworkItems: 0 }, onTime);
      expect(line).toMatchObject({ grossCents: 500, penaltyCents: 500, amountCents: 0 });
      expect(line.rule).toContain('(capped at the price)');
    });

    it('deducts the late credit per batch and per day started, capped at what the line pays', () => {
      const late = latenessOf(terms, '2026-11-02T00:00:00.000Z', '2026-11-03T00:01:00.000Z'); // 1 minute past 24 h
      expect(late).toMatchObject({ late: true, lateDays: 1, deadline: '2026-11-03T00:00:00.000Z' });
      const line = settlementLine(contract(), { outcome: 'accepted', items: 20, reworkItems: 0 }, late);
      expect(line).toMatchObject({ grossCents: 1000, creditCents: 600, amountCents: 400 });
      const small = settlementLine(contract(), { outcome: 'accepted', items: 2, reworkItems: 0 }, late);
      expect(small).toMatchObject({ grossCents: 100, creditCents: 100, amountCents: 0 });
      expect(small.rule).toContain('capped at $1.00');
    });

    it('charges an undelivered (overdue) batch its credit as a negative line with at least one late day', () => {
      const line = settlementLine(contract(), { outcome: 'overdue', items: 20, reworkItems: 0 }, onTime);
      expect(line).toMatchObject({ grossCents: 0, creditCents: 600, amountCents: -600, billed: true });
    });

    it('bills nothing for a pending (inconclusive) batch and shows its gross', () => {
      const line = settlementLine(contract(), { outcome: 'pending', items: 20, reworkItems: 0 }, onTime);
      expect(line).toMatchObject({ grossCents: 1000, amountCents: 0, billed: false });
    });
  });

  describe('Function: contractInForce', () => {
    const v1 = contract();
    const v2 = contract({ version: 2, validFrom: '2026-12-01T00:00:00.000Z', validTo: '2027-01-01T00:00:00.000Z', origin: 'amended' });
    it('picks the highest version started at the dispatch time', () => {
      expect(contractInForce([v1, v2], 'vendor-a', 'chest-xray', '2026-11-15T00:00:00.000Z')?.contract.version).toBe(1);
      expect(contractInForce([v1, v2], 'vendor-a', 'chest-xray', '2026-12-15T00:00:00.000Z')?.contract.version).toBe(2);
    });
    it('covers work before the first version with version 1, and says when a contract has expired', () => {
      expect(contractInForce([v1, v2], 'vendor-a', 'chest-xray', '2026-10-01T00:00:00.000Z')?.contract.version).toBe(1);
      expect(contractInForce([v1, v2], 'vendor-a', 'chest-xray', '2027-02-01T00:00:00.000Z')).toMatchObject({ expired: true });
      expect(contractInForce([v1], 'vendor-b', 'chest-xray', '2026-11-15T00:00:00.000Z')).toBeUndefined();
    });
  });

  describe('Migration: contractFromWorkforceTerms', () => {
    it('turns dollar terms into cents by decimal rounding and the protocol penalty into basis points', () => {
      expect(toCents(0.285)).toBe(29);
      expect(toCents(1.5)).toBe(150);
      const c = contractFromWorkforceTerms({ workforceId: 'vendor-b', protocolId: 'chest-xray', pricePerCase: 1.15, slaHours: 48, rejectionPenalty: 1, validFrom: '2026-11-01T00:00:00.000Z' });
      expect(ContractSchema.parse(c)).toEqual(c);
      expect(c.terms).toMatchObject({ pricePerAcceptedCaseCents: 115, pricePerReworkCents: 115, rejection: { rule: 'withhold-share', basisPoints: 10_000 } });
      // What settlement paid before contracts: 62 items × $1.15 = $71.30, nothing when rejected.
      expect(settlementLine(c, { outcome: 'accepted', items: 62, reworkItems: 0 }, onTime).amountCents).toBe(7130);
      expect(settlementLine(c, { outcome: 'rejected', items: 62, reworkItems: 0 }, onTime).amountCents).toBe(0);
    });
  });

  describe('Schema: Contract', () => {
    it('refuses fractional cents, a validity that ends before it starts and a contract id that does not name the pair', () => {
      expect(ContractSchema.safeParse({ ...contract(), terms: { ...terms, pricePerAcceptedCaseCents: 0.5 } }).success).toBe(false);
      const r = ContractSchema.safeParse({ ...contract(), validTo: '2026-10-01T00:00:00.000Z' });
      expect(r.error?.issues[0].path).toEqual(['validTo']);
      expect(ContractSchema.safeParse({ ...contract(), contractId: 'vendor-b.chest-xray' }).error?.issues[0].path).toEqual(['contractId']);
    });
  });
});
