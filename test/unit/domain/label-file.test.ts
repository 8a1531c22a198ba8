import { describe, expect, it } from 'vitest';
import { MAX_REPORTED_PROBLEMS, validateLabelFile } from '../../../functions/domain/label-file.js';
import { makeProtocol } from '../fakes.js';

const protocol = makeProtocol({ task: { type: 'classification', classes: ['normal', 'abnormal', 'ungradable'] } });
const ALIASES = ['k3v9x2m7qa8d', 'p4w8h2n6tr5e', 'z7c3b9f2gu4s'];
const [A, B, C] = ALIASES;

const line = (alias: string, label = 'normal', extra: Record<string, unknown> = {}) =>
  JSON.stringify({ alias, label, annotator: 'reader-07', ...extra });
const bytes = (text: string) => new TextEncoder().encode(text);
const validate = (text: string, aliases: readonly string[] = ALIASES) => validateLabelFile(bytes(text), { aliases, protocol });

/** The problems of a result that must be a rejection. */
const problemsOf = (r: ReturnType<typeof validateLabelFile>) => {
  if (r.ok) throw new Error('expected the file to be rejected');
  return r.problems;
};

describe('Function: validateLabelFile', () => {
  describe('accepted files', () => {
    it('returns every label, in file order, for a valid file', () => {
      // Arrange
      const text = [line(B, 'abnormal', { confidence: 0.9 }), line(A, 'normal'), line(C, 'ungradable')].join('\n') + '\n';

      // Act
      const r = validate(text);

      // Assert
      if (!r.ok) throw new Error(`expected acceptance, got ${JSON.stringify(r.problems)}`);
      expect(r.labels).toEqual([
        { alias: B, label: 'abnormal', annotator: 'reader-07', confidence: 0.9 },
        { alias: A, label: 'normal', annotator: 'reader-07' },
        { alias: C, label: 'ungradable', annotator: 'reader-07' },
      ]);
    });

    it('returns the file accepted with CRLF line endings', () => {
      const r = validate([line(A), line(B), line(C)].join('\r\n') + '\r\n');
      expect(r.ok).toBe(true);
    });

    it('returns the file accepted with trailing and interior blank lines', () => {
      const r = validate(`${line(A)}\n\n${line(B)}\n${line(C)}\n\n\n   \n`);
      expect(r.ok).toBe(true);
    });

    it('returns the file accepted without a final newline', () => {
      expect(validate([line(A), line(B), line(C)].join('\n')).ok).toBe(true);
    });

    it('returns the file accepted when it starts with a UTF-8 byte order mark', () => {
      // Arrange: Windows editors write EF BB BF first
      const body = bytes([line(A), line(B), line(C)].join('\n'));
      const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...body]);

      // Act
      const r = validateLabelFile(withBom, { aliases: ALIASES, protocol });

      // Assert
      expect(r.ok).toBe(true);
    });
  });

  describe('problems, each with its line', () => {
    it('returns "not valid JSON" on the line that is not JSON', () => {
      // Act
      const problems = problemsOf(validate(`${line(A)}\n{"alias": "${B}", "label": \n${line(C)}\n`));

      // Assert
      expect(problems).toHaveLength(2);
      expect(problems[0].line).toBe(2);
      expect(problems[0].reason).toMatch(/^not valid JSON \(.+\)$/);
      // B never got a valid label
      expect(problems[1]).toEqual({ line: 0, reason: `1 alias(es) have no label: ${B}` });
    });

    it('returns "outside the label schema" naming the field for a missing field', () => {
      // Act
      const problems = problemsOf(validate(`${line(A)}\n${JSON.stringify({ alias: B, label: 'normal' })}\n${line(C)}\n`));

      // Assert
      expect(problems[0].line).toBe(2);
      expect(problems[0].reason).toMatch(/^outside the label schema: field "annotator": /);
    });

    it('returns "outside the label schema" naming an extra field', () => {
      // Act
      const problems = problemsOf(validate(`${line(A)}\n${line(B)}\n${line(C, 'normal', { caseId: 'case-0042' })}\n`));

      // Assert
      expect(problems).toHaveLength(2);
      expect(problems[0].line).toBe(3);
      expect(problems[0].reason).toMatch(/^outside the label schema: /);
      expect(problems[0].reason).toContain('caseId');
    });

    it('returns "outside the label schema" for a confidence outside [0, 1]', () => {
      const problems = problemsOf(validate(`${line(A, 'normal', { confidence: 1.5 })}\n${line(B)}\n${line(C)}`));
      expect(problems[0].line).toBe(1);
      expect(problems[0].reason).toMatch(/^outside the label schema: field "confidence": /);
    });

    it('returns "outside the label schema" for a line that is JSON but not an object', () => {
      const problems = problemsOf(validate(`${line(A)}\n["${B}", "normal"]\n${line(C)}`));
      expect(problems[0].line).toBe(2);
      expect(problems[0].reason).toMatch(/^outside the label schema: /);
    });

    it('returns "unknown alias" for an alias that is not an item of the batch', () => {
      // Act
      const problems = problemsOf(validate([line(A), line(B), line(C), line('notinthisbatch')].join('\n')));

      // Assert
      expect(problems).toEqual([{ line: 4, reason: 'unknown alias "notinthisbatch": not an item of this batch' }]);
    });

    it('returns "duplicate alias" with the line of the first label', () => {
      // Act
      const problems = problemsOf(validate([line(A), line(B), line(C), line(A, 'abnormal')].join('\n')));

      // Assert
      expect(problems).toEqual([{ line: 4, reason: `duplicate alias "${A}" (first labelled on line 1)` }]);
    });

    it('returns "not in the protocol\'s classes" for a label outside the classes, listing the classes', () => {
      // Act
      const problems = problemsOf(validate([line(A), line(B, 'Abnormal'), line(C)].join('\n')));

      // Assert: the alias was labelled (badly), so it is not also reported as missing
      expect(problems).toEqual([
        { line: 2, reason: 'label "Abnormal" is not in the protocol\'s classes [normal, abnormal, ungradable]' },
      ]);
    });

    it('returns the missing aliases as a file-level problem on line 0', () => {
      // Act
      const problems = problemsOf(validate(line(B)));

      // Assert
      expect(problems).toEqual([{ line: 0, reason: `2 alias(es) have no label: ${A}, ${C}` }]);
    });

    it('returns at most 20 missing aliases by name, followed by an ellipsis', () => {
      // Arrange
      const many = Array.from({ length: 25 }, (_, i) => `alias${String(i).padStart(7, '0')}`);

      // Act
      const problems = problemsOf(validate(line(many[0]), many));

      // Assert
      expect(problems).toHaveLength(1);
      expect(problems[0].line).toBe(0);
      expect(problems[0].reason).toBe(`24 alias(es) have no label: ${many.slice(1, 21).join(', ')}, …`);
    });

    it('returns every problem of a file with several, in line order', () => {
      // Act
      const problems = problemsOf(validate(['nope', line(A), line(A), line('stranger'), line(B, 'odd')].join('\n')));

      // Assert
      expect(problems.map((p) => p.line)).toEqual([1, 3, 4, 5, 0]);
    });
  });

  describe('whole-file problems', () => {
    it('returns "file is empty" for an empty file', () => {
      expect(problemsOf(validate(''))).toEqual([
        { line: 0, reason: 'file is empty: expected one JSON object per line, one per alias' },
      ]);
    });

    it('returns "file is empty" for a file of blank lines', () => {
      expect(problemsOf(validate('\n\r\n   \n'))[0].reason).toMatch(/^file is empty/);
    });

    it('returns "not valid UTF-8" for bytes that are not UTF-8', () => {
      // Arrange: Latin-1 "é" (0xE9) inside otherwise valid JSON
      const body = new Uint8Array([...bytes(`{"alias":"${A}","label":"normal","annotator":"Ren`), 0xe9, ...bytes('"}')]);

      // Act
      const r = validateLabelFile(body, { aliases: ALIASES, protocol });

      // Assert
      expect(problemsOf(r)).toEqual([{ line: 0, reason: 'file is not valid UTF-8 text' }]);
    });
  });

  describe('problem cap', () => {
    it(`returns ${MAX_REPORTED_PROBLEMS} problems and an "and N more" line when there are more`, () => {
      // Arrange: 250 bad lines + the 3 aliases missing = 251 problems
      const text = Array.from({ length: 250 }, (_, i) => `bad line ${i}`).join('\n');

      // Act
      const problems = problemsOf(validate(text));

      // Assert
      expect(problems).toHaveLength(MAX_REPORTED_PROBLEMS + 1);
      expect(problems[0].line).toBe(1);
      expect(problems[MAX_REPORTED_PROBLEMS - 1].line).toBe(MAX_REPORTED_PROBLEMS);
      expect(problems[MAX_REPORTED_PROBLEMS]).toEqual({ line: 0, reason: `and ${251 - MAX_REPORTED_PROBLEMS} more problem(s) not shown` });
    });

    it('returns all problems with no "and N more" line at exactly the cap', () => {
      // Arrange: cap − 1 bad lines + the missing-aliases line = cap problems
      const text = Array.from({ length: MAX_REPORTED_PROBLEMS - 1 }, () => 'x').join('\n');

      // Act
      const problems = problemsOf(validate(text));

      // Assert
      expect(problems).toHaveLength(MAX_REPORTED_PROBLEMS);
      expect(problems.some((p) => p.reason.includes('more problem'))).toBe(false);
    });
  });
});
