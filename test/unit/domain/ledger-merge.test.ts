import { describe, expect, it } from 'vitest';
import {
  type ChainedLedgerEvent,
  GENESIS_HASH,
  type RawChainItem,
  type RawKeyItem,
  anchorOfHeads,
  chainEvent,
  chainHash,
  verifyLedgerChain,
} from '../../../functions/domain/ledger-chain.js';
import { compareLedgerOrder, frontierOf, mergeLedgerChains, withinFrontier } from '../../../functions/domain/ledger-merge.js';
import type { LedgerEvent } from '../../../functions/domain/model/index.js';

const overdue = (id: string): LedgerEvent =>
  ({
    v: 1,
    eventId: id,
    programId: 'prog-1',
    type: 'batch.overdue',
    at: '2025-03-01T09:00:00.000Z',
    actor: 'system:overdue',
    protocol: 'chest-xray@1',
    subject: id,
    reason: 'no submission within the SLA',
    data: { workforceId: 'vendor-a', slaHours: 48, timeout: 'States.Timeout' },
  }) as LedgerEvent;

/** A shard chain: events `ids` at ords `ords` (the legacy chain when shard is undefined). */
function chain(ids: string[], shard?: number, ords: number[] = []): ChainedLedgerEvent[] {
  const out: ChainedLedgerEvent[] = [];
  ids.forEach((id, i) => {
    const prev = out.at(-1)?.hash ?? GENESIS_HASH;
    out.push(shard === undefined ? chainEvent(overdue(id), i + 1, prev) : chainEvent(overdue(id), i + 1, prev, { shard, ord: ords[i] ?? i }));
  });
  return out;
}

const raw = (events: ChainedLedgerEvent[], label?: string): { items: RawChainItem[]; keys: RawKeyItem[] } => ({
  items: events.map((e) => ({ ...(label ? { chain: label } : {}), keySeq: e.seq, body: structuredClone(e) as Record<string, unknown> })),
  keys: events.map((e) => ({ ...(label ? { chain: label } : {}), eventId: e.eventId, body: { seq: e.seq, hash: e.hash } })),
});

describe('Module: ledger-merge', () => {
  describe('Function: mergeLedgerChains', () => {
    it('puts the legacy chain first in seq order, then the shards by ord, ties by shard and seq', () => {
      const legacy = chain(['old-1', 'old-2']);
      const s0 = chain(['a', 'c'], 0, [100, 300]);
      const s1 = chain(['b', 'd'], 1, [200, 300]);
      expect(mergeLedgerChains([s1, s0, legacy]).map((e) => e.eventId)).toEqual(['old-1', 'old-2', 'a', 'b', 'c', 'd']);
    });

    it('keeps the first occurrence of an event appended twice (a retry after a crash lands later in its shard)', () => {
      const s0 = chain(['a', 'b', 'a'], 0, [1, 2, 3]);
      expect(mergeLedgerChains([s0]).map((e) => [e.eventId, e.seq])).toEqual([
        ['a', 1],
        ['b', 2],
      ]);
    });
  });

  describe('Function: frontierOf / withinFrontier', () => {
    it('holds the last seq read per chain, so an event that lands later with an earlier ord is still ahead of it', () => {
      const read = [...chain(['a', 'b'], 0, [10, 30]), ...chain(['c'], 1, [20])];
      const f = frontierOf(read);
      expect(f).toEqual({ '00': 2, '01': 1 });
      const late = chainEvent(overdue('late'), 2, read[2].hash, { shard: 1, ord: 15 });
      expect(compareLedgerOrder(late, read[1])).toBeLessThan(0);
      expect(withinFrontier(late, f)).toBe(false);
      expect(read.every((e) => withinFrontier(e, f))).toBe(true);
    });
  });
});

describe('Function: verifyLedgerChain (sharded)', () => {
  const s0 = chain(['a', 'b', 'c'], 0, [1, 3, 5]);
  const s1 = chain(['d', 'e'], 1, [2, 4]);
  const whole = () => {
    const x = raw(s0, '00');
    const y = raw(s1, '01');
    return { items: [...x.items, ...y.items], keys: [...x.keys, ...y.keys] };
  };

  it('finds intact chains and gives every chain head as the head', () => {
    const { items, keys } = whole();
    const v = verifyLedgerChain(items, keys);
    const heads = [
      { chain: '00', seq: 3, hash: s0[2].hash },
      { chain: '01', seq: 2, hash: s1[1].hash },
    ];
    expect(v).toMatchObject({ ok: true, events: 5, problems: [], head: anchorOfHeads(heads, 5) });
    expect(v.head.heads).toEqual(heads);
    expect(verifyLedgerChain(items, keys, [anchorOfHeads(heads, 5)]).ok).toBe(true);
  });

  it('names the chain of an altered event', () => {
    const { items, keys } = whole();
    (items[4].body as { reason: string }).reason = 'rewritten';
    const v = verifyLedgerChain(items, keys);
    expect(v.problems.map((p) => [p.chain, p.seq, p.kind])).toEqual([['01', 2, 'altered']]);
    expect(v.problems[0].message).toBe('event #2 of shard 01 (e, batch.overdue) was altered: its content no longer matches its hash');
  });

  it('names a chain head an anchor recorded when it was rewritten and re-hashed, key item and all', () => {
    const { items, keys } = whole();
    const anchor = anchorOfHeads([{ chain: '01', seq: 2, hash: s1[1].hash }], 5);
    const body = items[4].body as Record<string, unknown>;
    body.reason = 'rewritten';
    body.hash = chainHash(body);
    keys[4].body = { seq: 2, hash: body.hash };
    const v = verifyLedgerChain(items, keys, [anchor]);
    expect(v.problems.map((p) => [p.chain, p.seq, p.kind])).toEqual([['01', 2, 'anchor-mismatch']]);
    expect(v.problems[0].message).toMatch(/^event #2 of shard 01 \(e, batch.overdue\) has another hash than the chain recorded at/);
  });

  it('names an event stored in another shard than the one it was appended to', () => {
    const { items, keys } = whole();
    const moved = items.find((i) => i.body.eventId === 'c')!;
    items.splice(items.indexOf(moved), 1, { chain: '01', keySeq: 3, body: moved.body });
    const v = verifyLedgerChain(items, keys);
    expect(v.problems.map((p) => p.message)).toContain('event #3 of shard 01 (c, batch.overdue) was appended to shard 0: it was moved');
    expect(v.problems).toContainEqual(expect.objectContaining({ chain: '00', seq: 3, eventId: 'c', kind: 'missing' }));
  });

  it('verifies a pre-shard (legacy) chain beside the shards, and a single-chain anchor against it', () => {
    const legacy = chain(['old-1', 'old-2']);
    const l = raw(legacy);
    const { items, keys } = whole();
    const v = verifyLedgerChain([...l.items, ...items], [...l.keys, ...keys], [{ seq: 2, hash: legacy[1].hash }]);
    expect(v).toMatchObject({ ok: true, events: 7, problems: [] });
    expect(v.head.heads?.map((h) => h.chain)).toEqual(['00', '01', 'legacy']);
  });
});
