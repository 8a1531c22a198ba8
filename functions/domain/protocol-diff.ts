/** What changed from one protocol version to another, and how to say it. Part of protocol-document.ts. */
import type { ProtocolVersion } from './model/protocol.js';
import { isPlainObject, show } from './protocol-issues.js';

export interface ProtocolChange {
  /**
   * Where, in the notation of validation problems; elements of lists whose items
   * carry an `id` (routing rules) are named by it: `routing.rules[id=ct-internal].route.pool`.
   */
  path: string;
  kind: 'added' | 'removed' | 'changed' | 'moved';
  /** The old value (changed, removed) or, for `moved`, the old index (0-based). */
  from?: unknown;
  /** The new value (changed, added) or, for `moved`, the new index (0-based). */
  to?: unknown;
  /** For an added or removed element of an id-keyed list: its index (0-based) in the version that has it. */
  index?: number;
}

/** Fields that differ between any two versions and say nothing about the rules. */
const IGNORED_TOP_LEVEL = new Set(['version', 'createdAt', 'createdBy']);

/**
 * What changed from protocol version `a` to `b`, walked over the plain JSON of
 * both, so fields added to the schema later are compared without code changes.
 * Lists whose items all carry a distinct `id` (routing rules) are matched by id:
 * a rule whose place in the evaluation order changed is `moved` (the fewest
 * moves that explain the new order); other lists are compared by index.
 * `version`, `createdAt` and `createdBy` are ignored.
 *
 * @example diffProtocolVersions(v1, v2) // [{ path: 'goldRate', kind: 'changed', from: 0.1, to: 0.15 }, …]
 */
export function diffProtocolVersions(a: ProtocolVersion, b: ProtocolVersion): ProtocolChange[] {
  const out: ProtocolChange[] = [];
  const ja = toPlainJson(a) as Record<string, unknown>;
  const jb = toPlainJson(b) as Record<string, unknown>;
  for (const key of IGNORED_TOP_LEVEL) {
    delete ja[key];
    delete jb[key];
  }
  diffValue('', ja, jb, out);
  return out;
}

const toPlainJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

