import { describe, expect, it } from 'vitest';
import { cliHarness as harness } from './harness.js';

describe('CLI: goldline program decide-held', () => {
  it('sends the workforce, protocol and reason, and prints the decision and the batches it settled', async () => {
    const { run, requests } = harness(() =>
      Response.json({ decision: 'accepted', batches: ['p-r1-vendor-a-1', 'p-r1-vendor-a-2'], reason: 'accepted without further gold: 0 wrong of 12', decisionId: 'forced:demo-cxr:vendor-a:p-r1-vendor-a-2' }),
    );
    const r = await run('program', 'decide-held', 'vendor-a', '--protocol', 'chest-xray@1', '--reason', 'program closed');
    expect(r).toMatchObject({
      code: 0,
      out: 'vendor-a: 2 held batch(es) accepted — accepted without further gold: 0 wrong of 12\n  p-r1-vendor-a-1\n  p-r1-vendor-a-2\nledger: held-batches.decided forced:demo-cxr:vendor-a:p-r1-vendor-a-2',
    });
    expect(requests).toEqual([
      { url: new URL('http://127.0.0.1:9/v1/programs/demo-cxr/held-batches/decide'), method: 'POST', body: { workforceId: 'vendor-a', protocol: 'chest-xray@1', reason: 'program closed' } },
    ]);
  });

  it('says so when nothing is held; needs a reason and an id@version before any request', async () => {
    const { run, requests } = harness(() => Response.json({ decision: 'none', batches: [], reason: 'vendor-a has no held batch of chest-xray@1' }));
    expect(await run('program', 'decide-held', 'vendor-a', '--protocol', 'chest-xray@1')).toMatchObject({ code: 2, err: expect.stringContaining("required option '--reason <text>' not specified") });
    expect(await run('program', 'decide-held', 'vendor-a', '--protocol', 'chest-xray', '--reason', 'x')).toMatchObject({ code: 2, err: expect.stringContaining('--protocol must be id@version') });
    expect(requests).toHaveLength(0);
    expect(await run('program', 'decide-held', 'vendor-a', '--protocol', 'chest-xray@1', '--reason', 'x')).toMatchObject({ code: 0, out: 'vendor-a has no held batch of chest-xray@1' });
  });
});
