import { describe, expect, it } from 'vitest';
import { MAX_REASON_CHARS, MAX_REPORTED_PROBLEMS, validateLabelFile } from '../../../functions/domain/label-file.js';
import type { ImageGrid } from '../../../functions/domain/model/index.js';
import { encodeRle3dLabels, type Mask3D, toRle3dDocument, writeNifti } from '../../../functions/domain/scoring/index.js';
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

  describe('values too large to store', () => {
    // Issue 7 finding 4: a 49 MB giant alias (or 200 × 200 KB labels) was quoted verbatim; the records overflowed DynamoDB's 400 KB item limit.
    it('quotes at most 40 characters of an offending value, so a giant value never reaches the records', () => {
      // Arrange: a giant alias (schema refusal) and 200 lines with 200 KB labels of a known alias
      const giantAlias = JSON.stringify({ alias: 'a'.repeat(60_000), label: 'normal', annotator: 'r' });
      const bigLabels = Array.from({ length: 200 }, () => line(A, 'x'.repeat(200_000)));

      // Act
      const one = problemsOf(validate(giantAlias));
      const many = problemsOf(validate(bigLabels.join('\n')));

      // Assert: every reason is short; the whole list stays far below 400 KB
      for (const p of [...one, ...many]) expect(p.reason.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
      expect(one[0].reason).toMatch(/field "alias": Too big/);
      expect(many[0].reason).toBe(`line has ${bigLabels[0].length} bytes, more than the 65536 a classification label line may hold`);
      expect(JSON.stringify(many).length).toBeLessThan(64 * 1024);
      expect(many).toHaveLength(MAX_REPORTED_PROBLEMS + 1);
    });

    it('refuses a line longer than its task allows before decoding or parsing it', () => {
      const r = problemsOf(validate([line(A), `{"alias":"${'k'.repeat(70_000)}"}`, line(C)].join('\n')));

      expect(r[0]).toEqual({ line: 2, reason: 'line has 70012 bytes, more than the 65536 a classification label line may hold' });
    });

    it('quotes an unknown alias and an unknown class by a 40-character prefix', () => {
      const r = problemsOf(validate([line('q'.repeat(64)), line(B, 'y'.repeat(200)), line(C)].join('\n')));

      expect(r[0].reason).toBe(`unknown alias "${'q'.repeat(40)}…": not an item of this batch`);
      expect(r[1].reason).toMatch(new RegExp(`^label "${'y'.repeat(40)}…" is not in the protocol's classes`));
    });
  });

  describe('detection findings', () => {
    const detection = makeProtocol({
      task: { type: 'detection', finding: 'nodule', criticalDiameterMm: 4, minSensitivity: 0.5, maxFalsePositivesPerItem: 2 },
    });
    const grid: ImageGrid = { dims: [512, 512, 300], spacing: [0.7, 0.7, 1] };
    const grids = new Map(ALIASES.map((a) => [a, grid]));
    const findingLine = (alias: string, f: Record<string, unknown>) =>
      JSON.stringify({ alias, annotator: 'r', findings: [{ x: 100, y: 100, z: 100, diameterMm: 6, probability: 0.9, ...f }] });
    const check = (f: Record<string, unknown>) =>
      validateLabelFile(bytes([findingLine(A, f), findingLine(B, {}), findingLine(C, {})].join('\n')), {
        aliases: ALIASES,
        protocol: detection,
        grids,
      });

    it('accepts findings inside the image', () => {
      expect(check({}).ok).toBe(true);
      expect(check({ x: 0, probability: 0 }).ok).toBe(true);
    });

    // Issue 7 finding 3: x = 1e200, x = 1e-200 or probability = 1e-140 passed validation; FinalizeBatch then threw and the batch failed with 0 labels.
    it.each([
      ['x = 1e200', { x: 1e200 }, /field "findings\.0\.x": Too big/],
      ['x = 1e-200', { x: 1e-200 }, /field "findings\.0\.x": must be 0 or at least 1e-9 in magnitude/],
      ['probability = 1e-140', { probability: 1e-140 }, /field "findings\.0\.probability": must be 0 or at least 1e-9/],
      ['diameterMm = 1e-300', { diameterMm: 1e-300 }, /field "findings\.0\.diameterMm": must be 0 or at least 1e-9/],
      ['x beyond the image', { x: 512 * 0.7 + 5 }, /finding 1: x = 363\.4 mm lies outside the image \(512×512×300 voxels of 0\.7×0\.7×1 mm\)/],
      ['z below the image', { z: -3 }, /finding 1: z = -3 mm lies outside the image/],
      ['a diameter larger than the image', { diameterMm: 400 }, /finding 1: diameterMm = 400 is larger than the image/],
    ])('refuses a finding with %s: DynamoDB could not store it, or it is not in the image', (_what, f, reason) => {
      const problems = problemsOf(check(f)).filter((p) => p.line !== 0); // line 0: the alias now has no label

      expect(problems).toEqual([{ line: 1, reason: expect.stringMatching(reason) }]);
    });

    it('holds findings of an item without a known grid to ±10 m', () => {
      const r = validateLabelFile(bytes([findingLine(A, { x: 9_000 }), findingLine(B, {}), findingLine(C, {})].join('\n')), {
        aliases: ALIASES,
        protocol: detection,
      });
      expect(r.ok).toBe(true);
      expect(problemsOf(check({ x: 20_000 }))[0].reason).toMatch(/Too big/);
    });
  });

  describe('segmentation masks', () => {
    const segmentation = makeProtocol({
      task: { type: 'segmentation', labels: { '1': 'liver' }, minDice: 0.85, maxHd95Mm: 5, nsdToleranceMm: 2 },
    });
    const grid: ImageGrid = { dims: [48, 48, 24], spacing: [1, 1, 2] };
    const grids = new Map(ALIASES.map((a) => [a, grid]));
    const mask = (dims: [number, number, number], spacing: [number, number, number] = [1, 1, 2]): Mask3D => {
      const data = new Uint8Array(dims[0] * dims[1] * dims[2]);
      data.fill(1, 0, Math.min(100, data.length));
      return { dims, spacing, data };
    };
    const nifti = (m: Mask3D) => ({ format: 'nifti', encoding: 'base64', data: Buffer.from(writeNifti(m, { gzip: true })).toString('base64') });
    const rle = (m: Mask3D) => toRle3dDocument(encodeRle3dLabels(m));
    const maskLine = (alias: string, m: unknown) => JSON.stringify({ alias, annotator: 'r', mask: m });

    it('accepts masks on the image grid, as NIfTI and as run lengths', () => {
      const text = [maskLine(A, nifti(mask([48, 48, 24]))), maskLine(B, rle(mask([48, 48, 24]))), maskLine(C, rle(mask([48, 48, 24])))];
      const r = validateLabelFile(bytes(text.join('\n')), { aliases: ALIASES, protocol: segmentation, grids });
      if (!r.ok) throw new Error(JSON.stringify(r.problems));
      expect(r.masks.get(A)?.[0].dims).toEqual([48, 48, 24]);
    });

    it('holds a mask line to what its image grid can need, refused before it is parsed', () => {
      const runs = Array.from({ length: 400_000 }, (_, k) => 2 * k).join(',');
      const long = `{"alias":"${A}","annotator":"r","mask":{"format":"goldline-rle3d/1","dims":[48,48,24],"spacing":[1,1,2],"labels":[{"label":1,"runs":[${runs}]}]}}`;

      const problems = problemsOf(validateLabelFile(bytes(long), { aliases: ALIASES, protocol: segmentation, grids }));

      expect(problems[0]).toEqual({ line: 1, reason: `line has ${long.length} bytes, more than the 2073341 a segmentation label line may hold` });
    });

    // Issue 7 finding 2: a 10×10×10 NIfTI and a 65535×65535×1 rle3d mask for a 48×48×24 image became accepted labels (only gold was checked).
    it('refuses a mask on another grid than its image, for every item', () => {
      // Arrange: rle3d runs are never expanded, so a 65535×65535×1 document stays small
      const wide = { format: 'goldline-rle3d/1', dims: [65535, 65535, 1], spacing: [1, 1, 2], labels: [{ label: 1, runs: [0, 100] }] };
      const text = [maskLine(A, nifti(mask([10, 10, 10]))), maskLine(B, wide), maskLine(C, rle(mask([48, 48, 24], [1, 1, 3])))];

      // Act
      const problems = problemsOf(validateLabelFile(bytes(text.join('\n')), { aliases: ALIASES, protocol: segmentation, grids }));

      // Assert
      expect(problems).toEqual([
        { line: 1, reason: 'mask cannot be read: mask grid [10×10×10] differs from the image grid [48×48×24]' },
        { line: 2, reason: 'mask cannot be read: mask grid [65535×65535×1] differs from the image grid [48×48×24]' },
        { line: 3, reason: 'mask cannot be read: mask spacing [1, 1, 3] mm differs from the image spacing [1, 1, 2] mm' },
      ]);
    });
  });
});
