/**
 * Randomness is a port: production uses the OS's CSPRNG (aliases must be
 * unguessable); the demo and tests use a seeded generator so runs repeat.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { seededRandom } from './scoring/uncertainty.js';

export interface RandomSource {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Random token of `length` characters from an unambiguous alphabet. */
  token(length: number): string;
}

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** mulberry32 (the scoring engine's generator): for simulation and shuffles, not for secrets. */
export function seededRandomSource(seed: number): RandomSource {
  const next = seededRandom(seed);
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    token: (length) => Array.from({ length }, () => ALPHABET[int(ALPHABET.length)]).join(''),
  };
}

/** CSPRNG-backed source for production paths (aliases, upload keys). */
export const cryptoRandomSource: RandomSource = {
  next: () => randomBytes(6).readUIntBE(0, 6) / 2 ** 48,
  int: (n) => randomInt(n),
  token: (length) => Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]).join(''),
};

/** Fisher–Yates shuffle into a new array. */
export function shuffled<T>(items: readonly T[], random: RandomSource): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** FNV-1a: a stable 32-bit hash of a string (choices that must not depend on input order or timing). */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
