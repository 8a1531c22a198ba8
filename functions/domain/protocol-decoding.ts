/**
 * Decoding a protocol document's text (JSON or YAML) within bounds — size,
 * nesting, values once aliases expand, duplicate keys — with line numbers for
 * the problems. Part of protocol-document.ts.
 */
import { type Document, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { count, type DocumentPath, formatPath, type Locate, nowhere, sentence, show } from './protocol-issues.js';

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