const join = (path: string, key: string): string => (/^[A-Za-z_$][\w$]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`);

function diffValue(path: string, a: unknown, b: unknown, out: ProtocolChange[]): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (keyedById(a) && keyedById(b)) diffKeyedList(path, a, b, out);
    else diffIndexedList(path, a, b, out);
    return;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !(k in a))];
    for (const key of keys) {
      const p = join(path, key);
      if (!(key in b)) out.push({ path: p, kind: 'removed', from: a[key] });
      else if (!(key in a)) out.push({ path: p, kind: 'added', to: b[key] });
      else diffValue(p, a[key], b[key], out);
    }
    return;
  }
  if (!sameJson(a, b)) out.push({ path, kind: 'changed', from: a, to: b });
}

function diffIndexedList(path: string, a: unknown[], b: unknown[], out: ProtocolChange[]): void {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const p = `${path}[${i}]`;
    if (i >= b.length) out.push({ path: p, kind: 'removed', from: a[i] });
    else if (i >= a.length) out.push({ path: p, kind: 'added', to: b[i] });
    else diffValue(p, a[i], b[i], out);
  }
}

type Keyed = Record<string, unknown> & { id: string };

function keyedById(list: unknown[]): list is Keyed[] {
  if (list.length === 0) return true;
  const ids = new Set<string>();
  for (const item of list) {
    if (!isPlainObject(item) || typeof item.id !== 'string' || ids.has(item.id)) return false;
    ids.add(item.id);
  }
  return true;
}

function diffKeyedList(path: string, a: Keyed[], b: Keyed[], out: ProtocolChange[]): void {
  const at = (id: string) => `${path}[id=${id}]`;
  const indexA = new Map(a.map((item, i) => [item.id, i]));
  const indexB = new Map(b.map((item, i) => [item.id, i]));
  a.forEach((item, i) => {
    if (!indexB.has(item.id)) out.push({ path: at(item.id), kind: 'removed', from: item, index: i });
  });
  // Rules kept in the same relative order are the longest common subsequence of
  // the shared ids; every other shared rule moved.
  const shared = b.filter((item) => indexA.has(item.id)).map((item) => item.id);
  const stay = longestIncreasingRun(shared.map((id) => indexA.get(id)!)).map((k) => shared[k]);
  const staying = new Set(stay);
  b.forEach((item, j) => {
    const i = indexA.get(item.id);
    if (i === undefined) {
      out.push({ path: at(item.id), kind: 'added', to: item, index: j });
      return;
    }
    if (!staying.has(item.id)) out.push({ path: at(item.id), kind: 'moved', from: i, to: j });
    diffValue(at(item.id), a[i], item, out);
  });
}

/** Positions (into `xs`) of one longest strictly increasing subsequence. O(n log n). */
function longestIncreasingRun(xs: number[]): number[] {
  const tails: number[] = [];
  const prev: number[] = new Array(xs.length).fill(-1);
  xs.forEach((x, k) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[tails[mid]] < x) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[k] = tails[lo - 1];
    tails[lo] = k;
  });
  const run: number[] = [];
  for (let k = tails.length ? tails[tails.length - 1] : -1; k >= 0; k = prev[k]) run.unshift(k);
  return run;
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * One line per change, for a PM: `changed  goldRate: 0.1 → 0.15`. Positions of
 * rules are 1-based ("position 1" is evaluated first); conditions and routes are
 * written out (`flags.rare is true`, `internal [radiologist]`).
 *
 * @example formatProtocolDiff(diffProtocolVersions(v1, v2))
 */
export function formatProtocolDiff(changes: readonly ProtocolChange[]): string {
  if (changes.length === 0) return 'no changes (version, createdAt and createdBy are not compared)';
  return changes.map(formatChange).join('\n');
}

function formatChange(c: ProtocolChange): string {
  const label = c.kind.padEnd(8);
  if (c.kind === 'added') return `${label} ${c.path}${c.index !== undefined ? ` at position ${c.index + 1}` : ''}: ${describeValue(c.to)}`;
  if (c.kind === 'removed') return `${label} ${c.path}${c.index !== undefined ? ` (was at position ${c.index + 1})` : ''}: ${describeValue(c.from)}`;
  if (c.kind === 'moved') {
    const from = Number(c.from) + 1;
    const to = Number(c.to) + 1;
    return `${label} ${c.path}: position ${from} → position ${to} (now evaluated ${to < from ? 'earlier' : 'later'})`;
  }
  return `${label} ${c.path}: ${describeValue(c.from)} → ${describeValue(c.to)}`;
}

/** A value in words: conditions, routes and rules the way a PM writes them, anything else as JSON. */
export function describeValue(v: unknown): string {
  if (isPlainObject(v)) {
    if (typeof v.attribute === 'string' && typeof v.op === 'string') return describeCondition(v);
    if (typeof v.id === 'string' && Array.isArray(v.when) && isPlainObject(v.route)) {
      const when = v.when.length ? v.when.map((c) => (isPlainObject(c) ? describeCondition(c) : show(c))).join(' and ') : 'every case';
      return `when ${when} → ${describeRoute(v.route)}${typeof v.reason === 'string' ? ` — "${v.reason}"` : ''}`;
    }
    if (typeof v.pool === 'string') return describeRoute(v);
  }
  return JSON.stringify(v) ?? 'nothing';
}

function describeCondition(c: Record<string, unknown>): string {
  switch (c.op) {
    case 'isTrue':
      return `${c.attribute} is true`;
    case 'isFalse':
      return `${c.attribute} is false`;
    case 'equals':
      return `${c.attribute} = ${JSON.stringify(c.value)}`;
    case 'notEquals':
      return `${c.attribute} ≠ ${JSON.stringify(c.value)}`;
    case 'in':
      return `${c.attribute} in ${JSON.stringify(c.values)}`;
    default:
      return JSON.stringify(c);
  }
}

/** `internal [radiologist], overflowToVendors`: other route options are named when set. */
export function describeRoute(r: Record<string, unknown>): string {
  const q = Array.isArray(r.qualifications) && r.qualifications.length ? ` [${r.qualifications.join(', ')}]` : '';
  const options = Object.entries(r)
    .filter(([k, v]) => k !== 'pool' && k !== 'qualifications' && v !== false && v !== undefined)
    .map(([k, v]) => (v === true ? k : `${k}=${JSON.stringify(v)}`));
  return `${String(r.pool)}${q}${options.map((o) => `, ${o}`).join('')}`;
}
