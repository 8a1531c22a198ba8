/**
 * An item's size as DynamoDB counts it against its 400 KB limit, and the
 * chunking of an ingest's `cases.ingested` record so that every event fits.
 *
 * DynamoDB counts (developer guide, "Item sizes"): each attribute's name
 * (UTF-8 bytes) plus its value — a string by its UTF-8 bytes, a number by
 * 1 byte per two significant digits plus 1, a boolean or null as 1 byte, a list
 * or map as 3 bytes plus, per element, 1 byte and the element (a map's
 * element also its name). This is the same sum dynalite checks; for strings it
 * counts UTF-8 bytes, never fewer than dynalite's UTF-16 units.
 */

/** DynamoDB's item size limit: 400 KB (409,600 bytes). */
export const DYNAMO_ITEM_LIMIT = 400 * 1024;

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** A number's size: 1 byte per two significant digits, 1 byte more, and 1 for a sign (an upper bound of DynamoDB's count). */
function numberSize(n: number): number {
  if (n === 0) return 1;
  const [mantissa] = Math.abs(n).toExponential().split('e');
  const digits = mantissa.replace('.', '').replace(/0+$/, '').length;
  return 2 + Math.ceil(digits / 2) + (n < 0 ? 1 : 0);
}

/** The size of one attribute value, as the document client marshals it (undefined is removed before). */
export function dynamoValueSize(v: unknown): number {
  if (v === null || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return utf8(v);
  if (typeof v === 'number') return numberSize(v);
  if (Array.isArray(v)) return 3 + v.filter((x) => x !== undefined).reduce((t: number, x) => t + 1 + dynamoValueSize(x), 0);
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return 3 + entries.length + dynamoItemSize(Object.fromEntries(entries));
  }
  throw new TypeError(`a value of type ${typeof v} is not stored in DynamoDB`);
}

/**
 * An item's size in bytes: attribute names plus values.
 *
 * @example dynamoItemSize({ pk: 'a', n: 12 }) // 2 + 1 + 1 + 3
 */
export function dynamoItemSize(item: Record<string, unknown>): number {
  let size = 0;
  for (const [name, v] of Object.entries(item)) if (v !== undefined) size += utf8(name) + dynamoValueSize(v);
  return size;
}

/**
 * Cases per `cases.ingested` event. The worst chunk — 64-character case ids, every
 * case held by the gate (so in `cases`, `gated` and `verdicts`, with the largest
 * finding count), as many cases awaiting their image — costs at most
 * 65 + 65 + 65 + 124 = 319 bytes a case: 500 cases make about 160 KB, under
 * half the limit with the event's other fields at their longest (test/unit/domain/item-size.test.ts).
 */
export const INGEST_CHUNK_CASES = 500;

/**
 * The largest batch (real cases): `batch.dispatched`, `labels.recorded` and
 * `cases.requeued` list the batch's case ids, 65 bytes each at worst — 5,000 make
 * about 326 KB, 80% of the limit with the other fields at their longest
 * (test/unit/domain/item-size.test.ts). Protocols allowed 10,000 before: 650 KB, refused.
 */
export const MAX_BATCH_CASES = 5_000;

export interface IngestVerdictLike {
  caseId: string;
  verdict: 'clear' | 'quarantined' | 'attested';
}

export interface IngestChunk<V extends IngestVerdictLike> {
  chunk: number;
  chunks: number;
  verdicts: V[];
  awaitingImage: string[];
}

/**
 * Splits an ingest's verdicts (and its cases still awaiting their image) into
 * chunks of at most `size` each, in order: the same input always gives the
 * same chunks, so a retry records the same events. At least one chunk.
 */
export function chunkIngest<V extends IngestVerdictLike>(
  verdicts: readonly V[],
  awaitingImage: readonly string[],
  size = INGEST_CHUNK_CASES,
): IngestChunk<V>[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const chunks = Math.max(1, Math.ceil(verdicts.length / size), Math.ceil(awaitingImage.length / size));
  return Array.from({ length: chunks }, (_, i) => ({
    chunk: i,
    chunks,
    verdicts: verdicts.slice(i * size, (i + 1) * size),
    awaitingImage: awaitingImage.slice(i * size, (i + 1) * size),
  }));
}
