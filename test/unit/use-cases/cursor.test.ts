import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, pageRequest } from '../../../functions/use-cases/cursor.js';
import { InvalidInputError } from '../../../functions/use-cases/errors.js';

describe('Function: decodeCursor', () => {
  it('gives back the page key it was made from', () => {
    const key = { pk: 'WORKFORCE#vendor-a', sk: 'BATCH#2025-03-01T09:00:00.000Z#b-1', r: 2 };
    expect(decodeCursor(encodeCursor(key))).toEqual(key);
  });

  it('refuses anything that is not base64url JSON of a flat, bounded record, with InvalidInputError only (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? '').toString('base64url'))), (cursor) => {
        try {
          const key = decodeCursor(cursor);
          expect(Object.keys(key).length).toBeGreaterThan(0);
          for (const v of Object.values(key)) expect(['string', 'number']).toContain(typeof v);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidInputError);
          expect((e as Error).message).toMatch(/^cursor: /);
        }
      }),
    );
  });

  it('refuses nested values, too many attributes and an over-long cursor', () => {
    for (const v of [{ pk: { S: 'x' } }, Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'v'])), []]) {
      expect(() => decodeCursor(Buffer.from(JSON.stringify(v)).toString('base64url'))).toThrow(InvalidInputError);
    }
    expect(() => decodeCursor('A'.repeat(2049))).toThrow(InvalidInputError);
  });
});

describe('Function: pageRequest', () => {
  it('uses the default limit and no start without a cursor', () => {
    expect(pageRequest({})).toEqual({ limit: 50 });
  });
});
