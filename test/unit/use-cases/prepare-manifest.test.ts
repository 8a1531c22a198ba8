import { describe, expect, it, vi } from 'vitest';
import type { Case } from '../../../functions/domain/model/index.js';
import { aliasImageObject, goldSetObject, loadBatchKey } from '../../../functions/use-cases/batch-key.js';
import { dispatchRound } from '../../../functions/use-cases/dispatch-round.js';
import { assignOpaqueImages, isOpaqueImageKey } from '../../../functions/use-cases/opaque-images.js';
import { prepareManifest, type VendorManifest } from '../../../functions/use-cases/prepare-manifest.js';
import { getImageUrls } from '../../../functions/use-cases/vendor-portal.js';
import { type FakeDeps, makeCase, makeFakeDeps, makeProtocol, makeWorkforce } from '../fakes.js';

const PROGRAM = 'prog-1';
const dispatchInput = { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm' };

/**
 * A program of `work` + `gold` cases whose images are stored under the PM's keys;
 * `opaque(i)` says which cases get their opaque key (as ingest gives it) and
 * `replaced(i)` which then had their image replaced (a new imageKey, the old opaque key kept).
 */
type ProgramCase = Case & { goldPool: boolean };
async function programWith(opts: { work: number; gold: number; opaque: (c: ProgramCase) => boolean; replaced?: (c: ProgramCase) => boolean }): Promise<FakeDeps> {
  const deps = makeFakeDeps();
  const protocol = makeProtocol();
  await deps.repo.putProtocolVersion(protocol);
  for (const w of ['vendor-a', 'vendor-b']) await deps.repo.putWorkforce(PROGRAM, makeWorkforce(w));
  const cases = [
    ...Array.from({ length: opts.work }, (_, i) => ({ ...makeCase(`case-${String(i).padStart(4, '0')}`), goldPool: false })),
    ...Array.from({ length: opts.gold }, (_, i) => ({ ...makeCase(`gold-${String(i).padStart(4, '0')}`), goldPool: true })),
  ];
  for (const c of cases) await deps.objects.putBytes(deps.buckets.images, c.imageKey, new TextEncoder().encode(`pixels of ${c.caseId}`), 'application/dicom');
  const keyed = await assignOpaqueImages(deps, cases.filter(opts.opaque));
  const stored = cases.map((c) => keyed.find((k) => k.caseId === c.caseId) ?? c);
  const replacement = (c: ProgramCase) => `replacements/${PROGRAM}/${c.caseId}/new.dcm`;
  for (const c of stored.filter((x) => opts.replaced?.(x))) {
    await deps.objects.putBytes(deps.buckets.images, replacement(c), new TextEncoder().encode(`new pixels of ${c.caseId}`), 'application/dicom');
  }
  await deps.repo.putCases(
    PROGRAM,
    stored.map((c) => (opts.replaced?.(c) ? { ...c, imageKey: replacement(c) } : c)),
  );
  const answers = Object.fromEntries(stored.filter((c) => c.goldPool).map((c) => [c.caseId, { caseId: c.caseId, label: 'normal', expertId: 'dr-x' }]));
  await deps.objects.putJson(deps.buckets.gold, goldSetObject(PROGRAM, protocol.protocolId), answers);
  return deps;
}

async function prepareAll(deps: FakeDeps) {
  const round = await dispatchRound(deps, dispatchInput);
  const out: { batchId: string; workforceId: string; manifest: VendorManifest }[] = [];
  for (const b of round.batches) {
    const { manifestKey } = await prepareManifest(deps, { batchId: b.batchId });
    out.push({ batchId: b.batchId, workforceId: b.workforceId, manifest: (await deps.objects.getJson<VendorManifest>(deps.buckets.images, manifestKey))! });
  }
  return out;
}

describe('Use case: prepareManifest', () => {
  it("points every item at its case's opaque image key and copies no image", async () => {
    // Arrange
    const deps = await programWith({ work: 100, gold: 20, opaque: () => true });
    const cases = new Map((await deps.repo.listCases(PROGRAM)).map((c) => [c.caseId, c]));
    const copy = vi.spyOn(deps.objects, 'copy');

    // Act
    const batches = await prepareAll(deps);

    // Assert
    expect(batches.length).toBeGreaterThan(1);
    expect(copy).not.toHaveBeenCalled();
    for (const { batchId, manifest } of batches) {
      const key = await loadBatchKey(deps, batchId);
      for (const [k, item] of manifest.items.entries()) {
        expect(item.image).toBe(cases.get(key.items[k].caseId)!.opaqueImage!.key);
        expect(isOpaqueImageKey(item.image)).toBe(true);
      }
      expect(JSON.stringify(manifest)).not.toMatch(/case-|gold|images\//);
    }
  });

  // Issue 14: a case's image is no longer copied per batch, so the same case has the same image key in every batch it is in (its bytes matched already).
  it('gives a gold case the same opaque key in two vendors\' batches, under different aliases', async () => {
    const deps = await programWith({ work: 100, gold: 6, opaque: () => true });

    const batches = await prepareAll(deps);

    const seen = new Map<string, { workforceId: string; alias: string; image: string }[]>();
    for (const { batchId, workforceId, manifest } of batches) {
      const key = await loadBatchKey(deps, batchId);
      for (const [k, item] of key.items.entries()) {
        if (item.gold) seen.set(item.caseId, [...(seen.get(item.caseId) ?? []), { workforceId, alias: item.alias, image: manifest.items[k].image }]);
      }
    }
    const shared = [...seen.values()].filter((s) => new Set(s.map((x) => x.workforceId)).size > 1);
    expect(shared.length).toBeGreaterThan(0);
    for (const s of shared) {
      expect(new Set(s.map((x) => x.image)).size).toBe(1);
      expect(new Set(s.map((x) => x.alias)).size).toBe(s.length);
    }
  });

  it('copies to the batch\'s aliased key exactly the items without an opaque key for their current image (ingested before, or replaced)', async () => {
    // Arrange: case-0000..0009 ingested before opaque keys; case-0010..0014 replaced after their key was made.
    const n = (c: Case) => Number(c.caseId.slice(-4));
    const legacy = (c: ProgramCase) => !c.goldPool && n(c) < 10;
    const replaced = (c: ProgramCase) => !c.goldPool && n(c) >= 10 && n(c) < 15;
    const deps = await programWith({ work: 100, gold: 20, opaque: (c) => !legacy(c), replaced });
    const copy = vi.spyOn(deps.objects, 'copy');

    // Act
    const batches = await prepareAll(deps);

    // Assert
    const expected: string[] = [];
    for (const { batchId, manifest } of batches) {
      const key = await loadBatchKey(deps, batchId);
      for (const [k, item] of key.items.entries()) {
        const c = { ...makeCase(item.caseId), goldPool: item.gold };
        const copied = legacy(c) || replaced(c);
        expect(manifest.items[k].image).toBe(copied ? aliasImageObject(batchId, item.alias) : item.opaqueImageKey);
        if (copied) expect(item.opaqueImageKey).toBeUndefined();
        if (copied) expected.push(`${item.imageKey} → ${aliasImageObject(batchId, item.alias)}`);
      }
    }
    expect(expected).toHaveLength(15);
    expect(copy.mock.calls.map(([, from, , to]) => `${from} → ${to}`).sort()).toEqual(expected.sort());
    // A replaced image is served from a copy of the new image, never from its predecessor's opaque key.
    const [from, to] = expected.find((e) => e.startsWith('replacements/'))!.split(' → ');
    const caseId = from.split('/')[2];
    expect(new TextDecoder().decode(await deps.objects.getBytes(deps.buckets.images, to))).toBe(`new pixels of ${caseId}`);
  });

  it('makes a retried state write nothing again once the manifest is there', async () => {
    const deps = await programWith({ work: 60, gold: 10, opaque: (c) => !c.caseId.endsWith('1') });
    const [first] = await prepareAll(deps);
    const copy = vi.spyOn(deps.objects, 'copy');
    const put = vi.spyOn(deps.objects, 'putJson');

    await prepareManifest(deps, { batchId: first.batchId });

    expect(copy).not.toHaveBeenCalled();
    expect(put).not.toHaveBeenCalled();
  });
});

describe('Use case: getImageUrls over opaque keys', () => {
  it('presigns, for each alias of its own batch, the object its manifest names: the opaque key or the legacy copy', async () => {
    const deps = await programWith({ work: 40, gold: 10, opaque: (c) => !c.caseId.endsWith('3') });
    const [b] = await prepareAll(deps);
    const presign = vi.spyOn(deps.objects, 'presignGet');

    const urls = await getImageUrls(deps, { workforceId: b.workforceId, batchId: b.batchId, aliases: b.manifest.items.map((i) => i.alias) });

    expect(Object.keys(urls)).toEqual(b.manifest.items.map((i) => i.alias));
    expect(presign.mock.calls.map(([bucket, key]) => `${bucket}/${key}`)).toEqual(b.manifest.items.map((i) => `images/${i.image}`));
  });

  it('refuses an alias whose manifest entry names any other object, as if the image did not exist', async () => {
    const deps = await programWith({ work: 40, gold: 10, opaque: () => true });
    const [b] = await prepareAll(deps);
    const tampered = { ...b.manifest, items: b.manifest.items.map((i, k) => (k === 0 ? { ...i, image: 'images/case-0000.dcm' } : i)) };
    await deps.objects.putJson(deps.buckets.images, `batches/${b.batchId}/manifest.json`, tampered);
    const presign = vi.spyOn(deps.objects, 'presignGet');

    const refused = await getImageUrls(deps, { workforceId: b.workforceId, batchId: b.batchId, aliases: [b.manifest.items[0].alias] }).catch((e: Error) => e);

    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toBe(`image ${b.manifest.items[0].alias} not found`);
    expect(presign).not.toHaveBeenCalled();
  });
});
