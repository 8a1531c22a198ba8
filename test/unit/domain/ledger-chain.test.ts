import { describe, expect, it } from 'vitest';
import {
  type ChainedLedgerEvent,
  GENESIS_HASH,
  type RawChainItem,
  type RawKeyItem,
  canonicalJson,
  chainEvent,
  chainHash,
  firstOccurrences,
  verifyLedgerChain,
} from '../../../functions/domain/ledger-chain.js';
import type { LedgerEvent } from '../../../functions/domain/model/index.js';

/** A batch.scored event of batch `i`, as a writer records it. */
const scored = (i: number, at = '2025-03-01T09:00:00.000Z'): LedgerEvent =>
  ({
    v: 1,
    eventId: `batch-${i}:scored`,
    programId: 'prog-1',
    type: 'batch.scored',
    at,
    actor: 'system:score',
    protocol: 'chest-xray@1',
    subject: `batch-${i}`,
    reason: 'gold scored',
    data: { workforceId: 'vendor-a', goldN: i, goldCorrect: i - 1, accuracy: (i - 1) / i, kappa: null, verdict: 'accepted' },
  }) as LedgerEvent;

/** A chain of `n` events as the store holds it: event items in seq order and one key item per event. */
function chain(n: number): { events: ChainedLedgerEvent[]; items: RawChainItem[]; keys: RawKeyItem[] } {
  const events: ChainedLedgerEvent[] = [];
  for (let i = 1; i <= n; i++) {
    events.push(chainEvent(scored(i), i, events.at(-1)?.hash ?? GENESIS_HASH));
  }
  return {
    events,
    items: events.map((e) => ({ keySeq: e.seq, body: structuredClone(e) as Record<string, unknown> })),
    keys: events.map((e) => ({ eventId: e.eventId, body: { seq: e.seq, hash: e.hash } })),
  };
}

