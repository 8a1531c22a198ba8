/** The PM's held-batch decision route over the in-memory fakes: who may call it, what it answers, what it refuses. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiApp, createApi } from '../../../functions/api/app.js';
import { type LocalIssuer, startIssuer } from '../../../infra/local/issuer.js';
import { type FakeDeps, makeFakeDeps, makeProtocol, makeWorkforce } from '../fakes.js';

const P = 'prog-1';
const path = `/v1/programs/${P}/held-batches/decide`;

describe('API: POST /v1/programs/{programId}/held-batches/decide', () => {
  let issuer: LocalIssuer;
  let deps: FakeDeps;
  let app: ApiApp;
  const token: Record<string, string> = {};
  beforeAll(async () => {
    issuer = await startIssuer();
    deps = makeFakeDeps();
    app = createApi({ deps, auth: issuer.config, log: () => undefined });
    for (const u of ['pm', 'qa', 'vendor-a']) token[u] = await issuer.issueToken(u);
    await deps.repo.putProtocolVersion(makeProtocol());
    await deps.repo.putWorkforce(P, makeWorkforce('vendor-a'));
  });
  afterAll(() => issuer?.close());

  const send = (who: string, body: unknown) =>
    app.request(path, { method: 'POST', headers: { authorization: `Bearer ${token[who]}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const ok = { workforceId: 'vendor-a', protocol: 'chest-xray@1', reason: 'program closed' };

  it('answers a PM that a vendor with nothing held has nothing to decide, and records nothing', async () => {
    const r = await send('pm', ok);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ decision: 'none', batches: [], reason: 'vendor-a has no held batch of chest-xray@1' });
    expect(await deps.repo.listLedger(P)).toEqual([]);
  });

  it('refuses a body without a reason or with a protocol that is not id@version, naming the field; 404 for a protocol or workforce it does not know', async () => {
    for (const [body, field] of [
      [{ workforceId: 'vendor-a', protocol: 'chest-xray@1' }, 'reason'],
      [{ ...ok, protocol: 'chest-xray' }, 'protocol'],
      [{ ...ok, extra: 1 }, 'extra'],
    ] as const) {
      const bad = await send('pm', body);
      expect(bad.status, field).toBe(400);
      expect(JSON.stringify(await bad.json()), field).toContain(field);
    }
    expect((await send('pm', { ...ok, protocol: 'chest-xray@9' })).status).toBe(404);
    const unknown = await send('pm', { ...ok, workforceId: 'vendor-x' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { detail: string }).detail).toBe(`workforce vendor-x not found in program ${P}`);
  });

  it('is for PMs only', async () => {
    for (const who of ['qa', 'vendor-a']) expect((await send(who, ok)).status).toBe(403);
  });
});
