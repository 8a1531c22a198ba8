/**
 * Fuzzing the label-file parser for all three task types (issue 7): arbitrary
 * bytes, arbitrary JSON lines and mutated valid files never make
 * validateLabelFile throw; a refusal always carries at most
 * MAX_REPORTED_PROBLEMS + 1 problems, each a non-empty reason of at most
 * MAX_REASON_CHARS; an accepted file's masks lie on their items' grids and its
 * findings inside their images. Inputs are bounded (a few KiB per line).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type LabelFileResult,
  MAX_REASON_CHARS,
  MAX_REPORTED_PROBLEMS,
  validateLabelFile,
} from '../../../functions/domain/label-file.js';
import type { ImageGrid, ProtocolVersion } from '../../../functions/domain/model/index.js';
import { encodeRle3dLabels, type Mask3D, toRle3dDocument, writeNifti } from '../../../functions/domain/scoring/index.js';
import { makeProtocol } from '../../unit/fakes.js';

const ALIASES = ['k3v9x2m7qa8d', 'p4w8h2n6tr5e', 'z7c3b9f2gu4s'];
const GRID: ImageGrid = { dims: [8, 6, 4], spacing: [1, 1, 2] };
const grids = new Map(ALIASES.map((a) => [a, GRID]));

const protocols: Record<string, ProtocolVersion> = {
  classification: makeProtocol({ task: { type: 'classification', classes: ['normal', 'abnormal'] } }),
  detection: makeProtocol({
    task: { type: 'detection', finding: 'nodule', criticalDiameterMm: 4, minSensitivity: 0.5, maxFalsePositivesPerItem: 2 },
  }),
  segmentation: makeProtocol({ task: { type: 'segmentation', labels: { '1': 'liver' }, minDice: 0.8, maxHd95Mm: 5, nsdToleranceMm: 2 } }),
};

const mask: Mask3D = { dims: [8, 6, 4], spacing: [1, 1, 2], data: new Uint8Array(192).fill(1, 10, 40) };
const validLine: Record<string, (alias: string, k: number) => Record<string, unknown>> = {
  classification: (alias) => ({ alias, label: 'normal', annotator: 'r-1', confidence: 0.7 }),
  detection: (alias) => ({ alias, annotator: 'r-1', findings: [{ x: 3.5, y: 2, z: 6, diameterMm: 2, probability: 0.8 }] }),
  segmentation: (alias, k) => ({
    alias,
    annotator: 'r-1',
    mask:
      k % 2 === 0
        ? toRle3dDocument(encodeRle3dLabels(mask))
        : { format: 'nifti', encoding: 'base64', data: Buffer.from(writeNifti(mask, { gzip: true })).toString('base64') },
  }),
};
const validFile = (task: string): string => ALIASES.map((a, k) => JSON.stringify(validLine[task](a, k))).join('\n');

/** Runs the validator; passes if it did not throw and its answer is bounded and clear. */
function boundedAndClear(r: LabelFileResult): void {
  if (r.ok) {
    for (const masks of r.masks.values()) for (const m of masks) expect(m.dims).toEqual(GRID.dims);
    for (const l of r.labels) {
      if (!('findings' in l)) continue;
      for (const f of l.findings) {
        for (const [k, axis] of (['x', 'y', 'z'] as const).entries()) {
          expect(f[axis]).toBeGreaterThanOrEqual(-GRID.spacing[k]);
          expect(f[axis]).toBeLessThanOrEqual((GRID.dims[k] + 1) * GRID.spacing[k]);
        }
        expect(f.probability === 0 || f.probability >= 1e-9).toBe(true);
      }
    }
    return;
  }
  expect(r.problems.length).toBeGreaterThan(0);
  expect(r.problems.length).toBeLessThanOrEqual(MAX_REPORTED_PROBLEMS + 1);
  for (const p of r.problems) {
    expect(p.reason.trim().length).toBeGreaterThan(0);
    expect(p.reason.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
    expect(Number.isInteger(p.line) && p.line >= 0).toBe(true);
  }
}

const validate = (task: string, bytes: Uint8Array) => validateLabelFile(bytes, { aliases: ALIASES, protocol: protocols[task], grids });
const enc = (s: string) => new TextEncoder().encode(s);

/** Text mutations: replace a slice by random text, delete a slice, or duplicate a slice. */
const mutatedText = (base: string) =>
  fc
    .array(
      fc.tuple(
        fc.nat({ max: base.length }),
        fc.nat({ max: 64 }),
        fc.oneof(fc.string({ maxLength: 16 }), fc.constantFrom('', '"', '{', '}', '\n', ',', '1e400', '-1e-200', 'null', '[]', '\u0000')),
      ),
      { minLength: 1, maxLength: 6 },
    )
    .map((edits) => {
      let s = base;
      for (const [at, len, text] of edits) {
        const i = Math.min(at, s.length);
        s = s.slice(0, i) + text + s.slice(Math.min(s.length, i + len));
      }
      return s;
    });

/** Value mutations: a field of a valid line replaced by any JSON value. */
const mutatedValues = (task: string) =>
  fc
    .array(fc.tuple(fc.nat({ max: 2 }), fc.constantFrom('alias', 'label', 'annotator', 'confidence', 'findings', 'mask', 'extra'), fc.jsonValue({ maxDepth: 3 })), {
      minLength: 1,
      maxLength: 4,
    })
    .map((edits) => {
      const lines = ALIASES.map((a, k) => validLine[task](a, k));
      for (const [k, field, v] of edits) lines[k][field] = v;
      return lines.map((l) => JSON.stringify(l)).join('\n');
    });

/** Detection findings with any numbers in them. */
const anyNumber = fc.oneof(fc.double(), fc.constantFrom(1e200, -1e200, 1e-200, 1e-140, 5e-324, 0, -0, 1e126, 1e-130));
const findingFiles = fc
  .array(fc.record({ x: anyNumber, y: anyNumber, z: anyNumber, diameterMm: anyNumber, probability: anyNumber }), { minLength: 1, maxLength: 3 })
  .map((findings) => ALIASES.map((alias) => JSON.stringify({ alias, annotator: 'r', findings })).join('\n'));

describe.each(['classification', 'detection', 'segmentation'])('Fuzz: validateLabelFile (%s)', (task) => {
  it('accepts the valid file the mutations start from', () => {
    expect(validate(task, enc(validFile(task))).ok).toBe(true);
  });

  it('never throws on arbitrary bytes, and says why it refuses them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => boundedAndClear(validate(task, bytes))),
      { numRuns: 200 },
    );
  });

  it('never throws on lines of arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 8 }), (values) =>
        boundedAndClear(validate(task, enc(values.map((v) => JSON.stringify(v)).join('\n')))),
      ),
      { numRuns: 200 },
    );
  });

  it('never throws on text-mutated valid files', () => {
    fc.assert(
      fc.property(mutatedText(validFile(task)), (text) => boundedAndClear(validate(task, enc(text)))),
      { numRuns: 300 },
    );
  });

  it('never throws when fields of a valid file hold arbitrary values', () => {
    fc.assert(
      fc.property(mutatedValues(task), (text) => boundedAndClear(validate(task, enc(text)))),
      { numRuns: 300 },
    );
  });
});

describe('Fuzz: validateLabelFile (detection numbers)', () => {
  it('accepts only findings inside the image with numbers DynamoDB can store', () => {
    fc.assert(
      fc.property(findingFiles, (text) => boundedAndClear(validate('detection', enc(text)))),
      { numRuns: 400 },
    );
  });
});