describe('Module: ledger-chain', () => {
  describe('Function: canonicalJson', () => {
    it('sorts keys at every level and leaves undefined members out', () => {
      expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined, e: 'x' }], z: undefined })).toBe('{"a":[{"d":2,"e":"x"}],"b":1}');
    });

    it('gives the same text for the same content in another key order', () => {
      expect(canonicalJson({ x: { q: 1, p: [1, 2] }, y: null })).toBe(canonicalJson({ y: null, x: { p: [1, 2], q: 1 } }));
    });
  });

  describe('Function: chainEvent / chainHash', () => {
    it('links each event to its predecessor and hashes its content with seq and prevHash', () => {
      const { events } = chain(3);
      expect(events[0].prevHash).toBe(GENESIS_HASH);
      expect(events[1].prevHash).toBe(events[0].hash);
      expect(events[2].prevHash).toBe(events[1].hash);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
      for (const e of events) expect(chainHash(e)).toBe(e.hash);
      expect(events[0].hash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('changes the hash when any field changes, seq and prevHash included', () => {
      const [e] = chain(1).events;
      expect(chainHash({ ...e, reason: 'other' })).not.toBe(e.hash);
      expect(chainHash({ ...e, seq: 2 })).not.toBe(e.hash);
      expect(chainHash({ ...e, prevHash: 'f'.repeat(64) })).not.toBe(e.hash);
      expect(chainHash({ ...e, data: { verdict: 'accepted', kappa: null, accuracy: 0, goldCorrect: 0, goldN: 1, workforceId: 'vendor-a' } })).toBe(e.hash);
    });
  });

  describe('Function: firstOccurrences', () => {
    it('keeps the first copy of each event id', () => {
      const r = firstOccurrences([{ eventId: 'a', n: 1 }, { eventId: 'b', n: 2 }, { eventId: 'a', n: 3 }]);
      expect(r).toEqual([{ eventId: 'a', n: 1 }, { eventId: 'b', n: 2 }]);
    });
  });

  describe('Function: verifyLedgerChain', () => {
    it('finds an intact chain intact and gives its head', () => {
      const { items, keys, events } = chain(4);
      const v = verifyLedgerChain(items, keys, [{ seq: 2, hash: events[1].hash }]);
      expect(v).toEqual({ ok: true, events: 4, head: { seq: 4, hash: events[3].hash }, problems: [] });
    });

    it('finds an empty ledger intact at the genesis head', () => {
      expect(verifyLedgerChain([], [])).toEqual({ ok: true, events: 0, head: { seq: 0, hash: GENESIS_HASH }, problems: [] });
    });

    it('names an event whose data was altered', () => {
      const { items, keys } = chain(4);
      (items[1].body.data as Record<string, unknown>).goldCorrect = 2;
      const v = verifyLedgerChain(items, keys);
      expect(v.ok).toBe(false);
      expect(v.problems).toEqual([
        { seq: 2, eventId: 'batch-2:scored', type: 'batch.scored', kind: 'altered', message: 'event #2 (batch-2:scored, batch.scored) was altered: its content no longer matches its hash' },
      ]);
    });

    it('names an event altered and re-hashed: its successor no longer follows it and its key item holds the old hash', () => {
      const { items, keys } = chain(4);
      items[1].body.reason = 'rewritten';
      items[1].body.hash = chainHash(items[1].body);
      const v = verifyLedgerChain(items, keys);
      expect(v.problems.map((p) => [p.seq, p.kind, p.eventId])).toEqual([
        [2, 'altered', 'batch-2:scored'],
        [3, 'reordered', 'batch-3:scored'],
      ]);
      expect(v.problems[0].message).toMatch(/was replaced: its hash is not the one recorded/);
      expect(v.problems[1].message).toMatch(/does not follow event #2/);
    });

    it('names an event deleted from the middle of the chain', () => {
      const { items, keys } = chain(5);
      items.splice(2, 1);
      const v = verifyLedgerChain(items, keys);
      expect(v.problems).toEqual([
        { seq: 3, eventId: 'batch-3:scored', type: '?', kind: 'missing', message: 'event #3 (batch-3:scored, ?) is missing: it was deleted (the chain jumps to #4)' },
      ]);
    });

    it('names the last event when it was deleted (no gap, but its key item remains)', () => {
      const { items, keys } = chain(3);
      items.pop();
      const v = verifyLedgerChain(items, keys);
      expect(v.ok).toBe(false);
      expect(v.head.seq).toBe(2);
      expect(v.problems.map((p) => [p.seq, p.kind, p.eventId])).toEqual([[3, 'missing', 'batch-3:scored']]);
    });

    it('names both events when two swapped places', () => {
      const { items, keys } = chain(5);
      const b2 = items[1].body;
      items[1].body = items[3].body;
      items[3].body = b2;
      const v = verifyLedgerChain(items, keys);
      expect(v.ok).toBe(false);
      const named = new Set(v.problems.filter((p) => p.kind === 'reordered').map((p) => p.eventId));
      expect(named).toEqual(new Set(['batch-2:scored', 'batch-4:scored']));
      expect(v.problems.some((p) => p.message.includes('event #2 (batch-4:scored, batch.scored) is stored at #2 but was appended as #4'))).toBe(true);
    });

    it('names an event whose prevHash was changed to another predecessor (reordered)', () => {
      const { items, keys } = chain(3);
      items[2].body.prevHash = items[0].body.hash;
      items[2].body.hash = chainHash(items[2].body);
      keys[2].body.hash = items[2].body.hash;
      const v = verifyLedgerChain(items, keys);
      expect(v.problems.map((p) => [p.seq, p.kind])).toEqual([[3, 'reordered']]);
    });

    it('reports a malformed item as altered, without throwing', () => {
      const { items, keys } = chain(3);
      delete items[1].body.seq;
      items[1].body.hash = 42;
      const v = verifyLedgerChain(items, keys);
      expect(v.problems.map((p) => [p.seq, p.kind])).toEqual([[2, 'altered']]);
      expect(v.problems[0].message).toMatch(/^event #2 \(batch-2:scored, batch\.scored\) is malformed \(seq, hash\)/);
    });

    it('reports a later copy of an event id as a benign duplicate, not as tampering', () => {
      // A crash between the event write and its key write: the retry appends the same eventId again at the next seq.
      const { items, keys, events } = chain(2);
      const again = chainEvent(scored(1, '2025-03-01T10:00:00.000Z'), 3, events[1].hash);
      items.push({ keySeq: 3, body: structuredClone(again) as Record<string, unknown> });
      keys[0] = { eventId: 'batch-1:scored', body: { seq: 3, hash: again.hash } };
      const v = verifyLedgerChain(items, keys);
      expect(v.ok).toBe(true);
      expect(v.problems).toEqual([
        {
          seq: 3,
          eventId: 'batch-1:scored',
          type: 'batch.scored',
          kind: 'duplicate',
          message: 'event #3 (batch-1:scored, batch.scored) repeats event #1: duplicate append (benign: same content), counted once',
        },
      ]);
    });

    it('names an anchored event that was changed or removed after the anchor was taken', () => {
      const { items, keys, events } = chain(3);
      const anchor = { seq: 3, hash: events[2].hash };
      items[2].body = { ...items[2].body, reason: 'x' };
      items[2].body.hash = chainHash(items[2].body);
      keys[2].body.hash = items[2].body.hash;
      const changed = verifyLedgerChain(items, keys, [anchor]);
      expect(changed.problems.map((p) => [p.seq, p.kind, p.eventId])).toEqual([[3, 'anchor-mismatch', 'batch-3:scored']]);

      const gone = verifyLedgerChain(items.slice(0, 2), keys.slice(0, 2), [anchor]);
      expect(gone.problems.map((p) => [p.seq, p.kind])).toEqual([[3, 'anchor-mismatch']]);
      expect(gone.problems[0].message).toMatch(/is gone from the chain/);
    });
  });
});
