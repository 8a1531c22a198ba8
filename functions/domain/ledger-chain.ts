/**
 * The ledger's hash chain: each program's events are numbered 1, 2, 3 … (`seq`,
 * the time order), and each carries the hash of its predecessor (`prevHash`)
 * and its own `hash` = SHA-256 over canonical JSON (keys sorted, recursively) of
 * the stored event with `seq` and `prevHash`, without `hash`. Changing, removing
 * or moving any event breaks the chain at that event, and {@link verifyLedgerChain}
 * names it (21 CFR 11.10(e): an audit trail that never obscures earlier records).
 *
 * Storage is two kinds of item (functions/adapters/dynamo-ledger.ts): the event at
 * its sequence number, and a key item per eventId pointing at {seq, hash}. With
 * no transactions, a crash between the two writes makes a retry append the same
 * eventId again at a later seq: readers keep the first occurrence, and verify
 * reports later copies as benign duplicates, never as tampering.
 *
 * A program's ledger is several chains (issue 14: no partition key takes every
 * append): shard chains `00`…`07`, each numbered and hash-linked on its own, whose
 * events carry `shard` and `ord` (their time order), and — for a ledger written
 * before the shards — the legacy chain (events without `shard`). How they merge
 * into one time order is in ledger-merge.ts; verify checks every chain.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { LedgerEvent } from './model/index.js';

/** The `prevHash` of the first event of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * A stored ledger event: the event, its place in its chain (`seq`, and for a
 * sharded ledger the `shard` and the time-order key `ord`), and its hash.
 */
export type ChainedLedgerEvent = LedgerEvent & { seq: number; prevHash: string; hash: string; shard?: number; ord?: number };

/** The chain of the legacy single-partition ledger (events without `shard`). */
export const LEGACY_CHAIN = 'legacy';
const Hash = z.string().regex(/^[0-9a-f]{64}$/);
/** One chain's head: its event `seq` had hash `hash`. */
export const ChainHead = z.strictObject({ chain: z.string().min(1), seq: z.number().int().positive(), hash: Hash });
export type ChainHead = z.infer<typeof ChainHead>;

/**
 * A position of the ledger (the head of a release, say). A single-chain ledger's:
 * event `seq` had hash `hash`. A sharded ledger's: `heads`, each chain's last event
 * and its hash; `seq` is then the number of events and `hash` the SHA-256 of the
 * heads' canonical JSON (one line to print; the heads are what verify checks).
 */
export const ChainAnchor = z.strictObject({ seq: z.number().int().positive(), hash: Hash, heads: z.array(ChainHead).optional() });
export type ChainAnchor = z.infer<typeof ChainAnchor>;

/** The chain an event is stored in: its shard's label, or the legacy chain. */
export const chainOf = (e: { shard?: unknown }): string =>
  typeof e.shard === 'number' ? String(e.shard).padStart(2, '0') : LEGACY_CHAIN;

/**
 * JSON with object keys sorted at every level, so equal content hashes equally
 * whatever order the store returns attributes in. Undefined members are left out
 * (as JSON.stringify and the store do).
 *
 * @example canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }) // '{"a":[{"c":3,"d":2}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const o = value as Record<string, unknown>;
  const members = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`);
  return `{${members.join(',')}}`;
}

/**
 * The hash of a stored event: SHA-256 hex over canonical JSON of every field
 * (with `seq` and `prevHash`) except `hash` itself.
 */
