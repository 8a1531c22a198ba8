/**
 * Opaque image keys (docs/blinding.md): each case's image is served to vendors
 * from one object under `opaque/<24 random characters>[.<ext>]` in the images
 * bucket, chosen by the server at ingest, presigned per request by the vendor
 * portal — instead of a CopyObject per batch. The key holds no case id, program
 * or PM file name; only the extension (the format, which the bytes show anyway).
 */
import { z } from 'zod';
import { type Case, cryptoRandomSource, IMAGE_EXTENSIONS, type ImageExtension, imageExtension, type RandomSource } from '../domain/index.js';
import type { Deps } from './ports.js';

export const OPAQUE_IMAGE_PREFIX = 'opaque/';
const TOKEN_LENGTH = 24;
const EXTENSIONS = Object.keys(IMAGE_EXTENSIONS).map((e) => e.replaceAll('.', '\\.')).join('|');
const OPAQUE_KEY = new RegExp(`^${OPAQUE_IMAGE_PREFIX}[a-z0-9]{${TOKEN_LENGTH}}(\\.(${EXTENSIONS}))?$`);

/** An opaque image key, as stored on a case and in a batch key. */
export const OpaqueImageKey = z.string().regex(OPAQUE_KEY, 'an opaque image key (opaque/<24 letters or digits>[.<image extension>])');

export const isOpaqueImageKey = (key: string): boolean => OPAQUE_KEY.test(key);

/**
 * A new opaque key for an image of this extension (none: the format is not one
 * of IMAGE_EXTENSIONS, and the key says nothing of it). Drawn from the crypto
 * source by default, never from `deps.random`: a demo's seed must reproduce its
 * run (aliases, upload ids, plans), and the keys must not be guessable from it.
 *
 * @example newOpaqueImageKey(undefined, 'png') // 'opaque/k3m9…(24)….png'
 */
export function newOpaqueImageKey(random: RandomSource = cryptoRandomSource, extension?: ImageExtension): string {
  return `${OPAQUE_IMAGE_PREFIX}${random.token(TOKEN_LENGTH)}${extension ? `.${extension}` : ''}`;
}

/**
 * The opaque key vendors may be given for a case's image: only one made for the
 * image the case has now (a replaced image has none, and its batches fall back
 * to per-batch copies until it is given one).
 */
export const opaqueImageKeyOf = (c: Pick<Case, 'imageKey' | 'opaqueImage'>): string | undefined =>
  c.opaqueImage && c.opaqueImage.of === c.imageKey && isOpaqueImageKey(c.opaqueImage.key) ? c.opaqueImage.key : undefined;

/**
 * Gives every case without an opaque key for its image one: a single CopyObject
 * of the PM's object (metadata dropped, which may name the case) to a new opaque
 * key — once per case, never per batch. A case whose image key is already
 * opaque (API ingest: the upload slot was one) is its own opaque key, no copy.
 * A crash before the cases are stored leaves copies no case points at: no URL is
 * ever signed for them, and a retry makes new ones.
 */
export async function assignOpaqueImages<C extends Case>(deps: Deps, cases: readonly C[]): Promise<C[]> {
  const out: C[] = cases.slice();
  let next = 0;
  const work = async (): Promise<void> => {
    for (let k = next++; k < out.length; k = next++) {
      const c = out[k];
      if (opaqueImageKeyOf(c)) continue;
      if (isOpaqueImageKey(c.imageKey)) {
        out[k] = { ...c, opaqueImage: { key: c.imageKey, of: c.imageKey } };
        continue;
      }
      const key = newOpaqueImageKey(cryptoRandomSource, imageExtension(c.imageKey));
      await deps.objects.copy(deps.buckets.images, c.imageKey, deps.buckets.images, key);
      out[k] = { ...c, opaqueImage: { key, of: c.imageKey } };
    }
  };
  await Promise.all(Array.from({ length: 16 }, work));
  return out;
}
