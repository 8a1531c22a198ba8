/**
 * Dataset releases on the embedded stack: a demo round, then the demo's release
 * step (through the API, as the QA lead); the manifest is write-once (the S3
 * guard refuses a second write of its key); verify passes, then names a label
 * whose submission object was replaced and a ledger event at the anchor that was
 * altered in DynamoDB; a create that crashes between the manifest and its ledger
 * event lists nothing and is completed by its retry; the CLI diffs the release
 * after a second round against the first.
 */
// First: the API, whose zod-openapi extension must be in place before any schema is built.
import { createApi } from '../../functions/api/app.js';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerKeys } from '../../functions/adapters/dynamo-ledger.js';
import { type ReleaseManifest, seededRandomSource } from '../../functions/domain/index.js';
import type { Deps } from '../../functions/use-cases/ports.js';
import { createRelease, diffReleases, listReleases, showRelease, verifyRelease } from '../../functions/use-cases/releases.js';
import { runGoldline } from '../../infra/cli/program.js';
import { type GoldlineIo, processIo } from '../../infra/cli/io.js';
import { type ApiServer, startApiServer } from '../../infra/local/api-server.js';
import { PROGRAM_ID } from '../../infra/local/demo/example-program.js';
import { releaseDemoLabels } from '../../infra/local/demo/release-step.js';
import { type DemoAccess, apiAccess, runRound, setUpDemoProgram } from '../../infra/local/demo/run-demo.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';

void createApi;
const PROTOCOL = { protocolId: 'chest-xray', version: 1 };

