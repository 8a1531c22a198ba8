import { describe, expect, it } from 'vitest';
import { cliHarness } from './harness.js';

const harness = (answer?: Parameters<typeof cliHarness>[0]) => cliHarness(answer, { pm: 'pm-token', qa: 'qa-token', 'vendor-a': 'a-token' });

describe('Function: runGoldline', () => {
  it('prints help for the program and for each command, exit 0', async () => {
    const { run } = harness();
    const top = await run('-h');
    expect(top.code).toBe(0);
    expect(top.out).toMatch(/Usage: goldline \[options\] \[command\][\s\S]*pm[\s\S]*vendor[\s\S]*expert[\s\S]*qa/);
    const submit = await run('vendor', 'submit', '-h');
    expect(submit.code).toBe(0);
    expect(submit.out).toContain('Usage: goldline vendor submit [options] <batch> <file>');
    expect(submit.out).toContain('--wait <seconds>');
  });

  it('says what was wrong with the command line and exits 2, before any request', async () => {
    const { run, requests } = harness();
    expect(await run('pm', 'frobnicate')).toMatchObject({ code: 2, err: expect.stringContaining("error: unknown command 'frobnicate'") });
    expect(await run('pm', 'round', 'dispatch', '--protocol', 'chest-xray@1')).toMatchObject({ code: 2, err: expect.stringContaining("required option '--round <n>' not specified") });
    expect(await run('pm', 'round', 'dispatch', '--protocol', 'chest-xray', '--round', '1')).toMatchObject({ code: 2, err: 'error: --protocol must be id@version, e.g. chest-xray@2 (got "chest-xray")' });
    expect(await run('pm', 'round', 'status', 'one')).toMatchObject({ code: 2, err: 'error: <round> must be a whole number from 1 to 100000 (got "one")' });
    expect(await run('vendor', 'batches')).toMatchObject({ code: 2, err: expect.stringContaining('say who you are: --as USER') });
    expect(await run('qa', 'export', 'everything')).toMatchObject({ code: 2, err: 'error: export takes scorecards or labels (got "everything")' });
    expect(requests).toHaveLength(0);
  });

  it("sends the profile's token for the role and prints a table", async () => {
    const sent: string[] = [];
    const { run, requests } = harness((_url, init) => {
      sent.push((init.headers as Record<string, string>).authorization);
      return Response.json({ items: [{ batchId: 'b-1', round: 1, status: 'awaiting-submission', items: 60, protocol: 'chest-xray@1', createdAt: 'x' }] });
    });
    const r = await run('vendor', 'batches', '--as', 'vendor-a');
    expect(r.code).toBe(0);
    expect(requests[0].url.href).toBe('http://127.0.0.1:9/v1/batches');
    expect(sent).toEqual(['Bearer a-token']);
    expect(r.out).toBe('batch  round  status               items  protocol      SLA deadline\nb-1        1  awaiting-submission     60  chest-xray@1');
  });

  it("prints the API's problem (title, detail, field errors) and exits 1", async () => {
    const problem = {
      type: 'urn:goldline:problem:invalid-request',
      title: 'The request is not valid',
      status: 400,
      detail: 'body.capacityPerRound: Too small',
      errors: [{ path: 'body.capacityPerRound', message: 'Too small: expected number to be >=0' }],
    };
    const { run } = harness(() => new Response(JSON.stringify(problem), { status: 400, headers: { 'content-type': 'application/problem+json' } }));
    const r = await run('pm', 'workforce', 'change', 'vendor-a', '--price', '2');
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'error: The request is not valid (HTTP 400, PATCH /v1/programs/demo-cxr/workforces/vendor-a): body.capacityPerRound: Too small\n  - body.capacityPerRound: Too small: expected number to be >=0',
    );
  });

  it('says the API cannot be reached, exit 1', async () => {
    const { run } = harness(() => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) });
    });
    expect(await run('qa', 'scorecards')).toMatchObject({ code: 1, err: expect.stringMatching(/^error: cannot reach the API at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/) });
  });
});

describe('CLI: goldline pm round plan', () => {
  const preview = (cases: string[], next?: string) => ({
    round: 2,
    protocol: 'chest-xray@1',
    shares: { 'vendor-a': 0.5, 'vendor-b': 0.5 },
    sharesSource: 'carried-over',
    pendingCases: 3,
    workforces: [{ workforceId: 'vendor-a', kind: 'vendor', cases: 3, batches: [3] }],
    outcomes: { planned: 2, excluded: 0, quarantined: 0, deferred: 1 },
    cases: cases.map((caseId) => ({ caseId, outcome: 'planned', workforceId: 'vendor-a', rule: 'default', explanation: 'no rule matched' })),
    ...(next ? { next } : {}),
  });

  it("prints the whole round's outcome counts and, with --cases, every page of cases by following the cursor", async () => {
    const { run, requests } = harness((url) => Response.json(url.searchParams.get('cursor') === 'p2' ? preview(['case-3']) : preview(['case-1', 'case-2'], 'p2')));

    const r = await run('pm', 'round', 'plan', '--cases');

    expect(r.code).toBe(0);
    expect(r.out).toContain('planned 2 · deferred 1');
    expect(r.out.split('\n').filter((l) => l.startsWith('case-'))).toEqual([
      'case-1 → vendor-a (rule "default"): no rule matched',
      'case-2 → vendor-a (rule "default"): no rule matched',
      'case-3 → vendor-a (rule "default"): no rule matched',
    ]);
    expect(requests.map((q) => q.url.searchParams.get('cursor'))).toEqual([null, 'p2']);
  });
});
