/** Contract and statement routes over the in-memory fakes: versions, refusals, a vendor's own statements only, CSV, issue and read back. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiApp, createApi } from '../../../functions/api/app.js';
import { STATEMENT_CSV_HEADER } from '../../../functions/domain/index.js';
import { type LocalIssuer, startIssuer } from '../../../infra/local/issuer.js';
import { type FakeDeps, makeFakeDeps, makeLedgerEvent, makeWorkforce } from '../fakes.js';
import { sampleData } from '../ledger-samples.js';

const P = 'prog-1';
const PERIOD = 'from=2025-03-01T00:00:00.000Z&to=2025-04-01T00:00:00.000Z';
const terms = {
  pricePerAcceptedCaseCents: 50,
  pricePerReworkCents: 40,
  slaHours: 24,
  lateCredit: { perLateBatchCents: 500, perLateDayCents: 100 },
  rejection: { rule: 'withhold-share', basisPoints: 10_000 },
};

describe('API: contract and statement routes', () => {
  let issuer: LocalIssuer;
  let deps: FakeDeps;
  let app: ApiApp;
  const token: Record<string, string> = {};
  beforeAll(async () => {
    issuer = await startIssuer();
    deps = makeFakeDeps();
    app = createApi({ deps, auth: issuer.config, log: () => undefined });
    for (const u of ['pm', 'qa', 'vendor-a', 'vendor-b']) token[u] = await issuer.issueToken(u);
    for (const w of ['vendor-a', 'vendor-b']) await deps.repo.putWorkforce(P, makeWorkforce(w));
    // One accepted batch of vendor-a, dispatched and delivered on 2025-03-02.
    for (const e of [
      makeLedgerEvent({ eventId: 'b1:dispatched', type: 'batch.dispatched', subject: 'b1', at: '2025-03-02T00:00:00.000Z', data: { workforceId: 'vendor-a', items: 20, gold: 2, caseIds: ['c1'] } }),
      makeLedgerEvent({ eventId: 'b1:submission', type: 'submission.accepted', subject: 'b1', at: '2025-03-02T05:00:00.000Z', data: sampleData('submission.accepted') }),
      makeLedgerEvent({ eventId: 'b1:accepted', type: 'batch.accepted', subject: 'b1', at: '2025-03-02T06:00:00.000Z', data: { ...sampleData('batch.accepted'), items: 20 } }),
    ]) {
      await deps.repo.appendLedger(e);
    }
  });
  afterAll(() => issuer?.close());

  const send = (who: string, method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { authorization: `Bearer ${token[who]}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('registers version 1 of a contract; the same terms again are a 200 no-op and other terms a 409', async () => {
    const body = { workforceId: 'vendor-a', protocolId: 'chest-xray', validFrom: '2025-03-01T00:00:00.000Z', terms };
    const first = await send('pm', 'POST', `/v1/programs/${P}/contracts`, body);
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ created: true, contract: { contractId: 'vendor-a.chest-xray', version: 1, terms: { currency: 'USD' } } });
    expect((await send('pm', 'POST', `/v1/programs/${P}/contracts`, body)).status).toBe(200);
    const other = await send('pm', 'POST', `/v1/programs/${P}/contracts`, { ...body, terms: { ...terms, slaHours: 12 } });
    expect(other.status).toBe(409);
    expect(((await other.json()) as { detail: string }).detail).toMatch(/amend it/);
  });

  it('refuses fractional cents naming the field, and an amendment that changes nothing', async () => {
    const r = await send('pm', 'POST', `/v1/programs/${P}/contracts`, { workforceId: 'vendor-b', protocolId: 'chest-xray', validFrom: '2025-03-01T00:00:00.000Z', terms: { ...terms, pricePerAcceptedCaseCents: 0.5 } });
    expect(r.status).toBe(400);
    expect(JSON.stringify(await r.json())).toContain('pricePerAcceptedCaseCents');
    const same = await send('pm', 'POST', `/v1/programs/${P}/contracts/vendor-a.chest-xray/amendments`, { validFrom: '2025-03-01T00:00:00.000Z', terms: {}, reason: 'nothing' });
    expect(same.status).toBe(400);
  });

  it('amends a contract into version 2 valid from a later date, recorded in the ledger with what changed', async () => {
    const r = await send('pm', 'POST', `/v1/programs/${P}/contracts/vendor-a.chest-xray/amendments`, {
      validFrom: '2025-06-01T00:00:00.000Z',
      terms: { pricePerAcceptedCaseCents: 55 },
      reason: 'price review',
    });
    expect(r.status).toBe(201);
    const list = (await (await send('qa', 'GET', `/v1/programs/${P}/contracts?workforceId=vendor-a`)).json()) as { items: { version: number }[] };
    expect(list.items.map((c) => c.version)).toEqual([1, 2]);
    const amended = (await deps.repo.listLedger(P)).find((e) => e.type === 'contract.amended');
    expect(amended?.data).toMatchObject({ version: 2, previousVersion: 1, changed: ['pricePerAcceptedCaseCents', 'validFrom'] });
    expect(amended?.actor).toBe('pm:alice');
  });

  it("gives a vendor its own statement (its workforce from its token) and refuses the program routes to a vendor, whatever workforce it names", async () => {
    const own = await send('vendor-a', 'GET', `/v1/statements?programId=${P}&${PERIOD}`);
    expect(own.status).toBe(200);
    // Dispatched under version 1 (the amendment starts in June): 20 × $0.50.
    expect(await own.json()).toMatchObject({ workforceId: 'vendor-a', totals: { totalCents: 1000 }, lines: [{ batchId: 'b1', contract: 'vendor-a.chest-xray@1' }] });
    const other = await send('vendor-b', 'GET', `/v1/statements?programId=${P}&${PERIOD}`);
    expect(await other.json()).toMatchObject({ workforceId: 'vendor-b', lines: [], totals: { totalCents: 0 } });
    // The program routes answer a vendor by role (403), the same for another vendor, itself, or a workforce that does not exist.
    const bodies = [];
    for (const w of ['vendor-a', 'vendor-b', 'vendor-zz']) {
      const r = await send('vendor-b', 'GET', `/v1/programs/${P}/workforces/${w}/statement?${PERIOD}`);
      expect(r.status).toBe(403);
      bodies.push(await r.text());
    }
    expect(new Set(bodies).size).toBe(1);
    expect((await send('pm', 'GET', `/v1/programs/${P}/workforces/vendor-b/statement?${PERIOD}`)).status).toBe(200);
    expect((await send('pm', 'GET', `/v1/programs/${P}/workforces/vendor-zz/statement?${PERIOD}`)).status).toBe(404);
  });

  it('refuses a period that ends before it starts with a 400 naming it', async () => {
    const r = await send('pm', 'GET', `/v1/programs/${P}/workforces/vendor-a/statement?from=2025-04-01T00:00:00.000Z&to=2025-03-01T00:00:00.000Z`);
    expect(r.status).toBe(400);
    expect(await r.text()).toContain('to must be after from');
  });

  it('exports the statement as CSV with the stable header', async () => {
    const r = await send('pm', 'GET', `/v1/programs/${P}/workforces/vendor-a/statement?${PERIOD}&format=csv`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header, row] = (await r.text()).split('\r\n');
    expect(header).toBe(STATEMENT_CSV_HEADER.join(','));
    expect(row).toContain(',1000,true,');
  });

  it('issues a statement once for the same lines, and the vendor reads it back as stored', async () => {
    const first = await send('pm', 'POST', `/v1/programs/${P}/workforces/vendor-a/statements`, { from: '2025-03-01T00:00:00.000Z', to: '2025-04-01T00:00:00.000Z' });
    expect(first.status).toBe(201);
    const again = await send('pm', 'POST', `/v1/programs/${P}/workforces/vendor-a/statements`, { from: '2025-03-01T00:00:00.000Z', to: '2025-04-01T00:00:00.000Z' });
    expect(again.status).toBe(200);
    expect((await deps.repo.listLedger(P)).filter((e) => e.type === 'statement.issued')).toHaveLength(1);
    const list = (await (await send('vendor-a', 'GET', `/v1/statements/issued?programId=${P}`)).json()) as { items: { data: { totalCents: number } }[] };
    expect(list.items.map((i) => i.data.totalCents)).toEqual([1000]);
    const stored = await send('vendor-a', 'GET', `/v1/statements/issued?programId=${P}&${PERIOD}`);
    expect(await stored.json()).toMatchObject({ statement: { totals: { totalCents: 1000 } } });
    expect(await (await send('pm', 'GET', `/v1/programs/${P}/workforces/vendor-a/statements/issued?${PERIOD}`)).json()).toMatchObject({ statement: { totals: { totalCents: 1000 } } });
    // vendor-b has none issued, and reads no other's.
    expect(await (await send('vendor-b', 'GET', `/v1/statements/issued?programId=${P}`)).json()).toEqual({ items: [] });
    expect((await send('vendor-b', 'GET', `/v1/statements/issued?programId=${P}&${PERIOD}`)).status).toBe(404);
    expect((await send('vendor-a', 'POST', `/v1/programs/${P}/workforces/vendor-a/statements`, { from: '2025-03-01T00:00:00.000Z', to: '2025-04-01T00:00:00.000Z' })).status).toBe(403);
  });
});
