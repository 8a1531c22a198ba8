/** PM routes over the in-memory fakes: protocol registration from a document, diff, workforces, dispatch refusals. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiApp, createApi } from '../../../functions/api/app.js';
import { type LocalIssuer, startIssuer } from '../../../infra/local/issuer.js';
import { createHash } from 'node:crypto';
import { buildPng } from '../../support/images.js';
import { type FakeDeps, makeFakeDeps } from '../fakes.js';

const v1 = readFileSync('examples/protocols/chest-xray.v1.yaml', 'utf8');
const v2 = readFileSync('examples/protocols/chest-xray.v2.yaml', 'utf8');

describe('API: PM routes', () => {
  let issuer: LocalIssuer;
  let deps: FakeDeps;
  let app: ApiApp;
  let pm: string;
  beforeAll(async () => {
    issuer = await startIssuer();
    deps = makeFakeDeps();
    app = createApi({ deps, auth: issuer.config });
    pm = await issuer.issueToken('pm');
  });
  afterAll(() => issuer?.close());

  const send = (method: string, path: string, body?: unknown, token = pm) =>
    app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('registers a protocol version from its YAML document; the same content again is a 200 no-op', async () => {
    const first = await send('POST', '/v1/protocols', { document: v1, filename: 'chest-xray.v1.yaml' });
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ status: 'created', protocol: 'chest-xray@1' });
    const again = await send('POST', '/v1/protocols', { document: v1 });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'unchanged', protocol: 'chest-xray@1' });
  });

  it('refuses other content under a used version with a 409 that carries the diff', async () => {
    const changed = v1.replace('goldAccuracy: 0.85', 'goldAccuracy: 0.9');
    expect(changed).not.toBe(v1);
    const r = await send('POST', '/v1/protocols', { document: changed });
    expect(r.status).toBe(409);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    const body = (await r.json()) as { type: string; diff: string; changes: { path: string }[] };
    expect(body.type).toBe('urn:goldline:problem:conflict');
    expect(body.changes.map((c) => c.path)).toEqual(['thresholds.goldAccuracy']);
    expect(body.diff).toMatch(/thresholds\.goldAccuracy: 0\.85 → 0\.9/);
    // Nothing changed in the store.
    expect((await deps.repo.getProtocolVersion('chest-xray', 1))?.thresholds.goldAccuracy).toBe(0.85);
  });

  it('refuses a document that is not a protocol with a 400 naming the document field', async () => {
    const r = await send('POST', '/v1/protocols', { document: 'protocolId: chest-xray\nversion: one\n' });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { errors: { path: string; message: string }[] };
    expect(body.errors.length).toBeGreaterThan(0);
    expect(body.errors.every((e) => e.path === 'body.document')).toBe(true);
  });

  it('diffs two registered versions', async () => {
    expect((await send('POST', '/v1/protocols', { document: v2 })).status).toBe(201);
    const r = await send('GET', '/v1/protocols/chest-xray/diff?from=1&to=2');
    expect(r.status).toBe(200);
    const body = (await r.json()) as { changes: unknown[]; text: string };
    expect(body.changes.length).toBeGreaterThan(0);
    expect(body.text.length).toBeGreaterThan(0);
    expect((await send('GET', '/v1/protocols/chest-xray/diff?from=1&to=7')).status).toBe(404);
  });

  it('creates and changes a workforce, and lists it without its gold history', async () => {
    const terms = { kind: 'vendor', name: 'Vendor C', capacityPerRound: 100, pricePerCase: 2.5, slaHours: 48, qualifications: ['cxr'] };
    expect((await send('PUT', '/v1/programs/prog-1/workforces/vendor-c', terms)).status).toBe(200);
    expect((await send('PUT', '/v1/programs/prog-1/workforces/vendor-c', { ...terms, pricePerCase: 3 })).status).toBe(200);
    const list = (await (await send('GET', '/v1/programs/prog-1/workforces')).json()) as { items: Record<string, unknown>[] };
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ workforceId: 'vendor-c', pricePerCase: 3 });
    expect(list.items[0]).not.toHaveProperty('goldSeen');
    const bad = await send('PUT', '/v1/programs/prog-1/workforces/vendor-c', { ...terms, status: 'active' });
    expect(bad.status).toBe(400);
  });

  it('records the PM from the token as the actor of a dispatch, and a vendor may not dispatch', async () => {
    const vendor = await issuer.issueToken('vendor-a');
    expect((await send('POST', '/v1/programs/prog-1/rounds', { protocolId: 'chest-xray', version: 1, round: 1 }, vendor)).status).toBe(403);
    const r = await send('POST', '/v1/programs/prog-1/rounds', { protocolId: 'chest-xray', version: 1, round: 1 });
    expect(r.status).toBeLessThan(500);
    const ledger = await deps.repo.listLedger('prog-1');
    expect(ledger.every((e) => e.actor === 'pm:alice' || !e.actor.startsWith('pm:'))).toBe(true);
  });

  it('takes a CSV case manifest as text/csv and answers an image slot per case; another media type is a 415', async () => {
    const png = buildPng();
    const csv = [
      'caseId,modality,bodyPart,site,deidentified,image,imageSizeBytes,imageSha256',
      `case-9,CR,CHEST,site-a,true,case-9.png,${png.length},${createHash('sha256').update(png).digest('hex')}`,
    ].join('\n');
    const post = (type: string, text: string) =>
      app.request('/v1/programs/prog-1/cases/manifest?protocol=chest-xray@1', { method: 'POST', headers: { authorization: `Bearer ${pm}`, 'content-type': type }, body: text });
    const r = await post('text/csv', csv);
    expect(r.status).toBe(201);
    const accepted = (await r.json()) as { ingestId: string; slots: { caseId: string; headers: Record<string, string> }[] };
    expect(accepted.slots.map((x) => x.caseId)).toEqual(['case-9']);
    expect(accepted.slots[0].headers['content-length']).toBe(String(png.length));
    const wrong = await post('text/plain', csv);
    expect(wrong.status).toBe(415);
    expect(wrong.headers.get('content-type')).toBe('application/problem+json');
    const bad = await post('text/csv', csv.replace(',true,', ',sure,'));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
  });
});
