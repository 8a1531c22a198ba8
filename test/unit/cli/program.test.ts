import { describe, expect, it } from 'vitest';
import { type GoldlineIo, processIo } from '../../../infra/cli/io.js';
import { runGoldline } from '../../../infra/cli/program.js';

/** The CLI with captured output, a profile held in memory and a fetch the test answers. */
function harness(answer: (url: URL, init: RequestInit) => Response = () => new Response('{}', { headers: { 'content-type': 'application/json' } })) {
  const out: string[] = [];
  const err: string[] = [];
  const requests: { url: URL; init: RequestInit }[] = [];
  const profile = JSON.stringify({ endpoint: 'http://127.0.0.1:9', program: 'demo-cxr', tokens: { pm: 'pm-token', qa: 'qa-token', 'vendor-a': 'a-token' } });
  const io: GoldlineIo = {
    ...processIo,
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    errRaw: () => {},
    errIsTTY: false,
    env: {},
    readBytes: async (path) => {
      if (path === '.goldline/local.json') return new TextEncoder().encode(profile);
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    },
    fetch: async (input, init = {}) => {
      const url = new URL(String(input));
      requests.push({ url, init });
      return answer(url, init);
    },
  };
  const run = async (...argv: string[]) => ({ code: await runGoldline(argv, io), out: out.splice(0).join('\n'), err: err.splice(0).join('\n') });
  return { run, requests };
}

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
    const { run, requests } = harness(() =>
      Response.json({ items: [{ batchId: 'b-1', round: 1, status: 'awaiting-submission', items: 60, protocol: 'chest-xray@1', createdAt: 'x' }] }),
    );
    const r = await run('vendor', 'batches', '--as', 'vendor-a');
    expect(r.code).toBe(0);
    expect(requests[0].url.href).toBe('http://127.0.0.1:9/v1/batches');
    expect((requests[0].init.headers as Record<string, string>).authorization).toBe('Bearer a-token');
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
