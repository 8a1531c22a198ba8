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
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { LedgerEvent } from './model/index.js';

/** The `prevHash` of the first event of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** A stored ledger event: the event, its place in the program's chain, and its hash. */
export type ChainedLedgerEvent = LedgerEvent & { seq: number; prevHash: string; hash: string };

/** A position of the chain (the head of a release, say): event `seq` had hash `hash`. */
export const ChainAnchor = z.strictObject({ seq: z.number().int().positive(), hash: z.string().regex(/^[0-9a-f]{64}$/) });
export type ChainAnchor = z.infer<typeof ChainAnchor>;

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
 * The event as it is stored at `seq` after `prevHash`: a plain-JSON copy (what
 * the store gives back) with its chain fields and hash.
 */
export function chainEvent(e: LedgerEvent, seq: number, prevHash: string): ChainedLedgerEvent {
  const plain = JSON.parse(JSON.stringify(e)) as LedgerEvent;
  const body = { ...plain, seq, prevHash };
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

/** An event item as read from the store: its sort key's sequence number and its attributes, unparsed. */
export interface RawChainItem {
  /** The sequence number in the item's sort key (`SEQ#000000000042` → 42). */
  keySeq: number;
  body: Record<string, unknown>;
}

/** A key item as read from the store: which seq the eventId was appended at, and with what hash. */
export interface RawKeyItem {
  eventId: string;
  body: Record<string, unknown>;
}

export type ChainProblemKind = 'altered' | 'missing' | 'reordered' | 'duplicate' | 'anchor-mismatch';

export interface ChainProblem {
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
  head: { seq: number; hash: string };
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
const name = (seq: number, eventId: string, type: string) => `event #${seq} (${eventId}, ${type})`;
/** The event's content without its chain fields and time, to tell a benign re-append from a conflicting one. */
const content = (b: Record<string, unknown>): string => {
  const { seq: _s, prevHash: _p, hash: _h, at: _a, ...rest } = b;
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

  for (const a of anchors) {
    const at = bySeq.get(a.seq);
    if (!at || at.hash !== a.hash) {
      problems.push({
        seq: a.seq,
        eventId: at?.eventId ?? '?',
        type: at?.type ?? '?',
        kind: 'anchor-mismatch',
        message: `${name(a.seq, at?.eventId ?? '?', at?.type ?? '?')} ${at ? 'has another hash than' : 'is gone from'} the chain recorded at ${a.hash.slice(0, 12)}…: the ledger was changed after that point was anchored`,
      });
    }
  }

  problems.sort((x, y) => x.seq - y.seq);
  return {
    ok: problems.every((p) => p.kind === 'duplicate'),
    events: items.length,
    head: previous ? { seq: previous.seq, hash: previous.hash } : { seq: 0, hash: GENESIS_HASH },
    problems,
  };
}
