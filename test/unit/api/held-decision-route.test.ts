/** The PM's held-batch decision route over the in-memory fakes: who may call it, what it answers, what it refuses. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiApp, createApi } from '../../../functions/api/app.js';
import { type LocalIssuer, startIssuer } from '../../../infra/local/issuer.js';
import { type FakeDeps, makeFakeDeps, makeProtocol, makeWorkforce } from '../fakes.js';

const P = 'prog-1';
const path = `/v1/programs/${P}/workforces/vendor-a/held-decision`;

describe('API: POST held-decision', () => {
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

  it('answers a PM that a vendor with nothing held has nothing to decide', async () => {
    const r = await send('pm', { protocol: 'chest-xray@1' });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ decision: 'none', batches: [], reason: 'vendor-a has no held batch of chest-xray@1' });
  });

  it('refuses a protocol that is not id@version, naming the field, and a protocol it does not know', async () => {
    const bad = await send('pm', { protocol: 'chest-xray' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/protocol/);
    expect((await send('pm', { protocol: 'chest-xray@9' })).status).toBe(404);
  });

  it('is for PMs only', async () => {
    for (const who of ['qa', 'vendor-a']) expect((await send(who, { protocol: 'chest-xray@1' })).status).toBe(403);
  });
});
