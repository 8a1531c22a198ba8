import { describe, expect, it } from 'vitest';
import { cliHarness } from './harness.js';

const H = (c: string) => c.repeat(64);
const SUMMARY = {
  releaseId: 'rel-0123456789abcdef',
  programId: 'demo-cxr',
  protocolId: 'chest-xray',
  version: 1,
  labels: 412,
  manifestKey: 'releases/demo-cxr/rel-0123456789abcdef/manifest.json',
  manifestSha256: H('a'),
  ledgerHead: { seq: 981, hash: H('b') },
  createdAt: '2026-11-29T02:00:00.000Z',
  createdBy: 'qa:quinn',
};
const label = (caseId: string, l: string, workforceId = 'vendor-a') => ({
  caseId,
  label: l,
  batchId: 'b-1',
  workforceId,
  workforceKind: 'vendor',
  protocol: 'chest-xray@1',
  submissionKey: 'uploads/x.jsonl',
  submissionSha256: H('c'),
  acceptedAt: '2026-11-29T01:00:00.000Z',
});

/** The CLI with no profile (endpoint, token and program on the command line) and a fetch the test answers with JSON. */
function harness(answer: (url: URL, init: RequestInit) => unknown) {
  const { run, requests } = cliHarness((url, init) => Response.json(answer(url, init)), null);
  return { run: (...argv: string[]) => run('--endpoint', 'http://127.0.0.1:9', '--token', 'qa-token', '--program', 'demo-cxr', ...argv), requests };
}

describe('CLI: goldline release', () => {
  it('refuses a create without its protocol or with a version that is not a whole number, before any request (exit 2)', async () => {
    const { run, requests } = harness(() => ({}));
    expect(await run('release', 'create', '--version', '1')).toMatchObject({ code: 2, err: expect.stringContaining("required option '--protocol <id>' not specified") });
    expect(await run('release', 'create', '--protocol', 'chest-xray', '--version', 'one')).toMatchObject({
      code: 2,
      err: expect.stringContaining('--version must be a whole number'),
    });
    expect(requests).toHaveLength(0);
  });

  it('creates a release with a POST of protocol, version and note, and prints its id, count, manifest and anchor', async () => {
    const { run, requests } = harness(() => ({ release: SUMMARY, created: true }));
    const r = await run('release', 'create', '--protocol', 'chest-xray', '--version', '1', '--note', 'after round 2');
    expect(r.code).toBe(0);
    expect(requests[0].method).toBe('POST');
    expect(requests[0].url.pathname).toBe('/v1/programs/demo-cxr/releases');
    expect(requests[0].body).toEqual({ protocolId: 'chest-xray', version: 1, note: 'after round 2' });
    expect(r.out.split('\n')).toEqual([
      'Released rel-0123456789abcdef: 412 accepted labels of chest-xray@1',
      `  manifest ${SUMMARY.manifestKey} · SHA-256 ${H('a')}`,
      `  ledger anchor #981 ${H('b')} · by qa:quinn at 2026-11-29T02:00:00.000Z`,
    ]);
  });

  it('prints every problem of a release that does not verify and exits 1', async () => {
    const { run } = harness(() => ({
      releaseId: SUMMARY.releaseId,
      programId: 'demo-cxr',
      ok: false,
      labels: 412,
      objectsChecked: 412,
      problems: [
        { check: 'submission', caseId: 'case-00042', batchId: 'b-1', detail: 'uploads/x.jsonl is missing' },
        { check: 'ledger-anchor', detail: 'ledger event #981 (e1) was altered' },
      ],
    }));
    const r = await run('release', 'verify', SUMMARY.releaseId);
    expect(r.code).toBe(1);
    expect(r.out.split('\n')).toEqual([
      'Release rel-0123456789abcdef: NOT VERIFIED — 2 problem(s)',
      '  submission case-00042 (b-1): uploads/x.jsonl is missing',
      '  ledger-anchor: ledger event #981 (e1) was altered',
    ]);
  });

  it('prints a diff by case: counts, then each case added, removed or changed with its fields', async () => {
    const { run, requests } = harness(() => ({
      from: 'rel-0000000000000001',
      to: 'rel-0000000000000002',
      added: [label('case-3', 'normal'), label('case-3', 'normal', 'vendor-b')],
      removed: [],
      changed: [{ caseId: 'case-1', fields: ['label', 'workforceId'], before: [label('case-1', 'normal')], after: [label('case-1', 'abnormal', 'radiology')] }],
      unchanged: 7,
    }));
    const r = await run('release', 'diff', 'rel-0000000000000001', 'rel-0000000000000002');
    expect(r.code).toBe(0);
    expect(requests[0].url.pathname + requests[0].url.search).toBe('/v1/programs/demo-cxr/releases/rel-0000000000000001/diff?to=rel-0000000000000002');
    expect(r.out.split('\n')).toEqual([
      'rel-0000000000000001 → rel-0000000000000002 (cases): 1 added · 0 removed · 1 changed · 7 unchanged',
      '  + case-3  "normal" by vendor-a',
      '  + case-3  "normal" by vendor-b',
      '  ~ case-1  label, workforceId: "normal" by vendor-a → "abnormal" by radiology',
    ]);
  });
});
