/**
 * Protocol documents as a PM writes them: YAML or JSON files that are parsed and
 * checked against the `ProtocolVersion` schema with every problem named by its
 * path, compared version to version, and tried on sample cases before a round.
 * Pure: text in, plain data out; nothing here reads files or throws on bad input.
 */
import { type Document, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { Case } from './model/case.js';
import { ProtocolVersion, protocolRef } from './model/protocol.js';
import { type RoutingDecision, routeCase, undeclaredCaseAttributes } from './routing.js';

// ---------------------------------------------------------------------------
// Parsing and validation
// ---------------------------------------------------------------------------

export type ParseProtocolResult =
  | {
      ok: true;
      protocol: ProtocolVersion;
      /** Not fatal: fields the format does not know (ignored), YAML warnings. */
      warnings: string[];
    }
  | { ok: false; problems: string[] };

/** A path into a document, as zod reports it: object keys and array indexes. */
export type DocumentPath = readonly PropertyKey[];

/** Finds where a path sits in the source text, e.g. `line 12`; undefined when unknown. */
export type Locate = (path: DocumentPath) => string | undefined;

/** A document decoded from JSON or YAML text, before schema validation. */
export type DecodedDocument =
  | { ok: true; data: unknown; format: 'json' | 'yaml'; locate: Locate; warnings: string[] }
  | { ok: false; format: 'json' | 'yaml'; problems: string[] };

/**
 * Bounds on a document, checked before and while it is decoded so that no text
 * can take unbounded memory or time: its size in UTF-8 bytes (checked before
 * parsing), how deep mappings and lists nest, and how many values it holds once
 * YAML aliases are expanded (a "billion laughs" document is a few lines).
 */
export interface DocumentLimits {
  maxBytes: number;
  maxDepth: number;
  maxValues: number;
}

/**
 * A protocol is a few kilobytes (the commented v1 example is about 7 KB; a rule
 * is about 300 bytes) and nests 7 levels (`routing.rules[0].when[0].values[0]`);
 * these leave ample room. The byte cap also bounds the YAML parser's own cost,
 * which grows with the number of nodes: the worst 256 KiB documents (a flat list
 * of 130,000 numbers, 130,000-deep brackets, aliases) are refused in a few
 * seconds within a 160 MB heap; at 1 MiB they took about 8 s and 550 MB.
 */
export const PROTOCOL_DOCUMENT_LIMITS: DocumentLimits = { maxBytes: 256 * 1024, maxDepth: 32, maxValues: 100_000 };

/**
 * YAML aliases resolved per anchor, weighted by the aliases inside it (the `yaml`
 * library's own guard against exponential expansion; its default is 100).
 */
const MAX_YAML_ALIAS_COUNT = 1000;

/** Above this size a JSON document is not re-read through the YAML parser for line numbers (problems name the path only). */
const LOCATE_MAX_CHARS = 4 * 1024 * 1024;

const nowhere: Locate = () => undefined;

/**
 * The format of a document: by file extension when there is one we know, else by
 * content (a document that opens with `{` or `[` is JSON, anything else YAML).
 */
export function detectDocumentFormat(text: string, filename?: string): 'json' | 'yaml' {
  const ext = filename?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  if (ext === 'json') return 'json';
  if (ext === 'yaml' || ext === 'yml') return 'yaml';
  const first = text.replace(/^\uFEFF/, '').trimStart()[0];
  return first === '{' || first === '[' ? 'json' : 'yaml';
}

/** UTF-8 length of a string without encoding it; stops counting once past `limit`. */
export function utf8ByteLength(text: string, limit = Number.POSITIVE_INFINITY): number {
  let bytes = 0;
  for (let i = 0; i < text.length && bytes <= limit; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * Decodes JSON or YAML text into plain data, with a locator that turns a path
 * into a line number (YAML, and JSON read through the YAML parser for positions).
 * Syntax errors come back as sentences with line and column; a document over
 * the limits (size, nesting, values after alias expansion) or holding a number
 * that is not finite (`1e400`, `.inf`, `.nan`) is refused with the path and line.
 * Never throws.
 *
 * @example decodeDocument('a: [1, 2', { filename: 'p.yaml' }).ok // false
 */
export function decodeDocument(text: string, opts: { filename?: string; limits?: DocumentLimits } = {}): DecodedDocument {
  const limits = opts.limits ?? PROTOCOL_DOCUMENT_LIMITS;
  // Before anything else touches the text: a UTF-8 character is 1 to 4 bytes,
  // so the length in code units bounds the byte count from below.
  if (text.length > limits.maxBytes + 3 || utf8ByteLength(text, limits.maxBytes + 3) > limits.maxBytes + 3) {
    return { ok: false, format: detectDocumentFormat(text.slice(0, 100), opts.filename), problems: [`the document is larger than the limit of ${count(limits.maxBytes)} bytes: it is not read`] };
  }
  const source = text.replace(/^\uFEFF/, '');
  const format = detectDocumentFormat(source, opts.filename);
  if (utf8ByteLength(source, limits.maxBytes) > limits.maxBytes) {
    return { ok: false, format, problems: [`the document is larger than the limit of ${count(limits.maxBytes)} bytes: it is not read`] };
  }
  try {
    const decoded = format === 'json' ? decodeJson(source, opts.filename) : decodeYaml(source);
    if (!decoded.ok) return decoded;
    const problems = boundsProblems(decoded.data, limits, decoded.view, decoded.format === 'yaml');
    if (problems.length) return { ok: false, format: decoded.format, problems };
    return { ok: true, data: decoded.data, format: decoded.format, locate: decoded.view.locate, warnings: decoded.warnings };
  } catch (e) {
    // The checks above leave nothing that should throw; this is the last guard
    // of "never throws" (e.g. a stack overflow inside a parser).
    return { ok: false, format, problems: [`the document could not be read: ${e instanceof RangeError ? 'it nests too deeply' : clip(sentence(String((e as Error)?.message ?? e)))}`] };
  }
}

/** Where nodes are: a line for a path, and the source text of a scalar (to quote `1e400` as written). */
interface SourceView {
  locate: Locate;
  sourceAt: (path: DocumentPath) => string | undefined;
}

const noView: SourceView = { locate: nowhere, sourceAt: () => undefined };

type Decoded = { ok: true; data: unknown; format: 'json' | 'yaml'; view: SourceView; warnings: string[] } | { ok: false; format: 'json' | 'yaml'; problems: string[] };

function decodeJson(source: string, filename: string | undefined): Decoded {
  let data: unknown;
  try {
    data = JSON.parse(source);
  } catch (e) {
    // Without a .json name the guess came from a leading `{`, which a YAML flow
    // mapping (`{a: 1}`) also has: give YAML its chance before failing.
    if (!/\.json$/i.test(filename ?? '')) {
      const asYaml = decodeYaml(source);
      if (asYaml.ok) return asYaml;
    }
    return { ok: false, format: 'json', problems: [jsonSyntaxProblem(source, (e as Error).message)] };
  }
  // JSON is (nearly) YAML: reading it once more through the YAML parser gives
  // the line of every node. Done only when a line is asked for (a problem), and
  // only for documents of a reasonable size; without it problems carry no line.
  let view: SourceView | undefined;
  const lazy = (): SourceView => {
    if (view) return view;
    view = noView;
    if (source.length > LOCATE_MAX_CHARS) return view;
    try {
      const yamlView = readYaml(source);
      if (!yamlView.errors.length) view = yamlView;
    } catch {
      view = noView;
    }
    return view;
  };
  return { ok: true, data, format: 'json', view: { locate: (path) => lazy().locate(path), sourceAt: (path) => lazy().sourceAt(path) }, warnings: [] };
}

function decodeYaml(source: string): Decoded {
  const view = readYaml(source);
  if (view.errors.length) return { ok: false, format: 'yaml', problems: view.errors };
  let data: unknown;
  try {
    data = view.doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (e) {
    const message = (e as Error).message;
    if (/Excessive alias count/.test(message)) {
      return { ok: false, format: 'yaml', problems: ['YAML: the aliases (*name) expand the document too much: refused as a possible resource exhaustion attack; repeat the values instead'] };
    }
    if (e instanceof RangeError) return { ok: false, format: 'yaml', problems: ['YAML: the document nests too deeply to be read'] };
    return { ok: false, format: 'yaml', problems: [`YAML: ${clip(sentence(message))}`] };
  }
  return { ok: true, data, format: 'yaml', view, warnings: view.warnings };
}

/**
 * Walks the decoded data once, without recursion: nesting depth, the number of
 * values (YAML aliases count each time they are used, so a self-referencing
 * alias or an exponential one is stopped here), and numbers that are not finite.
 * JSON.parse and YAML turn `1e400` into Infinity, YAML `.inf` / `.nan` into
 * Infinity / NaN; none of them is a meaningful protocol value.
 */
function boundsProblems(data: unknown, limits: DocumentLimits, view: SourceView, locateDeep: boolean): string[] {
  const problems: string[] = [];
  // Each entry points at its parent: paths are built only for a problem.
  interface Entry {
    value: unknown;
    key: PropertyKey;
    parent: Entry | undefined;
    depth: number;
  }
  const pathOf = (e: Entry): PropertyKey[] => {
    const path: PropertyKey[] = [];
    for (let x: Entry | undefined = e; x?.parent; x = x.parent) path.push(x.key);
    return path.reverse();
  };
  const where = (path: DocumentPath) => {
    const at = view.locate(path);
    return at ? ` (${at})` : '';
  };
  const stack: Entry[] = [{ value: data, key: '', parent: undefined, depth: 0 }];
  let values = 0;
  while (stack.length) {
    const entry = stack.pop()!;
    const { value } = entry;
    if (++values > limits.maxValues) {
      return [`the document holds more than ${count(limits.maxValues)} values (YAML aliases, *name, count each time they are used): it is not read`];
    }
    if (typeof value === 'number' && !Number.isFinite(value)) {
      const path = pathOf(entry);
      const written = view.sourceAt(path) ?? String(value);
      problems.push(`${formatPath(path)}: ${written} is not a finite number${where(path)}`);
      if (problems.length >= 20) break;
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (entry.depth >= limits.maxDepth) {
      const path = pathOf(entry);
      // A JSON document is not re-parsed just to place this: the YAML parser
      // that finds lines gives up on deep nesting after costly work.
      return [`${formatPath(path)}: the document nests deeper than ${limits.maxDepth} levels here${locateDeep ? where(path) : ''}: it is not read`];
    }
    const depth = entry.depth + 1;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], key: i, parent: entry, depth });
    } else {
      const keys = Object.keys(value);
      for (let k = keys.length - 1; k >= 0; k--) stack.push({ value: (value as Record<string, unknown>)[keys[k]], key: keys[k], parent: entry, depth });
    }
  }
  return problems;
}

/** Keys given twice in the same mapping (scalar keys compared by value), in document order; iterative. */
function duplicateKeys(root: unknown): { key: unknown; offset: number }[] {
  const found: { key: unknown; offset: number }[] = [];
  const stack: unknown[] = [root];
  while (stack.length) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : isNode(pair.key) ? pair.key.toString() : pair.key;
        if (seen.has(key)) found.push({ key, offset: isNode(pair.key) && pair.key.range ? pair.key.range[0] : (node.range?.[0] ?? 0) });
        seen.add(key);
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return found.sort((a, b) => a.offset - b.offset);
}

function readYaml(source: string): SourceView & { doc: Document; errors: string[]; warnings: string[] } {
  const lineCounter = new LineCounter();
  // The library's own duplicate-key check (uniqueKeys) compares every key with
  // every other: 20,000 keys took it 40 s. duplicateKeys does it with a set.
  // logLevel 'error': the library would otherwise print process warnings (e.g.
  // about a mapping used as a key) to the reader's stderr.
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: false, logLevel: 'error' });
  const at = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `line ${line}, column ${col}`;
  };
  const errors = doc.errors.map((e) => {
    if (/Maximum call stack size exceeded/.test(e.message)) return `YAML syntax error at ${at(e.pos[0])}: the document nests too deeply to be read`;
    return `YAML syntax error at ${at(e.pos[0])}: ${clip(sentence(e.message))}`;
  });
  if (!errors.length) {
    for (const d of duplicateKeys(doc.contents)) errors.push(`YAML syntax error at ${at(d.offset)}: ${show(d.key)} is given twice in the same mapping`);
  }
  const warnings = doc.warnings.map((w) => `YAML warning at ${at(w.pos[0])}: ${clip(sentence(w.message))}`);
  const nodeAt = (path: DocumentPath): unknown => {
    try {
      return doc.getIn(path as unknown[], true);
    } catch {
      return undefined;
    }
  };
  const locate: Locate = (path) => {
    // A missing field is placed in the nearest enclosing mapping or list that
    // exists; one missing at the top level needs no line.
    for (let n = path.length; n > 0; n--) {
      const node = nodeAt(path.slice(0, n));
      if (!isNode(node) || !node.range) continue;
      const line = `line ${lineCounter.linePos(node.range[0]).line}`;
      if (n === path.length) return line;
      return `in the ${isSeq(node) ? 'list' : 'mapping'} at ${line}`;
    }
    return undefined;
  };
  const sourceAt = (path: DocumentPath): string | undefined => {
    const node = nodeAt(path);
    if (!isScalar(node) || !node.range) return undefined;
    const written = source.slice(node.range[0], node.range[1]).trim();
    return written.length > 40 ? `${written.slice(0, 37)}…` : written;
  };
  return { doc, locate, sourceAt, errors, warnings };
}

