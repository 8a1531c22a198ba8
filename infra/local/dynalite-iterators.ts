/**
 * dynalite 4 turns every Query and Scan into a stream over a LevelDB iterator
 * and, when the stream ends or is destroyed, closes the iterator by calling
 * `iterator.return()` — a method abstract-level 3's iterators do not have
 * (they have `close()`). So no iterator was ever closed: each stayed in the
 * database's open-resource set with its read-ahead cache of item JSON and its
 * LevelDB snapshot, and the embedded DynamoDB's memory grew with every request
 * (a 1,000-case round left about 1,500 such iterators and 10 MB of item
 * strings on the heap, and more outside it; docs/scale.md).
 *
 * This gives the iterators of the abstract-level that dynalite's LevelDB uses
 * the `return()` that dynalite calls: it closes the iterator (close() waits
 * for a read under way). Imported by the stack before dynalite opens a database.
 */
import { createRequire } from 'node:module';

interface IteratorPrototype {
  return?: () => Promise<{ done: true; value: undefined }>;
  close(): Promise<void>;
}

/** abstract-level as dynalite's `level` (classic-level) loads it: the copy whose iterators dynalite opens. */
export function dynalitesAbstractLevel(): Record<string, { prototype: IteratorPrototype }> {
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const fromLevel = createRequire(fromDynalite.resolve('level'));
  const fromClassic = createRequire(fromLevel.resolve('classic-level'));
  return fromClassic('abstract-level') as Record<string, { prototype: IteratorPrototype }>;
}

/** Adds `return()` (close) to abstract-level's iterators where it is missing; returns the prototypes it patched. */
export function closeDynaliteIterators(): string[] {
  const lib = dynalitesAbstractLevel();
  const patched: string[] = [];
  for (const name of ['AbstractIterator', 'AbstractKeyIterator', 'AbstractValueIterator']) {
    const proto = lib[name]?.prototype;
    if (!proto || typeof proto.return === 'function') continue;
    proto.return = async function (this: IteratorPrototype) {
      await this.close();
      return { done: true, value: undefined };
    };
    patched.push(name);
  }
  return patched;
}

closeDynaliteIterators();
