/**
 * CSV (RFC 4180) in and out: reading a manifest with a byte cap, and writing
 * exports that a spreadsheet cannot be tricked into executing.
 */

/**
 * Characters that make a spreadsheet read a cell as a formula (CSV injection,
 * OWASP "CSV Injection"): `=`, `+`, `-`, `@`, and tab or carriage return before them.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One cell of an export. Text that a spreadsheet would take for a formula is
 * prefixed with `'` (so `=HYPERLINK(…)` is shown, not run); numbers are written
 * as they are (a negative number is a number, not a formula). Quoted when it
 * holds a comma, a quote, a line break or edge spaces.
 *
 * @example csvCell('=1+1') // "'=1+1"
 * @example csvCell('a, "b"') // '"a, ""b"""'
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text: string;
  if (typeof value === 'number') text = Number.isFinite(value) ? String(value) : '';
  else if (typeof value === 'boolean') text = value ? 'true' : 'false';
  else if (typeof value === 'string') text = FORMULA_START.test(value) ? `'${value}` : value;
  else {
    const json = JSON.stringify(value);
    text = FORMULA_START.test(json) ? `'${json}` : json;
  }
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A CSV document: a header row, then one row per record, CRLF line ends (RFC 4180). */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** A CSV document that cannot be read, with where. */
export class CsvError extends Error {
  override readonly name = 'CsvError';
  constructor(
    message: string,
    /** 1-based line of the problem (0: the document as a whole). */
    readonly line: number,
  ) {
    super(line > 0 ? `line ${line}: ${message}` : message);
  }
}

export interface ParsedCsv {
  header: string[];
  /** Data rows, each as long as the header; `line` is where the row starts. */
  rows: { line: number; cells: string[] }[];
}

/**
 * Reads a CSV document (RFC 4180: quoted fields with `""`, CRLF or LF, an
 * optional UTF-8 BOM). The byte cap is checked before anything is decoded;
 * the text must be valid UTF-8; every row has the header's number of cells;
 * blank lines are skipped.
 *
 * @example parseCsv(new TextEncoder().encode('caseId,site\nc-1,a\n'), { maxBytes: 1024 }).rows[0].cells // ['c-1', 'a']
 */
export function parseCsv(bytes: Uint8Array, opts: { maxBytes: number; maxRows?: number }): ParsedCsv {
  if (bytes.length > opts.maxBytes) throw new CsvError(`the document is ${bytes.length} bytes, more than the ${opts.maxBytes} accepted`, 0);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new CsvError('the document is not valid UTF-8', 0);
  }
  const maxRows = opts.maxRows ?? Number.POSITIVE_INFINITY;
  const records: { line: number; cells: string[] }[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const start = line;
    const cells: string[] = [];
    for (;;) {
      let cell = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw new CsvError('a quoted field is not closed', start);
          const ch = text[i];
          if (ch === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\n') line++;
          cell += ch;
          i++;
        }
        if (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          throw new CsvError('a quoted field is followed by text (quote the whole field, and write " inside it as "")', line);
        }
      } else {
        const from = i;
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (text[i] === '"') throw new CsvError('a quote inside an unquoted field (quote the whole field, and write " inside it as "")', line);
          i++;
        }
        cell = text.slice(from, i);
      }
      cells.push(cell);
      if (text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    else if (i < text.length) throw new CsvError('a carriage return not followed by a line feed', line);
    line++;
    if (cells.length === 1 && cells[0] === '') continue; // a blank line
    records.push({ line: start, cells });
    if (records.length > maxRows + 1) throw new CsvError(`more than ${maxRows} rows`, start);
  }
  if (records.length === 0) throw new CsvError('the document is empty: a header row is needed', 0);
  const [head, ...rows] = records;
  const header = head.cells.map((h) => h.trim());
  const seen = new Set<string>();
  for (const h of header) {
    if (h === '') throw new CsvError('the header has an empty column name', head.line);
    if (seen.has(h)) throw new CsvError(`the header names column "${h.slice(0, 64)}" twice`, head.line);
    seen.add(h);
  }
  for (const r of rows) {
    if (r.cells.length !== header.length) throw new CsvError(`${r.cells.length} cell(s), the header has ${header.length}`, r.line);
  }
  return { header, rows };
}
