/**
 * The vendor flow through the HTTP API on the embedded stack, with tokens from
 * the embedded issuer: nothing in-process but the server itself. A vendor reads
 * its batch, downloads the manifest and an image through presigned GETs,
 * uploads a label file through a slot (a real PUT with the slot's headers) and
 * reads the validation report; another vendor's batch answers like a missing one;
 * tokens that are missing, expired, foreign or unsigned are refused.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchRecord } from '../../functions/use-cases/ports.js';
import type { VendorManifest } from '../../functions/use-cases/prepare-manifest.js';
import { type ApiServer, startApiServer } from '../../infra/local/api-server.js';
import { readSyntheticImage } from '../../infra/local/demo/example-program.js';
import { type LocalIssuer, startIssuer } from '../../infra/local/issuer.js';
import type { LocalStack } from '../../infra/local/stack.js';
import { stackWithOpenRound, until } from './helpers.js';

describe('API: a vendor works a batch over HTTP', () => {
  let stack: LocalStack;
  let batches: BatchRecord[];
  let api: ApiServer;
  let foreign: LocalIssuer;

  beforeAll(async () => {
    // The demo's single plan decides vendor-a's all-right batch within its round (accepted), which QA then reads.
    ({ stack, batches } = await stackWithOpenRound({ cases: 120, acceptance: 'single-plan' }));
    api = await startApiServer({ deps: stack.deps });
    foreign = await startIssuer();
  });
  afterAll(async () => {
    await api?.close();
    await foreign?.close();
    await stack?.stop();
  });

  const get = async (path: string, user?: string, init: RequestInit = {}) => {
    const token = user ? await api.issuer.issueToken(user) : undefined;
    return fetch(`${api.url}${path}`, {
      ...init,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
    });
  };
  const post = (path: string, user: string, body: unknown) => get(path, user, { method: 'POST', body: JSON.stringify(body) });
  const batchOf = (workforceId: string) => batches.find((b) => b.workforceId === workforceId)!;

  async function upload(batchId: string, body: Uint8Array) {
    const sha = createHash('sha256').update(body).digest('hex');
    const r = await post(`/v1/batches/${batchId}/uploads`, 'vendor-a', { sizeBytes: body.length, sha256Hex: sha });
    expect(r.status).toBe(201);
    const slot = (await r.json()) as { uploadId: string; url: string; headers: Record<string, string> };
    const put = await fetch(slot.url, { method: 'PUT', headers: slot.headers, body });
    expect(put.status).toBe(200);
    return slot.uploadId;
  }

  async function report(batchId: string, uploadId: string) {
    let last: { status: string; problems?: { line: number; reason: string }[] } = { status: 'pending' };
    await until('the validation report', async () => {
      const r = await get(`/v1/batches/${batchId}/uploads/${uploadId}`, 'vendor-a');
      expect(r.status).toBe(200);
      last = (await r.json()) as typeof last;
      return last.status !== 'pending';
    });
    return last;
  }

  it('lists only its own batches, with a cursor that pages through them', async () => {
    const own = batches.filter((b) => b.workforceId === 'vendor-a').map((b) => b.batchId).sort();
    const r = await get('/v1/batches', 'vendor-a');
    expect(r.status).toBe(200);
    const page = (await r.json()) as { items: { batchId: string }[]; next?: string };
    expect(page.items.map((b) => b.batchId).sort()).toEqual(own);
    const first = (await (await get('/v1/batches?limit=1', 'vendor-a')).json()) as { items: { batchId: string }[]; next?: string };
    expect(first.items).toHaveLength(1);
    if (own.length > 1) {
      expect(first.next).toBeDefined();
      const second = (await (await get(`/v1/batches?limit=1&cursor=${first.next}`, 'vendor-a')).json()) as { items: { batchId: string }[] };
      expect(second.items[0].batchId).not.toBe(first.items[0].batchId);
    }
    const bad = await get('/v1/batches?cursor=%21%21', 'vendor-a');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { path: string }[] }).errors[0].path).toBe('query.cursor');
  });

  it('reads its batch, downloads the manifest and an image, uploads through a slot and reads the report', async () => {
    const b = batchOf('vendor-a');
    const r = await get(`/v1/batches/${b.batchId}`, 'vendor-a');
    expect(r.status).toBe(200);
    const view = (await r.json()) as { batchId: string; status: string; items: number; manifestUrl: string };
    expect(view).toMatchObject({ batchId: b.batchId, status: 'awaiting-submission', items: b.itemCount });
    const manifest = (await (await fetch(view.manifestUrl)).json()) as VendorManifest;
    expect(manifest.items).toHaveLength(b.itemCount);

    const urls = await post(`/v1/batches/${b.batchId}/image-urls`, 'vendor-a', { aliases: manifest.items.map((i) => i.alias) });
    expect(urls.status).toBe(200);
    const { urls: byAlias } = (await urls.json()) as { urls: Record<string, string> };
    const lines: string[] = [];
    for (const item of manifest.items) {
      const image = await fetch(byAlias[item.alias]);
      expect(image.status).toBe(200);
      const label = readSyntheticImage(new Uint8Array(await image.arrayBuffer()));
      lines.push(JSON.stringify({ alias: item.alias, label, annotator: 'vendor-a/reader-1' }));
    }

    // A malformed file first: rejected with per-line reasons.
    const bad = await upload(b.batchId, new TextEncoder().encode(`${lines.slice(0, -1).join('\n')}\nnot json\n`));
    const rejected = await report(b.batchId, bad);
    expect(rejected.status).toBe('rejected');
    expect(rejected.problems?.some((p) => p.line === lines.length && /JSON/.test(p.reason))).toBe(true);

    const good = await upload(b.batchId, new TextEncoder().encode(`${lines.join('\n')}\n`));
    const accepted = await report(b.batchId, good);
    expect(accepted).toMatchObject({ status: 'accepted', problems: [] });
    expect(JSON.stringify(accepted)).not.toMatch(/gold|case-\d+/i);
  });

  it("lets QA read the round, the scored batch, the scorecards, the ledger and a CSV export after the vendor's upload", async () => {
    const b = batchOf('vendor-a');
    await until('the batch to settle', async () => {
      const r = await get('/v1/programs/demo-cxr/rounds/1', 'qa');
      const round = (await r.json()) as { batches: { batchId: string; status: string }[] };
      return round.batches.some((x) => x.batchId === b.batchId && x.status === 'accepted');
    });
    const scored = (await (await get('/v1/programs/demo-cxr/batches?round=1', 'qa')).json()) as {
      items: { batchId: string; score?: { accuracy: number | null; items: unknown[] } }[];
    };
    const mine = scored.items.find((x) => x.batchId === b.batchId);
    expect(mine?.score?.items.length).toBeGreaterThan(0);
    // Scorecards are projected when the whole round has settled (the other batches are still open here).
    const cards = await get('/v1/programs/demo-cxr/scorecards', 'qa');
    expect(cards.status).toBe(200);
    expect(await cards.json()).toEqual({
      programId: 'demo-cxr',
      items: await stack.deps.repo.listProgramScorecards('demo-cxr'),
      expertAgreement: { experts: [], note: 'no adjudication decided yet: no expert agreement to report', rows: [] },
    });
    const ledger = await get(`/v1/programs/demo-cxr/ledger?batchId=${b.batchId}`, 'qa');
    expect(ledger.status).toBe(200);
    const events = ((await ledger.json()) as { items: { at: string }[] }).items;
    expect(events.length).toBeGreaterThan(0);
    expect(events.map((e) => e.at)).toEqual(events.map((e) => e.at).sort());
    const csv = await get('/v1/programs/demo-cxr/exports/scorecards?format=csv', 'qa');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect((await csv.text()).split('\n')[0]).toMatch(/^protocolId,workforceId,/);
    // A vendor may read none of it.
    expect((await get('/v1/programs/demo-cxr/scorecards', 'vendor-a')).status).toBe(403);
  });

  it('refuses a PUT of other bytes than the slot was asked for', async () => {
    const b = batchOf('vendor-a');
    const body = new TextEncoder().encode('{"alias":"x"}\n');
    const sha = createHash('sha256').update(body).digest('hex');
    const r = await post(`/v1/batches/${b.batchId}/uploads`, 'vendor-a', { sizeBytes: body.length, sha256Hex: sha });
    // The batch may have moved on after the accepted upload: a closed batch takes no slot (409).
    if (r.status === 409) return expect(((await r.json()) as { type: string }).type).toBe('urn:goldline:problem:conflict');
    const slot = (await r.json()) as { url: string; headers: Record<string, string> };
    const other = new TextEncoder().encode('{"alias":"y"}\n');
    const put = await fetch(slot.url, { method: 'PUT', headers: slot.headers, body: other });
    expect(put.status).toBeGreaterThanOrEqual(400);
  });

  it("answers vendor-b asking for vendor-a's batch, upload or images exactly like a missing one", async () => {
    const theirs = batchOf('vendor-a').batchId;
    const missing = `${theirs.slice(0, -1)}9`;
    const pairs: [Response, Response][] = [
      [await get(`/v1/batches/${theirs}`, 'vendor-b'), await get(`/v1/batches/${missing}`, 'vendor-b')],
      [await get(`/v1/batches/${theirs}/uploads/abcdefghijkl`, 'vendor-b'), await get(`/v1/batches/${missing}/uploads/abcdefghijkl`, 'vendor-b')],
      [
        await post(`/v1/batches/${theirs}/image-urls`, 'vendor-b', { aliases: ['zzzzzzzzzzzz'] }),
        await post(`/v1/batches/${missing}/image-urls`, 'vendor-b', { aliases: ['zzzzzzzzzzzz'] }),
      ],
      [
        await post(`/v1/batches/${theirs}/uploads`, 'vendor-b', { sizeBytes: 1, sha256Hex: 'a'.repeat(64) }),
        await post(`/v1/batches/${missing}/uploads`, 'vendor-b', { sizeBytes: 1, sha256Hex: 'a'.repeat(64) }),
      ],
    ];
    for (const [a, b] of pairs) {
      expect(a.status).toBe(404);
      expect(b.status).toBe(404);
      expect(a.headers.get('content-type')).toBe(b.headers.get('content-type'));
      expect((await a.text()).replaceAll(theirs, 'ID')).toBe((await b.text()).replaceAll(missing, 'ID'));
    }
  });

  it('serves the internal team its batches through the same routes, and no vendor sees them', async () => {
    const internal = batches.find((b) => b.workforceKind === 'internal')!;
    const r = await get(`/v1/batches/${internal.batchId}`, 'expert');
    expect(r.status).toBe(200);
    expect(((await r.json()) as { batchId: string }).batchId).toBe(internal.batchId);
    expect((await get(`/v1/batches/${internal.batchId}`, 'vendor-a')).status).toBe(404);
  });

  it('refuses no token, an expired token, a token of another issuer and alg none with 401', async () => {
    const path = `/v1/batches/${batchOf('vendor-a').batchId}`;
    const good = await api.issuer.issueToken('vendor-a');
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${good.split('.')[1]}.`;
    const tokens = [undefined, await api.issuer.issueToken('vendor-a', { expiresIn: -30 }), await foreign.issueToken('vendor-a'), none];
    for (const token of tokens) {
      const r = await fetch(`${api.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      expect(r.status).toBe(401);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(((await r.json()) as { type: string }).type).toBe('urn:goldline:problem:unauthenticated');
    }
  });
});
