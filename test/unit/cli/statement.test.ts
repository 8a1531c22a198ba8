/** `goldline contract …` and `goldline statement …` against the API application over the fakes (no network). */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../../functions/api/app.js';
import { STATEMENT_CSV_HEADER } from '../../../functions/domain/index.js';
import { type LocalIssuer, startIssuer } from '../../../infra/local/issuer.js';
import { makeFakeDeps, makeLedgerEvent, makeWorkforce } from '../fakes.js';
import { sampleData } from '../ledger-samples.js';
import { cliHarness } from './harness.js';

describe('CLI: goldline contract and statement', () => {
  let issuer: LocalIssuer;
  let run: (who: string, ...argv: string[]) => Promise<{ code: number; out: string; err: string }>;
  let dir: string;

  beforeAll(async () => {
    issuer = await startIssuer();
    const deps = makeFakeDeps();
    const app = createApi({ deps, auth: issuer.config, log: () => undefined });
    for (const w of ['vendor-a', 'vendor-b']) await deps.repo.putWorkforce('prog-1', makeWorkforce(w));
    for (const e of [
      makeLedgerEvent({ eventId: 'b1:dispatched', type: 'batch.dispatched', subject: 'b1', at: '2025-03-02T00:00:00.000Z', data: { workforceId: 'vendor-a', items: 20, gold: 2, caseIds: ['c1'] } }),
      // Delivered 30 h after dispatch: late against a 24 h contract.
      makeLedgerEvent({ eventId: 'b1:submission', type: 'submission.accepted', subject: 'b1', at: '2025-03-03T06:00:00.000Z', data: sampleData('submission.accepted') }),
      makeLedgerEvent({ eventId: 'b1:accepted', type: 'batch.accepted', subject: 'b1', at: '2025-03-03T07:00:00.000Z', data: { ...sampleData('batch.accepted'), items: 20 } }),
    ]) {
      await deps.repo.appendLedger(e);
    }
    const tokens = { pm: await issuer.issueToken('pm'), 'vendor-a': await issuer.issueToken('vendor-a') };
    const cli = cliHarness((url, init) => app.fetch(new Request(url, init)), tokens);
    run = (who, ...argv) => cli.run('--as', who, '--program', 'prog-1', ...argv);
    dir = await mkdtemp(join(tmpdir(), 'goldline-statement-'));
  });
  afterAll(async () => {
    await issuer?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('registers a contract in cents and lists its versions', async () => {
    const r = await run('pm', 'contract', 'register', '--workforce', 'vendor-a', '--protocol', 'chest-xray', '--from', '2025-03-01T00:00:00.000Z',
      '--price-cents', '50', '--rework-cents', '40', '--sla-hours', '24', '--late-batch-cents', '500', '--late-day-cents', '100', '--withhold-bp', '10000');
    expect(r).toMatchObject({ code: 0, out: expect.stringContaining('Registered vendor-a.chest-xray@1') });
    const list = await run('pm', 'contract', 'list');
    expect(list.out).toMatch(/vendor-a\.chest-xray\s+1\s+2025-03-01T00:00:00.000Z\s+\$0\.50\s+\$0\.40\s+24\s+\$5\.00\s+\$1\.00\s+withhold 100%\s+registered/);
  });

  it('refuses fractional cents and a register without its terms before any request (exit 2)', async () => {
    expect(await run('pm', 'contract', 'register', '--workforce', 'vendor-a', '--protocol', 'p', '--from', '2025-03-01T00:00:00.000Z', '--price-cents', '0.5')).toMatchObject({
      code: 2,
      err: expect.stringContaining('--price-cents must be a whole number'),
    });
    expect(await run('pm', 'contract', 'register', '--workforce', 'vendor-a', '--protocol', 'p', '--from', '2025-03-01T00:00:00.000Z')).toMatchObject({ code: 2 });
  });

  it("shows a statement with the late credit and its rule; a vendor without --workforce gets its own", async () => {
    const pm = await run('pm', 'statement', 'show', '--workforce', 'vendor-a', '--period', '2025-03');
    expect(pm.code).toBe(0);
    expect(pm.out).toContain('b1: accepted: 20 × $0.50 = $10.00; late 1 day: credit $5.00 + 1 × $1.00 = $6.00 → $4.00 (vendor-a.chest-xray@1)');
    expect(pm.out).toMatch(/total \$4\.00 · gross \$10\.00 · penalties \$0\.00 · credits -\$6\.00/);
    const vendor = await run('vendor-a', 'statement', 'show', '--period', '2025-03');
    expect(vendor.out).toBe(pm.out);
    const other = await run('vendor-a', 'statement', 'show', '--workforce', 'vendor-b', '--period', '2025-03');
    expect(other.code).toBe(1);
    expect(other.err).toContain('this route is for pm');
  });

  it('writes the CSV with its stable header, and refuses a period that is not a month', async () => {
    const file = join(dir, 'march.csv');
    const r = await run('pm', 'statement', 'csv', '--workforce', 'vendor-a', '--period', '2025-03', '--out', file);
    expect(r.code).toBe(0);
    expect((await readFile(file, 'utf8')).split('\r\n')[0]).toBe(STATEMENT_CSV_HEADER.join(','));
    expect(await run('pm', 'statement', 'csv', '--workforce', 'vendor-a', '--period', '2025-13')).toMatchObject({ code: 2, err: expect.stringContaining('--period must be a month YYYY-MM') });
  });

  it('issues a statement and lists it', async () => {
    expect((await run('pm', 'statement', 'issue', '--workforce', 'vendor-a', '--period', '2025-03')).out).toMatch(/^Issued: total \$4\.00 · statements\/prog-1\/vendor-a\//);
    expect((await run('pm', 'statement', 'issue', '--workforce', 'vendor-a', '--period', '2025-03')).out).toMatch(/^Already issued/);
    expect((await run('vendor-a', 'statement', 'list')).out).toMatch(/2025-03-01T00:00:00.000Z\s+2025-04-01T00:00:00.000Z\s+1\s+\$4\.00\s+\$0\.00/);
  });
});
