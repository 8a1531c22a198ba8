/**
 * Hostile and broken protocol documents (issue 7, fuzzing): whatever the text,
 * the reader returns a protocol or sentences that say what is wrong and where —
 * it never throws, and input that could take unbounded memory or time (huge
 * files, deep nesting, exponential YAML aliases) is refused by a named limit.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PROTOCOL_DOCUMENT_LIMITS, parseProtocolDocument, utf8ByteLength } from '../../../functions/domain/protocol-document.js';

const V1 = readFileSync('examples/protocols/chest-xray.v1.yaml', 'utf8');
const V2 = readFileSync('examples/protocols/chest-xray.v2.yaml', 'utf8');
const parsedV1 = parseProtocolDocument(V1, { filename: 'v1.yaml' });
if (!parsedV1.ok) throw new Error(parsedV1.problems.join('\n'));
const V1_JSON = JSON.stringify(parsedV1.protocol, null, 2);

/**
 * Asserts the reader's contract on one input: no throw; a refusal carries at
 * least one problem and every problem is one short line of words — never a
 * stack trace, an `[object Object]`, or a non-finite number shown as `null`.
 */
function expectClearResult(text: string, filename?: string): ReturnType<typeof parseProtocolDocument> {
  const result = parseProtocolDocument(text, { filename });
  if (result.ok) return result;
  expect(result.problems.length).toBeGreaterThan(0);
  for (const p of result.problems) {
    expect(p.length).toBeGreaterThan(5);
    expect(p.length).toBeLessThan(800);
    expect(p).not.toContain('\n');
    expect(p).not.toMatch(/\[object Object\]|got number null|Maximum call stack/);
  }
  return result;
}

/** Small edits a PM's editor, a bad merge or an attacker might make to a valid document. */
const mutation = (text: string) =>
  fc.oneof(
    // delete a span
    fc.tuple(fc.nat(text.length), fc.integer({ min: 1, max: 40 })).map(([at, n]) => text.slice(0, at) + text.slice(at + n)),
    // insert YAML/JSON punctuation, anchors, aliases, tags and odd numbers
    fc
      .tuple(
        fc.nat(text.length),
        fc.constantFrom('[', ']', '{', '}', ':', '- ', '\n', '\t', '"', "'", '&a ', '*a', '*zz', '!!binary ', '!custom ', '<<: *a', '1e400', '.nan', '-.inf', '0x1F', '~', '? ', '|', '>', '%YAML 1.1\n', '---\n', '...\n', '\u0000', '\uFEFF', '#'),
      )
      .map(([at, s]) => text.slice(0, at) + s + text.slice(at)),
    // insert arbitrary text
    fc.tuple(fc.nat(text.length), fc.string({ maxLength: 20, unit: 'binary' })).map(([at, s]) => text.slice(0, at) + s + text.slice(at)),
    // duplicate a span (duplicate keys, repeated rules)
    fc.tuple(fc.nat(text.length), fc.integer({ min: 1, max: 200 })).map(([at, n]) => text.slice(0, at) + text.slice(at, at + n) + text.slice(at)),
    // swap two lines
    fc.tuple(fc.nat(400), fc.nat(400)).map(([a, b]) => {
      const lines = text.split('\n');
      const i = a % lines.length;
      const j = b % lines.length;
      [lines[i], lines[j]] = [lines[j], lines[i]];
      return lines.join('\n');
    }),
  );

/** One to four mutations applied in turn. */
const mutated = (text: string) =>
  fc.integer({ min: 1, max: 4 }).chain((n) => {
    let arb: fc.Arbitrary<string> = fc.constant(text);
    for (let i = 0; i < n; i++) arb = arb.chain((t) => mutation(t));
    return arb;
  });

