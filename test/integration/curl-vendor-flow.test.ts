/**
 * The vendor flow with curl and sha256sum (scripts/curl-vendor-flow.sh): a client
 * nobody here wrote, against the API on the embedded stack, reading the same
 * profile file `npm start -- --serve` writes. The script checks each answer; this
 * test checks what the store holds afterwards.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchRecord } from '../../functions/use-cases/ports.js';
import { type ApiServer, startApiServer } from '../../infra/local/api-server.js';
import { PROGRAM_ID } from '../../infra/local/demo/example-program.js';
import { DEMO_USERS } from '../../infra/local/issuer.js';
import type { LocalStack } from '../../infra/local/stack.js';
import { stackWithOpenRound } from './helpers.js';

const SCRIPT = join(import.meta.dirname, '../../scripts/curl-vendor-flow.sh');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('curl: the vendor flow against the API', () => {
  let stack: LocalStack;
  let batches: BatchRecord[];
  let api: ApiServer;
  let dir: string;

  beforeAll(async () => {
    for (const tool of ['curl', 'sha256sum']) {
      if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is not installed: apt-get install -y curl coreutils`);
    }
    ({ stack, batches } = await stackWithOpenRound({ cases: 120 }));
    api = await startApiServer({ deps: stack.deps });
    dir = await mkdtemp(join(tmpdir(), 'goldline-curl-'));
    const tokens: Record<string, string> = {};
    for (const user of Object.keys(DEMO_USERS)) tokens[user] = await api.issuer.issueToken(user);
    await writeFile(join(dir, 'local.json'), JSON.stringify({ endpoint: api.url, program: PROGRAM_ID, tokens }));
  });
  afterAll(async () => {
    await api?.close();
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists, downloads, uploads through a slot and reads the report; vendor-b gets the 404 of a missing batch; QA reads scorecards; no token is a 401', async () => {
    const r = await run([join(dir, 'local.json'), join(dir, 'work')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ok: no token → 401');
    expect(r.stdout).toContain("ok: vendor-b gets 404 for vendor-a's batch, the same body as a missing batch");
    expect(r.stdout).toMatch(/ok: QA reads \d+ scorecard\(s\)/);

    // What curl uploaded is what ingest recorded: the same bytes (size, SHA-256), validated.
    const [, batchId] = /works (\S+)/.exec(r.stdout)!;
    const [, size, sha, uploadId] = /uploaded (\d+) bytes \(sha256 ([0-9a-f]{64})\) as (\S+)/.exec(r.stdout)!;
    expect(batches.find((b) => b.batchId === batchId)?.workforceId).toBe('vendor-a');
    const sub = (await stack.deps.repo.listSubmissions(batchId)).find((s) => s.uploadId === uploadId);
    expect(sub).toMatchObject({ sha256Hex: sha, sizeBytes: Number(size) });
    expect(sub?.status).not.toBe('rejected');
    expect(r.stdout).toMatch(/ok: report: accepted \(0 problem\(s\)\)/);
  });

  it('fails naming the step when the API refuses (a profile whose vendor-a token is another issuer’s)', async () => {
    const foreign = JSON.stringify({ endpoint: api.url, tokens: { 'vendor-a': 'x.y.z', 'vendor-b': 'x.y.z', qa: 'x.y.z' } });
    await writeFile(join(dir, 'bad.json'), foreign);
    const r = await run([join(dir, 'bad.json'), join(dir, 'work-bad')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^FAIL: vendor-a batches: 401 /);
  });
});
