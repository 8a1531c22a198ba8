/**
 * A simulated workforce that behaves like a real vendor: it sees only what a
 * vendor sees (its batch, the manifest and images through presigned GET URLs),
 * reads each image, labels with its own accuracy, and uploads a JSON Lines file
 * through a presigned upload slot — real HTTP requests to the local S3.
 */
import type { RandomSource } from '../../../functions/domain/index.js';
import type { VendorManifest } from '../../../functions/use-cases/prepare-manifest.js';
import type { Deps } from '../../../functions/use-cases/ports.js';
import {
  getImageUrls,
  getVendorBatch,
  requestUploadSlot,
  sha256Hex,
} from '../../../functions/use-cases/vendor-portal.js';
import { readSyntheticImage } from './example-program.js';

export interface SimulatedWorkforce {
  workforceId: string;
  accuracy: number;
  annotators: string[];
  /** Upload a malformed file first (then a good one), to show validation. */
  firstUploadMalformed?: boolean;
}

async function fetchOk(url: string, init?: RequestInit): Promise<Response> {
  const r = await fetch(url, init);
  if (!r.ok) throw new Error(`${init?.method ?? 'GET'} ${new URL(url).pathname} → ${r.status} ${await r.text()}`);
  return r;
}

/** Downloads a batch's manifest exactly as the vendor would. */
export async function downloadManifest(deps: Deps, workforceId: string, batchId: string): Promise<VendorManifest> {
  const view = await getVendorBatch(deps, { workforceId, batchId });
  return (await (await fetchOk(view.manifestUrl)).json()) as VendorManifest;
}

/** Uploads a label file through a presigned slot; returns the upload id and key. */
export async function uploadLabelFile(
  deps: Deps,
  workforceId: string,
  batchId: string,
  body: Uint8Array,
): Promise<{ uploadId: string; url: string }> {
  const slot = await requestUploadSlot(deps, { workforceId, batchId, sizeBytes: body.length, sha256Hex: sha256Hex(body) });
  await fetchOk(slot.url, { method: 'PUT', headers: slot.headers, body });
  return { uploadId: slot.uploadId, url: slot.url };
}

/** Labels one batch: manifest, images, labels, upload. */
export async function labelBatch(
  deps: Deps,
  w: SimulatedWorkforce,
  batchId: string,
  random: RandomSource,
): Promise<{ uploads: number }> {
  const manifest = await downloadManifest(deps, w.workforceId, batchId);
  const urls = await getImageUrls(deps, { workforceId: w.workforceId, batchId, aliases: manifest.items.map((i) => i.alias) });
  const lines: string[] = [];
  const queue = manifest.items.slice();
  const seen = new Map<string, string>();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        const bytes = new Uint8Array(await (await fetchOk(urls[item.alias])).arrayBuffer());
        seen.set(item.alias, readSyntheticImage(bytes));
      }
    }),
  );
  for (const item of manifest.items) {
    const truth = seen.get(item.alias)!;
    const label = random.next() < w.accuracy ? truth : truth === 'normal' ? 'abnormal' : 'normal';
    const annotator = w.annotators[random.int(w.annotators.length)];
    lines.push(JSON.stringify({ alias: item.alias, label, annotator }));
  }
  let uploads = 0;
  if (w.firstUploadMalformed) {
    const bad = [...lines.slice(0, -2), '{"alias": "oops", "label": "abnormal", "annotator": "x"}', 'not json at all'];
    await uploadLabelFile(deps, w.workforceId, batchId, new TextEncoder().encode(`${bad.join('\n')}\n`));
    uploads++;
  }
  await uploadLabelFile(deps, w.workforceId, batchId, new TextEncoder().encode(`${lines.join('\n')}\n`));
  return { uploads: uploads + 1 };
}
