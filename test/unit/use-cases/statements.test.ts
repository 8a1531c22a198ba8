/** Contracts and statements use cases over the fakes: crash and retry, racing amendments, the migration once, the recompute check catching a change. */
import { describe, expect, it, vi } from 'vitest';
import { amendContract, registerContract, settleUnderContract } from '../../../functions/use-cases/contracts.js';
import type { BatchRecord } from '../../../functions/use-cases/ports.js';
import { issueStatement, recomputeStatements } from '../../../functions/use-cases/statements.js';
import { type FakeDeps, T0, makeFakeDeps, makeLedgerEvent, makeProtocol, makeWorkforce } from '../fakes.js';
import { sampleData } from '../ledger-samples.js';

const P = 'prog-1';
const PERIOD = { from: '2025-03-01T00:00:00.000Z', to: '2025-04-01T00:00:00.000Z' };
const terms = { pricePerAcceptedCaseCents: 50, pricePerReworkCents: 40, slaHours: 24, rejection: { rule: 'withhold-share' as const, basisPoints: 10_000 } };

async function program(): Promise<FakeDeps> {
  const deps = makeFakeDeps();
  await deps.repo.putProtocolVersion(makeProtocol());
  for (const w of ['vendor-a', 'vendor-b']) await deps.repo.putWorkforce(P, makeWorkforce(w, { pricePerCase: 1.15 }));
  await deps.repo.appendLedger(
    makeLedgerEvent({ eventId: 'b1:dispatched', type: 'batch.dispatched', subject: 'b1', at: T0, data: { workforceId: 'vendor-a', items: 20, gold: 2, caseIds: ['c1'] } }),
  );
  // Settled before contracts: a statement shows the charge it recorded ($31.50).
  await deps.repo.appendLedger(makeLedgerEvent({ eventId: 'b1:accepted', type: 'batch.accepted', subject: 'b1', at: T0, data: { ...sampleData('batch.accepted'), items: 20 } }));
  return deps;
}

const batch = (over: Partial<BatchRecord> = {}): BatchRecord => ({
  batchId: 'b1',
  programId: P,
  round: 1,
  protocol: 'chest-xray@1',
  workforceId: 'vendor-a',
  workforceKind: 'vendor',
  itemCount: 20,
  goldCount: 2,
  slaHours: 48,
  status: 'submitted',
  createdAt: T0,
  ...over,
});

describe('Use case: issueStatement', () => {
  it('finishes an issue that crashed after storing the statement: one event, with the anchor stored first', async () => {
    const deps = await program();
    const append = deps.repo.appendLedger.bind(deps.repo);
    const spy = vi.spyOn(deps.repo, 'appendLedger').mockImplementationOnce(async () => {
      throw new Error('ProvisionedThroughputExceededException');
    });
    await expect(issueStatement(deps, { programId: P, workforceId: 'vendor-a', ...PERIOD, actor: 'pm:alice' })).rejects.toThrow(/Throughput/);
    spy.mockImplementation(append);
    // Something else is recorded meanwhile: the retry keeps the anchor of the stored object.
    await append(makeLedgerEvent({ eventId: 'other', type: 'shares.approved', subject: 'r2', at: T0 }));
    const r = await issueStatement(deps, { programId: P, workforceId: 'vendor-a', ...PERIOD, actor: 'pm:alice' });
    expect(r.created).toBe(true);
    expect(r.issued.data.anchor.seq).toBe(2);
    const again = await issueStatement(deps, { programId: P, workforceId: 'vendor-a', ...PERIOD, actor: 'pm:alice' });
    expect(again).toMatchObject({ created: false });
    expect((await deps.repo.listLedger(P)).filter((e) => e.type === 'statement.issued')).toHaveLength(1);
    expect(await recomputeStatements(deps, P)).toEqual([expect.objectContaining({ hashMatches: true, recomputedMatches: true, storedTotalCents: 3150 })]);
  });

  it('refuses a workforce the program does not have, naming it', async () => {
    const deps = await program();
    await expect(issueStatement(deps, { programId: P, workforceId: 'vendor-z', ...PERIOD, actor: 'pm:alice' })).rejects.toThrow('workforce vendor-z is not registered in program prog-1');
  });
});

