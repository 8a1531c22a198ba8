/**
 * Tamper evidence, end to end (issue 10): a real round of the demo program is
 * set up and dispatched on the embedded stack, then its ledger items are
 * deleted, altered and swapped directly in DynamoDB with a raw client, as
 * someone with table access would. Each time, `ledger verify` — through the
 * HTTP API and through the `goldline` CLI — names the event. The ledger is
 * restored between cases.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerVerification } from '../../functions/use-cases/ledger-verify.js';
import { type GoldlineIo, processIo } from '../../infra/cli/io.js';
import { runGoldline } from '../../infra/cli/program.js';
import { type ApiServer, startApiServer } from '../../infra/local/api-server.js';
import { PROGRAM_ID } from '../../infra/local/demo/example-program.js';
import { DEMO_USERS } from '../../infra/local/issuer.js';
import type { LocalStack } from '../../infra/local/stack.js';
import { stackWithOpenRound } from './helpers.js';

type Item = Record<string, unknown> & { pk: string; sk: string };

describe('Ledger: tampering directly in DynamoDB is named by ledger verify (embedded stack)', () => {
  let stack: LocalStack;
  let api: ApiServer;
  let doc: DynamoDBDocumentClient;
  let dir: string;
  let profile: string;
  let qaToken: string;
  /** The ledger items as the round left them, event items in seq order. */
  let original: Item[];
  let events: Item[];

  /** Every item of the program's ledger partition, raw. */
  async function ledgerItems(): Promise<Item[]> {
    const out: Item[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const r = await doc.send(
        new QueryCommand({ TableName: stack.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `LEDGER#${PROGRAM_ID}` }, ExclusiveStartKey }),
      );
      out.push(...((r.Items ?? []) as Item[]));
      ExclusiveStartKey = r.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
  }
  const put = (item: Item) => doc.send(new PutCommand({ TableName: stack.tableName, Item: item }));
  const remove = (item: Item) => doc.send(new DeleteCommand({ TableName: stack.tableName, Key: { pk: item.pk, sk: item.sk } }));

  async function verifyOverHttp(): Promise<LedgerVerification> {
    const r = await fetch(`${api.url}/v1/programs/${PROGRAM_ID}/ledger/verify`, { headers: { authorization: `Bearer ${qaToken}` } });
    expect(r.status).toBe(200);
    return (await r.json()) as LedgerVerification;
  }

  async function goldline(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const io: GoldlineIo = { ...processIo, out: (t) => out.push(t), err: (t) => err.push(t), errRaw: () => {}, errIsTTY: false, env: {} };
    const code = await runGoldline(['--profile', profile, ...args], io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  beforeAll(async () => {
    ({ stack } = await stackWithOpenRound({ cases: 60, seed: 13 }));
    doc = DynamoDBDocumentClient.from(stack.dynamo);
    api = await startApiServer({ deps: stack.deps });
    qaToken = await api.issuer.issueToken('qa');
    dir = await mkdtemp(join(tmpdir(), 'goldline-ledger-tamper-'));
    profile = join(dir, 'local.json');
    const tokens: Record<string, string> = {};
    for (const user of Object.keys(DEMO_USERS)) tokens[user] = await api.issuer.issueToken(user);
    await writeFile(profile, JSON.stringify({ endpoint: api.url, program: PROGRAM_ID, tokens }));
    original = await ledgerItems();
    events = original.filter((i) => i.sk.startsWith('SEQ#')).sort((a, b) => (a.sk < b.sk ? -1 : 1));
  }, 180_000);

  // Restore the ledger exactly as the round left it.
  afterEach(async () => {
    const keep = new Set(original.map((i) => i.sk));
    for (const i of await ledgerItems()) if (!keep.has(i.sk)) await remove(i);
    for (const i of original) await put(i);
  });

  afterAll(async () => {
    await api?.close();
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds the ledger of a real round intact: every event once, in seq order, exit 0', async () => {
    expect(events.length).toBeGreaterThanOrEqual(8);
    expect(events.map((e) => e.type)).toContain('batch.dispatched');
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));

    const v = await verifyOverHttp();
    const cli = await goldline('ledger', 'verify');

    expect(v).toMatchObject({ ok: true, events: events.length, head: { seq: events.length, hash: events.at(-1)?.hash }, problems: [] });
    expect(cli.code).toBe(0);
    expect(cli.out).toBe(`ledger intact: ${events.length} events, head #${events.length} ${String(events.at(-1)?.hash).slice(0, 16)}…`);
  });

  it('names an event deleted from the middle of the chain', async () => {
    const victim = events[3];
    await remove(victim);

    const v = await verifyOverHttp();

    expect(v.ok).toBe(false);
    expect(v.problems).toEqual([expect.objectContaining({ seq: 4, eventId: victim.eventId, kind: 'missing' })]);
    expect(v.problems[0].message).toContain(`event #4 (${victim.eventId}`);
  });

  it('names an event whose data was altered in place', async () => {
    const victim = events.find((e) => e.type === 'batch.dispatched' && e.seq !== events.length) as Item;
    await put({ ...victim, data: { ...(victim.data as Record<string, unknown>), items: Number((victim.data as { items: number }).items) + 10 } });

    const v = await verifyOverHttp();

    expect(v.problems).toEqual([
      { seq: victim.seq, eventId: victim.eventId, type: 'batch.dispatched', kind: 'altered', message: `event #${victim.seq} (${victim.eventId}, batch.dispatched) was altered: its content no longer matches its hash` },
    ]);
  });

  it('names both events when two events swapped places', async () => {
    const [a, b] = [events[2], events[5]];
    await put({ ...b, pk: a.pk, sk: a.sk });
    await put({ ...a, pk: b.pk, sk: b.sk });

    const v = await verifyOverHttp();

    expect(v.ok).toBe(false);
    const reordered = v.problems.filter((p) => p.kind === 'reordered');
    expect(new Set(reordered.map((p) => p.eventId))).toEqual(new Set([a.eventId, b.eventId]));
    expect(reordered.map((p) => p.message)).toContain(`event #3 (${b.eventId}, ${b.type}) is stored at #3 but was appended as #6: it was moved`);
  });

  it('names the last event when it was deleted, and the CLI exits 1 with that line', async () => {
    const last = events.at(-1) as Item;
    await remove(last);

    const v = await verifyOverHttp();
    const cli = await goldline('ledger', 'verify');

    expect(v.head.seq).toBe(events.length - 1);
    expect(v.problems.map((p) => [p.seq, p.eventId, p.kind])).toEqual([[last.seq, last.eventId, 'missing']]);
    expect(cli.code).toBe(1);
    expect(cli.err).toContain(`MISSING: event #${last.seq} (${last.eventId}, ?) is missing: it was appended (its key item remains) and then deleted`);
    expect(cli.err).toMatch(/^LEDGER BROKEN: 1 problem\(s\)/);
  });

  it('reads the restored ledger as intact again', async () => {
    const v = await verifyOverHttp();
    expect(v.ok).toBe(true);
    expect(v.events).toBe(events.length);
  });
});