export function chainHash(stored: Readonly<Record<string, unknown>>): string {
  const { hash: _hash, ...body } = stored;
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/**
 * The event as it is stored at `seq` after `prevHash` (in shard `place.shard` with
 * time-order key `place.ord`, for a sharded ledger): a plain-JSON copy (what the
 * store gives back) with its chain fields and hash, which covers `shard` and `ord` too.
 */
export function chainEvent(e: LedgerEvent, seq: number, prevHash: string, place?: { shard: number; ord: number }): ChainedLedgerEvent {
  const plain = JSON.parse(JSON.stringify(e)) as LedgerEvent;
  const body = { ...plain, seq, prevHash, ...(place ? { shard: place.shard, ord: place.ord } : {}) };
  return { ...body, hash: chainHash(body) } as ChainedLedgerEvent;
}

/** Keeps the first occurrence of each eventId (a later copy is a retried append after a crash). */
export function firstOccurrences<T extends { eventId: string }>(events: readonly T[]): T[] {
  const seen = new Set<string>();
  return events.filter((e) => {
    if (seen.has(e.eventId)) return false;
    seen.add(e.eventId);
    return true;
  });
}

/** An event item as read from the store: its chain, its sort key's sequence number and its attributes, unparsed. */
export interface RawChainItem {
  /** The chain the item's partition key names (a shard label); absent or `legacy` for the single-partition ledger. */
  chain?: string;
  /** The sequence number in the item's sort key (`SEQ#000000000042` → 42). */
  keySeq: number;
  body: Record<string, unknown>;
}

/** A key item as read from the store: which seq the eventId was appended at, and with what hash. */
export interface RawKeyItem {
  chain?: string;
  eventId: string;
  body: Record<string, unknown>;
}

export type ChainProblemKind = 'altered' | 'missing' | 'reordered' | 'duplicate' | 'anchor-mismatch';

export interface ChainProblem {
  /** The chain (shard label) of a sharded ledger; absent for the single chain. */
  chain?: string;
  seq: number;
  eventId: string;
  type: string;
  kind: ChainProblemKind;
  message: string;
}

export interface ChainVerdict {
  /** True when no problem other than benign duplicates was found. */
  ok: boolean;
  /** Events in the chain (each stored item counts once, duplicates included). */
  events: number;
  /** The single chain's last event; for a sharded ledger, the anchor of every chain's head (`heads`). */
  head: { seq: number; hash: string; heads?: ChainHead[] };
  problems: ChainProblem[];
}

const StoredFields = z.object({
  seq: z.number().int().positive(),
  prevHash: z.string(),
  hash: z.string(),
  eventId: z.string().min(1),
  type: z.string(),
});
const KeyFields = z.object({ seq: z.number().int().positive(), hash: z.string() });

const str = (v: unknown, fallback: string): string => (typeof v === 'string' && v !== '' ? v : fallback);
/** The event's content without its chain fields and time, to tell a benign re-append from a conflicting one. */
const content = (b: Record<string, unknown>): string => {
  const { seq: _s, prevHash: _p, hash: _h, at: _a, ord: _o, ...rest } = b;
  return canonicalJson(rest);
};

/**
 * Checks a program's chain. `items` are the event items in sort-key order,
 * `keys` the eventId → {seq, hash} items, `anchors` positions recorded elsewhere
 * (a release's ledger head) that must still hold. Every problem names the event
 * (seq, eventId, type):
 * - altered: the hash does not match the content, or the item is malformed;
 * - missing: a gap in the sequence, or a key item pointing at a seq that is not there
 *   (deleting the last event leaves no gap but leaves its key item);
 * - reordered: the item at SEQ#n says it is event m, or its prevHash is not its
 *   predecessor's hash (an event moved, or the predecessor replaced with a re-hashed copy);
 * - duplicate: the same eventId appended again later (benign: a retried append after a crash);
 * - anchor-mismatch: an anchor's event is gone or has another hash.
 *
 * @example verifyLedgerChain(items, keys, [release.ledgerHead]).problems.map((p) => p.message)
 */
export function verifyLedgerChain(items: readonly RawChainItem[], keys: readonly RawKeyItem[], anchors: readonly ChainAnchor[] = []): ChainVerdict {
  const label = (c: string | undefined) => c ?? LEGACY_CHAIN;
  const chains = [...new Set([...items.map((i) => label(i.chain)), ...keys.map((k) => label(k.chain))])].sort();
  const sharded = chains.some((c) => c !== LEGACY_CHAIN);
  const problems: ChainProblem[] = [];
  const heads: ChainHead[] = [];
  const byChain = new Map<string, Map<number, string>>();
  let events = 0;
  for (const c of chains) {
    const v = verifyOneChain(
      items.filter((i) => label(i.chain) === c),
      keys.filter((k) => label(k.chain) === c),
      sharded ? c : undefined,
    );
    problems.push(...v.problems);
    byChain.set(c, v.hashes);
    events += v.events;
    if (v.head.seq > 0) heads.push({ chain: c, ...v.head });
  }
  for (const a of anchors) problems.push(...checkAnchor(a, byChain));
  problems.sort((x, y) => (x.chain ?? '').localeCompare(y.chain ?? '') || x.seq - y.seq);
  const single = heads.length === 1 && heads[0].chain === LEGACY_CHAIN;
  return {
    ok: problems.every((p) => p.kind === 'duplicate'),
    events,
    head: heads.length === 0 ? { seq: 0, hash: GENESIS_HASH } : single ? { seq: heads[0].seq, hash: heads[0].hash } : anchorOfHeads(heads, events),
    problems,
  };
}

/** A sharded ledger's anchor: the chains' heads, the event count, the heads' digest. */
export function anchorOfHeads(heads: readonly ChainHead[], events: number): ChainAnchor & { heads: ChainHead[] } {
  const sorted = [...heads].sort((a, b) => a.chain.localeCompare(b.chain));
  return { seq: Math.max(1, events), hash: createHash('sha256').update(canonicalJson(sorted)).digest('hex'), heads: sorted };
}

/** An anchor still holds when every head it names is in its chain with that hash (a single-chain anchor: in the legacy chain). */
function checkAnchor(a: ChainAnchor, byChain: ReadonlyMap<string, ReadonlyMap<number, string>>): ChainProblem[] {
  const heads = a.heads ?? [{ chain: LEGACY_CHAIN, seq: a.seq, hash: a.hash }];
  const out: ChainProblem[] = [];
  for (const h of heads) {
    const at = byChain.get(h.chain)?.get(h.seq);
    if (at?.split('|')[0] === h.hash) continue;
    const [, eventId = '?', type = '?'] = at?.split('|') ?? [];
    const where = !a.heads ? `event #${h.seq}` : h.chain === LEGACY_CHAIN ? `event #${h.seq} of the legacy chain` : `event #${h.seq} of shard ${h.chain}`;
    out.push({
      ...(a.heads ? { chain: h.chain } : {}),
      seq: h.seq,
      eventId,
      type,
      kind: 'anchor-mismatch',
      message: `${where} (${eventId}, ${type}) ${at ? 'has another hash than' : 'is gone from'} the chain recorded at ${h.hash.slice(0, 12)}…: the ledger was changed after that point was anchored`,
    });
  }
  return out;
}

/**
 * One chain's check (see verifyLedgerChain); `chain` names the shard in messages
 * (undefined for a single-chain ledger). Returns its problems, its event count, its
 * head and each seq's `hash|eventId|type` (for the anchors).
 */
function verifyOneChain(items: readonly RawChainItem[], keys: readonly RawKeyItem[], chain: string | undefined) {
  const where = chain === undefined ? '' : chain === LEGACY_CHAIN ? ' of the legacy chain' : ` of shard ${chain}`;
  const name = (seq: number, eventId: string, type: string) => `event #${seq}${where} (${eventId}, ${type})`;
  const problems: ChainProblem[] = [];
  const bySeq = new Map<number, { eventId: string; type: string; hash: string; body: Record<string, unknown> }>();
  const firstSeqOf = new Map<string, number>();
  const keyAt = new Map<number, string>();
  for (const k of keys) {
    const parsed = KeyFields.safeParse(k.body);
    if (parsed.success) keyAt.set(parsed.data.seq, k.eventId);
  }
  const reportedMissing = new Set<number>();
  let previous: { seq: number; hash: string; flagged: boolean } | undefined;
  let expected = 1;

  for (const item of items) {
    const b = item.body;
    const eventId = str(b.eventId, '?');
    const type = str(b.type, '?');
    const seq = item.keySeq;
    const before = problems.length;
    for (let gap = expected; gap < seq; gap++) {
      const gone = keyAt.get(gap) ?? '?';
      reportedMissing.add(gap);
      problems.push({ seq: gap, eventId: gone, type: '?', kind: 'missing', message: `${name(gap, gone, '?')} is missing: it was deleted (the chain jumps to #${seq})` });
    }
    const fields = StoredFields.safeParse(b);
    if (!fields.success) {
      const what = fields.error.issues.map((i) => i.path.join('.') || 'item').join(', ');
      problems.push({ seq, eventId, type, kind: 'altered', message: `${name(seq, eventId, type)} is malformed (${what}): it was altered` });
      bySeq.set(seq, { eventId, type, hash: '', body: b });
      previous = { seq, hash: typeof b.hash === 'string' ? b.hash : '', flagged: true };
      expected = seq + 1;
      continue;
    }
    const f = fields.data;
    if (f.seq !== seq) {
      problems.push({ seq, eventId, type, kind: 'reordered', message: `${name(seq, eventId, type)} is stored at #${seq} but was appended as #${f.seq}: it was moved` });
    }
    if (chain && chain !== LEGACY_CHAIN && b.shard !== Number(chain)) {
      problems.push({ seq, eventId, type, kind: 'reordered', message: `${name(seq, eventId, type)} was appended to shard ${String(b.shard ?? '?')}: it was moved` });
    }
    if (chainHash(b) !== f.hash) {
      problems.push({ seq, eventId, type, kind: 'altered', message: `${name(seq, eventId, type)} was altered: its content no longer matches its hash` });
    }
    // A break after a predecessor already named (altered, moved) is that predecessor's doing: not reported twice.
    const predecessorHash = seq === 1 ? GENESIS_HASH : previous && previous.seq === seq - 1 && !previous.flagged ? previous.hash : undefined;
    if (predecessorHash !== undefined && f.seq === seq && f.prevHash !== predecessorHash) {
      problems.push({
        seq,
        eventId,
        type,
        kind: 'reordered',
        message: `${name(seq, eventId, type)} does not follow event #${seq - 1}: its predecessor was replaced or moved`,
      });
    }
    const first = firstSeqOf.get(eventId);
    if (first === undefined) firstSeqOf.set(eventId, seq);
    else {
      const same = content(b) === content(bySeq.get(first)?.body ?? {});
      problems.push({
        seq,
        eventId,
        type,
        kind: 'duplicate',
        message: `${name(seq, eventId, type)} repeats event #${first}: duplicate append (benign: ${same ? 'same content' : 'a retried append; the first is the record'}), counted once`,
      });
    }
    bySeq.set(seq, { eventId, type, hash: f.hash, body: b });
    const flagged = problems.slice(before).some((p) => p.seq === seq && p.kind !== 'duplicate');
    previous = { seq, hash: f.hash, flagged };
    expected = seq + 1;
  }

  for (const k of keys) {
    const parsed = KeyFields.safeParse(k.body);
    if (!parsed.success) {
      problems.push({ seq: 0, eventId: k.eventId, type: '?', kind: 'altered', message: `the key item of ${k.eventId} is malformed: it was altered` });
      continue;
    }
    const at = bySeq.get(parsed.data.seq);
    if (!at && reportedMissing.has(parsed.data.seq)) continue;
    if (!at) {
      problems.push({
        seq: parsed.data.seq,
        eventId: k.eventId,
        type: '?',
        kind: 'missing',
        message: `${name(parsed.data.seq, k.eventId, '?')} is missing: it was appended (its key item remains) and then deleted`,
      });
    } else if (at.eventId !== k.eventId) {
      problems.push({
        seq: parsed.data.seq,
        eventId: k.eventId,
        type: at.type,
        kind: 'reordered',
        message: `${name(parsed.data.seq, k.eventId, '?')} was appended at #${parsed.data.seq}, which now holds ${at.eventId}: events were moved`,
      });
    } else if (at.hash !== parsed.data.hash && !problems.some((p) => p.seq === parsed.data.seq && p.kind === 'altered')) {
      problems.push({
        seq: parsed.data.seq,
        eventId: k.eventId,
        type: at.type,
        kind: 'altered',
        message: `${name(parsed.data.seq, k.eventId, at.type)} was replaced: its hash is not the one recorded when it was appended`,
      });
    }
  }

  return {
    problems: chain ? problems.map((p) => ({ chain, ...p })) : problems,
    events: items.length,
    head: previous ? { seq: previous.seq, hash: previous.hash } : { seq: 0, hash: GENESIS_HASH },
    hashes: new Map([...bySeq.entries()].map(([seq, e]) => [seq, `${e.hash}|${e.eventId}|${e.type}`])),
  };
}
