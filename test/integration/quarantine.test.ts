/**
 * Quarantine on the embedded stack, as a PM meets it: the gate holds back a PNG
 * with a text chunk, a NIfTI with a name in `descrip` and a JPEG with a comment;
 * round 1 gives vendors none of them (batch keys, manifests and the images they
 * download through presigned URLs); the PM lists them, releases one and
 * replaces another from the CLI on the stack's data directory; round 2 sends
 * both to vendors, and the ledger names who released what and why.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandomSource } from '../../functions/domain/index.js';
import { loadBatchKey } from '../../functions/use-cases/batch-key.js';
import { dispatchRound } from '../../functions/use-cases/dispatch-round.js';
import { ingestCases, registerProtocolVersion, registerWorkforce } from '../../functions/use-cases/setup-program.js';
import { getImageUrls } from '../../functions/use-cases/vendor-portal.js';
import { runCli } from '../../infra/local/cli.js';
import { runQuarantineCli } from '../../infra/local/cli-quarantine.js';
import { chestXrayProtocol, workforces } from '../../infra/local/demo/example-program.js';
import { downloadManifest } from '../../infra/local/demo/simulated-workforce.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';
import { buildJpeg, buildNifti, buildPng, chunk, segment, tEXt, text } from '../support/images.js';
import { until } from './helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PROGRAM = 'quarantine-it';
const PROTOCOL = 'chest-xray@1';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A clean PNG per case, each with its own digest (the pHYs density varies: a colour/layout chunk the gate passes). */
function cleanPng(i: number): Uint8Array {
  const phys = new Uint8Array(9);
  new DataView(phys.buffer).setUint32(0, 1000 + i);
  new DataView(phys.buffer).setUint32(4, 1000 + i);
  return buildPng([chunk('pHYs', phys)]);
}

const HELD_BACK: Record<string, Uint8Array> = {
  'case-png-text': buildPng([tEXt('Author', 'DOE^JANE')]),
  'case-nifti-name': buildNifti({ fields: { descrip: 'Jane Doe 1961-04-02' } }),
  'case-jpeg-comment': buildJpeg([segment(0xfe, text('scanned for J. Doe'))]),
};

/** Reads what a vendor can reach in a round: its batch keys' case ids, manifests and every image it can download. */
async function vendorView(stack: LocalStack, round: number) {
  const batches = (await stack.deps.repo.listRoundBatches(PROGRAM, round)).filter((b) => b.workforceKind === 'vendor');
  const caseIds: string[] = [];
  const manifests: string[] = [];
  const imageDigests: string[] = [];
  for (const b of batches) {
    caseIds.push(...(await loadBatchKey(stack.deps, b.batchId)).items.map((i) => i.caseId));
    const manifest = await downloadManifest(stack.deps, b.workforceId, b.batchId);
    manifests.push(JSON.stringify(manifest));
    const urls = await getImageUrls(stack.deps, { workforceId: b.workforceId, batchId: b.batchId, aliases: manifest.items.map((i) => i.alias) });
    for (const url of Object.values(urls)) {
      const r = await fetch(url);
      expect(r.status).toBe(200);
      imageDigests.push(sha(new Uint8Array(await r.arrayBuffer())));
    }
  }
  return { batches, caseIds, manifests, imageDigests };
}

async function awaitSubmissions(stack: LocalStack, round: number) {
  const batches = await stack.deps.repo.listRoundBatches(PROGRAM, round);
  await until(`round ${round} batches awaiting submission`, async () =>
    (await Promise.all(batches.map((b) => stack.deps.repo.getBatch(b.batchId)))).every((b) => b?.status === 'awaiting-submission'),
  );
}

