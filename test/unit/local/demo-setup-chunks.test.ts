/**
 * The demo program made a chunk at a time (infra/local/demo/example-program.ts):
 * setup streams its cases and images, and must still set up exactly the program
 * that one pass over the seed makes (the README sample and every seeded test rely on it).
 */
import { describe, expect, it } from 'vitest';
import { seededRandomSource } from '../../../functions/domain/index.js';
import { syntheticCaseChunks, syntheticCases } from '../../../infra/local/demo/example-program.js';

describe('Demo: syntheticCaseChunks', () => {
  it('makes the same cases, images and gold in chunks of 7 as in one pass, none held twice', () => {
    // Arrange
    const whole = syntheticCases(100, 0.1, seededRandomSource(42));

    // Act
    const parts = [...syntheticCaseChunks(100, 0.1, seededRandomSource(42), 7)];

    // Assert
    expect(parts.map((p) => p.cases.length)).toEqual([...Array(14).fill(7), 2]);
    expect(parts.flatMap((p) => p.cases)).toEqual(whole.cases);
    expect(parts.flatMap((p) => p.gold)).toEqual(whole.gold);
    expect(parts.flatMap((p) => p.images)).toEqual(whole.images);
    expect(whole.gold.map((g) => g.caseId).slice(0, 3)).toEqual(['case-00001', 'case-00011', 'case-00021']);
  });

  it('makes nothing for no cases', () => {
    expect([...syntheticCaseChunks(0, 0.1, seededRandomSource(1), 10)]).toEqual([]);
    expect(syntheticCases(0, 0.1, seededRandomSource(1))).toEqual({ cases: [], gold: [], images: [] });
  });
});
