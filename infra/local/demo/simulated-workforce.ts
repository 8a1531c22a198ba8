/**
 * A simulated workforce that behaves like a real vendor: it sees only what a
 * vendor sees (its batch, the manifest and images through presigned GET URLs),
 * reads each image, labels with its own accuracy, and uploads a JSON Lines file
 * through a presigned upload slot — real HTTP requests to the local S3. The demo
 * drives it through the Goldline API with the workforce's own token
 * (`apiPortal`); tests may use the same use cases in process (`inProcessPortal`).
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

/** What a workforce can do with its batches: the vendor routes of the API. */
export interface WorkPortal {
  getBatch(batchId: string): Promise<{ manifestUrl: string }>;
  imageUrls(batchId: string, aliases: string[]): Promise<Record<string, string>>;
  requestSlot(batchId: string, sizeBytes: number, sha256Hex: string): Promise<{ uploadId: string; url: string; headers: Record<string, string> }>;
}

/** The portal use cases called in process, as `workforceId` (tests of the lifecycle). */
export function inProcessPortal(deps: Deps, workforceId: string): WorkPortal {
  return {
    getBatch: (batchId) => getVendorBatch(deps, { workforceId, batchId }),
    imageUrls: (batchId, aliases) => getImageUrls(deps, { workforceId, batchId, aliases }),
    requestSlot: (batchId, sizeBytes, sha) => requestUploadSlot(deps, { workforceId, batchId, sizeBytes, sha256Hex: sha }),
  };
}

/** The same through the Goldline API at `apiUrl`, with the workforce's bearer token. */
export function apiPortal(apiUrl: string, token: string): WorkPortal {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const r = await fetchOk(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await r.json()) as T;
  };
  const batch = (id: string) => `/v1/batches/${encodeURIComponent(id)}`;
  return {
    getBatch: (batchId) => call('GET', batch(batchId)),
    imageUrls: async (batchId, aliases) => {
      const urls: Record<string, string> = {};
      // The route takes at most 1,000 aliases a request.
      for (let i = 0; i < aliases.length; i += 1000) {
        Object.assign(urls, (await call<{ urls: Record<string, string> }>('POST', `${batch(batchId)}/image-urls`, { aliases: aliases.slice(i, i + 1000) })).urls);
      }
      return urls;
    },
    requestSlot: (batchId, sizeBytes, sha) => call('POST', `${batch(batchId)}/uploads`, { sizeBytes, sha256Hex: sha }),
  };
}

/** A network error (a connection reset by a busy server) is retried, as a vendor's client would; an HTTP error is not. */
async function fetchOk(url: string, init?: RequestInit): Promise<Response> {
  let r: Response | undefined;
  for (let attempt = 1; !r; attempt++) {
    try {
      r = await fetch(url, init);
    } catch (e) {
      if (attempt >= 4 || !(e instanceof TypeError)) throw e;
      await new Promise((res) => setTimeout(res, 100 * attempt));
    }
  }
  if (!r.ok) throw new Error(`${init?.method ?? 'GET'} ${new URL(url).pathname} → ${r.status} ${await r.text()}`);
  return r;
}

/** Downloads a batch's manifest exactly as the vendor would. */
export async function downloadManifest(deps: Deps | WorkPortal, workforceId: string, batchId: string): Promise<VendorManifest> {
  const view = await portalOf(deps, workforceId).getBatch(batchId);
  return (await (await fetchOk(view.manifestUrl)).json()) as VendorManifest;
}

/** Uploads a label file through a presigned slot; returns the upload id and key. */
export async function uploadLabelFile(
  deps: Deps | WorkPortal,
  workforceId: string,
  batchId: string,
  body: Uint8Array,
): Promise<{ uploadId: string; url: string }> {
  const slot = await portalOf(deps, workforceId).requestSlot(batchId, body.length, sha256Hex(body));
  await fetchOk(slot.url, { method: 'PUT', headers: slot.headers, body });
  return { uploadId: slot.uploadId, url: slot.url };
}

const portalOf = (d: Deps | WorkPortal, workforceId: string): WorkPortal => ('getBatch' in d ? d : inProcessPortal(d, workforceId));

/** Labels one batch: manifest, images, labels, upload. */
export async function labelBatch(
  deps: Deps | WorkPortal,
  w: SimulatedWorkforce,
  batchId: string,
  random: RandomSource,
): Promise<{ uploads: number }> {
  const manifest = await downloadManifest(deps, w.workforceId, batchId);
  const urls = await portalOf(deps, w.workforceId).imageUrls(batchId, manifest.items.map((i) => i.alias));
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

/** What the internal expert can do with adjudications: the expert routes of the API. */
export interface ExpertDesk {
  /** The program's open adjudications; per case, the image to read. */
  open(programId: string): Promise<{ adjudicationId: string; cases: { caseId: string; imageUrl?: string }[] }[]>;
  decide(adjudicationId: string, decisions: { caseId: string; label: string; note?: string }[]): Promise<void>;
}

/** The expert routes of the API at `apiUrl`, with the expert's bearer token. */
export function apiExpertDesk(apiUrl: string, token: string): ExpertDesk {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  return {
    async open(programId) {
      const list = (await (await fetchOk(`${apiUrl}/v1/adjudications?programId=${encodeURIComponent(programId)}`, { headers })).json()) as {
        items: { adjudicationId: string }[];
      };
      const out = [];
      for (const a of list.items) {
        const view = (await (await fetchOk(`${apiUrl}/v1/adjudications/${encodeURIComponent(a.adjudicationId)}`, { headers })).json()) as {
          status: string;
          needs: { caseId: string; imageUrl?: string }[];
        };
        if (view.status === 'open') out.push({ adjudicationId: a.adjudicationId, cases: view.needs.map((n) => ({ caseId: n.caseId, imageUrl: n.imageUrl })) });
      }
      return out;
    },
    async decide(adjudicationId, decisions) {
      await fetchOk(`${apiUrl}/v1/adjudications/${encodeURIComponent(adjudicationId)}/decision`, { method: 'POST', headers, body: JSON.stringify({ decisions }) });
    },
  };
}

/** Reads the image behind a presigned URL the way the expert's viewer would. */
export async function readImageAt(url: string): Promise<string> {
  return readSyntheticImage(new Uint8Array(await (await fetchOk(url)).arrayBuffer()));
}
