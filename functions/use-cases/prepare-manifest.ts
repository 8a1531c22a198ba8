/**
 * Prepare a batch's manifest — primary course:
 * 1. Load the batch and its answer key.
 * 2. Point each item at its image: the case's opaque image key (assigned at
 *    ingest, random, unlinkable to the case id: docs/blinding.md), which the
 *    vendor portal presigns per request; no copy. Only an item whose case has no
 *    opaque key for its current image (ingested before opaque keys, or its image
 *    replaced since) is copied, as before, to an aliased key under the batch
 *    prefix (metadata dropped), so the vendor never sees a real case id or image key.
 * 3. Write the manifest (last): aliases and image keys only, in the key's
 *    shuffled order; gold items look exactly like the rest.
 */
import { type ProtocolVersion, protocolRef } from '../domain/index.js';
import { aliasImageObject, type BatchKeyItem, loadBatchKey, manifestObject } from './batch-key.js';
import type { Deps } from './ports.js';
import { loadBatchProtocol } from './submission-file.js';

export interface VendorManifest {
  batchId: string;
  protocol: string;
  task: Record<string, unknown> & { type: string };
  upload: { format: string; line: Record<string, string> };
  /** `image`: the object the vendor portal presigns for the alias (an opaque key or the batch's aliased copy). */
  items: { alias: string; image: string }[];
}

/**
 * Where a vendor reads an item's image: the case's opaque key when the batch key
 * carries one, else the batch's aliased copy (the legacy path, which costs a CopyObject).
 */
export const vendorImageObject = (batchId: string, item: Pick<BatchKeyItem, 'alias' | 'opaqueImageKey'>): string =>
  item.opaqueImageKey ?? aliasImageObject(batchId, item.alias);

/** What the vendor must label and how to write the file; nothing about gold. */
function describeTask(task: ProtocolVersion['task']): Pick<VendorManifest, 'task' | 'upload'> {
  const format = 'JSON Lines (UTF-8): one object per line, one line per alias';
  switch (task.type) {
    case 'classification':
      return {
        task: { type: task.type, classes: task.classes, ordinal: task.ordinal },
        upload: { format, line: { alias: 'the item alias', label: `one of: ${task.classes.join(', ')}`, annotator: 'your annotator id' } },
      };
    case 'detection':
      return {
        task: { type: task.type, finding: task.finding, coordinates: 'centroid x, y, z in mm (image space)' },
        upload: {
          format,
          line: {
            alias: 'the item alias',
            annotator: 'your annotator id',
            findings: 'array of { x, y, z (mm), diameterMm?, probability (0..1) }; [] when none',
          },
        },
      };
    case 'segmentation':
      return {
        task: { type: task.type, labels: task.labels },
        upload: {
          format,
          line: {
            alias: 'the item alias',
            annotator: 'your annotator id',
            mask: 'a goldline-rle3d/1 document (docs/mask-formats.md) or { "format": "nifti", "encoding": "base64", "data": … }',
          },
        },
      };
  }
}

export async function prepareManifest(deps: Deps, input: { batchId: string }): Promise<{ manifestKey: string; items: number }> {
  const { batch, protocol } = await loadBatchProtocol(deps, input.batchId);
  const key = await loadBatchKey(deps, batch.batchId);
  const manifestKey = manifestObject(batch.batchId);
  // The manifest is written last: if it exists, every image copy is done (a
  // retried or re-driven state need not copy again).
  if (await deps.objects.getHead(deps.buckets.images, manifestKey, 1)) {
    return { manifestKey, items: key.items.length };
  }

  // Legacy items only: a case with an opaque key needs no copy (docs/blinding.md, "Migration").
  const queue = key.items.filter((i) => i.opaqueImageKey === undefined);
  const copyNext = async (): Promise<void> => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      await deps.objects.copy(deps.buckets.images, item.imageKey, deps.buckets.images, aliasImageObject(batch.batchId, item.alias));
    }
  };
  await Promise.all(Array.from({ length: 8 }, copyNext));

  const manifest: VendorManifest = {
    batchId: batch.batchId,
    protocol: protocolRef(protocol),
    ...describeTask(protocol.task),
    items: key.items.map((i) => ({ alias: i.alias, image: vendorImageObject(batch.batchId, i) })),
  };
  await deps.objects.putJson(deps.buckets.images, manifestKey, manifest);
  return { manifestKey, items: manifest.items.length };
}
