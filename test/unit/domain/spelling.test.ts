import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../../functions/domain/spelling.js';

describe('Function: editDistance', () => {
  it('counts insertions, deletions, substitutions and adjacent transpositions as one edit each', () => {
    expect(editDistance('flags.sensitve', 'flags.sensitive')).toBe(1);
    expect(editDistance('bodyPrat', 'bodyPart')).toBe(1);
    expect(editDistance('bodypart', 'bodyPart')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });
});

describe('Function: closestName', () => {
  it('returns the nearest candidate within about one edit per four characters', () => {
    expect(closestName('flags.sensitve', ['flags.rare', 'flags.sensitive'])).toBe('flags.sensitive');
    expect(closestName('0-18', ['0-17', '18-64', '65+'])).toBe('0-17');
    expect(closestName('subgroup.agBand', ['subgroup.ageBand', 'subgroup.sex'])).toBe('subgroup.ageBand');
  });

  it('returns nothing when no candidate is close, or when every character would change', () => {
    expect(closestName('age', ['modality', 'bodyPart', 'site', 'scanner'])).toBeUndefined();
    expect(closestName('X', ['F', 'M'])).toBeUndefined();
    expect(closestName('x'.repeat(500), ['x'.repeat(499)])).toBeUndefined();
  });
});