function jsonSyntaxProblem(source: string, message: string): string {
  const base = clip(sentence(message.replace(/ in JSON at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, '')));
  const position = message.match(/at position (\d+)/)?.[1];
  if (position !== undefined) {
    const before = source.slice(0, Number(position));
    const line = before.split('\n').length;
    const column = Number(position) - before.lastIndexOf('\n');
    return `JSON syntax error at line ${line}, column ${column}: ${base}`;
  }
  const first = source.trimStart()[0];
  if (first !== undefined && first !== '{' && first !== '[') {
    return `JSON syntax error: ${base} (the file is read as JSON, but it does not start with { or [; a YAML file should end in .yaml)`;
  }
  if (/end of JSON input/.test(message)) {
    return source.trim() === '' ? 'the document is empty' : `JSON syntax error: the document ends early (${base})`;
  }
  return `JSON syntax error: ${base}`;
}

/** The parser quotes whole tokens, which may be most of the document: keep a sentence short. */
const clip = (text: string, max = 200): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

const sentence = (message: string): string => message.split('\n')[0].replace(/\s+at line \d+, column \d+:?$/, '').trim();

/**
 * Parses and validates a protocol document (YAML or JSON). Every schema problem is
 * one sentence that starts with the path of the field, e.g.
 * `routing.rules[2].when[0].op: expected one of equals, notEquals, in, isTrue, isFalse, got "eq" (line 31)`.
 * Never throws on bad input.
 *
 * @example parseProtocolDocument(text, { filename: 'chest-xray.v2.yaml' })
 */
