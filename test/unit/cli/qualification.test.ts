import { describe, expect, it } from 'vitest';
import { cliHarness as harness } from './harness.js';

describe('CLI: goldline exam', () => {
  it('starts an exam and prints its batch, attempt and rule', async () => {
    const { run, requests } = harness(() =>
      Response.json({ batchId: 'demo-cxr-r1-vendor-c-q1', attempt: 1, items: 38, planned: 38, rule: 'single-plan', started: true }, { status: 201 }),
    );
    const r = await run('exam', 'start', 'vendor-c', '--protocol', 'chest-xray@2');
    expect(r).toMatchObject({ code: 0, out: 'Exam: demo-cxr-r1-vendor-c-q1 — attempt 1, 38 gold item(s) (rule single-plan, 38 planned)' });
    expect(requests).toEqual([{ url: new URL('http://127.0.0.1:9/v1/programs/demo-cxr/exams'), method: 'POST', body: { workforceId: 'vendor-c', protocol: 'chest-xray@2' } }]);
  });

  it('needs a reason to waive, and sends it', async () => {
    const { run, requests } = harness(() =>
      Response.json({ workforceId: 'vendor-a', kind: 'vendor', required: true, qualified: true, status: 'qualified', basis: 'waiver', reason: 'waived by pm:alice: audited', attempts: 0, pooled: { n: 0, wrong: 0, attempts: 0 } }),
    );
    expect(await run('exam', 'waive', 'vendor-a', '--protocol', 'chest-xray@2')).toMatchObject({ code: 2, err: expect.stringContaining("required option '--reason <text>' not specified") });
    const r = await run('exam', 'waive', 'vendor-a', '--protocol', 'chest-xray@2', '--reason', 'audited');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/vendor-a\s+vendor\s+yes\s+qualified\s+waiver/);
    expect(requests.map((x) => [x.url.pathname, x.body])).toEqual([['/v1/programs/demo-cxr/qualifications/waivers', { workforceId: 'vendor-a', protocol: 'chest-xray@2', reason: 'audited' }]]);
  });
});

describe('CLI: goldline pm workforce cap|uncap|move|pause', () => {
  it('caps and uncaps with a reason; a cap outside (0, 1] is a usage error before any request', async () => {
    const { run, requests } = harness((_url, init) => {
      const body = JSON.parse(String(init.body)) as { cap: number | null };
      return Response.json({ workforceId: 'vendor-b', cap: body.cap, from: body.cap === null ? 0.2 : null, changed: true });
    });
    expect(await run('pm', 'workforce', 'cap', 'vendor-b', '1.5', '--reason', 'x')).toMatchObject({ code: 2, err: 'error: <cap> must be a share above 0 and at most 1, e.g. 0.2 (got "1.5")' });
    expect(requests).toHaveLength(0);
    expect(await run('pm', 'workforce', 'cap', 'vendor-b', '0.2', '--reason', 'ramp up')).toMatchObject({ code: 0, out: 'workforce vendor-b: share cap none → 0.2' });
    expect(await run('pm', 'workforce', 'uncap', 'vendor-b', '--reason', 'audit done')).toMatchObject({ code: 0, out: 'workforce vendor-b: share cap 0.2 → none' });
    expect(requests.map((x) => [x.method, x.url.pathname, x.body])).toEqual([
      ['PUT', '/v1/programs/demo-cxr/workforces/vendor-b/share-cap', { cap: 0.2, reason: 'ramp up' }],
      ['PUT', '/v1/programs/demo-cxr/workforces/vendor-b/share-cap', { cap: null, reason: 'audit done' }],
    ]);
  });

  it('moves a batch with a reason and prints what moved; pause sends its reason', async () => {
    const { run, requests } = harness((url) =>
      url.pathname.endsWith('/moves')
        ? Response.json({ from: 'vendor-b', to: 'vendor-a', batchId: 'b-1', moved: ['case-1', 'case-2'], refused: [{ caseId: 'case-3', reason: 'routing keeps it internal' }] })
        : Response.json({ workforce: {}, changes: { paused: { from: false, to: true } } }),
    );
    expect(await run('pm', 'workforce', 'move', 'vendor-b', 'vendor-a', '--reason', 'x')).toMatchObject({ code: 2, err: 'error: name what to move: --batch <batchId> or --cases <ids...>' });
    const r = await run('pm', 'workforce', 'move', 'vendor-b', 'vendor-a', '--batch', 'b-1', '--reason', 'out of office');
    expect(r).toMatchObject({ code: 0, out: 'batch b-1 withdrawn from vendor-b\n2 case(s) assigned to vendor-a for the next round\n  case-3: routing keeps it internal' });
    expect(await run('pm', 'workforce', 'pause', 'vendor-b', '--reason', 'audit')).toMatchObject({ code: 0 });
    expect(requests.map((x) => x.body)).toEqual([
      { from: 'vendor-b', to: 'vendor-a', reason: 'out of office', batchId: 'b-1' },
      { status: 'paused', reason: 'audit' },
    ]);
  });

  it('prints the round plan\'s workforces without work and capped vendors', async () => {
    const { run } = harness(() =>
      Response.json({
        round: 2,
        protocol: 'chest-xray@2',
        shares: { 'vendor-a': 0.8, 'vendor-b': 0.2 },
        sharesSource: 'carried-over',
        pendingCases: 100,
        workforces: [],
        outcomes: { planned: 82, excluded: 0, quarantined: 0, deferred: 18 },
        cases: [],
        ineligible: [{ workforceId: 'vendor-c', reason: 'not qualified on chest-xray@2: failed exam attempt 1' }],
        capped: [{ workforceId: 'vendor-b', cap: 0.2, limit: 18, cases: 18 }],
      }),
    );
    const r = await run('pm', 'round', 'plan', '--protocol', 'chest-xray@2');
    expect(r.code).toBe(0);
    expect(r.out).toContain('no work for vendor-c: not qualified on chest-xray@2: failed exam attempt 1');
    expect(r.out).toContain('vendor-b capped at 0.2: at most 18 case(s), 18 planned');
    expect(r.out).toContain('planned 82 · deferred 18');
  });
});
