import { describe, expect, it, vi } from 'vitest';
import { assignOpaqueImages, isOpaqueImageKey, opaqueImageKeyOf } from '../../../functions/use-cases/opaque-images.js';
import { ingestCases, registerProtocolVersion } from '../../../functions/use-cases/setup-program.js';
import { buildPng } from '../../support/images.js';
import { makeCase, makeFakeDeps, makeProtocol } from '../fakes.js';

describe('Use case: assignOpaqueImages', () => {
  it('copies each image under a PM key once to a new opaque key that names no case, and keeps the bytes', async () => {
    // Arrange
    const deps = makeFakeDeps();
    const cases = ['case-0001', 'case-0002', 'case-0003'].map((id) => makeCase(id, { imageKey: `images/site-a/${id}.nii.gz` }));
    for (const c of cases) await deps.objects.putBytes(deps.buckets.images, c.imageKey, new TextEncoder().encode(c.caseId), 'application/gzip');
    const copy = vi.spyOn(deps.objects, 'copy');

    // Act
    const keyed = await assignOpaqueImages(deps, cases);

    // Assert
    expect(copy).toHaveBeenCalledTimes(3);
    expect(new Set(keyed.map((c) => c.opaqueImage?.key)).size).toBe(3);
    for (const c of keyed) {
      expect(c.opaqueImage?.of).toBe(c.imageKey);
      expect(c.opaqueImage?.key).toMatch(/^opaque\/[a-z0-9]{24}\.nii\.gz$/);
      expect(c.opaqueImage?.key).not.toContain(c.caseId);
      expect(new TextDecoder().decode(await deps.objects.getBytes(deps.buckets.images, c.opaqueImage!.key))).toBe(c.caseId);
    }
  });

  it('copies nothing for an image already under an opaque key or a case that has one for its image', async () => {
    const deps = makeFakeDeps();
    const own = makeCase('case-0001', { imageKey: 'opaque/abcdefghjkmnpqrstuvwxyz2.png' });
    const keyed = makeCase('case-0002', { opaqueImage: { key: 'opaque/bbcdefghjkmnpqrstuvwxyz2.dcm', of: 'images/case-0002.dcm' } });
    const copy = vi.spyOn(deps.objects, 'copy');

    const out = await assignOpaqueImages(deps, [own, keyed]);

    expect(copy).not.toHaveBeenCalled();
    expect(out[0].opaqueImage).toEqual({ key: own.imageKey, of: own.imageKey });
    expect(out[1]).toBe(keyed);
  });

  it('serves a replaced image under no opaque key until it is given one', () => {
    const c = makeCase('case-0001', { opaqueImage: { key: 'opaque/abcdefghjkmnpqrstuvwxyz2.dcm', of: 'images/case-0001.dcm' } });
    expect(opaqueImageKeyOf(c)).toBe('opaque/abcdefghjkmnpqrstuvwxyz2.dcm');
    expect(opaqueImageKeyOf({ ...c, imageKey: 'replacements/p/case-0001/9f86.dcm' })).toBeUndefined();
    expect(opaqueImageKeyOf({ ...c, opaqueImage: { key: 'images/case-0001.dcm', of: c.imageKey } })).toBeUndefined();
    expect(isOpaqueImageKey('opaque/abcdefghjkmnpqrstuvwxyz2')).toBe(true);
    expect(isOpaqueImageKey('opaque/../images/case-0001.dcm')).toBe(false);
  });
});

describe('Use case: ingestCases (opaque image keys)', () => {
  it('stores every new case with an opaque key for its image, and a second ingest of the same cases copies nothing', async () => {
    const deps = makeFakeDeps();
    await registerProtocolVersion(deps, makeProtocol());
    const png = buildPng();
    const cases = ['case-0001', 'case-0002'].map((id) => makeCase(id, { imageKey: `images/${id}.png` }));
    for (const c of cases) await deps.objects.putBytes(deps.buckets.images, c.imageKey, png, 'image/png');
    const input = { programId: 'prog-1', protocolId: 'chest-xray', protocolVersion: 1, cases, gold: [] };

    await ingestCases(deps, input);
    const copy = vi.spyOn(deps.objects, 'copy');
    await ingestCases(deps, input);

    const stored = await deps.repo.listCases('prog-1');
    expect(stored.map((c) => opaqueImageKeyOf(c) !== undefined)).toEqual([true, true]);
    expect(copy).not.toHaveBeenCalled();
  });
});
