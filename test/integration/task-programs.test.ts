/**
 * Detection (lung nodules, centroid + diameter, critical size 4 mm) and
 * segmentation (3D organ masks as NIfTI or run-length files) protocols, end to
 * end on the embedded stack like the classification one: dispatch, blinded
 * manifests, real uploads through presigned URLs, scoring against hidden gold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CaseInput,
  type GoldLabelInput,
  type Mask3D,
  type ProtocolVersionInput,
  encodeRle3dLabels,
  seededRandomSource,
  toRle3dDocument,
  writeNifti,
} from '../../functions/domain/index.js';
import { decideAdjudication } from '../../functions/use-cases/adjudication.js';
import { loadBatchKey } from '../../functions/use-cases/batch-key.js';
import { dispatchRound } from '../../functions/use-cases/dispatch-round.js';
import type { VendorManifest } from '../../functions/use-cases/prepare-manifest.js';
import { ingestCases, registerProtocolVersion, registerWorkforce } from '../../functions/use-cases/setup-program.js';
import { getImageUrls } from '../../functions/use-cases/vendor-portal.js';
import { downloadManifest, uploadLabelFile } from '../../infra/local/demo/simulated-workforce.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';
import { until } from './helpers.js';

const CREATED = '2026-11-01T00:00:00.000Z';
const vendors = (q: string, ids = ['vendor-good', 'vendor-bad']) =>
  ids.map((id) => ({
    workforceId: id,
    kind: 'vendor' as const,
    name: id,
    capacityPerRound: 500,
    pricePerCase: 3,
    slaHours: 48,
    qualifications: [q],
  }));

type Labeller = (workforceId: string, alias: string, image: unknown) => Record<string, unknown>;

/** Sets up a program, dispatches round 1, lets each vendor label what it sees, waits for the lifecycles. */
async function runProgram(
  stack: LocalStack,
  p: {
    programId: string;
    protocol: ProtocolVersionInput;
    qualification: string;
    vendorIds?: string[];
    cases: CaseInput[];
    gold: GoldLabelInput[];
    images: Map<string, unknown>;
    label: Labeller;
    /** Lines of a bad file this workforce uploads first (refused at ingest), before its real one. */
    badFirstUpload?: (workforceId: string, batchId: string, goodLines: string[]) => Promise<string[] | undefined>;
  },
) {
  const { deps } = stack;
  await registerProtocolVersion(deps, p.protocol);
  for (const w of vendors(p.qualification, p.vendorIds)) await registerWorkforce(deps, p.programId, w);
  // Internal experts adjudicate (they take no routed work here: no qualification for it).
  await registerWorkforce(deps, p.programId, {
    workforceId: 'radiology-team',
    kind: 'internal',
    name: 'Radiologists',
    capacityPerRound: 0,
    pricePerCase: 20,
    slaHours: 72,
    qualifications: ['adjudicator'],
  });
  for (const [key, image] of p.images) await deps.objects.putJson(deps.buckets.images, key, image);
  await ingestCases(deps, { programId: p.programId, protocolId: p.protocol.protocolId, cases: p.cases, gold: p.gold });
  await dispatchRound(deps, { programId: p.programId, protocolId: p.protocol.protocolId, version: 1, round: 1, actor: 'pm:test' });
  const batches = await deps.repo.listRoundBatches(p.programId, 1);
  await until('awaiting', async () => {
    for (const e of stack.runner.executions.values()) if (e.status === 'FAILED') throw new Error(`${e.name}: ${e.error}`);
    const all = await Promise.all(batches.map((b) => deps.repo.getBatch(b.batchId)));
    return all.every((b) => b?.status === 'awaiting-submission');
  });
  const manifests = new Map<string, VendorManifest>();
  for (const b of batches) {
    const manifest = await downloadManifest(deps, b.workforceId, b.batchId);
    manifests.set(b.batchId, manifest);
    const urls = await getImageUrls(deps, { workforceId: b.workforceId, batchId: b.batchId, aliases: manifest.items.map((i) => i.alias) });
    const lines: string[] = [];
    for (const item of manifest.items) {
      const image = await (await fetch(urls[item.alias])).json();
      lines.push(JSON.stringify({ alias: item.alias, annotator: `${b.workforceId}/reader-1`, ...p.label(b.workforceId, item.alias, image) }));
    }
    const bad = await p.badFirstUpload?.(b.workforceId, b.batchId, lines);
    if (bad) {
      const { uploadId } = await uploadLabelFile(deps, b.workforceId, b.batchId, new TextEncoder().encode(`${bad.join('\n')}\n`));
      await until('bad upload refused', async () => (await deps.repo.listSubmissions(b.batchId)).some((x) => x.uploadId === uploadId && x.status === 'rejected'));
    }
    await uploadLabelFile(deps, b.workforceId, b.batchId, new TextEncoder().encode(`${lines.join('\n')}\n`));
  }
  // Critical misses on gold open an adjudication: the expert upholds the reference.
  const adjudicated: string[] = [];
  await until('lifecycles finished', async () => {
    for (const a of await deps.repo.listOpenAdjudications(p.programId)) {
      if (!a.taskToken) continue;
      await decideAdjudication(deps, {
        adjudicationId: a.adjudicationId,
        workforceId: 'radiology-team',
        expertId: 'dr-expert',
        // Critical misses: the reference stands. Overlap disagreements: vendor-good's label stands.
        decisions: a.needs.map((n) => ({
          caseId: n.caseId,
          label: n.kind === 'critical-miss' ? 'uphold-reference' : Object.keys(n.labels).find((k) => k.startsWith('vendor-good'))!,
          note: 'reviewed',
        })),
      });
      adjudicated.push(a.adjudicationId);
    }
    return [...stack.runner.executions.values()].every((e) => e.status !== 'RUNNING');
  });
  const out = [];
  for (const b of batches) {
    out.push({
      batch: (await deps.repo.getBatch(b.batchId))!,
      score: (await deps.repo.getScore(b.batchId))!,
      manifest: manifests.get(b.batchId)!,
      adjudication: await deps.repo.getAdjudication(`${b.batchId}-adj`),
    });
  }
  return out;
}

