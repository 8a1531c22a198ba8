/**
 * A PM runs a whole round of a new program from the `goldline` CLI against the
 * local API: protocol from examples/protocols, workforces, cases from a CSV,
 * dry run, dispatch; the vendors and the internal team label through the same
 * CLI (download, submit); the PM approves the shares rebalancing proposes. Every
 * step is the CLI's main function with a profile file, as a user would run it.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandomSource } from '../../functions/domain/index.js';
import { runGoldline } from '../../infra/cli/program.js';
import { type GoldlineIo, processIo } from '../../infra/cli/io.js';
import { type ApiServer, startApiServer } from '../../infra/local/api-server.js';
import { readSyntheticImage, syntheticImage } from '../../infra/local/demo/example-program.js';
import { DEMO_USERS } from '../../infra/local/issuer.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';
import { until } from './helpers.js';

const PROGRAM = 'cxr-cli';
const CSV = 'examples/cases/chest-xray.sample.csv';
const PROTOCOL = 'examples/protocols/chest-xray.v2.yaml';

describe('CLI: a PM runs a whole round on a new program', () => {
  let stack: LocalStack;
  let api: ApiServer;
  let dir: string;
  let profile: string;

  async function goldline(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const io: GoldlineIo = { ...processIo, out: (t) => out.push(t), err: (t) => err.push(t), errRaw: () => {}, errIsTTY: false, env: {}, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 100))) };
    const code = await runGoldline(['--profile', profile, ...args], io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }
  async function ok(...args: string[]): Promise<string> {
    const r = await goldline(...args);
    if (r.code !== 0) throw new Error(`goldline ${args.join(' ')} → exit ${r.code}\n${r.err}`);
    return r.out;
  }

  beforeAll(async () => {
    stack = await startLocalStack({ random: seededRandomSource(21) });
    api = await startApiServer({ deps: stack.deps });
    dir = await mkdtemp(join(tmpdir(), 'goldline-cli-round-'));
    profile = join(dir, 'local.json');
    const tokens: Record<string, string> = {};
    for (const user of Object.keys(DEMO_USERS)) tokens[user] = await api.issuer.issueToken(user);
    await writeFile(profile, JSON.stringify({ endpoint: api.url, program: PROGRAM, tokens }));
    // The images the manifest names are already in the images bucket (the hospital's de-identified export):
    // abnormal when the case number is a multiple of 3, as the CSV's gold labels say.
    const random = seededRandomSource(5);
    const csv = await readFile(CSV, 'utf8');
    for (const [, n, key] of csv.matchAll(/^cxr-(\d+),([^,]+),/gm)) {
      await stack.deps.objects.putBytes(stack.deps.buckets.images, key, syntheticImage(Number(n) % 3 === 0, random), 'image/x-portable-graymap');
    }
  });
  afterAll(async () => {
    await api?.close();
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('registers the protocol, workforces and CSV cases, dry-runs, dispatches, has the work labelled and approves the shares', async () => {
    expect(await ok('pm', 'protocol', 'register', PROTOCOL)).toBe('chest-xray@2 registered');
    expect(await ok('pm', 'protocol', 'register', PROTOCOL)).toContain('already registered with this content');

    await ok('pm', 'workforce', 'create', 'radiology-team', '--kind', 'internal', '--name', 'Radiology', '--capacity', '200', '--price', '12', '--sla', '72', '--qualifications', 'radiologist,thoracic,cxr,adjudicator');
    await ok('pm', 'workforce', 'create', 'vendor-a', '--kind', 'vendor', '--name', 'Vendor A', '--capacity', '400', '--price', '1.8', '--sla', '48', '--qualifications', 'cxr');
    await ok('pm', 'workforce', 'create', 'vendor-b', '--kind', 'vendor', '--name', 'Vendor B', '--capacity', '400', '--price', '1.1', '--sla', '48', '--qualifications', 'cxr');
    expect(await ok('pm', 'workforce', 'change', 'vendor-b', '--price', '1.2')).toBe('workforce vendor-b: pricePerCase 1.1 → 1.2');
    expect(await ok('pm', 'workforce', 'list')).toMatch(/vendor-b\s+vendor\s+Vendor B\s+400\s+1\.2/);

    expect(await ok('pm', 'cases', 'ingest', CSV, '--protocol', 'chest-xray@2')).toMatch(/^ingested 120 cases \(24 gold\) into cxr-cli; held back by the de-identification gate: 0/);

    const dry = await ok('pm', 'dry-run', '--protocol', 'chest-xray@2');
    expect(dry).toContain('cxr-0007 → exclude (rule "out-of-scope-excluded")');
    expect(dry).toMatch(/adult-cxr-to-vendors\s+vendor\s+\d+/);

    expect(await ok('pm', 'round', 'dispatch', '--protocol', 'chest-xray@2', '--round', '1')).toMatch(/^round 1 dispatched: \d+ batches/);
    type Status = { batches: { batchId: string; workforceId: string; status: string }[]; complete: boolean };
    const status = async () => JSON.parse(await ok('pm', 'round', 'status', '1', '--json')) as Status;
    await until('batches awaiting submission', async () => (await status()).batches.every((b) => b.status !== 'planned'));

    // Each workforce downloads its batch, reads every image and submits a label file, all through the CLI.
    const { batches } = await status();
    expect(new Set(batches.map((b) => b.workforceId))).toEqual(new Set(['radiology-team', 'vendor-a', 'vendor-b']));
    for (const b of batches) {
      const user = b.workforceId === 'radiology-team' ? 'expert' : b.workforceId;
      const role = user === 'expert' ? 'expert' : 'vendor';
      const out = join(dir, b.batchId);
      expect(await ok(role, 'download', b.batchId, '--out', out, '--as', user)).toMatch(/manifest\.json {2}\(\d+ images in /);
      const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { items: { alias: string; image: string }[] };
      expect((await readdir(join(out, 'images'))).length).toBe(manifest.items.length);
      const lines = await Promise.all(
        manifest.items.map(async (i) => {
          const label = readSyntheticImage(new Uint8Array(await readFile(join(out, 'images', basename(i.image)))));
          return JSON.stringify({ alias: i.alias, label, annotator: `${b.workforceId}/cli` });
        }),
      );
      await writeFile(join(out, 'labels.jsonl'), `${lines.join('\n')}\n`);
      expect(await ok(role, 'submit', b.batchId, join(out, 'labels.jsonl'), '--as', user)).toMatch(/^upload \S+ accepted/);
    }
    await until('the round to settle', async () => (await status()).complete);
    // Rebalancing runs as the last batch settles; in approval mode it proposes the next round's shares.
    const proposal = async () => (JSON.parse(await ok('pm', 'shares', 'list', '--json')) as { items: { round: number; status: string }[] }).items.find((p) => p.round === 2);
    await until('the share proposal for round 2', async () => (await proposal()) !== undefined);
    expect((await proposal())?.status).toBe('pending');
    expect(await ok('pm', 'shares', 'list')).toMatch(/^round\s+protocol\s+status\s+proposed\s+decided by\n\s*2\s+chest-xray@2\s+pending\s+vendor-a/);
    expect(await ok('pm', 'shares', 'approve', '--round', '2', '--protocol', 'chest-xray@2')).toMatch(/^round 2 shares approved: vendor-a \d/);
    const after = JSON.parse(await ok('pm', 'shares', 'list', '--json')) as { items: { round: number; status: string; decidedBy?: string }[] };
    expect(after.items.find((p) => p.round === 2)).toMatchObject({ status: 'approved', decidedBy: 'pm:alice' });

    expect(await ok('qa', 'scorecards')).toMatch(/vendor-a\s+chest-xray\s+100\.0%/);
    expect(await ok('pm', 'round', 'plan')).toMatch(/^round 2 \(chest-xray@2\) would plan \d+ pending case\(s\); shares vendor-a/);
  });

  it('ingests a CSV manifest whose images are uploaded through the slots the API returns, and prints each verdict', async () => {
    const images = join(dir, 'scans');
    const random = seededRandomSource(8);
    const files: Record<string, Uint8Array> = {};
    for (const n of [1, 2, 3]) {
      files[`scan-${n}.pgm`] = syntheticImage(n === 3, random);
      await mkdir(images, { recursive: true });
      await writeFile(join(images, `scan-${n}.pgm`), files[`scan-${n}.pgm`]);
    }
    await writeFile(
      join(dir, 'manifest.csv'),
      'caseId,modality,bodyPart,site,deidentified,image,subgroup.sex,subgroup.ageBand,goldLabel,goldExpert\n' +
        'img-1,CR,CHEST,site-north,true,scan-1.pgm,F,18-64,,\n' +
        'img-2,DX,CHEST,site-north,false,scan-2.pgm,M,65+,,\n' +
        'img-3,CR,CHEST,site-south,true,scan-3.pgm,F,65+,abnormal,expert:dr-lead\n',
    );
    await ok('pm', 'protocol', 'register', PROTOCOL);
    const out = await ok('pm', '--program', 'cxr-img', 'cases', 'ingest', join(dir, 'manifest.csv'), '--protocol', 'chest-xray@2', '--images', images);
    expect(out).toMatch(/^ingested 3 cases \(1 gold\) into cxr-img under chest-xray@2: clear 2 · internal only 1 · quarantined 0\n {2}img-2 internal-only: /);
    // The bytes the CLI uploaded are the ones the program holds, under keys the server chose.
    const stored = await stack.deps.repo.listCases('cxr-img');
    expect(stored.map((c) => c.caseId).sort()).toEqual(['img-1', 'img-2', 'img-3']);
    for (const c of stored) {
      const n = c.caseId.split('-')[1];
      expect(await stack.deps.objects.getBytes(stack.deps.buckets.images, c.imageKey)).toEqual(files[`scan-${n}.pgm`]);
    }
  });

  it('prints the problem the API answers, with its field errors, and exits 1', async () => {
    const r = await goldline('pm', 'round', 'dispatch', '--protocol', 'chest-xray@9', '--round', '1');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: Not found \(HTTP 404, POST \/v1\/programs\/cxr-cli\/rounds\): .*chest-xray@9/);
    const bad = await goldline('pm', 'cases', 'ingest', join(dir, 'bad.csv'), '--protocol', 'chest-xray@2');
    expect(bad).toMatchObject({ code: 2, err: expect.stringContaining('no such file') });
    await writeFile(join(dir, 'bad.csv'), 'caseId,imageKey,modality,bodyPart,site,deidentified\nBad Id!,images/x.pgm,CR,CHEST,site-north,true\n');
    const refused = await goldline('pm', 'cases', 'ingest', join(dir, 'bad.csv'), '--protocol', 'chest-xray@2');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^error: The request is not valid \(HTTP 400/);
    expect(refused.err).toMatch(/\n {2}- body\.cases\[0\]\.caseId: /);
  });
});
