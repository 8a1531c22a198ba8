import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvError, csvCell, parseCsv, toCsv } from '../../../functions/domain/csv.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('Function: csvCell', () => {
  it('prefixes text a spreadsheet would run as a formula with a quote', () => {
    for (const attack of ['=HYPERLINK("http://x","y")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1']) {
      expect(csvCell(attack).replace(/^"/, '')).toMatch(/^'/);
    }
  });

  it('writes numbers, booleans and plain text as they are, and quotes commas, quotes and line breaks', () => {
    expect(csvCell(-0.5)).toBe('-0.5');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(null)).toBe('');
    expect(csvCell('vendor-a')).toBe('vendor-a');
    expect(csvCell('a, "b"')).toBe('"a, ""b"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
  });

  it('never lets a cell of an export start a formula once read back (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string(), { minLength: 2, maxLength: 2 }), { maxLength: 5 }), (rows) => {
        const back = parseCsv(bytes(toCsv(['a', 'b'], rows)), { maxBytes: 1e6 });
        expect(back.rows).toHaveLength(rows.length);
        for (const [i, r] of back.rows.entries()) {
          for (const [j, cell] of r.cells.entries()) {
            expect(cell).not.toMatch(/^[=+\-@\t\r]/);
            // Text that could not start a formula comes back exactly; the rest with one quote in front.
            expect(cell).toBe(/^[=+\-@\t\r]/.test(rows[i][j]) ? `'${rows[i][j]}` : rows[i][j]);
          }
        }
      }),
    );
  });
});

describe('Function: parseCsv', () => {
  it('reads quoted fields, doubled quotes, CRLF and LF, a BOM, and skips blank lines', () => {
    const csv = parseCsv(bytes('\uFEFFcaseId,note\r\nc-1,"a, ""quoted""\nnote"\n\nc-2,plain\n'), { maxBytes: 1024 });
    expect(csv.header).toEqual(['caseId', 'note']);
    expect(csv.rows).toEqual([
      { line: 2, cells: ['c-1', 'a, "quoted"\nnote'] },
      { line: 5, cells: ['c-2', 'plain'] },
    ]);
  });

  it('refuses a document above the byte cap before decoding it', () => {
    const big = new Uint8Array(2049).fill(0xff); // not even UTF-8: the cap speaks first
    expect(() => parseCsv(big, { maxBytes: 2048 })).toThrow(/2049 bytes, more than the 2048/);
  });

  it('says which line is wrong, and why', () => {
    const cases: [string, RegExp][] = [
      ['a,b\n1\n', /line 2: 1 cell\(s\), the header has 2/],
      ['a,b\n1,"open\n', /line 2: a quoted field is not closed/],
      ['a,b\n1,x"y\n', /line 2: a quote inside an unquoted field/],
      ['a,a\n', /line 1: the header names column "a" twice/],
      ['', /empty/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseCsv(bytes(text), { maxBytes: 1024 })).toThrow(message);
    }
    expect(() => parseCsv(new Uint8Array([0x61, 0x0a, 0xc3, 0x28]), { maxBytes: 1024 })).toThrow(CsvError);
  });

  it('refuses more rows than allowed', () => {
    expect(() => parseCsv(bytes('a\n1\n2\n3\n'), { maxBytes: 1024, maxRows: 2 })).toThrow(/more than 2 rows/);
  });

  it('never throws anything but a CsvError on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          parseCsv(b, { maxBytes: 150 });
        } catch (e) {
          expect(e).toBeInstanceOf(CsvError);
        }
      }),
    );
  });
});