describe('Detection protocol: lung nodules by centroid and diameter', () => {
  let stack: LocalStack;
  let results: Awaited<ReturnType<typeof runProgram>>;
  let detectionRefused: { batchId: string } | undefined;

  beforeAll(async () => {
    stack = await startLocalStack({ random: seededRandomSource(5) });
    const random = seededRandomSource(99);
    const cases: CaseInput[] = [];
    const gold: GoldLabelInput[] = [];
    const images = new Map<string, unknown>();
    for (let i = 0; i < 36; i++) {
      const caseId = `ct-${String(i).padStart(3, '0')}`;
      // Every study has a 6 mm nodule (critical: ≥ 4 mm) and a 3 mm one (not critical).
      const nodules = [
        { x: 40 + random.int(200), y: 40 + random.int(200), z: 20 + random.int(100), diameterMm: 6 },
        { x: 40 + random.int(200), y: 40 + random.int(200), z: 20 + random.int(100), diameterMm: 3 },
      ];
      const imageKey = `images/${caseId}.json`;
      images.set(imageKey, { phantom: 'chest-ct', nodules });
      const grid = { dims: [512, 512, 300] as [number, number, number], spacing: [0.7, 0.7, 1] as [number, number, number] };
      cases.push({ caseId, imageKey, grid, modality: 'CT', bodyPart: 'CHEST', site: 'site-a', deidentified: true });
      if (i % 3 === 0) gold.push({ caseId, label: { findings: nodules }, expertId: 'expert:dr-kim' });
    }
    const protocol: ProtocolVersionInput = {
      protocolId: 'lung-nodules',
      version: 1,
      title: 'Lung nodule detection (LUNA16 rule)',
      task: { type: 'detection', finding: 'nodule', criticalDiameterMm: 4, minSensitivity: 0.5, maxFalsePositivesPerItem: 2 },
      thresholds: { goldAccuracy: 0.75, minGoldItems: 3 },
      goldRate: 0.25,
      overlapRate: 0.4,
      overlapWith: 'vendor',
      batchSize: 12,
      slaHours: 48,
      routing: { rules: [], default: { pool: 'vendor', qualifications: ['ct-chest'] } },
      createdBy: 'pm:test',
      createdAt: CREATED,
    };
    results = await runProgram(stack, {
      programId: 'demo-nodules',
      // vendor-good's first batch: first a file whose non-gold findings DynamoDB could not store, or lie outside the image.
      badFirstUpload: async (w, batchId, lines) => {
        if (w !== 'vendor-good' || detectionRefused) return undefined;
        const key = await loadBatchKey(stack.deps, batchId);
        const real = new Set(key.items.filter((i) => !i.gold).map((i) => i.alias));
        const bad = [{ x: 1e200 }, { x: 1e-200 }, { probability: 1e-140 }, { z: 400 }];
        let k = 0;
        const out = lines.map((l) => {
          const line = JSON.parse(l);
          if (!real.has(line.alias) || k >= bad.length) return l;
          line.findings = [{ x: 10, y: 10, z: 10, diameterMm: 3, probability: 0.5, ...bad[k++] }];
          return JSON.stringify(line);
        });
        detectionRefused = { batchId };
        return out;
      },
      protocol,
      qualification: 'ct-chest',
      vendorIds: ['vendor-good', 'vendor-bad', 'vendor-ok'],
      cases,
      gold,
      images,
      label: (w, _alias, image) => {
        const { nodules } = image as { nodules: { x: number; y: number; z: number; diameterMm: number }[] };
        // The careful vendor marks every nodule (1 mm off-centre); vendor-bad misses the
        // 6 mm (critical) nodules; vendor-ok misses the 3 mm ones (passes gold, disagrees on overlap).
        const seen =
          w === 'vendor-good' ? nodules : w === 'vendor-bad' ? nodules.filter((n) => n.diameterMm < 6) : nodules.filter((n) => n.diameterMm >= 6);
        return { findings: seen.map((n) => ({ x: n.x + 1, y: n.y, z: n.z, diameterMm: n.diameterMm, probability: 0.9 })) };
      },
    });
  });
  afterAll(async () => stack?.stop());

  it('accepts the vendor that finds every nodule', () => {
    const good = results.filter((r) => r.batch.workforceId === 'vendor-good');
    expect(good.length).toBeGreaterThan(0);
    for (const r of good) {
      expect(r.batch.status).toBe('accepted');
      expect(r.score.taskType).toBe('detection');
      expect(r.score.goldN).toBeGreaterThanOrEqual(3);
      expect(r.score.summary.sensitivity).toBe(1);
    }
  });

  it('rejects the vendor that misses a 6 mm gold nodule, naming the critical miss', () => {
    const bad = results.filter((r) => r.batch.workforceId === 'vendor-bad');
    expect(bad.length).toBeGreaterThan(0);
    for (const r of bad) {
      expect(r.batch.status).toBe('rejected');
      expect(r.score.notes.join('\n')).toMatch(/critical miss on gold item ct-\d+: missed a 6\.0 mm nodule \(critical size 4 mm\)/);
      const item = r.score.items[0];
      expect(item.correct).toBe(false);
      expect(item.metrics?.fn).toBe(1);
    }
  });

  it('sends each gold item failed with a critical miss to an internal expert, who decides through the callback', () => {
    for (const r of results.filter((x) => x.batch.workforceId === 'vendor-bad')) {
      expect(r.adjudication?.status).toBe('decided');
      expect(r.adjudication?.decidedBy).toBe('radiology-team/dr-expert');
      expect(r.adjudication?.needs.every((n) => n.kind === 'critical-miss')).toBe(true);
      expect(r.adjudication?.needs).toHaveLength(r.score.goldN);
    }
    for (const r of results.filter((x) => x.batch.workforceId === 'vendor-good')) {
      expect(r.adjudication?.needs.filter((n) => n.kind === 'critical-miss') ?? []).toEqual([]);
    }
  });

  it('sends overlap cases whose findings disagree to an expert; the label they choose becomes the accepted one', async () => {
    const overlap = results.filter((r) => r.adjudication?.needs.some((n) => n.kind === 'overlap-disagreement'));
    expect(overlap.length).toBeGreaterThan(0);
    for (const r of overlap) {
      for (const n of r.adjudication!.needs.filter((x) => x.kind === 'overlap-disagreement')) {
        expect(n.reason).toMatch(/finding\(s\), 1 unpaired/);
        const accepted = (await stack.deps.repo.listCaseLabels(n.caseId)).filter((l) => l.status === 'accepted');
        expect(accepted).toHaveLength(1);
        expect(accepted[0]).toMatchObject({ workforceId: 'radiology-team', annotatorId: 'dr-expert', label: '2 finding(s)' });
        expect(accepted[0].findings).toHaveLength(2);
        expect(accepted[0].submissionKey).toMatch(/^uploads\/vendor-good\//);
      }
    }
  });

  // Issue 7 finding 3: a non-gold finding with x = 1e200, x = 1e-200 or probability = 1e-140 was accepted; FinalizeBatch threw and the batch failed with 0 labels.
  it('refuses findings DynamoDB cannot store or outside the image at ingest; the good upload then finalizes every label', async () => {
    const { batchId } = detectionRefused!;
    const subs = await stack.deps.repo.listSubmissions(batchId);
    const refused = subs.find((x) => x.status === 'rejected')!;
    const reasons = refused.problems.map((p) => p.reason).join('\n');
    expect(reasons).toMatch(/field "findings\.0\.x": Too big/);
    expect(reasons).toMatch(/field "findings\.0\.x": must be 0 or at least 1e-9 in magnitude/);
    expect(reasons).toMatch(/field "findings\.0\.probability": must be 0 or at least 1e-9 in magnitude/);
    expect(reasons).toMatch(/finding 1: z = 400 mm lies outside the image \(512×512×300 voxels of 0\.7×0\.7×1 mm\)/);
    expect((await stack.deps.repo.listLedger('demo-nodules')).some((e) => e.type === 'submission.rejected' && e.subject === batchId)).toBe(true);
    const batch = (await stack.deps.repo.getBatch(batchId))!;
    expect(batch.status).toBe('accepted');
    expect(await stack.deps.repo.listBatchLabels(batchId)).toHaveLength(batch.itemCount);
  });

  it('tells the vendor what to mark without revealing gold', () => {
    const m = results[0].manifest;
    expect(m.task).toMatchObject({ type: 'detection', finding: 'nodule' });
    expect(JSON.stringify(m)).not.toMatch(/ct-\d{3}|gold|diameterMm": 6/);
  });
});

/** An ellipsoid mask on a 48×48×24 grid, 1×1×2 mm voxels, shifted by `dx` voxels in x. */
function ellipsoid(c: { cx: number; cy: number; cz: number; rx: number; ry: number; rz: number }, dx = 0): Mask3D {
  const dims: [number, number, number] = [48, 48, 24];
  const data = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let z = 0; z < dims[2]; z++)
    for (let y = 0; y < dims[1]; y++)
      for (let x = 0; x < dims[0]; x++) {
        const v = ((x - dx - c.cx) / c.rx) ** 2 + ((y - c.cy) / c.ry) ** 2 + ((z - c.cz) / c.rz) ** 2;
        if (v <= 1) data[x + dims[0] * (y + dims[1] * z)] = 1;
      }
  return { dims, spacing: [1, 1, 2], data };
}

describe('Segmentation protocol: 3D organ masks as NIfTI or run-length files', () => {
  let stack: LocalStack;
  let results: Awaited<ReturnType<typeof runProgram>>;
  let segmentationRefused: { batchId: string; aliases: string[] } | undefined;

  beforeAll(async () => {
    stack = await startLocalStack({ random: seededRandomSource(8) });
    const random = seededRandomSource(42);
    const cases: CaseInput[] = [];
    const gold: GoldLabelInput[] = [];
    const images = new Map<string, unknown>();
    for (let i = 0; i < 24; i++) {
      const caseId = `abd-${String(i).padStart(3, '0')}`;
      const organ = { cx: 20 + random.int(8), cy: 20 + random.int(8), cz: 10 + random.int(4), rx: 10, ry: 12, rz: 6 };
      const imageKey = `images/${caseId}.json`;
      images.set(imageKey, { phantom: 'abdomen-ct', dims: [48, 48, 24], spacing: [1, 1, 2], organ });
      cases.push({ caseId, imageKey, grid: { dims: [48, 48, 24], spacing: [1, 1, 2] }, modality: 'CT', bodyPart: 'ABDOMEN', site: 'site-b', deidentified: true });
      if (i % 3 === 0) gold.push({ caseId, label: toRle3dDocument(encodeRle3dLabels(ellipsoid(organ))), expertId: 'expert:dr-ito' });
    }
    const protocol: ProtocolVersionInput = {
      protocolId: 'liver-seg',
      version: 1,
      title: 'Liver segmentation on abdominal CT',
      task: { type: 'segmentation', labels: { '1': 'liver' }, minDice: 0.85, maxHd95Mm: 5, nsdToleranceMm: 2 },
      thresholds: { goldAccuracy: 0.75, minGoldItems: 2 },
      goldRate: 0.25,
      batchSize: 8,
      slaHours: 48,
      routing: { rules: [], default: { pool: 'vendor', qualifications: ['ct-abdomen'] } },
      createdBy: 'pm:test',
      createdAt: CREATED,
    };
    let k = 0;
    results = await runProgram(stack, {
      programId: 'demo-organs',
      // vendor-good's first batch: first a file with two non-gold masks on other grids than their images.
      badFirstUpload: async (w, batchId, lines) => {
        if (w !== 'vendor-good' || segmentationRefused) return undefined;
        const key = await loadBatchKey(stack.deps, batchId);
        const [a, b] = key.items.filter((i) => !i.gold).map((i) => i.alias);
        const small: Mask3D = { dims: [10, 10, 10], spacing: [1, 1, 2], data: new Uint8Array(1000).fill(1, 0, 100) };
        const wide = { format: 'goldline-rle3d/1', dims: [65535, 65535, 1], spacing: [1, 1, 2], labels: [{ label: 1, runs: [0, 100] }] };
        segmentationRefused = { batchId, aliases: [a, b] };
        return lines.map((l) => {
          const line = JSON.parse(l);
          if (line.alias === a) line.mask = { format: 'nifti', encoding: 'base64', data: Buffer.from(writeNifti(small, { gzip: true })).toString('base64') };
          if (line.alias === b) line.mask = wide;
          return JSON.stringify(line);
        });
      },
      protocol,
      qualification: 'ct-abdomen',
      cases,
      gold,
      images,
      label: (w, _alias, image) => {
        const { organ } = image as { organ: Parameters<typeof ellipsoid>[0] };
        // The careful vendor traces the organ; the other one's masks are shifted 7 mm in x.
        const mask = ellipsoid(organ, w === 'vendor-good' ? 0 : 7);
        // Alternate formats: NIfTI (gzip, base64) and goldline-rle3d/1.
        if (k++ % 2 === 0) return { mask: { format: 'nifti', encoding: 'base64', data: Buffer.from(writeNifti(mask, { gzip: true })).toString('base64') } };
        return { mask: toRle3dDocument(encodeRle3dLabels(mask)) };
      },
    });
  });
  afterAll(async () => stack?.stop());

  it('accepts faithful masks, from NIfTI and run-length uploads alike', () => {
    const good = results.filter((r) => r.batch.workforceId === 'vendor-good');
    expect(good.length).toBeGreaterThan(0);
    for (const r of good) {
      expect(r.batch.status).toBe('accepted');
      expect(r.score.taskType).toBe('segmentation');
      expect(r.score.summary.meanDice).toBe(1);
      for (const item of r.score.items) expect(item.metrics?.['hd95Mm:liver']).toBe(0);
    }
  });

  it('rejects shifted organ masks, naming Dice and HD95', () => {
    const bad = results.filter((r) => r.batch.workforceId === 'vendor-bad');
    expect(bad.length).toBeGreaterThan(0);
    for (const r of bad) {
      expect(r.batch.status).toBe('rejected');
      const notes = r.score.notes.join('\n');
      expect(notes).toMatch(/gold items passed 0\.000 \(0\/\d+\) below threshold 0\.75/);
      expect(notes).toMatch(/gold item abd-\d+: liver: Dice 0\.\d+ below 0\.85; liver: HD95 \d+\.\d+ mm above 5 mm/);
    }
  });

  // Issue 7 finding 2: a 10×10×10 NIfTI and a 65535×65535×1 rle3d mask for a 48×48×24 image became accepted labels (only gold was checked).
  it('refuses non-gold masks on another grid than their image at ingest, naming both grids', async () => {
    const { batchId, aliases } = segmentationRefused!;
    const refused = (await stack.deps.repo.listSubmissions(batchId)).find((x) => x.status === 'rejected')!;
    expect(refused.problems.map((p) => p.reason)).toEqual([
      'mask cannot be read: mask grid [10×10×10] differs from the image grid [48×48×24]',
      'mask cannot be read: mask grid [65535×65535×1] differs from the image grid [48×48×24]',
    ]);
    expect(aliases).toHaveLength(2);
    expect((await stack.deps.repo.getBatch(batchId))?.status).toBe('accepted');
  });

  it('stores each accepted mask label with a pointer to its line in the uploaded file', async () => {
    const r = results.find((x) => x.batch.status === 'accepted')!;
    const labels = await stack.deps.repo.listBatchLabels(r.batch.batchId);
    expect(labels.length).toBe(r.batch.itemCount);
    for (const l of labels) {
      expect(l.label).toBe('mask');
      expect(l.maskRef!.line).toBeGreaterThanOrEqual(1);
      expect(l.maskRef!.voxels).toBeGreaterThan(100);
      expect(l.protocol).toBe('liver-seg@1');
    }
  });
});