describe('Use case: recomputeStatements', () => {
  it('says when a stored statement no longer matches its recorded SHA-256 or the ledger', async () => {
    const deps = await program();
    const { issued } = await issueStatement(deps, { programId: P, workforceId: 'vendor-a', ...PERIOD, actor: 'pm:alice' });
    const key = `${deps.buckets.exports}/${issued.data.key}`;
    const stored = JSON.parse(new TextDecoder().decode(deps.objects.objects.get(key)!));
    stored.statement.totals.totalCents += 1;
    await deps.objects.putBytes(deps.buckets.exports, issued.data.key, new TextEncoder().encode(JSON.stringify(stored)), 'application/json');
    expect(await recomputeStatements(deps, P)).toEqual([expect.objectContaining({ hashMatches: false, recomputedMatches: false, storedTotalCents: 3151, recomputedTotalCents: 3150 })]);
  });
});

describe('Use case: contracts', () => {
  it('lets one of two amendments racing for the same version win; the other is told to read and amend again', async () => {
    const deps = await program();
    await registerContract(deps, { programId: P, workforceId: 'vendor-a', protocolId: 'chest-xray', validFrom: PERIOD.from, terms, actor: 'pm:alice' });
    const [a, b] = await Promise.allSettled([
      amendContract(deps, { programId: P, contractId: 'vendor-a.chest-xray', validFrom: PERIOD.to, terms: { pricePerAcceptedCaseCents: 55 }, actor: 'pm:alice', reason: 'review' }),
      amendContract(deps, { programId: P, contractId: 'vendor-a.chest-xray', validFrom: PERIOD.to, terms: { pricePerAcceptedCaseCents: 60 }, actor: 'pm:bob', reason: 'review' }),
    ]);
    expect([a.status, b.status].sort()).toEqual(['fulfilled', 'rejected']);
    const lost = [a, b].find((x) => x.status === 'rejected') as PromiseRejectedResult;
    expect(String(lost.reason)).toMatch(/vendor-a\.chest-xray@2 was written by another amendment first/);
    expect((await deps.repo.listLedger(P)).filter((e) => e.type === 'contract.amended')).toHaveLength(1);
  });

  it('prices a re-done case at the rework price, from the dispatch and the earlier rejection in the ledger, and reads delivery from the accepted upload', async () => {
    const deps = makeFakeDeps();
    await deps.repo.putWorkforce(P, makeWorkforce('vendor-a'));
    await registerContract(deps, { programId: P, workforceId: 'vendor-a', protocolId: 'chest-xray', validFrom: '2025-01-01T00:00:00.000Z', terms, actor: 'pm:alice' });
    const at = (h: number) => new Date(Date.parse(T0) + h * 3_600_000).toISOString();
    for (const e of [
      makeLedgerEvent({ eventId: 'b0:dispatched', type: 'batch.dispatched', subject: 'b0', at: at(0), data: { workforceId: 'vendor-b', items: 10, gold: 2, caseIds: ['c1', 'c2'] } }),
      makeLedgerEvent({ eventId: 'b0:rejected', type: 'batch.rejected', subject: 'b0', at: at(1), data: { ...sampleData('batch.rejected'), items: 10 } }),
      makeLedgerEvent({ eventId: 'b1:dispatched', type: 'batch.dispatched', subject: 'b1', at: at(2), data: { workforceId: 'vendor-a', items: 20, gold: 2, caseIds: ['c1', 'c3'] } }),
      // Delivered 25 h after dispatch: late against the 24 h contract, which has no credits.
      makeLedgerEvent({ eventId: 'b1:submission:u1:accepted', type: 'submission.accepted', subject: 'b1', at: at(27), data: sampleData('submission.accepted') }),
    ]) {
      await deps.repo.appendLedger(e);
    }
    const { line } = await settleUnderContract(deps, batch({ acceptedUploadId: 'u1' }), 'accepted');
    expect(line).toMatchObject({ grossCents: 19 * 50 + 40, creditCents: 0, amountCents: 19 * 50 + 40 });
    expect(line.rule).toBe('accepted: 19 × $0.50 + 1 rework × $0.40 = $9.90 → $9.90 (vendor-a.chest-xray@1)');
  });

  it('records version 1 from the workforce terms once, however many settlements need it at the same time', async () => {
    const deps = await program();
    const lines = await Promise.all([settleUnderContract(deps, batch(), 'accepted'), settleUnderContract(deps, batch(), 'rejected')]);
    expect(lines.map((l) => l.line.amountCents)).toEqual([20 * 115, 0]);
    const v1 = (await deps.repo.listLedger(P)).filter((e) => e.type === 'contract.registered');
    expect(v1).toHaveLength(1);
    expect(v1[0]).toMatchObject({ actor: 'migration', data: { origin: 'workforce-terms', contractId: 'vendor-a.chest-xray', version: 1 } });
  });
});