describe('Dataset releases on the embedded stack', () => {
  let stack: LocalStack;
  let api: ApiServer;
  let deps: Deps;
  let first: ReleaseManifest & { manifestSha256: string };
  let access: DemoAccess;
  const lines: string[] = [];
  const earlyLines: string[] = [];
  let early: unknown;

  /** Runs the CLI against the API as the QA lead; answers its exit code and output. */
  async function goldline(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const io: GoldlineIo = { ...processIo, out: (t) => out.push(t), err: (t) => err.push(t), errRaw: () => {}, errIsTTY: false, env: {} };
    const token = await api.issuer.issueToken('qa');
    const code = await runGoldline(['--endpoint', api.url, '--token', token, '--program', PROGRAM_ID, ...args], io);
    return { code, out, err };
  }

  beforeAll(async () => {
    stack = await startLocalStack({ random: seededRandomSource(7) });
    deps = stack.deps;
    api = await startApiServer({ deps });
    // Overlap sends vendor cases to two workforces: a disagreement becomes the expert's label (a decision record in exports).
    await setUpDemoProgram(stack, { cases: 200, goldFraction: 0.1, seed: 7, overlapRate: 0.5 });
    access = await apiAccess(api);
    // Before any round: nothing to release, which the demo's step says instead of failing.
    early = await releaseDemoLabels(api, { programId: PROGRAM_ID, ...PROTOCOL }, (l) => earlyLines.push(l));
    // Round 1 takes half the cases, so round 2 labels new ones; then the demo's release step (the API, as the QA lead).
    await runRound(stack, 1, { limit: 90, seed: 7, access });
    const demo = await releaseDemoLabels(api, { programId: PROGRAM_ID, ...PROTOCOL }, (l) => lines.push(l));
    if (!demo) throw new Error(`round 1 accepted no label: ${lines.join('\n')}`);
    first = await showRelease(deps, { programId: PROGRAM_ID, releaseId: demo.release.releaseId });
  }, 240_000);
  afterAll(async () => {
    await api?.close();
    await stack?.stop();
  });

  it('ends the demo round with a release of the accepted labels, printed with its id, count, SHA-256 and verify result', async () => {
    const { items } = await listReleases(deps, { programId: PROGRAM_ID });
    expect(items).toHaveLength(1);
    const printed = lines.join('\n');
    expect(printed).toContain(`Released chest-xray@1: ${first.releaseId} · ${first.labels.length} accepted labels · by qa:quinn`);
    expect(printed).toContain(`SHA-256 ${first.manifestSha256}`);
    expect(printed).toMatch(/Release verify: ok \(manifest SHA-256, labels hash, \d+ label objects re-read by version and re-hashed, ledger anchor holds\)/);
    // Every accepted, non-gold label of the protocol, and only those; an expert's where one decided.
    const stored = (await Promise.all(first.labels.map((l) => deps.repo.listCaseLabels(l.caseId)))).flat();
    for (const l of first.labels) {
      const s = stored.find((x) => x.caseId === l.caseId && x.batchId === l.batchId);
      expect(s?.status, l.caseId).toBe('accepted');
      expect(s?.gold).toBe(false);
    }
    // Where an expert decided between two workforces, the release holds the expert's label only (whether this
    // round adjudicates depends on the acceptance rules; test/unit/use-cases/releases.test.ts always does).
    const decided = (await deps.repo.listAdjudications(PROGRAM_ID)).filter((a) => a.status === 'decided').flatMap((a) =>
      a.needs.filter((n) => n.kind === 'overlap-disagreement').map((n) => ({ caseId: n.caseId, adjudicationId: a.adjudicationId })),
    );
    for (const d of decided) {
      expect(first.labels.filter((l) => l.caseId === d.caseId).map((l) => [l.adjudicationId, l.workforceKind])).toEqual([[d.adjudicationId, 'internal']]);
    }
    expect(first.labels.map((l) => l.caseId)).toEqual([...first.labels.map((l) => l.caseId)].sort());
  });

  it('says there is nothing to release before any label is accepted, and records nothing', () => {
    expect(early).toBeUndefined();
    expect(earlyLines).toEqual(['━━ Release ━━\nNothing to release yet: no accepted labels for chest-xray@1 in program demo-cxr']);
  });

  it('finds the same release for the same labels instead of writing another', async () => {
    const again = await createRelease(deps, { programId: PROGRAM_ID, ...PROTOCOL, actor: 'qa:other' });
    expect(again).toMatchObject({ created: false, release: { releaseId: first.releaseId, manifestSha256: first.manifestSha256 } });
    expect((await listReleases(deps, { programId: PROGRAM_ID })).items).toHaveLength(1);
  });

  it('refuses a second write of a release manifest locally (write-once through the S3 guard) and keeps the first', async () => {
    const key = `releases/${PROGRAM_ID}/${first.releaseId}/manifest.json`;
    const forged = new TextEncoder().encode(JSON.stringify({ ...first, labels: [] }));
    expect(await deps.objects.putOnce(deps.buckets.releases, key, forged, 'application/json')).toBe('exists');
    const kept = await showRelease(deps, { programId: PROGRAM_ID, releaseId: first.releaseId });
    expect(kept.manifestSha256).toBe(first.manifestSha256);
    // A fresh key is written once, and the second write of it is refused too.
    const probe = `releases/${PROGRAM_ID}/probe/manifest.json`;
    expect(await deps.objects.putOnce(deps.buckets.releases, probe, new TextEncoder().encode('{"a":1}'), 'application/json')).toBe('created');
    expect(await deps.objects.putOnce(deps.buckets.releases, probe, new TextEncoder().encode('{"a":2}'), 'application/json')).toBe('exists');
    expect(new TextDecoder().decode(await deps.objects.getBytes(deps.buckets.releases, probe))).toBe('{"a":1}');
    // Any other refusal is an error that names the object and S3's answer, never a silent "exists".
    await expect(deps.objects.putOnce('no-such-bucket', probe, new TextEncoder().encode('{}'), 'application/json')).rejects.toThrow(
      /S3 refused the write-once PUT of no-such-bucket\/releases\/.*: 404 .*NoSuchBucket/,
    );
  });

  it('verifies the release through the CLI (exit 0), every label object re-hashed', async () => {
    const r = await goldline('release', 'verify', first.releaseId);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toContain(`Release ${first.releaseId}: verified — manifest SHA-256 ${first.manifestSha256}, labels hash, ${first.labels.length} label objects re-hashed`);
  });

  it("names the label whose submission object no longer hashes as recorded (the CLI exits 1), and passes again once it is restored", async () => {
    const l = first.labels.find((x) => !x.adjudicationId)!;
    const original = await deps.objects.getBytes(deps.buckets.uploads, l.submissionKey, l.submissionVersionId);
    expect(original).toBeDefined();
    await deps.objects.putBytes(deps.buckets.uploads, l.submissionKey, new TextEncoder().encode('{"edited":true}\n'), 'application/x-ndjson');
    try {
      const v = await verifyRelease(deps, { programId: PROGRAM_ID, releaseId: first.releaseId });
      expect(v.ok).toBe(false);
      // s3rver keeps no versions: the same object holds every label of that upload, and each is named.
      const named = v.problems.filter((p) => p.check === 'submission');
      expect(named.map((p) => p.caseId)).toContain(l.caseId);
      expect(named.every((p) => p.detail.includes(l.submissionKey))).toBe(true);
      const cli = await goldline('release', 'verify', first.releaseId);
      expect(cli.code).toBe(1);
      expect(cli.out.join('\n')).toContain(`submission ${l.caseId} (${l.batchId}): ${l.submissionKey}`);
    } finally {
      await deps.objects.putBytes(deps.buckets.uploads, l.submissionKey, original!, 'application/x-ndjson');
    }
    expect((await verifyRelease(deps, { programId: PROGRAM_ID, releaseId: first.releaseId })).ok).toBe(true);
  });

  it('names the ledger event at the release anchor when it is altered directly in DynamoDB', async () => {
    const { dynamo: client, tableName } = stack;
    // The anchor of a sharded ledger is every chain's head: alter one of them (the busiest chain's).
    const head = [...(first.ledgerHead.heads ?? [])].sort((a, b) => b.seq - a.seq)[0];
    const key = ledgerKeys.event(PROGRAM_ID, head.seq, Number(head.chain));
    const item = (await client.send(new GetItemCommand({ TableName: tableName, Key: marshall(key) }))).Item!;
    const event = unmarshall(item);
    await client.send(new PutItemCommand({ TableName: tableName, Item: marshall({ ...event, reason: `${event.reason} (edited)` }) }));
    try {
      const v = await verifyRelease(deps, { programId: PROGRAM_ID, releaseId: first.releaseId });
      expect(v.ok).toBe(false);
      const anchor = v.problems.filter((p) => p.check === 'ledger-anchor');
      expect(anchor.length).toBeGreaterThan(0);
      expect(anchor.map((p) => p.detail).join('\n')).toContain(`event #${head.seq} of shard ${head.chain}`);
    } finally {
      await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
    }
    expect((await verifyRelease(deps, { programId: PROGRAM_ID, releaseId: first.releaseId })).ok).toBe(true);
  });

  it('lists no release when a create stops between its manifest and its ledger event, and the retry completes it', async () => {
    await runRound(stack, 2, { limit: 90, seed: 7, access });
    // The ledger append fails once: the manifest is written, its event is not.
    const failing: Deps = {
      ...deps,
      repo: Object.assign(Object.create(deps.repo), {
        appendLedger: async () => {
          throw new Error('crash before the ledger event');
        },
      }),
    };
    await expect(createRelease(failing, { programId: PROGRAM_ID, ...PROTOCOL, actor: 'qa:quinn' })).rejects.toThrow('crash before the ledger event');
    expect((await listReleases(deps, { programId: PROGRAM_ID })).items).toHaveLength(1);

    const retry = await createRelease(deps, { programId: PROGRAM_ID, ...PROTOCOL, actor: 'qa:quinn' });
    expect(retry.created).toBe(true);
    expect(retry.release.releaseId).not.toBe(first.releaseId);
    const second = await showRelease(deps, { programId: PROGRAM_ID, releaseId: retry.release.releaseId });
    // The manifest the crashed attempt wrote is the release: its SHA-256 is the one the ledger records.
    expect(second.manifestSha256).toBe(retry.release.manifestSha256);
    expect((await listReleases(deps, { programId: PROGRAM_ID })).items.map((r) => r.releaseId)).toEqual([first.releaseId, second.releaseId]);
    expect((await verifyRelease(deps, { programId: PROGRAM_ID, releaseId: second.releaseId })).ok).toBe(true);

    // Round 2 labelled more cases: the diff adds them, removes none that stayed accepted.
    const d = await diffReleases(deps, { programId: PROGRAM_ID, from: first.releaseId, to: second.releaseId });
    expect(d.added.length).toBeGreaterThan(0);
    const cases = (labels: readonly { caseId: string }[]) => new Set(labels.map((l) => l.caseId)).size;
    expect(cases(d.added) + d.unchanged + d.changed.length).toBe(cases(second.labels));
    expect(cases(d.removed) + d.unchanged + d.changed.length).toBe(cases(first.labels));
    const cli = await goldline('release', 'diff', first.releaseId, second.releaseId);
    expect(cli.code).toBe(0);
    expect(cli.out[0]).toBe(
      `${first.releaseId} → ${second.releaseId} (cases): ${cases(d.added)} added · ${cases(d.removed)} removed · ${d.changed.length} changed · ${d.unchanged} unchanged`,
    );
    const list = await goldline('release', 'list');
    expect(list.out.join('\n')).toContain(second.releaseId);
  }, 180_000);

  it("answers one case's labels of a release to a model team through the CLI", async () => {
    const l = first.labels[0];
    const r = await goldline('release', 'show', first.releaseId, '--case', l.caseId);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe(`Release ${first.releaseId} of chest-xray@1 · program ${PROGRAM_ID} · ${first.labels.length} labels`);
    expect(r.out.join('\n')).toContain(l.caseId);
    expect(r.out.join('\n')).toContain(l.submissionSha256.slice(0, 12));
  });
});
