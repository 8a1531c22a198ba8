/**
 * The case trace on the embedded stack (issue 10, item 4): the demo runs with
 * overlap, so vendor cases also go to a second vendor and the internal expert
 * decides where they disagree. A QA lead traces one such case through the HTTP
 * API and through the `goldline trace` CLI, with every object re-read from S3.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandomSource } from '../../functions/domain/index.js';
import type { CaseTrace } from '../../functions/use-cases/case-trace.js';
import { type GoldlineIo, processIo } from '../../infra/cli/io.js';
import { runGoldline } from '../../infra/cli/program.js';
import { type ApiServer, startApiServer } from '../../infra/local/api-server.js';
import { PROGRAM_ID } from '../../infra/local/demo/example-program.js';
import { runDemo } from '../../infra/local/demo/run-demo.js';
import { DEMO_USERS } from '../../infra/local/issuer.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';

describe('Case trace: a case the demo adjudicated, through the API and the CLI', () => {
  let stack: LocalStack;
  let api: ApiServer;
  let dir: string;
  let profile: string;
  let caseId: string;
  let adjudicationId: string;

  beforeAll(async () => {
    // The single sampling plan decides every batch within its round, so overlap pairs of both vendors meet in round 1
    // (the default SPRT holds small batches: an overlap pair is compared only once both sides are decided).
    stack = await startLocalStack({ random: seededRandomSource(1) });
    api = await startApiServer({ deps: stack.deps });
    await runDemo(stack, { rounds: 1, cases: 200, goldFraction: 0.1, seed: 1, overlapRate: 0.5, acceptance: 'single-plan', api });
    // A case two vendors labelled differently, which the internal expert decided.
    const decided = (await stack.deps.repo.listAdjudications(PROGRAM_ID)).filter((a) => a.status === 'decided');
    for (const a of decided) {
      for (const n of a.needs.filter((x) => x.kind === 'overlap-disagreement')) {
        const vendors = new Set((await stack.deps.repo.listCaseLabels(n.caseId)).filter((l) => !l.adjudicationId).map((l) => l.workforceId));
        if (vendors.has('vendor-a') && vendors.has('vendor-b') && !caseId) {
          caseId = n.caseId;
          adjudicationId = a.adjudicationId;
        }
      }
    }
    dir = await mkdtemp(join(tmpdir(), 'goldline-trace-'));
    profile = join(dir, 'local.json');
    const tokens: Record<string, string> = {};
    for (const user of Object.keys(DEMO_USERS)) tokens[user] = await api.issuer.issueToken(user);
    await writeFile(profile, JSON.stringify({ endpoint: api.url, program: PROGRAM_ID, tokens }));
  }, 240_000);
  afterAll(async () => {
    await api?.close();
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const get = async (path: string, user: keyof typeof DEMO_USERS) =>
    fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${await api.issuer.issueToken(user)}` } });

  it("shows both vendors' labels, the expert's decision and the accepted label, each verified against S3 (HTTP API)", async () => {
    expect(caseId, 'the demo (seed 1, overlap 0.5, single plan) adjudicated no case both vendors labelled').toBeDefined();

    const r = await get(`/v1/cases/${caseId}/trace?verify=true`, 'qa');
    expect(r.status).toBe(200);
    const trace = (await r.json()) as CaseTrace;

    expect(trace.programId).toBe(PROGRAM_ID);
    const vendorLabels = trace.labels.filter((v) => !v.adjudicationId);
    expect(vendorLabels.map((v) => v.workforce.id).sort()).toEqual(['vendor-a', 'vendor-b']);
    for (const v of vendorLabels) {
      expect(v.workforce.kind).toBe('vendor');
      expect(v.status).toBe('superseded');
      expect(v.supersededBy).toMatchObject({ kind: 'adjudication', id: adjudicationId });
      expect(v.protocol).toBe('chest-xray@1');
      expect(v.round).toBe(1);
      expect(v.submission).toMatchObject({ bucket: 'uploads', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), verification: { verified: true } });
      expect(v.submission.key).toMatch(new RegExp(`^uploads/${v.workforce.id}/${v.batchId}/[a-z0-9]+\\.jsonl$`));
      expect(v.submission.sizeBytes).toBeGreaterThan(0);
      expect(v.annotatorId).toMatch(new RegExp(`^${v.workforce.id}/annotator-\\d$`));
    }
    expect(new Set(vendorLabels.map((v) => v.label)).size).toBe(2);

    const [adj] = trace.adjudications;
    expect(trace.adjudications).toHaveLength(1);
    expect(adj).toMatchObject({
      adjudicationId,
      status: 'decided',
      expert: { workforceId: 'radiology-team' },
      decision: { note: 'read by the internal expert' },
      record: { key: `adjudications/${adjudicationId}.json`, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), verification: { verified: true } },
    });
    expect(adj.needs.map((n) => n.kind)).toEqual(['overlap-disagreement']);

    const accepted = trace.labels.filter((v) => trace.accepted.includes(v.version));
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatchObject({
      adjudicationId,
      status: 'accepted',
      label: adj.decision!.label,
      workforce: { id: 'radiology-team', kind: 'internal' },
      submission: { bucket: 'exports', key: adj.record!.key, sha256: adj.record!.sha256, verification: { verified: true } },
    });
    expect(accepted[0].version).toBe(trace.labels.length);
    expect(trace.verification).toEqual({ requested: true, allVerified: true, objects: trace.labels.length + 1 });
    expect(trace.gate.verdict).toBe('vendor-safe');
    // The ledger names the case in its dispatch, the adjudication's request and decision, and the labels recorded.
    const types = trace.events.map((e) => e.type);
    for (const t of ['batch.dispatched', 'adjudication.requested', 'adjudication.decided', 'labels.recorded']) expect(types).toContain(t);
    const times = trace.timeline.map((s) => s.at);
    expect([...times].sort()).toEqual(times);
  });

  it('answers 403 to a vendor and 404 for an unknown case', async () => {
    expect((await get(`/v1/cases/${caseId}/trace`, 'vendor-a')).status).toBe(403);
    expect((await get('/v1/cases/no-such-case/trace', 'qa')).status).toBe(404);
  });

  it('prints the same trace as a readable timeline with goldline trace --verify (and as JSON)', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: GoldlineIo = { ...processIo, out: (t) => out.push(t), err: (t) => err.push(t), errRaw: () => {}, errIsTTY: false, env: {} };

    const code = await runGoldline(['--profile', profile, 'trace', caseId, '--verify'], io);

    expect(err.join('\n')).toBe('');
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain(`Case ${caseId} · program ${PROGRAM_ID} · state labelled`);
    expect(text).toMatch(/all verified/);
    expect(text).toMatch(/by vendor-a \(vendor\) \/ annotator vendor-a\/annotator-\d/);
    expect(text).toMatch(/by vendor-b \(vendor\) \/ annotator vendor-b\/annotator-\d/);
    expect(text.match(/superseded by adjudication/g)).toHaveLength(2);
    expect(text).toMatch(/ACCEPTED {2}"(normal|abnormal)"/);
    expect(text).toContain(`decision record adjudications/${adjudicationId}.json · SHA-256 `);
    expect(text).toMatch(/decided by radiology-team\/\S+ at \S+: "(normal|abnormal)" \(read by the internal expert\)/);
    expect(text.match(/verified ✓/g)?.length).toBeGreaterThanOrEqual(4);
    expect(text).not.toContain('NOT VERIFIED');
    // The timeline starts where the case entered Goldline, then its dispatches.
    expect(text).toMatch(/Timeline:\n {2}\S+ {2}cases\.ingested/);
    expect(text.match(/^ {2}\S+ {2}batch\.dispatched {2,}demo-cxr-r1-vendor-[ab]-\d: round 1: \d+ items to vendor-[ab] \(pm:demo\)$/gm)).toHaveLength(2);

    out.length = 0;
    expect(await runGoldline(['--profile', profile, '--json', 'qa', 'trace', caseId], io)).toBe(0);
    const json = JSON.parse(out.join('\n')) as CaseTrace;
    expect(json.caseId).toBe(caseId);
    expect(json.verification).toEqual({ requested: false, objects: 0 });
  });

  it('names an upload object changed in S3 after ingest as not verified, and why', async () => {
    const trace = (await (await get(`/v1/cases/${caseId}/trace`, 'qa')).json()) as CaseTrace;
    const victim = trace.labels.find((v) => v.workforce.id === 'vendor-b')!;
    await stack.deps.objects.putBytes(stack.deps.buckets.uploads, victim.submission.key, new TextEncoder().encode('{"alias":"x","label":"normal"}\n'), 'application/x-ndjson');

    const after = (await (await get(`/v1/cases/${caseId}/trace?verify=true`, 'qa')).json()) as CaseTrace;

    const changed = after.labels.find((v) => v.version === victim.version)!;
    expect(changed.submission.verification).toEqual({
      verified: false,
      why: expect.stringMatching(new RegExp(`^${victim.submission.key}: SHA-256 is now [0-9a-f]{64}, the record says ${victim.submission.sha256}$`)),
    });
    expect(after.labels.filter((v) => v.version !== victim.version).every((v) => v.submission.verification?.verified)).toBe(true);
    expect(after.verification.allVerified).toBe(false);
  });
});
