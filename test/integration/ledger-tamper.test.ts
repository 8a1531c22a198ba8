/**
 * Tamper evidence, end to end (issue 10): a real round of the demo program is
 * set up and dispatched on the embedded stack, then its ledger items are
 * deleted, altered and swapped directly in DynamoDB with a raw client, as
 * someone with table access would. Each time, `ledger verify` — through the
 * HTTP API and through the `goldline` CLI — names the event and its shard chain
 * (issue 14: the ledger is written across shards). The ledger is restored between cases.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ledgerKeys } from '../../functions/adapters/dynamo-ledger.js';
import { LEDGER_SHARDS, LEGACY_CHAIN, shardLabel } from '../../functions/domain/index.js';
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
  /** The ledger items as the round left them, event items in (shard, seq) order. */
  let original: Item[];
  let events: Item[];
  /** The event items of each shard chain (`00`…`07`) in seq order. */
  let shards: Map<string, Item[]>;
  const chainOfItem = (i: Item) => i.pk.split('#')[2];
  /** The shard chain with the most events (the tampering cases need two or more in one chain). */
  const busiest = () => [...shards.entries()].sort(([, a], [, b]) => b.length - a.length)[0];

  /** Every item of the program's ledger partitions (each shard's; the legacy one stays empty), raw. */
  async function ledgerItems(): Promise<Item[]> {
    const out: Item[] = [];
    for (const chain of [LEGACY_CHAIN, ...Array.from({ length: LEDGER_SHARDS }, (_, s) => shardLabel(s))]) {
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const r = await doc.send(
          new QueryCommand({
            TableName: stack.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': ledgerKeys.partition(PROGRAM_ID, chain) },
            ExclusiveStartKey,
          }),
        );
        out.push(...((r.Items ?? []) as Item[]));
        ExclusiveStartKey = r.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    }
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
    events = original.filter((i) => i.sk.startsWith('SEQ#')).sort((a, b) => (`${a.pk} ${a.sk}` < `${b.pk} ${b.sk}` ? -1 : 1));
    shards = new Map();
    for (const e of events) shards.set(chainOfItem(e), [...(shards.get(chainOfItem(e)) ?? []), e]);
  }, 180_000);

  // Restore the ledger exactly as the round left it.
  afterEach(async () => {
    const keep = new Set(original.map((i) => `${i.pk} ${i.sk}`));
    for (const i of await ledgerItems()) if (!keep.has(`${i.pk} ${i.sk}`)) await remove(i);
    for (const i of original) await put(i);
  });

  afterAll(async () => {
    await api?.close();
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds the ledger of a real round intact: spread over shards, each numbered 1, 2, 3 in its own chain, exit 0', async () => {
    expect(events.length).toBeGreaterThanOrEqual(8);
    expect(events.map((e) => e.type)).toContain('batch.dispatched');
    expect(shards.size).toBeGreaterThan(2);
    for (const chain of shards.values()) expect(chain.map((e) => e.seq)).toEqual(chain.map((_, i) => i + 1));
    expect(busiest()[1].length).toBeGreaterThanOrEqual(2);

    const v = await verifyOverHttp();
    const cli = await goldline('ledger', 'verify');

    const heads = [...shards.entries()].map(([chain, es]) => ({ chain, seq: es.length, hash: es.at(-1)?.hash })).sort((a, b) => a.chain.localeCompare(b.chain));
    expect(v).toMatchObject({ ok: true, events: events.length, head: { seq: events.length, heads }, problems: [] });
    expect(cli.code).toBe(0);
    expect(cli.out).toBe(`ledger intact: ${events.length} events, head #${events.length} ${v.head.hash.slice(0, 16)}…`);
  });

  it('names an event deleted from its chain before others', async () => {
    const [chain, inChain] = busiest();
    const victim = inChain[0];
    await remove(victim);

    const v = await verifyOverHttp();

    expect(v.ok).toBe(false);
    expect(v.problems).toEqual([expect.objectContaining({ chain, seq: 1, eventId: victim.eventId, kind: 'missing' })]);
    expect(v.problems[0].message).toContain(`event #1 of shard ${chain} (${victim.eventId}`);
  });

  it('names an event moved to another shard', async () => {
    const [chain, inChain] = busiest();
    const victim = inChain.at(-1) as Item;
    const other = chain === '00' ? '01' : '00';
    await remove(victim);
    await put({ ...victim, pk: ledgerKeys.partition(PROGRAM_ID, other), sk: `SEQ#${String(99).padStart(12, '0')}` });

    const v = await verifyOverHttp();

    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => p.message)).toContain(`event #99 of shard ${other} (${victim.eventId}, ${victim.type}) was appended to shard ${Number(chain)}: it was moved`);
    expect(v.problems).toContainEqual(expect.objectContaining({ chain, seq: victim.seq, eventId: victim.eventId, kind: 'missing' }));
  });

  it('names an event whose data was altered in place', async () => {
    const victim = events.find((e) => e.type === 'batch.dispatched' && e.seq !== events.length) as Item;
    await put({ ...victim, data: { ...(victim.data as Record<string, unknown>), items: Number((victim.data as { items: number }).items) + 10 } });

    const v = await verifyOverHttp();

    const chain = chainOfItem(victim);
    expect(v.problems).toEqual([
      {
        chain,
        seq: victim.seq,
        eventId: victim.eventId,
        type: 'batch.dispatched',
        kind: 'altered',
        message: `event #${victim.seq} of shard ${chain} (${victim.eventId}, batch.dispatched) was altered: its content no longer matches its hash`,
      },
    ]);
  });

  it('names both events when two events of a chain swapped places', async () => {
    const [chain, inChain] = busiest();
    const [a, b] = [inChain[0], inChain[1]];
    await put({ ...b, pk: a.pk, sk: a.sk });
    await put({ ...a, pk: b.pk, sk: b.sk });

    const v = await verifyOverHttp();

    expect(v.ok).toBe(false);
    const reordered = v.problems.filter((p) => p.kind === 'reordered');
    expect(new Set(reordered.map((p) => p.eventId))).toEqual(new Set([a.eventId, b.eventId]));
    expect(reordered.map((p) => p.message)).toContain(`event #1 of shard ${chain} (${b.eventId}, ${b.type}) is stored at #1 but was appended as #2: it was moved`);
  });

  it('names the last event of a chain when it was deleted, and the CLI exits 1 with that line', async () => {
    const [chain, inChain] = busiest();
    const last = inChain.at(-1) as Item;
    await remove(last);

    const v = await verifyOverHttp();
    const cli = await goldline('ledger', 'verify');

    expect(v.events).toBe(events.length - 1);
    expect(v.head.heads?.find((h) => h.chain === chain)?.seq).toBe((last.seq as number) - 1);
    expect(v.problems.map((p) => [p.chain, p.seq, p.eventId, p.kind])).toEqual([[chain, last.seq, last.eventId, 'missing']]);
    expect(cli.code).toBe(1);
    expect(cli.err).toContain(`MISSING: event #${last.seq} of shard ${chain} (${last.eventId}, ?) is missing: it was appended (its key item remains) and then deleted`);
    expect(cli.err).toMatch(/^LEDGER BROKEN: 1 problem\(s\)/);
  });

  it('reads the restored ledger as intact again', async () => {
    const v = await verifyOverHttp();
    expect(v.ok).toBe(true);
    expect(v.events).toBe(events.length);
  });
});