describe('Quarantine on the embedded stack, resolved from the CLI', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'goldline-quarantine-'));
  let stack: LocalStack | undefined;
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['quarantine', ...args, '--data-dir', dataDir, '--program', PROGRAM], {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      readText: async () => '',
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  beforeAll(async () => {
    stack = await startLocalStack({ dataDir, random: seededRandomSource(3) });
    const protocol = chestXrayProtocol('2026-11-01T00:00:00.000Z');
    await registerProtocolVersion(stack.deps, {
      ...protocol,
      goldRate: 0,
      routing: { ...protocol.routing, onDeidentificationFailure: 'quarantine' },
    });
    for (const w of workforces) await registerWorkforce(stack.deps, PROGRAM, w);
    const images: Record<string, Uint8Array> = { ...HELD_BACK };
    for (let i = 0; i < 12; i++) images[`case-clean-${i}`] = cleanPng(i);
    for (const [caseId, bytes] of Object.entries(images)) await stack.deps.objects.putBytes(stack.deps.buckets.images, `images/${caseId}`, bytes, 'application/octet-stream');
    await ingestCases(stack.deps, {
      programId: PROGRAM,
      protocolId: 'chest-xray',
      protocolVersion: 1,
      cases: Object.keys(images).map((caseId) => ({
        caseId,
        imageKey: `images/${caseId}`,
        modality: 'DX',
        bodyPart: 'CHEST',
        site: 'site-north',
        subgroup: { sex: 'F', ageBand: '18-64' },
        deidentified: true,
      })),
      gold: [],
    });
    await dispatchRound(stack.deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 1, actor: 'pm:ana' });
    await awaitSubmissions(stack, 1);
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('never lets a quarantined case reach a vendor batch, manifest or image', async () => {
    // Act
    const view = await vendorView(stack!, 1);

    // Assert
    expect(view.batches.length).toBeGreaterThan(0);
    expect(view.caseIds.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `case-clean-${i}`).sort());
    for (const id of Object.keys(HELD_BACK)) expect(view.manifests.join('\n')).not.toContain(id);
    const heldBack = new Set(Object.values(HELD_BACK).map(sha));
    expect(view.imageDigests).toHaveLength(12);
    expect(view.imageDigests.filter((d) => heldBack.has(d))).toEqual([]);
    const cases = await stack!.deps.repo.listCases(PROGRAM);
    expect(cases.filter((c) => c.state === 'pending').map((c) => c.caseId).sort()).toEqual(Object.keys(HELD_BACK).sort());
  });

  // Issue 8: a quarantined case had no way out; the PM could neither see its findings nor replace or release it.
  it('lets a PM list, replace and release quarantined cases from the CLI; the ledger names who and why; round 2 sends them to vendors', async () => {
    // Arrange: the CLI opens the data directory itself, so the test's stack lets go of it.
    await stack!.stop();
    stack = undefined;
    const replacement = join(dataDir, 'clean.png');
    writeFileSync(replacement, cleanPng(99));

    // Act 1: list.
    const listed = await cli('list');

    // Act 2: release the PNG case in a child process, as a PM types it.
    const release = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'infra/local/cli.ts', 'quarantine', 'release', 'case-png-text', '--reason', 'the Author chunk names the scanner vendor, not a person', '--by', 'pm:ana', '--data-dir', dataDir, '--program', PROGRAM],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );

    // Act 3: replace the NIfTI case's image with a clean one; try to release a case that is not quarantined.
    const replaced = await cli('replace', 'case-nifti-name', replacement, '--by', 'pm:ana');
    const notQuarantined = await cli('release', 'case-clean-0', '--reason', 'x', '--by', 'pm:ana');
    const afterList = await cli('list');

    // Assert: what the PM read.
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(`under ${PROTOCOL}: 3 case(s)`);
    expect(listed.out).toContain('tEXt "Author"');
    expect(listed.out).toContain('descrip');
    expect(listed.out).toContain('COM');
    expect(listed.out).not.toMatch(/DOE|Jane|J\. Doe/);
    expect(release.stderr).toBe('');
    expect(release.status).toBe(0);
    expect(release.stdout).toContain('Released case-png-text by pm:ana');
    expect(replaced.code).toBe(0);
    expect(replaced.out).toContain('leaves quarantine');
    expect(notQuarantined.code).toBe(1);
    expect(notQuarantined.err).toContain('case case-clean-0 is not quarantined');
    expect(afterList.out).toContain('1 case(s)');
    expect(afterList.out).toContain('case-jpeg-comment');
    expect(afterList.out).toContain('Released (from the ledger): 1');
    expect(afterList.out).toContain('case-png-text  by pm:ana');

    // Assert: the ledger and round 2, on the same data directory.
    stack = await startLocalStack({ dataDir, random: seededRandomSource(4) });
    const ledger = await stack.deps.repo.listLedger(PROGRAM);
    const released = ledger.filter((e) => e.type === 'case.quarantine-released');
    expect(released).toEqual([
      expect.objectContaining({
        actor: 'pm:ana',
        subject: 'case-png-text',
        reason: 'the Author chunk names the scanner vendor, not a person',
        protocol: PROTOCOL,
        data: expect.objectContaining({ overrides: [expect.stringContaining('tEXt "Author"')] }),
      }),
    ]);
    expect(ledger.filter((e) => e.type === 'case.image-replaced').map((e) => [e.actor, e.subject])).toEqual([['pm:ana', 'case-nifti-name']]);
    await dispatchRound(stack.deps, { programId: PROGRAM, protocolId: 'chest-xray', version: 1, round: 2, actor: 'pm:ana' });
    await awaitSubmissions(stack, 2);
    const view = await vendorView(stack, 2);
    expect(view.caseIds.sort()).toEqual(['case-nifti-name', 'case-png-text']);
    expect(view.imageDigests).toContain(sha(HELD_BACK['case-png-text']));
    expect(view.imageDigests).toContain(sha(cleanPng(99)));
    expect(view.imageDigests).not.toContain(sha(HELD_BACK['case-jpeg-comment']));
  });
});

describe('goldline quarantine: usage', () => {
  const run = async (...args: string[]) => {
    const err: string[] = [];
    const code = await runQuarantineCli(args, { out: () => undefined, err: (t) => err.push(t) }, async () => {
      throw new Error('the stack must not be opened for a usage error');
    });
    return { code, err: err.join('\n') };
  };

  it('refuses a release without a reason or a pm: name, a missing data directory and an unknown command, before opening anything', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'goldline-empty-'));
    try {
      expect(await run('release', 'case-1', '--by', 'pm:ana', '--data-dir', empty)).toEqual({ code: 2, err: expect.stringContaining('needs --reason') });
      expect(await run('list')).toEqual({ code: 2, err: expect.stringContaining('--data-dir DIR is required') });
      expect(await run('promote', 'case-1', '--data-dir', empty)).toEqual({ code: 2, err: expect.stringContaining('unknown quarantine command "promote"') });
      expect(await run('replace', 'case-1', '--data-dir', empty)).toEqual({ code: 2, err: expect.stringContaining('a case id and an image file') });
      expect(await run('list', '--data-dir', empty)).toEqual({ code: 1, err: expect.stringContaining('no Goldline state in') });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
