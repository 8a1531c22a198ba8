/**
 * No hot partition (issue 14): a whole round of the demo program on the embedded
 * stack, every DynamoDB request recorded with its partition keys and consumed
 * units (KeyRateMeter), then the per-key report (functions/domain/key-rates.ts):
 * no key above DynamoDB's per-partition limits here, and — the figure that scales
 * — each key's units per case, so that the round's hottest key would reach
 * 1,000 WCU/s only at a throughput far above what a 100,000-case round needs on
 * AWS (docs/data-model.md, "Keys that scale"). The rate of a key grows with cases
 * per second, not with round size: the per-case units measured on a 600-case round
 * hold for 100,000 (the round-10k and round-100k benches print the same report).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRateMeter } from '../../functions/adapters/key-rate-meter.js';
import { type KeyRateReport, LEDGER_SHARDS, CASE_SHARDS, casesPerSecondAtLimit, keyRateReport, seededRandomSource } from '../../functions/domain/index.js';
import { PROGRAM_ID } from '../../infra/local/demo/example-program.js';
import { runRound, setUpDemoProgram } from '../../infra/local/demo/run-demo.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';

/** The throughput a 100,000-case round is planned for on AWS (docs/data-model.md): every key must stay under its limit at it. */
const PLANNED_CASES_PER_SECOND = 2000;
const CASES = 600;

describe('Keys that scale: per-partition-key rates of a round on the embedded stack', () => {
  let stack: LocalStack;
  let report: KeyRateReport;
  let cases = 0;

  beforeAll(async () => {
    stack = await startLocalStack({ random: seededRandomSource(7) });
    await setUpDemoProgram(stack, { cases: CASES, goldFraction: 0.1, seed: 7 });
    const meter = new KeyRateMeter();
    meter.attach(stack.dynamo);
    const round = await runRound(stack, 1, { limit: CASES, seed: 7 });
    cases = Object.values(round.dispatch.routing).reduce((n, v) => n + v, 0);
    report = keyRateReport(meter.records(), { cases, top: 1000 });
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('keeps every key under 1,000 WCU/s and 3,000 RCU/s in any 1 s window', () => {
    expect(cases).toBeGreaterThan(400);
    expect(report.keys).toBeGreaterThan(CASE_SHARDS);
    expect(report.over).toEqual([]);
  });

  it('spreads case and ledger writes over their shards: no case or ledger key takes more than twice its share', () => {
    const share = (prefix: string) => report.hottest.filter((k) => k.key.startsWith(prefix));
    const caseKeys = share(`PROGRAM#${PROGRAM_ID}#CASES#`);
    const ledgerKeys = share(`LEDGER#${PROGRAM_ID}#`).filter((k) => k.wcu > 0);
    expect(caseKeys).toHaveLength(CASE_SHARDS);
    expect(ledgerKeys.length).toBeGreaterThan(LEDGER_SHARDS / 2);
    const caseWcu = caseKeys.reduce((n, k) => n + k.wcu, 0);
    for (const k of caseKeys) expect(k.wcu).toBeLessThan((2 * caseWcu) / CASE_SHARDS);
    // Nothing is appended to the pre-shard ledger partition.
    expect(report.hottest.find((k) => k.key === `LEDGER#${PROGRAM_ID}`)?.wcu ?? 0).toBe(0);
  });

  it(`leaves every key under its limit at ${PLANNED_CASES_PER_SECOND} cases/s, scaled by its measured units per case`, () => {
    const limit = casesPerSecondAtLimit(report);
    expect(limit).toBeDefined();
    expect(limit!.casesPerSecond).toBeGreaterThan(PLANNED_CASES_PER_SECOND);
  });
});