export function parseProtocolDocument(text: string, opts: { filename?: string } = {}): ParseProtocolResult {
  const decoded = decodeDocument(text, opts);
  if (!decoded.ok) return { ok: false, problems: decoded.problems };
  const { data, locate } = decoded;
  if (data === null || data === undefined) return { ok: false, problems: ['the document is empty: expected a protocol (a mapping of fields such as protocolId, version, task, routing)'] };
  if (typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, problems: [`the document must be a single protocol (a mapping of fields), got ${describeKind(data)}`] };
  }
  const parsed = ProtocolVersion.safeParse(data);
  if (!parsed.success) return { ok: false, problems: firstOf(withoutEchoes(parsed.error.issues), (issues) => describeIssues(issues, data, locate), 'problem') };
  const unknown = firstOf(unknownFields(data, parsed.data), (paths) =>
    paths.map((path) => {
      const where = locate(path);
      return `${formatPath(path)}: unknown field, ignored (not part of the protocol format; check the spelling)${where ? ` (${where})` : ''}`;
    }),
    'unknown field',
  );
  return { ok: true, protocol: parsed.data, warnings: [...decoded.warnings.slice(0, MAX_REPORTED), ...unknown] };
}

/** At most this many problems (or warnings) are described, plus one line saying how many more there are. */
const MAX_REPORTED = 50;