describe('Fuzz: parseProtocolDocument', () => {
  it('returns a protocol or clear problems for any text, under any file name', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), fc.constantFrom(undefined, 'p.yaml', 'p.json', 'p.txt'), (text, filename) => {
        expectClearResult(text, filename);
      }),
      { numRuns: 400 },
    );
  });

  it('returns a protocol or clear problems for every mutation of the YAML examples', () => {
    fc.assert(
      fc.property(fc.constantFrom(V1, V2).chain(mutated), (text) => {
        expectClearResult(text, 'p.yaml');
      }),
      { numRuns: 150 },
    );
  });

  it('returns a protocol or clear problems for every mutation of a JSON protocol, named or guessed', () => {
    fc.assert(
      fc.property(mutated(V1_JSON), fc.constantFrom(undefined, 'p.json'), (text, filename) => {
        expectClearResult(text, filename);
      }),
      { numRuns: 200 },
    );
  });

  // Found by the mutation property above in CI (seed 422533669): a `---` spliced after a list made YAML read the key `---\n"subgroup"`, and the problem quoted it raw, over two lines.
  it('names an unknown field whose key holds a newline or a quote on one line, escaped', () => {
    const doc = JSON.stringify({ ...parsedV1.protocol, attributes: { ...parsedV1.protocol.attributes, 'a\n"b': 1 } });
    const result = expectClearResult(doc, 'p.json');
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems).toContainEqual(expect.stringContaining('unknown field "a\\n\\"b"'));
  });

  it('returns clear problems for any JSON value or YAML rendering of one', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        expectClearResult(JSON.stringify(value) ?? '', 'p.json');
        expectClearResult(stringify(value), 'p.yaml');
      }),
      { numRuns: 200 },
    );
  });

  it('refuses nesting deeper than the limit, in JSON, YAML flow and YAML block style, with the path', () => {
    fc.assert(
      fc.property(fc.integer({ min: PROTOCOL_DOCUMENT_LIMITS.maxDepth + 1, max: 20_000 }), fc.constantFrom('json', 'flow', 'block'), (depth, style) => {
        // Block style indents one more space per level: 600 levels are about 180 KB.
        const blockDepth = Math.min(depth, 600);
        const text =
          style === 'json'
            ? `{"title": ${'['.repeat(depth)}${']'.repeat(depth)}}`
            : style === 'flow'
              ? `title: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}\n`
              : `title:\n${Array.from({ length: blockDepth }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`;
        const result = expectClearResult(text, style === 'json' ? 'p.json' : 'p.yaml');
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.problems.join('\n')).toMatch(/nests (deeper than|too deeply)/);
      }),
      { numRuns: 15 },
    );
  });

  it('refuses exponential YAML aliases (billion laughs) before they expand', () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 12 }), fc.integer({ min: 4, max: 16 }), (levels, fanout) => {
        const lines = [`l0: &l0 [${Array(fanout).fill('"lol"').join(', ')}]`];
        for (let i = 1; i <= levels; i++) lines.push(`l${i}: &l${i} [${Array(fanout).fill(`*l${i - 1}`).join(', ')}]`);
        const result = expectClearResult(`${lines.join('\n')}\n`, 'bomb.yaml');
        // fanout^(levels+1) values once expanded: from 4^4 = 256 to 16^13.
        if (fanout ** (levels + 1) > PROTOCOL_DOCUMENT_LIMITS.maxValues) {
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.problems[0]).toMatch(/aliases \(\*name\) expand the document too much|holds more than 100,000 values/);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('refuses an alias that refers to itself, and a wide anchor repeated past the value limit', () => {
    expect(expectClearResult('a: &a [*a]\n', 'p.yaml').ok).toBe(false);
    const wide = `a: &a [${Array(20_000).fill('1').join(',')}]\nb: [${Array(10).fill('*a').join(',')}]\n`;
    const result = expectClearResult(wide, 'p.yaml');
    expect(result).toEqual({ ok: false, problems: ['the document holds more than 100,000 values (YAML aliases, *name, count each time they are used): it is not read'] });
  });

  it('refuses a document over the byte limit before parsing it, counting UTF-8 bytes', () => {
    const refusal = { ok: false, problems: ['the document is larger than the limit of 262,144 bytes: it is not read'] };
    // 64 MiB of "[": parsed, it would nest 64 million deep.
    expect(parseProtocolDocument('['.repeat(64 * 1024 * 1024), { filename: 'p.json' })).toEqual(refusal);
    // 100,000 characters of "€" are 300 KB: under the limit in characters, over it in bytes.
    const euros = `title: "${'€'.repeat(100_000)}"\n`;
    expect(utf8ByteLength(euros)).toBe(100_000 * 3 + 10);
    expect(parseProtocolDocument(euros, { filename: 'p.yaml' })).toEqual(refusal);
    // Just under the limit is read (and refused for what it says, not for its size).
    const under = `# ${'x'.repeat(PROTOCOL_DOCUMENT_LIMITS.maxBytes - 10)}\n`;
    expect(expectClearResult(under, 'p.yaml')).toMatchObject({ ok: false, problems: [expect.stringMatching(/^the document is empty/)] });
  });

  it('reads the worst documents under the byte cap within a 160 MB heap', () => {
    // Act: a child Node whose heap is capped; running out of it kills the child.
    const child = join(dirname(fileURLToPath(import.meta.url)), 'protocol-document.memory.child.ts');
    const r = spawnSync(process.execPath, ['--max-old-space-size=160', '--import', 'tsx', child], { encoding: 'utf8', timeout: 300_000 });

    // Assert
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const outcomes = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string; bytes: number; ok: boolean; first: string });
    expect(outcomes.map((o) => o.name)).toEqual(['flat list', 'deep flow', 'deep JSON', 'wide alias', 'many keys']);
    for (const o of outcomes) {
      expect(o.bytes).toBeLessThanOrEqual(PROTOCOL_DOCUMENT_LIMITS.maxBytes);
      expect(o.ok).toBe(false);
    }
  }, 300_000);

  it('counts UTF-8 bytes the way an encoder does', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (s) => {
        expect(utf8ByteLength(s)).toBe(new TextEncoder().encode(s).length);
      }),
      { numRuns: 300 },
    );
  });
});
