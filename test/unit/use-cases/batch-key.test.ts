import { describe, expect, it } from 'vitest';
import { writeNifti } from '../../../functions/domain/index.js';
import {
  batchAliasesObject,
  batchAnswersObject,
  batchKeyObject,
  goldSetObject,
  imageGridFromHeader,
  loadBatchAliases,
  loadBatchAnswers,
  loadBatchKey,
  storeBatchKey,
} from '../../../functions/use-cases/batch-key.js';
import { dispatchRound } from '../../../functions/use-cases/dispatch-round.js';
import { T0, makeCase, makeFakeDeps, makeProtocol, makeWorkforce } from '../fakes.js';

const PROGRAM = 'prog-1';
const GRID = { dims: [48, 48, 24] as [number, number, number], spacing: [1, 1, 2] as [number, number, number] };

describe('Module: batch-key (aliases, key and answers stored apart)', () => {
  describe('Function: storeBatchKey', () => {
    it('stores the aliases without cases or gold, the key without answers, and the answers alone', async () => {
      // Arrange
      const deps = makeFakeDeps();

      // Act
      await storeBatchKey(deps, {
        batchId: 'b-1',
        round: 1,
        protocol: 'chest-xray@1',
        workforceId: 'vendor-a',
        workforceKind: 'vendor',
        slaHours: 48,
        createdAt: T0,
        items: [
          { alias: 'aaaaaaaa1', caseId: 'case-1', gold: false, imageKey: 'images/case-1.dcm', grid: GRID },
          { alias: 'bbbbbbbb2', caseId: 'gold-1', gold: true, imageKey: 'images/gold-1.dcm' },
        ],
        answers: { 'gold-1': 'abnormal' },
      });

      // Assert: three objects under their own prefixes (IAM grants by prefix)
      const aliases = await deps.objects.getJson<Record<string, unknown>>(deps.buckets.gold, batchAliasesObject('b-1'));
      expect(aliases).toEqual({
        batchId: 'b-1',
        protocol: 'chest-xray@1',
        items: [{ alias: 'aaaaaaaa1', grid: GRID }, { alias: 'bbbbbbbb2' }],
      });
      expect(JSON.stringify(aliases)).not.toMatch(/case-1|gold|abnormal|images\//);
      const key = await deps.objects.getJson<Record<string, unknown>>(deps.buckets.gold, batchKeyObject('b-1'));
      expect(key).not.toHaveProperty('answers');
      expect(JSON.stringify(key)).not.toMatch(/abnormal/);
      expect(await deps.objects.getJson(deps.buckets.gold, batchAnswersObject('b-1'))).toEqual({ batchId: 'b-1', answers: { 'gold-1': 'abnormal' } });
      expect((await loadBatchKey(deps, 'b-1')).items.map((i) => i.caseId)).toEqual(['case-1', 'gold-1']);
      expect(await loadBatchAnswers(deps, 'b-1')).toEqual(new Map([['gold-1', 'abnormal']]));
    });
  });

  describe('Function: imageGridFromHeader', () => {
    it('reads the grid of a NIfTI image from its first 4 KiB, and nothing for other images', async () => {
      const deps = makeFakeDeps();
      const image = writeNifti({ dims: [64, 64, 32], spacing: [0.5, 0.5, 1.5], data: new Uint8Array(64 * 64 * 32) }, { gzip: true });
      await deps.objects.putBytes(deps.buckets.images, 'images/a.nii.gz', image, 'application/octet-stream');
      await deps.objects.putBytes(deps.buckets.images, 'images/b.dcm', image, 'application/dicom');
      await deps.objects.putBytes(deps.buckets.images, 'images/c.nii', new Uint8Array(400), 'application/octet-stream');

      expect(await imageGridFromHeader(deps, 'images/a.nii.gz')).toEqual({ dims: [64, 64, 32], spacing: [0.5, 0.5, 1.5] });
      expect(await imageGridFromHeader(deps, 'images/b.dcm')).toBeUndefined();
      expect(await imageGridFromHeader(deps, 'images/c.nii')).toBeUndefined(); // not a NIfTI: the grid stays unknown
      expect(await imageGridFromHeader(deps, 'images/missing.nii')).toBeUndefined();
    });
  });

  describe('Function: dispatchRound (where the grids come from)', () => {
    // Issue 7 finding 2: only gold masks were checked against the image grid, because no other item's grid was known at validation.
    it("records every item's image grid in the batch aliases: from the case record, else from the image's NIfTI header", async () => {
      // Arrange: segmentation cases; half carry their grid, half have a NIfTI image that holds it
      const deps = makeFakeDeps();
      const protocol = makeProtocol({
        protocolId: 'liver-seg',
        task: { type: 'segmentation', labels: { '1': 'liver' }, minDice: 0.8, maxHd95Mm: 5, nsdToleranceMm: 2 },
        goldRate: 0,
      });
      await deps.repo.putProtocolVersion(protocol);
      await deps.repo.putWorkforce(PROGRAM, makeWorkforce('vendor-a'));
      const cases = Array.from({ length: 6 }, (_, i) =>
        i % 2 === 0
          ? makeCase(`case-${i}`, { imageKey: `images/case-${i}.json`, grid: GRID })
          : makeCase(`case-${i}`, { imageKey: `images/case-${i}.nii.gz` }),
      );
      await deps.repo.putCases(PROGRAM, cases.map((c) => ({ ...c, goldPool: false })));
      const image = writeNifti({ dims: [64, 64, 32], spacing: [0.5, 0.5, 1.5], data: new Uint8Array(64 * 64 * 32) }, { gzip: true });
      for (const c of cases) await deps.objects.putBytes(deps.buckets.images, c.imageKey, image, 'application/octet-stream');
      await deps.objects.putJson(deps.buckets.gold, goldSetObject(PROGRAM, 'liver-seg'), {});

      // Act
      const r = await dispatchRound(deps, { programId: PROGRAM, protocolId: 'liver-seg', version: 1, round: 1, actor: 'pm' });

      // Assert
      const [batch] = r.batches;
      const key = await loadBatchKey(deps, batch.batchId);
      const aliases = await loadBatchAliases(deps, batch.batchId);
      expect(aliases.items).toHaveLength(6);
      for (const item of key.items) {
        const expected = Number(item.caseId.split('-')[1]) % 2 === 0 ? GRID : { dims: [64, 64, 32], spacing: [0.5, 0.5, 1.5] };
        expect(aliases.items.find((a) => a.alias === item.alias)?.grid).toEqual(expected);
      }
    });
  });
});