/** Describes the first MAX_REPORTED items (finding a line is not free in a large mapping) and counts the rest. */
function firstOf<T>(items: readonly T[], describe: (items: readonly T[]) => string[], noun: string): string[] {
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
function withoutEchoes(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
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

function describeKind(v: unknown): string {
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
function show(v: unknown): string {
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
      return `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
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
function unknownFields(raw: unknown, parsed: unknown, path: PropertyKey[] = []): PropertyKey[][] {
  if (Array.isArray(raw) && Array.isArray(parsed)) {
    return raw.flatMap((item, i) => (i < parsed.length ? unknownFields(item, parsed[i], [...path, i]) : []));
  }
  if (!isPlainObject(raw) || !isPlainObject(parsed)) return [];
  return Object.keys(raw).flatMap((key) =>
    key in parsed ? unknownFields(raw[key], parsed[key], [...path, key]) : [[...path, key]],
  );
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

// ---------------------------------------------------------------------------
// Diff
// ---------------------------------------------------------------------------

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
function describeValue(v: unknown): string {
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
function describeRoute(r: Record<string, unknown>): string {
  const q = Array.isArray(r.qualifications) && r.qualifications.length ? ` [${r.qualifications.join(', ')}]` : '';
  const options = Object.entries(r)
    .filter(([k, v]) => k !== 'pool' && k !== 'qualifications' && v !== false && v !== undefined)
    .map(([k, v]) => (v === true ? k : `${k}=${JSON.stringify(v)}`));
  return `${String(r.pool)}${q}${options.map((o) => `, ${o}`).join('')}`;
}

// ---------------------------------------------------------------------------
// Dry run
// ---------------------------------------------------------------------------

export interface DryRunSummaryRow {
  /** A rule id, or `default`. */
  ruleId: string;
  /**
   * Where the cases went: the rule's pool, or, for a vendor rule's cases the
   * de-identification gate stopped, `internal` (or `exclude` when quarantined).
   */
  pool: string;
  count: number;
}

export interface DryRunResult {
  decisions: RoutingDecision[];
  /**
   * One row per rule in protocol order, then `default`, each with the rule's own
   * pool (count 0 when it matched nothing, so dead rules show); a vendor rule with
   * cases stopped by the de-identification gate gets an extra row per pool they went to.
   */
  summary: DryRunSummaryRow[];
  /**
   * Cases carrying attribute values the protocol does not declare (see
   * `undeclaredCaseAttributes`): no rule can name those values, so check them.
   */
  undeclared: { caseId: string; problems: string[] }[];
  /** The per-case explanations, the summary table and the undeclared values, ready to print. */
  text: string;
}

/**
 * Routes every case with `routeCase` and explains each decision, as a PM checks a
 * protocol version before a round: `case-0007 → internal (rule "adult-cxr-to-vendors"): …`.
 *
 * @example dryRunRouting(cases, protocol).summary // [{ ruleId: 'sensitive-stays-inside', pool: 'internal', count: 2 }, …]
 */
export function dryRunRouting(cases: readonly Case[], protocol: ProtocolVersion): DryRunResult {
  const decisions = cases.map((c) => routeCase(c, protocol));
  // One pass over the decisions (a dry run may hold hundreds of thousands of
  // cases): per rule, the cases it kept in its own pool and, for the ones the
  // de-identification gate moved, the pool each went to.
  const tally = new Map<string, { own: number; gated: Map<string, number> }>();
  for (const d of decisions) {
    let t = tally.get(d.ruleId);
    if (!t) {
      t = { own: 0, gated: new Map() };
      tally.set(d.ruleId, t);
    }
    if (d.gate) t.gated.set(d.route.pool, (t.gated.get(d.route.pool) ?? 0) + 1);
    else t.own++;
  }
  const rows: (DryRunSummaryRow & { gated: boolean })[] = [];
  const declared = [...protocol.routing.rules.map((r) => ({ ruleId: r.id, pool: r.route.pool })), { ruleId: 'default', pool: protocol.routing.default.pool }];
  for (const { ruleId, pool } of declared) {
    const t = tally.get(ruleId);
    rows.push({ ruleId, pool, count: t?.own ?? 0, gated: false });
    // The gate changes where a vendor rule's cases go (internal, or excluded
    // when the protocol quarantines them): one extra row per resulting pool.
    for (const [gatedPool, count] of t?.gated ?? []) rows.push({ ruleId, pool: gatedPool, count, gated: true });
  }
  const summary = rows.map(({ ruleId, pool, count }) => ({ ruleId, pool, count }));

  const idWidth = widest(cases.map((c) => c.caseId), 0);
  const lines = [`Dry run: ${cases.length} case${cases.length === 1 ? '' : 's'} through ${protocolRef(protocol)} (${protocol.title})`, ''];
  const reasons = new Map(protocol.routing.rules.map((r) => [r.id, r.reason]));
  for (const d of decisions) {
    const via = d.ruleId === 'default' ? 'default' : `rule "${d.ruleId}"`;
    // routeCase opens with `rule "id" (reason): `; the line already names the rule.
    const opening = `rule "${d.ruleId}" (${reasons.get(d.ruleId)}): `;
    const why = d.explanation.startsWith(opening) ? `${reasons.get(d.ruleId)} — ${d.explanation.slice(opening.length)}` : d.explanation;
    lines.push(`${d.caseId.padEnd(idWidth)} → ${d.route.pool} (${via}): ${why}`);
  }
  const ruleWidth = widest(rows.map((r) => r.ruleId), 4);
  const poolWidth = widest(rows.map((r) => r.pool), 4);
  lines.push('', `${'rule'.padEnd(ruleWidth)}  ${'pool'.padEnd(poolWidth)}  cases`);
  for (const r of rows) {
    const gate = r.pool === 'exclude' ? 'quarantined' : `kept ${r.pool}`;
    const note = r.gated ? `  (de-identification gate: ${gate} instead of vendor)` : r.count === 0 ? '  (matched no case)' : '';
    lines.push(`${r.ruleId.padEnd(ruleWidth)}  ${r.pool.padEnd(poolWidth)}  ${String(r.count).padStart(5)}${note}`);
  }
  lines.push(`${'total'.padEnd(ruleWidth)}  ${''.padEnd(poolWidth)}  ${String(decisions.length).padStart(5)}`);
  const byPool = new Map<string, number>();
  for (const d of decisions) byPool.set(d.route.pool, (byPool.get(d.route.pool) ?? 0) + 1);
  lines.push('', `by pool: ${[...byPool].map(([pool, n]) => `${pool} ${n}`).join(' · ')}`);
  const undeclared: DryRunResult['undeclared'] = [];
  for (const c of cases) {
    const problems = undeclaredCaseAttributes(c, protocol);
    if (problems.length) undeclared.push({ caseId: c.caseId, problems });
  }
  if (undeclared.length) {
    lines.push('', `Cases with attribute values the protocol does not declare (${undeclared.length}): no rule can name these values`);
    for (const u of undeclared) for (const p of u.problems) lines.push(`  ${u.caseId.padEnd(idWidth)}  ${p}`);
  }
  return { decisions, summary, undeclared, text: lines.join('\n') };
}

/**
 * The length of the longest text, at least `min`. A loop, not `Math.max(...xs)`:
 * spreading an array into a call puts every element on the stack, and a list of
 * about 120,000 or more overflows it.
 */
function widest(texts: readonly string[], min: number): number {
  let width = min;
  for (const t of texts) if (t.length > width) width = t.length;
  return width;
}

// ---------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------

/**
 * A few lines that say what a valid protocol does: task, gold and overlap,
 * batches, and the routing rules in evaluation order.
 *
 * @example summarizeProtocol(protocol).split('\n')[0] // 'chest-xray@2 — Chest X-ray triage …'
 */
export function summarizeProtocol(p: ProtocolVersion): string {
  const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
  const task = (() => {
    switch (p.task.type) {
      case 'classification':
        return `classification${p.task.ordinal ? ' (ordinal)' : ''}: ${p.task.classes.join(', ')}`;
      case 'detection':
        return `detection of ${p.task.finding}: critical at ≥ ${p.task.criticalDiameterMm} mm, sensitivity ≥ ${p.task.minSensitivity}, ≤ ${p.task.maxFalsePositivesPerItem} false marks per item`;
      case 'segmentation':
        return `segmentation of ${Object.entries(p.task.labels).map(([v, name]) => `${name} (${v})`).join(', ')}: Dice ≥ ${p.task.minDice}, HD95 ≤ ${p.task.maxHd95Mm} mm`;
    }
  })();
  const width = String(p.routing.rules.length).length;
  return [
    `${protocolRef(p)} — ${p.title}`,
    `  task     ${task}`,
    p.acceptance
      ? `  gold     ${pct(p.goldRate)} of each vendor batch, ${pct(p.acceptance.internalGoldRate)} of each internal one; acceptance by ${p.acceptance.rule}: AQL ${p.acceptance.aql}, RQL ${p.acceptance.rql}, α ${p.acceptance.alpha}, β ${p.acceptance.beta} (old threshold ${p.thresholds.goldAccuracy} kept for comparison)`
      : `  gold     ${pct(p.goldRate)} of each vendor batch; no acceptance section: decided by the defaults (sprt, AQL 0.95, RQL 0.8, α 0.05, β 0.1), not by the old threshold ${p.thresholds.goldAccuracy}`,
    `  overlap  ${pct(p.overlapRate)} of vendor cases also go to a second workforce`,
    `  batches  ${p.batchSize} cases, SLA ${p.slaHours} h, ${p.heartbeatHours === undefined ? 'no heartbeat' : `heartbeat every ${p.heartbeatHours} h`}`,
    `  routing  ${p.routing.rules.length} rule${p.routing.rules.length === 1 ? '' : 's'}, first match wins:`,
    ...p.routing.rules.map((r, i) => `    ${String(i + 1).padStart(width)}. ${r.id}: ${describeValue(r)}`),
    `    ${'default'}: ${describeRoute(p.routing.default as Record<string, unknown>)}`,
    `  created  by ${p.createdBy} at ${p.createdAt}`,
  ].join('\n');
}
