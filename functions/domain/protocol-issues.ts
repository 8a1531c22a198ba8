/**
 * Schema problems as sentences a PM can act on: each zod issue named by its
 * path, with the offending value, the expected form, a spelling hint and its
 * line; unknown fields found. Part of protocol-document.ts.
 */
import type { z } from 'zod';

/** A path into a document, as zod reports it: object keys and array indexes. */
export type DocumentPath = readonly PropertyKey[];

/** Finds where a path sits in the source text, e.g. `line 12`; undefined when unknown. */
export type Locate = (path: DocumentPath) => string | undefined;

export const nowhere: Locate = () => undefined;

export const count = (n: number): string => n.toLocaleString('en-US');

export const sentence = (message: string): string => message.split('\n')[0].replace(/\s+at line \d+, column \d+:?$/, '').trim();

/** At most this many problems (or warnings) are described, plus one line saying how many more there are. */
export const MAX_REPORTED = 50;

/** Describes the first MAX_REPORTED items (finding a line is not free in a large mapping) and counts the rest. */
export function firstOf<T>(items: readonly T[], describe: (items: readonly T[]) => string[], noun: string): string[] {
  const out = describe(items.slice(0, MAX_REPORTED));
  const more = items.length - MAX_REPORTED;
  if (more > 0) out.push(`… and ${count(more)} more ${noun}${more === 1 ? '' : 's'} not shown`);
  return out;
}

/**
 * Turns zod issues into path-qualified sentences a PM can act on. `data` is the
 * raw input (to quote the offending value), `locate` adds a line number.
 *
 * @example describeIssues(Case.safeParse(row).error.issues, row) // ['flags.rare: expected true or false, got "yes"']
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], data: unknown, locate: Locate = nowhere): string[] {
  return withoutEchoes(issues).map((issue) => {
    const where = locate(issue.path);
    return `${formatPath(issue.path)}: ${describeIssue(issue, data)}${where ? ` (${where})` : ''}`;
  });
}

/**
 * zod 4 goes on checking a value of the wrong type: `[]` where `z.string().min(1)`
 * is expected gives "expected text" and "must have at least one item". Once a
 * value has the wrong type, other complaints about the same path are noise.
 */
export function withoutEchoes(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const wrongType = new Set(issues.filter((i) => i.code === 'invalid_type').map((i) => JSON.stringify(i.path.map(String))));
  return issues.filter((i) => i.code === 'invalid_type' || !wrongType.has(JSON.stringify(i.path.map(String))));
}

/**
 * `routing.rules[2].when[0].op`; keys that are not plain names are quoted
 * (`task.labels["1"]`); the empty path is `(document)`.
 */
export function formatPath(path: DocumentPath): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || '(document)';
}

const MISSING = Symbol('missing');

function valueAt(data: unknown, path: DocumentPath): unknown {
  let v: unknown = data;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || !(key in (v as object))) return MISSING;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

export function describeKind(v: unknown): string {
  if (v === null) return 'null (an empty value)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the text ${show(v)}`;
  return `${typeof v} ${show(v)}`;
}

/**
 * A value as JSON, cut at 60 characters. Written out piece by piece and only as
 * far as needed, so a huge, deeply nested or cyclic value costs nothing; numbers
 * that JSON cannot hold show as themselves (`Infinity`, not `null`).
 */
export function show(v: unknown): string {
  const s = preview(v, 61, 0);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

function preview(v: unknown, budget: number, depth: number): string {
  if (typeof v === 'string') return JSON.stringify(v.length > budget ? v.slice(0, budget) : v);
  if (v === null || typeof v !== 'object') return String(v);
  if (depth > budget) return '…';
  const open = Array.isArray(v) ? '[' : '{';
  let out = open;
  const keys = Array.isArray(v) ? null : Object.keys(v);
  const n = keys ? keys.length : (v as unknown[]).length;
  for (let i = 0; i < n && out.length <= budget; i++) {
    const item = keys ? (v as Record<string, unknown>)[keys[i]] : (v as unknown[])[i];
    if (keys && item === undefined) continue;
    if (out.length > 1) out += ',';
    if (keys) out += `${JSON.stringify(keys[i])}:`;
    out += item === undefined ? 'null' : preview(item, budget - out.length, depth + 1);
  }
  return `${out}${open === '[' ? ']' : '}'}`;
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping of fields',
  record: 'a mapping of keys to values',
  array: 'a list',
  bigint: 'a whole number',
  date: 'a date',
  null: 'null',
};

const expectedName = (e: string): string => EXPECTED[e] ?? e;
const oneOf = (values: readonly unknown[]): string =>
  values.length === 1 ? `exactly ${formatLiteral(values[0])}` : `one of ${values.map(formatLiteral).join(', ')}`;
const formatLiteral = (v: unknown): string => (typeof v === 'string' ? v : show(v));

function bound(issue: { minimum?: unknown; maximum?: unknown; inclusive?: boolean; origin?: string; exact?: boolean }, side: 'min' | 'max'): string {
  const limit = side === 'min' ? issue.minimum : issue.maximum;
  const n = Number(limit);
  switch (issue.origin) {
    case 'string':
      if (side === 'min' && n === 1) return 'must not be empty';
      return `must have ${issue.exact ? 'exactly' : side === 'min' ? 'at least' : 'at most'} ${n} character${n === 1 ? '' : 's'}`;
    case 'array':
    case 'set':
      if (side === 'min' && n === 1) return 'must have at least one item';
      return `must have ${issue.exact ? 'exactly' : side === 'min' ? 'at least' : 'at most'} ${n} item${n === 1 ? '' : 's'}`;
    default:
      if (side === 'min') return issue.inclusive ? `must be at least ${String(limit)}` : `must be greater than ${String(limit)}`;
      return issue.inclusive ? `must be at most ${String(limit)}` : `must be less than ${String(limit)}`;
  }
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): string {
  const value = valueAt(data, issue.path);
  const got = value === MISSING || value === undefined ? '' : `, got ${show(value)}`;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = expectedName(issue.expected);
      if (value === MISSING || value === undefined) return `required field is missing (expected ${expected})${spellingHint(data, issue.path)}`;
      if (issue.expected === 'int' && typeof value === 'number') return `expected a whole number, got ${show(value)}`;
      return `expected ${expected}, got ${describeKind(value)}`;
    }
    case 'invalid_value':
      return `expected ${oneOf(issue.values)}${got}`;
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (options?.length) {
        if (value === MISSING || value === undefined) return `required field is missing (expected ${oneOf(options)})`;
        return `expected ${oneOf(options)}${got}`;
      }
      const expected = [
        ...new Set(issue.errors.flatMap((branch) => branch.filter((i) => i.code === 'invalid_type' && i.path.length === 0).map((i) => expectedName((i as { expected: string }).expected)))),
      ];
      if (expected.length) return `expected ${expected.join(' or ')}${got}`;
      return `${sentence(issue.message)}${got}`;
    }
    case 'too_small':
      return `${bound(issue, 'min')}${got}`;
    case 'too_big':
      return `${bound(issue, 'max')}${got}`;
    case 'invalid_format': {
      if (issue.format === 'datetime') return `expected an ISO 8601 date-time in UTC such as 2025-03-01T09:00:00Z${got}`;
      const custom = !/^Invalid /.test(issue.message);
      if (issue.format === 'regex') return `${custom ? `must be ${issue.message}` : `must match ${issue.pattern ?? 'the pattern'}`}${got}`;
      return `${custom ? issue.message : `expected ${issue.format}`}${got}`;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}${got}`;
    case 'unrecognized_keys':
      // Quoted as JSON (a newline or quote in a hostile key stays escaped: the problem stays one line), at most 64 characters each.
      return `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => JSON.stringify(k.length > 64 ? `${k.slice(0, 64)}…` : k)).join(', ')}`;
    case 'invalid_key':
      return `the key is not allowed: ${issue.issues.map((i) => describeIssue(i as z.core.$ZodIssue, undefined)).join('; ')}`;
    case 'invalid_element':
      return `an element is not valid: ${issue.issues.map((i) => describeIssue(i as z.core.$ZodIssue, undefined)).join('; ')}`;
    default:
      return issue.message;
  }
}

/** A missing `goldRate` beside a present `goldrate` or `gold_rate`: say so. */
function spellingHint(data: unknown, path: DocumentPath): string {
  const key = path[path.length - 1];
  const parent = valueAt(data, path.slice(0, -1));
  if (typeof key !== 'string' || parent === null || typeof parent !== 'object' || Array.isArray(parent)) return '';
  const norm = (k: string) => k.toLowerCase().replace(/[-_\s]/g, '');
  const near = Object.keys(parent).find((k) => k !== key && norm(k) === norm(key));
  return near ? `; found "${near}" instead (field names are case-sensitive)` : '';
}

/**
 * Keys of the raw input that the schema dropped: the protocol schema strips
 * fields it does not know, so a misspelt optional field would otherwise vanish
 * silently and its default would apply.
 */
export function unknownFields(raw: unknown, parsed: unknown, path: PropertyKey[] = []): PropertyKey[][] {
  if (Array.isArray(raw) && Array.isArray(parsed)) {
    return raw.flatMap((item, i) => (i < parsed.length ? unknownFields(item, parsed[i], [...path, i]) : []));
  }
  if (!isPlainObject(raw) || !isPlainObject(parsed)) return [];
  return Object.keys(raw).flatMap((key) =>
    key in parsed ? unknownFields(raw[key], parsed[key], [...path, key]) : [[...path, key]],
  );
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
